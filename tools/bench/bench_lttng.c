/* SPDX-License-Identifier: MIT */
/*
 * bench_lttng: the LTTng-UST peer of `./build.sh bench` (a benchmark,
 * never a test). One tracepoint, shmlog_bench:record (bench_tp.h: the
 * 64-byte message and an int64), N calls on 1 then 2 threads, timed as
 * every case is (bench_common.h). run.sh starts a private session daemon
 * (--no-kernel, its own LTTNG_HOME), a session with that event enabled in
 * discard mode and started, then this program with
 * LTTNG_UST_REGISTER_TIMEOUT=-1 so that it is registered before main();
 * the tracepoint has no failure to return: events the buffers could not
 * take are the channel's discarded events, which run.sh reads back with
 * `lttng list` after the run.
 *
 *   bench_lttng N     one JSON object on stdout
 */
#include "bench_common.h"
#include "bench_tp.h"

static inline int tp_one(struct bc_thr *t, uint64_t i)
{
	(void)t;
	lttng_ust_tracepoint(shmlog_bench, record, bc_body64, (int64_t)i);
	return 0;
}

BC_THREAD(tp_thread, tp_one)

int main(int argc, char **argv)
{
	struct bc_stats one, two[2];
	uint64_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_lttng N\n");
		return 2;
	}
	n = bc_parse_n(argv[1]);
	if (!lttng_ust_tracepoint_enabled(shmlog_bench, record))
		fprintf(stderr, "bench_lttng: the tracepoint is not enabled (no session?)\n");
	bc_calibrate();
	bc_run(1, n, 0, tp_thread, NULL, NULL, &one);
	bc_run(2, n, 0, tp_thread, NULL, NULL, two);
	bc_print_case("lttng", n, &one, two);
	printf(",\"enabled\":%d", lttng_ust_tracepoint_enabled(shmlog_bench, record) ? 1 : 0);
	bc_end_case();
	return 0;
}
