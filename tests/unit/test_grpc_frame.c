/* SPDX-License-Identifier: MIT */
/*
 * exporter/grpc_frame.c: message framing both ways, grpc-timeout values,
 * grpc-message percent-decoding, the OTLP retry table, HTTP-to-gRPC
 * status mapping, RetryInfo inside grpc-status-details-bin, framed and
 * compressed answers; plus the gRPC body request_body.c builds and the
 * endpoint rules for gRPC targets. Hostile inputs must fail cleanly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "endpoint.h"
#include "google/rpc/status.pb-c.h"
#include "grpc_frame.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "request_body.h"
#include "retry.h"
#include "spool_file.h"
#include "test_help.h"

static void test_frame(void)
{
	uint8_t hdr[GRPC_FRAME_HDR], buf[64];
	const uint8_t *msg;
	size_t mlen;
	int comp;

	T_EQ_INT(grpc_frame_header(hdr, 1, 0x01020304), 0);
	T_ASSERT(hdr[0] == 1 && hdr[1] == 1 && hdr[2] == 2 && hdr[3] == 3 && hdr[4] == 4);
	T_EQ_INT(grpc_frame_header(hdr, 0, 3), 0);
	T_ASSERT(hdr[0] == 0 && hdr[4] == 3);
	if (sizeof(size_t) > 4)
		T_EQ_INT(grpc_frame_header(hdr, 0, (size_t)UINT32_MAX + 1), -EMSGSIZE);

	memcpy(buf, hdr, 5);
	memcpy(buf + 5, "abc", 3);
	T_EQ_INT(grpc_frame_parse(buf, 8, 100, &comp, &msg, &mlen), 0);
	T_EQ_INT(comp, 0);
	T_EQ_INT(mlen, 3);
	T_ASSERT(memcmp(msg, "abc", 3) == 0);
	/* empty body: a trailers-only answer */
	T_EQ_INT(grpc_frame_parse(buf, 0, 100, &comp, &msg, &mlen), 0);
	T_ASSERT(msg == NULL && mlen == 0);
	/* shorter than the prefix, shorter than it says, longer */
	T_EQ_INT(grpc_frame_parse(buf, 4, 100, &comp, &msg, &mlen), -EBADMSG);
	T_EQ_INT(grpc_frame_parse(buf, 7, 100, &comp, &msg, &mlen), -EBADMSG);
	T_EQ_INT(grpc_frame_parse(buf, 9, 100, &comp, &msg, &mlen), -EBADMSG);
	/* over the cap: refused before anything else */
	T_EQ_INT(grpc_frame_parse(buf, 8, 2, &comp, &msg, &mlen), -EMSGSIZE);
	buf[1] = 0xff;
	T_EQ_INT(grpc_frame_parse(buf, 8, 100, &comp, &msg, &mlen), -EMSGSIZE);
	buf[1] = 0;
	buf[0] = 2; /* flag must be 0 or 1 */
	T_EQ_INT(grpc_frame_parse(buf, 8, 100, &comp, &msg, &mlen), -EBADMSG);
	buf[0] = 1;
	T_EQ_INT(grpc_frame_parse(buf, 8, 100, &comp, &msg, &mlen), 0);
	T_EQ_INT(comp, 1);
}

static void test_timeout(void)
{
	char t[24];

	T_EQ_INT(grpc_timeout_format(0, t, sizeof(t)), 0);
	T_EQ_STR(t, "");
	T_EQ_INT(grpc_timeout_format(1500, t, sizeof(t)), 0);
	T_EQ_STR(t, "1500m");
	T_EQ_INT(grpc_timeout_format(99999999u, t, sizeof(t)), 0);
	T_EQ_STR(t, "99999999m");
	T_EQ_INT(grpc_timeout_format(100000000u, t, sizeof(t)), 0);
	T_EQ_STR(t, "100000S");
	T_EQ_INT(grpc_timeout_format(UINT32_MAX, t, sizeof(t)), 0);
	T_EQ_STR(t, "4294968S");
	T_EQ_INT(grpc_timeout_format(1500, t, 4), -ENAMETOOLONG);
}

static void test_message(void)
{
	char out[32];
	const char *s;

	s = "bad%20request%3A%20x";
	grpc_message_decode(s, strlen(s), out, sizeof(out));
	T_EQ_STR(out, "bad request: x");
	s = "100%zz%4"; /* not escapes: kept */
	grpc_message_decode(s, strlen(s), out, sizeof(out));
	T_EQ_STR(out, "100%zz%4");
	s = "a%0Ab%C3%A9\x01";
	grpc_message_decode(s, strlen(s), out, sizeof(out));
	T_EQ_STR(out, "a?b???");
	s = "0123456789";
	grpc_message_decode(s, strlen(s), out, 5);
	T_EQ_STR(out, "0123");
	grpc_message_decode(s, 0, out, sizeof(out));
	T_EQ_STR(out, "");
}

static void test_retry_table(void)
{
	static const int retry[] = {GRPC_CANCELLED,    GRPC_DEADLINE_EXCEEDED, GRPC_ABORTED,
				    GRPC_OUT_OF_RANGE, GRPC_UNAVAILABLE,       GRPC_DATA_LOSS};
	int c, want;
	unsigned i;

	for (c = 0; c < GRPC_CODE_NR; c++) {
		want = 0;
		for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
			want |= retry[i] == c;
		T_EQ_INT(grpc_code_retryable(c, 0), want);
		T_EQ_INT(grpc_code_retryable(c, 1), want || c == GRPC_RESOURCE_EXHAUSTED);
	}
	T_EQ_INT(grpc_code_retryable(99, 1), 0);
	T_EQ_STR(grpc_code_name(GRPC_UNAUTHENTICATED), "UNAUTHENTICATED");
	T_EQ_STR(grpc_code_name(GRPC_OK), "OK");
	T_EQ_STR(grpc_code_name(-1), "UNKNOWN");

	T_EQ_INT(grpc_code_from_http(400), GRPC_INTERNAL);
	T_EQ_INT(grpc_code_from_http(401), GRPC_UNAUTHENTICATED);
	T_EQ_INT(grpc_code_from_http(403), GRPC_PERMISSION_DENIED);
	T_EQ_INT(grpc_code_from_http(404), GRPC_UNIMPLEMENTED);
	T_EQ_INT(grpc_code_from_http(429), GRPC_UNAVAILABLE);
	T_EQ_INT(grpc_code_from_http(502), GRPC_UNAVAILABLE);
	T_EQ_INT(grpc_code_from_http(503), GRPC_UNAVAILABLE);
	T_EQ_INT(grpc_code_from_http(504), GRPC_UNAVAILABLE);
	T_EQ_INT(grpc_code_from_http(500), GRPC_UNKNOWN);
}

/* ---- grpc-status-details-bin --------------------------------------------- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* RetryInfo { Duration retry_delay = 1 { seconds = 1; nanos = 2 } } */
static size_t retry_info(uint8_t *out, int64_t secs, int32_t nanos)
{
	uint8_t d[32];
	size_t n = 0, o = 0;

	d[n++] = 0x08;
	n += put_varint(d + n, (uint64_t)secs);
	if (nanos) {
		d[n++] = 0x10;
		n += put_varint(d + n, (uint64_t)(int64_t)nanos);
	}
	out[o++] = 0x0a;
	o += put_varint(out + o, n);
	memcpy(out + o, d, n);
	return o + n;
}

static void b64(const uint8_t *in, size_t n, char *out, int pad, int urlsafe)
{
	const char *a = urlsafe
			    ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = a[v >> 10];
		out[o++] = a[(v >> 4) & 63];
		out[o++] = a[(v << 2) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* A google.rpc.Status with a DebugInfo-like detail and, when ri_len, a
 * RetryInfo, base64-encoded into out. */
static void status_details(char *out, const uint8_t *ri, size_t ri_len, int pad, int urlsafe)
{
	Google__Protobuf__Any other = GOOGLE__PROTOBUF__ANY__INIT;
	Google__Protobuf__Any retry = GOOGLE__PROTOBUF__ANY__INIT;
	Google__Protobuf__Any *details[2] = {&other, &retry};
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t buf[512];
	size_t n;

	other.type_url = "type.googleapis.com/google.rpc.DebugInfo";
	other.value.data = (uint8_t *)"\x0a\x03xyz";
	other.value.len = 5;
	retry.type_url = "type.googleapis.com/google.rpc.RetryInfo";
	retry.value.data = (uint8_t *)ri;
	retry.value.len = ri_len;
	st.code = GRPC_RESOURCE_EXHAUSTED;
	st.message = "slow down";
	st.n_details = ri_len ? 2 : 1;
	st.details = details;
	n = google__rpc__status__pack(&st, buf);
	b64(buf, n, out, pad, urlsafe);
}

static void test_retry_info(void)
{
	uint8_t ri[64];
	char d[1024];
	uint32_t ms = 7;
	size_t n;

	n = retry_info(ri, 2, 500000000);
	status_details(d, ri, n, 1, 0);
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), 0);
	T_EQ_INT(ms, 2500);
	status_details(d, ri, n, 0, 1); /* unpadded, URL-safe alphabet */
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), 0);
	T_EQ_INT(ms, 2500);

	n = retry_info(ri, 0, 1); /* 1 ns rounds up to 1 ms */
	status_details(d, ri, n, 1, 0);
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), 0);
	T_EQ_INT(ms, 1);
	n = retry_info(ri, 86400LL * 365, 0); /* a year: capped */
	status_details(d, ri, n, 1, 0);
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), 0);
	T_EQ_INT(ms, RETRY_AFTER_MAX_MS);
	n = retry_info(ri, -5, 0);
	status_details(d, ri, n, 1, 0);
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), 0);
	T_EQ_INT(ms, 0);

	/* no RetryInfo among the details */
	status_details(d, ri, 0, 1, 0);
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), -ENOENT);
	T_EQ_INT(grpc_retry_info_parse("", 0, &ms), -ENOENT);
	/* not base64; base64 of garbage; a RetryInfo cut short */
	T_EQ_INT(grpc_retry_info_parse("@@@@", 4, &ms), -EBADMSG);
	T_EQ_INT(grpc_retry_info_parse("A", 1, &ms), -EBADMSG);
	T_EQ_INT(grpc_retry_info_parse("//////////", 10, &ms), -EBADMSG);
	ri[1] = 40; /* Duration longer than the bytes that follow */
	status_details(d, ri, n, 1, 0);
	T_EQ_INT(grpc_retry_info_parse(d, strlen(d), &ms), -EBADMSG);
	memset(d, 'A', sizeof(d));
	T_EQ_INT(grpc_retry_info_parse(d, sizeof(d), &ms), -EBADMSG); /* zeros: field 0 */
}

static void test_outcome(void)
{
	struct grpc_outcome go;
	uint8_t ri[64];
	char d[1024];
	size_t n;

	grpc_frame_outcome(200, "0", NULL, NULL, &go);
	T_ASSERT(go.code == GRPC_OK && !go.from_http && !go.retryable);
	grpc_frame_outcome(200, "14", "backend%20down", "", &go);
	T_ASSERT(go.code == GRPC_UNAVAILABLE && go.retryable && !go.has_retry_info);
	T_EQ_STR(go.message, "backend down");
	grpc_frame_outcome(200, "3", "bad", NULL, &go);
	T_ASSERT(go.code == GRPC_INVALID_ARGUMENT && !go.retryable);
	/* RESOURCE_EXHAUSTED: permanent without RetryInfo, retried with it */
	grpc_frame_outcome(200, "8", NULL, NULL, &go);
	T_ASSERT(go.code == GRPC_RESOURCE_EXHAUSTED && !go.retryable);
	n = retry_info(ri, 3, 0);
	status_details(d, ri, n, 1, 0);
	grpc_frame_outcome(200, "8", "slow%20down", d, &go);
	T_ASSERT(go.retryable && go.has_retry_info);
	T_EQ_INT(go.retry_delay_ms, 3000);
	/* a broken details value only loses the delay */
	grpc_frame_outcome(200, "8", NULL, "!!", &go);
	T_ASSERT(!go.retryable && !go.has_retry_info);
	/* no grpc-status: the HTTP status decides */
	grpc_frame_outcome(503, "", NULL, NULL, &go);
	T_ASSERT(go.code == GRPC_UNAVAILABLE && go.from_http && go.retryable);
	grpc_frame_outcome(404, NULL, NULL, NULL, &go);
	T_ASSERT(go.code == GRPC_UNIMPLEMENTED && go.from_http && !go.retryable);
	grpc_frame_outcome(200, NULL, NULL, NULL, &go);
	T_ASSERT(go.code == GRPC_UNKNOWN && go.from_http && !go.retryable);
	/* nonsense grpc-status values */
	grpc_frame_outcome(200, "abc", NULL, NULL, &go);
	T_EQ_INT(go.code, GRPC_UNKNOWN);
	grpc_frame_outcome(200, "99", NULL, NULL, &go);
	T_EQ_INT(go.code, GRPC_UNKNOWN);
	grpc_frame_outcome(200, "1 4", NULL, NULL, &go);
	T_EQ_INT(go.code, GRPC_UNKNOWN);
	grpc_frame_outcome(200, "123456789", NULL, NULL, &go);
	T_EQ_INT(go.code, GRPC_UNKNOWN);
	grpc_frame_outcome(200, " 14 ", NULL, NULL, &go);
	T_EQ_INT(go.code, GRPC_UNAVAILABLE);
}

/* ---- answers and requests -------------------------------------------------- */

static size_t partial_logs(uint8_t *buf, int64_t rejected)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess ps =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse r =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;

	ps.rejected_log_records = rejected;
	ps.error_message = "too old";
	r.partial_success = &ps;
	return opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(&r,
											     buf);
}

static size_t frame(uint8_t *out, int comp, const void *msg, size_t n)
{
	T_EQ_INT(grpc_frame_header(out, comp, n), 0);
	memcpy(out + GRPC_FRAME_HDR, msg, n);
	return n + GRPC_FRAME_HDR;
}

static void test_response(void)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess mps =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse mr =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	struct response_info ri;
	struct compress *cz;
	uint8_t msg[256], body[512];
	void *z, *big;
	size_t n, zn, bn;
	int kind;

	n = partial_logs(msg, 4);
	bn = frame(body, 0, msg, n);
	T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS, "", body, bn, &ri), 0);
	T_EQ_INT(ri.rejected, 4);
	T_EQ_STR(ri.message, "too old");
	T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS, NULL, NULL, 0, &ri), 0);
	T_EQ_INT(ri.rejected, 0);

	mps.rejected_data_points = 9;
	mr.partial_success = &mps;
	n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(
	    &mr, msg);
	bn = frame(body, 0, msg, n);
	T_EQ_INT(grpc_frame_response(SPOOL_SIG_METRICS, "identity", body, bn, &ri), 0);
	T_EQ_INT(ri.rejected, 9);

	/* compressed answers, as a server may send when we accept them */
	n = partial_logs(msg, 6);
	for (kind = COMPRESS_GZIP; kind <= COMPRESS_ZSTD; kind++) {
		T_EQ_INT(compress_create((enum compress_kind)kind, 0, &cz), 0);
		T_EQ_INT(compress_run(cz, msg, n, &z, &zn), 0);
		T_ASSERT(zn + GRPC_FRAME_HDR <= sizeof(body));
		bn = frame(body, 1, z, zn);
		T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS,
					     compress_name((enum compress_kind)kind), body, bn,
					     &ri),
			 0);
		T_EQ_INT(ri.rejected, 6);
		/* flag set but no encoding named; an encoding we never offered */
		T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS, "identity", body, bn, &ri), -EBADMSG);
		T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS, "snappy", body, bn, &ri), -ENOTSUP);
		/* the wrong codec; and a stream cut short */
		T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS,
					     kind == COMPRESS_GZIP ? "zstd" : "gzip", body, bn,
					     &ri),
			 -EBADMSG);
		bn = frame(body, 1, z, zn - 3);
		T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS,
					     compress_name((enum compress_kind)kind), body, bn,
					     &ri),
			 -EBADMSG);
		free(z);

		/* a bomb: 2 MiB of zeros in a few kilobytes stops at the cap */
		big = calloc(1, 2u << 20);
		T_ASSERT(big);
		T_EQ_INT(compress_run(cz, big, 2u << 20, &z, &zn), 0);
		free(big);
		big = malloc(zn + GRPC_FRAME_HDR);
		T_ASSERT(big);
		bn = frame(big, 1, z, zn);
		T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS,
					     compress_name((enum compress_kind)kind), big, bn, &ri),
			 -EMSGSIZE);
		free(big);
		free(z);
		compress_destroy(cz);
	}

	/* not a response message */
	bn = frame(body, 0, "\xff\xff\xff", 3);
	T_EQ_INT(grpc_frame_response(SPOOL_SIG_LOGS, "", body, bn, &ri), -EBADMSG);
	T_EQ_INT(ri.rejected, 0);
}

static void test_request_body(void)
{
	static const char payload[] = "\x0a\x02\x0a\x00 not really protobuf, gRPC does not care";
	struct compress *cz;
	uint8_t out[256];
	const uint8_t *msg;
	size_t len, mlen;
	void *body;
	int comp, kind, n;

	T_EQ_STR(request_body_content_type(REQUEST_BODY_GRPC), "application/grpc");
	for (kind = COMPRESS_NONE; kind <= COMPRESS_ZSTD; kind++) {
		T_EQ_INT(compress_create((enum compress_kind)kind, 0, &cz), 0);
		T_EQ_INT(request_body_build(REQUEST_BODY_GRPC, cz, SPOOL_SIG_LOGS, payload,
					    sizeof(payload), &body, &len),
			 0);
		T_EQ_INT(grpc_frame_parse(body, len, 1u << 20, &comp, &msg, &mlen), 0);
		T_EQ_INT(comp, kind != COMPRESS_NONE);
		n = compress_decode((enum compress_kind)kind, msg, mlen, out, sizeof(out));
		T_EQ_INT(n, sizeof(payload));
		T_ASSERT(memcmp(out, payload, sizeof(payload)) == 0);
		T_EQ_INT(compress_decode((enum compress_kind)kind, msg, mlen, out, 4), -EMSGSIZE);
		free(body);
		compress_destroy(cz);
	}
	/* without a compressor: identity */
	T_EQ_INT(
	    request_body_build(REQUEST_BODY_GRPC, NULL, SPOOL_SIG_LOGS, payload, 0, &body, &len),
	    0);
	T_EQ_INT(len, GRPC_FRAME_HDR);
	T_EQ_INT(grpc_frame_parse(body, len, 10, &comp, &msg, &mlen), 0);
	T_ASSERT(comp == 0 && mlen == 0);
	free(body);
}

static void test_endpoint(void)
{
	char u[256];

	T_EQ_INT(endpoint_grpc_url("http://127.0.0.1:4317", GRPC_PATH_LOGS, u, sizeof(u)), 0);
	T_EQ_STR(u,
		 "http://127.0.0.1:4317/opentelemetry.proto.collector.logs.v1.LogsService/Export");
	/* the path is not part of a gRPC target */
	T_EQ_INT(endpoint_grpc_url("HTTPS://otlp.example.com:443/some/path?q=1", GRPC_PATH_METRICS,
				   u, sizeof(u)),
		 0);
	T_EQ_STR(u, "HTTPS://otlp.example.com:443/"
		    "opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
	T_EQ_INT(endpoint_grpc_url("https://h", "M", u, sizeof(u)), 0);
	T_EQ_STR(u, "https://h/M");
	T_EQ_INT(endpoint_grpc_url("", "M", u, sizeof(u)), -EINVAL);
	T_EQ_INT(endpoint_grpc_url("collector:4317", "M", u, sizeof(u)), -EINVAL);
	T_EQ_INT(endpoint_grpc_url("unix:///run/x", "M", u, sizeof(u)), -EINVAL);
	T_EQ_INT(endpoint_grpc_url("http:///path", "M", u, sizeof(u)), -EINVAL);
	T_EQ_INT(endpoint_grpc_url("http://h:1", "M", u, 10), -ENAMETOOLONG);
}

int main(void)
{
	T_RUN(test_frame);
	T_RUN(test_timeout);
	T_RUN(test_message);
	T_RUN(test_retry_table);
	T_RUN(test_retry_info);
	T_RUN(test_outcome);
	T_RUN(test_response);
	T_RUN(test_request_body);
	T_RUN(test_endpoint);
	return 0;
}
