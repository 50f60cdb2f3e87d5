/* SPDX-License-Identifier: MIT */
/*
 * The producer's clock: CLOCK_REALTIME computed from the TSC and the
 * calibration the collector publishes in the segment header (shm_abi.h,
 * sh_tsc_*; core/tsc_cal.c writes it). A record's time costs one rdtsc,
 * four loads from a read-mostly cache line and one multiply instead of a
 * clock_gettime() call. Header-only: it inlines into the record path of
 * libshmlog.so, and the unit tests use it as is.
 *
 * Whenever the calibration is absent (a 1.1 collector, a TSC the
 * collector does not trust), being rewritten, or older than
 * sh_tsc_max_delta ticks (a collector that died or was stopped), the
 * caller falls back to clock_gettime(): the time is never made up from a
 * calibration that may have drifted. Async-signal-safe, lock-free.
 */
#ifndef SHM_TSC_H
#define SHM_TSC_H

#include <stdint.h>

#include "shm_abi.h"
#include "shm_atomic.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#define SHM_HAVE_TSC 1

/* The TSC, unordered: a few ns of skew against neighbouring loads is far
 * below what the calibration promises (about 1 us). */
static inline uint64_t tsc_read(void)
{
	return __rdtsc();
}
#else
#define SHM_HAVE_TSC 0

static inline uint64_t tsc_read(void)
{
	return 0;
}
#endif

/*
 * Converts tsc (a tsc_read() taken by the caller) to CLOCK_REALTIME ns
 * with h's calibration. Returns 1 and *ns, or 0 when the calibration may
 * not be used (the caller then reads the clock itself).
 */
static inline int tsc_to_ns(const struct shm_seg_hdr *h, uint64_t tsc, uint64_t *ns)
{
	uint64_t s1, s2, base, base_ns, mult, max_delta, d;

	if (!SHM_HAVE_TSC)
		return 0;
	/* Pairs with the collector's release store of the even sequence:
	 * the fields it wrote before are visible. */
	s1 = shm_load_acquire(&h->sh_tsc_seq);
	base = shm_load_relaxed(&h->sh_tsc_base);
	base_ns = shm_load_relaxed(&h->sh_tsc_base_ns);
	mult = shm_load_relaxed(&h->sh_tsc_mult);
	max_delta = shm_load_relaxed(&h->sh_tsc_max_delta);
	/* Orders the field loads before the second read of the sequence:
	 * pairs with the collector's release fence after its odd store, so
	 * a rewrite that overlapped our loads changes what we read here. */
	atomic_thread_fence(memory_order_acquire);
	s2 = shm_load_relaxed(&h->sh_tsc_seq);
	d = tsc - base; /* wraps huge when tsc < base: rejected below */
	if (s1 != s2 || (s1 & 1) || s1 == 0 || d >= max_delta)
		return 0;
	*ns = base_ns + (uint64_t)(((unsigned __int128)d * mult) >> SHM_TSC_SHIFT);
	return 1;
}

#endif
