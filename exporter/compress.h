/* SPDX-License-Identifier: MIT */
/*
 * Request-body compression for the exporter: gzip (every OTLP receiver
 * must accept it), zstd (smaller and faster, for receivers that take it)
 * or none. One struct compress per exporter keeps its zlib stream and
 * zstd context alive, so compressing a request allocates only the output.
 * Called from the exporter's single thread; not thread-safe.
 */
#ifndef EXPORTER_COMPRESS_H
#define EXPORTER_COMPRESS_H

#include <stddef.h>

enum compress_kind {
	COMPRESS_NONE = 0,
	COMPRESS_GZIP = 1,
	COMPRESS_ZSTD = 2,
	COMPRESS_NR /* count sentinel */
};

/*
 * Default levels ([exporter] gzip_level, zstd_level). Measured on the
 * benchmark's log requests (836 KB of OTLP protobuf, 8192 records):
 * zlib level 6 costs 8170 instructions a record for 19.5x, level 1 3130
 * for 18.6x (5 % more bytes for 2.6x less CPU); zstd 3 costs 730 for 30x,
 * zstd 1 about as much for 17x, so 3 stays.
 */
#define COMPRESS_GZIP_LEVEL 1
#define COMPRESS_ZSTD_LEVEL 3
#define COMPRESS_GZIP_LEVEL_MAX 9
#define COMPRESS_ZSTD_LEVEL_MAX 19

struct compress;

/* "gzip", "zstd", "none" (or "") -> enum compress_kind; -EINVAL else. */
int compress_parse(const char *name);

/* Name for the config/status ("gzip", "zstd", "none"). */
const char *compress_name(enum compress_kind kind);

/* Content-Encoding value, or NULL for COMPRESS_NONE. */
const char *compress_encoding(enum compress_kind kind);

/*
 * level: zlib's 1..COMPRESS_GZIP_LEVEL_MAX for gzip, zstd's
 * 1..COMPRESS_ZSTD_LEVEL_MAX for zstd, ignored for none; 0 means the
 * kind's default. 0 and *out, or -EINVAL (bad kind or level), -ENOMEM,
 * -EIO (the library refused; its message is logged).
 */
int compress_create(enum compress_kind kind, int level, struct compress **out);

/* Accepts NULL. */
void compress_destroy(struct compress *c);

enum compress_kind compress_kind(const struct compress *c);

/*
 * Compresses len bytes of in into a new malloc'd buffer of exactly
 * *outlen bytes (*out; the caller frees it). The library writes into a
 * scratch buffer that c keeps (sized by its bound, grown only), so a
 * request does not fault in a fresh bound-sized buffer each time nor hold
 * one while it is in flight. COMPRESS_NONE copies. Returns 0, -ENOMEM,
 * or -EIO when the library fails (its message is logged here, once per
 * call).
 */
int compress_run(struct compress *c, const void *in, size_t len, void **out, size_t *outlen);

/*
 * Decompresses len bytes of in (gzip or zstd; COMPRESS_NONE copies) into
 * out, at most outcap bytes: for the small messages a gRPC server may
 * compress (its answers), which are untrusted. Stateless; thread-safe.
 * Returns the decoded length, -EMSGSIZE when it does not fit in outcap,
 * -EBADMSG for data that does not decode, -ENOMEM, -EINVAL (bad kind).
 */
int compress_decode(enum compress_kind kind, const void *in, size_t len, void *out, size_t outcap);

#endif
