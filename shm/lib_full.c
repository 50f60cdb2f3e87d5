/* SPDX-License-Identifier: MIT */
/*
 * What a producer does when its ring is full (SHMLOG_ON_FULL), the slow
 * path of lib_claim() only: the record path never comes here while a ring
 * has room.
 *   drop        (default) the record is dropped and counted at once: the
 *               job never waits
 *   wait:<ms>   the job waits up to ms milliseconds (1..60000) for room:
 *               it spins briefly, then sleeps in growing naps (nanosleep:
 *               the collector bumps no word when it releases slots, see
 *               shm/ABI.md, so there is nothing to futex-wait on), trying
 *               this CPU's ring and the next one after each; still full
 *               at the deadline, the record is dropped and counted
 * Every wait is counted in the producer's entry: pe_full_waits (one per
 * record that waited) and pe_full_wait_ms (the time waited, carried in
 * nanoseconds per process so that short waits add up exactly).
 * lib_full_retry() is the logic alone, with the claim, the clock and the
 * nap passed in, for tests/unit/test_lib_full.c.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib_int.h"
#include "ring_write.h"
#include "shm_atomic.h"

#define FULL_MAX_WAIT_MS 60000u
#define FULL_SPINS 64		   /* claim attempts before the first nap */
#define FULL_NAP_MIN_NS 20000ull   /* 20 us */
#define FULL_NAP_MAX_NS 1000000ull /* 1 ms */

/* 0: drop; else the wait bound in ns. Set once by the constructor. */
static uint64_t full_wait_ns;
/* Nanoseconds waited not yet carried into pe_full_wait_ms (atomic). */
static uint64_t full_rem_ns;

int lib_full_parse(const char *spec, uint64_t *wait_ns)
{
	char *end;
	unsigned long ms;

	*wait_ns = 0;
	if (!spec || !*spec || strcmp(spec, "drop") == 0)
		return 0;
	if (strncmp(spec, "wait:", 5) != 0 || spec[5] < '0' || spec[5] > '9')
		return -EINVAL;
	errno = 0;
	ms = strtoul(spec + 5, &end, 10);
	if (errno || *end || ms == 0 || ms > FULL_MAX_WAIT_MS)
		return -EINVAL;
	*wait_ns = (uint64_t)ms * 1000000ull;
	return 0;
}

void lib_full_init(const char *spec)
{
	if (lib_full_parse(spec, &full_wait_ns))
		lib_debug("SHMLOG_ON_FULL=%s unknown (drop | wait:<1..%u ms>): dropping", spec,
			  FULL_MAX_WAIT_MS);
}

int lib_full_retry(uint64_t wait_ns, int (*try_claim)(void *ctx), void *ctx,
		   uint64_t (*clock_ns)(void), void (*nap)(uint64_t ns), uint64_t *waited_ns)
{
	uint64_t t0 = clock_ns(), now = t0, sleep = FULL_NAP_MIN_NS;
	int ret = -ENOBUFS;

	for (int i = 0; i < FULL_SPINS; i++) {
		ret = try_claim(ctx);
		if (ret == 0)
			goto out;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	for (;;) {
		now = clock_ns();
		if (now - t0 >= wait_ns)
			break;
		if (sleep > wait_ns - (now - t0))
			sleep = wait_ns - (now - t0);
		nap(sleep);
		ret = try_claim(ctx);
		if (ret == 0)
			break;
		sleep = sleep * 2 < FULL_NAP_MAX_NS ? sleep * 2 : FULL_NAP_MAX_NS;
	}
out:
	now = clock_ns();
	*waited_ns = now - t0;
	return ret;
}

struct full_ctx {
	struct lib_att *a;
	uint32_t ring, n, owner;
	uint64_t *pos;
	struct shm_ring_hdr *got;
};

static int full_try(void *p)
{
	struct full_ctx *c = p;
	struct lib_att *a = c->a;

	for (uint32_t i = 0; i < (a->seg.nrings > 1 ? 2u : 1u); i++) {
		struct shm_ring_hdr *r = seg_ring(&a->seg, (c->ring + i) % a->seg.nrings);

		if (ring_claim(&a->seg, r, c->n, c->owner, c->pos) == 0) {
			c->got = r;
			return 0;
		}
	}
	return -ENOBUFS;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};

	(void)nanosleep(&ts, NULL); /* EINTR: the loop re-checks its clock */
}

struct shm_ring_hdr *lib_full_wait(struct lib_att *a, uint32_t ring, uint32_t n, uint32_t owner,
				   uint64_t *pos)
{
	struct full_ctx c = {.a = a, .ring = ring, .n = n, .owner = owner, .pos = pos};
	struct shm_producer *pe;
	uint64_t waited = 0, rem;
	int saved = errno;

	if (!full_wait_ns || a->producer == LIB_NO_PRODUCER)
		return NULL;
	(void)lib_full_retry(full_wait_ns, full_try, &c, mono_ns, nap_ns, &waited);
	errno = saved;
	pe = seg_producer(&a->seg, a->producer);
	/* Counters of our own entry, read by the collector and shmtop: an
	 * atomic add each, relaxed, like pe_drops. */
	shm_add_relaxed(&pe->pe_full_waits, 1);
	rem = shm_add_relaxed(&full_rem_ns, waited) + waited;
	if (rem >= 1000000ull) {
		uint64_t ms = rem / 1000000ull;

		/* Only the thread that takes the remainder carries it. */
		if (shm_cas(&full_rem_ns, &rem, rem - ms * 1000000ull))
			shm_add_relaxed(&pe->pe_full_wait_ms, (uint32_t)ms);
	}
	return c.got;
}
