/* SPDX-License-Identifier: MIT */
/*
 * shmtop's arithmetic on snapshots (shmtop_read.h): rates from two
 * successive snapshots of the same segment, the per-producer split of
 * each ring's records, the order of the producer list, and the refresh
 * interval steps of the live view's +/- keys. Pure functions: no I/O, no
 * globals, no allocation; safe on any snapshot contents (counters that
 * went backwards, empty arrays, a zero time window). Used by
 * shmtop_print.c and shmtop_tui.c; tests/unit/test_shmtop_rate.c covers
 * them.
 */
#ifndef TOOLS_SHMTOP_RATE_H
#define TOOLS_SHMTOP_RATE_H

#include <stdint.h>

#include "shmtop_read.h"

/* Smallest and largest refresh interval, in milliseconds. */
#define SHMTOP_RATE_MIN_MS 100u
#define SHMTOP_RATE_MAX_MS 3600000u

enum shmtop_sort {
	SHMTOP_SORT_RATE = 0, /* record rate, highest first */
	SHMTOP_SORT_DROPS,    /* drops, most first */
	SHMTOP_SORT_PID,      /* pid, lowest first */
	SHMTOP_SORT_NR	      /* number of orders */
};

/* One line of the producer list: prod indexes cur->prods. */
struct shmtop_row {
	uint32_t prod;
	uint32_t pid;
	uint64_t drops;
	double rate; /* records/s, -1 unknown */
};

/* Records per second that ring k's collector read between prev and cur;
 * -1 when unknown (prev NULL, no time passed, ring k missing from prev,
 * counter went backwards after a collector restart). */
double shmtop_rate_ring(const struct shmtop_snap *cur, const struct shmtop_snap *prev, uint32_t k);

/* Records per second dropped in ring k (rh_drops); -1 when unknown. */
double shmtop_rate_ring_drops(const struct shmtop_snap *cur, const struct shmtop_snap *prev,
			      uint32_t k);

/* Records per second the collector read in all (sh_records_in); -1 unknown. */
double shmtop_rate_total(const struct shmtop_snap *cur, const struct shmtop_snap *prev);

/*
 * Records per second of each producer of cur into rate[i] (cur->nprods
 * entries), from the change of its records_est since prev: -1 for an
 * entry that prev does not have with the same table index, generation
 * and pid (new since), or whose estimate went backwards. *coverage (may
 * be NULL) gets the share of the records read between prev and cur that
 * the walks could split among producers, 0 to 1, or -1 when none was
 * read. Returns 0, or -EINVAL when rates are unknown (prev NULL or no
 * time passed): every rate[i] is then -1.
 */
int shmtop_rate_producers(const struct shmtop_snap *cur, const struct shmtop_snap *prev,
			  double *rate, double *coverage);

/* Fills rows[i] (cur->nprods entries) from cur->prods[i] and rate[i]. */
void shmtop_rate_rows(const struct shmtop_snap *cur, const double *rate, struct shmtop_row *rows);

/*
 * Sorts rows by key. Ties are broken by the other figures, then by pid
 * and table index, so the order is the same for the same input:
 * RATE: rate desc (unknown last), drops desc, pid; DROPS: drops desc,
 * rate desc, pid; PID: pid, index. A key outside the enum sorts by rate.
 */
void shmtop_rate_sort(struct shmtop_row *rows, uint32_t n, enum shmtop_sort key);

/* The refresh interval after one press of + (dir > 0) or - (dir < 0)
 * from ms: the next step of 0.1 0.2 0.5 1 2 5 10 30 60 300 600 3600 s in
 * that direction, staying within [SHMTOP_RATE_MIN_MS, SHMTOP_RATE_MAX_MS];
 * an ms between steps goes to the nearest step in that direction. */
unsigned shmtop_rate_interval_step(unsigned ms, int dir);

#endif
