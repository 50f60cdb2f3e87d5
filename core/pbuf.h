/* SPDX-License-Identifier: MIT */
/*
 * A growable byte buffer and protobuf wire-format writers, used by the
 * collector to encode OTLP requests directly (no intermediate message
 * objects: the hot loop appends bytes). Field numbers come from the
 * .proto files in proto/; the e2e tests decode what this writes with an
 * independent implementation.
 */
#ifndef CORE_PBUF_H
#define CORE_PBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
	int oom; /* sticky: an allocation failed, contents are incomplete */
};

void pbuf_init(struct pbuf *b);
void pbuf_fini(struct pbuf *b);
static inline void pbuf_reset(struct pbuf *b)
{
	b->len = 0;
	b->oom = 0;
}

/* Makes room for n more bytes; 0 or -ENOMEM (and b->oom set). */
int pbuf_reserve(struct pbuf *b, size_t n);

static inline void pbuf_put(struct pbuf *b, const void *src, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap && pbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static inline void pb_varint(struct pbuf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	if (b->cap - b->len >= sizeof(tmp)) { /* room for any varint: in place */
		unsigned char *d = b->p + b->len;

		while (v >= 0x80) {
			d[n++] = (unsigned char)(v | 0x80);
			v >>= 7;
		}
		d[n++] = (unsigned char)v;
		b->len += n;
		return;
	}
	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	pbuf_put(b, tmp, n);
}

static inline size_t pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

#define PB_VARINT 0
#define PB_FIXED64 1
#define PB_LEN 2
#define PB_FIXED32 5

static inline void pb_tag(struct pbuf *b, uint32_t field, uint32_t wt)
{
	pb_varint(b, ((uint64_t)field << 3) | wt);
}

static inline void pb_fixed64(struct pbuf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_FIXED64);
	pbuf_put(b, &v, 8); /* little-endian host (x86-64, aarch64) */
}

static inline void pb_fixed32(struct pbuf *b, uint32_t field, uint32_t v)
{
	pb_tag(b, field, PB_FIXED32);
	pbuf_put(b, &v, 4);
}

static inline void pb_uint(struct pbuf *b, uint32_t field, uint64_t v)
{
	pb_tag(b, field, PB_VARINT);
	pb_varint(b, v);
}

static inline void pb_bytes(struct pbuf *b, uint32_t field, const void *p, size_t n)
{
	pb_tag(b, field, PB_LEN);
	pb_varint(b, n);
	pbuf_put(b, p, n);
}

static inline void pb_str(struct pbuf *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

/*
 * Nested messages whose length is not known in advance: pb_open() leaves
 * room for a 5-byte length, pb_close() writes it as a padded varint
 * (valid protobuf: a varint may carry redundant continuation bytes).
 * Cheaper than measuring twice.
 */
static inline size_t pb_open(struct pbuf *b, uint32_t field)
{
	static const unsigned char pad[5] = { 0x80, 0x80, 0x80, 0x80, 0x00 };

	pb_tag(b, field, PB_LEN);
	pbuf_put(b, pad, 5);
	return b->len;
}

static inline void pb_close(struct pbuf *b, size_t start)
{
	size_t n;

	if (b->oom)
		return;
	n = b->len - start;
	for (int i = 0; i < 5; i++)
		b->p[start - 5 + i] = (unsigned char)(((n >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0));
}

/*
 * Unchecked writers, for hot paths that make room once for the most they
 * can write (pbuf_room()) instead of checking before every byte: each
 * writes at d, which must have room for what it writes, and returns the
 * end of what it wrote. The caller then sets b->len = end - b->p. They
 * write the same bytes as the checked writers above.
 */

/* Room a varint, or a tag, may take. */
#define PB_VARINT_MAX 10
/* Room a KeyValue{key, AnyValue} may take besides its key and its
 * string value (a scalar value fits in it): tag, lengths, inner tags. */
#define PB_KV_MAX_OVERHEAD (5 * PB_VARINT_MAX)

/* Makes room for n more bytes like pbuf_reserve(), inline when there is
 * room already. 0 or -ENOMEM (b->oom set). */
static inline int pbuf_room(struct pbuf *b, size_t n)
{
	if (!b->oom && b->cap - b->len >= n)
		return 0;
	return pbuf_reserve(b, n);
}

static inline unsigned char *pb_raw_varint(unsigned char *d, uint64_t v)
{
	while (v >= 0x80) {
		*d++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*d++ = (unsigned char)v;
	return d;
}

static inline unsigned char *pb_raw_tag(unsigned char *d, uint32_t field, uint32_t wt)
{
	return pb_raw_varint(d, ((uint64_t)field << 3) | wt);
}

static inline unsigned char *pb_raw_fixed64(unsigned char *d, uint32_t field, uint64_t v)
{
	d = pb_raw_tag(d, field, PB_FIXED64);
	memcpy(d, &v, 8); /* little-endian host, as pb_fixed64() */
	return d + 8;
}

static inline unsigned char *pb_raw_fixed32(unsigned char *d, uint32_t field, uint32_t v)
{
	d = pb_raw_tag(d, field, PB_FIXED32);
	memcpy(d, &v, 4);
	return d + 4;
}

static inline unsigned char *pb_raw_uint(unsigned char *d, uint32_t field, uint64_t v)
{
	return pb_raw_varint(pb_raw_tag(d, field, PB_VARINT), v);
}

/* Tag and length of a length-delimited field of n bytes; its bytes follow. */
static inline unsigned char *pb_raw_len(unsigned char *d, uint32_t field, size_t n)
{
	return pb_raw_varint(pb_raw_tag(d, field, PB_LEN), n);
}

static inline unsigned char *pb_raw_bytes(unsigned char *d, uint32_t field, const void *p,
					  size_t n)
{
	d = pb_raw_len(d, field, n);
	memcpy(d, p, n);
	return d + n;
}

/* The head of KeyValue{key, value: AnyValue{...}} whose AnyValue holds
 * `any` bytes, up to and with the AnyValue's length: the AnyValue's
 * field follows. */
static inline unsigned char *pb_raw_kv_head(unsigned char *d, uint32_t field, const void *key,
					    size_t klen, size_t any)
{
	size_t kv = 1 + pb_varint_size(klen) + klen + 1 + pb_varint_size(any) + any;

	d = pb_raw_len(d, field, kv);
	d = pb_raw_bytes(d, 1, key, klen);
	return pb_raw_len(d, 2, any);
}

static inline unsigned char *pb_raw_kv_str(unsigned char *d, uint32_t field, const void *key,
					   size_t klen, const void *val, size_t vlen)
{
	d = pb_raw_kv_head(d, field, key, klen, 1 + pb_varint_size(vlen) + vlen);
	return pb_raw_bytes(d, 1, val, vlen);
}

static inline unsigned char *pb_raw_kv_int(unsigned char *d, uint32_t field, const void *key,
					   size_t klen, int64_t v)
{
	d = pb_raw_kv_head(d, field, key, klen, 1 + pb_varint_size((uint64_t)v));
	return pb_raw_uint(d, 3, (uint64_t)v);
}

static inline unsigned char *pb_raw_kv_double(unsigned char *d, uint32_t field, const void *key,
					      size_t klen, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, 8);
	d = pb_raw_kv_head(d, field, key, klen, 1 + 8);
	return pb_raw_fixed64(d, 4, bits);
}

static inline unsigned char *pb_raw_kv_bool(unsigned char *d, uint32_t field, const void *key,
					    size_t klen, int v)
{
	d = pb_raw_kv_head(d, field, key, klen, 2);
	return pb_raw_uint(d, 2, v ? 1 : 0);
}

/* KeyValue{key, value: AnyValue} as field `field` of the enclosing message. */
void pb_kv_str(struct pbuf *b, uint32_t field, const char *key, size_t klen, const char *val,
	       size_t vlen);
void pb_kv_int(struct pbuf *b, uint32_t field, const char *key, size_t klen, int64_t v);
void pb_kv_double(struct pbuf *b, uint32_t field, const char *key, size_t klen, double v);
void pb_kv_bool(struct pbuf *b, uint32_t field, const char *key, size_t klen, int v);

#endif
