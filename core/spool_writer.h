/* SPDX-License-Identifier: MIT */
/*
 * Writing OTLP requests into the spool through the io_uring loop: each
 * request becomes <spool>/<signal>/.tmp-<seq>, written, fsynced, renamed
 * to <seq>.pb and the directory fsynced, as one linked chain. Requests
 * complete in order: when the oldest one is durable, its release
 * callback frees the ring slots its records came from (S3). A failed
 * write (disk full, I/O error) is retried every second; meanwhile the
 * rings keep the records. The byte budget ([spool] max_bytes) is kept by
 * deleting the oldest requests, counted, and so is a full filesystem
 * (ENOSPC): the oldest requests make room for the new one. Files the
 * exporter has claimed (spool_claim_file()) are never deleted. Collector
 * thread only.
 */
#ifndef CORE_SPOOL_WRITER_H
#define CORE_SPOOL_WRITER_H

#include <stdint.h>

#include "loop.h"
#include "pbuf.h"
#include "spool_file.h"

/* Called once the request is durable, in submission order. */
typedef void (*spool_done_fn)(void *ctx, enum spool_signal sig, const uint64_t *release,
			      uint32_t nrecords);

struct spool_req;

#define SPOOL_SPARE_NR 8 /* payload buffers kept for reuse, at most */

struct spool_writer {
	struct loop *loop;
	char dir[4096];
	int dirfd[SPOOL_SIG_NR];
	uint64_t last_seq;
	uint64_t max_bytes;
	uint32_t nrings;
	spool_done_fn done;
	void *ctx;
	struct spool_req *head, *tail; /* FIFO, oldest first */
	uint32_t inflight;
	uint64_t retry_at_ns;
	uint64_t need_room; /* bytes to free at the next tick (disk full) */
	int last_err;	    /* -errno of the last failed write, 0 after a success */
	/* accounting */
	uint64_t files, bytes;            /* in the spool at the last scan + since */
	uint64_t written_files, written_records;
	uint64_t dropped_files, dropped_records; /* deleted by the budget or a full disk */
	uint64_t dropped_records_sig[SPOOL_SIG_NR]; /* dropped_records by signal */
	uint64_t errors; /* failed write attempts (each retried) */
	/* The memory of written requests' payloads, handed back to the
	 * submitters (several: a turn may flush several requests before any
	 * completes): a request is built in memory that is already mapped,
	 * not in fresh pages that fault in, one by one, at every flush. */
	struct pbuf spare[SPOOL_SPARE_NR];
	uint32_t nspare;
	size_t spare_bytes; /* capacity of them all */
};

int spool_writer_init(struct spool_writer *w, struct loop *loop, const char *dir,
		      uint64_t max_bytes, uint32_t nrings, spool_done_fn done, void *ctx);
void spool_writer_fini(struct spool_writer *w);

/*
 * Takes payload (moved: the writer owns its memory afterwards, payload is
 * left empty, with the memory of an earlier request's payload when the
 * writer has one to give back: pbuf_fini() it or build the next request
 * in it) and submits it. release[nrings]: ring positions to release
 * when durable. 0 or -errno (nothing submitted; the caller keeps its
 * slots and may retry later).
 */
int spool_writer_submit(struct spool_writer *w, enum spool_signal sig, struct pbuf *payload,
			uint32_t nrecords, const uint64_t *release);

/* Resubmits failed requests whose retry time has come; rescans the spool
 * size and enforces the budget. Call about once a second. */
void spool_writer_tick(struct spool_writer *w, uint64_t mono_ns);

/* Requests not yet durable. */
static inline uint32_t spool_writer_pending(const struct spool_writer *w)
{
	return w->inflight;
}

#endif
