#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tools/demo.sh BUILD_DIR: the whole data path on this machine, no backend
# needed (called by `./build.sh demo` after building). On a fresh
# namespace and a temporary spool it starts shmlog-collector and
# shmlog-exporter (embedded default: OTLP/JSON lines in <spool>/out), runs
# two unmodified workloads under LD_PRELOAD=libshmlog.so (a shell pipeline
# and tools/demo/sample.py), waits until every line was exported, then
# shows `shmtop --once` and a few decoded records. Everything it started
# is stopped on exit, Ctrl-C included; the spool is kept for a look.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BIN=$BUILD/bin
LIB=$BUILD/lib/libshmlog.so
for f in "$BIN/shmlog-collector" "$BIN/shmlog-exporter" "$BIN/shmtop" "$LIB"; do
	[ -e "$f" ] || { echo "demo: $f missing; run ./build.sh first" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "demo: python3 is needed" >&2; exit 2; }

NS=demo-$$
SPOOL=$(mktemp -d /tmp/shmlog-demo.XXXXXX)
OUT=$SPOOL/out/logs.jsonl
PIDS=()

stop_all() {
	local pid deadline
	trap - EXIT
	trap '' INT TERM # a second Ctrl-C must not cut the clean-up short
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	deadline=$((SECONDS + 5))
	for pid in "${PIDS[@]}"; do
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			echo "demo: pid $pid ignored SIGTERM for 5 s; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	rm -f "/dev/shm/shmlog-$NS"
}
trap stop_all EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# The embedded default whatever the caller's environment says: no endpoint.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_LOGS_ENDPOINT SHMLOG_NAMESPACE
COMMON=(--shm.namespace="$NS" --spool.dir="$SPOOL" --collector.schedule_delay_ms=200)

echo "== namespace $NS, spool $SPOOL"
"$BIN/shmlog-collector" "${COMMON[@]}" 2>"$SPOOL/collector.log" &
PIDS+=($!)
"$BIN/shmlog-exporter" "${COMMON[@]}" --exporter.endpoint= 2>"$SPOOL/exporter.log" &
PIDS+=($!)

# The collector is ready once shmtop can attach to its segment.
for _ in $(seq 1 100); do
	"$BIN/shmtop" -n "$NS" --json >/dev/null 2>&1 && break
	kill -0 "${PIDS[0]}" 2>/dev/null || { cat "$SPOOL/collector.log" >&2; exit 1; }
	sleep 0.1
done
"$BIN/shmtop" -n "$NS" --json >/dev/null

# run_preloaded SERVICE CMD...: CMD with the library, as service SERVICE.
run_preloaded() {
	LD_PRELOAD="$LIB" SHMLOG_NAMESPACE="$NS" OTEL_SERVICE_NAME="$1" "${@:2}"
}
# The interpreter itself, not a version-manager shim (whose helper
# processes would be preloaded and captured too).
PY=$(python3 -c 'import sys; print(sys.executable)')

# A producer that stays attached, so that shmtop has one to list.
# (A simple command, not the function, so that $! is the process itself.)
LD_PRELOAD="$LIB" SHMLOG_NAMESPACE="$NS" OTEL_SERVICE_NAME=demo-idle "$PY" -c \
	'import time; print("demo-idle: attached", flush=True); time.sleep(600)' \
	>"$SPOOL/idle.out" 2>&1 &
PIDS+=($!)

# Every preloaded process's stdout and stderr lines are records, both
# sides of each pipe: seq 20 lines, sed 20, grep 18 (7 and 17 dropped).
echo "== workload 1: a shell pipeline (its output, through the library's tee)"
run_preloaded demo-pipeline bash -c 'seq 1 20 | sed "s/^/INFO step /" | grep -v 7' |
	sed 's/^/   | /'
echo "== workload 2: tools/demo/sample.py (logging and print, stdout and stderr)"
run_preloaded demo-python "$PY" "$ROOT/tools/demo/sample.py" 2>&1 | sed 's/^/   | /'
EXPECT=$((1 + 20 + 20 + 18 + 6))

count_records() {
	[ -s "$OUT" ] || { echo 0; return; }
	python3 - "$OUT" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    for rl in json.loads(line).get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            n += len(sl.get("logRecords", []))
print(n)
EOF
}

echo "== waiting for the exporter to write $EXPECT records"
GOT=0
for _ in $(seq 1 100); do
	GOT=$(count_records)
	[ "$GOT" -ge "$EXPECT" ] && break
	sleep 0.1
done

# The exporter rewrites its status file once a second: let it catch up so
# that shmtop shows the counts just waited for.
for _ in $(seq 1 20); do
	sent=$(sed -n 's/^sent_records=//p' "$SPOOL/exporter.status" 2>/dev/null || true)
	[ "${sent:-0}" -ge "$GOT" ] && break
	sleep 0.1
done

echo "== shmtop --once"
"$BIN/shmtop" -n "$NS" --once || true

echo "== a few exported records, decoded"
python3 - "$OUT" <<'EOF'
import json, sys

def attrs(lst):
    out = {}
    for a in lst or []:
        v = a.get("value", {})
        out[a.get("key")] = next(iter(v.values()), "") if v else ""
    return out

rows = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    for rl in json.loads(line).get("resourceLogs", []):
        svc = attrs(rl.get("resource", {}).get("attributes")).get("service.name", "?")
        for sl in rl.get("scopeLogs", []):
            for r in sl.get("logRecords", []):
                body = r.get("body", {})
                body = next(iter(body.values()), "") if body else ""
                sev = r.get("severityText") or str(r.get("severityNumber", ""))
                io = attrs(r.get("attributes")).get("log.iostream", "-")
                rows.append((svc, io, sev, body))
pick = [r for r in rows if r[0] == "demo-python"] + \
       [r for r in rows if r[0] != "demo-python"][:4]
print("   %-14s %-7s %-8s %s" % ("service.name", "stream", "severity", "body"))
for svc, io, sev, body in pick:
    print("   %-14s %-7s %-8s %s" % (svc, io, sev, body))
print("   (%d records in all)" % len(rows))
EOF

echo "== exported OTLP/JSON: $OUT"
echo "== spool kept for a look: $SPOOL (collector.log and exporter.log inside)"
if [ "$GOT" -lt "$EXPECT" ]; then
	echo "demo: only $GOT of $EXPECT records arrived within 10 s" >&2
	exit 1
fi
echo "== all $GOT records exported; stopping the daemons"
