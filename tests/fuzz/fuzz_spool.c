/* SPDX-License-Identifier: MIT */
/* libFuzzer target: spool_file_parse() on any bytes (a spool file another
 * process wrote, possibly truncated or corrupt), and request_body_check()
 * on the payload (the exporter's structure check before it sends one). */
#include <stdlib.h>

#include "request_body.h"
#include "spool_file.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct spool_file_hdr hdr;
	const void *payload;
	size_t plen;

	if (spool_file_parse(data, size, &hdr, &payload, &plen) == 0 &&
	    ((const unsigned char *)payload < data || plen > size ||
	     (const unsigned char *)payload + plen > data + size))
		abort(); /* a payload outside the input */
	(void)request_body_check(data, size);
	return 0;
}
