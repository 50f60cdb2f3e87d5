/* SPDX-License-Identifier: MIT */
/*
 * <spool>/exporter.status: the exporter's counters and last outcome, for
 * shmtop and operators. The file is "key=value\n" lines, replaced
 * atomically (write a temporary file, rename), at most once per second,
 * at once after a request is dropped or a file quarantined, and at exit.
 * The counters are totals of the spool, not of one exporter process: a
 * restarted exporter continues those the last one wrote
 * (status_carry()); after a SIGKILL the sent_* and retries counts lack
 * what the last second added, the losses (dropped_*, quarantined_files)
 * lack nothing. Keys, in order:
 *   pid, updated_unix_ms, endpoint (credentials and query removed),
 *   protocol (http/protobuf, http/json, grpc, file/json), compression,
 *   last_http_status (0 none yet, -1 connection error), last_grpc_status
 *   (grpc: the last call's gRPC status code, from grpc-status or mapped
 *   from the HTTP status, 14 UNAVAILABLE for a connection error; -1 none
 *   yet or not grpc), last_error, last_latency_ms, sent_requests,
 *   sent_records, retries, dropped_requests, dropped_records, rejected_records,
 *   quarantined_files, spool_files, spool_bytes, auth_failures (answers 401 or 403),
 *   last_auth_status (the last of them; 0 none), last_auth_unix_ms,
 *   latency_ms_bounds,
 *   latency_ms_buckets, latency_ms_count, latency_ms_sum (a cumulative
 *   histogram of request latencies, answered or not, for the collector's
 *   shmlog.exporter.latency metric), metrics_endpoint, metrics_protocol,
 *   metrics_compression. endpoint, protocol and compression are those of
 *   logs; the metrics_* keys those of metrics (the same unless per-signal
 *   options differ).
 * Owned by the exporter's single thread; not thread-safe.
 */
#ifndef EXPORTER_STATUS_H
#define EXPORTER_STATUS_H

#include <limits.h>
#include <stdint.h>

#define STATUS_FILE "exporter.status"
#define STATUS_INTERVAL_MS 1000
#define STATUS_LATENCY_NBOUNDS 13
extern const double status_latency_bounds[STATUS_LATENCY_NBOUNDS];

struct status {
	char path[PATH_MAX];
	char endpoint[512]; /* already redacted */
	char protocol[32];
	char compression[16];
	char metrics_endpoint[512]; /* already redacted */
	char metrics_protocol[32];
	char metrics_compression[16];
	int last_http_status; /* 0: none yet, -1: connection error */
	int last_grpc_status; /* -1: none yet, or not grpc */
	char last_error[160]; /* short; never a header value */
	double last_latency_ms;
	uint64_t sent_requests;
	uint64_t sent_records;
	uint64_t retries;
	uint64_t dropped_requests;
	uint64_t dropped_records;
	uint64_t rejected_records;
	uint64_t quarantined_files;
	uint64_t spool_files;
	uint64_t spool_bytes;
	uint64_t auth_failures;     /* answers 401 or 403 */
	int last_auth_status;       /* the last of them; 0: none */
	uint64_t last_auth_unix_ms; /* CLOCK_REALTIME of the last of them */
	uint64_t written_ms; /* monotonic time of the last write, 0 = never */
	uint64_t latency_buckets[STATUS_LATENCY_NBOUNDS + 1];
	uint64_t latency_count;
	double latency_sum;
};

/* Counts one request's latency in the histogram. */
void status_latency(struct status *st, double ms);

/* Zeroes st and sets the path and the fixed fields. endpoint is redacted
 * here. Returns 0 or -ENAMETOOLONG. */
int status_init(struct status *st, const char *spool_dir, const char *endpoint,
		const char *protocol, const char *compression);

/* Continues the counters of the status file in spool_dir that an earlier
 * exporter wrote: sent_*, retries, dropped_*, rejected_records,
 * quarantined_files, and the latency histogram when its bounds are ours.
 * Nothing when there is none or it does not parse. */
void status_carry(struct status *st, const char *spool_dir);
/* Sets endpoint, protocol and compression (the logs signal's) after a
 * reload; the counters stay. endpoint is redacted here. */
void status_set_logs(struct status *st, const char *endpoint, const char *protocol,
		     const char *compression);

/* Sets the metrics_* fields (status_init() copies the logs ones there);
 * endpoint is redacted here. */
void status_set_metrics(struct status *st, const char *endpoint, const char *protocol,
			const char *compression);
/* Counts an authentication failure (HTTP 401 or 403; other codes are
 * ignored) for the collector's shmlog.exporter.auth_failed event. */
void status_auth_failure(struct status *st, long http_status);

/* Sets last_error (printf-style, truncated to fit). */
void status_set_error(struct status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the file now. now_ms: monotonic milliseconds. 0 or -errno. */
int status_write(struct status *st, uint64_t now_ms);

/* Writes the file when STATUS_INTERVAL_MS have passed since the last
 * write; 0 when nothing was due, else as status_write(). */
int status_tick(struct status *st, uint64_t now_ms);

#endif
