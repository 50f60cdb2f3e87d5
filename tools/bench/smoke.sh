#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# smoke.sh: the CTest test bench_smoke (label bench). Runs the benchmark
# with tiny counts and one repetition (run.sh --smoke) into
# BUILD_DIR/bench-smoke, then check_results.py: every case ran and
# results.json has every key as a number. No figure is judged.
#
#   tools/bench/smoke.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "${1:?usage: smoke.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/bench-smoke
rm -rf "$OUT"
BENCH_OUT=$OUT "$HERE/run.sh" --smoke "$BUILD"
exec python3 "$HERE/check_results.py" "$OUT"
