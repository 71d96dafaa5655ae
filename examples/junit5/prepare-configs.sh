#!/bin/sh
# Generate the configs, snapshot each one and write target/configlab/snapshots.csv
# (file,snapshot_id) for ServiceConfigTest; then `mvn test` and
#   configlab ingest target/surefire-reports/TEST-*.xml --store .configlab --record
set -eu
out=target/configlab/configs
configlab generate --space space.yaml --strategy covering --strength 2 --seed 7 \
    --out "$out" --format json --force
echo "file,snapshot_id" > target/configlab/snapshots.csv
# one snapshot per generated file, in one call: "ID PATH" lines -> "file,ID" rows
configlab snapshot capture --each "$out"/config-*.json \
    | while read -r id path; do echo "$(basename "$path"),$id"; done >> target/configlab/snapshots.csv
