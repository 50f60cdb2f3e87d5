/* SPDX-License-Identifier: MIT */
/*
 * The agent's own metrics (see self_metrics.h). Names are shmlog.*;
 * counts are monotonic sums of {record} or {request}, sizes are up-down
 * sums in By, the latency a histogram in ms.
 */
#include "self_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "exporter_status.h"
#include "hostmetrics.h"
#include "shm_atomic.h"

static void count(struct collector *c, const char *name, const char *unit, const char *desc,
		  uint64_t v, uint64_t now, const char *key, const char *val)
{
	const char *k[1] = { key }, *vv[1] = { val };

	metrics_sample(c->metrics, name, unit, desc, HM_COUNTER, (double)v, 0, k, vv, key ? 1 : 0,
		       now);
}

static void level(struct collector *c, const char *name, const char *unit, const char *desc,
		  uint64_t v, uint64_t now)
{
	metrics_sample(c->metrics, name, unit, desc, HM_UPDOWN, (double)v, 0, NULL, NULL, 0, now);
}

/* Entries of a dictionary table that are in use. */
static uint64_t dict_used(const struct seg *s, int series)
{
	uint32_t n = series ? s->max_series : s->max_instruments;
	uint64_t used = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t w = series ? shm_load_relaxed(&seg_series(s, i)->se_claim) :
				      shm_load_relaxed(&seg_instrument(s, i)->in_claim);
		used += w != 0;
	}
	return used;
}

/* The exporter's status file: requests by outcome, retries, latency. */
static void exporter_figures(struct collector *c, uint64_t now)
{
	struct exporter_status st;
	uint64_t total = 0;

	if (exporter_status_read(c->cfg->spool_dir, &st) != 0)
		return;
	count(c, "shmlog.exporter.requests", "{request}", "requests by outcome", st.sent_requests,
	      now, "outcome", "sent");
	count(c, "shmlog.exporter.requests", "{request}", "requests by outcome",
	      st.dropped_requests, now, "outcome", "dropped");
	count(c, "shmlog.exporter.requests", "{request}", "requests by outcome",
	      st.quarantined_files, now, "outcome", "quarantined");
	count(c, "shmlog.exporter.retries", "{request}", "attempts retried", st.retries, now, NULL,
	      NULL);
	count(c, "shmlog.exporter.records.rejected", "{record}",
	      "records the backend rejected (partial success)", st.rejected_records, now, NULL,
	      NULL);
	/* Use the histogram only if it adds up: the file is another
	 * process's. */
	if (st.latency_nbounds <= 0 || st.latency_nbuckets != st.latency_nbounds + 1)
		return;
	for (int i = 0; i < st.latency_nbuckets; i++)
		total += st.latency_buckets[i];
	for (int i = 1; i < st.latency_nbounds; i++)
		if (!(st.latency_bounds[i] > st.latency_bounds[i - 1]))
			return;
	if (total == st.latency_count)
		metrics_sample_histogram(c->metrics, "shmlog.exporter.latency", "ms",
					 "time from request to answer", st.latency_bounds,
					 (uint32_t)st.latency_nbounds, st.latency_buckets,
					 st.latency_count, st.latency_sum, now);
}

void self_metrics_sample(struct collector *c, uint64_t now)
{
	struct shm_seg_hdr *h = c->seg.hdr;
	char idx[16];

	count(c, "shmlog.records.read", "{record}", "records read from the rings",
	      c->drain.records, now, NULL, NULL);
	count(c, "shmlog.records.invalid", "{record}", "records that failed validation",
	      c->drain.invalid, now, NULL, NULL);
	count(c, "shmlog.records.abandoned", "{record}", "claims of dead writers skipped",
	      c->drain.abandoned, now, NULL, NULL);
	count(c, "shmlog.records.refused", "{record}",
	      "records of producers whose claimed identity was refused", c->drain.refused, now,
	      NULL, NULL);
	count(c, "shmlog.producers.refused", "{producer}",
	      "producer entries refused by the identity check", c->prod.refused_producers, now,
	      NULL, NULL);
	count(c, "shmlog.audit.events", "{event}", "audit log records emitted", c->audit.events,
	      now, NULL, NULL);
	count(c, "shmlog.audit.suppressed", "{event}",
	      "producer audit events over the per-interval limit, not emitted",
	      c->audit.suppressed, now, NULL, NULL);
	count(c, "shmlog.records.spooled", "{record}", "records written to the spool",
	      c->records_spooled, now, NULL, NULL);
	count(c, "shmlog.records.dropped.unregistered", "{record}",
	      "records dropped, producer table full", shm_load_relaxed(&h->sh_drop_noprod), now,
	      NULL, NULL);
	for (uint32_t k = 0; k < c->seg.nrings; k++) {
		snprintf(idx, sizeof(idx), "%u", k);
		count(c, "shmlog.records.dropped", "{record}", "records dropped, ring full",
		      shm_load_relaxed(&seg_ring(&c->seg, k)->rh_drops), now, "shmlog.ring", idx);
	}
	for (uint32_t i = 0; i < c->seg.max_producers; i++) {
		struct shm_producer *pe = seg_producer(&c->seg, i);
		uint64_t claim = shm_load_acquire(&pe->pe_claim); /* as in producers_get() */

		if (SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY ||
		    producers_refused(&c->prod, i, (uint16_t)shm_load_relaxed(&pe->pe_gen)))
			continue; /* a refused entry's pid may be another process's */
		metrics_sample(c->metrics, "shmlog.producer.records.dropped", "{record}",
			       "records this process dropped", HM_COUNTER,
			       (double)(shm_load_relaxed(&pe->pe_drops) +
					shm_load_relaxed(&pe->pe_drop_nothr)),
			       SHM_PE_CLAIM_PID(claim), NULL, NULL, 0, now);
		/* ABI 1.2 (SHMLOG_ON_FULL=wait:ms); 0 from older producers. */
		metrics_sample(c->metrics, "shmlog.producer.full.waits", "{record}",
			       "records this process waited for ring space for", HM_COUNTER,
			       (double)shm_load_relaxed(&pe->pe_full_waits), SHM_PE_CLAIM_PID(claim),
			       NULL, NULL, 0, now);
		metrics_sample(c->metrics, "shmlog.producer.full.wait_time", "ms",
			       "time this process waited for ring space", HM_COUNTER,
			       (double)shm_load_relaxed(&pe->pe_full_wait_ms), SHM_PE_CLAIM_PID(claim),
			       NULL, NULL, 0, now);
	}
	level(c, "shmlog.dictionary.instruments", "{instrument}", "instruments registered",
	      dict_used(&c->seg, 0), now);
	level(c, "shmlog.dictionary.series", "{series}", "series registered",
	      dict_used(&c->seg, 1), now);
	count(c, "shmlog.dictionary.refused", "{registration}", "registrations refused, full",
	      shm_load_relaxed(&h->sh_dict_full), now, NULL, NULL);
	count(c, "shmlog.metric.overflow", "{measurement}",
	      "measurements beyond the cardinality limit", metrics_overflows(c->metrics), now,
	      NULL, NULL);
	level(c, "shmlog.spool.bytes", "By", "bytes in the spool", c->spool.bytes, now);
	level(c, "shmlog.spool.files", "{file}", "requests in the spool", c->spool.files, now);
	count(c, "shmlog.spool.dropped", "{request}",
	      "requests dropped by the spool budget or a full disk",
	      c->spool.dropped_files, now, NULL, NULL);
	/* Per signal: a log record and a data point are not the same unit. */
	count(c, "shmlog.spool.records.dropped", "{record}",
	      "log records or data points in the requests the spool dropped",
	      c->spool.dropped_records_sig[SPOOL_SIG_LOGS], now, "signal", "logs");
	count(c, "shmlog.spool.records.dropped", "{record}",
	      "log records or data points in the requests the spool dropped",
	      c->spool.dropped_records_sig[SPOOL_SIG_METRICS], now, "signal", "metrics");
	count(c, "shmlog.spool.errors", "{error}", "spool writes that failed and were retried",
	      c->spool.errors, now, NULL, NULL);
	exporter_figures(c, now);
}
