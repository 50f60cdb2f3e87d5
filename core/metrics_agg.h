/* SPDX-License-Identifier: MIT */
/*
 * Metric aggregation in the collector: each metric record drained from a
 * ring (series id and value) is checked against the segment's dictionary
 * (copied and validated once per instrument and series) and folded into
 * a cell per (series, resource group): sums, last values, explicit-bucket
 * histograms with count, sum, min and max. Every export interval the
 * cells become one ExportMetricsServiceRequest with the configured
 * temporality (OTLP exporter specification's table), and the sampled
 * host metrics (hostmetrics.h) join them. Collector thread only.
 *
 * Grouping ([metrics] grouping): per producer process (its resource), per
 * service.name (processes of one service merged), or per host. A
 * cardinality limit per instrument and group sends further attribute sets
 * to one overflow point (otel.metric.overflow = true).
 *
 * The numbers of each cell fed by records live in the segment (struct
 * shm_cell), so a collector that is killed and restarted goes on with the
 * same series, start times and delta state; each ring remembers up to
 * where its metric records were applied (rh_mapplied), so a record is
 * applied once even when the ring is read again (a record being applied
 * at the instant of a SIGKILL may be applied twice).
 */
#ifndef CORE_METRICS_AGG_H
#define CORE_METRICS_AGG_H

#include <stdint.h>

#include "config.h"
#include "pbuf.h"
#include "producers.h"
#include "seg.h"

struct metrics;

/* Takes up the aggregation cells a previous collector left in the
 * segment (same series, same start times). 0 or -ENOMEM. */
int metrics_create(struct metrics **out, struct seg *seg, struct producers *prod,
		   const struct shmlog_config *cfg, const char *host);
void metrics_destroy(struct metrics *m);

/*
 * Folds one metric record (rec: rec_len bytes, header already checked by
 * the drain) of producer resource res into its cell. 0, -EBADMSG (not a
 * valid series, kind or value: counted invalid by the caller), -ENOMEM.
 */
int metrics_add(struct metrics *m, struct resource *res, const unsigned char *rec,
		uint32_t rec_len);

/*
 * A sampled point of the collector's own (host, container, GPU, process,
 * the agent's counters): kind HM_* of hostmetrics.h; pid 0 = the agent's
 * resource, else that producer process's (when known). attrs: "k=v"
 * pairs as key/value arrays.
 */
void metrics_sample(struct metrics *m, const char *name, const char *unit, const char *desc,
		    int kind, double value, uint32_t pid, const char *const *keys,
		    const char *const *vals, int nattrs, uint64_t now_ns);

/* A sampled histogram whose totals are kept elsewhere (the exporter's
 * latency): cumulative buckets[nbounds + 1], count and sum; no min/max. */
void metrics_sample_histogram(struct metrics *m, const char *name, const char *unit,
			      const char *desc, const double *bounds, uint32_t nbounds,
			      const uint64_t *buckets, uint64_t count, double sum, uint64_t now_ns);

/*
 * Encodes every exportable point as one ExportMetricsServiceRequest into
 * out (appending) at time now_ns, advances delta state, and forgets
 * cells of producers that are gone. Sets *npoints; 0 or -ENOMEM.
 */
int metrics_encode(struct metrics *m, struct pbuf *out, uint64_t now_ns, uint32_t *npoints);

/* Measurements put into overflow points since start. */
uint64_t metrics_overflows(const struct metrics *m);

#endif
