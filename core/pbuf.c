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

/* The KeyValue writers: room for all of it, then the unchecked writer. */
void pb_kv_str(struct pbuf *b, uint32_t field, const char *key, size_t klen, const char *val,
	       size_t vlen)
{
	if (pbuf_room(b, PB_KV_MAX_OVERHEAD + klen + vlen))
		return;
	b->len = (size_t)(pb_raw_kv_str(b->p + b->len, field, key, klen, val, vlen) - b->p);
}

void pb_kv_int(struct pbuf *b, uint32_t field, const char *key, size_t klen, int64_t v)
{
	if (pbuf_room(b, PB_KV_MAX_OVERHEAD + klen))
		return;
	b->len = (size_t)(pb_raw_kv_int(b->p + b->len, field, key, klen, v) - b->p);
}

void pb_kv_double(struct pbuf *b, uint32_t field, const char *key, size_t klen, double v)
{
	if (pbuf_room(b, PB_KV_MAX_OVERHEAD + klen))
		return;
	b->len = (size_t)(pb_raw_kv_double(b->p + b->len, field, key, klen, v) - b->p);
}

void pb_kv_bool(struct pbuf *b, uint32_t field, const char *key, size_t klen, int v)
{
	if (pbuf_room(b, PB_KV_MAX_OVERHEAD + klen))
		return;
	b->len = (size_t)(pb_raw_kv_bool(b->p + b->len, field, key, klen, v) - b->p);
}
