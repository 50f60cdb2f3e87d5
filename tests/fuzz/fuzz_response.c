/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the exporter's parsing of a backend's answer (partial
 * success, google.rpc.Status, JSON or text bodies): any bytes, any of the
 * content types, both signals. */
#include <stdlib.h>
#include <string.h>

#include "response.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const types[] = { "application/x-protobuf", "application/json",
					     "text/plain", NULL };
	struct response_info ri;
	const char *ct;

	if (size == 0)
		return 0;
	ct = types[data[0] % 4];
	(void)response_parse_success(1 + (data[0] >> 7), ct, data + 1, size - 1, &ri);
	if (!memchr(ri.message, '\0', sizeof(ri.message)))
		abort();
	response_parse_error(ct, data + 1, size - 1, &ri);
	if (!memchr(ri.message, '\0', sizeof(ri.message)))
		abort();
	return 0;
}
