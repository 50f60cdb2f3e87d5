/* SPDX-License-Identifier: MIT */
/*
 * bench_write: three cases of `./build.sh bench` that need no library of
 * ours linked in (a benchmark, never a test). Timing: bench_common.h.
 *
 *   bench_write --write N NAME   write(1, line, 64) (63 characters and a
 *                                newline), N calls on 1 thread, then N / 2
 *                                on each of 2 threads.
 *                                Run plainly with fd 1 on /dev/null it is
 *                                the system-call floor; run under
 *                                LD_PRELOAD=libshmlog.so with SHMLOG_STDIO=
 *                                capture or tee (fd 1 on /dev/null) it is a
 *                                preloaded program's write(). With
 *                                $SHMLOG_NAMESPACE set it maps that
 *                                segment read-only, writes in bursts of half
 *                                a ring and waits, untimed, for the
 *                                collector between bursts; records the
 *                                collector did not receive are reported
 *                                as "lost" (sh_records_in; the namespace
 *                                must be this program's alone).
 *   bench_write --floor N        the floor of our design: the record (a
 *                                header with a CLOCK_REALTIME timestamp,
 *                                the 64-byte body, an int64) copied into a
 *                                private per-thread ring of 128-byte slots,
 *                                claimed with one atomic fetch-add and
 *                                published with a release store. Nothing
 *                                reads the ring: the cost of the write alone.
 *   bench_write --floor-tsc N    the same with the raw TSC as the timestamp
 *                                (the cheapest clock there is here).
 *
 * One JSON object on stdout; --write puts it on fd 3 instead (fds 1 and 2
 * may be captured or /dev/null) when fd 3 is open. Read next: run.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bench_common.h"
#include "seg.h"
#include "shm_abi.h"

#define FLOOR_SLOTS (1u << 15) /* 4 MiB of 128-byte slots per thread */

static char line64[BC_BODY_LEN];
static struct seg view;
static int have_view;

/* ---- write(1, line, 64) --------------------------------------------------- */

static uint64_t ring_backlog(uint32_t k)
{
	struct shm_ring_hdr *r = seg_ring(&view, k);
	uint64_t hint = atomic_load_explicit(&r->rh_hint, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->rh_tail, memory_order_relaxed);

	return hint > tail ? hint - tail : 0;
}

/* Between bursts: until the collector has released every ring; exits
 * after 10 s without progress. */
static void wait_drained(void *ctx)
{
	uint64_t t0 = bc_now_ns(CLOCK_MONOTONIC), last = UINT64_MAX;

	(void)ctx;
	if (!have_view)
		return;
	for (;;) {
		uint64_t worst = 0;

		for (uint32_t k = 0; k < view.nrings; k++) {
			uint64_t b = ring_backlog(k);

			worst = b > worst ? b : worst;
		}
		if (worst == 0)
			return;
		if (worst != last) {
			last = worst;
			t0 = bc_now_ns(CLOCK_MONOTONIC);
		} else if (bc_now_ns(CLOCK_MONOTONIC) - t0 > 10000000000ull) {
			fprintf(stderr, "bench_write: the collector released nothing in 10 s\n");
			exit(3);
		}
		bc_sleep_us(200);
	}
}

static inline int write_one(struct bc_thr *t, uint64_t i)
{
	(void)t;
	(void)i;
	return write(1, line64, sizeof(line64)) != (ssize_t)sizeof(line64);
}

BC_THREAD(write_thread, write_one)

static uint64_t records_in(void)
{
	return atomic_load_explicit(&view.hdr->sh_records_in, memory_order_relaxed);
}

/* Attaches the read-only view and waits until the (preloaded) library
 * is attached: a first line reaches the collector. */
static void attach_view(void)
{
	const char *ns = getenv("SHMLOG_NAMESPACE");
	int ret;

	if (!ns || !*ns)
		return;
	for (int i = 0; (ret = seg_attach(&view, ns, 0)) < 0; i++) {
		if (i == 500) {
			fprintf(stderr, "bench_write: segment of '%s': %s\n", ns, strerror(-ret));
			exit(1);
		}
		bc_sleep_us(20000);
	}
	have_view = 1;
	for (int i = 0; records_in() == 0; i++) {
		if (i == 500) {
			fprintf(stderr, "bench_write: no line reached the collector in 10 s "
					"(not preloaded, or SHMLOG_STDIO=off?)\n");
			exit(1);
		}
		if (write(1, line64, sizeof(line64)) != (ssize_t)sizeof(line64))
			exit(1);
		bc_sleep_us(20000);
	}
	wait_drained(NULL);
}

/* Untimed warm-up calls of a bc_run() (BC_THREAD's first burst). */
static uint64_t warm_calls(uint64_t n, uint64_t burst, int nthreads)
{
	uint64_t per = n / (uint64_t)nthreads, b = burst / BC_BATCH * BC_BATCH;
	uint64_t w = b ? b : per;

	w = w < per ? w : per;
	return (w < BC_WARMUP_MAX ? w : BC_WARMUP_MAX) * (uint64_t)nthreads;
}

static int mode_write(uint64_t n, const char *name)
{
	struct bc_stats one, two[2];
	uint64_t burst = n, r0 = 0, r1 = 0, sent;
	/* rec hdr + log hdr + the line without its newline, in slots. */
	uint64_t nslots = (sizeof(struct shm_rec_hdr) + sizeof(struct shm_log_hdr) + BC_BODY_LEN -
			   1 + SHM_ABI_SLOT_SIZE - 1) /
			  SHM_ABI_SLOT_SIZE;

	memcpy(line64, bc_body64, BC_BODY_LEN - 1);
	line64[BC_BODY_LEN - 1] = '\n';
	attach_view();
	if (have_view) {
		burst = view.slots / nslots / 2;
		r0 = records_in();
	}
	bc_calibrate();
	bc_run(1, n, burst, write_thread, wait_drained, NULL, &one);
	bc_run(2, n, burst, write_thread, wait_drained, NULL, two);
	/* Every call was a whole line; warm-up bursts included. */
	sent = one.ok + one.errors + two[0].ok + two[0].errors + two[1].ok + two[1].errors;
	sent += warm_calls(n, burst, 1) + warm_calls(n, burst, 2);
	if (have_view) {
		wait_drained(NULL);
		r1 = records_in();
	}
	bc_print_case(name, n, &one, two);
	fprintf(bc_out,
		",\"burst\":%" PRIu64 ",\"lines\":%" PRIu64 ",\"received\":%" PRIu64
		",\"lost\":%" PRId64 "",
		burst, sent, r1 - r0, have_view ? (int64_t)sent - (int64_t)(r1 - r0) : 0);
	bc_end_case();
	return 0;
}

/* ---- the floor ---------------------------------------------------------- */

struct floor_slot {
	uint64_t time_ns;
	uint32_t len;
	uint32_t seq_key; /* "seq" */
	int64_t seq;
	char body[BC_BODY_LEN];
	_Atomic uint64_t commit;
	char pad[128 - 8 - 4 - 4 - 8 - BC_BODY_LEN - 8];
};
_Static_assert(sizeof(struct floor_slot) == 128, "floor slot");

struct floor_ring {
	_Atomic uint64_t head;
	char pad[56];
	struct floor_slot *slots;
};

static struct floor_ring floor_rings[2] __attribute__((aligned(64)));

/* One record into this thread's private ring: tsc 0 stamps it with
 * CLOCK_REALTIME, 1 with the raw TSC (no conversion; libshmlog converts
 * with the collector's calibration): the cheapest clock there is. */
static inline int floor_put(struct bc_thr *t, uint64_t i, int tsc)
{
	struct floor_ring *r = &floor_rings[t->idx];
	uint64_t pos = atomic_fetch_add_explicit(&r->head, 1, memory_order_relaxed);
	struct floor_slot *s = &r->slots[pos & (FLOOR_SLOTS - 1)];

#ifdef BC_HAVE_TSC
	s->time_ns = tsc ? __rdtsc() : bc_now_ns(CLOCK_REALTIME);
#else
	s->time_ns = bc_now_ns(CLOCK_REALTIME);
#endif
	s->len = BC_BODY_LEN;
	s->seq_key = 0x716573; /* "seq" */
	s->seq = (int64_t)i;
	memcpy(s->body, bc_body64, BC_BODY_LEN);
	atomic_store_explicit(&s->commit, pos + 1, memory_order_release);
	return 0;
}

#define floor_one(t, i) floor_put(t, i, 0)
#define floor_tsc_one(t, i) floor_put(t, i, 1)
BC_THREAD(floor_thread, floor_one)
BC_THREAD(floor_tsc_thread, floor_tsc_one)

static int mode_floor(uint64_t n, int tsc)
{
	struct bc_stats one, two[2];
	void *(*fn)(void *) = tsc ? floor_tsc_thread : floor_thread;

	for (int k = 0; k < 2; k++) {
		floor_rings[k].slots = aligned_alloc(64, FLOOR_SLOTS * sizeof(struct floor_slot));
		if (!floor_rings[k].slots)
			return 1;
		memset(floor_rings[k].slots, 0, FLOOR_SLOTS * sizeof(struct floor_slot));
	}
	bc_calibrate();
	/* The warm-up burst maps every page: one lap of the ring. */
	bc_run(1, n, FLOOR_SLOTS, fn, NULL, NULL, &one);
	bc_run(2, n, FLOOR_SLOTS, fn, NULL, NULL, two);
	bc_print_case(tsc ? "floor_tsc" : "floor", n, &one, two);
	bc_end_case();
	return 0;
}

int main(int argc, char **argv)
{
	bc_out = stdout;
	if (argc == 4 && !strcmp(argv[1], "--write")) {
		if (fcntl(3, F_GETFD) >= 0)
			bc_out = fdopen(3, "w");
		if (!bc_out)
			bc_out = stdout;
		return mode_write(bc_parse_n(argv[2]), argv[3]);
	}
	if (argc == 3 && !strcmp(argv[1], "--floor"))
		return mode_floor(bc_parse_n(argv[2]), 0);
	if (argc == 3 && !strcmp(argv[1], "--floor-tsc"))
		return mode_floor(bc_parse_n(argv[2]), 1);
	fprintf(stderr, "usage: bench_write --write N NAME | --floor N | --floor-tsc N\n");
	return 2;
}
