/* SPDX-License-Identifier: MIT */
/*
 * CRC32C (Castagnoli), as used in spool file headers. Uses the SSE4.2
 * crc32 instruction when the CPU has it, a table otherwise.
 */
#ifndef CORE_COMMON_CRC32C_H
#define CORE_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC32C over buf; start with crc = 0. Thread-safe. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table implementation that crc32c() falls back to; same
 * contract. Exposed so that tests can check both against each other. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
