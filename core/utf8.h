/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 for OTLP strings, which must be valid UTF-8: bytes written by a
 * producer are checked and each byte that does not start or continue a
 * well-formed sequence (overlongs, surrogates, > U+10FFFF, truncated) is
 * replaced by U+FFFD, as Python's errors="replace" does.
 */
#ifndef CORE_UTF8_H
#define CORE_UTF8_H

#include <stddef.h>

#include "pbuf.h"

/* Length of the longest valid prefix of p (== n when all valid). */
size_t utf8_valid_prefix(const unsigned char *p, size_t n);

/* Appends p to b with invalid bytes replaced; returns bytes appended
 * (0 when out of memory: b->oom set). */
size_t utf8_append(struct pbuf *b, const unsigned char *p, size_t n);

/* Room utf8_put() may need for n bytes: each may become U+FFFD. */
#define UTF8_PUT_MAX(n) (3 * (size_t)(n))

/* Writes p made valid, as utf8_append() does, at d, which has room for
 * UTF8_PUT_MAX(n) bytes; returns the end of what it wrote. */
unsigned char *utf8_put(unsigned char *d, const unsigned char *p, size_t n);

/* Bytes utf8_append() would append. */
size_t utf8_sanitized_len(const unsigned char *p, size_t n);

#endif
