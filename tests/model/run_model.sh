#!/usr/bin/env bash
# tests/model/run_model.sh [path/to/ring.pml]
#
# Checks the Promela model of the ring protocol (shm/ring.pml) with spin:
#   - the protocol itself, exhaustively: S1+S2 (safety) and L1 (liveness,
#     weak fairness) in the bounds below; each run must report "errors: 0"
#     over a complete search;
#   - each bug variant (-DBUG_...): spin must find a counter-example
#     ("errors: 1" or more), which shows that the checks bite.
# Two lanes (safety, liveness) run in parallel when there are 2 CPUs; each
# pan is limited to 2 GiB (-DMEMLIM) and needs under 1 GiB at these bounds.
# Everything spin and pan write goes to a temporary directory.
# Exit status: 0 all as expected, 1 otherwise, 77 spin is not installed.
# RING_MODEL_DEEP=1 adds 3 writers x (2, 2, 1) records (about 75 M states,
# 4 GiB, 2 minutes).
set -u

here=$(cd "$(dirname "$0")" && pwd)
pml=${1:-$here/../../shm/ring.pml}

if ! command -v spin >/dev/null 2>&1; then
	echo "run_model.sh: spin is not installed (Debian package spin): skipped"
	exit 77
fi
if [ ! -r "$pml" ]; then
	echo "run_model.sh: cannot read $pml" >&2
	exit 1
fi
CC=${CC:-gcc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ring-model.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
cp "$pml" "$tmp/ring.pml" || exit 1

# check NAME EXPECT KIND SPIN_DEFINES...
#   EXPECT: pass (complete search, errors: 0) or fail (errors: >= 1)
#   KIND:   safety (assertions, invalid end states) or liveness (ltl L1:
#           acceptance cycles under weak fairness)
# Leaves its one-line report in $tmp/NAME/result, "ok" or "FAIL" first.
check() {
	local name=$1 expect=$2 kind=$3
	shift 3
	local d=$tmp/$name cflags pflags memlim=${MEMLIM_MB:-2048}
	mkdir -p "$d" && cp "$tmp/ring.pml" "$d/" || return 1
	case $kind in
	safety)
		cflags="-DSAFETY -DCOLLAPSE"
		pflags="-m100000 -w25"
		;;
	liveness)
		cflags="-DCOLLAPSE"
		pflags="-m100000 -w24 -a -f"
		set -- "$@" -DLIVENESS
		;;
	esac
	[ "$name" = deep_safety_w3r221 ] && { memlim=6144; pflags="-m100000 -w27"; }
	local t0=$SECONDS verdict
	if ! (cd "$d" && spin "$@" -a ring.pml) >"$d/spin.log" 2>&1; then
		echo "FAIL $name: spin -a: $(tail -n 3 "$d/spin.log" | tr '\n' ' ')" >"$d/result"
		return
	fi
	# shellcheck disable=SC2086
	if ! (cd "$d" && $CC -O2 -w -DMEMLIM=$memlim $cflags -o pan pan.c) >"$d/cc.log" 2>&1; then
		echo "FAIL $name: compiling pan: $(tail -n 3 "$d/cc.log" | tr '\n' ' ')" >"$d/result"
		return
	fi
	# shellcheck disable=SC2086
	(cd "$d" && ./pan $pflags) >"$d/pan.log" 2>&1
	local log=$d/pan.log errors states elapsed what
	errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$log" | tail -n 1)
	elapsed=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\).*/\1/p' "$log" | tail -n 1)
	what=$(grep -m 1 -E '^pan:1: ' "$log" | sed 's/^pan:1: //')
	if [ "$expect" = pass ]; then
		if [ "$errors" = 0 ] &&
			! grep -qE 'Search not completed|max search depth too small|out of memory|MEMLIM' "$log"; then
			verdict=ok
		else
			verdict=FAIL
		fi
	elif [ -n "$errors" ] && [ "$errors" -ge 1 ]; then
		verdict=ok
	else
		verdict=FAIL
	fi
	printf '%-4s %-22s %-6s errors: %-2s states: %-9s pan: %5ss  wall: %3ss  %s\n' \
		"$verdict" "$name" "$expect" "${errors:-?}" "${states:-?}" "${elapsed:-?}" \
		$((SECONDS - t0)) "$what" >"$d/result"
	if [ "$verdict" != ok ]; then
		{ echo "---- $name: pan output"; tail -n 30 "$log"; echo "----"; } >>"$d/result"
	fi
}

# Lane 1: safety. 2 writers x 3 records: up to 12 positions, 3 laps of the
# 4-slot ring; 3 writers x (2, 1, 1) records: 8 positions, 2 laps. Then the
# bug variants that break S1 or S2.
lane1=(
	"safety_w2r3 pass safety -DW=2 -DR=3"
	"safety_w3r211 pass safety -DW=3 -DR0=2 -DR1=1 -DR2=1"
	"bug_no_lap fail safety -DW=2 -DR=3 -DBUG_NO_LAP"
	"bug_skip_stopped fail safety -DW=2 -DR=3 -DBUG_SKIP_STOPPED"
	"bug_no_full_check fail safety -DW=2 -DR=3 -DBUG_NO_FULL_CHECK"
	"bug_early_publish fail safety -DW=2 -DR=3 -DBUG_EARLY_PUBLISH"
	"bug_release_mid fail safety -DW=2 -DR=3 -DBUG_RELEASE_MID"
)
# Lane 2: L1 (writers die, none stops), then the variants that break it.
lane2=(
	"liveness_w2r3 pass liveness -DW=2 -DR=3"
	"liveness_w3r1 pass liveness -DW=3 -DR=1"
	"bug_fetch_add fail liveness -DW=2 -DR=2 -DBUG_FETCH_ADD"
	"bug_wait_dead fail liveness -DW=2 -DR=2 -DBUG_WAIT_DEAD"
)
if [ "${RING_MODEL_DEEP:-0}" = 1 ]; then
	lane2+=("deep_safety_w3r221 pass safety -DW=3 -DR0=2 -DR1=2 -DR2=1")
fi

run_lane() {
	local spec
	for spec in "$@"; do
		# shellcheck disable=SC2086
		check $spec
	done
}

echo "spin model check of $pml ($(spin -V 2>&1 | head -n 1))"
t0=$SECONDS
if [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ]; then
	run_lane "${lane1[@]}" &
	run_lane "${lane2[@]}" &
	wait
else
	run_lane "${lane1[@]}" "${lane2[@]}"
fi

failures=0
for spec in "${lane1[@]}" "${lane2[@]}"; do
	name=${spec%% *}
	if [ -r "$tmp/$name/result" ]; then
		cat "$tmp/$name/result"
		head -c 4 "$tmp/$name/result" | grep -q '^ok' || failures=$((failures + 1))
	else
		echo "FAIL $name: no result"
		failures=$((failures + 1))
	fi
done
if [ "$failures" -ne 0 ]; then
	echo "run_model.sh: $failures check(s) did not give the expected result ($((SECONDS - t0)) s)"
	exit 1
fi
echo "run_model.sh: all checks as expected ($((SECONDS - t0)) s)"
exit 0
