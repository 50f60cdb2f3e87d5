/* SPDX-License-Identifier: MIT */
/*
 * The collector's view of the producer and thread tables: resources
 * built from producer entries (copied, then checked as untrusted; the
 * claimed identity checked against /proc once per entry, identity.h), the
 * liveness of writer threads (for claims left by dead writers), and the
 * reclamation of entries of processes and threads that are gone.
 * Collector thread only. Read drain.c next.
 */
#ifndef CORE_PRODUCERS_H
#define CORE_PRODUCERS_H

#include <stdint.h>

#include "config.h"
#include "pbuf.h"
#include "seg.h"

struct rec_ix {
	uint64_t time_ns;
	uint32_t off; /* of the encoded LogRecord in resource.recs */
	uint32_t len;
};

/* One producer process as OTLP sees it. Lives while records of it are
 * pending in the batch, even after its table entry was reused. */
struct resource {
	uint32_t idx;
	uint32_t gen;
	uint32_t pid;
	uint64_t start_ticks;
	char service[160];
	char exe[64];
	struct pbuf enc;      /* Resource message fields (attributes) */
	struct pbuf recs;     /* pending LogRecord messages, back to back */
	struct rec_ix *ix;    /* one per pending record */
	uint32_t nix, capix;
	int unsorted;         /* a pending record is older than one before it */
	int pending;          /* on the batch's pending list */
	int retired;          /* no longer in the table: free once flushed */
	struct resource *next_pending;
};

/* What the collector decided about a producer entry (one generation). */
enum producer_verdict {
	PV_NONE = 0,    /* not looked at yet */
	PV_OK,          /* /proc agrees with its claim (or the check is off) */
	PV_UNVERIFIED,  /* /proc does not show its pid; accepted by configuration */
	PV_REFUSED,     /* forged, or unverifiable and refused: records not exported */
	PV_NR           /* count sentinel */
};

struct producer_seen {
	uint32_t gen;   /* the entry generation this is about */
	uint32_t pid;
	uint32_t uid;
	uint8_t verdict; /* enum producer_verdict */
	char exe[64];
};

struct audit;

struct producers {
	struct seg *seg;
	const struct shmlog_config *cfg;
	char host[256];
	struct resource **cur;   /* by producer index: the resource of the live entry */
	uint8_t *dying;          /* by producer index: death seen, waiting for its records */
	uint64_t *snap;          /* [idx * nrings + k]: head of ring k when death was seen */
	struct producer_seen *seen; /* by producer index */
	struct audit *audit;     /* NULL: no audit events */
	const char *proc_root;   /* "/proc" (tests: a fixture tree) */
	uint32_t seg_uid, seg_gid, seg_mode; /* who may open the segment */
	uint64_t refused_producers;
	uint64_t freed_producers;
	uint64_t freed_threads;
	uint32_t live;
};

int producers_init(struct producers *p, struct seg *seg, const struct shmlog_config *cfg);
void producers_fini(struct producers *p);

/*
 * The resource of producer idx whose generation's low 16 bits are pgen,
 * or NULL if the entry is not READY, the generation differs, the entry
 * does not validate, or its identity is refused. Builds and caches it on
 * first use; the first look at an entry checks its claimed identity
 * against /proc (cfg->coll_verify_producers) and emits its attached or
 * refused audit event.
 */
struct resource *producers_get_slow(struct producers *p, uint32_t idx, uint16_t pgen);

/* producers_get_slow() with its common case inline (the drain asks once
 * per record): the cached resource of that generation. */
static inline struct resource *producers_get(struct producers *p, uint32_t idx, uint16_t pgen)
{
	struct resource *r;

	if (idx < p->seg->max_producers) {
		r = p->cur[idx];
		if (r && (uint16_t)r->gen == pgen)
			return r;
	}
	return producers_get_slow(p, idx, pgen);
}

/*
 * Whether records of producer idx (generation low bits pgen) are refused:
 * the entry's claimed identity did not check out (identity.h). For the
 * drain, to count such records apart from malformed ones. 1 or 0.
 */
int producers_refused(const struct producers *p, uint32_t idx, uint16_t pgen);

/*
 * Whether thread-table entry owner still belongs to a running thread
 * (/proc/<tid>/stat exists, is not a zombie, and its start time matches).
 * A stopped thread is alive. 0 dead, 1 alive.
 */
int producers_owner_alive(struct producers *p, uint32_t owner);

/*
 * Once a second: looks at new READY entries (identity check, attached or
 * refused event, as producers_get()), frees thread entries of dead
 * threads that have no claim left in a ring, and producer entries of dead
 * processes whose records have all been read (cursors[] of every ring
 * past the head seen at death; a detached event for an accepted one).
 * heads[k]: the current head of ring k (drain_head()).
 * claimed_by(ctx, owners): clears owners[o] for each owner o that still
 * has a claim pending in some ring.
 */
void producers_gc(struct producers *p, const uint64_t *cursors, const uint64_t *heads,
		  int (*claimed_by)(void *ctx, uint8_t *owners), void *ctx);

/* Frees a retired resource once it has nothing pending. */
void resource_release(struct resource *r);

#endif
