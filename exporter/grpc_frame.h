/* SPDX-License-Identifier: MIT */
/*
 * The gRPC part of OTLP/gRPC that is not HTTP/2: the length-prefixed
 * message framing (1 byte compressed flag, 4 bytes big-endian length),
 * the grpc-timeout header value, and reading the outcome of a call from
 * grpc-status, grpc-message and grpc-status-details-bin (google.rpc.Status
 * carrying a google.rpc.RetryInfo), or, when the server never sent a
 * grpc-status, from the HTTP status (gRPC's HTTP-to-status mapping). It
 * also says which codes the OTLP specification retries.
 * Everything here reads bytes a server sent: nothing is read beyond the
 * given length, sizes are capped, output strings are printable ASCII.
 * Pure functions, no I/O; only grpc_frame_response() allocates (a
 * compressed answer's buffer); thread-safe. exporter.c and
 * selftest.c call them; http_send.c collects the raw header values.
 */
#ifndef EXPORTER_GRPC_FRAME_H
#define EXPORTER_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "response.h"

#define GRPC_FRAME_HDR 5 /* flag byte + 32-bit big-endian length */

/* Method paths of the OTLP services (opentelemetry/proto/collector). */
#define GRPC_PATH_LOGS "opentelemetry.proto.collector.logs.v1.LogsService/Export"
#define GRPC_PATH_METRICS "opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

/* Longest raw header values http_send keeps (a longer value is cut and
 * then fails to decode, which only loses the detail). */
#define GRPC_STATUS_MAX 16
#define GRPC_MESSAGE_MAX 512
#define GRPC_DETAILS_MAX 1024
#define GRPC_ENCODING_MAX 32

/* Status codes (grpc/grpc doc/statuscodes.md). */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
	GRPC_CODE_NR /* count sentinel */
};

/* What a finished call means (grpc_frame_outcome). */
struct grpc_outcome {
	int code;			/* enum grpc_code */
	int from_http;			/* no grpc-status: code mapped from the HTTP status */
	int retryable;			/* OTLP says retry */
	int has_retry_info;		/* the status carried a RetryInfo */
	uint32_t retry_delay_ms;	/* its retry_delay, capped at RETRY_AFTER_MAX_MS */
	char message[RESPONSE_MSG_MAX]; /* grpc-message, percent-decoded */
};

/* The code's name ("UNAVAILABLE"); "UNKNOWN" for a number out of range. */
const char *grpc_code_name(int code);

/*
 * Writes the 5-byte prefix of a message of len bytes into hdr.
 * Returns 0, or -EMSGSIZE when len does not fit in 32 bits.
 */
int grpc_frame_header(uint8_t hdr[GRPC_FRAME_HDR], int compressed, size_t len);

/*
 * Reads the single length-prefixed message of a unary response body.
 * An empty body (trailers-only answer) gives 0 with *msg NULL, *msglen 0.
 * Returns 0 with *compressed, *msg (points into buf) and *msglen set;
 * -EBADMSG when the body is shorter than its prefix says, the flag is not
 * 0 or 1, or bytes follow the message; -EMSGSIZE when the message is
 * longer than max.
 */
int grpc_frame_parse(const void *buf, size_t len, size_t max, int *compressed, const uint8_t **msg,
		     size_t *msglen);

/*
 * The grpc-timeout value for timeout_ms ("1500m"; whole seconds, rounded
 * up, "S", when the milliseconds need more than the 8 digits allowed).
 * timeout_ms 0 (no limit) writes "". Returns 0 or -ENAMETOOLONG.
 */
int grpc_timeout_format(uint32_t timeout_ms, char *out, size_t outlen);

/*
 * Percent-decodes a grpc-message value of len bytes into out (always
 * terminated). Control and non-ASCII bytes become '?'; a '%' not followed
 * by two hex digits is kept as is.
 */
void grpc_message_decode(const char *in, size_t len, char *out, size_t outlen);

/*
 * Finds a google.rpc.RetryInfo in a grpc-status-details-bin value
 * (base64, padded or not, of a google.rpc.Status). Returns 0 with
 * *delay_ms (retry_delay, capped at RETRY_AFTER_MAX_MS; negative = 0),
 * -ENOENT when the status has no RetryInfo, -EBADMSG when the value is not
 * valid base64 or protobuf.
 */
int grpc_retry_info_parse(const char *b64, size_t len, uint32_t *delay_ms);

/* gRPC status for an HTTP status when no grpc-status came (grpc/grpc
 * doc/http-grpc-status-mapping.md): 400 INTERNAL, 401 UNAUTHENTICATED,
 * 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE,
 * anything else UNKNOWN. */
int grpc_code_from_http(long http_status);

/*
 * OTLP/gRPC retry rule: CANCELLED, DEADLINE_EXCEEDED, ABORTED,
 * OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS are retried; RESOURCE_EXHAUSTED
 * only with has_retry_info; everything else (and OK) is not. Returns 1/0.
 */
int grpc_code_retryable(int code, int has_retry_info);

/*
 * The outcome of a call that got an HTTP response (http_status != 0).
 * grpc_status, grpc_message and details are the raw header or trailer
 * values ("" or NULL when absent). A grpc-status that is not a decimal
 * number below GRPC_CODE_NR counts as UNKNOWN; HTTP 200 without
 * grpc-status is UNKNOWN too (not a gRPC answer). Always fills out.
 */
void grpc_frame_outcome(long http_status, const char *grpc_status, const char *grpc_message,
			const char *details, struct grpc_outcome *out);

/* Largest decompressed answer message grpc_frame_response() accepts. */
#define GRPC_RESPONSE_MAX (1u << 20)

/*
 * Reads the Export*ServiceResponse of an OK call for signal sig (enum
 * spool_signal) from the answer body: the framed message, decompressed
 * per encoding (the answer's grpc-encoding: "", identity, gzip or zstd)
 * when its flag says so, then response_parse_success(). An empty body
 * is a full success. Returns 0 (out filled), -EBADMSG (bad frame or
 * message), -EMSGSIZE (over GRPC_RESPONSE_MAX), -ENOTSUP (an encoding we
 * did not offer), -ENOMEM; out then says nothing was rejected.
 */
int grpc_frame_response(int sig, const char *encoding, const void *body, size_t len,
			struct response_info *out);

#endif
