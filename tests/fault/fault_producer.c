/* SPDX-License-Identifier: MIT */
/*
 * fault_producer.c: the fault tests' fast producer (tests/fault/). Unlike
 * tests/e2e/workloads/api_producer.c it never retries a record that a
 * full ring refused: the record is dropped, and the library counts it in
 * the ring's and the producer's drop counters, so that a test can check
 * that the agent's own count of drops is exact.
 *
 *   fault_producer TAG N PACE_US RESULT
 *     N records, body "fk TAG NNNNNNNN" (i, 8 digits), severity INFO, one
 *     attribute fk.i = i, through shmlog_log(); sleeps PACE_US
 *     microseconds every 100 records (0: flat out). Writes to RESULT
 *     "ok=N enobufs=N failed=N last_err=E", one key a line, at the end
 *     (and every 10,000 records while running, with done=0).
 * Exit 0 when no call failed with anything but -ENOBUFS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "shmlog.h"

struct fp_counts {
	long ok;
	long enobufs; /* refused by a full ring: dropped and counted */
	long failed;  /* any other error */
	int last_err;
};

static void fp_sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void fp_result(const char *path, const struct fp_counts *c, int done)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "pid=%ld\nok=%ld\nenobufs=%ld\nfailed=%ld\nlast_err=%d\ndone=%d\n",
		(long)getpid(), c->ok, c->enobufs, c->failed, c->last_err, done);
	if (fclose(f) == 0)
		rename(tmp, path);
}

int main(int argc, char **argv)
{
	struct fp_counts c = {0};
	const char *tag, *result;
	long n, pace_us;
	char body[128];

	if (argc != 5) {
		fprintf(stderr, "usage: fault_producer TAG N PACE_US RESULT\n");
		return 2;
	}
	tag = argv[1];
	n = atol(argv[2]);
	pace_us = atol(argv[3]);
	result = argv[4];
	/* The library attaches by itself; give it up to 10 s. */
	for (int i = 0; i < 1000 && !shmlog_attached(); i++)
		fp_sleep_us(10000);
	for (long i = 0; i < n; i++) {
		struct shmlog_attr attrs[1] = {SHMLOG_INT("fk.i", i)};
		int len = snprintf(body, sizeof(body), "fk %s %08ld", tag, i);
		int ret = shmlog_log(SHMLOG_SEV_INFO, "INFO", body, (size_t)len, attrs, 1);

		if (ret == 0) {
			c.ok++;
		} else if (ret == -ENOBUFS) {
			c.enobufs++;
		} else {
			c.failed++;
			c.last_err = ret;
		}
		if (pace_us && i % 100 == 99)
			fp_sleep_us(pace_us);
		if (i % 10000 == 9999)
			fp_result(result, &c, 0);
	}
	fp_result(result, &c, 1);
	return c.failed ? 1 : 0;
}
