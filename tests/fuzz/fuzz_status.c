/* SPDX-License-Identifier: MIT */
/* libFuzzer target: exporter_status_parse() (core/common/exporter_status.c)
 * on any bytes, as the collector and shmtop read <spool>/exporter.status,
 * another process's file: never a crash, every string NUL-terminated in
 * its array, every bounded value within its bounds. */
#include <stdlib.h>
#include <string.h>

#include "exporter_status.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct exporter_status e;

	exporter_status_parse(&e, (const char *)data, size);
	if (!memchr(e.endpoint, '\0', sizeof(e.endpoint)) ||
	    !memchr(e.protocol, '\0', sizeof(e.protocol)) ||
	    !memchr(e.compression, '\0', sizeof(e.compression)) ||
	    !memchr(e.last_error, '\0', sizeof(e.last_error)))
		abort();
	if (e.last_http_status < -1 || e.last_http_status > 999)
		abort();
	if (e.last_auth_status != 0 && e.last_auth_status != 401 && e.last_auth_status != 403)
		abort();
	if (e.latency_nbounds < 0 || e.latency_nbounds > EXPORTER_STATUS_MAX_BOUNDS ||
	    e.latency_nbuckets < 0 || e.latency_nbuckets > EXPORTER_STATUS_MAX_BOUNDS + 1)
		abort();
	return 0;
}
