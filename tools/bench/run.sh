#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh: `./build.sh bench` (which builds BUILD_DIR optimised first). Every
# per-record case writes the same record (a 64-byte message and an int64)
# BENCH_N times on 1 thread, then BENCH_N / 2 times on each of 2 threads;
# BENCH_REPS repetitions, the cases of one repetition one after the other
# (so that the machine's noise falls on all of them alike):
#   log, counter, histogram   bench_producer (-n, --metrics) against a fresh
#                             collector; also the collector's drain rate of
#                             log and of metric records (rings filled while
#                             it is stopped, then drained);
#   capture, tee              bench_write --write under LD_PRELOAD=libshmlog.so,
#                             SHMLOG_STDIO=capture / tee, fd 1 on /dev/null;
#   write                     bench_write --write, plain, fd 1 on /dev/null;
#   floor, floor_tsc          bench_write --floor, --floor-tsc;
#   lttng                     bench_lttng into a session of a private
#                             lttng-sessiond --no-kernel (own LTTNG_HOME; run
#                             as user nobody when we are root, so that it
#                             never meets the system's session daemon);
#   spdlog_file, spdlog_null  bench_spdlog, async logger.
# What the consumers of these cases write (our spool, the LTTng trace, the
# spdlog file) goes to tmpfs (/dev/shm), so that no case is measured
# against this machine's disk.
# Then, once: the collector's CPU over BENCH_IDLE_S with 2 attached, idle
# producers; the system calls of a producer writing 1,000,000 records
# (strace -c -f from outside); BENCH_E2E_REPS end-to-end runs each with zstd
# and gzip (bench_e2e.sh, null sink); write-to-acknowledgment latency of a line
# every 10 ms for BENCH_LAT_S s under the default batching (bench_latency.py,
# decoding receiver). report.py prints the table and writes
# OUT/results.json (and, for the full run, <repo>/build/bench/results.json).
# A benchmark: figures are reported, never judged pass/fail.
#
#   tools/bench/run.sh [--smoke] BUILD_DIR
#   --smoke (or SHMLOG_BENCH_SMOKE=1): tiny counts, 1 repetition (CI).
#   env: BENCH_REPS (5), BENCH_N (10000000), BENCH_E2E_REPS (3),
#        BENCH_E2E_K (500000 records per producer process), BENCH_IDLE_S (10),
#        BENCH_LAT_S (10), BENCH_OUT (BUILD_DIR/bench)
set -euo pipefail

SMOKE=${SHMLOG_BENCH_SMOKE:-0}
if [ "${1:-}" = --smoke ]; then
	SMOKE=1
	shift
fi
BUILD=$(cd "${1:?usage: run.sh [--smoke] BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$SMOKE" = 1 ]; then
	REPS=1 N=20000 E2E_REPS=1 K=20000 IDLE_S=1 SYSC_N=100000 LAT_S=2
	export BENCH_DRAIN_CYCLES=3
else
	REPS=${BENCH_REPS:-5}
	N=${BENCH_N:-10000000}
	E2E_REPS=${BENCH_E2E_REPS:-3}
	K=${BENCH_E2E_K:-500000}
	IDLE_S=${BENCH_IDLE_S:-10}
	SYSC_N=1000000
	LAT_S=${BENCH_LAT_S:-10}
fi
OUT=${BENCH_OUT:-$BUILD/bench}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmlog-bench.XXXXXX")
FAST=$(mktemp -d /dev/shm/shmlog-bench-spool.XXXXXX)
NS=
COLL_PID=
LT_PID=
LT_AS=()
IDLE_PIDS=()

say() { echo "bench: [${SECONDS}s] $*" >&2; }

stop_collector() {
	local _
	[ -n "$COLL_PID" ] || return 0
	kill -CONT "$COLL_PID" 2>/dev/null || true
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
	rm -rf "$TMP/spool" "$FAST/spool"
}

lttng_stop_daemon() {
	local _
	[ -n "$LT_PID" ] || return 0
	"${LT_AS[@]}" lttng destroy --all >/dev/null 2>&1 || true
	kill -TERM "$LT_PID" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$LT_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$LT_PID" 2>/dev/null || true
	wait "$LT_PID" 2>/dev/null || true
	LT_PID=
}

cleanup() {
	local p
	for p in "${IDLE_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	stop_collector
	lttng_stop_daemon
	rm -rf "$TMP" "$FAST"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_collector [fast]: a fresh namespace and spool each time. fast (the
# per-record cases): the spool on tmpfs (256 MiB budget; no exporter runs),
# a partial batch written after 2 ms and an idle poll of 2 ms, so that the
# untimed waits for the collector between bursts are short (slots are
# released once their spool file is durable). Otherwise the defaults.
start_collector() {
	local _ flags=()
	NS="bench-$$-$RANDOM"
	if [ "${1:-}" = fast ]; then
		flags=(--spool.dir="$FAST/spool" --spool.max_bytes=256m
			--collector.schedule_delay_ms=2 --collector.poll_max_ms=2)
	else
		flags=(--spool.dir="$TMP/spool")
	fi
	"$BUILD/bin/shmlog-collector" --shm.namespace="$NS" "${flags[@]}" \
		2>>"$TMP/collector.log" &
	COLL_PID=$!
	for _ in $(seq 200); do
		[ -e "/dev/shm/shmlog-$NS" ] && return 0
		sleep 0.05
	done
	say "the collector did not create its segment in 10 s"
	exit 1
}

producer() {
	SHMLOG_NAMESPACE=$NS SHMLOG_STDIO=off "$@"
}

# case NAME REP CMD...: runs CMD, its JSON on stdout into OUT/NAME.REP.json;
# a failure is reported and leaves no file (report.py marks the case missing).
run_case() {
	local name=$1 r=$2
	shift 2
	if ! "$@" >"$OUT/$name.$r.json" 2>"$TMP/$name.log"; then
		say "$name run $r failed: $(tail -5 "$TMP/$name.log")"
		rm -f "$OUT/$name.$r.json"
	fi
}

# write(1, line, 64) with fd 1 on /dev/null, the JSON on fd 3.
run_write() {
	local name=$1 r=$2
	shift 2
	if ! "$@" >/dev/null 3>"$OUT/$name.$r.json" 2>"$TMP/$name.log"; then
		say "$name run $r failed: $(tail -5 "$TMP/$name.log")"
		rm -f "$OUT/$name.$r.json"
	fi
}

# --- LTTng: a private session daemon, one session per repetition -------------
LT_OK=0
lttng_start_daemon() {
	local home=$TMP/lttng _
	command -v lttng-sessiond >/dev/null && command -v lttng >/dev/null &&
		[ -x "$BUILD/bin/bench_lttng" ] || { say "lttng or bench_lttng missing: no LTTng case"; return 0; }
	mkdir -p "$home" "$FAST/lttng"
	LT_AS=(env HOME="$home" LTTNG_HOME="$home")
	if [ "$(id -u)" = 0 ]; then
		# As root the daemon would use the system's /var/run/lttng.
		chmod 711 "$TMP" "$FAST"
		chown nobody "$home" "$FAST/lttng"
		LT_AS=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "${LT_AS[@]}")
	fi
	cp "$BUILD/bin/bench_lttng" "$home/bench_lttng"
	"${LT_AS[@]}" lttng-sessiond --no-kernel >"$TMP/lttng-sessiond.log" 2>&1 &
	LT_PID=$!
	for _ in $(seq 100); do
		"${LT_AS[@]}" lttng list >/dev/null 2>&1 && { LT_OK=1; return 0; }
		kill -0 "$LT_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "lttng-sessiond did not start: $(tail -3 "$TMP/lttng-sessiond.log")"
}

run_lttng() { # REP
	local r=$1 home=$TMP/lttng disc
	[ "$LT_OK" = 1 ] || return 0
	{
		"${LT_AS[@]}" lttng create bench --output="$FAST/lttng/trace"
		"${LT_AS[@]}" lttng enable-channel -u ch --discard --subbuf-size=4M --num-subbuf=8
		"${LT_AS[@]}" lttng enable-event -u -c ch 'shmlog_bench:*'
		"${LT_AS[@]}" lttng start
	} >>"$TMP/lttng.log" 2>&1 || { say "lttng session set-up failed: $(tail -3 "$TMP/lttng.log")"; return 0; }
	# Registered with the daemon before main(): LTTNG_UST_REGISTER_TIMEOUT=-1.
	run_case lttng "$r" "${LT_AS[@]}" LTTNG_UST_REGISTER_TIMEOUT=-1 "$home/bench_lttng" "$N"
	"${LT_AS[@]}" lttng stop >>"$TMP/lttng.log" 2>&1 || true
	disc=$("${LT_AS[@]}" lttng list bench 2>/dev/null | sed -n 's/.*Discarded events: *\([0-9]*\).*/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	"${LT_AS[@]}" lttng destroy bench >>"$TMP/lttng.log" 2>&1 || true
	rm -rf "$FAST/lttng/trace"
	[ -f "$OUT/lttng.$r.json" ] &&
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["discarded"]=int(sys.argv[2]); json.dump(d, open(sys.argv[1], "w"))' \
			"$OUT/lttng.$r.json" "$disc"
	return 0
}

for b in bench_producer bench_write shmlog-collector shmlog-exporter; do
	[ -x "$BUILD/bin/$b" ] || { say "$BUILD/bin/$b missing: build first"; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/*.json
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
LIB=$BUILD/lib/libshmlog.so
lttng_start_daemon

# --- 1. per-record cases, REPS repetitions ------------------------------------
for r in $(seq "$REPS"); do
	say "repetition $r/$REPS: $N records per case (1 thread, then 2 x $((N / 2)))"
	start_collector fast
	run_case producer "$r" producer "$BUILD/bin/bench_producer" -n "$N"
	stop_collector
	say "  counter, histogram, metric drain"
	start_collector fast
	run_case metrics "$r" producer "$BUILD/bin/bench_producer" --metrics "$N"
	stop_collector
	for mode in capture tee; do
		say "  $mode"
		start_collector fast
		run_write "$mode" "$r" env SHMLOG_NAMESPACE="$NS" SHMLOG_STDIO=$mode LD_PRELOAD="$LIB" \
			"$BUILD/bin/bench_write" --write "$N" "$mode"
		stop_collector
	done
	say "  write(2), floor, LTTng, spdlog"
	run_write write "$r" env -u SHMLOG_NAMESPACE "$BUILD/bin/bench_write" --write "$N" write
	run_case floor "$r" "$BUILD/bin/bench_write" --floor "$N"
	run_case floor_tsc "$r" "$BUILD/bin/bench_write" --floor-tsc "$N"
	run_lttng "$r"
	if [ -x "$BUILD/bin/bench_spdlog" ]; then
		run_case spdlog_file "$r" "$BUILD/bin/bench_spdlog" "$N" file "$FAST/spdlog.log"
		rm -f "$FAST/spdlog.log"
		run_case spdlog_null "$r" "$BUILD/bin/bench_spdlog" "$N" null
	fi
done
lttng_stop_daemon

# --- 2. the collector with attached, idle producers (default settings) --------
run_ns() { # sum of the run times (ns) of every thread of pid
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
say "collector CPU over $IDLE_S s with 2 idle producers attached"
start_collector
for p in 1 2; do
	producer "$BUILD/bin/bench_producer" --idle $((IDLE_S + 5)) >"$TMP/idle$p.out" 2>&1 &
	IDLE_PIDS+=($!)
done
for _ in $(seq 200); do
	[ -s "$TMP/idle1.out" ] && [ -s "$TMP/idle2.out" ] && break
	sleep 0.05
done
sleep 1
A0=$(run_ns "$COLL_PID")
T0=$(date +%s%N)
sleep "$IDLE_S"
A1=$(run_ns "$COLL_PID")
T1=$(date +%s%N)
ATT=$(grep -c '"idle_s"' "$TMP"/idle1.out "$TMP"/idle2.out | awk -F: '{ s += $2 } END { print s + 0 }')
echo "{\"cpu_ns\":$((A1 - A0)),\"wall_ns\":$((T1 - T0)),\"producers\":$ATT}" >"$OUT/idle.json"
for p in "${IDLE_PIDS[@]}"; do
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done
IDLE_PIDS=()
stop_collector

# --- 3. system calls while writing (strace -c -f from outside) ---------------
if command -v strace >/dev/null; then
	say "system calls while writing $SYSC_N records (strace)"
	start_collector
	if producer strace -f -qq -o "$TMP/strace.txt" "$BUILD/bin/bench_producer" \
		--syscalls "$SYSC_N" >"$TMP/syscalls.out" 2>"$TMP/producer.log"; then
		# Calls between each "bench-start" and its "bench-stop" marker (an
		# unfinished call and its "resumed" line count once).
		SYSC=$(awk '/PR_SET_NAME, "bench-start"/ { on = 1; next }
			/PR_SET_NAME, "bench-stop"/ { on = 0; next }
			on && !/resumed>/ { n++ } END { print n + 0 }' "$TMP/strace.txt")
		MARKS=$(grep -c 'PR_SET_NAME, "bench-start"' "$TMP/strace.txt" || true)
		# Which calls: {"name": count, ...} between the markers.
		NAMES=$(awk '/PR_SET_NAME, "bench-start"/ { on = 1; next }
			/PR_SET_NAME, "bench-stop"/ { on = 0; next }
			on && !/resumed>/ { sub(/^[0-9]+ +/, ""); sub(/\(.*/, ""); n[$0]++ }
			END { s = ""; for (k in n) { s = s sprintf("%s\"%s\":%d", s == "" ? "" : ",", k, n[k]) }
			      print "{" s "}" }' "$TMP/strace.txt")
		# And the whole process's summary (strace -c -f), attach included.
		producer strace -c -f -o "$TMP/strace-c.txt" "$BUILD/bin/bench_producer" \
			--syscalls "$SYSC_N" >/dev/null 2>&1 || true
		TOTAL=$(awk '$NF == "total" { print $4 }' "$TMP/strace-c.txt" 2>/dev/null)
		echo "{\"records\":$SYSC_N,\"syscalls\":$SYSC,\"bursts\":$MARKS,\"names\":$NAMES," \
			"\"process_total\":${TOTAL:-0},\"producer\":$(cat "$TMP/syscalls.out")}" \
			>"$OUT/syscalls.json"
	else
		say "syscall run failed: $(cat "$TMP/producer.log")"
	fi
	stop_collector
else
	say "strace not installed: the system-call figure is skipped"
fi

# --- 4. end to end --------------------------------------------------------------
for r in $(seq "$E2E_REPS"); do
	for z in zstd gzip; do
		say "end to end ($z, null sink) $r/$E2E_REPS: 2 x $K records"
		"$SRC/tools/bench/bench_e2e.sh" "$BUILD" "$K" null "$z" >"$OUT/e2e_$z.$r.json" ||
			{ say "end-to-end run ($z) failed"; rm -f "$OUT/e2e_$z.$r.json"; }
	done
done

# --- 5. write to acknowledgment, default batching ------------------------------
say "latency: one line every 10 ms for $LAT_S s to the decoding receiver (schedule delay 1000 ms)"
if ! python3 "$SRC/tools/bench/bench_latency.py" --build "$BUILD" --src "$SRC" --seconds "$LAT_S" \
	--deadline $((LAT_S * 3 + 60)) --json-out "$OUT/latency.json" 2>"$TMP/latency.log"; then
	say "latency run failed or skipped: $(tail -2 "$TMP/latency.log")"
	rm -f "$OUT/latency.json"
fi

# --- results ------------------------------------------------------------------
python3 "$SRC/tools/bench/report.py" "$OUT" "$LOAD0" "$(($(date +%s) - T_START))" "$SMOKE"
if [ "$SMOKE" != 1 ] && [ "$OUT" != "$SRC/build/bench" ]; then
	mkdir -p "$SRC/build/bench"
	cp "$OUT/results.json" "$SRC/build/bench/results.json"
fi
say "results: $OUT/results.json"
