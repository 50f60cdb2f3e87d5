/* SPDX-License-Identifier: MIT */
/*
 * Decoding of OTLP/HTTP responses for exporter.c and selftest.c. Protobuf
 * bodies go through protobuf-c; the JSON forms only need two or three
 * members, found by a small scanner rather than a JSON library, because
 * the result is only ever logged and counted.
 */
#include "response.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "spool_file.h"

static int is_json(const char *content_type)
{
	return content_type && strncasecmp(content_type, "application/json", 16) == 0;
}

static int is_protobuf(const char *content_type)
{
	return content_type && strncasecmp(content_type, "application/x-protobuf", 22) == 0;
}

/* Copies printable characters of s (n bytes) to out, blanks for line
 * breaks and tabs, at most max characters; other bytes are skipped. */
static void printable(char *out, size_t outlen, const char *s, size_t n, size_t max)
{
	size_t i, o = 0;

	if (outlen == 0)
		return;
	if (max > outlen - 1)
		max = outlen - 1;
	for (i = 0; i < n && o < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
	}
	/* Trailing blanks from a final newline say nothing. */
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* Finds "key" followed by ':' in a JSON text; returns the position after
 * the colon and blanks, or NULL. */
static const char *json_find(const char *s, size_t n, const char *key)
{
	size_t klen = strlen(key);
	const char *end = s + n, *p = s, *q;

	while (p + klen + 2 <= end) {
		q = memchr(p, '"', (size_t)(end - p));
		if (!q || q + klen + 2 > end)
			return NULL;
		if (memcmp(q + 1, key, klen) == 0 && q[klen + 1] == '"') {
			q += klen + 2;
			while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
				q++;
			if (q < end && *q == ':') {
				q++;
				while (q < end &&
				       (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
					q++;
				return q;
			}
		}
		p = q + 1;
	}
	return NULL;
}

/* A JSON string at p: copies its printable content (escapes reduced to
 * their character, \uXXXX to '?'). Returns 0, or -EBADMSG if p is not a
 * string. */
static int json_string(const char *p, const char *end, char *out, size_t outlen)
{
	size_t o = 0;

	if (p >= end || *p != '"')
		return -EBADMSG;
	for (p++; p < end && *p != '"' && o + 1 < outlen; p++) {
		char c = *p;

		if (c == '\\' && p + 1 < end) {
			p++;
			switch (*p) {
			case 'n':
			case 'r':
			case 't':
				c = ' ';
				break;
			case 'u':
				c = '?';
				p += (end - p > 4) ? 4 : end - p - 1;
				break;
			default:
				c = *p;
				break;
			}
		}
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* A JSON integer, bare or quoted (proto3 JSON int64). */
static int64_t json_int(const char *p, const char *end)
{
	char tmp[24];
	size_t n = 0;

	if (p < end && *p == '"')
		p++;
	if (p < end && *p == '-')
		tmp[n++] = *p++;
	while (p < end && *p >= '0' && *p <= '9' && n + 1 < sizeof(tmp))
		tmp[n++] = *p++;
	tmp[n] = '\0';
	return strtoll(tmp, NULL, 10);
}

static int success_json(int sig, const char *body, size_t len, struct response_info *out)
{
	const char *end = body + len;
	const char *p;

	p = json_find(body, len,
		      sig == SPOOL_SIG_METRICS ? "rejectedDataPoints" : "rejectedLogRecords");
	if (p)
		out->rejected = json_int(p, end);
	p = json_find(body, len, "errorMessage");
	if (p)
		json_string(p, end, out->message, sizeof(out->message));
	return 0;
}

static int success_protobuf(int sig, const void *body, size_t len, struct response_info *out)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *lr;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *mr;
	const char *msg = NULL;

	if (sig == SPOOL_SIG_METRICS) {
		mr =
		    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
			NULL, len, body);
		if (!mr)
			return -EBADMSG;
		if (mr->partial_success) {
			out->rejected = mr->partial_success->rejected_data_points;
			msg = mr->partial_success->error_message;
		}
		if (msg)
			printable(out->message, sizeof(out->message), msg, strlen(msg),
				  sizeof(out->message) - 1);
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
		    mr, NULL);
		return 0;
	}
	lr = opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
	    NULL, len, body);
	if (!lr)
		return -EBADMSG;
	if (lr->partial_success) {
		out->rejected = lr->partial_success->rejected_log_records;
		msg = lr->partial_success->error_message;
	}
	if (msg)
		printable(out->message, sizeof(out->message), msg, strlen(msg),
			  sizeof(out->message) - 1);
	opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
	    lr, NULL);
	return 0;
}

int response_parse_success(int sig, const char *content_type, const void *body, size_t len,
			   struct response_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!body || len == 0)
		return 0;
	if (is_json(content_type))
		return success_json(sig, body, len, out);
	return success_protobuf(sig, body, len, out);
}

static int error_protobuf(const void *body, size_t len, struct response_info *out)
{
	Google__Rpc__Status *st;

	st = google__rpc__status__unpack(NULL, len, body);
	if (!st)
		return -EBADMSG;
	if (st->message && *st->message)
		printable(out->message, sizeof(out->message), st->message, strlen(st->message),
			  sizeof(out->message) - 1);
	google__rpc__status__free_unpacked(st, NULL);
	return out->message[0] ? 0 : -EBADMSG;
}

void response_parse_error(const char *content_type, const void *body, size_t len,
			  struct response_info *out)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	if (!body || len == 0)
		return;
	if (is_protobuf(content_type) || !content_type || !*content_type) {
		if (error_protobuf(body, len, out) == 0)
			return;
	} else if (is_json(content_type)) {
		p = json_find(body, len, "message");
		if (p &&
		    json_string(p, (const char *)body + len, out->message, sizeof(out->message)) ==
			0 &&
		    out->message[0])
			return;
	}
	printable(out->message, sizeof(out->message), body, len, RESPONSE_EXCERPT_MAX);
}
