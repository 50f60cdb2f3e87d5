/* SPDX-License-Identifier: MIT */
/*
 * Retry policy of shmlog-exporter: which outcomes are retryable (OTLP/HTTP
 * rules, OTLP.md 1.4), the exponential back-off with jitter, and the
 * parsing of Retry-After. Pure functions, no I/O: exporter.c decides what
 * to do with the numbers. Read exporter.c next.
 */
#ifndef EXPORTER_RETRY_H
#define EXPORTER_RETRY_H

#include <stdint.h>
#include <time.h>

/* Cap on a server-requested delay: a Retry-After of days is a server bug
 * or an attack on our spool budget, not a plan. */
#define RETRY_AFTER_MAX_MS 300000u

struct retry_policy {
	uint32_t initial_ms;	 /* first back-off interval */
	uint32_t max_ms;	 /* cap on one interval */
	uint32_t max_elapsed_ms; /* give up after this long; 0 = never */
};

/*
 * 1 when a request that ended with this HTTP status must be retried, 0 when
 * it must not. http_status 0 means "no HTTP response" (could not connect,
 * connection dropped, timeout): retryable. Thread-safe.
 */
int retry_is_retryable(long http_status);

/*
 * Delay before retry number attempt (1 = the first retry): the interval
 * initial_ms * 2^(attempt-1), capped at max_ms, then jittered uniformly
 * into [interval/2, interval*3/2] by rnd (any 32-bit random number), and
 * capped at max_ms again. attempt 0 is treated as 1. Thread-safe.
 */
uint32_t retry_backoff_ms(const struct retry_policy *p, unsigned attempt, uint32_t rnd);

/*
 * Parses a Retry-After header value: delta-seconds ("120") or an HTTP-date
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"; the obsolete RFC 850 and
 * asctime forms too), relative to now (Unix seconds). Leading and trailing
 * blanks are ignored. A date in the past gives 0; anything larger than
 * RETRY_AFTER_MAX_MS is capped to it.
 * Returns 0 with *ms set, or -EINVAL for an empty or unparseable value.
 * Thread-safe.
 */
int retry_after_parse(const char *value, time_t now, uint32_t *ms);

#endif
