/* SPDX-License-Identifier: MIT */
/*
 * The inlined start of every record of libshmlog.so (lib_log.c,
 * lib_metric.c): the thread's cached attachment, the record's time (TSC
 * through the collector's calibration, shm/tsc.h, else CLOCK_REALTIME),
 * this CPU's ring (the rseq area's cpu_id, else sched_getcpu()) and the
 * claim. Only the common case is here; whatever is rare (attaching,
 * registering, a full ring, the periodic re-attach check) is an out-of-
 * line call, so that the record path stays a few dozen instructions with
 * no call but memcpy. Nothing here touches errno; the slow paths keep it.
 * Read lib_int.h first.
 */
#ifndef SHM_LIB_HOT_H
#define SHM_LIB_HOT_H

#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>

#include "lib_int.h"
#include "ring_write.h"
#include "shm_atomic.h"
#include "tsc.h"

#define LIB_LIKELY(x) __builtin_expect(!!(x), 1)
#define LIB_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Attached and registered: the cached owner; else the slow lib_ready(). */
static inline int lib_ready_fast(struct lib_att **att)
{
	/* Both pair with the release stores in try_attach(). */
	if (LIB_LIKELY(shm_load_acquire(&lib.status) == LIB_ATTACHED)) {
		struct lib_att *a = shm_load_acquire(&lib.cur);

		if (LIB_LIKELY(lib_tls.owner >= 0 && lib_tls.att == a &&
			       lib_tls.epoch == a->epoch)) {
			*att = a;
			return lib_tls.owner;
		}
	}
	return lib_ready(att);
}

/* CLOCK_REALTIME ns of a record written through a. */
static inline uint64_t lib_rec_time(const struct lib_att *a)
{
	uint64_t ns;

	if (LIB_LIKELY(tsc_to_ns(a->seg.hdr, tsc_read(), &ns)))
		return ns;
	return lib_now_ns();
}

/* The CPU we run on: the kernel keeps it in our rseq area (glibc 2.35+
 * registers one per thread); without one, sched_getcpu(). */
static inline uint32_t lib_cpu(void)
{
	if (LIB_LIKELY(__rseq_size != 0)) {
		const struct rseq *rs =
		    (const struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
		/* The kernel rewrites it when it migrates us: a relaxed
		 * read of our own thread's word. */
		uint32_t cpu = __atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);

		if (LIB_LIKELY(cpu < 0x80000000u)) /* not -1 / -2 (unregistered) */
			return cpu;
	}
	return lib_cpu_slow();
}

/*
 * The start of a record: returns the owner index, *a and *now; or
 * -ENOTCONN (inert), or -ENOBUFS (no thread or producer entry, counted).
 */
static inline int lib_begin(struct lib_att **a, uint64_t *now)
{
	int owner = lib_ready_fast(a);

	if (LIB_UNLIKELY(owner < 0))
		return lib_refused(owner);
	*now = lib_rec_time(*a);
	if (LIB_UNLIKELY(*now >= shm_load_relaxed(&lib.next_check_ns)))
		lib_periodic(*now);
	return owner;
}

/*
 * Claims n slots for owner on this CPU's ring. Returns the ring (*pos
 * set), or, when that ring refuses, what lib_claim_full() returns.
 */
static inline struct shm_ring_hdr *lib_claim(struct lib_att *a, uint32_t n, uint32_t owner,
					     size_t len, uint64_t *pos)
{
	uint32_t ring = lib_cpu();
	struct shm_ring_hdr *r;

	if (LIB_UNLIKELY(ring >= a->seg.nrings))
		ring %= a->seg.nrings;
	r = seg_ring(&a->seg, ring);
	if (LIB_LIKELY(ring_claim(&a->seg, r, n, owner, pos) == 0))
		return r;
	return lib_claim_full(a, ring, n, owner, len, pos);
}

/* Start of the claimed record when its n slots do not wrap around the
 * end of the slot array (the common case: one pointer to write through),
 * else NULL (write it with ring_copy()). */
static inline unsigned char *lib_rec_ptr(const struct seg *s, struct shm_ring_hdr *r, uint64_t pos,
					 uint32_t n)
{
	uint64_t slot = pos & ((uint64_t)s->slots - 1);

	if (LIB_UNLIKELY(slot + n > s->slots))
		return NULL;
	return seg_ring_slots(s, r) + slot * SHM_ABI_SLOT_SIZE;
}

#endif
