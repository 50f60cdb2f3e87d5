/* SPDX-License-Identifier: MIT */
/*
 * Wire bodies for OTLP/HTTP: see request_body.h. Compression is applied to
 * the whole request once, never per record (small inputs can grow).
 */
#include "request_body.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_frame.h"
#include "json_encode.h"

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
