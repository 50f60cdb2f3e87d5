/* SPDX-License-Identifier: MIT */
/*
 * Audit events (see audit.h). A record is encoded here straight into
 * LogRecord wire format (logs.proto: time_unix_nano = 1, severity_number
 * = 2, severity_text = 3, body = 5, attributes = 6,
 * observed_time_unix_nano = 11, event_name = 12) and handed to the batch
 * under the agent's own resource, so it takes the same path as any
 * producer's record. The name is also the `event.name` attribute: older
 * OTLP receivers (and the decoders of the e2e tests) predate field 12.
 */
#include "audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utf8.h"

#define SEV_INFO 9
#define SEV_WARN 13
#define NS_PER_MS 1000000ull

struct attr {
	const char *key;
	const char *str; /* NULL: ival */
	int64_t ival;
	int is_bool;
};

uint64_t audit_rate_take(struct audit_rate *r, uint64_t total, uint64_t mono_ns,
			 uint64_t interval_ns, int baseline)
{
	uint64_t n;

	if (!r->primed) {
		r->primed = 1;
		r->reported = baseline ? total : 0;
	}
	if (total < r->reported)
		r->reported = 0; /* the counting process restarted */
	if (total == r->reported)
		return 0;
	if (r->last_ns && mono_ns - r->last_ns < interval_ns)
		return 0;
	n = total - r->reported;
	r->reported = total;
	r->last_ns = mono_ns ? mono_ns : 1;
	return n;
}

int audit_init(struct audit *a, const struct shmlog_config *cfg, struct log_batch *batch,
	       const char *host, uint32_t nrings)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->batch = batch;
	a->nrings = nrings;
	a->invalid = calloc(nrings ? nrings : 1, sizeof(*a->invalid));
	a->res = calloc(1, sizeof(*a->res));
	if (!a->invalid || !a->res) {
		audit_fini(a);
		return -ENOMEM;
	}
	a->res->idx = UINT32_MAX;
	snprintf(a->res->service, sizeof(a->res->service), "%.159s", cfg->service_name);
	pbuf_init(&a->res->enc);
	pbuf_init(&a->res->recs);
	pbuf_init(&a->rec);
	/* The same attributes as the self metrics' resource (metrics_agg.c). */
	pb_kv_str(&a->res->enc, 1, "service.name", 12, cfg->service_name,
		  strlen(cfg->service_name));
	pb_kv_str(&a->res->enc, 1, "host.name", 9, host, strlen(host));
	if (a->res->enc.oom) {
		audit_fini(a);
		return -ENOMEM;
	}
	return 0;
}

void audit_fini(struct audit *a)
{
	if (a->res) {
		pbuf_fini(&a->res->enc);
		pbuf_fini(&a->res->recs);
		free(a->res->ix);
		free(a->res);
	}
	pbuf_fini(&a->rec);
	free(a->invalid);
	memset(a, 0, sizeof(*a));
}

/* A string field of the record, cut to valid UTF-8. */
static void put_str(struct pbuf *b, uint32_t field, const char *s)
{
	size_t n = utf8_valid_prefix((const unsigned char *)s, strlen(s));

	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	pbuf_put(b, s, n);
}

static void emit(struct audit *a, const char *name, int sev, const char *body,
		 const struct attr *attrs, int nattrs, uint64_t now_ns, uint64_t mono_ns)
{
	struct pbuf *b = &a->rec;
	size_t blen = utf8_valid_prefix((const unsigned char *)body, strlen(body)), o;

	if (!a->cfg->coll_audit_events)
		return;
	pbuf_reset(b);
	pb_fixed64(b, 1, now_ns);
	pb_fixed64(b, 11, now_ns);
	pb_uint(b, 2, (uint64_t)sev);
	put_str(b, 3, sev == SEV_WARN ? "WARN" : "INFO");
	pb_tag(b, 5, PB_LEN); /* body: AnyValue { string_value = 1 } */
	pb_varint(b, 1 + pb_varint_size(blen) + blen);
	pb_tag(b, 1, PB_LEN);
	pb_varint(b, blen);
	pbuf_put(b, body, blen);
	pb_kv_str(b, 6, "event.name", 10, name, strlen(name));
	for (int i = 0; i < nattrs; i++) {
		const struct attr *t = &attrs[i];

		if (t->str) {
			o = utf8_valid_prefix((const unsigned char *)t->str, strlen(t->str));
			pb_kv_str(b, 6, t->key, strlen(t->key), t->str, o);
		} else if (t->is_bool) {
			pb_kv_bool(b, 6, t->key, strlen(t->key), t->ival != 0);
		} else {
			pb_kv_int(b, 6, t->key, strlen(t->key), t->ival);
		}
	}
	put_str(b, 12, name);
	if (b->oom || log_batch_append(a->batch, a->res, b->p, b->len, now_ns, mono_ns) != 0) {
		if (!a->lost++)
			LOGW("audit: out of memory; event %s lost (further losses not logged)", name);
		return;
	}
	a->events++;
	LOGD("audit: %s: %s", name, body);
}

void audit_producer(struct audit *a, enum audit_producer_event ev, uint32_t slot, uint32_t pid,
		    uint32_t uid, const char *exe, const char *reason, int verified,
		    uint64_t now_ns, uint64_t mono_ns)
{
	static const char *const names[] = { "shmlog.producer.attached",
					      "shmlog.producer.detached",
					      "shmlog.producer.refused" };
	static const char *const verbs[] = { "attached", "detached", "refused" };
	struct attr at[7];
	char body[512];
	int n = 0;

	if (ev < 0 || ev >= AUDIT_PRODUCER_EVENT_NR || !a->cfg->coll_audit_events)
		return;
	if (!a->window_ns ||
	    mono_ns - a->window_ns >= (uint64_t)a->cfg->coll_audit_interval_ms * NS_PER_MS) {
		a->window_ns = mono_ns ? mono_ns : 1;
		a->window_events = 0;
	}
	if (a->window_events >= AUDIT_PRODUCER_BURST) {
		if (!a->suppressed++)
			LOGW("audit: more than %d producer events in %u ms; the rest are counted in "
			     "shmlog.audit.suppressed", AUDIT_PRODUCER_BURST,
			     a->cfg->coll_audit_interval_ms);
		return;
	}
	a->window_events++;
	at[n++] = (struct attr){ .key = "process.pid", .ival = pid };
	at[n++] = (struct attr){ .key = "process.executable.name", .str = exe ? exe : "" };
	at[n++] = (struct attr){ .key = "process.real_user.id", .ival = uid };
	at[n++] = (struct attr){ .key = "shmlog.producer.slot", .ival = slot };
	at[n++] = (struct attr){ .key = "shmlog.producer.verified", .ival = verified,
				 .is_bool = 1 };
	if (reason && reason[0])
		at[n++] = (struct attr){ .key = "shmlog.reason", .str = reason };
	snprintf(body, sizeof(body), "producer %s: pid %u (%s), uid %u, slot %u%s%s", verbs[ev],
		 pid, exe && exe[0] ? exe : "?", uid, slot, reason && reason[0] ? ": " : "",
		 reason ? reason : "");
	emit(a, names[ev], ev == AUDIT_REFUSED ? SEV_WARN : SEV_INFO, body, at, n, now_ns,
	     mono_ns);
}

void audit_tick(struct audit *a, const uint64_t *ring_invalid, const struct exporter_status *st,
		uint64_t now_ns, uint64_t mono_ns)
{
	uint64_t iv = (uint64_t)a->cfg->coll_audit_interval_ms * NS_PER_MS, n;
	char body[768];

	if (!a->cfg->coll_audit_events)
		return;
	for (uint32_t k = 0; k < a->nrings; k++) {
		struct attr at[3];

		n = audit_rate_take(&a->invalid[k], ring_invalid[k], mono_ns, iv, 0);
		if (!n)
			continue;
		at[0] = (struct attr){ .key = "shmlog.ring", .ival = k };
		at[1] = (struct attr){ .key = "shmlog.records.count", .ival = (int64_t)n };
		at[2] = (struct attr){ .key = "shmlog.records.total",
				       .ival = (int64_t)ring_invalid[k] };
		snprintf(body, sizeof(body),
			 "%llu invalid records in ring %u (%llu in all): not exported",
			 (unsigned long long)n, k, (unsigned long long)ring_invalid[k]);
		emit(a, "shmlog.records.invalid", SEV_WARN, body, at, 3, now_ns, mono_ns);
	}
	n = audit_rate_take(&a->auth, st ? st->auth_failures : 0, mono_ns, iv, 1);
	if (n && st) {
		struct attr at[4];

		at[0] = (struct attr){ .key = "http.response.status_code",
				       .ival = st->last_auth_status };
		at[1] = (struct attr){ .key = "url.full", .str = st->endpoint };
		at[2] = (struct attr){ .key = "shmlog.exporter.auth_failures",
				       .ival = (int64_t)n };
		at[3] = (struct attr){ .key = "shmlog.exporter.auth_failures.total",
				       .ival = (int64_t)st->auth_failures };
		snprintf(body, sizeof(body),
			 "exporter: %llu requests refused by %s with HTTP %lld (authentication); "
			 "check the endpoint's credentials",
			 (unsigned long long)n, st->endpoint, st->last_auth_status);
		emit(a, "shmlog.exporter.auth_failed", SEV_WARN, body, at, 4, now_ns, mono_ns);
	}
}

void audit_config(struct audit *a, const char *file, int ok, const char *changed,
		  const char *restart, const char *error, uint64_t now_ns, uint64_t mono_ns)
{
	struct attr at[5];
	char body[1536];
	int n = 0;

	at[n++] = (struct attr){ .key = "shmlog.config.file", .str = file ? file : "" };
	at[n++] = (struct attr){ .key = "shmlog.config.result", .str = ok ? "ok" : "error" };
	if (ok) {
		at[n++] = (struct attr){ .key = "shmlog.config.changed", .str = changed };
		at[n++] = (struct attr){ .key = "shmlog.config.restart_required", .str = restart };
		snprintf(body, sizeof(body), "configuration reloaded from %s; changed: %s%s%s",
			 file ? file : "(no file)", changed[0] ? changed : "nothing",
			 restart[0] ? "; needs a restart: " : "", restart);
	} else {
		at[n++] = (struct attr){ .key = "error.message", .str = error };
		snprintf(body, sizeof(body), "configuration not reloaded, the old one stays: %s",
			 error);
	}
	emit(a, "shmlog.config.reloaded", ok ? SEV_INFO : SEV_WARN, body, at, n, now_ns, mono_ns);
}
