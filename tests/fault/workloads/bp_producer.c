/* SPDX-License-Identifier: MIT */
/*
 * fault_bp_producer: the producer of tests/fault/fault_backpressure.py.
 * Logs N records "bp TAG NNNNNNN" through shmlog_log() as fast as it can,
 * never retrying: with SHMLOG_ON_FULL=drop a full ring refuses a record at
 * once (-ENOBUFS, dropped and counted by the library), with wait:<ms> the
 * call waits up to ms for room first. Once attached (its first record,
 * "bp TAG start", is in a ring) it creates the file READY and waits until
 * the file GO exists (the test stops the collector in between); at the
 * end it writes "ok=N enobufs=M" to RESULT and exits 0 (1 on any other
 * error).
 *
 *   fault_bp_producer TAG N READY GO RESULT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmlog.h"

static int put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	unsigned long long ok = 0, enobufs = 0;
	char body[64], res[96];
	long n;

	if (argc != 6) {
		fprintf(stderr, "usage: %s TAG N READY GO RESULT\n", argv[0]);
		return 2;
	}
	n = atol(argv[2]);
	/* The first record is the probe of the attachment; the test counts
	 * it as published too. */
	snprintf(body, sizeof(body), "bp %.32s start", argv[1]);
	for (int i = 0; i < 5000 && !shmlog_attached(); i++)
		usleep(1000);
	if (!shmlog_attached() ||
	    shmlog_log(SHMLOG_SEV_INFO, "INFO", body, strlen(body), NULL, 0)) {
		fprintf(stderr, "fault_bp_producer: not attached\n");
		return 1;
	}
	if (put_file(argv[3], "ready\n"))
		return 1;
	while (access(argv[4], F_OK) != 0)
		usleep(1000);
	for (long i = 0; i < n; i++) {
		int len = snprintf(body, sizeof(body), "bp %.32s %07ld", argv[1], i);
		int ret = shmlog_log(SHMLOG_SEV_INFO, "INFO", body, (size_t)len, NULL, 0);

		if (ret == 0)
			ok++;
		else if (ret == -ENOBUFS)
			enobufs++;
		else {
			fprintf(stderr, "fault_bp_producer: shmlog_log: %s\n", strerror(-ret));
			return 1;
		}
	}
	snprintf(res, sizeof(res), "ok=%llu\nenobufs=%llu\n", ok, enobufs);
	return put_file(argv[5], res) ? 1 : 0;
}
