/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 validation and repair (see utf8.h), following the well-formed
 * byte sequences table of the Unicode standard (section 3.9).
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

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

/*
 * Whether p[0..n) is all ASCII, the common case, with few branches: whole
 * words (the last one overlapping the one before: never a byte outside
 * p[0..n)), or for short strings its halves or its ends and middle.
 */
static int all_ascii(const unsigned char *p, size_t n)
{
	uint64_t acc = 0, w;
	uint32_t a, b;
	size_t i = 0;

	if (n >= 8) {
		for (; i + 32 <= n; i += 32) {
			uint64_t q[4];

			memcpy(q, p + i, 32);
			if ((q[0] | q[1] | q[2] | q[3]) & HIGH_BITS)
				return 0;
		}
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, p + i, 8);
			acc |= w;
		}
		memcpy(&w, p + n - 8, 8);
		return !((acc | w) & HIGH_BITS);
	}
	if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		return !((a | b) & 0x80808080u);
	}
	return n == 0 || !((p[0] | p[n >> 1] | p[n - 1]) & 0x80);
}

size_t utf8_valid_prefix(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (all_ascii(p, n))
		return n;
	while (i < n) {
		/* ASCII fast path: 32 bytes, then 8, then 1 at a time. */
		while (i + 32 <= n) {
			uint64_t w[4];

			memcpy(w, p + i, 32);
			if ((w[0] | w[1] | w[2] | w[3]) & HIGH_BITS)
				break;
			i += 32;
		}
		while (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & HIGH_BITS)
				break;
			i += 8;
		}
		while (i < n && p[i] < 0x80)
			i++;
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

unsigned char *utf8_put(unsigned char *d, const unsigned char *p, size_t n)
{
	static const unsigned char fffd[3] = { 0xef, 0xbf, 0xbd };
	size_t i = 0;

	while (i < n) {
		size_t v = utf8_valid_prefix(p + i, n - i);

		memcpy(d, p + i, v);
		d += v;
		i += v;
		if (i < n) {
			memcpy(d, fffd, 3);
			d += 3;
			i++;
		}
	}
	return d;
}

size_t utf8_append(struct pbuf *b, const unsigned char *p, size_t n)
{
	unsigned char *end;

	if (n == 0 || pbuf_room(b, UTF8_PUT_MAX(n)))
		return 0;
	end = utf8_put(b->p + b->len, p, n);
	n = (size_t)(end - (b->p + b->len));
	b->len += n;
	return n;
}
