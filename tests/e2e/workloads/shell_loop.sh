#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shell_loop.sh TAG COUNT [PACE_S]: an end-to-end workload of bash builtins
# (printf, echo) writing COUNT numbered lines to stdout and stderr, with
# level words, CRLF endings and multi-byte UTF-8, then an empty line, and a
# last line without a newline. test_logs.py (expected_shell) computes the
# same lines; keep the two in step. PACE_S: sleep that long every 1000 lines.
tag=$1
n=$2
pace=${3:-0}
for ((i = 0; i < n; i++)); do
	printf -v id '%06d' "$i"
	case $((i % 10)) in
	0) printf 'ERROR sh %s %s disk on fire\n' "$tag" "$id" >&2 ;;
	3) echo "WARNING:root:sh $tag $id" ;;
	5) printf 'INFO sh %s %s ok\n' "$tag" "$id" ;;
	7) printf 'sh %s %s crlf\r\n' "$tag" "$id" ;;
	8) printf 'sh %s %s to stderr ünïcödé ✓\n' "$tag" "$id" >&2 ;;
	*) printf 'sh %s %s plain line ünïcödé ✓ 日本語\n' "$tag" "$id" ;;
	esac
	if [ "$pace" != 0 ] && ((i % 1000 == 999)); then
		sleep "$pace"
	fi
done
echo
printf 'DEBUG: sh %s done\n' "$tag" >&2
printf 'sh %s last-no-newline' "$tag"
