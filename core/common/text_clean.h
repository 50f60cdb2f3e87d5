/* SPDX-License-Identifier: MIT */
#ifndef CORE_COMMON_TEXT_CLEAN_H
#define CORE_COMMON_TEXT_CLEAN_H

#include <stddef.h>

/* Copies at most n bytes of src (stopping at a NUL) into dst of size
 * dstlen, always terminated, with invalid UTF-8, control characters and
 * C1 controls replaced by '?'; never cuts a character in two. */
void text_clean(char *dst, size_t dstlen, const char *src, size_t n);

#endif
