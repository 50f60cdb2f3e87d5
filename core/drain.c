/* SPDX-License-Identifier: MIT */
/*
 * Draining the rings (see drain.h). What the collector reads from shared
 * memory it never trusts:
 *  - a control word is used only if its lap is the cursor's and its
 *    length is 1..SHM_CTL_MAX_NSLOTS; anything else at the cursor is
 *    either "nothing yet" (FREE of the previous lap) or garbage;
 *  - a published record is copied out whole before any field is read, so
 *    a producer scribbling on it meanwhile cannot change what is checked;
 *  - the header's length must agree with the slot count, its producer
 *    with the owner's thread entry, its generation with the producer's.
 * Garbage at the cursor (a word of no known shape, a claim no thread
 * entry can own, a published word whose length disagrees with its header)
 * is skipped one slot at a time and counted as invalid; a free word at the
 * cursor with a record claimed beyond it (a hole garbage left) is skipped
 * to that record, and garbage ahead of a free cursor, which writers could
 * never claim, is freed (free_at_cursor()). None of them is waited on: a
 * hostile producer cannot stall a ring with them (tests/fault/
 * fault_hostile.py).
 */
#include "drain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics_agg.h"
#include "shm_atomic.h"

/* How long a claim may stay unpublished before its owner is looked up in
 * /proc: an honest writer publishes within microseconds. */
#define CLAIM_GRACE_NS 2000000ull

int drain_init(struct drain *d, struct seg *seg, struct producers *prod,
	       struct log_batch *batch, uint32_t dead_check_ms)
{
	memset(d, 0, sizeof(*d));
	d->seg = seg;
	d->prod = prod;
	d->batch = batch;
	d->dead_check_ns = (uint64_t)(dead_check_ms ? dead_check_ms : 1000) * 1000000ull / 4;
	d->rings = calloc(seg->nrings, sizeof(*d->rings));
	d->buf = malloc(SHM_REC_MAX_LEN);
	if (!d->rings || !d->buf) {
		drain_fini(d);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < seg->nrings; k++) {
		struct shm_ring_hdr *r = seg_ring(seg, k);
		uint64_t t = shm_load_relaxed(&r->rh_tail); /* we are its only writer */
		d->rings[k].cursor = t;
		d->rings[k].released = t;
		d->rings[k].mapplied = shm_load_relaxed(&r->rh_mapplied); /* ours alone */
		d->rings[k].wait_pos = UINT64_MAX;
	}
	return 0;
}

void drain_fini(struct drain *d)
{
	free(d->rings);
	free(d->buf);
	d->rings = NULL;
	d->buf = NULL;
}

/* Copies n slots starting at pos into d->buf (wrapping). */
static void copy_out(struct drain *d, struct shm_ring_hdr *r, uint64_t pos, uint32_t n)
{
	unsigned char *slots = seg_ring_slots(d->seg, r);
	uint64_t first = pos & ((uint64_t)d->seg->slots - 1);
	uint64_t till_end = d->seg->slots - first;
	size_t a = (n < till_end ? n : till_end) * (size_t)SHM_ABI_SLOT_SIZE;

	/* Metric records are one slot, short log records two: copies of a
	 * size known here are inline moves, not a call. */
	if (n == 1) {
		memcpy(d->buf, slots + first * SHM_ABI_SLOT_SIZE, SHM_ABI_SLOT_SIZE);
		return;
	}
	if (n == 2 && till_end >= 2) {
		memcpy(d->buf, slots + first * SHM_ABI_SLOT_SIZE, 2 * SHM_ABI_SLOT_SIZE);
		return;
	}
	memcpy(d->buf, slots + first * SHM_ABI_SLOT_SIZE, a);
	if (a < (size_t)n * SHM_ABI_SLOT_SIZE)
		memcpy(d->buf + a, slots, (size_t)n * SHM_ABI_SLOT_SIZE - a);
}

/* Whether the copied header's length needs exactly n slots. */
static int len_fits(const struct drain *d, uint32_t n)
{
	uint32_t len = ((const struct shm_rec_hdr *)d->buf)->rec_len;

	return len >= sizeof(struct shm_rec_hdr) && len <= (size_t)n * SHM_ABI_SLOT_SIZE &&
	       len > (size_t)(n - 1) * SHM_ABI_SLOT_SIZE;
}

/* Validates the copied record of n slots by owner; returns its resource
 * or NULL. */
static struct resource *check_record(struct drain *d, uint32_t n, uint32_t owner)
{
	const struct shm_rec_hdr *rh = (const void *)d->buf;
	struct shm_thread *te;
	uint32_t len = rh->rec_len;

	if (len < sizeof(*rh) || len > (size_t)n * SHM_ABI_SLOT_SIZE ||
	    len <= (size_t)(n - 1) * SHM_ABI_SLOT_SIZE ||
	    (rh->rec_type != SHM_REC_LOG && rh->rec_type != SHM_REC_METRIC))
		return NULL;
	if (owner >= d->seg->max_threads)
		return NULL;
	te = seg_thread(d->seg, owner);
	/* The owner's entry must name the record's producer. A thread entry
	 * is filled before its first claim (register_thread() release, our
	 * acquire of the claim word orders after it). */
	if (shm_load_relaxed(&te->te_producer) != rh->rec_producer ||
	    (uint16_t)shm_load_relaxed(&te->te_pgen) != rh->rec_pgen)
		return NULL;
	return producers_get(d->prod, rh->rec_producer, rh->rec_pgen);
}

/* Whether thread entry owner is taken and filled: a writer CASes te_tid,
 * fills the entry and store-releases te_ready before its first claim,
 * and the entry is freed only once no claim of its owner is pending. */
static int owner_possible(struct drain *d, uint32_t owner)
{
	struct shm_thread *te;

	if (owner >= d->seg->max_threads)
		return 0;
	te = seg_thread(d->seg, owner);
	/* Pairs with register_thread()'s release of te_ready. */
	return shm_load_relaxed(&te->te_tid) != 0 && shm_load_acquire(&te->te_ready) == 1;
}

/* Whether w at position q could be an honest record's word: of q's lap,
 * a length, an owner index in the table, and published (its owner may
 * have exited since) or claimed by an owner whose entry is taken. */
static int word_plausible(struct drain *d, uint64_t w, uint64_t q)
{
	uint32_t st = SHM_CTL_STATE(w);

	if (SHM_CTL_LAP(w) != seg_lap(d->seg, q) || SHM_CTL_NSLOTS(w) == 0 ||
	    SHM_CTL_NSLOTS(w) > d->seg->slots || SHM_CTL_OWNER(w) >= d->seg->max_threads)
		return 0;
	return st == SHM_CTL_PUBLISHED ||
	       (st == SHM_CTL_CLAIMED && owner_possible(d, SHM_CTL_OWNER(w)));
}

/* Words ahead of a free cursor that free_at_cursor() looks at, at least. */
#define AHEAD_WINDOW 1024u

/*
 * The cursor c of ring r reads FREE of the previous lap. Honestly that
 * means "nothing more yet": writers claim contiguously, so none has
 * claimed beyond c, and every position q below released + slots holds
 * FREE(lap(q) - 1) (its last lap was released) or a claim that is being
 * made now. Returns c in that case, or the position of a record claimed
 * beyond c: a hole at c (garbage took the first word of the record that
 * covered c, leaving its other slots' stale FREE words).
 * The words from c + 1 up to rh_hint (untrusted, bounded) or at least
 * AHEAD_WINDOW are looked at. A plausible record word there is the hole's
 * end; c is read again after its acquire (an honest writer claimed it
 * only after it walked past c's claim, or read the hint that claim's
 * writer stored after it), so a claim just made at c is not taken for a
 * hole. With no record word there, any other word that is not FREE is
 * garbage that no writer can claim (they CAS only from FREE): the ring
 * would stall on it until the cursor passed it and a release followed, so
 * it is put back to FREE now, counted invalid. The CAS from the garbage
 * value leaves alone a word that anyone changed meanwhile; garbage is
 * never freed inside a chain of claims (that would let a late writer
 * claim over the records after it).
 */
static uint64_t free_at_cursor(struct drain *d, struct shm_ring_hdr *r, struct drain_ring *dr,
			       uint64_t c)
{
	uint64_t *ctl = seg_ring_ctl(d->seg, r);
	uint64_t mask = (uint64_t)d->seg->slots - 1;
	uint64_t hint = shm_load_relaxed(&r->rh_hint);
	uint64_t end = dr->released + d->seg->slots, want = c + AHEAD_WINDOW;
	uint64_t free_c = SHM_CTL_MAKE(seg_lap(d->seg, c) - 1, SHM_CTL_FREE, 0, 0);
	int garbage = 0;

	if (hint > want)
		want = hint;
	if (end > want)
		end = want;
	for (uint64_t q = c + 1; q < end; q++) {
		/* As in drain_ring(): pairs with the claim CAS or publish. */
		uint64_t w = shm_load_acquire(&ctl[q & mask]);

		if (word_plausible(d, w, q)) {
			if (shm_load_acquire(&ctl[c & mask]) != free_c)
				return c; /* claimed meanwhile: read it next turn */
			return q;
		}
		if (w != SHM_CTL_MAKE(seg_lap(d->seg, q) - 1, SHM_CTL_FREE, 0, 0))
			garbage = 1;
	}
	if (!garbage)
		return c;
	for (uint64_t q = c + 1; q < end; q++) {
		uint64_t w = shm_load_acquire(&ctl[q & mask]); /* as above */

		if (w == SHM_CTL_MAKE(seg_lap(d->seg, q) - 1, SHM_CTL_FREE, 0, 0))
			continue;
		if (word_plausible(d, w, q))
			break; /* writers have come this far meanwhile: stop */
		if (shm_cas(&ctl[q & mask], &w,
			    SHM_CTL_MAKE(seg_lap(d->seg, q) - 1, SHM_CTL_FREE, 0, 0))) {
			dr->invalid++;
			d->invalid++;
		}
	}
	return c;
}

uint32_t drain_ring(struct drain *d, uint32_t k, uint64_t now_ns, uint64_t mono_ns,
		    uint32_t max)
{
	struct shm_ring_hdr *r = seg_ring(d->seg, k);
	struct drain_ring *dr = &d->rings[k];
	uint64_t *ctl = seg_ring_ctl(d->seg, r);
	uint64_t mask = (uint64_t)d->seg->slots - 1;
	uint32_t taken = 0;
	int ret = 0;

	while (taken < max) {
		uint64_t c = dr->cursor;
		uint32_t lap = seg_lap(d->seg, c);
		/* Pairs with ring_publish()'s release (or the claim CAS): the
		 * record's bytes are visible once we see PUBLISHED. */
		uint64_t w = shm_load_acquire(&ctl[c & mask]);
		uint32_t st = SHM_CTL_STATE(w), n = SHM_CTL_NSLOTS(w), owner = SHM_CTL_OWNER(w);
		struct resource *res;

		/* A whole ring read but not released: no writer can have gone
		 * further (its free-space check is against our release). */
		if (c - dr->released >= d->seg->slots)
			break;
		if (w == SHM_CTL_MAKE(lap - 1, SHM_CTL_FREE, 0, 0)) {
			uint64_t q = free_at_cursor(d, r, dr, c);

			if (q == c)
				break; /* nothing more yet */
			/* A free word below a claimed one: no honest writer
			 * leaves that (the chain is contiguous); a garbage word
			 * took the first slot of the record that spanned it.
			 * Skip to the next record, counted as one invalid. */
			LOGD("drain: ring %u positions %llu..%llu: a hole before a record, skipped",
			     k, (unsigned long long)c, (unsigned long long)q - 1);
			dr->cursor = q;
			dr->invalid++;
			d->invalid++;
			continue;
		}
		if (SHM_CTL_LAP(w) != lap || n == 0 || n > d->seg->slots ||
		    (st != SHM_CTL_CLAIMED && st != SHM_CTL_PUBLISHED)) {
			/* No honest writer leaves this: skip one slot. */
			dr->cursor++;
			dr->invalid++;
			d->invalid++;
			continue;
		}
		if (st == SHM_CTL_CLAIMED && !owner_possible(d, owner)) {
			/* No writer can publish this claim: its owner index
			 * names no entry (garbage), or its entry is free (the
			 * thread exited, or garbage: a writer fills and
			 * releases its entry before its first claim). Nothing
			 * to wait for; its length is untrusted: one slot, and
			 * free_at_cursor() finds the next record. */
			dr->cursor++;
			if (owner >= d->seg->max_threads) {
				dr->invalid++;
				d->invalid++;
			} else {
				dr->abandoned++;
				d->abandoned++;
			}
			dr->wait_pos = UINT64_MAX;
			continue;
		}
		if (st == SHM_CTL_CLAIMED) {
			if (dr->wait_pos != c) {
				dr->wait_pos = c;
				dr->wait_since = mono_ns;
				dr->wait_check = 0;
			}
			if (mono_ns - dr->wait_since < CLAIM_GRACE_NS ||
			    mono_ns - dr->wait_check < d->dead_check_ns)
				break;
			dr->wait_check = mono_ns;
			if (producers_owner_alive(d->prod, owner))
				break; /* running or stopped: wait (RING.md L2) */
			/* Its writer is gone: it can never publish (S2). */
			LOGD("drain: ring %u position %llu: owner %u died mid-record, skipped", k,
			     (unsigned long long)c, owner);
			dr->cursor += n;
			dr->abandoned++;
			d->abandoned++;
			dr->wait_pos = UINT64_MAX;
			continue;
		}
		dr->wait_pos = UINT64_MAX;
		copy_out(d, r, c, n);
		dr->cursor += n;
		res = check_record(d, n, owner);
		if (!res && !len_fits(d, n)) {
			/* The word's length disagrees with the header it points
			 * at: a forged word over another record, whose length
			 * says nothing about where the next record starts. One
			 * slot; a hole behind it is found by free_at_cursor(). */
			dr->cursor = c + 1;
		}
		if (res) {
			const struct shm_rec_hdr *rh = (const void *)d->buf;

			if (rh->rec_type == SHM_REC_METRIC && c < dr->mapplied) {
				continue; /* in the aggregation already (read again) */
			} else if (rh->rec_type == SHM_REC_METRIC) {
				ret = d->metrics ? metrics_add(d->metrics, res, d->buf, rh->rec_len)
						 : -EBADMSG;
				dr->mapplied = c + n;
				/* Only the collector reads it, at its next start. */
				shm_store_relaxed(&r->rh_mapplied, dr->mapplied);
			} else
				ret = log_batch_add(d->batch, res, d->buf, rh->rec_len, now_ns,
						    mono_ns);
		}
		if (!res && producers_refused(d->prod, ((const struct shm_rec_hdr *)d->buf)->rec_producer,
					      ((const struct shm_rec_hdr *)d->buf)->rec_pgen)) {
			d->refused++; /* well formed maybe, but not exported: counted apart */
			continue;
		}
		if (!res || ret != 0) {
			dr->invalid++;
			d->invalid++;
			continue;
		}
		dr->records++;
		d->records++;
		if (((const struct shm_rec_hdr *)d->buf)->rec_type == SHM_REC_LOG)
			taken++;
	}
	shm_store_relaxed(&r->rh_cursor, dr->cursor);
	shm_store_relaxed(&r->rh_records, dr->records);
	shm_store_relaxed(&r->rh_invalid, dr->invalid);
	shm_store_relaxed(&r->rh_abandoned, dr->abandoned);
	return taken;
}

/* Follows the chain of claimed and published records of ring k from the
 * cursor (bounded: one ring's worth); returns where it ends, the head.
 * With owners, clears owners[o] for the owner of each record met. */
static uint64_t walk_chain(struct drain *d, uint32_t k, uint8_t *owners)
{
	struct shm_ring_hdr *r = seg_ring(d->seg, k);
	uint64_t *ctl = seg_ring_ctl(d->seg, r);
	uint64_t mask = (uint64_t)d->seg->slots - 1;
	uint64_t h = d->rings[k].cursor;

	for (uint32_t i = 0; i < d->seg->slots; i++) {
		uint64_t w = shm_load_acquire(&ctl[h & mask]); /* as in drain_ring() */
		uint32_t st = SHM_CTL_STATE(w), n = SHM_CTL_NSLOTS(w);

		if (SHM_CTL_LAP(w) != seg_lap(d->seg, h) || n == 0 ||
		    (st != SHM_CTL_CLAIMED && st != SHM_CTL_PUBLISHED))
			break;
		if (owners && SHM_CTL_OWNER(w) < d->seg->max_threads)
			owners[SHM_CTL_OWNER(w)] = 0;
		h += n;
	}
	return h;
}

uint64_t drain_head(struct drain *d, uint32_t k)
{
	return walk_chain(d, k, NULL);
}

uint32_t drain_fill_pct(struct drain *d, uint32_t k)
{
	struct shm_ring_hdr *r = seg_ring(d->seg, k);
	uint64_t hint = shm_load_relaxed(&r->rh_hint), used;

	if (hint < d->rings[k].cursor)
		hint = d->rings[k].cursor;
	used = hint - d->rings[k].released;
	if (used > d->seg->slots)
		used = d->seg->slots;
	return (uint32_t)(used * 100 / d->seg->slots);
}

void drain_release(struct drain *d, uint32_t k, uint64_t upto)
{
	struct shm_ring_hdr *r = seg_ring(d->seg, k);
	struct drain_ring *dr = &d->rings[k];
	uint64_t *ctl = seg_ring_ctl(d->seg, r);
	uint64_t mask = (uint64_t)d->seg->slots - 1;

	if (upto > dr->cursor)
		upto = dr->cursor;
	for (uint64_t p = dr->released; p < upto;) {
		/* One FREE word per lap: positions of a lap share p >> shift
		 * (slots = 1 << shift). */
		uint64_t lap_end = ((p >> d->seg->shift) + 1) << d->seg->shift;
		uint64_t e = upto < lap_end ? upto : lap_end;
		uint64_t fw = SHM_CTL_MAKE(seg_lap(d->seg, p), SHM_CTL_FREE, 0, 0);

		for (; p < e; p++)
			shm_store_relaxed(&ctl[p & mask], fw);
	}
	if (upto > dr->released) {
		dr->released = upto;
		/* Publishes the FREE words above; pairs with the acquire of
		 * rh_tail in ring_claim(). */
		shm_store_release(&r->rh_tail, upto);
	}
}

int drain_claimed_by(void *ctx, uint8_t *owners)
{
	struct drain *d = ctx;

	/* Published records count too: they are checked against their
	 * owner's entry when read. */
	for (uint32_t k = 0; k < d->seg->nrings; k++)
		(void)walk_chain(d, k, owners);
	return 0;
}
