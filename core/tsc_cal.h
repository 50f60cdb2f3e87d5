/* SPDX-License-Identifier: MIT */
/*
 * The collector's half of the producer clock: it decides whether the TSC
 * may stand in for CLOCK_REALTIME on this host and, if so, keeps the
 * calibration in the segment header fresh (shm_abi.h sh_tsc_*; producers
 * read it with shm/tsc.h). Called from the collector's loop thread only.
 * Read shm/tsc.h first.
 */
#ifndef CORE_TSC_CAL_H
#define CORE_TSC_CAL_H

#include <stdint.h>

#include "shm_abi.h"

/* Ticks a calibration is good for, as time: a producer falls back to
 * clock_gettime() once this long has passed without a refresh. */
#define TSC_CAL_VALID_NS 1000000000ull
/* Shortest window a frequency is measured over. */
#define TSC_CAL_MIN_WINDOW_NS 10000000ull
/* A frequency that moved by more than this (parts per million) against
 * the previous one means the clock was stepped: measure afresh. */
#define TSC_CAL_JUMP_PPM 100

struct tsc_cal {
	struct shm_seg_hdr *hdr;
	int usable;	     /* the TSC is invariant and the kernel's clocksource */
	uint64_t anchor_tsc; /* start of the frequency window */
	uint64_t anchor_ns;
	uint64_t mult;	    /* ns per tick << SHM_TSC_SHIFT; 0 until measured */
	uint64_t next_mono; /* CLOCK_MONOTONIC of the next refresh */
	uint64_t refreshes; /* calibrations published (tests, diagnostics) */
};

/*
 * Binds c to the segment header h and checks the TSC (cpuid's invariant
 * TSC bit and /sys/.../current_clocksource = "tsc"); allow = 0 forces the
 * fallback. When the TSC is not to be used, clears the calibration so
 * that producers read the clock themselves. Returns 1 when the TSC is
 * used, 0 when not. Never fails.
 */
int tsc_cal_init(struct tsc_cal *c, struct shm_seg_hdr *h, int allow);

/*
 * At most every few ms (mono: CLOCK_MONOTONIC ns): takes a (TSC,
 * CLOCK_REALTIME) pair, refines the frequency and publishes a calibration
 * based at that pair. Does nothing when the TSC is not used.
 */
void tsc_cal_tick(struct tsc_cal *c, uint64_t mono);

/* As tsc_cal_tick(), without the rate limit (tests). */
void tsc_cal_refresh(struct tsc_cal *c);

#endif
