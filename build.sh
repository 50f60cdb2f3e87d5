#!/usr/bin/env bash
# shmlog's only entry point: set-up, build, test, demo, bench.
#   ./build.sh          install missing Debian packages, configure, build
#   ./build.sh test     the whole test suite (unit, model, end to end, sanitizers)
#   ./build.sh demo     build, run both daemons and a sample workload, show the result
#   ./build.sh bench    optimised build and the benchmark in tools/bench
#                       (build/bench/results.json); `bench --smoke`: tiny counts
#   ./build.sh install PREFIX
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD=${SHMLOG_BUILD_DIR:-$ROOT/build}
JOBS=$(nproc)

# The benchmark's peers (tools/bench): also needed by `test`, whose
# bench_smoke runs every case.
BENCH_PKGS="liblttng-ust-dev lttng-tools libspdlog-dev"
DEB_PKGS="build-essential cmake pkg-config liburing-dev libprotobuf-c-dev protobuf-c-compiler
libzstd-dev libcurl4-openssl-dev libinih-dev zlib1g-dev spin procps strace clang
libclang-rt-14-dev openssl libncurses-dev tmux $BENCH_PKGS"
# Tools that may come from elsewhere than Debian (a NodeSource node, a pyenv
# python): a command on PATH is enough; else its Debian package.
DEB_CMDS="node:nodejs npm:npm python3:python3"

# e2e and fault tests left out of the ASan+UBSan run (the release run has
# them): the largest workloads, which only add minutes there.
ASAN_E2E_SKIP='^(e2e_logs_all_paths|fault_daemon_kill|fault_producer_kill|fault_receiver_outage)$'

need_pkgs() {
	local missing=()
	for p in $DEB_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	for c in $DEB_CMDS; do
		command -v "${c%%:*}" >/dev/null 2>&1 || missing+=("${c#*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "build.sh: installing missing Debian packages: ${missing[*]}" >&2
		local sudo=""
		[ "$(id -u)" -eq 0 ] || sudo=sudo
		$sudo apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
	fi
}

need_npm() {
	# The end-to-end receivers decode with the OpenTelemetry JS packages;
	# the gRPC one serves with @grpc/grpc-js (added later: a checkout
	# with older node_modules needs npm ci again).
	if [ ! -d "$ROOT/tests/e2e/node_modules/@opentelemetry/otlp-transformer" ] ||
		[ ! -d "$ROOT/tests/e2e/node_modules/@grpc/grpc-js" ]; then
		echo "build.sh: installing the test receiver's npm packages" >&2
		(cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error >&2 ||
			npm install --no-audit --no-fund --loglevel=error >&2)
	fi
}

configure_build() {
	local dir=$1; shift
	cmake -S "$ROOT" -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS"
}

cmd=${1:-build}
case "$cmd" in
build)
	need_pkgs
	configure_build "$BUILD"
	;;
test)
	need_pkgs
	need_npm
	configure_build "$BUILD" -DSHMLOG_WERROR=ON
	echo "== tests (release build)"
	(cd "$BUILD" && ctest --output-on-failure -j "$JOBS" --timeout 600)
	echo "== tests (ASan+UBSan build)"
	# The e2e tests of build-asan run its daemons and shmtop, but preload the
	# release build's libshmlog.so (SHMLOG_E2E_RELEASE_DIR): an ASan library
	# cannot be preloaded. harness.py fails a test on any sanitizer report.
	configure_build "$ROOT/build-asan" -DSHMLOG_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug \
		-DSHMLOG_WERROR=ON -DSHMLOG_E2E_RELEASE_DIR="$BUILD"
	(cd "$ROOT/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure \
		-j "$JOBS" --timeout 600 -L unit)
	echo "== integration tests (ASan+UBSan daemons)"
	(cd "$ROOT/build-asan" && ctest --output-on-failure -j "$JOBS" --timeout 600 \
		-L 'e2e|fault' -E "$ASAN_E2E_SKIP")
	echo "== ring and concurrency tests (TSan build)"
	cmake -S "$ROOT" -B "$ROOT/build-tsan" -DSHMLOG_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug \
		-DSHMLOG_WERROR=ON >/dev/null
	cmake --build "$ROOT/build-tsan" -j "$JOBS" --target test_ring test_lib_full test_tsc
	(cd "$ROOT/build-tsan" && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure \
		--timeout 600 -R '^(test_ring|test_lib_full|test_tsc)$')
	echo "== fuzzing: each libFuzzer target for ${SHMLOG_FUZZ_SECONDS:-20} s over its seed corpus"
	CC=clang cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DSHMLOG_FUZZ=ON >/dev/null
	cmake --build "$ROOT/build-fuzz" -j "$JOBS" --target fuzz_drain fuzz_spool fuzz_config \
		fuzz_response fuzz_status
	for t in drain spool config response status; do
		work=$(mktemp -d)
		# New inputs go to a scratch directory, never into the repository.
		if ! "$ROOT/build-fuzz/bin/fuzz_$t" -max_total_time="${SHMLOG_FUZZ_SECONDS:-20}" \
			-max_len=16384 -artifact_prefix="$ROOT/build-fuzz/" "$work" \
			"$ROOT/tests/fuzz/corpus/$t" >"$ROOT/build-fuzz/fuzz_$t.log" 2>&1; then
			tail -40 "$ROOT/build-fuzz/fuzz_$t.log"
			rm -rf "$work"
			echo "fuzz_$t: FAILED (input saved under build-fuzz/)"
			exit 1
		fi
		rm -rf "$work"
		echo "fuzz_$t: $(grep -o 'Done [0-9]* runs' "$ROOT/build-fuzz/fuzz_$t.log")"
	done
	;;
demo)
	need_pkgs
	configure_build "$BUILD"
	exec "$ROOT/tools/demo.sh" "$BUILD"
	;;
bench)
	need_pkgs
	configure_build "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release
	exec "$ROOT/tools/bench/run.sh" ${2:+"$2"} "$ROOT/build-bench"
	;;
install)
	need_pkgs
	configure_build "$BUILD"
	cmake --install "$BUILD" --prefix "${2:-/usr/local}"
	;;
*)
	echo "usage: ./build.sh [build|test|demo|bench [--smoke]|install PREFIX]" >&2
	exit 2
	;;
esac
