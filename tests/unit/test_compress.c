/* SPDX-License-Identifier: MIT */
/*
 * exporter/compress.c: gzip and zstd round trips through the reference
 * decoders (zlib inflate with gzip framing, ZSTD_decompress), reuse of one
 * context (and its scratch buffer: large inputs, then small) across
 * requests, empty input, every accepted level and the refused ones, and
 * name parsing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "compress.h"
#include "test_help.h"

static unsigned char *sample(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	uint32_t x = seed | 1;
	size_t i;

	T_ASSERT(p);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		/* half text-like (compressible), half noise */
		p[i] =
		    (i / 512) % 2 ? (unsigned char)x : (unsigned char)("shmlog log line "[i % 16]);
	}
	return p;
}

static void gunzip_check(const void *z, size_t zlen, const void *want, size_t n)
{
	unsigned char *out = malloc(n + 16);
	z_stream zs;

	T_ASSERT(out);
	memset(&zs, 0, sizeof(zs));
	T_EQ_INT(inflateInit2(&zs, 15 + 16), Z_OK); /* gzip framing only */
	zs.next_in = (Bytef *)(uintptr_t)z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = out;
	zs.avail_out = (uInt)(n + 16);
	T_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	T_EQ_INT(zs.total_out, n);
	T_ASSERT(n == 0 || memcmp(out, want, n) == 0);
	inflateEnd(&zs);
	free(out);
}

static void unzstd_check(const void *z, size_t zlen, const void *want, size_t n)
{
	unsigned char *out = malloc(n + 1);
	size_t r;

	T_ASSERT(out);
	T_EQ_INT(ZSTD_getFrameContentSize(z, zlen), n);
	r = ZSTD_decompress(out, n + 1, z, zlen);
	T_ASSERT(!ZSTD_isError(r));
	T_EQ_INT(r, n);
	T_ASSERT(n == 0 || memcmp(out, want, n) == 0);
	free(out);
}

static void round_trip(enum compress_kind kind, int level)
{
	static const size_t sizes[] = {0, 1, 100, 65536, 1000003};
	struct compress *c = NULL;
	unsigned i, round;

	T_EQ_INT(compress_create(kind, level, &c), 0);
	T_EQ_INT(compress_kind(c), kind);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			unsigned char *in = sample(sizes[i], i + 1 + round);
			void *out = NULL;
			size_t olen = 0;

			T_EQ_INT(compress_run(c, in, sizes[i], &out, &olen), 0);
			if (kind == COMPRESS_GZIP) {
				T_ASSERT(olen >= 18);
				T_EQ_INT(((unsigned char *)out)[0], 0x1f);
				T_EQ_INT(((unsigned char *)out)[1], 0x8b);
				gunzip_check(out, olen, in, sizes[i]);
			} else if (kind == COMPRESS_ZSTD) {
				unzstd_check(out, olen, in, sizes[i]);
			} else {
				T_EQ_INT(olen, sizes[i]);
				T_ASSERT(olen == 0 || memcmp(out, in, olen) == 0);
			}
			if (kind != COMPRESS_NONE && sizes[i] == 65536)
				T_ASSERT(olen < sizes[i]);
			free(out);
			free(in);
		}
	}
	compress_destroy(c);
}

static void test_gzip(void)
{
	round_trip(COMPRESS_GZIP, 0);
}

static void test_zstd(void)
{
	round_trip(COMPRESS_ZSTD, 0);
}

static void test_none(void)
{
	round_trip(COMPRESS_NONE, 0);
}

static void test_levels(void)
{
	struct compress *c = NULL;

	round_trip(COMPRESS_GZIP, 1);
	round_trip(COMPRESS_GZIP, COMPRESS_GZIP_LEVEL_MAX);
	round_trip(COMPRESS_ZSTD, 1);
	round_trip(COMPRESS_ZSTD, COMPRESS_ZSTD_LEVEL_MAX);
	T_EQ_INT(compress_create(COMPRESS_GZIP, COMPRESS_GZIP_LEVEL_MAX + 1, &c), -EINVAL);
	T_EQ_INT(compress_create(COMPRESS_ZSTD, COMPRESS_ZSTD_LEVEL_MAX + 1, &c), -EINVAL);
	T_EQ_INT(compress_create(COMPRESS_GZIP, -1, &c), -EINVAL);
	T_ASSERT(c == NULL);
}

static void test_names(void)
{
	struct compress *c = NULL;

	T_EQ_INT(compress_parse("gzip"), COMPRESS_GZIP);
	T_EQ_INT(compress_parse("zstd"), COMPRESS_ZSTD);
	T_EQ_INT(compress_parse("none"), COMPRESS_NONE);
	T_EQ_INT(compress_parse(""), COMPRESS_NONE);
	T_EQ_INT(compress_parse("lz4"), -EINVAL);
	T_EQ_STR(compress_encoding(COMPRESS_GZIP), "gzip");
	T_EQ_STR(compress_encoding(COMPRESS_ZSTD), "zstd");
	T_ASSERT(compress_encoding(COMPRESS_NONE) == NULL);
	T_EQ_STR(compress_name(COMPRESS_NONE), "none");
	T_EQ_INT(compress_create(COMPRESS_NR, 0, &c), -EINVAL);
	compress_destroy(NULL);
}

int main(void)
{
	T_RUN(test_gzip);
	T_RUN(test_zstd);
	T_RUN(test_none);
	T_RUN(test_levels);
	T_RUN(test_names);
	return 0;
}
