#!/usr/bin/env bash
# `cmake --install` to a fresh prefix gives the daemons, shmtop, the library,
# shmlog.h and a shmlog.pc with which a program compiles, links and runs.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/shmlog-collector bin/shmlog-exporter bin/shmtop include/shmlog.h \
	lib/libshmlog.so lib/pkgconfig/shmlog.pc etc/shmlog/shmlog.ini; do
	[ -e "$prefix/$f" ] || { echo "missing after install: $f"; exit 1; }
done
cat > "$prefix/use.c" <<'C'
#include <errno.h>
#include <shmlog.h>
int main(void)
{
	/* no collector on this namespace: inert, -ENOTCONN */
	return shmlog_log(SHMLOG_SEV_INFO, "INFO", "x", 1, 0, 0) == -ENOTCONN ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs shmlog)
cc "$prefix/use.c" $flags -Wl,-rpath,"$prefix/lib" -o "$prefix/use"
SHMLOG_NAMESPACE=install-check-$$ "$prefix/use"
echo "install to $prefix: ok"
