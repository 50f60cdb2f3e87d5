/* SPDX-License-Identifier: MIT */
/*
 * gRPC framing, status and RetryInfo decoding; see grpc_frame.h. The
 * google.rpc.Status / Any / RetryInfo / Duration walk is a few lines of
 * protobuf wire format by hand rather than generated code: only four
 * fields matter, and a hand walk makes every bound visible.
 */
#include "grpc_frame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compress.h"
#include "retry.h"

static const char *const code_names[GRPC_CODE_NR] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *grpc_code_name(int code)
{
	return code >= 0 && code < GRPC_CODE_NR ? code_names[code] : "UNKNOWN";
}

int grpc_frame_header(uint8_t hdr[GRPC_FRAME_HDR], int compressed, size_t len)
{
	if ((uint64_t)len > UINT32_MAX)
		return -EMSGSIZE;
	hdr[0] = compressed ? 1 : 0;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	return 0;
}

int grpc_frame_parse(const void *buf, size_t len, size_t max, int *compressed, const uint8_t **msg,
		     size_t *msglen)
{
	const uint8_t *p = buf;
	uint32_t n;

	*msg = NULL;
	*msglen = 0;
	*compressed = 0;
	if (len == 0)
		return 0;
	if (len < GRPC_FRAME_HDR || p[0] > 1)
		return -EBADMSG;
	n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	if (n > max)
		return -EMSGSIZE;
	/* A unary answer is exactly one message. */
	if ((size_t)n != len - GRPC_FRAME_HDR)
		return -EBADMSG;
	*compressed = p[0];
	*msg = p + GRPC_FRAME_HDR;
	*msglen = n;
	return 0;
}

int grpc_timeout_format(uint32_t timeout_ms, char *out, size_t outlen)
{
	int n;

	if (timeout_ms == 0)
		n = snprintf(out, outlen, "%s", "");
	else if (timeout_ms <= 99999999u) /* TimeoutValue: at most 8 digits */
		n = snprintf(out, outlen, "%um", timeout_ms);
	else
		n = snprintf(out, outlen, "%uS", (unsigned)((timeout_ms + 999ull) / 1000));
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void grpc_message_decode(const char *in, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	if (outlen == 0)
		return;
	while (i < len && o + 1 < outlen) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%' && i + 2 < len && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
			c = (unsigned char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
			i += 3;
		} else {
			i++;
		}
		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

/* ---- a minimal protobuf walk ------------------------------------------- */

struct pb_field {
	uint32_t num;
	uint32_t wt;
	uint64_t v;	   /* varint value */
	const uint8_t *ld; /* length-delimited bytes */
	size_t ldlen;
};

static int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
		shift += 7;
	}
	return -EBADMSG;
}

/* 1 and *f for the next field, 0 at the end, -EBADMSG on bad bytes. */
static int pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f)
{
	uint64_t key, n;

	if (*p >= end)
		return 0;
	if (pb_varint(p, end, &key) < 0 || (key >> 3) == 0 || (key >> 3) > UINT32_MAX)
		return -EBADMSG;
	f->num = (uint32_t)(key >> 3);
	f->wt = (uint32_t)(key & 7);
	f->ld = NULL;
	f->ldlen = 0;
	f->v = 0;
	switch (f->wt) {
	case 0:
		return pb_varint(p, end, &f->v) < 0 ? -EBADMSG : 1;
	case 1:
	case 5:
		n = f->wt == 1 ? 8 : 4;
		if ((uint64_t)(end - *p) < n)
			return -EBADMSG;
		*p += n;
		return 1;
	case 2:
		if (pb_varint(p, end, &n) < 0 || n > (uint64_t)(end - *p))
			return -EBADMSG;
		f->ld = *p;
		f->ldlen = (size_t)n;
		*p += n;
		return 1;
	default: /* groups (3, 4) are not in these messages; 6, 7 do not exist */
		return -EBADMSG;
	}
}

/* google.protobuf.Duration -> milliseconds, capped. */
static int duration_ms(const uint8_t *p, size_t len, uint32_t *ms)
{
	const uint8_t *end = p + len;
	struct pb_field f;
	int64_t secs = 0, nanos = 0;
	uint64_t total;
	int r;

	while ((r = pb_next(&p, end, &f)) > 0) {
		if (f.num == 1 && f.wt == 0)
			secs = (int64_t)f.v;
		else if (f.num == 2 && f.wt == 0)
			nanos = (int32_t)(uint32_t)f.v;
	}
	if (r < 0)
		return r;
	if (secs < 0 || (secs == 0 && nanos <= 0)) {
		*ms = 0;
		return 0;
	}
	if (secs >= RETRY_AFTER_MAX_MS / 1000) {
		*ms = RETRY_AFTER_MAX_MS;
		return 0;
	}
	total = (uint64_t)secs * 1000 + (nanos > 0 ? (uint64_t)(nanos + 999999) / 1000000 : 0);
	*ms = total > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : (uint32_t)total;
	return 0;
}

static int retry_info_ms(const uint8_t *p, size_t len, uint32_t *ms)
{
	const uint8_t *end = p + len;
	struct pb_field f;
	int r;

	*ms = 0; /* a RetryInfo without retry_delay: retry with our back-off */
	while ((r = pb_next(&p, end, &f)) > 0)
		if (f.num == 1 && f.wt == 2 && duration_ms(f.ld, f.ldlen, ms) < 0)
			return -EBADMSG;
	return r;
}

#define RETRY_INFO_TYPE "google.rpc.RetryInfo"

/* An Any: 1 and *ms when it is a RetryInfo, 0 when it is something else. */
static int any_retry_info(const uint8_t *p, size_t len, uint32_t *ms)
{
	const uint8_t *end = p + len, *val = NULL;
	size_t tlen = sizeof(RETRY_INFO_TYPE) - 1, vlen = 0;
	struct pb_field f;
	int is_ri = 0, r;

	while ((r = pb_next(&p, end, &f)) > 0) {
		/* type_url is "<prefix>/google.rpc.RetryInfo"; the prefix
		 * (type.googleapis.com) is not ours to judge. */
		if (f.num == 1 && f.wt == 2)
			is_ri = f.ldlen >= tlen &&
				memcmp(f.ld + f.ldlen - tlen, RETRY_INFO_TYPE, tlen) == 0 &&
				(f.ldlen == tlen || f.ld[f.ldlen - tlen - 1] == '/');
		else if (f.num == 2 && f.wt == 2) {
			val = f.ld;
			vlen = f.ldlen;
		}
	}
	if (r < 0)
		return r;
	if (!is_ri)
		return 0;
	if (retry_info_ms(val ? val : end, vlen, ms) < 0)
		return -EBADMSG;
	return 1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard or URL-safe base64, padding optional. Returns the decoded
 * length or -EBADMSG. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	uint32_t acc = 0;
	size_t o = 0, i;
	int bits = 0, v;

	while (len && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		v = b64val(in[i]);
		if (v < 0)
			return -EBADMSG;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -EBADMSG;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* One leftover character (6 bits) cannot end a valid encoding. */
	if (bits >= 6)
		return -EBADMSG;
	return (int)o;
}

int grpc_retry_info_parse(const char *b64, size_t len, uint32_t *delay_ms)
{
	uint8_t bin[GRPC_DETAILS_MAX];
	const uint8_t *p, *end;
	struct pb_field f;
	int n, r;

	if (!b64 || len == 0)
		return -ENOENT;
	if (len > GRPC_DETAILS_MAX)
		return -EBADMSG;
	n = b64_decode(b64, len, bin, sizeof(bin));
	if (n < 0)
		return n;
	p = bin;
	end = bin + n;
	/* google.rpc.Status: details = 3 (repeated Any). */
	while ((r = pb_next(&p, end, &f)) > 0) {
		if (f.num != 3 || f.wt != 2)
			continue;
		r = any_retry_info(f.ld, f.ldlen, delay_ms);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return r < 0 ? r : -ENOENT;
}

int grpc_code_from_http(long http_status)
{
	switch (http_status) {
	case 400:
		return GRPC_INTERNAL;
	case 401:
		return GRPC_UNAUTHENTICATED;
	case 403:
		return GRPC_PERMISSION_DENIED;
	case 404:
		return GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return GRPC_UNAVAILABLE;
	default:
		return GRPC_UNKNOWN;
	}
}

/*
 * The OTLP specification's table ("OTLP/gRPC Response", failures):
 * transient conditions are retried, and RESOURCE_EXHAUSTED only when the
 * server says when to come back (RetryInfo): without it, it may mean the
 * request is too large, which no retry can fix.
 */
int grpc_code_retryable(int code, int has_retry_info)
{
	switch (code) {
	case GRPC_CANCELLED:
	case GRPC_DEADLINE_EXCEEDED:
	case GRPC_ABORTED:
	case GRPC_OUT_OF_RANGE:
	case GRPC_UNAVAILABLE:
	case GRPC_DATA_LOSS:
		return 1;
	case GRPC_RESOURCE_EXHAUSTED:
		return has_retry_info ? 1 : 0;
	default:
		return 0;
	}
}

/* A decimal grpc-status, or -1. */
static int parse_code(const char *s)
{
	unsigned v = 0;
	size_t i;

	while (*s == ' ' || *s == '\t')
		s++;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 4)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return s[i] ? -1 : (int)v;
}

void grpc_frame_outcome(long http_status, const char *grpc_status, const char *grpc_message,
			const char *details, struct grpc_outcome *out)
{
	uint32_t ms = 0;
	int code;

	memset(out, 0, sizeof(*out));
	if (grpc_status && *grpc_status) {
		code = parse_code(grpc_status);
		out->code = code >= 0 && code < GRPC_CODE_NR ? code : GRPC_UNKNOWN;
	} else {
		out->from_http = 1;
		out->code = http_status == 200 ? GRPC_UNKNOWN : grpc_code_from_http(http_status);
	}
	if (grpc_message && *grpc_message)
		grpc_message_decode(grpc_message, strlen(grpc_message), out->message,
				    sizeof(out->message));
	if (details && *details && grpc_retry_info_parse(details, strlen(details), &ms) == 0) {
		out->has_retry_info = 1;
		out->retry_delay_ms = ms;
	}
	out->retryable = grpc_code_retryable(out->code, out->has_retry_info);
}

int grpc_frame_response(int sig, const char *encoding, const void *body, size_t len,
			struct response_info *out)
{
	const uint8_t *msg;
	size_t mlen;
	int compressed, kind, n, ret;
	void *buf;

	memset(out, 0, sizeof(*out));
	ret = grpc_frame_parse(body, len, GRPC_RESPONSE_MAX, &compressed, &msg, &mlen);
	if (ret < 0)
		return ret;
	if (!compressed)
		return response_parse_success(sig, "application/x-protobuf", msg, mlen, out);
	if (!encoding || !*encoding || strcasecmp(encoding, "identity") == 0)
		return -EBADMSG; /* flag set, but no compression named */
	if (strcasecmp(encoding, "gzip") == 0)
		kind = COMPRESS_GZIP;
	else if (strcasecmp(encoding, "zstd") == 0)
		kind = COMPRESS_ZSTD;
	else
		return -ENOTSUP;
	buf = malloc(GRPC_RESPONSE_MAX);
	if (!buf)
		return -ENOMEM;
	n = compress_decode((enum compress_kind)kind, msg, mlen, buf, GRPC_RESPONSE_MAX);
	ret =
	    n < 0 ? n : response_parse_success(sig, "application/x-protobuf", buf, (size_t)n, out);
	free(buf);
	return ret;
}
