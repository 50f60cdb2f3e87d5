/* SPDX-License-Identifier: MIT */
/*
 * The agent's own metrics (see self_metrics.h). Names are shmlog.*;
 * counts are monotonic sums of {record} or {request}, sizes are up-down
 * sums in By, the latency a histogram in ms.
 */
#include "self_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "hostmetrics.h"
#include "shm_atomic.h"

#define LAT_MAX_BOUNDS 32

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

/* Parses "a,b,c" numbers into out (at most max); returns how many. */
static int parse_list(const char *p, double *out, int max)
{
	int n = 0;
	char *end;

	while (*p && n < max) {
		out[n++] = strtod(p, &end);
		if (end == p)
			return -1;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0' && *end != '\n')
			return -1;
		if (*end == '\n' || *end == '\0')
			break;
	}
	return n;
}

/* The exporter's status file: requests by outcome, retries, latency. */
static void exporter_figures(struct collector *c, uint64_t now)
{
	double bounds[LAT_MAX_BOUNDS], buckets[LAT_MAX_BOUNDS + 1], sum = 0;
	uint64_t b64[LAT_MAX_BOUNDS + 1], cnt = 0;
	int nb = -1, nk = -1;
	char path[4200], buf[4096], *line, *save = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/exporter.status", c->cfg->spool_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		const char *v;

		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "sent_requests") == 0)
			count(c, "shmlog.exporter.requests", "{request}", "requests by outcome",
			      strtoull(v, NULL, 10), now, "outcome", "sent");
		else if (strcmp(line, "dropped_requests") == 0)
			count(c, "shmlog.exporter.requests", "{request}", "requests by outcome",
			      strtoull(v, NULL, 10), now, "outcome", "dropped");
		else if (strcmp(line, "quarantined_files") == 0)
			count(c, "shmlog.exporter.requests", "{request}", "requests by outcome",
			      strtoull(v, NULL, 10), now, "outcome", "quarantined");
		else if (strcmp(line, "retries") == 0)
			count(c, "shmlog.exporter.retries", "{request}", "attempts retried",
			      strtoull(v, NULL, 10), now, NULL, NULL);
		else if (strcmp(line, "rejected_records") == 0)
			count(c, "shmlog.exporter.records.rejected", "{record}",
			      "records the backend rejected (partial success)",
			      strtoull(v, NULL, 10), now, NULL, NULL);
		else if (strcmp(line, "latency_ms_bounds") == 0)
			nb = parse_list(v, bounds, LAT_MAX_BOUNDS);
		else if (strcmp(line, "latency_ms_buckets") == 0)
			nk = parse_list(v, buckets, LAT_MAX_BOUNDS + 1);
		else if (strcmp(line, "latency_ms_count") == 0)
			cnt = strtoull(v, NULL, 10);
		else if (strcmp(line, "latency_ms_sum") == 0)
			sum = strtod(v, NULL);
	}
	/* The file is another process's: use the histogram only if it adds
	 * up. */
	if (nb > 0 && nk == nb + 1) {
		uint64_t total = 0;
		for (int i = 0; i < nk; i++) {
			b64[i] = buckets[i] >= 0 ? (uint64_t)buckets[i] : 0;
			total += b64[i];
		}
		for (int i = 1; i < nb; i++)
			if (!(bounds[i] > bounds[i - 1]))
				return;
		if (total == cnt)
			metrics_sample_histogram(c->metrics, "shmlog.exporter.latency", "ms",
						 "time from request to answer", bounds,
						 (uint32_t)nb, b64, cnt, sum, now);
	}
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
	count(c, "shmlog.records.spooled", "{record}", "records written to the spool",
	      c->records_spooled, now, NULL, NULL);
	for (uint32_t k = 0; k < c->seg.nrings; k++) {
		snprintf(idx, sizeof(idx), "%u", k);
		count(c, "shmlog.records.dropped", "{record}", "records dropped, ring full",
		      shm_load_relaxed(&seg_ring(&c->seg, k)->rh_drops), now, "shmlog.ring", idx);
	}
	for (uint32_t i = 0; i < c->seg.max_producers; i++) {
		struct shm_producer *pe = seg_producer(&c->seg, i);
		uint64_t claim = shm_load_acquire(&pe->pe_claim); /* as in producers_get() */

		if (SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY)
			continue;
		metrics_sample(c->metrics, "shmlog.producer.records.dropped", "{record}",
			       "records this process dropped", HM_COUNTER,
			       (double)(shm_load_relaxed(&pe->pe_drops) +
					shm_load_relaxed(&pe->pe_drop_nothr)),
			       SHM_PE_CLAIM_PID(claim), NULL, NULL, 0, now);
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
	count(c, "shmlog.spool.dropped", "{request}", "requests dropped by the spool budget",
	      c->spool.dropped_files, now, NULL, NULL);
	exporter_figures(c, now);
}
