/* SPDX-License-Identifier: MIT */
/*
 * test_lib_full: the full-ring slow path of libshmlog (shm/lib_full.c,
 * SHMLOG_ON_FULL). The parser; the wait/drop logic with a fake clock and a
 * fake claim (how often it tries, how it naps, when it gives up); and
 * lib_full_wait() on a real segment whose rings are full: with drop it
 * returns at once and counts nothing, with wait:ms it returns NULL only
 * after the bound, counts one wait and at least ms milliseconds in the
 * producer entry, and claims as soon as the collector's side frees room.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib_int.h"
#include "ring_write.h"
#include "seg.h"
#include "test_help.h"

/* lib_full.c's only outside call besides the ring: diagnostics. */
void lib_debug(const char *fmt, ...)
{
	(void)fmt;
}

static void test_parse(void)
{
	uint64_t ns = 1;

	T_EQ_INT(lib_full_parse(NULL, &ns), 0);
	T_ASSERT(ns == 0);
	T_EQ_INT(lib_full_parse("", &ns), 0);
	T_ASSERT(ns == 0);
	T_EQ_INT(lib_full_parse("drop", &ns), 0);
	T_ASSERT(ns == 0);
	T_EQ_INT(lib_full_parse("wait:200", &ns), 0);
	T_ASSERT(ns == 200000000ull);
	T_EQ_INT(lib_full_parse("wait:60000", &ns), 0);
	T_ASSERT(ns == 60000000000ull);
	const char *bad[] = {
	    "wait",    "wait:",	  "wait:0", "wait:-5", "wait:60001",
	    "wait:1x", "wait: 5", "block",  "DROP",    "wait:99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ns = 7;
		T_EQ_INT(lib_full_parse(bad[i], &ns), -EINVAL);
		T_ASSERT(ns == 0); /* unknown: drop */
	}
}

/* A fake clock that only the naps advance, and a claim that succeeds on
 * try number succeed_at (0: never). */
static uint64_t fake_now, naps, nap_total, nap_last;
static int tries, succeed_at;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void fake_nap(uint64_t ns)
{
	naps++;
	nap_total += ns;
	nap_last = ns;
	fake_now += ns;
}

static int fake_claim(void *ctx)
{
	(void)ctx;
	tries++;
	return succeed_at && tries >= succeed_at ? 0 : -ENOBUFS;
}

static void reset(int at)
{
	fake_now = 1000;
	naps = nap_total = nap_last = 0;
	tries = 0;
	succeed_at = at;
}

static void test_retry(void)
{
	uint64_t waited = 0;

	/* Room on the third try: found while spinning, no nap, no time. */
	reset(3);
	T_EQ_INT(lib_full_retry(200000000ull, fake_claim, NULL, fake_clock, fake_nap, &waited), 0);
	T_EQ_INT(tries, 3);
	T_ASSERT(naps == 0 && waited == 0);

	/* Never room: gives up exactly at the bound, the last nap cut to it,
	 * naps growing from 20 us to 1 ms (so about 200 naps for 200 ms). */
	reset(0);
	T_EQ_INT(lib_full_retry(200000000ull, fake_claim, NULL, fake_clock, fake_nap, &waited),
		 -ENOBUFS);
	T_ASSERT(waited == 200000000ull);
	T_ASSERT(nap_total == 200000000ull);
	T_ASSERT(naps > 190 && naps < 215);
	T_ASSERT(nap_last <= 1000000ull);
	T_EQ_INT(tries, 64 + (int)naps); /* the spins, then one try per nap */

	/* Room after a few naps: returns at once with the time waited. */
	reset(64 + 5);
	T_EQ_INT(lib_full_retry(200000000ull, fake_claim, NULL, fake_clock, fake_nap, &waited), 0);
	T_ASSERT(naps == 5);
	T_ASSERT(waited == nap_total);
	T_ASSERT(nap_total == 20000ull + 40000 + 80000 + 160000 + 320000);

	/* A bound shorter than the first nap: one nap of exactly the bound. */
	reset(0);
	T_EQ_INT(lib_full_retry(5000ull, fake_claim, NULL, fake_clock, fake_nap, &waited),
		 -ENOBUFS);
	T_ASSERT(naps == 1 && nap_last == 5000ull && waited == 5000ull);
}

/* ---- on a real segment ----------------------------------------------- */

static struct seg seg;
static char ns[64];

static void fill(struct shm_ring_hdr *r)
{
	uint64_t pos;

	while (ring_claim(&seg, r, 1, 0, &pos) == 0)
		ring_publish(&seg, r, pos, 1, 0);
}

/* The collector's release of a whole ring (drain_release()). */
static void release_all(struct shm_ring_hdr *r)
{
	uint64_t *ctl = seg_ring_ctl(&seg, r);
	uint64_t t = shm_load_relaxed(&r->rh_tail), h = t + seg.slots;

	for (uint64_t p = t; p < h; p++)
		shm_store_relaxed(&ctl[p & (seg.slots - 1)],
				  SHM_CTL_MAKE(seg_lap(&seg, p), SHM_CTL_FREE, 0, 0));
	shm_store_release(&r->rh_tail, h);
}

static void *releaser(void *arg)
{
	(void)arg;
	usleep(20000);
	release_all(seg_ring(&seg, 1));
	return NULL;
}

static void test_wait(void)
{
	struct seg_geometry g = {.nrings = 2,
				 .ring_slots = 64,
				 .max_producers = 4,
				 .max_threads = 8,
				 .dead_check_ms = 100,
				 .max_instruments = 4,
				 .max_series = 4,
				 .max_cells = 8};
	struct lib_att a;
	struct shm_producer *pe;
	pthread_t th;
	uint64_t pos;
	int reused;

	snprintf(ns, sizeof(ns), "test-lib-full-%d", (int)getpid());
	if (seg_create(&seg, ns, &g, 0600, &reused)) {
		fprintf(stderr, "no segment: skipped\n");
		exit(T_SKIP);
	}
	memset(&a, 0, sizeof(a));
	a.seg = seg;
	a.producer = 1;
	pe = seg_producer(&seg, 1);
	fill(seg_ring(&seg, 0));
	fill(seg_ring(&seg, 1));

	/* drop (the default): nothing waits, nothing is counted here. */
	lib_full_init("drop");
	T_ASSERT(lib_full_wait(&a, 0, 1, 0, &pos) == NULL);
	T_ASSERT(pe->pe_full_waits == 0 && pe->pe_full_wait_ms == 0);
	/* An unknown setting is drop. */
	lib_full_init("wait:forever");
	T_ASSERT(lib_full_wait(&a, 0, 1, 0, &pos) == NULL);
	T_ASSERT(pe->pe_full_waits == 0);

	/* wait:30 with the rings full: NULL after at least 30 ms, counted. */
	lib_full_init("wait:30");
	T_ASSERT(lib_full_wait(&a, 0, 1, 0, &pos) == NULL);
	T_EQ_INT((int)pe->pe_full_waits, 1);
	T_ASSERT(pe->pe_full_wait_ms >= 30);

	/* A fork child before its first record has no entry: no wait. */
	a.producer = LIB_NO_PRODUCER;
	T_ASSERT(lib_full_wait(&a, 0, 1, 0, &pos) == NULL);
	T_EQ_INT((int)pe->pe_full_waits, 1);
	a.producer = 1;

	/* wait:5000 while "the collector" frees ring 1 (the next ring of
	 * ring 0): claimed there, long before the bound. */
	lib_full_init("wait:5000");
	T_EQ_INT(pthread_create(&th, NULL, releaser, NULL), 0);
	T_ASSERT(lib_full_wait(&a, 0, 1, 0, &pos) == seg_ring(&seg, 1));
	T_EQ_INT(pthread_join(th, NULL), 0);
	T_EQ_INT((int)pe->pe_full_waits, 2);
	T_ASSERT(pos == shm_load_relaxed(&seg_ring(&seg, 1)->rh_tail));
	seg_detach(&seg);
	(void)seg_unlink(ns);
}

int main(void)
{
	test_parse();
	test_retry();
	test_wait();
	printf("test_lib_full: ok\n");
	return 0;
}
