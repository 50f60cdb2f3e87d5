/* SPDX-License-Identifier: MIT */
/*
 * Unit test of core/common/crc32c.c: the standard check value, the
 * RFC 3720 (iSCSI) test vectors, incremental use, and agreement between
 * the SSE4.2 path and the table path on every length and alignment, also
 * for the long buffers whose three blocks are computed at once.
 */
#include <stdint.h>
#include <string.h>

#include "crc32c.h"
#include "test_help.h"

static void test_check_value(void)
{
	T_EQ_INT(crc32c(0, "123456789", 9), 0xE3069283u);
	T_EQ_INT(crc32c_sw(0, "123456789", 9), 0xE3069283u);
	T_EQ_INT(crc32c(0, "", 0), 0);
	T_EQ_INT(crc32c(0, NULL, 0), 0);
}

/* RFC 3720, appendix B.4. */
static void test_rfc3720_vectors(void)
{
	unsigned char buf[32];
	int i;

	memset(buf, 0, sizeof(buf));
	T_EQ_INT(crc32c(0, buf, sizeof(buf)), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	T_EQ_INT(crc32c(0, buf, sizeof(buf)), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		buf[i] = (unsigned char)i;
	T_EQ_INT(crc32c(0, buf, sizeof(buf)), 0x46DD794Eu);
	T_EQ_INT(crc32c_sw(0, buf, sizeof(buf)), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		buf[i] = (unsigned char)(31 - i);
	T_EQ_INT(crc32c(0, buf, sizeof(buf)), 0x113FDB5Cu);
	T_EQ_INT(crc32c_sw(0, buf, sizeof(buf)), 0x113FDB5Cu);
}

static void test_incremental(void)
{
	const char *s = "The quick brown fox jumps over the lazy dog, twice over.";
	size_t len = strlen(s), cut;
	uint32_t whole = crc32c(0, s, len);

	for (cut = 0; cut <= len; cut++) {
		T_EQ_INT(crc32c(crc32c(0, s, cut), s + cut, len - cut), whole);
		T_EQ_INT(crc32c_sw(crc32c_sw(0, s, cut), s + cut, len - cut), whole);
	}
}

/* Fills buf with a fixed pseudo-random sequence from seed x. */
static void fill(unsigned char *buf, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
}

static void test_hw_matches_table(void)
{
	static unsigned char buf[4096 + 16];
	size_t off, len;

	fill(buf, sizeof(buf), 0x12345678);
	for (off = 0; off < 16; off++)
		for (len = 0; len <= 300; len++)
			T_EQ_INT(crc32c(0, buf + off, len), crc32c_sw(0, buf + off, len));
	T_EQ_INT(crc32c(7, buf + 3, 4096), crc32c_sw(7, buf + 3, 4096));
}

/* Long buffers, where the SSE4.2 path runs three blocks at once and
 * combines them: every length near the threshold and near multiples of
 * 3 x 8, at every alignment, and incremental use across the blocks. */
static void test_long_buffers(void)
{
	static unsigned char buf[200000 + 16];
	size_t off, len;

	fill(buf, sizeof(buf), 0x9e3779b9);
	for (off = 0; off < 8; off++)
		for (len = 16384 - 40; len <= 16384 + 40; len++)
			T_EQ_INT(crc32c(0, buf + off, len), crc32c_sw(0, buf + off, len));
	for (len = 100000; len < 100000 + 48; len++)
		T_EQ_INT(crc32c(0x1234, buf + 5, len), crc32c_sw(0x1234, buf + 5, len));
	T_EQ_INT(crc32c(0, buf, 200000), crc32c_sw(0, buf, 200000));
	T_EQ_INT(crc32c(crc32c(0, buf, 70001), buf + 70001, 200000 - 70001),
		 crc32c_sw(0, buf, 200000));
}

int main(void)
{
	T_RUN(test_check_value);
	T_RUN(test_rfc3720_vectors);
	T_RUN(test_incremental);
	T_RUN(test_hw_matches_table);
	T_RUN(test_long_buffers);
	return 0;
}
