/* SPDX-License-Identifier: MIT */
/*
 * TSC calibration for producers (tsc_cal.h). The frequency is measured
 * over a window that grows with the collector's life (from its first
 * pair to the latest), so its error shrinks as noise / window; each
 * refresh re-bases the line at the latest pair, so a producer's error is
 * the frequency error times the time since the last refresh (at most
 * TSC_CAL_VALID_NS, normally a poll interval). A stepped clock shows as a
 * frequency jump: the window restarts there, and the base is re-pinned
 * at once with the old frequency. The line is a seqlock: a collector
 * killed half-way leaves an odd sequence, which producers skip (they read
 * the clock) and the next collector's first write repairs.
 */
#include "tsc_cal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "shm_atomic.h"
#include "tsc.h"

#define REFRESH_NS 10000000ull /* between refreshes, at most once a turn */
#define PAIR_TRIES 5

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A (TSC, realtime) pair: the narrowest of a few rdtsc/clock/rdtsc
 * brackets (one that a preemption stretched is discarded), with the TSC
 * taken at the bracket's middle. */
static void read_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < PAIR_TRIES; i++) {
		uint64_t t1 = tsc_read(), n = realtime_ns(), t2 = tsc_read();

		if (t2 >= t1 && t2 - t1 < best) {
			best = t2 - t1;
			*tsc = t1 + (t2 - t1) / 2;
			*ns = n;
		}
	}
	if (best == UINT64_MAX) {
		*tsc = tsc_read();
		*ns = realtime_ns();
	}
}

static int tsc_trusted(void)
{
#if defined(__x86_64__)
	unsigned int a, b, c, d;
	char buf[32] = "";
	FILE *f;

	/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in
	 * every P-, C- and T-state. */
	if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8)))
		return 0;
	/* The kernel keeps time with the TSC only once it found it in sync
	 * across CPUs and stable; anything else (hpet, a paravirt clock that
	 * corrects a TSC it distrusts) and producers read the clock. */
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strcmp(buf, "tsc\n") == 0;
#else
	return 0;
#endif
}

/* The seqlock write (shm_abi.h sh_tsc_*). */
static void publish(struct shm_seg_hdr *h, uint64_t base, uint64_t base_ns, uint64_t mult,
		    uint64_t max_delta)
{
	uint64_t s = shm_load_relaxed(&h->sh_tsc_seq);

	s |= 1; /* odd: being written (also repairs a predecessor's odd) */
	shm_store_relaxed(&h->sh_tsc_seq, s);
	/* Orders the odd store before the field stores: pairs with the
	 * reader's acquire fence before its second sequence load. */
	atomic_thread_fence(memory_order_release);
	shm_store_relaxed(&h->sh_tsc_base, base);
	shm_store_relaxed(&h->sh_tsc_base_ns, base_ns);
	shm_store_relaxed(&h->sh_tsc_mult, mult);
	shm_store_relaxed(&h->sh_tsc_max_delta, max_delta);
	/* Publishes the fields: pairs with the reader's first acquire load. */
	shm_store_release(&h->sh_tsc_seq, s + 1);
}

int tsc_cal_init(struct tsc_cal *c, struct shm_seg_hdr *h, int allow)
{
	memset(c, 0, sizeof(*c));
	c->hdr = h;
	c->usable = allow && SHM_HAVE_TSC && tsc_trusted();
	if (!c->usable) {
		publish(h, 0, 0, 0, 0);
		return 0;
	}
	/* A predecessor's calibration stays in use until ours replaces it
	 * (at most TSC_CAL_MIN_WINDOW_NS from now): the TSC it was based on
	 * is the same one, and its age still bounds its use. */
	read_pair(&c->anchor_tsc, &c->anchor_ns);
	return 1;
}

void tsc_cal_refresh(struct tsc_cal *c)
{
	uint64_t tsc, ns, mult, max_delta;
	unsigned __int128 q;

	if (!c->usable)
		return;
	read_pair(&tsc, &ns);
	if (tsc <= c->anchor_tsc || ns <= c->anchor_ns + TSC_CAL_MIN_WINDOW_NS) {
		if (ns < c->anchor_ns) { /* stepped back: start again */
			c->anchor_tsc = tsc;
			c->anchor_ns = ns;
		}
		return;
	}
	q = ((unsigned __int128)(ns - c->anchor_ns) << SHM_TSC_SHIFT) / (tsc - c->anchor_tsc);
	mult = (uint64_t)q;
	if (q == 0 || q > UINT32_MAX * 1024ull) /* under 4 MHz: not a TSC */
		return;
	if (c->mult) {
		uint64_t diff = mult > c->mult ? mult - c->mult : c->mult - mult;

		if (diff > c->mult / 1000000 * TSC_CAL_JUMP_PPM) {
			/* The clock was stepped (or slewed hard) inside the
			 * window: keep the old rate, re-pin the base now. */
			mult = c->mult;
			c->anchor_tsc = tsc;
			c->anchor_ns = ns;
		}
	}
	c->mult = mult;
	max_delta = (uint64_t)(((unsigned __int128)TSC_CAL_VALID_NS << SHM_TSC_SHIFT) / mult);
	publish(c->hdr, tsc, ns, mult, max_delta);
	c->refreshes++;
}

void tsc_cal_tick(struct tsc_cal *c, uint64_t mono)
{
	if (!c->usable || mono < c->next_mono)
		return;
	c->next_mono = mono + REFRESH_NS;
	tsc_cal_refresh(c);
}
