/* SPDX-License-Identifier: MIT */
/*
 * metrics_producer.c: an end-to-end workload for the metrics API of
 * libshmlog (shmlog.h, "metrics"), for tests/e2e/test_metrics*.py. Built as
 * e2e_metrics_producer (e2e.cmake).
 *
 *   e2e_metrics_producer ID [RESULT]
 *     registers the instruments below and writes amounts that depend on ID
 *     over STEPS steps of STEP_US (about 2.7 s, so that several export
 *     intervals pass), prints nothing, exits 0. RESULT (optional) gets
 *     "enobufs=N" and "neg_refused=N" lines.
 *       e2e.requests  counter "{request}"  {route=a} += ID+1, {route=b} += 2
 *       e2e.bytes     counter "By"         {route=a} += 1000*ID + i,
 *                                          {route=b} += 0.25
 *       e2e.errors    counter (no unit)    {route=a} += ID when i % 10 == 0,
 *                                          {route=b} += 1 when i % 100 == 0
 *       e2e.queue     up-down "{item}"     {} += 5 then -= 2 per step; at the
 *                                          end -= ID
 *       e2e.temperature gauge "Cel"        {producer=ID} = 10*ID + i % 7 per
 *                                          step; at the end -40.5 + ID
 *       e2e.latency   histogram "ms", default bounds, {}: one value per step,
 *                     HIST_VALUES[(7*i + ID) % 19] (on bounds, below 0,
 *                     above the last bound)
 *     harness.expected_metrics() computes the same totals: keep in step.
 *   e2e_metrics_producer check
 *     the refusals of shmlog_instrument / shmlog_series / the hot path; one
 *     line per check on stdout: "ok WHAT got G" or "FAIL WHAT got G want W";
 *     exit 0 when all pass. Leaves e2e.check.c {k=v} = 7 behind.
 *   e2e_metrics_producer fill
 *     registers counters "e2e.fill.K" (K = 0, 1, ...) until -ENOSPC, adds
 *     K+1 to each, tries 2 more new names (3 refusals in all), looks up
 *     e2e.fill.0 again, sleeps 0.8 s, adds K+1 again. Prints
 *     registered=N first_refusal=E refusals=3 lookup0=ID id0=ID
 *     series_after_full=S; exit 0 when -ENOSPC came.
 *   e2e_metrics_producer card NSETS ROUNDS
 *     counter "e2e.card" with NSETS attribute sets {k=J}; ROUNDS rounds of
 *     += J+1 for each set, 20 ms apart.
 *
 * A call refused with -ENOBUFS (ring full) is retried after 1 ms and
 * counted, so every value is either in a ring or reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmlog.h"

#define STEPS 1000
#define STEP_US 2700L

static const double HIST_VALUES[19] = {
    -3,	 0,   0.5,   5,	   7.25, 10,   24,    25,      60,    100,
    333, 750, 999.5, 1000, 4000, 7500, 10000, 10000.5, 20000,
};

static long enobufs, neg_refused;

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "e2e_metrics_producer: %s: %d (%s)\n", what, ret,
		strerror(ret < 0 ? -ret : ret));
	exit(1);
}

static void wait_attached(void)
{
	for (int i = 0; i < 1000 && !shmlog_attached(); i++)
		sleep_us(10000);
}

/* Registration, retried while no collector is attached yet (up to 10 s). */
static int instrument(const char *name, const char *unit, const char *desc, int kind,
		      const double *bounds, size_t nb)
{
	int ret = -ENOTCONN;

	for (int i = 0; i < 1000; i++) {
		ret = shmlog_instrument(name, unit, desc, kind, bounds, nb);
		if (ret != -ENOTCONN)
			break;
		sleep_us(10000);
	}
	return ret;
}

static int series(int inst, const struct shmlog_attr *a, size_t n)
{
	int ret = -ENOTCONN;

	for (int i = 0; i < 1000; i++) {
		ret = shmlog_series(inst, a, n);
		if (ret != -ENOTCONN)
			break;
		sleep_us(10000);
	}
	return ret;
}

enum op { ADD, SET, RECORD };

/* One hot-path call, retried on -ENOBUFS; returns the final result. */
static int put(enum op op, int s, double v)
{
	int ret = 0;

	for (int tries = 0; tries < 5000; tries++) {
		ret = op == ADD	  ? shmlog_add(s, v)
		      : op == SET ? shmlog_set(s, v)
				  : shmlog_record(s, v);
		if (ret != -ENOBUFS)
			break;
		enobufs++;
		sleep_us(1000);
	}
	return ret;
}

static void must(enum op op, int s, double v, const char *what)
{
	int ret = put(op, s, v);

	if (ret != 0)
		die(what, ret);
}

static int must_id(int ret, const char *what)
{
	if (ret < 0)
		die(what, ret);
	return ret;
}

static int run(long id, const char *result)
{
	const struct shmlog_attr ra[1] = {SHMLOG_STR("route", "a")};
	const struct shmlog_attr rb[1] = {SHMLOG_STR("route", "b")};
	const struct shmlog_attr pa[1] = {SHMLOG_INT("producer", id)};
	int req, bytes, errs, queue, temp, lat;
	int req_a, req_b, bytes_a, bytes_b, errs_a, errs_b, q, t, l;

	wait_attached();
	req = must_id(
	    instrument("e2e.requests", "{request}", "Requests handled", SHMLOG_COUNTER, NULL, 0),
	    "instrument e2e.requests");
	bytes = must_id(instrument("e2e.bytes", "By", "Bytes sent", SHMLOG_COUNTER, NULL, 0),
			"instrument e2e.bytes");
	errs = must_id(instrument("e2e.errors", NULL, NULL, SHMLOG_COUNTER, NULL, 0),
		       "instrument e2e.errors");
	queue = must_id(
	    instrument("e2e.queue", "{item}", "Queue length", SHMLOG_UPDOWN_COUNTER, NULL, 0),
	    "instrument e2e.queue");
	temp = must_id(instrument("e2e.temperature", "Cel", "Temperature", SHMLOG_GAUGE, NULL, 0),
		       "instrument e2e.temperature");
	lat = must_id(instrument("e2e.latency", "ms", "Latency", SHMLOG_HISTOGRAM, NULL, 0),
		      "instrument e2e.latency");
	req_a = must_id(series(req, ra, 1), "series e2e.requests a");
	req_b = must_id(series(req, rb, 1), "series e2e.requests b");
	bytes_a = must_id(series(bytes, ra, 1), "series e2e.bytes a");
	bytes_b = must_id(series(bytes, rb, 1), "series e2e.bytes b");
	errs_a = must_id(series(errs, ra, 1), "series e2e.errors a");
	errs_b = must_id(series(errs, rb, 1), "series e2e.errors b");
	q = must_id(series(queue, NULL, 0), "series e2e.queue");
	t = must_id(series(temp, pa, 1), "series e2e.temperature");
	l = must_id(series(lat, NULL, 0), "series e2e.latency");

	for (long i = 0; i < STEPS; i++) {
		double v = HIST_VALUES[(7 * i + id) % 19];
		int ret;

		must(ADD, req_a, (double)(id + 1), "add e2e.requests a");
		must(ADD, req_b, 2.0, "add e2e.requests b");
		must(ADD, bytes_a, (double)(1000 * id + i), "add e2e.bytes a");
		must(ADD, bytes_b, 0.25, "add e2e.bytes b");
		if (i % 10 == 0)
			must(ADD, errs_a, (double)id, "add e2e.errors a");
		if (i % 100 == 0)
			must(ADD, errs_b, 1.0, "add e2e.errors b");
		must(ADD, q, 5.0, "add e2e.queue +5");
		must(ADD, q, -2.0, "add e2e.queue -2");
		must(SET, t, (double)(10 * id + i % 7), "set e2e.temperature");
		ret = put(RECORD, l, v);
		if (ret == -EINVAL && v < 0)
			neg_refused++; /* reported: the test says so and leaves it out */
		else if (ret != 0)
			die("record e2e.latency", ret);
		sleep_us(STEP_US);
	}
	must(ADD, q, -(double)id, "add e2e.queue -ID");
	must(SET, t, -40.5 + (double)id, "set e2e.temperature final");
	if (result) {
		FILE *f = fopen(result, "w");

		if (f) {
			fprintf(f, "pid=%ld\nenobufs=%ld\nneg_refused=%ld\n", (long)getpid(),
				enobufs, neg_refused);
			fclose(f);
		}
	}
	return 0;
}

static int nfail;

static void expect(const char *what, long got, long want)
{
	if (got == want) {
		printf("ok %s got %ld\n", what, got);
	} else {
		printf("FAIL %s got %ld want %ld\n", what, got, want);
		nfail++;
	}
}

static int check(void)
{
	const double b123[3] = {1, 2, 3}, b124[3] = {1, 2, 4}, b21[2] = {2, 1};
	double many[SHMLOG_MAX_BOUNDS + 1];
	const struct shmlog_attr kv[1] = {SHMLOG_STR("k", "v")};
	int c, h, g, s, s2, gs;

	for (int i = 0; i <= SHMLOG_MAX_BOUNDS; i++)
		many[i] = i;
	wait_attached();
	c = instrument("e2e.check.c", "1", "check counter", SHMLOG_COUNTER, NULL, 0);
	expect("register counter e2e.check.c (>= 0: 1)", c >= 0, 1);
	expect("same counter again: same id",
	       instrument("e2e.check.c", "1", "check counter", SHMLOG_COUNTER, NULL, 0), c);
	expect("e2e.check.c as a gauge: -EEXIST",
	       instrument("e2e.check.c", "1", "check counter", SHMLOG_GAUGE, NULL, 0), -EEXIST);
	expect("e2e.check.c as an up-down counter: -EEXIST",
	       instrument("e2e.check.c", "1", "check counter", SHMLOG_UPDOWN_COUNTER, NULL, 0),
	       -EEXIST);
	expect("e2e.check.c as a histogram: -EEXIST",
	       instrument("e2e.check.c", "1", "check counter", SHMLOG_HISTOGRAM, NULL, 0), -EEXIST);
	expect("e2e.check.c with another unit: -EEXIST",
	       instrument("e2e.check.c", "By", "check counter", SHMLOG_COUNTER, NULL, 0), -EEXIST);
	h = instrument("e2e.check.h", "ms", NULL, SHMLOG_HISTOGRAM, b123, 3);
	expect("register histogram e2e.check.h bounds 1,2,3 (>= 0: 1)", h >= 0, 1);
	expect("e2e.check.h again: same id",
	       instrument("e2e.check.h", "ms", NULL, SHMLOG_HISTOGRAM, b123, 3), h);
	expect("e2e.check.h with bounds 1,2,4: -EEXIST",
	       instrument("e2e.check.h", "ms", NULL, SHMLOG_HISTOGRAM, b124, 3), -EEXIST);
	expect("e2e.check.h with default bounds: -EEXIST",
	       instrument("e2e.check.h", "ms", NULL, SHMLOG_HISTOGRAM, NULL, 0), -EEXIST);
	expect("e2e.check.h as a counter: -EEXIST",
	       instrument("e2e.check.h", "ms", NULL, SHMLOG_COUNTER, NULL, 0), -EEXIST);
	expect("kind 0: -EINVAL", instrument("e2e.check.k0", NULL, NULL, 0, NULL, 0), -EINVAL);
	expect("kind 5: -EINVAL", instrument("e2e.check.k5", NULL, NULL, 5, NULL, 0), -EINVAL);
	expect("bounds 2,1: -EINVAL",
	       instrument("e2e.check.b21", NULL, NULL, SHMLOG_HISTOGRAM, b21, 2), -EINVAL);
	expect(
	    "SHMLOG_MAX_BOUNDS+1 bounds: -EINVAL",
	    instrument("e2e.check.many", NULL, NULL, SHMLOG_HISTOGRAM, many, SHMLOG_MAX_BOUNDS + 1),
	    -EINVAL);
	expect("empty name: -EINVAL", instrument("", NULL, NULL, SHMLOG_COUNTER, NULL, 0), -EINVAL);
	g = instrument("e2e.check.g", NULL, NULL, SHMLOG_GAUGE, NULL, 0);
	expect("register gauge e2e.check.g (>= 0: 1)", g >= 0, 1);
	expect("series of instrument 999999: -EINVAL", series(999999, kv, 1), -EINVAL);
	s = series(c, kv, 1);
	expect("series e2e.check.c {k=v} (>= 0: 1)", s >= 0, 1);
	s2 = series(c, kv, 1);
	expect("same series again: same id", s2, s);
	gs = series(g, NULL, 0);
	expect("series e2e.check.g {} (>= 0: 1)", gs >= 0, 1);
	expect("shmlog_set on a counter series: -EINVAL", put(SET, s, 1), -EINVAL);
	expect("shmlog_record on a counter series: -EINVAL", put(RECORD, s, 1), -EINVAL);
	expect("shmlog_add(-1) on a counter series: -EINVAL", put(ADD, s, -1), -EINVAL);
	expect("shmlog_add on a gauge series: -EINVAL", put(ADD, gs, 1), -EINVAL);
	expect("shmlog_add(7) on e2e.check.c {k=v}: 0", put(ADD, s, 7), 0);
	expect("shmlog_set(2.5) on e2e.check.g: 0", put(SET, gs, 2.5), 0);
	fflush(stdout);
	/* Last: a library that crashes here loses no other check. */
	expect("NULL name: -EINVAL", instrument(NULL, NULL, NULL, SHMLOG_COUNTER, NULL, 0),
	       -EINVAL);
	fflush(stdout);
	return nfail ? 1 : 0;
}

static int fill(void)
{
	enum { MAXN = 70000 };
	static int ids[MAXN], sids[MAXN];
	char name[64];
	int n = 0, first = 0, ret, lookup0, sfull;

	wait_attached();
	for (; n < MAXN; n++) {
		snprintf(name, sizeof(name), "e2e.fill.%d", n);
		ret = instrument(name, NULL, NULL, SHMLOG_COUNTER, NULL, 0);
		if (ret < 0) {
			first = ret;
			break;
		}
		ids[n] = ret;
		sids[n] = must_id(series(ret, NULL, 0), "series e2e.fill");
		must(ADD, sids[n], n + 1, "add e2e.fill");
	}
	for (int k = 1; k <= 2; k++) {
		snprintf(name, sizeof(name), "e2e.fill.more.%d", k);
		ret = instrument(name, NULL, NULL, SHMLOG_COUNTER, NULL, 0);
		if (ret != -ENOSPC)
			printf("FAIL refusal %d: got %d, want -ENOSPC\n", k + 1, ret);
	}
	lookup0 = n > 0 ? instrument("e2e.fill.0", NULL, NULL, SHMLOG_COUNTER, NULL, 0) : -1;
	sfull = n > 0 ? series(ids[0], NULL, 0) : -1;
	sleep_us(800000);
	for (int k = 0; k < n; k++)
		must(ADD, sids[k], k + 1, "add e2e.fill again");
	printf("registered=%d\nfirst_refusal=%d\nrefusals=3\nlookup0=%d\nid0=%d\nseries_after_full="
	       "%d\n"
	       "sid0=%d\nenobufs=%ld\n",
	       n, first, lookup0, n > 0 ? ids[0] : -1, sfull, n > 0 ? sids[0] : -1, enobufs);
	fflush(stdout);
	return first == -ENOSPC ? 0 : 1;
}

static int card(int nsets, int rounds)
{
	int c, s[64];

	if (nsets < 1 || nsets > 64)
		return 2;
	wait_attached();
	c = must_id(instrument("e2e.card", "1", "cardinality", SHMLOG_COUNTER, NULL, 0),
		    "instrument e2e.card");
	for (int j = 0; j < nsets; j++) {
		struct shmlog_attr a[1] = {SHMLOG_INT("k", j)};

		s[j] = must_id(series(c, a, 1), "series e2e.card");
	}
	for (int r = 0; r < rounds; r++) {
		for (int j = 0; j < nsets; j++)
			must(ADD, s[j], j + 1, "add e2e.card");
		sleep_us(20000);
	}
	return 0;
}

/* N adds of 1 to one counter and nothing else: more records than the
 * rings hold, so they must be released without any log flush. */
static int flood(long n)
{
	int c, s;

	wait_attached();
	c = must_id(instrument("e2e.flood", "1", "flood", SHMLOG_COUNTER, NULL, 0),
		    "instrument e2e.flood");
	s = must_id(series(c, NULL, 0), "series e2e.flood");
	for (long i = 0; i < n; i++)
		must(ADD, s, 1.0, "add e2e.flood");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return check();
	if (argc == 2 && strcmp(argv[1], "fill") == 0)
		return fill();
	if (argc == 3 && strcmp(argv[1], "flood") == 0)
		return flood(atol(argv[2]));
	if (argc == 4 && strcmp(argv[1], "card") == 0)
		return card(atoi(argv[2]), atoi(argv[3]));
	if ((argc == 2 || argc == 3) && atol(argv[1]) > 0)
		return run(atol(argv[1]), argc == 3 ? argv[2] : NULL);
	fprintf(stderr,
		"usage: e2e_metrics_producer ID [RESULT] | check | fill | card NSETS ROUNDS | flood N\n");
	return 2;
}
