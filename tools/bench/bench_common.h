/* SPDX-License-Identifier: MIT */
/*
 * bench_common.h: the timing harness of the peer programs of `./build.sh
 * bench` (bench_write.c, bench_lttng.c, bench_spdlog.cc), in the subset of
 * C11 that C++ also compiles. The method is bench_producer.c's, so that
 * every case is measured the same way:
 *
 *   - the TSC (lfence;rdtsc .. rdtscp;lfence), calibrated against
 *     CLOCK_MONOTONIC_RAW, read around batches of BC_BATCH calls; one
 *     batch's ticks / BC_BATCH is one per-record sample; median, p99 and
 *     minimum over the samples; a batch in which a call failed is no sample;
 *   - N records on 1 thread on CPU 0, then N / 2 on each of 2 threads on
 *     CPUs 0 and 1;
 *   - calls in bursts of `burst` (0: one burst); between bursts, untimed,
 *     thread 0 runs the case's `between` (a wait for the consumer) while
 *     the other waits at a barrier.
 *
 * A case is a thread function made by BC_THREAD(name, CALL): CALL(t, i) is
 * an expression evaluated once per record, 0 on success, so that the call
 * is compiled in place (no indirect call in the timed loop). One JSON
 * object per case goes to stdout: bc_print_case().
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BC_HAVE_TSC 1
#endif

#define BC_BATCH 16
#define BC_BODY_LEN 64
#define BC_WARMUP_MAX 65536 /* untimed calls per thread before the first burst */

/* 64 bytes exactly: the benchmark record's body (bench_producer.c's). */
static const char bc_body64[BC_BODY_LEN + 1] =
    "bench record: 64-byte body for the shmlog producer benchmark ..";

struct bc_stats {
	double med_ns, p99_ns, min_ns;
	double ok_per_s;
	uint64_t ok, errors, nsamples;
};

struct bc_thr {
	pthread_t tid;
	int cpu, idx, nthreads;
	uint64_t n, burst;
	uint64_t *samples;
	uint64_t nsamples, errors, busy_ns;
	pthread_barrier_t *bar;
	void (*between)(void *ctx);
	void *ctx;
};

static double bc_tsc_ns = 1.0; /* ns per tick */
static FILE *bc_out;	       /* the JSON: stdout unless set */

static inline uint64_t bc_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void bc_sleep_us(long us)
{
	struct timespec d;

	d.tv_sec = us / 1000000;
	d.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&d, NULL);
}

static inline uint64_t bc_ticks_begin(void)
{
#ifdef BC_HAVE_TSC
	_mm_lfence();
	return __rdtsc();
#else
	return bc_now_ns(CLOCK_MONOTONIC);
#endif
}

static inline uint64_t bc_ticks_end(void)
{
#ifdef BC_HAVE_TSC
	unsigned int aux;
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
#else
	return bc_now_ns(CLOCK_MONOTONIC);
#endif
}

static inline void bc_calibrate(void)
{
#ifdef BC_HAVE_TSC
	uint64_t n0, n1, c0, c1;

	n0 = bc_now_ns(CLOCK_MONOTONIC_RAW);
	c0 = __rdtsc();
	bc_sleep_us(200000);
	n1 = bc_now_ns(CLOCK_MONOTONIC_RAW);
	c1 = __rdtsc();
	bc_tsc_ns = (double)(n1 - n0) / (double)(c1 - c0);
#endif
}

static inline int bc_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static inline int bc_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline void bc_summarize(struct bc_thr *t, struct bc_stats *st)
{
	uint64_t n = t->nsamples, *s = t->samples;
	double per = BC_BATCH * 1.0;

	memset(st, 0, sizeof(*st));
	st->ok = t->n / BC_BATCH * BC_BATCH - t->errors;
	st->errors = t->errors;
	st->nsamples = n;
	st->ok_per_s = t->busy_ns ? (double)st->ok * 1e9 / (double)t->busy_ns : 0;
	if (n == 0) {
		st->med_ns = st->p99_ns = st->min_ns = -1;
		return;
	}
	qsort(s, n, sizeof(*s), bc_cmp_u64);
	st->min_ns = (double)s[0] * bc_tsc_ns / per;
	st->med_ns = (double)s[n / 2] * bc_tsc_ns / per;
	st->p99_ns = (double)s[(n * 99) / 100] * bc_tsc_ns / per;
}

/* Both threads meet; thread 0 runs between(); both meet again. */
static inline void bc_pause(struct bc_thr *t)
{
	pthread_barrier_wait(t->bar);
	if (t->idx == 0 && t->between)
		t->between(t->ctx);
	pthread_barrier_wait(t->bar);
}

/*
 * BC_THREAD(fn, CALL): defines void *fn(void *bc_thr) that pins itself,
 * runs one untimed burst of warm-up (at most BC_WARMUP_MAX calls), then t->n timed calls of CALL(t,
 * i).
 */
#define BC_THREAD(fn, CALL)                                                                        \
	static void *fn(void *arg)                                                                 \
	{                                                                                          \
		struct bc_thr *t = (struct bc_thr *)arg;                                           \
		uint64_t i = 0, done = 0, burst = t->burst ? t->burst : t->n;                      \
                                                                                                   \
		if (t->cpu >= 0 && bc_pin(t->cpu) < 0)                                             \
			fprintf(stderr, "bench: cannot pin to CPU %d\n", t->cpu);                  \
		for (uint64_t w = 0; w < burst && w < t->n && w < BC_WARMUP_MAX; w++)              \
			(void)(CALL(t, w));                                                        \
		bc_pause(t);                                                                       \
		while (done + BC_BATCH <= t->n) {                                                  \
			uint64_t nb = (t->n - done < burst ? t->n - done : burst) / BC_BATCH;      \
			uint64_t t0;                                                               \
                                                                                                   \
			if (nb == 0)                                                               \
				nb = 1;                                                            \
			pthread_barrier_wait(t->bar);                                              \
			t0 = bc_now_ns(CLOCK_MONOTONIC);                                           \
			for (uint64_t b = 0; b < nb; b++) {                                        \
				int bad = 0;                                                       \
				uint64_t c0 = bc_ticks_begin(), c1;                                \
                                                                                                   \
				for (int k = 0; k < BC_BATCH; k++, i++) {                          \
					int ret_ = (CALL(t, i));                                   \
                                                                                                   \
					bad |= ret_;                                               \
					t->errors += ret_ != 0;                                    \
				}                                                                  \
				c1 = bc_ticks_end();                                               \
				if (!bad)                                                          \
					t->samples[t->nsamples++] = c1 - c0;                       \
			}                                                                          \
			t->busy_ns += bc_now_ns(CLOCK_MONOTONIC) - t0;                             \
			done += nb * BC_BATCH;                                                     \
			bc_pause(t);                                                               \
		}                                                                                  \
		return NULL;                                                                       \
	}

/* Runs nthreads copies of fn on CPUs 0..nthreads-1, n calls in all (n /
 * nthreads each), bursts of `burst` calls per thread. */
static inline void bc_run(int nthreads, uint64_t n, uint64_t burst, void *(*fn)(void *),
			  void (*between)(void *), void *ctx, struct bc_stats *out)
{
	struct bc_thr t[2];
	pthread_barrier_t bar;

	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int k = 0; k < nthreads; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		t[k].cpu = k;
		t[k].idx = k;
		t[k].nthreads = nthreads;
		t[k].n = n / (uint64_t)nthreads;
		t[k].burst = burst / BC_BATCH * BC_BATCH;
		t[k].bar = &bar;
		t[k].between = between;
		t[k].ctx = ctx;
		t[k].samples = (uint64_t *)calloc(n / BC_BATCH + 2, sizeof(uint64_t));
		if (!t[k].samples) {
			fprintf(stderr, "bench: out of memory\n");
			exit(1);
		}
	}
	for (int k = 0; k < nthreads; k++) {
		if (pthread_create(&t[k].tid, NULL, fn, &t[k])) {
			fprintf(stderr, "bench: pthread_create failed\n");
			exit(1);
		}
	}
	for (int k = 0; k < nthreads; k++) {
		pthread_join(t[k].tid, NULL);
		bc_summarize(&t[k], &out[k]);
		free(t[k].samples);
	}
	pthread_barrier_destroy(&bar);
}

static inline void bc_json_stats(const char *name, const struct bc_stats *st)
{
	fprintf(bc_out ? bc_out : stdout,
		"\"%s\":{\"med_ns\":%.2f,\"p99_ns\":%.2f,\"min_ns\":%.2f,\"ok\":%" PRIu64
		",\"errors\":%" PRIu64 ",\"samples\":%" PRIu64 ",\"ok_per_s\":%.0f},",
		name, st->med_ns, st->p99_ns, st->min_ns, st->ok, st->errors, st->nsamples,
		st->ok_per_s);
}

/* One case's JSON object, without its closing brace: the caller may add
 * fields (lost records) and closes it with bc_end_case(). */
static inline void bc_print_case(const char *name, uint64_t n, const struct bc_stats *one,
				 const struct bc_stats *two)
{
	fprintf(bc_out ? bc_out : stdout,
		"{\"case\":\"%s\",\"n\":%" PRIu64 ",\"batch\":%d,\"tsc_ghz\":%.4f,", name, n,
		BC_BATCH, 1.0 / bc_tsc_ns);
	bc_json_stats("t1", one);
	bc_json_stats("t2a", &two[0]);
	bc_json_stats("t2b", &two[1]);
	fprintf(bc_out ? bc_out : stdout, "\"scaling\":%.3f",
		one->ok_per_s > 0 ? (two[0].ok_per_s + two[1].ok_per_s) / one->ok_per_s : -1.0);
}

static inline void bc_end_case(void)
{
	fprintf(bc_out ? bc_out : stdout, "}\n");
	fflush(bc_out ? bc_out : stdout);
}

static inline uint64_t bc_parse_n(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*end || v < BC_BATCH) {
		fprintf(stderr, "bench: bad count '%s' (an integer >= %d)\n", s, BC_BATCH);
		exit(2);
	}
	return v;
}

#endif
