/* SPDX-License-Identifier: MIT */
/*
 * bench_producer: the producer half of `./build.sh bench` (a benchmark, not
 * a test: it never fails on a figure). Needs a running collector on
 * $SHMLOG_NAMESPACE; tools/bench/run.sh starts one. Modes:
 *
 *   bench_producer [-n N]        cost of shmlog_log() on 1 and 2 threads and
 *                                of the peers; one JSON object on stdout
 *   bench_producer --syscalls N  N records, each burst between the markers
 *                                prctl(PR_SET_NAME, "bench-start"/"bench-stop")
 *                                for strace to count what lies between them
 *   bench_producer --e2e K       K records for the end-to-end run
 *
 * The record is DESIGN.md's benchmark record: a 64-byte body and one 64-bit
 * integer attribute. Timing: the TSC (calibrated against CLOCK_MONOTONIC_RAW)
 * read around batches of BATCH calls; one batch's ticks / BATCH is one
 * per-record sample; median and p99 are over those samples. A batch in which
 * any call failed is no sample: drops are counted apart, never taken for
 * fast successes.
 *
 * A producer runs faster than any collector drains, so the calls go in
 * bursts of half a ring's records; between bursts (not timed) the program
 * waits, through a read-only view of the segment, until the collector has
 * released the ring. One untimed lap of warm-up first maps every ring page.
 * Read next: run.sh, bench_e2e.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "seg.h"
#include "shm_abi.h"
#include "shmlog.h"

#define BATCH 16
#define BODY_LEN 64
#define ATTR_KEY "seq"
#define DEFAULT_N 1000000
#define PEER_N 200000
#define ATTACH_WAIT_S 10
#define DRAIN_WAIT_S 10

/* 64 bytes exactly: the benchmark record's body. */
static const char body64[BODY_LEN + 1] =
    "bench record: 64-byte body for the shmlog producer benchmark ..";

struct thr {
	pthread_t tid;
	int cpu;
	uint64_t n;	   /* calls to time */
	uint64_t *samples; /* ticks per clean batch */
	uint64_t nsamples;
	uint64_t ok, drops, other;
	uint64_t busy_ns; /* time inside the bursts */
	pthread_barrier_t *bar;
};

struct stats {
	double med_ns, p99_ns, min_ns;
	double ok_per_s;   /* successful records per second of burst time */
	double call_per_s; /* calls (successes and failures) per second */
	uint64_t ok, drops, other, nsamples;
};

static double tsc_ns;	    /* ns per tick */
static struct seg view;	    /* read-only: ring positions, never records */
static uint64_t burst_recs; /* records per burst: half a ring */
static uint64_t lap_recs;   /* records that fill one ring */

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec d = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&d, NULL);
}

static inline uint64_t ticks_begin(void)
{
#ifdef HAVE_TSC
	/* lfence: earlier work must not leak into the timed batch. */
	_mm_lfence();
	return __rdtsc();
#else
	return now_ns(CLOCK_MONOTONIC);
#endif
}

static inline uint64_t ticks_end(void)
{
#ifdef HAVE_TSC
	unsigned int aux;
	/* rdtscp waits for the batch's instructions to retire. */
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
#else
	return now_ns(CLOCK_MONOTONIC);
#endif
}

static void calibrate(void)
{
#ifdef HAVE_TSC
	uint64_t n0, n1, c0, c1;

	n0 = now_ns(CLOCK_MONOTONIC_RAW);
	c0 = __rdtsc();
	sleep_us(200000);
	n1 = now_ns(CLOCK_MONOTONIC_RAW);
	c1 = __rdtsc();
	tsc_ns = (double)(n1 - n0) / (double)(c1 - c0);
#else
	tsc_ns = 1.0;
#endif
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static inline int log_one(uint64_t i)
{
	struct shmlog_attr a = SHMLOG_INT(ATTR_KEY, (int64_t)i);

	return shmlog_log(SHMLOG_SEV_INFO, NULL, body64, BODY_LEN, &a, 1);
}

/* Slots written but not yet released by the collector, in ring k. */
static uint64_t ring_backlog(uint32_t k)
{
	struct shm_ring_hdr *r = seg_ring(&view, k);
	/* Relaxed is enough: a stale value only makes us wait a bit more
	 * or less; nothing is read through these positions. */
	uint64_t hint = atomic_load_explicit(&r->rh_hint, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->rh_tail, memory_order_relaxed);

	return hint > tail ? hint - tail : 0;
}

/* Waits until every ring's backlog is at most max_slots; exits when the
 * collector makes no progress for DRAIN_WAIT_S (it is stuck or gone). */
static void wait_backlog(uint64_t max_slots)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), last = UINT64_MAX;

	for (;;) {
		uint64_t worst = 0;
		uint32_t wk = 0;

		for (uint32_t k = 0; k < view.nrings; k++) {
			uint64_t b = ring_backlog(k);

			if (b > worst) {
				worst = b;
				wk = k;
			}
		}
		if (worst <= max_slots)
			return;
		if (worst != last) {
			last = worst;
			t0 = now_ns(CLOCK_MONOTONIC);
		} else if (now_ns(CLOCK_MONOTONIC) - t0 > DRAIN_WAIT_S * 1000000000ull) {
			struct shm_ring_hdr *r = seg_ring(&view, wk);

			fprintf(stderr,
				"bench_producer: the collector released nothing of ring %u in %d s "
				"(hint %" PRIu64 ", cursor %" PRIu64 ", tail %" PRIu64 ")\n",
				wk, DRAIN_WAIT_S, (uint64_t)r->rh_hint, (uint64_t)r->rh_cursor,
				(uint64_t)r->rh_tail);
			exit(3);
		}
		sleep_us(200);
	}
}

/* Untimed: fills one lap of this thread's ring so that every page of it
 * is mapped, as in a long-running producer. */
static void warm_up(pthread_barrier_t *bar, int lead)
{
	for (uint64_t i = 0; i < lap_recs; i++) {
		log_one(i);
		if ((i + 1) % burst_recs == 0) {
			pthread_barrier_wait(bar);
			if (lead)
				wait_backlog(0);
			pthread_barrier_wait(bar);
		}
	}
	pthread_barrier_wait(bar);
	if (lead)
		wait_backlog(0);
	pthread_barrier_wait(bar);
}

static void *producer_thread(void *arg)
{
	struct thr *t = arg;
	uint64_t i = 0, done = 0;

	if (t->cpu >= 0 && pin(t->cpu) < 0)
		fprintf(stderr, "bench_producer: cannot pin to CPU %d\n", t->cpu);
	warm_up(t->bar, t->cpu == 0);
	while (done < t->n) {
		uint64_t nb = t->n - done < burst_recs ? t->n - done : burst_recs, t0;

		nb /= BATCH;
		if (nb == 0)
			break;
		pthread_barrier_wait(t->bar);
		t0 = now_ns(CLOCK_MONOTONIC);
		for (uint64_t b = 0; b < nb; b++) {
			int bad = 0;
			uint64_t c0 = ticks_begin(), c1;

			for (int k = 0; k < BATCH; k++, i++) {
				int ret = log_one(i);

				/* Branch-free counts: no extra work in the batch. */
				bad |= ret;
				t->drops += ret == -ENOBUFS;
				t->other += ret != 0 && ret != -ENOBUFS;
			}
			c1 = ticks_end();
			if (!bad)
				t->samples[t->nsamples++] = c1 - c0;
		}
		t->busy_ns += now_ns(CLOCK_MONOTONIC) - t0;
		done += nb * BATCH;
		/* Between bursts: one thread waits for the collector, the
		 * others wait for it. */
		pthread_barrier_wait(t->bar);
		if (t->cpu == 0)
			wait_backlog(0);
		pthread_barrier_wait(t->bar);
	}
	t->ok = done - t->drops - t->other;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void summarize(uint64_t *s, uint64_t n, double per, struct stats *st)
{
	if (n == 0) {
		st->med_ns = st->p99_ns = st->min_ns = -1;
		return;
	}
	qsort(s, n, sizeof(*s), cmp_u64);
	st->min_ns = (double)s[0] * tsc_ns / per;
	st->med_ns = (double)s[n / 2] * tsc_ns / per;
	st->p99_ns = (double)s[(n * 99) / 100] * tsc_ns / per;
}

/* Runs nthreads producers on CPUs 0..nthreads-1, n timed calls each. */
static void run_threads(int nthreads, uint64_t n, struct stats *per)
{
	pthread_barrier_t bar;
	struct thr t[2];
	int ret;

	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int k = 0; k < nthreads; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		t[k].cpu = k;
		t[k].n = n;
		t[k].bar = &bar;
		t[k].samples = calloc(n / BATCH + 1, sizeof(uint64_t));
		if (!t[k].samples) {
			fprintf(stderr, "bench_producer: out of memory\n");
			exit(1);
		}
	}
	for (int k = 0; k < nthreads; k++) {
		ret = pthread_create(&t[k].tid, NULL, producer_thread, &t[k]);
		if (ret) {
			fprintf(stderr, "bench_producer: pthread_create: %s\n", strerror(ret));
			exit(1);
		}
	}
	for (int k = 0; k < nthreads; k++) {
		struct stats *st = &per[k];
		double secs;

		pthread_join(t[k].tid, NULL);
		memset(st, 0, sizeof(*st));
		summarize(t[k].samples, t[k].nsamples, BATCH, st);
		secs = (double)t[k].busy_ns / 1e9;
		st->ok = t[k].ok;
		st->drops = t[k].drops;
		st->other = t[k].other;
		st->nsamples = t[k].nsamples;
		st->ok_per_s = (double)t[k].ok / secs;
		st->call_per_s = (double)(t[k].ok + t[k].drops + t[k].other) / secs;
		free(t[k].samples);
	}
	pthread_barrier_destroy(&bar);
}

/* Timer overhead: an empty batch, in ns per record. */
static double timer_overhead(void)
{
	enum { N = 100000 };
	static uint64_t s[N];
	struct stats st;

	for (int i = 0; i < N; i++) {
		uint64_t c0 = ticks_begin();

		s[i] = ticks_end() - c0;
	}
	summarize(s, N, BATCH, &st);
	return st.med_ns;
}

/* Peer 0: write(2) of the already formatted line to /dev/null, through
 * syscall(): libshmlog exports its own write() (the stdio capture), which
 * this program links. Peer 1: fprintf() of the same line to a FILE* on
 * /dev/null (formats each call; libc's own write(2) per 4 KiB buffered). */
static void run_peer(int which, uint64_t n, struct stats *st)
{
	uint64_t *s = calloc(n / BATCH + 1, sizeof(uint64_t)), ns = 0, t0;
	FILE *f = NULL;
	char line[128];
	int fd = -1, len;

	memset(st, 0, sizeof(*st));
	if (!s)
		return;
	len = snprintf(line, sizeof(line), "%s " ATTR_KEY "=%" PRId64 "\n", body64, (int64_t)12345);
	if (which == 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	else
		f = fopen("/dev/null", "we");
	if ((which == 0 && fd < 0) || (which == 1 && !f)) {
		perror("bench_producer: /dev/null");
		exit(1);
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (uint64_t b = 0, i = 0; b < n / BATCH; b++) {
		uint64_t c0 = ticks_begin();

		if (which == 0) {
			for (int k = 0; k < BATCH; k++, i++)
				st->other += syscall(SYS_write, fd, line, (size_t)len) != len;
		} else {
			for (int k = 0; k < BATCH; k++, i++)
				fprintf(f, "%s " ATTR_KEY "=%" PRId64 "\n", body64, (int64_t)i);
		}
		s[ns++] = ticks_end() - c0;
	}
	st->ok = n / BATCH * BATCH - st->other;
	st->ok_per_s = (double)st->ok / ((double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9);
	st->call_per_s = st->ok_per_s;
	st->nsamples = ns;
	summarize(s, ns, BATCH, st);
	if (fd >= 0)
		close(fd);
	if (f)
		fclose(f);
	free(s);
}

/* register: write one record now (not counted), so that the thread's
 * registration stays out of the figures. */
static void attach(int reg)
{
	const char *ns = getenv("SHMLOG_NAMESPACE");
	size_t len = sizeof(struct shm_rec_hdr) + sizeof(struct shm_log_hdr) + BODY_LEN + 4 +
		     strlen(ATTR_KEY) + 8;
	uint64_t nslots = (len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE;
	int ret;

	if (!ns)
		ns = "default";
	for (int i = 0; !shmlog_attached(); i++) {
		if (i == ATTACH_WAIT_S * 50) {
			fprintf(stderr,
				"bench_producer: no collector on namespace '%s' after %d s\n", ns,
				ATTACH_WAIT_S);
			exit(1);
		}
		sleep_us(20000);
	}
	ret = seg_attach(&view, ns, 0);
	if (ret < 0) {
		fprintf(stderr, "bench_producer: segment of '%s': %s\n", ns, strerror(-ret));
		exit(1);
	}
	lap_recs = view.slots / nslots;
	burst_recs = lap_recs / 2 / BATCH * BATCH;
	if (reg) {
		log_one(0);
		wait_backlog(0);
	}
}

static void json_stats(const char *name, const struct stats *st, int last)
{
	printf("\"%s\":{\"med_ns\":%.2f,\"p99_ns\":%.2f,\"min_ns\":%.2f,\"ok\":%" PRIu64
	       ",\"drops\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"samples\":%" PRIu64
	       ",\"ok_per_s\":%.0f,\"calls_per_s\":%.0f}%s",
	       name, st->med_ns, st->p99_ns, st->min_ns, st->ok, st->drops, st->other, st->nsamples,
	       st->ok_per_s, st->call_per_s, last ? "" : ",");
}

static int mode_latency(uint64_t n)
{
	struct stats one, two[2], wr, fp;
	double timer;

	calibrate();
	timer = timer_overhead();
	run_threads(1, n, &one);
	run_threads(2, n, two);
	run_peer(0, PEER_N, &wr);
	run_peer(1, PEER_N, &fp);
	printf("{\"n\":%" PRIu64 ",\"batch\":%d,\"burst\":%" PRIu64 ",\"ring_slots\":%u,"
	       "\"nrings\":%u,\"tsc_ghz\":%.4f,\"timer_ns\":%.2f,",
	       n, BATCH, burst_recs, view.slots, view.nrings, 1.0 / tsc_ns, timer);
	json_stats("t1", &one, 0);
	json_stats("t2a", &two[0], 0);
	json_stats("t2b", &two[1], 0);
	printf("\"scaling\":%.3f,", (two[0].ok_per_s + two[1].ok_per_s) / one.ok_per_s);
	json_stats("write", &wr, 0);
	json_stats("fprintf", &fp, 1);
	printf("}\n");
	return 0;
}

static int mode_syscalls(uint64_t n)
{
	uint64_t drops = 0, done = 0;

	if (pin(0) < 0)
		fprintf(stderr, "bench_producer: cannot pin to CPU 0\n");
	while (done < n) {
		uint64_t nb = n - done < burst_recs ? n - done : burst_recs;

		prctl(PR_SET_NAME, "bench-start", 0, 0, 0);
		for (uint64_t i = 0; i < nb; i++)
			drops += log_one(done + i) == -ENOBUFS;
		prctl(PR_SET_NAME, "bench-stop", 0, 0, 0);
		done += nb;
		wait_backlog(0);
	}
	printf("{\"records\":%" PRIu64 ",\"drops\":%" PRIu64 "}\n", n, drops);
	return 0;
}

/*
 * Writes k records as an application would, except that it never lets a
 * ring pass half full (checked every 64 records): the end-to-end figure is
 * the pipeline's throughput, not its overload behaviour. A call refused
 * with -ENOBUFS anyway is retried after sched_yield() and counted.
 */
static int mode_e2e(uint64_t k)
{
	uint64_t full = 0, t0, t1;

	t0 = now_ns(CLOCK_REALTIME);
	for (uint64_t i = 0; i < k; i++) {
		int ret;

		if (i % 64 == 0)
			wait_backlog(view.slots / 2);
		while ((ret = log_one(i)) == -ENOBUFS) {
			full++;
			sched_yield();
		}
		if (ret < 0) {
			fprintf(stderr, "bench_producer: shmlog_log: %s\n", strerror(-ret));
			return 1;
		}
	}
	t1 = now_ns(CLOCK_REALTIME);
	printf("{\"records\":%" PRIu64 ",\"ring_full\":%" PRIu64 ",\"t_first_ns\":%" PRIu64
	       ",\"t_last_ns\":%" PRIu64 "}\n",
	       k, full, t0, t1);
	return 0;
}

static uint64_t parse_n(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < BATCH) {
		fprintf(stderr, "bench_producer: bad count '%s' (an integer >= %d)\n", s, BATCH);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t n = DEFAULT_N;
	int mode = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "-n")) {
			n = parse_n(argv[++i]);
		} else if (i + 1 < argc && !strcmp(argv[i], "--syscalls")) {
			mode = 1;
			n = parse_n(argv[++i]);
		} else if (i + 1 < argc && !strcmp(argv[i], "--e2e")) {
			mode = 2;
			n = parse_n(argv[++i]);
		} else {
			fprintf(stderr, "usage: bench_producer [-n N | --syscalls N | --e2e K]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	attach(mode != 2);
	if (mode == 1)
		return mode_syscalls(n);
	if (mode == 2)
		return mode_e2e(n);
	return mode_latency(n);
}
