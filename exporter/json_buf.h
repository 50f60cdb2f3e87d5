/* SPDX-License-Identifier: MIT */
/*
 * A growable text buffer with the JSON primitives OTLP/JSON needs: escaped
 * strings (invalid UTF-8 replaced, so the output is always valid JSON),
 * 64-bit integers as decimal strings, doubles (NaN and infinities as the
 * strings proto3 JSON uses), lowercase hex ids and base64 bytes.
 * Used by json_encode.c and json_metrics.c. Not thread-safe per buffer.
 */
#ifndef EXPORTER_JSON_BUF_H
#define EXPORTER_JSON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char *data; /* NUL-terminated when len > 0; owned */
	size_t len;
	size_t cap;
	int oom; /* an allocation failed: contents are incomplete */
};

void json_buf_init(struct json_buf *b);
/* Frees data; accepts a zeroed or already finished buffer. */
void json_buf_fini(struct json_buf *b);

void json_buf_put(struct json_buf *b, const char *s, size_t n);
void json_buf_puts(struct json_buf *b, const char *s);
void json_buf_putc(struct json_buf *b, char c);

/* '{' or '[' opener, and the closers. */
void json_buf_open(struct json_buf *b, char c);
void json_buf_close(struct json_buf *b, char c);

/* Writes a separating ',' unless the last byte opens an object/array. */
void json_buf_sep(struct json_buf *b);

/* ',' when needed, then "key": */
void json_buf_key(struct json_buf *b, const char *key);

/* A JSON string of n bytes (escaped; invalid UTF-8 becomes U+FFFD). */
void json_buf_str(struct json_buf *b, const char *s, size_t n);
void json_buf_cstr(struct json_buf *b, const char *s);

/* 64-bit integers as quoted decimal strings (proto3 JSON). */
void json_buf_u64_str(struct json_buf *b, uint64_t v);
void json_buf_i64_str(struct json_buf *b, int64_t v);

/* Unquoted integers for 32-bit fields and enums. */
void json_buf_i64(struct json_buf *b, int64_t v);

/* A number, or "NaN" / "Infinity" / "-Infinity" as strings. */
void json_buf_double(struct json_buf *b, double v);

/* Quoted lowercase hex of n bytes. */
void json_buf_hex(struct json_buf *b, const uint8_t *p, size_t n);

/* Quoted standard base64 (with padding) of n bytes. */
void json_buf_base64(struct json_buf *b, const uint8_t *p, size_t n);

/* Hands the text to the caller (who frees it); 0, or -ENOMEM when any
 * earlier append failed (the buffer is then freed). */
int json_buf_take(struct json_buf *b, char **out, size_t *outlen);

#endif
