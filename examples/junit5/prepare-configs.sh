#!/bin/sh
# Generate the configs, snapshot each one and write target/configlab/snapshots.csv
# (file,snapshot_id) for ServiceConfigTest; then `mvn test` and
#   configlab ingest target/surefire-reports/TEST-*.xml --store .configlab --record
set -eu
out=target/configlab/configs
configlab generate --space space.yaml --strategy covering --strength 2 --seed 7 \
    --out "$out" --format json --force
echo "file,snapshot_id" > target/configlab/snapshots.csv
for file in "$out"/config-*.json; do
    id=$(configlab snapshot capture "$file" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    echo "$(basename "$file"),$id" >> target/configlab/snapshots.csv
done
