/* SPDX-License-Identifier: MIT */
/*
 * Attributes as producers encode them (shm_abi.h "records": type, key
 * length, value length, key, value), checked as untrusted bytes and
 * written as OTLP KeyValues. Used for log records and metric series.
 */
#include "attrs.h"

#include <errno.h>
#include <string.h>

#include "shm_abi.h"
#include "utf8.h"

/* A string KeyValue from producer bytes, repaired to UTF-8. */
static void kv_str_utf8(struct pbuf *o, uint32_t field, const unsigned char *k, size_t klen,
			const unsigned char *v, size_t vlen)
{
	size_t ks = utf8_sanitized_len(k, klen), vs = utf8_sanitized_len(v, vlen);
	size_t any = 1 + pb_varint_size(vs) + vs;
	size_t kv = 1 + pb_varint_size(ks) + ks + 1 + pb_varint_size(any) + any;

	pb_tag(o, field, PB_LEN);
	pb_varint(o, kv);
	pb_tag(o, 1, PB_LEN);
	pb_varint(o, ks);
	utf8_append(o, k, klen);
	pb_tag(o, 2, PB_LEN);
	pb_varint(o, any);
	pb_tag(o, 1, PB_LEN);
	pb_varint(o, vs);
	utf8_append(o, v, vlen);
}

int attrs_check(const unsigned char *p, size_t len, unsigned nattrs)
{
	size_t off = 0;

	for (unsigned i = 0; i < nattrs; i++) {
		uint16_t vlen;
		uint8_t type, klen;

		if (off + 4 > len)
			return -EBADMSG;
		type = p[off];
		klen = p[off + 1];
		memcpy(&vlen, p + off + 2, 2);
		if (klen == 0)
			return -EBADMSG;
		if ((type == SHM_ATTR_INT || type == SHM_ATTR_DOUBLE) && vlen != 8)
			return -EBADMSG;
		if (type == SHM_ATTR_BOOL && vlen != 1)
			return -EBADMSG;
		if (type < SHM_ATTR_STR || type > SHM_ATTR_BOOL)
			return -EBADMSG;
		off += 4 + (size_t)klen + vlen;
		if (off > len)
			return -EBADMSG;
	}
	return off == len ? 0 : -EBADMSG;
}

void attrs_encode(struct pbuf *o, uint32_t field, const unsigned char *p, unsigned nattrs)
{
	size_t off = 0;

	for (unsigned i = 0; i < nattrs; i++) {
		uint8_t type = p[off], klen = p[off + 1];
		uint16_t vlen;
		const unsigned char *k = p + off + 4, *v;
		int64_t iv;
		double dv;

		memcpy(&vlen, p + off + 2, 2);
		v = k + klen;
		switch (type) {
		case SHM_ATTR_STR:
			kv_str_utf8(o, field, k, klen, v, vlen);
			break;
		case SHM_ATTR_INT:
			memcpy(&iv, v, 8);
			if (utf8_valid_prefix(k, klen) == klen)
				pb_kv_int(o, field, (const char *)k, klen, iv);
			break;
		case SHM_ATTR_DOUBLE:
			memcpy(&dv, v, 8);
			if (utf8_valid_prefix(k, klen) == klen)
				pb_kv_double(o, field, (const char *)k, klen, dv);
			break;
		default:
			if (utf8_valid_prefix(k, klen) == klen)
				pb_kv_bool(o, field, (const char *)k, klen, v[0] != 0);
			break;
		}
		off += 4 + (size_t)klen + vlen;
	}
}

