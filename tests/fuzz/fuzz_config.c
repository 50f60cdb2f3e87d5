/* SPDX-License-Identifier: MIT */
/* libFuzzer target: config_load() on any file contents: 0, or an error
 * line; never a crash, never a header value in the error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct shmlog_config cfg;
	static char path[64];
	char err[1024];
	char *argv[] = { "fuzz", NULL };
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%d.ini", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	err[0] = '\0';
	if (config_load(&cfg, path, 1, argv, err, sizeof(err)) != 0 && !err[0])
		abort(); /* an error must say what */
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	unlink(path);
	return 0;
}
