/* SPDX-License-Identifier: MIT */
/*
 * Text another process wrote, made safe to print and to put in OTLP: a
 * bounded copy with invalid UTF-8 and control characters replaced. Used
 * by shmtop (strings from shared memory) and by the exporter status
 * reader (collector and shmtop).
 */
#include "text_clean.h"

#include <string.h>

/* Bytes of a well-formed UTF-8 sequence at p (at most n bytes), 0 when
 * it is not one. C1 controls (U+0080..U+009F) count as malformed: a
 * terminal may act on them. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		if (c == 0xc2)
			lo = 0xa0;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* <= U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

void text_clean(char *dst, size_t dstlen, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t len = strnlen(src, n), i = 0, o = 0;

	if (dstlen == 0)
		return;
	while (i < len && o + 1 < dstlen) {
		size_t k = p[i] < 0x80 ? 1 : utf8_seq(p + i, len - i);

		if (k == 1 && p[i] >= 0x20 && p[i] != 0x7f) {
			dst[o++] = (char)p[i++];
		} else if (k > 1) {
			if (o + k >= dstlen)
				break; /* never cut a character in two */
			memcpy(dst + o, p + i, k);
			o += k;
			i += k;
		} else {
			dst[o++] = '?';
			i++;
		}
	}
	dst[o] = '\0';
}

