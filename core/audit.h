/* SPDX-License-Identifier: MIT */
/*
 * Audit events: log records the collector writes about itself, under the
 * agent's own resource (service.name from [resource] service_name and
 * host.name, as the self metrics), into the normal logs pipeline (batch,
 * spool, exporter). Each carries the `event.name` attribute and the
 * LogRecord event_name field, a readable body, a severity and attributes
 * (README "Audit events" lists them):
 *   shmlog.producer.attached / .detached (INFO), shmlog.producer.refused,
 *   shmlog.records.invalid, shmlog.exporter.auth_failed (WARN),
 *   shmlog.config.reloaded (INFO, WARN when the file was refused).
 * Counted events (invalid records, auth failures) are rate-limited: at
 * most one per ring (or per exporter) per [collector] audit_interval_ms,
 * carrying the count since the previous one, so a hostile producer cannot
 * flood the pipeline. [collector] audit_events = false turns them off.
 * Collector thread only. Read producers.c and collector.c next.
 */
#ifndef CORE_AUDIT_H
#define CORE_AUDIT_H

#include <stdint.h>

#include "config.h"
#include "exporter_status.h"
#include "log_batch.h"
#include "producers.h"

/* A monotonic counter reported at most once per interval. */
struct audit_rate {
	uint64_t reported; /* counter value the last report covered */
	uint64_t last_ns;  /* CLOCK_MONOTONIC of the last report; 0: none */
	int primed;        /* reported holds a baseline */
};

/*
 * Given the counter's current total, returns how much to report now
 * (since the last report), or 0 when nothing is new or the last report
 * is younger than interval_ns (the increase waits for a later call). A
 * total below the last one means the counter restarted (another exporter
 * process): counting starts again from 0. With baseline set, the first
 * call only records total (old counts are not reported).
 */
uint64_t audit_rate_take(struct audit_rate *r, uint64_t total, uint64_t mono_ns,
			 uint64_t interval_ns, int baseline);

enum audit_producer_event {
	AUDIT_ATTACHED = 0,
	AUDIT_DETACHED,
	AUDIT_REFUSED,
	AUDIT_PRODUCER_EVENT_NR /* count sentinel */
};

struct audit {
	const struct shmlog_config *cfg;
	struct log_batch *batch;
	struct resource *res;       /* the agent's resource; owned */
	uint32_t nrings;
	struct audit_rate *invalid; /* one per ring */
	struct audit_rate auth;
	struct pbuf rec;            /* scratch: the LogRecord being built */
	uint64_t events;            /* emitted */
	uint64_t lost;              /* not emitted: out of memory */
	uint64_t suppressed;        /* producer events over AUDIT_PRODUCER_BURST */
	uint64_t window_ns;         /* CLOCK_MONOTONIC start of the producer window */
	uint32_t window_events;     /* producer events in it */
};

/* At most this many producer events (attached, detached, refused) per
 * audit interval: entries are freed at most once a second each, but a
 * process churning through the table must not flood the pipeline either.
 * The rest are counted (shmlog.audit.suppressed) and logged once. */
#define AUDIT_PRODUCER_BURST 64

/* Sets up a (disabled or enabled, per cfg->coll_audit_events, read at
 * each emission) audit context. host: the host.name of every resource.
 * Returns 0 or -ENOMEM. */
int audit_init(struct audit *a, const struct shmlog_config *cfg, struct log_batch *batch,
	       const char *host, uint32_t nrings);
/* Frees the agent resource; call after the batch was emptied
 * (log_batch_fini). Accepts a zeroed struct. */
void audit_fini(struct audit *a);

/*
 * A producer entry attached, detached or was refused. exe: the
 * executable name (already a clean string); reason: why it was refused
 * (or why it is unverified), may be NULL; verified: /proc agreed with the
 * claim. now_ns: CLOCK_REALTIME, mono_ns: CLOCK_MONOTONIC.
 */
void audit_producer(struct audit *a, enum audit_producer_event ev, uint32_t slot, uint32_t pid,
		    uint32_t uid, const char *exe, const char *reason, int verified,
		    uint64_t now_ns, uint64_t mono_ns);

/*
 * Once a second: invalid records per ring (ring_invalid[k], monotonic
 * totals) and the exporter's authentication failures (st, NULL when
 * there is no status file), each rate-limited as above.
 */
void audit_tick(struct audit *a, const uint64_t *ring_invalid, const struct exporter_status *st,
		uint64_t now_ns, uint64_t mono_ns);

/*
 * SIGHUP: the configuration file was reloaded (ok) or refused (error:
 * its one-line message, which never holds a secret value). changed /
 * restart: comma-separated "section.key" lists (applied now / needing a
 * restart), possibly empty.
 */
void audit_config(struct audit *a, const char *file, int ok, const char *changed,
		  const char *restart, const char *error, uint64_t now_ns, uint64_t mono_ns);

#endif
