/* SPDX-License-Identifier: MIT */
/*
 * Wire bodies for OTLP/HTTP: see request_body.h. Compression is applied to
 * the whole request once, never per record (small inputs can grow).
 */
#include "request_body.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_encode.h"

const char *request_body_content_type(enum request_body_proto proto)
{
	return proto == REQUEST_BODY_JSON ? "application/json" : "application/x-protobuf";
}

int request_body_build(enum request_body_proto proto, struct compress *cz, int sig,
		       const void *payload, size_t len, void **out, size_t *outlen)
{
	char *json = NULL;
	size_t jlen = 0;
	void *copy;
	int ret;

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
