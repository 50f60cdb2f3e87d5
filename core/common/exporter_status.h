/* SPDX-License-Identifier: MIT */
/*
 * The exporter's status file, <spool>/exporter.status ("key=value\n"
 * lines; exporter/status.h writes it), as readers see it.
 */
#ifndef CORE_COMMON_EXPORTER_STATUS_H
#define CORE_COMMON_EXPORTER_STATUS_H

#include <stddef.h>
#include <stdint.h>

#define EXPORTER_STATUS_MAX_BOUNDS 32

struct exporter_status {
	int present; /* 0: no readable status file; the rest is zero */
	uint32_t pid;
	int alive;
	uint64_t updated_unix_ms;
	char endpoint[512];
	char protocol[32];
	char compression[16];
	long long last_http_status;
	long long last_grpc_status; /* grpc: last call's status code; -1 none, not grpc */
	char last_error[160];
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
	uint64_t auth_failures;     /* answers 401 or 403, since the exporter started */
	long long last_auth_status; /* 401 or 403; 0: none */
	uint64_t last_auth_unix_ms; /* when the last one came */
	double latency_bounds[EXPORTER_STATUS_MAX_BOUNDS]; /* export latency histogram (ms) */
	int latency_nbounds;
	uint64_t latency_buckets[EXPORTER_STATUS_MAX_BOUNDS + 1];
	int latency_nbuckets;
	uint64_t latency_count;
	double latency_sum;
};

/* Parses a status file image of len bytes; unknown keys and malformed
 * lines are skipped, a last line without its newline ignored, values
 * bounded, strings cleaned. Sets present when any key was read. */
void exporter_status_parse(struct exporter_status *exp, const char *buf, size_t len);

/* Reads <dir>/exporter.status (see exporter_status.c for the care taken).
 * 0, or -errno / -ENODATA; exp is zeroed then filled. alive is left 0:
 * the caller decides how to check the pid. */
int exporter_status_read(const char *dir, struct exporter_status *exp);

#endif
