/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the exporter's parsing of a backend's answer (partial
 * success, google.rpc.Status, JSON or text bodies): any bytes, any of the
 * content types, both signals. The same bytes also go through the gRPC
 * side (grpc_frame.c): a framed, maybe compressed answer message under
 * each grpc-encoding, and, as text, grpc-status / grpc-message /
 * grpc-status-details-bin values (RetryInfo). */
#include <stdlib.h>
#include <string.h>

#include "grpc_frame.h"
#include "response.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void terminated(const char *s, size_t n)
{
	if (!memchr(s, '\0', n))
		abort();
}

/* The input as three trailer values split at the first two '\n'. */
static void grpc_trailers(const unsigned char *data, size_t size)
{
	char *text = malloc(size + 1), *msg, *details;
	struct grpc_outcome go;
	uint32_t ms;

	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	msg = strchr(text, '\n');
	if (msg)
		*msg++ = '\0';
	details = msg ? strchr(msg, '\n') : NULL;
	if (details)
		*details++ = '\0';
	grpc_frame_outcome(200 + (long)(size % 400), text, msg, details, &go);
	terminated(go.message, sizeof(go.message));
	if (go.code < 0 || go.code >= GRPC_CODE_NR || go.retry_delay_ms > 300000u)
		abort();
	if (grpc_retry_info_parse(text, strlen(text), &ms) == 0 && ms > 300000u)
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const types[] = { "application/x-protobuf", "application/json",
					     "text/plain", NULL };
	static const char *const encodings[] = { "", "identity", "gzip", "zstd" };
	struct response_info ri;
	const char *ct;

	if (size == 0)
		return 0;
	ct = types[data[0] % 4];
	(void)response_parse_success(1 + (data[0] >> 7), ct, data + 1, size - 1, &ri);
	terminated(ri.message, sizeof(ri.message));
	response_parse_error(ct, data + 1, size - 1, &ri);
	terminated(ri.message, sizeof(ri.message));

	(void)grpc_frame_response(1 + (data[0] >> 7), encodings[(data[0] >> 2) % 4], data + 1,
				  size - 1, &ri);
	terminated(ri.message, sizeof(ri.message));
	grpc_trailers(data + 1, size - 1);
	return 0;
}
