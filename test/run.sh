#!/bin/sh
# The one test command (README, .ci/run): every *.test.ts under test/, on Node's test runner.
# Pass file paths to run a subset: sh test/run.sh test/unit/range.test.ts
# A one-host Ceph cluster (RGW on 127.0.0.1:7480) runs for the S3 and replica tests: started here,
# stopped when the tests end (CEPH_KEEP=1 leaves it running for the next run).
set -e
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files="$*"; else files=$(find test -name '*.test.ts' | sort); fi
sh test/ceph/ceph.sh start
if [ "${CEPH_KEEP:-}" != 1 ]; then trap 'sh test/ceph/ceph.sh stop' EXIT INT TERM; fi
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=1 --test-timeout=300000 $files
