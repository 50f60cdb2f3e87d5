/* SPDX-License-Identifier: MIT */
/* libFuzzer target: spool_file_parse() on any bytes (a spool file another
 * process wrote, possibly truncated or corrupt). */
#include <stdlib.h>

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
	return 0;
}
