/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/log_batch.c: a record's payload becomes the right
 * OTLP LogRecord (severity, text, body, iostream, split-line and
 * truncation attributes, typed attributes, trace context, invalid UTF-8
 * repaired), records are grouped per resource and in time order, and a
 * malformed payload is refused without a trace in the batch. A Python
 * traceback record (SHM_LOG_F_PYTB) and a Java one (SHM_LOG_F_JAVATB) get
 * exception.type, .message and .stacktrace; without the flag the same
 * body gets none. Records that arrive as several time-ordered runs come
 * out in time order, equal times in arrival order.
 */
#include "log_batch.h"

#include <errno.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "test_help.h"

static unsigned char rec[4096];

/* Builds a record; returns its length. */
static uint32_t build(uint8_t sev, uint16_t flags, const char *body, size_t blen,
		      const char *sevtext, const unsigned char *attrs, size_t alen, uint8_t nattrs,
		      uint64_t t, uint16_t part)
{
	struct shm_rec_hdr rh = { .rec_type = SHM_REC_LOG, .rec_severity = sev, .rec_flags = flags,
				  .rec_time_ns = t };
	struct shm_log_hdr lh = { .lg_body_len = (uint16_t)blen,
				  .lg_sevtext_len = (uint8_t)strlen(sevtext),
				  .lg_nattrs = nattrs, .lg_attrs_len = (uint16_t)alen,
				  .lg_part = part };
	size_t off = sizeof(rh) + sizeof(lh);

	if (flags & SHM_LOG_F_TRACE) {
		struct shm_log_trace lt;
		for (int i = 0; i < 16; i++)
			lt.lt_trace_id[i] = (uint8_t)(i + 1);
		for (int i = 0; i < 8; i++)
			lt.lt_span_id[i] = (uint8_t)(0xa0 + i);
		lt.lt_flags = 1;
		memset(lt.lt_reserved, 0, sizeof(lt.lt_reserved));
		memcpy(rec + off, &lt, sizeof(lt));
		off += sizeof(lt);
	}
	memcpy(rec + off, body, blen);
	off += blen;
	memcpy(rec + off, sevtext, strlen(sevtext));
	off += strlen(sevtext);
	if (alen)
		memcpy(rec + off, attrs, alen);
	off += alen;
	rh.rec_len = (uint32_t)off;
	memcpy(rec, &rh, sizeof(rh));
	memcpy(rec + sizeof(rh), &lh, sizeof(lh));
	return (uint32_t)off;
}

static size_t put_attr(unsigned char *p, uint8_t type, const char *key, const void *v,
		       uint16_t vlen)
{
	p[0] = type;
	p[1] = (uint8_t)strlen(key);
	memcpy(p + 2, &vlen, 2);
	memcpy(p + 4, key, strlen(key));
	memcpy(p + 4 + strlen(key), v, vlen);
	return 4 + strlen(key) + vlen;
}

static struct resource *new_res(uint32_t idx)
{
	struct resource *r = calloc(1, sizeof(*r));

	T_ASSERT(r);
	r->idx = idx;
	pbuf_init(&r->enc);
	pbuf_init(&r->recs);
	pb_kv_int(&r->enc, 1, "process.pid", 11, 1000 + idx);
	return r;
}

static const Opentelemetry__Proto__Common__V1__AnyValue *
attr(const Opentelemetry__Proto__Logs__V1__LogRecord *lr, const char *key)
{
	for (size_t i = 0; i < lr->n_attributes; i++)
		if (strcmp(lr->attributes[i]->key, key) == 0)
			return lr->attributes[i]->value;
	return NULL;
}

static void test_encode(void)
{
	struct log_batch b;
	struct resource *r1 = new_res(1), *r2 = new_res(2);
	unsigned char attrs[256];
	size_t alen = 0;
	int64_t iv = -42;
	double dv = 2.5;
	uint8_t bv = 1;
	struct pbuf out;
	uint32_t n, len;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *m;

	log_batch_init(&b);
	pbuf_init(&out);
	alen += put_attr(attrs + alen, SHM_ATTR_STR, "user", "ana", 3);
	alen += put_attr(attrs + alen, SHM_ATTR_INT, "step", &iv, 8);
	alen += put_attr(attrs + alen, SHM_ATTR_DOUBLE, "loss", &dv, 8);
	alen += put_attr(attrs + alen, SHM_ATTR_BOOL, "ok", &bv, 1);
	len = build(17, SHM_LOG_F_TRACE, "api \xff record", 12, "ERROR", attrs, alen, 4, 300, 0);
	T_EQ_INT(log_batch_add(&b, r1, rec, len, 999, 1), 0);
	len = build(9, SHM_LOG_F_STDOUT, "earlier", 7, "INFO", NULL, 0, 0, 100, 0);
	T_EQ_INT(log_batch_add(&b, r1, rec, len, 999, 1), 0);
	len = build(0, SHM_LOG_F_STDERR | SHM_LOG_F_PART | SHM_LOG_F_MORE, "part0", 5, "", NULL, 0,
		    0, 200, 0);
	T_EQ_INT(log_batch_add(&b, r2, rec, len, 999, 1), 0);
	len = build(0, SHM_LOG_F_STDERR | SHM_LOG_F_PART | SHM_LOG_F_TRUNCATED, "", 0, "", NULL, 0,
		    0, 201, 1);
	T_EQ_INT(log_batch_add(&b, r2, rec, len, 999, 1), 0);
	T_EQ_INT(b.records, 4);
	T_EQ_INT(log_batch_encode(&b, &out, &n), 0);
	T_EQ_INT(n, 4);
	T_EQ_INT(b.records, 0);
	m = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, out.len, out.p);
	T_ASSERT(m);
	T_EQ_INT(m->n_resource_logs, 2);
	for (size_t i = 0; i < 2; i++) {
		Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = m->resource_logs[i];
		Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[0];
		int64_t pid = rl->resource->attributes[0]->value->int_value;

		T_EQ_INT(rl->n_scope_logs, 1);
		T_EQ_STR(sl->scope->name, "shmlog");
		T_EQ_INT(sl->n_log_records, 2);
		if (pid == 1001) {
			const Opentelemetry__Proto__Logs__V1__LogRecord *a = sl->log_records[0];
			const Opentelemetry__Proto__Logs__V1__LogRecord *c = sl->log_records[1];
			/* time order, not arrival order */
			T_EQ_INT(a->time_unix_nano, 100);
			T_EQ_STR(a->body->string_value, "earlier");
			T_EQ_STR(attr(a, "log.iostream")->string_value, "stdout");
			T_EQ_INT(a->severity_number, 9);
			T_EQ_INT(c->time_unix_nano, 300);
			T_EQ_INT(c->observed_time_unix_nano, 999);
			T_EQ_STR(c->body->string_value, "api \xef\xbf\xbd record");
			T_EQ_STR(c->severity_text, "ERROR");
			T_EQ_INT(c->severity_number, 17);
			T_ASSERT(!attr(c, "log.iostream"));
			T_EQ_STR(attr(c, "user")->string_value, "ana");
			T_EQ_INT(attr(c, "step")->int_value, -42);
			T_ASSERT(attr(c, "loss")->double_value == 2.5);
			T_EQ_INT(attr(c, "ok")->bool_value, 1);
			T_EQ_INT(c->trace_id.len, 16);
			T_EQ_INT(c->trace_id.data[15], 16);
			T_EQ_INT(c->span_id.len, 8);
			T_EQ_INT(c->span_id.data[0], 0xa0);
			T_EQ_INT(c->flags, 1);
		} else {
			const Opentelemetry__Proto__Logs__V1__LogRecord *p0 = sl->log_records[0];
			const Opentelemetry__Proto__Logs__V1__LogRecord *p1 = sl->log_records[1];
			T_EQ_INT(pid, 1002);
			T_EQ_STR(attr(p0, "log.iostream")->string_value, "stderr");
			T_EQ_INT(attr(p0, "shmlog.line.part")->int_value, 0);
			T_ASSERT(!attr(p0, "shmlog.line.last"));
			T_EQ_INT(attr(p1, "shmlog.line.part")->int_value, 1);
			T_EQ_INT(attr(p1, "shmlog.line.last")->bool_value, 1);
			T_EQ_INT(attr(p1, "shmlog.truncated")->bool_value, 1);
			T_EQ_STR(p1->body->string_value, "");
			T_EQ_INT(p0->severity_number, 0);
		}
	}
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(m,
											       NULL);
	pbuf_fini(&out);
	r1->retired = r2->retired = 1;
	resource_release(r1);
	resource_release(r2);
}

static void test_refused(void)
{
	struct log_batch b;
	struct resource *r = new_res(3);
	unsigned char attrs[64];
	uint32_t len;
	size_t alen;
	int64_t iv = 1;

	log_batch_init(&b);
	len = build(9, 0, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len - 1, 0, 0), -EBADMSG); /* lengths disagree */
	len = build(25, 0, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* severity > 24 */
	len = build(9, SHM_LOG_F_STDOUT | SHM_LOG_F_STDERR, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* both streams */
	len = build(9, 0x8000, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* unknown flag */
	len = build(9, 0x0100, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* unknown flag */
	len = build(9, SHM_LOG_F_PYTB | SHM_LOG_F_JAVATB, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* two trace kinds */
	alen = put_attr(attrs, 9, "k", "v", 1);
	len = build(9, 0, "x", 1, "", attrs, alen, 1, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* unknown attribute type */
	alen = put_attr(attrs, SHM_ATTR_INT, "k", &iv, 4);
	len = build(9, 0, "x", 1, "", attrs, alen, 1, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* int of 4 bytes */
	alen = put_attr(attrs, SHM_ATTR_STR, "k", "v", 1);
	len = build(9, 0, "x", 1, "", attrs, alen, 2, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 0, 0), -EBADMSG); /* count says 2, holds 1 */
	len = build(9, 0, "x", 1, "", NULL, 0, 0, 1, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, 10, 0, 0), -EBADMSG); /* shorter than the headers */
	T_EQ_INT(b.records, 0);
	T_EQ_INT(r->nix, 0);
	T_EQ_INT(r->recs.len, 0);
	r->retired = 1;
	resource_release(r);
}

static void test_traceback(void)
{
	static const char tb[] = "Traceback (most recent call last):\n"
				 "  File \"/tmp/x.py\", line 1, in <module>\n"
				 "    raise ValueError(\"bad \xff\")\n"
				 "ValueError: bad \xff";
	static const char fixed[] = "Traceback (most recent call last):\n"
				    "  File \"/tmp/x.py\", line 1, in <module>\n"
				    "    raise ValueError(\"bad \xef\xbf\xbd\")\n"
				    "ValueError: bad \xef\xbf\xbd";
	struct log_batch b;
	struct resource *r = new_res(4);
	struct pbuf out;
	uint32_t n, len;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *m;
	const Opentelemetry__Proto__Logs__V1__LogRecord *a, *c, *d, *j;
	static const char jv[] = "Exception in thread \"main\" java.lang.IllegalStateException: "
				 "no: way\n\tat Main.main(Main.java:3)\n"
				 "Caused by: java.io.IOException: disk";

	log_batch_init(&b);
	pbuf_init(&out);
	len = build(17, SHM_LOG_F_STDERR | SHM_LOG_F_PYTB, tb, sizeof(tb) - 1, "ERROR", NULL, 0,
		    0, 10, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 999, 1), 0);
	len = build(0, SHM_LOG_F_STDERR, tb, sizeof(tb) - 1, "", NULL, 0, 0, 20, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 999, 1), 0);
	/* flagged but with no exception line: only the stack trace */
	len = build(17, SHM_LOG_F_STDERR | SHM_LOG_F_PYTB | SHM_LOG_F_TRUNCATED, "x\n  y", 5,
		    "ERROR", NULL, 0, 0, 30, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 999, 1), 0);
	len = build(17, SHM_LOG_F_STDOUT | SHM_LOG_F_JAVATB, jv, sizeof(jv) - 1, "ERROR", NULL, 0,
		    0, 40, 0);
	T_EQ_INT(log_batch_add(&b, r, rec, len, 999, 1), 0);
	T_EQ_INT(log_batch_encode(&b, &out, &n), 0);
	T_EQ_INT(n, 4);
	m = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, out.len, out.p);
	T_ASSERT(m);
	a = m->resource_logs[0]->scope_logs[0]->log_records[0];
	c = m->resource_logs[0]->scope_logs[0]->log_records[1];
	d = m->resource_logs[0]->scope_logs[0]->log_records[2];
	T_EQ_STR(a->body->string_value, fixed);
	T_EQ_INT(a->severity_number, 17);
	T_EQ_STR(attr(a, "exception.type")->string_value, "ValueError");
	T_EQ_STR(attr(a, "exception.message")->string_value, "bad \xef\xbf\xbd");
	T_EQ_STR(attr(a, "exception.stacktrace")->string_value, fixed);
	T_EQ_STR(attr(a, "log.iostream")->string_value, "stderr");
	T_ASSERT(!attr(c, "exception.type"));
	T_ASSERT(!attr(c, "exception.stacktrace"));
	T_ASSERT(!attr(d, "exception.type"));
	T_ASSERT(!attr(d, "exception.message"));
	T_EQ_STR(attr(d, "exception.stacktrace")->string_value, "x\n  y");
	T_EQ_INT(attr(d, "shmlog.truncated")->bool_value, 1);
	j = m->resource_logs[0]->scope_logs[0]->log_records[3];
	T_EQ_STR(j->body->string_value, jv);
	T_EQ_STR(attr(j, "exception.type")->string_value, "java.lang.IllegalStateException");
	T_EQ_STR(attr(j, "exception.message")->string_value, "no: way");
	T_EQ_STR(attr(j, "exception.stacktrace")->string_value, jv);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(m,
											       NULL);
	pbuf_fini(&out);
	r->retired = 1;
	resource_release(r);
}

/* Records of one resource that arrive as interleaved time-ordered runs
 * (as when several rings are drained one after the other), with equal
 * times across runs: encoded in time order, equal times in arrival
 * order. */
static void test_runs(void)
{
	enum { NRUNS = 3, PER = 700 };
	struct log_batch b;
	struct resource *r = new_res(5);
	struct pbuf out;
	uint32_t n, len;
	char body[16];
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *m;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *sl;

	log_batch_init(&b);
	pbuf_init(&out);
	for (int k = 0; k < NRUNS; k++) {
		for (int i = 0; i < PER; i++) {
			int blen = snprintf(body, sizeof(body), "%d", k * PER + i);

			/* run k: times 0, 2, 4, ... (k even) or 1, 3, 5 ... (odd),
			 * each twice in a row */
			len = build(9, 0, body, (size_t)blen, "", NULL, 0, 0,
				    (uint64_t)(i / 2) * 2 + (k & 1), 0);
			T_EQ_INT(log_batch_add(&b, r, rec, len, 999, 1), 0);
		}
	}
	T_EQ_INT(log_batch_encode(&b, &out, &n), 0);
	T_EQ_INT(n, NRUNS * PER);
	m = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, out.len, out.p);
	T_ASSERT(m);
	sl = m->resource_logs[0]->scope_logs[0];
	T_EQ_INT(sl->n_log_records, NRUNS * PER);
	for (size_t i = 1; i < sl->n_log_records; i++) {
		const Opentelemetry__Proto__Logs__V1__LogRecord *x = sl->log_records[i - 1],
								*y = sl->log_records[i];

		T_ASSERT(x->time_unix_nano <= y->time_unix_nano);
		if (x->time_unix_nano == y->time_unix_nano)
			T_ASSERT(atoi(x->body->string_value) < atoi(y->body->string_value));
	}
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(m,
											       NULL);
	pbuf_fini(&out);
	r->retired = 1;
	resource_release(r);
}

int main(void)
{
	T_RUN(test_encode);
	T_RUN(test_runs);
	T_RUN(test_refused);
	T_RUN(test_traceback);
	return 0;
}
