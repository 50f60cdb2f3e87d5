/* SPDX-License-Identifier: MIT */
/*
 * Wire bodies for OTLP/HTTP: see request_body.h. Compression is applied to
 * the whole request once, never per record (small inputs can grow).
 */
#include "request_body.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_frame.h"
#include "json_encode.h"

/* Reads a base-128 varint at *p (< end); 0, or -EBADMSG when it runs past
 * end or past 10 bytes. */
static int rb_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (*p >= end)
			return -EBADMSG;
		x |= (uint64_t)(**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EBADMSG;
}

/*
 * Walks one protobuf message of len bytes: every key a valid field number
 * and wire type (varint, 64-bit, length-delimited, 32-bit; groups are
 * refused), every length inside the message. At depth > 0 the
 * length-delimited fields 1 and 2 are walked as messages too: they are
 * resource_logs / resource_metrics of a request, then resource and
 * scope_logs / scope_metrics inside those. Cost: the keys and lengths of
 * those levels, never the bytes of values.
 */
static int rb_walk(const unsigned char *p, size_t len, int depth)
{
	const unsigned char *end = p + len;
	uint64_t key, v;
	int ret;

	while (p < end) {
		ret = rb_varint(&p, end, &key);
		if (ret)
			return ret;
		if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
			return -EBADMSG;
		switch (key & 7) {
		case 0:
			ret = rb_varint(&p, end, &v);
			if (ret)
				return ret;
			break;
		case 1:
		case 5:
			if ((size_t)(end - p) < ((key & 7) == 1 ? 8u : 4u))
				return -EBADMSG;
			p += (key & 7) == 1 ? 8 : 4;
			break;
		case 2:
			ret = rb_varint(&p, end, &v);
			if (ret)
				return ret;
			if (v > (uint64_t)(end - p))
				return -EBADMSG;
			if (depth > 0 && (key >> 3) <= 2) {
				ret = rb_walk(p, (size_t)v, depth - 1);
				if (ret)
					return ret;
			}
			p += v;
			break;
		default:
			return -EBADMSG;
		}
	}
	return 0;
}

int request_body_check(const void *payload, size_t len)
{
	const unsigned char *p = payload;
	const unsigned char *end = p + len;
	uint64_t key, v;
	int ret;

	/* Export*ServiceRequest: field 1 (resource_logs / resource_metrics /
	 * resource_spans), length-delimited, repeated; nothing else. */
	while (p < end) {
		ret = rb_varint(&p, end, &key);
		if (ret)
			return ret;
		if (key != ((1u << 3) | 2))
			return -EBADMSG;
		ret = rb_varint(&p, end, &v);
		if (ret)
			return ret;
		if (v > (uint64_t)(end - p))
			return -EBADMSG;
		ret = rb_walk(p, (size_t)v, 1);
		if (ret)
			return ret;
		p += v;
	}
	return 0;
}

const char *request_body_content_type(enum request_body_proto proto)
{
	switch (proto) {
	case REQUEST_BODY_JSON:
		return "application/json";
	case REQUEST_BODY_GRPC:
		return "application/grpc";
	default:
		return "application/x-protobuf";
	}
}

const char *request_body_proto_name(enum request_body_proto proto)
{
	switch (proto) {
	case REQUEST_BODY_JSON:
		return "http/json";
	case REQUEST_BODY_GRPC:
		return "grpc";
	default:
		return "http/protobuf";
	}
}

/* gRPC: the message, compressed or not, behind its 5-byte prefix; the
 * flag says whether grpc-encoding applies to this message. */
static int grpc_body(struct compress *cz, const void *payload, size_t len, void **out,
		     size_t *outlen)
{
	int compressed = cz && compress_kind(cz) != COMPRESS_NONE;
	void *z = NULL, *buf;
	size_t zlen = len;
	int ret;

	if (compressed) {
		ret = compress_run(cz, payload, len, &z, &zlen);
		if (ret < 0)
			return ret;
		payload = z;
	}
	buf = malloc(GRPC_FRAME_HDR + zlen);
	if (!buf) {
		free(z);
		return -ENOMEM;
	}
	ret = grpc_frame_header(buf, compressed, zlen);
	if (ret == 0 && zlen)
		memcpy((char *)buf + GRPC_FRAME_HDR, payload, zlen);
	free(z);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*out = buf;
	*outlen = GRPC_FRAME_HDR + zlen;
	return 0;
}

int request_body_build(enum request_body_proto proto, struct compress *cz, int sig,
		       const void *payload, size_t len, void **out, size_t *outlen)
{
	char *json = NULL;
	size_t jlen = 0;
	void *copy;
	int ret;

	if (proto == REQUEST_BODY_GRPC)
		return grpc_body(cz, payload, len, out, outlen);
	if (proto == REQUEST_BODY_JSON) {
		ret = json_encode_payload(sig, payload, len, &json, &jlen);
		if (ret < 0)
			return ret;
		payload = json;
		len = jlen;
	} else if (proto != REQUEST_BODY_PROTOBUF) {
		return -EINVAL;
	} else {
		/* Sent as is: check the structure the JSON path gets from its
		 * decoder, so that foreign bytes are quarantined, not sent. */
		ret = request_body_check(payload, len);
		if (ret < 0)
			return ret;
	}
	if (cz && compress_kind(cz) != COMPRESS_NONE) {
		ret = compress_run(cz, payload, len, out, outlen);
		free(json);
		return ret;
	}
	if (json) {
		*out = json;
		*outlen = jlen;
		return 0;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, payload, len);
	*out = copy;
	*outlen = len;
	return 0;
}
