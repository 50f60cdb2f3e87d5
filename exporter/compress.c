/* SPDX-License-Identifier: MIT */
/*
 * gzip via one reused zlib stream (deflate with a gzip wrapper: windowBits
 * 15 + 16, reset per request) and zstd via one reused ZSTD_CCtx, at the
 * levels of [exporter] gzip_level and zstd_level. Both compress a whole
 * request in one call into a scratch buffer sized by the library's bound,
 * so there is no streaming state to get wrong between requests; the
 * result is copied out at its exact size.
 */
#include "compress.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "log.h"

struct compress {
	enum compress_kind kind;
	int zs_ready; /* zs initialised by deflateInit2 */
	z_stream zs;
	ZSTD_CCtx *zcx;
	void *scratch; /* the library's output, grown to the largest bound */
	size_t scratch_cap;
};

int compress_parse(const char *name)
{
	if (!name || !*name || strcmp(name, "none") == 0)
		return COMPRESS_NONE;
	if (strcmp(name, "gzip") == 0)
		return COMPRESS_GZIP;
	if (strcmp(name, "zstd") == 0)
		return COMPRESS_ZSTD;
	return -EINVAL;
}

const char *compress_name(enum compress_kind kind)
{
	switch (kind) {
	case COMPRESS_GZIP:
		return "gzip";
	case COMPRESS_ZSTD:
		return "zstd";
	default:
		return "none";
	}
}

const char *compress_encoding(enum compress_kind kind)
{
	return kind == COMPRESS_NONE ? NULL : compress_name(kind);
}

void compress_destroy(struct compress *c)
{
	if (!c)
		return;
	if (c->zs_ready)
		deflateEnd(&c->zs);
	ZSTD_freeCCtx(c->zcx); /* accepts NULL */
	free(c->scratch);
	free(c);
}

int compress_create(enum compress_kind kind, int level, struct compress **out)
{
	struct compress *c;
	size_t zr;
	int ret;

	if ((int)kind < 0 || kind >= COMPRESS_NR || level < 0)
		return -EINVAL;
	if (kind == COMPRESS_GZIP && level > COMPRESS_GZIP_LEVEL_MAX)
		return -EINVAL;
	if (kind == COMPRESS_ZSTD && level > COMPRESS_ZSTD_LEVEL_MAX)
		return -EINVAL;
	if (level == 0)
		level = kind == COMPRESS_GZIP ? COMPRESS_GZIP_LEVEL : COMPRESS_ZSTD_LEVEL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->kind = kind;
	if (kind == COMPRESS_GZIP) {
		/* windowBits 15 + 16 asks zlib for a gzip header and trailer,
		 * which is what Content-Encoding: gzip means. */
		ret = deflateInit2(&c->zs, level, Z_DEFLATED, 15 + 16, 8,
				   Z_DEFAULT_STRATEGY);
		if (ret != Z_OK) {
			LOGE("compress: deflateInit2: %s", c->zs.msg ? c->zs.msg : zError(ret));
			ret = ret == Z_MEM_ERROR ? -ENOMEM : -EIO;
			goto err_free;
		}
		c->zs_ready = 1;
	} else if (kind == COMPRESS_ZSTD) {
		c->zcx = ZSTD_createCCtx();
		if (!c->zcx) {
			ret = -ENOMEM;
			goto err_free;
		}
		zr = ZSTD_CCtx_setParameter(c->zcx, ZSTD_c_compressionLevel, level);
		if (ZSTD_isError(zr)) {
			LOGE("compress: zstd level: %s", ZSTD_getErrorName(zr));
			ret = -EIO;
			goto err_free;
		}
	}
	*out = c;
	return 0;

err_free:
	compress_destroy(c);
	return ret;
}

enum compress_kind compress_kind(const struct compress *c)
{
	return c->kind;
}

/* Makes c->scratch at least cap bytes; its old contents are not kept. */
static int scratch_reserve(struct compress *c, size_t cap)
{
	void *p;

	if (cap <= c->scratch_cap)
		return 0;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	free(c->scratch);
	c->scratch = p;
	c->scratch_cap = cap;
	return 0;
}

/* The first len bytes of the scratch buffer, as a new exact-size buffer. */
static int scratch_copy(const struct compress *c, size_t len, void **out, size_t *outlen)
{
	void *buf = malloc(len ? len : 1);

	if (!buf)
		return -ENOMEM;
	memcpy(buf, c->scratch, len);
	*out = buf;
	*outlen = len;
	return 0;
}

static int run_gzip(struct compress *c, const void *in, size_t len, void **out, size_t *outlen)
{
	uLong bound;
	int zr, ret;

	if (len > UINT32_MAX)
		return -EINVAL;
	zr = deflateReset(&c->zs);
	if (zr != Z_OK) {
		LOGE("compress: deflateReset: %s", zError(zr));
		return -EIO;
	}
	bound = deflateBound(&c->zs, (uLong)len);
	if (bound > UINT32_MAX)
		return -EINVAL;
	ret = scratch_reserve(c, bound);
	if (ret < 0)
		return ret;
	c->zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const */
	c->zs.avail_in = (uInt)len;
	c->zs.next_out = c->scratch;
	c->zs.avail_out = (uInt)bound;
	zr = deflate(&c->zs, Z_FINISH);
	if (zr != Z_STREAM_END) {
		LOGE("compress: deflate: %s", c->zs.msg ? c->zs.msg : zError(zr));
		return -EIO;
	}
	return scratch_copy(c, c->zs.total_out, out, outlen);
}

static int run_zstd(struct compress *c, const void *in, size_t len, void **out, size_t *outlen)
{
	size_t bound = ZSTD_compressBound(len);
	size_t zr;
	int ret;

	if (ZSTD_isError(bound))
		return -EINVAL;
	ret = scratch_reserve(c, bound);
	if (ret < 0)
		return ret;
	zr = ZSTD_compress2(c->zcx, c->scratch, bound, in, len);
	if (ZSTD_isError(zr)) {
		LOGE("compress: zstd: %s", ZSTD_getErrorName(zr));
		return -EIO;
	}
	return scratch_copy(c, zr, out, outlen);
}

int compress_run(struct compress *c, const void *in, size_t len, void **out, size_t *outlen)
{
	void *buf;

	switch (c->kind) {
	case COMPRESS_GZIP:
		return run_gzip(c, in, len, out, outlen);
	case COMPRESS_ZSTD:
		return run_zstd(c, in, len, out, outlen);
	default:
		buf = malloc(len ? len : 1);
		if (!buf)
			return -ENOMEM;
		if (len)
			memcpy(buf, in, len);
		*out = buf;
		*outlen = len;
		return 0;
	}
}

static int decode_gzip(const void *in, size_t len, void *out, size_t outcap)
{
	z_stream zs;
	int zr, ret;

	if (len > UINT32_MAX || outcap > UINT32_MAX)
		return -EMSGSIZE;
	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: a gzip wrapper, as grpc-encoding: gzip means. */
	zr = inflateInit2(&zs, 15 + 16);
	if (zr != Z_OK)
		return zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const */
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)outcap;
	zr = inflate(&zs, Z_FINISH);
	if (zr == Z_STREAM_END)
		ret = (int)zs.total_out;
	else if (zr == Z_MEM_ERROR)
		ret = -ENOMEM;
	else if (zs.avail_out == 0 && (zr == Z_BUF_ERROR || zr == Z_OK))
		ret = -EMSGSIZE;
	else
		ret = -EBADMSG;
	inflateEnd(&zs);
	return ret;
}

static int decode_zstd(const void *in, size_t len, void *out, size_t outcap)
{
	ZSTD_DCtx *dcx = ZSTD_createDCtx();
	ZSTD_inBuffer ib = {in, len, 0};
	ZSTD_outBuffer ob = {out, outcap, 0};
	size_t zr;
	int ret;

	if (!dcx)
		return -ENOMEM;
	/* Streaming rather than ZSTD_decompress: a frame may omit its
	 * content size, and a claimed size must not size anything. */
	for (;;) {
		size_t in_before = ib.pos, out_before = ob.pos;

		zr = ZSTD_decompressStream(dcx, &ob, &ib);
		if (ZSTD_isError(zr)) {
			ret = -EBADMSG;
			break;
		}
		if (zr == 0) {
			/* One frame, and nothing after it. */
			ret = ib.pos == ib.size ? (int)ob.pos : -EBADMSG;
			break;
		}
		if (ob.pos == ob.size) {
			ret = -EMSGSIZE;
			break;
		}
		if (ib.pos == ib.size || (ib.pos == in_before && ob.pos == out_before)) {
			ret = -EBADMSG; /* truncated frame */
			break;
		}
	}
	ZSTD_freeDCtx(dcx);
	return ret;
}

int compress_decode(enum compress_kind kind, const void *in, size_t len, void *out, size_t outcap)
{
	if (outcap > INT32_MAX)
		outcap = INT32_MAX;
	switch (kind) {
	case COMPRESS_NONE:
		if (len > outcap)
			return -EMSGSIZE;
		if (len)
			memcpy(out, in, len);
		return (int)len;
	case COMPRESS_GZIP:
		return decode_gzip(in, len, out, outcap);
	case COMPRESS_ZSTD:
		return decode_zstd(in, len, out, outcap);
	default:
		return -EINVAL;
	}
}
