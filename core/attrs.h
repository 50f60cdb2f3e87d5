/* SPDX-License-Identifier: MIT */
/*
 * Producer-encoded attribute blocks (shm_abi.h "records"): validation and
 * OTLP encoding. Collector thread only (no state).
 */
#ifndef CORE_ATTRS_H
#define CORE_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "pbuf.h"

/* 0 when p[0..len) holds exactly nattrs well-formed attributes, else
 * -EBADMSG. */
int attrs_check(const unsigned char *p, size_t len, unsigned nattrs);

/* Appends each attribute of a checked block as a KeyValue in field
 * `field` of the enclosing message; strings repaired to UTF-8, numbers
 * and booleans with keys that are not UTF-8 skipped. */
void attrs_encode(struct pbuf *o, uint32_t field, const unsigned char *p, unsigned nattrs);

/* Room attrs_encode() may need for a checked block of len bytes and
 * nattrs attributes: every key and string value may triple (U+FFFD for
 * each byte), and each KeyValue has its tags and lengths. */
#define ATTRS_ENCODED_MAX(len, nattrs) \
	(3 * (size_t)(len) + (size_t)(nattrs) * PB_KV_MAX_OVERHEAD)

/* attrs_encode() into room the caller made (ATTRS_ENCODED_MAX()) at d;
 * returns the end of what it wrote. */
unsigned char *attrs_encode_raw(unsigned char *d, uint32_t field, const unsigned char *p,
				unsigned nattrs);

#endif
