#!/usr/bin/env bash
# A team store on this machine without Docker, end to end: PostgreSQL (Debian's `postgresql`
# package) for the index and an S3 server (`moto_server`, from `pip install 'moto[server]'`)
# for the objects, both on 127.0.0.1, used by configlab, then stopped by PID.
#
#   bash tools/team-store-local.sh            # run it (about 10 s)
#
# Copy the lines between "--- recipe" markers into your own shell to keep the servers running.
# initdb refuses to run as root: as root the cluster is created and run as the `postgres` user.
set -euo pipefail

WORK=$(mktemp -d /tmp/configlab-team-XXXXXX)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "install the Debian package postgresql (make system-deps)"; exit 1; }
free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    [ -f "$WORK/moto.pid" ] && kill "$(cat "$WORK/moto.pid")" 2>/dev/null || true
    [ -f "$WORK/pg/postmaster.pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast stop >/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$WORK"

# --- recipe: PostgreSQL with a password-protected role and database
export PGPORT=$(free_port)
echo team-secret > "$WORK/pw"
as_postgres "$PGBIN/initdb" -D "$WORK/pg" -U postgres --pwfile="$WORK/pw" \
    --auth-host=scram-sha-256 --auth-local=trust --no-sync >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $WORK" start >/dev/null
as_postgres "$PGBIN/psql" -h "$WORK" -U postgres -q \
    -c "CREATE ROLE qa LOGIN PASSWORD 'team-secret'" -c "CREATE DATABASE configlab OWNER qa"

# --- recipe: an S3 server and a bucket (endpoint and credentials: the standard AWS variables)
S3PORT=$(free_port)
moto_server -H 127.0.0.1 -p "$S3PORT" > "$WORK/moto.log" 2>&1 &
echo $! > "$WORK/moto.pid"
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$S3PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
for _ in $(seq 100); do python -c "import urllib.request as u; u.urlopen('$AWS_ENDPOINT_URL_S3/moto-api/')" 2>/dev/null && break; sleep 0.1; done
python -c "import boto3; boto3.client('s3').create_bucket(Bucket='qa-configlab')"

# --- recipe: configlab on the team store (the password comes from PGPASSWORD, never printed)
export PGPASSWORD=team-secret
export CONFIGLAB_STORE=postgresql://qa@127.0.0.1:$PGPORT/configlab CONFIGLAB_OBJECTS=s3://qa-configlab/store
head -c 100000 /dev/urandom > "$WORK/blob.bin"
configlab snapshot capture examples/webapp-config.yaml "$WORK/blob.bin" --tag nightly
configlab snapshot list
configlab snapshot verify                       # re-hashes the object on S3 too
configlab store gc                              # objects no snapshot names (dry run)
# a runner without network keeps a local store and pushes it at the end of the job
CONFIGLAB_OBJECTS= configlab snapshot capture examples/webapp-config.yaml --store "$WORK/local" --tag offline
CONFIGLAB_OBJECTS= configlab store push "$CONFIGLAB_STORE" --remote-objects "$CONFIGLAB_OBJECTS" --store "$WORK/local"
configlab snapshot list --tag offline
configlab results compact --out s3://qa-configlab/results
echo "team store OK"
