#!/bin/sh
# The one test command (README, .ci/run): every *.test.ts under test/, on Node's test runner.
# Pass file paths to run a subset: sh test/run.sh test/unit/range.test.ts
set -e
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files="$*"; else files=$(find test -name '*.test.ts' | sort); fi
# shellcheck disable=SC2086
exec node --import tsx --test --test-concurrency=1 --test-timeout=300000 $files
