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

#endif
