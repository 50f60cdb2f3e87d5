/* SPDX-License-Identifier: MIT */
/*
 * Growable buffer and KeyValue writers (see pbuf.h). Field numbers:
 * KeyValue{key = 1, value = 2}, AnyValue{string_value = 1,
 * bool_value = 2, int_value = 3, double_value = 4} (proto/common.proto).
 */
#include "pbuf.h"

#include <errno.h>
#include <stdlib.h>

void pbuf_init(struct pbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void pbuf_fini(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int pbuf_reserve(struct pbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	unsigned char *p;

	if (b->oom)
		return -ENOMEM;
	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = 1;
		return -ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void pb_kv_str(struct pbuf *b, uint32_t field, const char *key, size_t klen, const char *val,
	       size_t vlen)
{
	size_t any = 1 + pb_varint_size(vlen) + vlen;
	size_t kv = 1 + pb_varint_size(klen) + klen + 1 + pb_varint_size(any) + any;

	pb_tag(b, field, PB_LEN);
	pb_varint(b, kv);
	pb_bytes(b, 1, key, klen);
	pb_tag(b, 2, PB_LEN);
	pb_varint(b, any);
	pb_bytes(b, 1, val, vlen);
}

void pb_kv_int(struct pbuf *b, uint32_t field, const char *key, size_t klen, int64_t v)
{
	size_t any = 1 + pb_varint_size((uint64_t)v);
	size_t kv = 1 + pb_varint_size(klen) + klen + 1 + pb_varint_size(any) + any;

	pb_tag(b, field, PB_LEN);
	pb_varint(b, kv);
	pb_bytes(b, 1, key, klen);
	pb_tag(b, 2, PB_LEN);
	pb_varint(b, any);
	pb_uint(b, 3, (uint64_t)v);
}

void pb_kv_double(struct pbuf *b, uint32_t field, const char *key, size_t klen, double v)
{
	size_t any = 1 + 8;
	size_t kv = 1 + pb_varint_size(klen) + klen + 1 + pb_varint_size(any) + any;
	uint64_t bits;

	memcpy(&bits, &v, 8);
	pb_tag(b, field, PB_LEN);
	pb_varint(b, kv);
	pb_bytes(b, 1, key, klen);
	pb_tag(b, 2, PB_LEN);
	pb_varint(b, any);
	pb_fixed64(b, 4, bits);
}

void pb_kv_bool(struct pbuf *b, uint32_t field, const char *key, size_t klen, int v)
{
	size_t any = 2;
	size_t kv = 1 + pb_varint_size(klen) + klen + 1 + pb_varint_size(any) + any;

	pb_tag(b, field, PB_LEN);
	pb_varint(b, kv);
	pb_bytes(b, 1, key, klen);
	pb_tag(b, 2, PB_LEN);
	pb_varint(b, any);
	pb_uint(b, 2, v ? 1 : 0);
}
