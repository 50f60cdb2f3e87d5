/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/audit.c and core/reload.c: the rate limiter (one
 * report per interval with the count since the last, restarts, the
 * baseline), audit events as the batch encodes them (decoded with
 * protobuf-c: the agent's resource, event.name and event_name, severity,
 * body, attributes), invalid-record events limited per ring, auth-failure
 * events from exporter.status figures, the cap on producer events, the
 * switch that turns them off,
 * and which keys a reload reports as applied or needing a restart.
 */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "reload.h"
#include "test_help.h"

#define MS 1000000ull

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req_t;
typedef Opentelemetry__Proto__Logs__V1__LogRecord rec_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;

static const any_t *attr(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n,
			 const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i]->key, key) == 0)
			return kv[i]->value;
	return NULL;
}

static const char *sattr(const rec_t *r, const char *key)
{
	const any_t *v = attr(r->attributes, r->n_attributes, key);

	return v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
		       ? v->string_value
		       : NULL;
}

static int64_t iattr(const rec_t *r, const char *key)
{
	const any_t *v = attr(r->attributes, r->n_attributes, key);

	if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
		return v->int_value;
	if (v && v->value_case == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE)
		return v->bool_value;
	return -1;
}

/* Encodes and empties the batch; returns the decoded request (or NULL
 * when the batch was empty). */
static req_t *take(struct log_batch *b, size_t *nrecs)
{
	struct pbuf out;
	uint32_t n;
	req_t *req;

	pbuf_init(&out);
	T_EQ_INT(log_batch_encode(b, &out, &n), 0);
	*nrecs = n;
	if (n == 0) {
		pbuf_fini(&out);
		return NULL;
	}
	req = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, out.len, out.p);
	pbuf_fini(&out);
	T_ASSERT(req);
	T_EQ_INT(req->n_resource_logs, 1);
	return req;
}

static const rec_t *rec(const req_t *req, size_t i)
{
	T_ASSERT(req->resource_logs[0]->n_scope_logs == 1);
	T_ASSERT(i < req->resource_logs[0]->scope_logs[0]->n_log_records);
	return req->resource_logs[0]->scope_logs[0]->log_records[i];
}

static void test_rate(void)
{
	struct audit_rate r = { 0 };
	uint64_t iv = 1000 * MS;

	T_EQ_INT(audit_rate_take(&r, 0, 10 * MS, iv, 0), 0);
	T_EQ_INT(audit_rate_take(&r, 5, 20 * MS, iv, 0), 5);   /* first: at once */
	T_EQ_INT(audit_rate_take(&r, 9, 30 * MS, iv, 0), 0);   /* within the interval */
	T_EQ_INT(audit_rate_take(&r, 12, 900 * MS, iv, 0), 0);
	T_EQ_INT(audit_rate_take(&r, 12, 1020 * MS, iv, 0), 7); /* the rest, together */
	T_EQ_INT(audit_rate_take(&r, 12, 5000 * MS, iv, 0), 0); /* nothing new */
	T_EQ_INT(audit_rate_take(&r, 3, 6000 * MS, iv, 0), 3);  /* counter restarted */
	/* baseline: counts from before are not reported */
	memset(&r, 0, sizeof(r));
	T_EQ_INT(audit_rate_take(&r, 40, 10 * MS, iv, 1), 0);
	T_EQ_INT(audit_rate_take(&r, 41, 20 * MS, iv, 1), 1);
}

static void test_events(void)
{
	static struct shmlog_config cfg;
	struct log_batch b;
	struct audit a;
	struct exporter_status st;
	uint64_t inv[2] = { 0, 0 };
	size_t n;
	req_t *req;
	const rec_t *r;

	cfg.coll_audit_events = 1;
	cfg.coll_audit_interval_ms = 1000;
	strcpy(cfg.service_name, "agent-x");
	log_batch_init(&b);
	T_EQ_INT(audit_init(&a, &cfg, &b, "node-3", 2), 0);

	audit_producer(&a, AUDIT_ATTACHED, 4, 321, 1000, "python3", NULL, 1, 111, 1);
	audit_producer(&a, AUDIT_REFUSED, 5, 1, 0, "forged",
		       "pid 1 started at tick 5, not at the claimed 7", 0, 112, 2);
	audit_producer(&a, AUDIT_DETACHED, 4, 321, 1000, "python3", NULL, 1, 113, 3);
	req = take(&b, &n);
	T_EQ_INT(n, 3);
	{
		Opentelemetry__Proto__Resource__V1__Resource *res = req->resource_logs[0]->resource;
		const any_t *v = attr(res->attributes, res->n_attributes, "service.name");

		T_EQ_INT(res->n_attributes, 2); /* as the self metrics' resource */
		T_EQ_STR(v->string_value, "agent-x");
		v = attr(res->attributes, res->n_attributes, "host.name");
		T_EQ_STR(v->string_value, "node-3");
	}
	r = rec(req, 0);
	T_EQ_STR(sattr(r, "event.name"), "shmlog.producer.attached");
	T_EQ_STR(r->event_name, "shmlog.producer.attached");
	T_EQ_INT(r->severity_number, 9);
	T_EQ_STR(r->severity_text, "INFO");
	T_EQ_INT(r->time_unix_nano, 111);
	T_EQ_INT(iattr(r, "process.pid"), 321);
	T_EQ_INT(iattr(r, "process.real_user.id"), 1000);
	T_EQ_INT(iattr(r, "shmlog.producer.slot"), 4);
	T_EQ_INT(iattr(r, "shmlog.producer.verified"), 1);
	T_EQ_STR(sattr(r, "process.executable.name"), "python3");
	T_ASSERT(strstr(r->body->string_value, "attached: pid 321 (python3)"));
	r = rec(req, 1);
	T_EQ_STR(sattr(r, "event.name"), "shmlog.producer.refused");
	T_EQ_INT(r->severity_number, 13);
	T_EQ_STR(r->severity_text, "WARN");
	T_EQ_INT(iattr(r, "shmlog.producer.verified"), 0);
	T_EQ_STR(sattr(r, "shmlog.reason"), "pid 1 started at tick 5, not at the claimed 7");
	r = rec(req, 2);
	T_EQ_STR(sattr(r, "event.name"), "shmlog.producer.detached");
	T_EQ_INT(r->severity_number, 9);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);

	/* invalid records: one event per ring per interval, with the count */
	inv[1] = 5;
	audit_tick(&a, inv, NULL, 200, 100 * MS);
	inv[1] = 500;
	inv[0] = 2;
	audit_tick(&a, inv, NULL, 201, 600 * MS); /* ring 0 is new: reported; ring 1 waits */
	audit_tick(&a, inv, NULL, 202, 1200 * MS); /* ring 1: the 495 since */
	req = take(&b, &n);
	T_EQ_INT(n, 3);
	r = rec(req, 0);
	T_EQ_STR(sattr(r, "event.name"), "shmlog.records.invalid");
	T_EQ_INT(r->severity_number, 13);
	T_EQ_INT(iattr(r, "shmlog.ring"), 1);
	T_EQ_INT(iattr(r, "shmlog.records.count"), 5);
	r = rec(req, 1);
	T_EQ_INT(iattr(r, "shmlog.ring"), 0);
	T_EQ_INT(iattr(r, "shmlog.records.count"), 2);
	r = rec(req, 2);
	T_EQ_INT(iattr(r, "shmlog.ring"), 1);
	T_EQ_INT(iattr(r, "shmlog.records.count"), 495);
	T_EQ_INT(iattr(r, "shmlog.records.total"), 500);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);

	/* auth failures (the ticks above, without a status file, set the
	 * baseline to 0: these are new) */
	memset(&st, 0, sizeof(st));
	st.auth_failures = 3;
	st.last_auth_status = 401;
	strcpy(st.endpoint, "https://otlp.example.com/v1/logs");
	audit_tick(&a, inv, &st, 300, 2000 * MS);
	req = take(&b, &n);
	T_EQ_INT(n, 1);
	r = rec(req, 0);
	T_EQ_INT(iattr(r, "http.response.status_code"), 401);
	T_EQ_INT(iattr(r, "shmlog.exporter.auth_failures"), 3);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);
	st.auth_failures = 5;
	st.last_auth_status = 403;
	audit_tick(&a, inv, &st, 301, 3000 * MS);
	st.auth_failures = 9;
	audit_tick(&a, inv, &st, 302, 3500 * MS); /* within the interval: waits */
	req = take(&b, &n);
	T_EQ_INT(n, 1);
	r = rec(req, 0);
	T_EQ_STR(sattr(r, "event.name"), "shmlog.exporter.auth_failed");
	T_EQ_INT(r->severity_number, 13);
	T_EQ_INT(iattr(r, "http.response.status_code"), 403);
	T_EQ_INT(iattr(r, "shmlog.exporter.auth_failures"), 2);
	T_EQ_STR(sattr(r, "url.full"), "https://otlp.example.com/v1/logs");
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);

	/* configuration reloaded, and refused */
	audit_config(&a, "/etc/shmlog.ini", 1, "log.level,collector.schedule_delay_ms",
		     "shm.ring_slots", NULL, 400, 4000 * MS);
	audit_config(&a, "/etc/shmlog.ini", 0, "", "", "shmlog.ini:3: unknown key 'x' in [shm]",
		     401, 4001 * MS);
	req = take(&b, &n);
	T_EQ_INT(n, 2);
	r = rec(req, 0);
	T_EQ_STR(sattr(r, "event.name"), "shmlog.config.reloaded");
	T_EQ_INT(r->severity_number, 9);
	T_EQ_STR(sattr(r, "shmlog.config.result"), "ok");
	T_EQ_STR(sattr(r, "shmlog.config.file"), "/etc/shmlog.ini");
	T_EQ_STR(sattr(r, "shmlog.config.changed"), "log.level,collector.schedule_delay_ms");
	T_EQ_STR(sattr(r, "shmlog.config.restart_required"), "shm.ring_slots");
	r = rec(req, 1);
	T_EQ_STR(sattr(r, "shmlog.config.result"), "error");
	T_EQ_INT(r->severity_number, 13);
	T_EQ_STR(sattr(r, "error.message"), "shmlog.ini:3: unknown key 'x' in [shm]");
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);

	/* producer events: at most AUDIT_PRODUCER_BURST per interval */
	for (int i = 0; i < AUDIT_PRODUCER_BURST + 10; i++)
		audit_producer(&a, AUDIT_REFUSED, 1, 2, 3, "churn", "x", 0, 450, 4500 * MS);
	req = take(&b, &n);
	T_EQ_INT(n, AUDIT_PRODUCER_BURST);
	T_EQ_INT(a.suppressed, 10);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);
	audit_producer(&a, AUDIT_REFUSED, 1, 2, 3, "churn", "x", 0, 460, 5600 * MS);
	req = take(&b, &n);
	T_EQ_INT(n, 1); /* a new interval */
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);

	/* switched off: nothing at all */
	cfg.coll_audit_events = 0;
	audit_producer(&a, AUDIT_ATTACHED, 1, 2, 3, "x", NULL, 1, 500, 5000 * MS);
	inv[0] = 1000;
	audit_tick(&a, inv, &st, 501, 9000 * MS);
	audit_config(&a, NULL, 1, "", "", NULL, 502, 9001 * MS);
	req = take(&b, &n);
	T_EQ_INT(n, 0);
	T_EQ_INT(a.events, 11 + AUDIT_PRODUCER_BURST);
	log_batch_fini(&b);
	audit_fini(&a);
}

static void test_reload_diff(void)
{
	static struct shmlog_config old, nc;
	char changed[512], restart[512];

	strcpy(old.log_level, "info");
	old.coll_schedule_delay_ms = 1000;
	strcpy(old.shm_namespace, "a");
	strcpy(old.exp_headers[0].value, "secret");
	memcpy(&nc, &old, sizeof(nc));
	T_EQ_INT(reload_diff(&old, &nc, changed, sizeof(changed), restart, sizeof(restart)), 0);
	T_EQ_STR(changed, "");
	strcpy(nc.log_level, "debug");
	nc.coll_schedule_delay_ms = 50;
	strcpy(nc.shm_namespace, "b");
	strcpy(nc.exp_headers[0].value, "other"); /* the exporter's: not compared */
	T_EQ_INT(reload_diff(&old, &nc, changed, sizeof(changed), restart, sizeof(restart)), 3);
	T_EQ_STR(changed, "log.level,collector.schedule_delay_ms");
	T_EQ_STR(restart, "shm.namespace");
	reload_apply(&old, &nc);
	T_EQ_STR(old.log_level, "debug");
	T_EQ_INT(old.coll_schedule_delay_ms, 50);
	T_EQ_STR(old.shm_namespace, "a"); /* needs a restart: unchanged */
	T_EQ_STR(old.exp_headers[0].value, "secret");
}

int main(void)
{
	T_RUN(test_rate);
	T_RUN(test_events);
	T_RUN(test_reload_diff);
	return 0;
}
