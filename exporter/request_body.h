/* SPDX-License-Identifier: MIT */
/*
 * Turns a spool payload (a serialized Export*ServiceRequest) into the
 * bytes that go on the wire for the configured protocol and compression:
 * protobuf as is or OTLP/JSON, then gzip, zstd or nothing; for gRPC the
 * (compressed) protobuf behind the 5-byte message prefix. Shared by the
 * daemon (exporter.c) and --test (selftest.c). Single-threaded (the
 * struct compress is reused).
 */
#ifndef EXPORTER_REQUEST_BODY_H
#define EXPORTER_REQUEST_BODY_H

#include <stddef.h>

#include "compress.h"

enum request_body_proto {
	REQUEST_BODY_PROTOBUF = 0, /* http/protobuf */
	REQUEST_BODY_JSON = 1,	   /* http/json */
	REQUEST_BODY_GRPC = 2,	   /* grpc: protobuf in a length-prefixed message */
	REQUEST_BODY_NR		   /* count sentinel */
};

/* Content-Type for a protocol. */
const char *request_body_content_type(enum request_body_proto proto);

/* The protocol's configuration name: "http/protobuf", "http/json", "grpc". */
const char *request_body_proto_name(enum request_body_proto proto);

/*
 * Checks that payload (len bytes) has the wire structure of an
 * Export*ServiceRequest: only field 1, length-delimited, each one a
 * well-formed message whose fields 1 and 2 (resource, scope_*) are
 * well-formed messages too. A CRC shows that a spool file is what its
 * writer wrote; this shows that the writer wrote a request. Does not
 * decode values. 0, or -EBADMSG.
 */
int request_body_check(const void *payload, size_t len);

/*
 * Builds the body for signal sig into a malloc'd *out (*outlen), which the
 * caller frees. cz selects the compression (NULL = none).
 * Returns 0, -EBADMSG when the payload is not a request
 * (request_body_check(); for JSON: it does not decode), -EINVAL, -ENOMEM,
 * -EIO (compression failed), -EMSGSIZE (gRPC: over 4 GiB).
 */
int request_body_build(enum request_body_proto proto, struct compress *cz, int sig,
		       const void *payload, size_t len, void **out, size_t *outlen);

#endif
