/* SPDX-License-Identifier: MIT */
/*
 * Log records on their way from the rings to a spool file: each record
 * drained is validated and encoded at once as an OTLP LogRecord into its
 * resource's pending buffer; a flush assembles one
 * ExportLogsServiceRequest (one ResourceLogs per resource, records in
 * time order) and empties the batch. Collector thread only.
 */
#ifndef CORE_LOG_BATCH_H
#define CORE_LOG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"
#include "producers.h"
#include "shm_abi.h"

struct log_batch {
	struct resource *pending; /* resources with records, a list */
	uint32_t records;
	size_t bytes;
	uint64_t first_ns; /* CLOCK_MONOTONIC of the oldest pending record */
};

void log_batch_init(struct log_batch *b);
void log_batch_fini(struct log_batch *b);

/*
 * Validates the log payload of a record (rec: rec_len bytes, header
 * already checked by the drain) and appends it to r's pending records.
 * observed_ns: when the collector read it. Returns 0, -EBADMSG for a
 * malformed payload (nothing appended), -ENOMEM.
 */
int log_batch_add(struct log_batch *b, struct resource *r, const unsigned char *rec,
		  uint32_t rec_len, uint64_t observed_ns, uint64_t mono_ns);

/*
 * Appends one LogRecord already encoded by the collector itself (an
 * audit event, audit.c) to r's pending records: len bytes of rec, the
 * record's fields without its tag. Returns 0 or -ENOMEM (nothing
 * appended).
 */
int log_batch_append(struct log_batch *b, struct resource *r, const unsigned char *rec,
		     size_t len, uint64_t time_ns, uint64_t mono_ns);

/*
 * Encodes every pending record as one ExportLogsServiceRequest into out
 * (appending), sets *nrecords, and empties the batch (retired resources
 * are freed). Returns 0 or -ENOMEM (the batch is emptied all the same;
 * the caller must not release the ring slots then).
 */
int log_batch_encode(struct log_batch *b, struct pbuf *out, uint32_t *nrecords);

#endif
