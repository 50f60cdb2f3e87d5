#!/usr/bin/env bash
# `cmake --install` to a fresh prefix outside the tree gives the daemons,
# shmtop, the library, shmlog.h and a shmlog.pc with which a C program
# compiles, links and runs: inert without a collector, and with the
# installed collector its record comes out of the installed exporter.
# Then the systemd units in conf/systemd pass `systemd-analyze verify`
# (skipped, saying so, when systemd-analyze is missing).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d)
ns=install-check-$$-$RANDOM
cpid=
cleanup() {
	[ -n "$cpid" ] && kill -KILL "$cpid" 2>/dev/null || true
	rm -f "/dev/shm/shmlog-$ns"
	rm -rf "$prefix"
}
trap cleanup EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/shmlog-collector bin/shmlog-exporter bin/shmtop include/shmlog.h \
	lib/libshmlog.so lib/pkgconfig/shmlog.pc etc/shmlog/shmlog.ini; do
	[ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
cat > "$prefix/use.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <shmlog.h>
int main(int argc, char **argv)
{
	int ret = -1, inst, s, i;

	if (argc < 2) /* no collector on this namespace: inert, -ENOTCONN */
		return shmlog_log(SHMLOG_SEV_INFO, "INFO", "x", 1, 0, 0) == -ENOTCONN ? 0 : 1;
	/* The collector may still be setting its segment up. */
	for (i = 0; i < 500 && ret != 0; i++) {
		ret = shmlog_log(SHMLOG_SEV_INFO, "INFO", argv[1], strlen(argv[1]), 0, 0);
		if (ret != 0)
			usleep(10000);
	}
	if (ret != 0) {
		fprintf(stderr, "use: shmlog_log: %d\n", ret);
		return 1;
	}
	inst = shmlog_instrument("install.check", "1", "installed program", SHMLOG_COUNTER,
				 NULL, 0);
	s = inst < 0 ? inst : shmlog_series(inst, NULL, 0);
	if (s < 0 || shmlog_add(s, 1) != 0) {
		fprintf(stderr, "use: metrics: %d\n", s);
		return 1;
	}
	return shmlog_flush() < 0;
}
C
flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs shmlog)
case "$flags" in
*"$prefix"*) ;;
*) echo "pkg-config --cflags --libs shmlog does not point into $prefix: $flags"; exit 1 ;;
esac
(cd "$prefix" && cc use.c $flags -Wl,-rpath,"$prefix/lib" -o use)
# grep without -q: reading all of ldd's output, it never makes ldd die of
# SIGPIPE, which pipefail would take for a failure (seen once in CI).
ldd "$prefix/use" | grep "$prefix/lib/libshmlog.so" >/dev/null ||
	{ echo "use is not linked against the installed library:"; ldd "$prefix/use"; exit 1; }
SHMLOG_NAMESPACE=install-none-$$ "$prefix/use"

# The installed daemons, file output (no endpoint), own namespace and spool.
spool=$prefix/spool
opts=(-c "$prefix/etc/shmlog/shmlog.ini" "--shm.namespace=$ns" "--spool.dir=$spool"
	--collector.schedule_delay_ms=50 --metrics.host_metrics=false)
env -u OTEL_EXPORTER_OTLP_ENDPOINT "$prefix/bin/shmlog-collector" "${opts[@]}" \
	>"$prefix/collector.log" 2>&1 &
cpid=$!
body="installed program says hello $$"
SHMLOG_NAMESPACE=$ns "$prefix/use" "$body"
# Once the record is in a spool file the collector's loop runs (and handles
# SIGTERM); not a timing assertion, a wait with a generous cap.
for _ in $(seq 200); do
	compgen -G "$spool/logs/*.pb" >/dev/null && break
	sleep 0.05
done
kill -TERM "$cpid"
wait "$cpid" || { echo "collector exit status $?:"; cat "$prefix/collector.log"; exit 1; }
cpid=
env -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_LOGS_ENDPOINT \
	-u OTEL_EXPORTER_OTLP_METRICS_ENDPOINT "$prefix/bin/shmlog-exporter" "${opts[@]}" --once \
	>"$prefix/exporter.log" 2>&1 || { echo "exporter --once failed:"; cat "$prefix/exporter.log"; exit 1; }
grep -qF "$body" "$spool/out/logs.jsonl" ||
	{ echo "the record is not in $spool/out/logs.jsonl"; exit 1; }
echo "install to $prefix: ok (pkg-config: $flags; the record went through the installed daemons)"

# systemd units: verified with the installed paths.
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze not found: the systemd units are not verified"
	exit 0
fi
mkdir "$prefix/units"
for u in shmlog-collector shmlog-exporter; do
	sed "s|/usr/local/bin/|$prefix/bin/|g" "$src/conf/systemd/$u.service" \
		>"$prefix/units/$u.service"
done
if ! out=$(cd "$prefix/units" && systemd-analyze verify ./shmlog-collector.service \
	./shmlog-exporter.service 2>&1) || [ -n "$out" ]; then
	echo "systemd-analyze verify:"
	echo "$out"
	exit 1
fi
for u in shmlog-collector shmlog-exporter; do
	# Informational: systemd's own exposure score of the hardening.
	(cd "$prefix/units" && systemd-analyze security --offline=yes "./$u.service" 2>/dev/null |
		tail -1) || true
done
echo "systemd units: systemd-analyze verify ok"
