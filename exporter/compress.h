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

#define COMPRESS_ZSTD_LEVEL 3

struct compress;

/* "gzip", "zstd", "none" (or "") -> enum compress_kind; -EINVAL else. */
int compress_parse(const char *name);

/* Name for the config/status ("gzip", "zstd", "none"). */
const char *compress_name(enum compress_kind kind);

/* Content-Encoding value, or NULL for COMPRESS_NONE. */
const char *compress_encoding(enum compress_kind kind);

/* 0 and *out, or -EINVAL (bad kind), -ENOMEM. */
int compress_create(enum compress_kind kind, struct compress **out);

/* Accepts NULL. */
void compress_destroy(struct compress *c);

enum compress_kind compress_kind(const struct compress *c);

/*
 * Compresses len bytes of in into a new malloc'd buffer (*out, *outlen;
 * the caller frees it). COMPRESS_NONE copies. Returns 0, -ENOMEM, or -EIO
 * when the library fails (its message is logged here, once per call).
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
