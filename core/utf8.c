/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 validation and repair (see utf8.h), following the well-formed
 * byte sequences table of the Unicode standard (section 3.9).
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the well-formed sequence at p (1..4), or 0 if p[0] starts
 * none. */
static size_t seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
			       (p[3] & 0xc0) == 0x80 ?
			       4 :
			       0;
	}
	return 0;
}

size_t utf8_valid_prefix(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		/* ASCII fast path, 8 bytes at a time */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		size_t k = seq_len(p + i, n - i);
		if (k == 0)
			return i;
		i += k;
	}
	return n;
}

size_t utf8_sanitized_len(const unsigned char *p, size_t n)
{
	size_t out = 0, i = 0;

	while (i < n) {
		size_t v = utf8_valid_prefix(p + i, n - i);
		out += v;
		i += v;
		if (i < n) {
			out += 3;
			i++;
		}
	}
	return out;
}

size_t utf8_append(struct pbuf *b, const unsigned char *p, size_t n)
{
	static const unsigned char fffd[3] = { 0xef, 0xbf, 0xbd };
	size_t out = 0, i = 0;

	while (i < n) {
		size_t v = utf8_valid_prefix(p + i, n - i);
		pbuf_put(b, p + i, v);
		out += v;
		i += v;
		if (i < n) {
			pbuf_put(b, fffd, 3);
			out += 3;
			i++;
		}
	}
	return out;
}
