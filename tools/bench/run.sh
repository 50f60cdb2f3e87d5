#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh: `./build.sh bench` (which builds BUILD_DIR optimised first). Runs
#   1. bench_producer, BENCH_REPS times (default 5), each against a fresh
#      collector: shmlog_log() on 1 and 2 threads, write(2) and fprintf peers;
#   2. bench_producer --metrics, BENCH_REPS times, each against a fresh
#      collector: shmlog_add() (counter) and shmlog_record() (histogram) on
#      1 and 2 threads, then the collector's drain rate of metric records
#      (it is stopped with SIGSTOP while the rings fill, then resumed);
#   3. bench_producer --syscalls under strace (skipped without strace);
#   4. bench_e2e.sh to tests/e2e/receiver.js and to the null sink;
# prints a table (median [min..max] over the repetitions) and writes
# BUILD_DIR/bench/results.json and a copy in <repo>/build/bench/results.json.
# A benchmark: figures are reported, never judged pass/fail.
#
#   tools/bench/run.sh BUILD_DIR
#   env: BENCH_REPS (5), BENCH_N (1000000 records/thread), BENCH_MET_N
#        (1048576 metric calls/thread: 32 bursts of half a 65,536-slot ring),
#        BENCH_E2E_K (500000 records per producer process)
set -euo pipefail

BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${BENCH_REPS:-5}
N=${BENCH_N:-1000000}
K=${BENCH_E2E_K:-500000}
MN=${BENCH_MET_N:-1048576}
OUT=$BUILD/bench
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmlog-bench.XXXXXX")
NS=
COLL_PID=

say() { echo "bench: $*" >&2; }

stop_collector() {
	local _
	[ -n "$COLL_PID" ] || return 0
	kill -TERM "$COLL_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$COLL_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$COLL_PID" 2>/dev/null; then
		say "collector $COLL_PID did not stop on SIGTERM in 5 s: killed"
		kill -KILL "$COLL_PID" 2>/dev/null || true
	fi
	wait "$COLL_PID" 2>/dev/null || true
	COLL_PID=
	[ -n "$NS" ] && rm -f "/dev/shm/shmlog-$NS"
	rm -rf "$TMP/spool"
}

cleanup() {
	stop_collector
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_collector() { # a fresh namespace and spool each time
	NS="bench-$$-$RANDOM"
	"$BUILD/bin/shmlog-collector" --shm.namespace="$NS" --spool.dir="$TMP/spool" \
		2>>"$TMP/collector.log" &
	COLL_PID=$!
}

producer() {
	SHMLOG_NAMESPACE=$NS SHMLOG_STDIO=off "$@"
}

for b in bench_producer shmlog-collector shmlog-exporter; do
	[ -x "$BUILD/bin/$b" ] || { say "$BUILD/bin/$b missing: build first"; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/producer.*.json "$OUT"/metrics.*.json "$OUT"/syscalls.json "$OUT"/e2e_*.json
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

# --- 1. producer cost ---------------------------------------------------------
for r in $(seq "$REPS"); do
	say "producer run $r/$REPS ($N records per thread)"
	start_collector
	if ! producer "$BUILD/bin/bench_producer" -n "$N" >"$OUT/producer.$r.json" \
		2>"$TMP/producer.log"; then
		say "producer run $r failed: $(cat "$TMP/producer.log")"
		rm -f "$OUT/producer.$r.json"
	fi
	stop_collector
done

# --- 2. metrics: counter add, histogram record, collector drain ---------------
for r in $(seq "$REPS"); do
	say "metrics run $r/$REPS ($MN calls per thread, then the collector's drain rate)"
	start_collector
	if ! producer "$BUILD/bin/bench_producer" --metrics "$MN" >"$OUT/metrics.$r.json" \
		2>"$TMP/producer.log"; then
		say "metrics run $r failed: $(cat "$TMP/producer.log")"
		rm -f "$OUT/metrics.$r.json"
	fi
	# The run stops the collector (SIGSTOP) and resumes it; never leave
	# it stopped, or SIGTERM would wait for the 5 s SIGKILL.
	kill -CONT "$COLL_PID" 2>/dev/null || true
	stop_collector
done

# --- 3. system calls while writing ------------------------------------------
SYSC=-1
if command -v strace >/dev/null; then
	say "system calls while writing 1000000 records (strace)"
	start_collector
	if producer strace -f -qq -o "$TMP/strace.txt" "$BUILD/bin/bench_producer" \
		--syscalls 1000000 >"$TMP/syscalls.out" 2>"$TMP/producer.log"; then
		# Lines between each "bench-start" and its "bench-stop" marker.
		SYSC=$(awk '/PR_SET_NAME, "bench-start"/ { on = 1; next }
			/PR_SET_NAME, "bench-stop"/ { on = 0; next }
			on { n++ } END { print n + 0 }' "$TMP/strace.txt")
		MARKS=$(grep -c 'PR_SET_NAME, "bench-start"' "$TMP/strace.txt" || true)
		echo "{\"records\":1000000,\"syscalls\":$SYSC,\"bursts\":$MARKS," \
			"\"producer\":$(cat "$TMP/syscalls.out")}" >"$OUT/syscalls.json"
	else
		say "syscall run failed: $(cat "$TMP/producer.log")"
	fi
	stop_collector
else
	say "strace not installed: the system-call figure is skipped"
fi

# --- 4. end to end ------------------------------------------------------------
say "end to end: receiver.js, 2 x $K records"
"$SRC/tools/bench/bench_e2e.sh" "$BUILD" "$K" receiver >"$OUT/e2e_receiver.json" ||
	{ say "end-to-end run (receiver.js) failed"; rm -f "$OUT/e2e_receiver.json"; }
say "end to end: null sink, 2 x $K records"
"$SRC/tools/bench/bench_e2e.sh" "$BUILD" "$K" null >"$OUT/e2e_null.json" ||
	{ say "end-to-end run (null sink) failed"; rm -f "$OUT/e2e_null.json"; }

# --- results ------------------------------------------------------------------
python3 "$SRC/tools/bench/report.py" "$OUT" "$LOAD0" "$(($(date +%s) - T_START))"
if [ "$OUT" != "$SRC/build/bench" ]; then
	mkdir -p "$SRC/build/bench"
	cp "$OUT/results.json" "$SRC/build/bench/results.json"
fi
say "results: $OUT/results.json"
