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

/* A string KeyValue from producer bytes, repaired to UTF-8 (room made
 * by the caller: ATTRS_ENCODED_MAX()). */
static unsigned char *kv_str_utf8(unsigned char *d, uint32_t field, const unsigned char *k,
				  size_t klen, const unsigned char *v, size_t vlen)
{
	size_t ks = utf8_sanitized_len(k, klen), vs = utf8_sanitized_len(v, vlen);
	size_t any = 1 + pb_varint_size(vs) + vs;
	size_t kv = 1 + pb_varint_size(ks) + ks + 1 + pb_varint_size(any) + any;

	d = pb_raw_len(d, field, kv);
	d = pb_raw_len(d, 1, ks);
	d = ks == klen ? (unsigned char *)memcpy(d, k, klen) + klen : utf8_put(d, k, klen);
	d = pb_raw_len(d, 2, any);
	d = pb_raw_len(d, 1, vs);
	return vs == vlen ? (unsigned char *)memcpy(d, v, vlen) + vlen : utf8_put(d, v, vlen);
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

unsigned char *attrs_encode_raw(unsigned char *d, uint32_t field, const unsigned char *p,
			       unsigned nattrs)
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
			d = kv_str_utf8(d, field, k, klen, v, vlen);
			break;
		case SHM_ATTR_INT:
			memcpy(&iv, v, 8);
			if (utf8_valid_prefix(k, klen) == klen)
				d = pb_raw_kv_int(d, field, k, klen, iv);
			break;
		case SHM_ATTR_DOUBLE:
			memcpy(&dv, v, 8);
			if (utf8_valid_prefix(k, klen) == klen)
				d = pb_raw_kv_double(d, field, k, klen, dv);
			break;
		default:
			if (utf8_valid_prefix(k, klen) == klen)
				d = pb_raw_kv_bool(d, field, k, klen, v[0] != 0);
			break;
		}
		off += 4 + (size_t)klen + vlen;
	}
	return d;
}

void attrs_encode(struct pbuf *o, uint32_t field, const unsigned char *p, unsigned nattrs)
{
	size_t len = 0;

	for (unsigned i = 0; i < nattrs; i++) {
		uint16_t vlen;

		memcpy(&vlen, p + len + 2, 2);
		len += 4 + (size_t)p[len + 1] + vlen;
	}
	if (pbuf_room(o, ATTRS_ENCODED_MAX(len, nattrs)))
		return;
	o->len = (size_t)(attrs_encode_raw(o->p + o->len, field, p, nattrs) - o->p);
}
