/* SPDX-License-Identifier: MIT */
/*
 * The collector's side of the ring protocol (shm_abi.h, ABI.md): read
 * published records in position order, validate them as untrusted input,
 * hand log records to the batch, skip claims of dead writers, and release
 * slots only once the records they held are in a fsynced spool file.
 * Collector thread only. Read log_batch.c and spool_writer.c next.
 */
#ifndef CORE_DRAIN_H
#define CORE_DRAIN_H

#include <stdint.h>

#include "log_batch.h"
#include "producers.h"
#include "seg.h"

struct drain_ring {
	uint64_t cursor;      /* next position to read (a record boundary) */
	uint64_t released;    /* positions below are released (== rh_tail) */
	uint64_t wait_pos;    /* position of an unpublished claim we wait on */
	uint64_t wait_since;  /* CLOCK_MONOTONIC ns it was first seen */
	uint64_t wait_check;  /* when its owner was last checked */
	uint64_t mapplied;    /* metric records below are in the aggregation */
	uint64_t records, invalid, abandoned;
};

struct metrics;

struct drain {
	struct seg *seg;
	struct producers *prod;
	struct log_batch *batch;
	struct metrics *metrics;  /* metric records go here; NULL: refused */
	struct drain_ring *rings;
	unsigned char *buf;       /* one record, copied out of the ring */
	uint64_t dead_check_ns;   /* liveness of a waiting claim's owner, at most this often */
	uint64_t records, invalid, abandoned;
	uint64_t refused;         /* records of producers whose identity was refused */
};

/* Starts every ring at its rh_tail: records not yet released are read
 * again (they may already be in a spool file: duplicates, never loss). */
int drain_init(struct drain *d, struct seg *seg, struct producers *prod,
	       struct log_batch *batch, uint32_t dead_check_ms);
void drain_fini(struct drain *d);

/*
 * Reads ring k from its cursor until it meets an unpublished or free
 * word, or max log records were taken. Returns log records taken (valid
 * ones); metric records are folded into d->metrics on the way.
 */
uint32_t drain_ring(struct drain *d, uint32_t k, uint64_t now_ns, uint64_t mono_ns,
		    uint32_t max);

/* Positions ring k holds that are read but not released, and unread
 * published ones up to the head, as a fraction of its size in percent. */
uint32_t drain_fill_pct(struct drain *d, uint32_t k);

/* The head of ring k: the end of the chain of claimed records. */
uint64_t drain_head(struct drain *d, uint32_t k);

/* Releases positions of ring k below upto (a record boundary at or
 * below the cursor): FREE words, then the tail store-release. */
void drain_release(struct drain *d, uint32_t k, uint64_t upto);

/* For producers_gc(): clears owners[o] for owners of records not yet
 * read (claimed or published). */
int drain_claimed_by(void *ctx, uint8_t *owners);

#endif
