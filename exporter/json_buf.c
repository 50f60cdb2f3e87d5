/* SPDX-License-Identifier: MIT */
/*
 * JSON text primitives for the OTLP/JSON encoder (json_encode.c). Appends
 * never fail visibly: an allocation failure sets b->oom and later appends
 * are dropped, so encoders check once, in json_buf_take().
 */
#include "json_buf.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_buf_init(struct json_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void json_buf_fini(struct json_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int reserve(struct json_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -ENOMEM;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void json_buf_put(struct json_buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0 || n == 0)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void json_buf_puts(struct json_buf *b, const char *s)
{
	json_buf_put(b, s, strlen(s));
}

void json_buf_putc(struct json_buf *b, char c)
{
	json_buf_put(b, &c, 1);
}

void json_buf_open(struct json_buf *b, char c)
{
	json_buf_putc(b, c);
}

void json_buf_close(struct json_buf *b, char c)
{
	json_buf_putc(b, c);
}

void json_buf_sep(struct json_buf *b)
{
	char last;

	if (b->len == 0)
		return;
	last = b->data[b->len - 1];
	if (last != '{' && last != '[' && last != ':')
		json_buf_putc(b, ',');
}

void json_buf_key(struct json_buf *b, const char *key)
{
	json_buf_sep(b);
	json_buf_putc(b, '"');
	json_buf_puts(b, key); /* keys are our own lowerCamelCase literals */
	json_buf_put(b, "\":", 2);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_buf_str(struct json_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, l;
	char esc[6];

	json_buf_putc(b, '"');
	while (i < n) {
		unsigned char c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++;
			i++;
			continue;
		}
		if (c >= 0x80) {
			l = utf8_len(p + i, n - i);
			if (l) {
				run += l;
				i += l;
				continue;
			}
		}
		json_buf_put(b, (const char *)p + i - run, run);
		run = 0;
		switch (c) {
		case '"':
			json_buf_put(b, "\\\"", 2);
			break;
		case '\\':
			json_buf_put(b, "\\\\", 2);
			break;
		case '\n':
			json_buf_put(b, "\\n", 2);
			break;
		case '\r':
			json_buf_put(b, "\\r", 2);
			break;
		case '\t':
			json_buf_put(b, "\\t", 2);
			break;
		case '\b':
			json_buf_put(b, "\\b", 2);
			break;
		case '\f':
			json_buf_put(b, "\\f", 2);
			break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				json_buf_put(b, esc, 6);
			} else {
				/* Invalid UTF-8 byte: U+FFFD keeps the output
				 * valid JSON for any producer input. */
				json_buf_put(b, "\xef\xbf\xbd", 3);
			}
			break;
		}
		i++;
	}
	json_buf_put(b, (const char *)p + i - run, run);
	json_buf_putc(b, '"');
}

void json_buf_cstr(struct json_buf *b, const char *s)
{
	json_buf_str(b, s ? s : "", s ? strlen(s) : 0);
}

void json_buf_u64_str(struct json_buf *b, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "\"%" PRIu64 "\"", v);

	json_buf_put(b, tmp, (size_t)n);
}

void json_buf_i64_str(struct json_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "\"%" PRId64 "\"", v);

	json_buf_put(b, tmp, (size_t)n);
}

void json_buf_i64(struct json_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	json_buf_put(b, tmp, (size_t)n);
}

void json_buf_double(struct json_buf *b, double v)
{
	char tmp[32];
	int n;

	if (isnan(v)) {
		json_buf_puts(b, "\"NaN\"");
		return;
	}
	if (isinf(v)) {
		json_buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	/* Shortest of %.15g / %.17g that reads back exactly. */
	n = snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	json_buf_put(b, tmp, (size_t)n);
}

void json_buf_hex(struct json_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[2];
	size_t i;

	json_buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		tmp[0] = hex[p[i] >> 4];
		tmp[1] = hex[p[i] & 15];
		json_buf_put(b, tmp, 2);
	}
	json_buf_putc(b, '"');
}

void json_buf_base64(struct json_buf *b, const uint8_t *p, size_t n)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;
	uint32_t v;

	json_buf_putc(b, '"');
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = tbl[v >> 18];
		q[1] = tbl[(v >> 12) & 63];
		q[2] = tbl[(v >> 6) & 63];
		q[3] = tbl[v & 63];
		json_buf_put(b, q, 4);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		q[0] = tbl[v >> 18];
		q[1] = tbl[(v >> 12) & 63];
		q[2] = '=';
		q[3] = '=';
		json_buf_put(b, q, 4);
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		q[0] = tbl[v >> 18];
		q[1] = tbl[(v >> 12) & 63];
		q[2] = tbl[(v >> 6) & 63];
		q[3] = '=';
		json_buf_put(b, q, 4);
	}
	json_buf_putc(b, '"');
}

int json_buf_take(struct json_buf *b, char **out, size_t *outlen)
{
	if (b->oom || reserve(b, 0) < 0) {
		json_buf_fini(b);
		return -ENOMEM;
	}
	b->data[b->len] = '\0';
	*out = b->data;
	*outlen = b->len;
	memset(b, 0, sizeof(*b));
	return 0;
}
