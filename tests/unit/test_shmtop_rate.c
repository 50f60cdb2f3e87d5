/* SPDX-License-Identifier: MIT */
/*
 * Unit test of shmtop's arithmetic (tools/shmtop_rate.c) on hand-made
 * snapshots: ring, drop and total rates over a known window, unknown
 * rates (no previous snapshot, no time passed, counters that went back),
 * per-producer rates from the walk's estimates and the identity of an
 * entry across snapshots, the coverage share, the producer orders of the
 * r, d and p keys with their tie-breaks, and the refresh interval steps.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "shmtop_rate.h"
#include "test_help.h"

#define SEC 1000000000ull

static int near(double a, double b)
{
	return a > b - 1e-9 && a < b + 1e-9;
}

static void test_ring_rates(void)
{
	struct shmtop_ring ra[2] = {{.records = 100, .drops = 5}, {.records = 50}};
	struct shmtop_ring rb[2] = {{.records = 1100, .drops = 25}, {.records = 40}};
	struct shmtop_snap a = {
	    .mono_ns = 10 * SEC, .nrings_read = 2, .rings = ra, .records_in = 1000};
	struct shmtop_snap b = {
	    .mono_ns = 12 * SEC, .nrings_read = 2, .rings = rb, .records_in = 5000};

	T_ASSERT(near(shmtop_rate_ring(&b, &a, 0), 500));
	T_ASSERT(near(shmtop_rate_ring_drops(&b, &a, 0), 10));
	T_ASSERT(near(shmtop_rate_total(&b, &a), 2000));
	T_ASSERT(shmtop_rate_ring(&b, &a, 1) == -1); /* went back: restarted */
	T_ASSERT(shmtop_rate_ring(&b, &a, 2) == -1); /* no such ring */
	T_ASSERT(shmtop_rate_ring(&b, NULL, 0) == -1);
	T_ASSERT(shmtop_rate_total(&b, NULL) == -1);
	T_ASSERT(shmtop_rate_ring(&a, &b, 0) == -1); /* time went back */
	b.mono_ns = a.mono_ns;
	T_ASSERT(shmtop_rate_ring(&b, &a, 0) == -1); /* no time passed */
	T_ASSERT(shmtop_rate_total(&b, &a) == -1);
	a.nrings_read = 1;
	b.mono_ns = 12 * SEC;
	T_ASSERT(shmtop_rate_ring(&b, &a, 1) == -1); /* not in prev */
}

static void test_producer_rates(void)
{
	struct shmtop_producer pa[3] = {
	    {.index = 0, .pid = 10, .gen = 1, .records_est = 100},
	    {.index = 2, .pid = 20, .gen = 4, .records_est = 0},
	    {.index = 5, .pid = 30, .gen = 0, .records_est = 7},
	};
	struct shmtop_producer pb[4] = {
	    {.index = 0, .pid = 10, .gen = 1, .records_est = 4100}, /* same: 1000/s */
	    {.index = 2, .pid = 20, .gen = 5, .records_est = 8},    /* new generation */
	    {.index = 5, .pid = 31, .gen = 0, .records_est = 9},    /* pid reused the slot */
	    {.index = 7, .pid = 40, .gen = 0, .records_est = 3},    /* new entry */
	};
	struct shmtop_snap a = {
	    .mono_ns = 1 * SEC, .nprods = 3, .prods = pa, .est_split = 10, .est_unsplit = 5};
	struct shmtop_snap b = {
	    .mono_ns = 5 * SEC, .nprods = 4, .prods = pb, .est_split = 40, .est_unsplit = 15};
	double rate[4], cov;

	T_EQ_INT(shmtop_rate_producers(&b, &a, rate, &cov), 0);
	T_ASSERT(near(rate[0], 1000));
	T_ASSERT(rate[1] == -1 && rate[2] == -1 && rate[3] == -1);
	T_ASSERT(near(cov, 0.75)); /* 30 split of 40 read */

	pb[0].records_est = 50; /* went back: unknown, not negative */
	T_EQ_INT(shmtop_rate_producers(&b, &a, rate, NULL), 0);
	T_ASSERT(rate[0] == -1);

	b.est_split = a.est_split;
	b.est_unsplit = a.est_unsplit;
	T_EQ_INT(shmtop_rate_producers(&b, &a, rate, &cov), 0);
	T_ASSERT(cov == -1); /* nothing read */

	T_EQ_INT(shmtop_rate_producers(&b, NULL, rate, &cov), -EINVAL);
	for (int i = 0; i < 4; i++)
		T_ASSERT(rate[i] == -1);
	b.mono_ns = a.mono_ns;
	T_EQ_INT(shmtop_rate_producers(&b, &a, rate, &cov), -EINVAL);
}

static uint32_t pids(const struct shmtop_row *rows, uint32_t n, uint32_t *out)
{
	for (uint32_t i = 0; i < n; i++)
		out[i] = rows[i].pid;
	return n;
}

static void test_sort(void)
{
	struct shmtop_producer p[5] = {
	    {.index = 0, .pid = 500, .drops = 0}, {.index = 1, .pid = 100, .drops = 900},
	    {.index = 2, .pid = 300, .drops = 5}, {.index = 3, .pid = 200, .drops = 5},
	    {.index = 4, .pid = 400, .drops = 0},
	};
	double rate[5] = {4000, 2, -1, 50, 50};
	struct shmtop_snap s = {.nprods = 5, .prods = p};
	struct shmtop_row rows[5];
	uint32_t got[5];

	shmtop_rate_rows(&s, rate, rows);
	T_ASSERT(rows[3].prod == 3 && rows[3].pid == 200 && rows[3].drops == 5 &&
		 rows[3].rate == 50);

	shmtop_rate_sort(rows, 5, SHMTOP_SORT_RATE);
	pids(rows, 5, got);
	/* 4000; 50 and 50 tie: more drops first (200), then 400; 2; unknown last */
	T_ASSERT(got[0] == 500 && got[1] == 200 && got[2] == 400 && got[3] == 100 && got[4] == 300);

	shmtop_rate_sort(rows, 5, SHMTOP_SORT_DROPS);
	pids(rows, 5, got);
	/* 900; 5 and 5 tie: higher rate first (200: 50, 300: unknown); 0 and 0: 4000 first */
	T_ASSERT(got[0] == 100 && got[1] == 200 && got[2] == 300 && got[3] == 500 && got[4] == 400);

	shmtop_rate_sort(rows, 5, SHMTOP_SORT_PID);
	pids(rows, 5, got);
	T_ASSERT(got[0] == 100 && got[1] == 200 && got[2] == 300 && got[3] == 400 && got[4] == 500);

	/* Equal figures and pid: the table index decides, whatever the order given. */
	rows[0] = (struct shmtop_row){.prod = 9, .pid = 7, .drops = 1, .rate = 1};
	rows[1] = (struct shmtop_row){.prod = 3, .pid = 7, .drops = 1, .rate = 1};
	shmtop_rate_sort(rows, 2, SHMTOP_SORT_RATE);
	T_ASSERT(rows[0].prod == 3 && rows[1].prod == 9);
	shmtop_rate_sort(rows, 0, SHMTOP_SORT_DROPS); /* empty: nothing to do */
	shmtop_rate_sort(rows, 2, SHMTOP_SORT_NR);    /* out of range: by rate */
	T_ASSERT(rows[0].prod == 3);
}

static void test_interval(void)
{
	T_EQ_INT(shmtop_rate_interval_step(1000, 1), 2000);
	T_EQ_INT(shmtop_rate_interval_step(2000, -1), 1000);
	T_EQ_INT(shmtop_rate_interval_step(1500, 1), 2000);
	T_EQ_INT(shmtop_rate_interval_step(1500, -1), 1000);
	T_EQ_INT(shmtop_rate_interval_step(100, -1), 100);
	T_EQ_INT(shmtop_rate_interval_step(100, 1), 200);
	T_EQ_INT(shmtop_rate_interval_step(3600000, 1), 3600000);
	T_EQ_INT(shmtop_rate_interval_step(600000, 1), 3600000);
	T_EQ_INT(shmtop_rate_interval_step(50, 0), 100);
	T_EQ_INT(shmtop_rate_interval_step(1234, 0), 1234);
	T_EQ_INT(shmtop_rate_interval_step(99999999, 0), 3600000);
	T_EQ_INT(shmtop_rate_interval_step(99999999, -1), 3600000);
	T_EQ_INT(shmtop_rate_interval_step(0, 1), 100);
}

int main(void)
{
	T_RUN(test_ring_rates);
	T_RUN(test_producer_rates);
	T_RUN(test_sort);
	T_RUN(test_interval);
	return 0;
}
