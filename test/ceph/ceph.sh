#!/bin/sh
# A one-host Ceph cluster for the tests: one monitor, one OSD on memstore (RAM, no disk), and RGW
# (the S3 API) with the beast frontend, all on loopback. Debian's packages: ceph-mon ceph-osd
# radosgw ceph-common.
#
#   sh test/ceph/ceph.sh start   starts it (idempotent) and writes the S3 settings to $DIR/env
#   sh test/ceph/ceph.sh stop    stops every daemon and removes $DIR
#
# DIR (default /tmp/binaryrepo-ceph) holds config, keyless state and logs; ports: mon 6789,
# RGW $RGW_PORT (default 7480). Auth is off (loopback only): RGW still checks S3 signatures
# against the user created here.
set -eu
DIR=${CEPH_DIR:-/tmp/binaryrepo-ceph}
RGW_PORT=${RGW_PORT:-7480}
CONF=$DIR/ceph.conf
ACCESS=binaryrepo-test
SECRET=binaryrepo-test-secret-key
BUCKET=binaryrepo-test

c() { ceph -c "$CONF" "$@"; }

wait_for() { # seconds, description, command...
  n=$1; what=$2; shift 2
  i=0
  while ! "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt $((n * 10)) ]; then echo "ceph.sh: timed out waiting for $what; logs in $DIR/log" >&2; exit 1; fi
    sleep 0.1
  done
}

stop() {
  # RGW first, the monitor last (daemons without a monitor wait for it rather than exit).
  for p in client.rgw.a osd.0 mon.a; do
    f="$DIR/run/$p.pid"
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
}

rgw_up() { curl -fsS -o /dev/null "http://127.0.0.1:$RGW_PORT/"; }

start() {
  if [ -f "$DIR/env" ] && rgw_up; then return 0; fi
  stop
  mkdir -p "$DIR/mon" "$DIR/osd" "$DIR/log" "$DIR/run"
  FSID=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:6789
auth cluster required = none
auth service required = none
auth client required = none
osd objectstore = memstore
memstore device bytes = 6442450944
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
run dir = $DIR/run
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
[mon.a]
mon data = $DIR/mon
[osd.0]
osd data = $DIR/osd
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $DIR/rgw
EOF
  monmaptool --create --add a v1:127.0.0.1:6789 --fsid "$FSID" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap"
  ceph-mon -c "$CONF" -i a
  wait_for 30 "the monitor" c -s
  c osd create >/dev/null
  ceph-osd -c "$CONF" -i 0 --mkfs --monmap "$DIR/monmap" 2>>"$DIR/log/mkfs.log"
  ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/osd-start.log"
  wait_for 60 "the OSD" sh -c "ceph -c '$CONF' osd stat | grep -q '1 up'"
  radosgw -c "$CONF" -n client.rgw.a
  wait_for 120 "RGW on 127.0.0.1:$RGW_PORT" rgw_up
  radosgw-admin -c "$CONF" user create --uid=binaryrepo --display-name=binaryrepo --access-key=$ACCESS --secret-key=$SECRET >/dev/null
  cat >"$DIR/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_REGION=us-east-1
S3_BUCKET=$BUCKET
S3_ACCESS_KEY_ID=$ACCESS
S3_SECRET_ACCESS_KEY=$SECRET
EOF
  echo "ceph.sh: RGW on http://127.0.0.1:$RGW_PORT (settings in $DIR/env)"
}

# A start that fails (a daemon that exits during its set-up) is shown with its logs and tried once
# more from scratch, in a fresh process each time so that `set -e` stops each attempt at its failure.
logs() { for f in "$DIR"/log/*; do echo "== $f" >&2; tail -n 5 "$f" >&2; done; }

case "${1:-}" in
  start-once) start ;;
  start)
    if ! sh "$0" start-once; then
      echo "ceph.sh: start failed; logs:" >&2
      logs
      echo "ceph.sh: trying once more" >&2
      sh "$0" start-once || { logs; exit 1; }
    fi
    ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop|start-once" >&2; exit 2 ;;
esac
