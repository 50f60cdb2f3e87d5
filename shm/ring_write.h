/* SPDX-License-Identifier: MIT */
/*
 * The producer's side of the ring protocol (shm_abi.h, ABI.md): claim a
 * run of slots with one compare-and-swap that names the owner, copy the
 * record in, publish it with one release store. Header-only so the hot
 * path inlines into the record writers. No system call, no lock, no
 * allocation; async-signal-safe (a handler's record is its own claim).
 *
 *   claim:   ctl[h] FREE(lap(h)-1) --CAS--> CLAIMED(lap(h), n, owner)
 *   copy:    slot bytes of positions h .. h+n-1 (wrapping)
 *   publish: ctl[h] = PUBLISHED(lap(h), n, owner)       (release)
 */
#ifndef SHM_RING_WRITE_H
#define SHM_RING_WRITE_H

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seg.h"
#include "shm_abi.h"
#include "shm_atomic.h"

/* futex(2) wake of one waiter on a word in shared memory (not private:
 * the collector is another process). errno kept: the record path does
 * not save it. */
static inline void ring_futex_wake(uint32_t *word)
{
	int saved = errno;

	(void)syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	errno = saved;
}

/* Steps a claim may take (walking claimed records, lost CASes) before it
 * gives up and the record is dropped and counted: bounds the time a
 * writer can spend against a hostile or very busy ring. */
#define RING_MAX_STEPS 4096

/*
 * Claims n (1..SHM_CTL_MAX_NSLOTS) slots on ring r for owner.
 * Returns 0 and *pos, -ENOBUFS when the ring lacks n free slots, -EAGAIN
 * when RING_MAX_STEPS were not enough.
 */
static inline int ring_claim(const struct seg *s, struct shm_ring_hdr *r, uint32_t n,
			     uint32_t owner, uint64_t *pos)
{
	uint64_t *ctl = seg_ring_ctl(s, r);
	uint64_t mask = (uint64_t)s->slots - 1;
	uint64_t t, h, w;

	/* Pairs with the release store of rh_tail in drain_release(): the
	 * collector's FREE stores to ctl[] are visible once we see tail. */
	t = shm_load_acquire(&r->rh_tail);
	h = shm_load_relaxed(&r->rh_hint); /* a hint only: validated below */
	if (h < t)
		h = t;
	for (int step = 0; step < RING_MAX_STEPS; step++) {
		uint32_t lap = seg_lap(s, h);

		/* Pairs with the CAS or the publish release of the writer that
		 * owns position h: we read its n only to walk past it. */
		w = shm_load_acquire(&ctl[h & mask]);
		if (SHM_CTL_LAP(w) == lap && (SHM_CTL_STATE(w) == SHM_CTL_CLAIMED ||
					      SHM_CTL_STATE(w) == SHM_CTL_PUBLISHED)) {
			uint32_t k = SHM_CTL_NSLOTS(w);
			h += k ? k : 1; /* k == 0 only from a hostile writer */
			continue;
		}
		if (w == SHM_CTL_MAKE(lap - 1, SHM_CTL_FREE, 0, 0)) {
			if (h + n - t > s->slots) {
				t = shm_load_acquire(&r->rh_tail); /* as above */
				if (h < t) {
					h = t;
					continue;
				}
				if (h + n - t > s->slots)
					return -ENOBUFS;
			}
			/* The claim: names owner and length in the same
			 * instruction that takes the slot (no ownerless
			 * window). acq_rel: our payload stores stay after it. */
			if (shm_cas(&ctl[h & mask], &w, SHM_CTL_MAKE(lap, SHM_CTL_CLAIMED, n, owner))) {
				/* Plain store: it may regress when we were slow;
				 * readers validate it against ctl[] and rh_tail. */
				shm_store_relaxed(&r->rh_hint, h + n);
				*pos = h;
				return 0;
			}
			continue; /* lost the race: re-read the word */
		}
		/* A word of another lap: either the ring is full (the slot
		 * still holds last lap's record, not yet released), or h is
		 * behind the tail or came from a regressed hint. */
		t = shm_load_acquire(&r->rh_tail); /* as above */
		if (h >= t && h + n - t > s->slots)
			return -ENOBUFS;
		h = shm_load_relaxed(&r->rh_hint);
		if (h < t)
			h = t;
	}
	return -EAGAIN;
}

/* Copies len bytes at byte offset off of the record claimed at pos. */
static inline void ring_copy(const struct seg *s, struct shm_ring_hdr *r, uint64_t pos,
			     size_t off, const void *src, size_t len)
{
	unsigned char *slots = seg_ring_slots(s, r);
	size_t ringbytes = (size_t)s->slots * SHM_ABI_SLOT_SIZE;
	size_t at = (size_t)((pos & ((uint64_t)s->slots - 1)) * SHM_ABI_SLOT_SIZE) + off;

	if (at >= ringbytes)
		at -= ringbytes;
	if (at + len <= ringbytes) {
		memcpy(slots + at, src, len);
	} else {
		size_t first = ringbytes - at;
		memcpy(slots + at, src, first);
		memcpy(slots, (const char *)src + first, len - first);
	}
}

/* Publishes the record claimed at pos: every byte copied before is
 * visible to whoever load-acquires the word (drain_ring()). */
static inline void ring_publish(const struct seg *s, struct shm_ring_hdr *r, uint64_t pos,
				uint32_t n, uint32_t owner)
{
	uint64_t *ctl = seg_ring_ctl(s, r);

	shm_store_release(&ctl[pos & ((uint64_t)s->slots - 1)],
			  SHM_CTL_MAKE(seg_lap(s, pos), SHM_CTL_PUBLISHED, n, owner));
}

/*
 * After publishing n slots at pos: when this record took the ring past
 * a quarter full and the collector sleeps (sh_wake == 1), wake it. One
 * load on the hot path; the system call only at the crossing, and only by
 * the one writer whose CAS takes the flag.
 */
static inline void ring_maybe_wake(const struct seg *s, struct shm_ring_hdr *r, uint64_t pos,
				   uint32_t n)
{
	uint64_t t = shm_load_relaxed(&r->rh_tail), hw = (uint64_t)s->slots >> SHM_WAKE_FILL_SHIFT;
	uint32_t one = 1;

	if (pos + n - t < hw || pos - t >= hw)
		return;
	/* Pairs with the collector's seq_cst store of 1 before it sleeps. */
	if (shm_load_acquire(&s->hdr->sh_wake) == 1 && shm_cas(&s->hdr->sh_wake, &one, 0))
		ring_futex_wake(&s->hdr->sh_wake);
}

#endif
