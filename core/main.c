/* SPDX-License-Identifier: MIT */
/*
 * shmlog-collector: creates the namespace's shared-memory segment, drains
 * its rings and writes OTLP requests into the spool. Wiring only:
 * arguments, configuration, collector_open/run/close (collector.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "config.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: shmlog-collector [-c FILE] [--section.key=value ...] [--print-config]\n"
		   "                        [--help-config] [--version] [-h]\n"
		   "Creates the shared-memory rings of a namespace, drains them and writes\n"
		   "OTLP requests into the spool for shmlog-exporter. Keys: conf/shmlog.ini.\n");
}

int main(int argc, char **argv)
{
	static struct shmlog_config cfg;
	static struct collector c;
	const char *file = NULL;
	char err[1024];
	int print = 0, ret;

	log_init("shmlog-collector");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("shmlog-collector %s\n", SHMLOG_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help-config") == 0) {
			config_help(STDOUT_FILENO);
			return 0;
		} else if (strcmp(argv[i], "--print-config") == 0) {
			print = 1;
		} else if (!config_is_override(argv[i])) {
			fprintf(stderr, "shmlog-collector: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	ret = config_load(&cfg, file, argc, argv, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (print) {
		config_dump(&cfg, STDOUT_FILENO);
		return 0;
	}
	ret = collector_open(&c, &cfg);
	if (ret == 0) {
		collector_set_reload(&c, &cfg, file, argc, argv);
		ret = collector_run(&c);
	}
	collector_close(&c);
	return ret ? 1 : 0;
}
