/* SPDX-License-Identifier: MIT */
/*
 * shmtop's rates, producer order and interval steps (contracts in
 * shmtop_rate.h). Every difference is taken only when the later counter is
 * not below the earlier one, and every division has a non-zero divisor, so
 * no snapshot contents can make a NaN or an infinity. Called by
 * shmtop_print.c and shmtop_tui.c.
 */
#include "shmtop_rate.h"

#include <errno.h>
#include <stdlib.h>

static const unsigned steps_ms[] = {100,   200,	  500,	 1000,	 2000,	 5000,
				    10000, 30000, 60000, 300000, 600000, 3600000};
#define NSTEPS (sizeof(steps_ms) / sizeof(steps_ms[0]))

/* Seconds between prev and cur, 0 when unknown. */
static double window_s(const struct shmtop_snap *cur, const struct shmtop_snap *prev)
{
	if (!prev || cur->mono_ns <= prev->mono_ns)
		return 0;
	return (double)(cur->mono_ns - prev->mono_ns) / 1e9;
}

static double per_s(uint64_t now, uint64_t then, double dt)
{
	if (dt <= 0 || now < then)
		return -1;
	return (double)(now - then) / dt;
}

double shmtop_rate_ring(const struct shmtop_snap *cur, const struct shmtop_snap *prev, uint32_t k)
{
	if (!prev || k >= cur->nrings_read || k >= prev->nrings_read)
		return -1;
	return per_s(cur->rings[k].records, prev->rings[k].records, window_s(cur, prev));
}

double shmtop_rate_ring_drops(const struct shmtop_snap *cur, const struct shmtop_snap *prev,
			      uint32_t k)
{
	if (!prev || k >= cur->nrings_read || k >= prev->nrings_read)
		return -1;
	return per_s(cur->rings[k].drops, prev->rings[k].drops, window_s(cur, prev));
}

double shmtop_rate_total(const struct shmtop_snap *cur, const struct shmtop_snap *prev)
{
	if (!prev)
		return -1;
	return per_s(cur->records_in, prev->records_in, window_s(cur, prev));
}

/* The entry of prev with cur's table index, generation and pid, or NULL. */
static const struct shmtop_producer *same_producer(const struct shmtop_snap *prev,
						   const struct shmtop_producer *p)
{
	uint32_t lo = 0, hi = prev->nprods;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (prev->prods[mid].index < p->index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < prev->nprods && prev->prods[lo].index == p->index &&
	    prev->prods[lo].gen == p->gen && prev->prods[lo].pid == p->pid)
		return &prev->prods[lo];
	return NULL;
}

int shmtop_rate_producers(const struct shmtop_snap *cur, const struct shmtop_snap *prev,
			  double *rate, double *coverage)
{
	double dt = window_s(cur, prev), split, unsplit;

	for (uint32_t i = 0; i < cur->nprods; i++)
		rate[i] = -1;
	if (coverage)
		*coverage = -1;
	if (dt <= 0)
		return -EINVAL;
	for (uint32_t i = 0; i < cur->nprods; i++) {
		const struct shmtop_producer *p = &cur->prods[i];
		const struct shmtop_producer *q = same_producer(prev, p);

		if (q && p->records_est >= q->records_est)
			rate[i] = (p->records_est - q->records_est) / dt;
	}
	split = cur->est_split - prev->est_split;
	unsplit = cur->est_unsplit - prev->est_unsplit;
	if (coverage && split >= 0 && unsplit >= 0 && split + unsplit > 0)
		*coverage = split / (split + unsplit);
	return 0;
}

void shmtop_rate_rows(const struct shmtop_snap *cur, const double *rate, struct shmtop_row *rows)
{
	for (uint32_t i = 0; i < cur->nprods; i++)
		rows[i] = (struct shmtop_row){.prod = i,
					      .pid = cur->prods[i].pid,
					      .drops = cur->prods[i].drops,
					      .rate = rate[i]};
}

/* -1, 0, 1 as a > b, a == b, a < b: "higher first". */
static int desc_d(double a, double b)
{
	return a > b ? -1 : a < b;
}

static int desc_u(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b;
}

static int by_pid(const struct shmtop_row *a, const struct shmtop_row *b)
{
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->prod < b->prod ? -1 : a->prod > b->prod;
}

static int by_rate(const void *x, const void *y)
{
	const struct shmtop_row *a = x, *b = y;

	int c = desc_d(a->rate, b->rate);

	if (!c)
		c = desc_u(a->drops, b->drops);
	return c ? c : by_pid(a, b);
}

static int by_drops(const void *x, const void *y)
{
	const struct shmtop_row *a = x, *b = y;

	int c = desc_u(a->drops, b->drops);

	if (!c)
		c = desc_d(a->rate, b->rate);
	return c ? c : by_pid(a, b);
}

static int by_pid_cmp(const void *x, const void *y)
{
	return by_pid(x, y);
}

void shmtop_rate_sort(struct shmtop_row *rows, uint32_t n, enum shmtop_sort key)
{
	int (*cmp)(const void *, const void *) = by_rate;

	if (key == SHMTOP_SORT_DROPS)
		cmp = by_drops;
	else if (key == SHMTOP_SORT_PID)
		cmp = by_pid_cmp;
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp);
}

unsigned shmtop_rate_interval_step(unsigned ms, int dir)
{
	if (dir > 0) {
		for (unsigned i = 0; i < NSTEPS; i++)
			if (steps_ms[i] > ms)
				return steps_ms[i];
		return SHMTOP_RATE_MAX_MS;
	}
	if (dir < 0) {
		for (unsigned i = NSTEPS; i-- > 0;)
			if (steps_ms[i] < ms)
				return steps_ms[i];
		return SHMTOP_RATE_MIN_MS;
	}
	if (ms < SHMTOP_RATE_MIN_MS)
		return SHMTOP_RATE_MIN_MS;
	return ms > SHMTOP_RATE_MAX_MS ? SHMTOP_RATE_MAX_MS : ms;
}
