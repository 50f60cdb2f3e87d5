/* SPDX-License-Identifier: MIT */
/*
 * api_producer.c: an end-to-end workload that logs through the public API
 * of libshmlog (shmlog.h) and through printf, for the tests in tests/e2e/
 * (run with LD_PRELOAD=libshmlog.so so that printf lines are captured too).
 *
 *   e2e_api_producer run TAG N M PACE_US RESULT
 *     N records "api TAG p NNNNNN" (shmlog_log_span, shmlog_log and
 *     shmlog_logf in turn, with attributes), a printf line to stdout every
 *     10th record and a stderr line every 50th; then, when M > 0, fork()s
 *     a child that writes M records "api TAG c NNNNNN" through the API and
 *     a printf line every 2nd. Sleeps PACE_US microseconds every 100
 *     records (0: flat out). Writes counts to RESULT and RESULT.child.
 *   e2e_api_producer loop TAG [MAX]
 *     an API record and a write(1) line "kl TAG I PAYLOAD" per turn, flat
 *     out, MAX turns (0: forever), then pause(); the kill test's victim
 *     (it never waits for the collector).
 *   e2e_api_producer burst TAG N
 *     the same, N turns, then exits: a burst that may fill a ring.
 *   e2e_api_producer lines TAG T N
 *     T threads at once, thread k writing N whole lines "tl TAG k NNNNNN
 *     PAYLOAD" with one write() each, to stdout (k even) or stderr (k odd):
 *     concurrent writers of whole lines on one stream (test_stdio_threads.py).
 *
 * The tests (test_logs.py, test_kill.py) compute the same bodies, ids and
 * attributes; keep the two in step. A record refused with -ENOBUFS (ring
 * full) is retried after 1 ms and counted, so every record is either in a
 * ring or reported.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmlog.h"

struct counts {
	long ok;
	long enobufs; /* retries after a full ring */
	long failed;  /* records not kept: any other error, or ENOBUFS for 5 s */
	int last_err;
};

static const struct {
	int sev;
	const char *text;
} sev_table[5] = {
	{ SHMLOG_SEV_INFO, "INFO" },   { SHMLOG_SEV_WARN, "WARN" }, { SHMLOG_SEV_ERROR, "ERROR" },
	{ SHMLOG_SEV_DEBUG, "DEBUG" }, { SHMLOG_SEV_FATAL, "FATAL" },
};

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Kind of record i: 0 shmlog_log_span, 1 shmlog_log, 2 shmlog_logf. */
static int log_one(struct counts *c, const char *tag, const char *who, long i)
{
	char body[640];
	uint8_t trace[16], span[8];
	int kind = (int)(i % 3), ret, tries;
	char longv[320];
	struct shmlog_attr attrs[6] = {
		SHMLOG_STR("e2e.tag", tag),
		SHMLOG_INT("e2e.i", i),
		SHMLOG_DOUBLE("e2e.half", (double)i / 2.0),
		SHMLOG_BOOL("e2e.even", i % 2 == 0),
		SHMLOG_STR("e2e.who", who),
		SHMLOG_STR("e2e.long", longv),
	};
	/* Every 7th record also carries a 300-byte attribute: more than the
	 * library encodes on its stack (lib_log.c ATTRS_STAGE), so that both
	 * of its attribute paths are checked. */
	size_t nattrs = i % 7 == 0 ? 6 : 5;
	int len = snprintf(body, sizeof(body), "api %s %s %06ld", tag, who, i);

	if (nattrs == 6) {
		memset(longv, 'L', 300);
		snprintf(longv + 300, sizeof(longv) - 300, "%ld", i);
	}

	/* trace id e2e0 + i (28 hex digits), span id i + 1 (16 hex digits) */
	memset(trace, 0, sizeof(trace));
	trace[0] = 0xe2;
	trace[1] = 0xe0;
	for (int k = 0; k < 8; k++) {
		trace[15 - k] = (uint8_t)((uint64_t)i >> (8 * k));
		span[7 - k] = (uint8_t)((uint64_t)(i + 1) >> (8 * k));
	}
	for (tries = 0; tries < 5000; tries++) {
		if (kind == 0)
			ret = shmlog_log_span(sev_table[i % 5].sev, sev_table[i % 5].text, body,
					      (size_t)len, attrs, nattrs, trace, span, 1);
		else if (kind == 1)
			ret = shmlog_log(sev_table[i % 5].sev, sev_table[i % 5].text, body,
					 (size_t)len, attrs, nattrs);
		else
			ret = shmlog_logf(sev_table[i % 5].sev, "api %s %s %06ld", tag, who, i);
		if (ret != -ENOBUFS)
			break;
		c->enobufs++;
		sleep_us(1000);
	}
	if (ret == 0) {
		c->ok++;
	} else {
		c->failed++;
		c->last_err = ret;
	}
	return ret;
}

static void write_result(const char *path, const char *who, const struct counts *c)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fprintf(f, "who=%s\npid=%ld\nok=%ld\nenobufs=%ld\nfailed=%ld\nlast_err=%d\n", who,
		(long)getpid(), c->ok, c->enobufs, c->failed, c->last_err);
	fclose(f);
}

static void wait_attached(void)
{
	/* The library attaches by itself; give it up to 10 s. */
	for (int i = 0; i < 1000 && !shmlog_attached(); i++)
		sleep_us(10000);
}

static int run(const char *tag, long n, long m, long pace_us, const char *result)
{
	struct counts pc = { 0 }, cc = { 0 };
	char child_result[4096];
	pid_t child;
	int st;

	wait_attached();
	for (long i = 0; i < n; i++) {
		log_one(&pc, tag, "p", i);
		if (i % 10 == 0)
			printf("api %s pout %06ld\n", tag, i);
		if (i % 50 == 0)
			fprintf(stderr, "ERROR api %s perr %06ld\n", tag, i);
		if (pace_us && i % 100 == 99)
			sleep_us(pace_us);
		if (i % 1000 == 999)
			write_result(result, "parent-running", &pc); /* progress, if it hangs */
	}
	fflush(stdout);
	fflush(stderr);
	write_result(result, "parent", &pc);
	if (m <= 0)
		return pc.failed ? 1 : 0;

	child = fork();
	if (child < 0) {
		perror("fork");
		return 1;
	}
	if (child == 0) {
		for (long i = 0; i < m; i++) {
			log_one(&cc, tag, "c", i);
			if (i % 2 == 0)
				printf("api %s cout %06ld\n", tag, i);
			if (pace_us && i % 100 == 99)
				sleep_us(pace_us);
		}
		snprintf(child_result, sizeof(child_result), "%s.child", result);
		write_result(child_result, "child", &cc);
		exit(cc.failed ? 1 : 0); /* exit(), not _exit(): stdio and the library flush */
	}
	if (waitpid(child, &st, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 1;
	return pc.failed ? 1 : 0;
}

static int loop(const char *tag, long max, int then_exit)
{
	char line[512];
	struct counts c = { 0 };

	for (long i = 0; max <= 0 || i < max; i++) {
		int plen = (int)((i * 7) % 200), len;

		len = snprintf(line, sizeof(line), "kl %s %ld ", tag, i);
		for (int k = 0; k < plen; k++)
			line[len++] = (char)('a' + (i + k) % 26);
		line[len] = '\0';
		log_one(&c, tag, line, i); /* body "api TAG <line> NNNNNN" */
		line[len++] = '\n';
		if (write(1, line, (size_t)len) < 0)
			return 1;
	}
	if (then_exit)
		return c.failed ? 1 : 0;
	for (;;)
		pause(); /* done: wait for the SIGKILL */
}

struct line_thread {
	pthread_t tid;
	const char *tag;
	int k;
	long n;
};

/* The payload of line i of thread k: 20 to 83 bytes, so that lines
 * differ in length (test_stdio_threads.py computes the same). */
static void *line_thread(void *arg)
{
	struct line_thread *t = arg;
	char line[256];

	for (long i = 0; i < t->n; i++) {
		int pad = 20 + (int)((i * 7 + t->k) % 64), len;

		len = snprintf(line, sizeof(line), "tl %s %d %06ld %.*s\n", t->tag, t->k, i, pad,
			       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+"
			       "abcdefghijklmnopqrstuvwxyz");
		if (write(t->k % 2 ? 2 : 1, line, (size_t)len) != len)
			return (void *)1;
	}
	return NULL;
}

static int lines(const char *tag, int nthreads, long n)
{
	struct line_thread t[16];
	int bad = 0;

	if (nthreads < 1 || nthreads > 16)
		return 2;
	for (int k = 0; k < nthreads; k++) {
		t[k] = (struct line_thread){ .tag = tag, .k = k, .n = n };
		if (pthread_create(&t[k].tid, NULL, line_thread, &t[k]) != 0)
			return 1;
	}
	for (int k = 0; k < nthreads; k++) {
		void *ret;

		pthread_join(t[k].tid, &ret);
		bad |= ret != NULL;
	}
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "run") == 0)
		return run(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]), argv[6]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "loop") == 0)
		return loop(argv[2], argc == 4 ? atol(argv[3]) : 0, 0);
	if (argc == 4 && strcmp(argv[1], "burst") == 0)
		return loop(argv[2], atol(argv[3]), 1);
	if (argc == 5 && strcmp(argv[1], "lines") == 0)
		return lines(argv[2], atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: e2e_api_producer run TAG N M PACE_US RESULT | loop TAG [MAX] |"
		" burst TAG N | lines TAG T N\n");
	return 2;
}
