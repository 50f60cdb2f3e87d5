/* SPDX-License-Identifier: MIT */
/*
 * bench_producer: the producer half of `./build.sh bench` (a benchmark, not
 * a test: it never fails on a figure). Needs a running collector on
 * $SHMLOG_NAMESPACE; tools/bench/run.sh starts one. Modes:
 *
 *   bench_producer [-n N]        cost of shmlog_log() on 1 and 2 threads and
 *                                of the peers, then the collector's drain
 *                                rate of log records; one JSON object
 *   bench_producer --syscalls N  N records, each burst between the markers
 *                                prctl(PR_SET_NAME, "bench-start"/"bench-stop")
 *                                for strace to count what lies between them
 *   bench_producer --e2e K       K records for the end-to-end run
 *   bench_producer --metrics N   cost of shmlog_add() (counter) and
 *                                shmlog_record() (histogram) on 1 and 2
 *                                threads, N calls each, then the collector's
 *                                drain rate of metric records; one JSON object
 *   bench_producer --idle S      attached, one record, then idle S seconds
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
 *
 * Metrics: a counter and a histogram (default bounds) registered once, one
 * series each; shmlog_add(series, 1.0) and shmlog_record(series, v) with v
 * cycling over one value per bucket. A metric record is one slot, so a
 * burst is half a ring of calls. The collector folds metric records into
 * its aggregation and releases their slots with the next log flush, so
 * between bursts (untimed) one log record is written to have the rings
 * released (the ring is half full: over the high-water mark, it flushes at
 * once).
 *
 * Drain rate (after the latencies; metric records with --metrics, log
 * records without, each thread filling its ring but DRAIN_SPARE slots with
 * log records): the collector is stopped
 * (SIGSTOP), each of 2 threads pinned to CPUs 0 and 1 fills its own ring
 * to just under its size with metric records, then SIGCONT and the time
 * until the header's sh_records_in has grown by the number written (polled
 * every few microseconds: the poll adds its latency to the wall figure).
 * The collector's CPU time over the same window (the sum of its threads'
 * /proc/<pid>/task/<tid>/schedstat run times, in ns, and /proc/<pid>/stat
 * utime+stime, in clock ticks) gives records per CPU-second. First cycle
 * discarded (warm-up).
 * Read next: run.sh, bench_e2e.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
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
#define DRAIN_CYCLES 20 /* timed drain cycles, after one of warm-up ($BENCH_DRAIN_CYCLES) */
#define DRAIN_SPARE 256 /* slots per ring left free in a drain cycle */

enum op { OP_LOG, OP_ADD, OP_REC };

/* One value per bucket of the default bounds (0, 5, 10, 25, 50, 75, 100,
 * 250, 500, 750, 1000, 2500, 5000, 7500, 10000) and the overflow bucket. */
static const double hist_vals[16] = {0,   3,   7,    20,   40,   60,   90,   200,
				     400, 600, 900,  2000, 4000, 6000, 9000, 12000};
static int add_series = -1, rec_series = -1;

/* 64 bytes exactly: the benchmark record's body. */
static const char body64[BODY_LEN + 1] =
    "bench record: 64-byte body for the shmlog producer benchmark ..";

struct thr {
	pthread_t tid;
	int cpu;
	enum op op;
	uint64_t lap, burst; /* records that fill a ring; records per burst */
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

static inline int call_one(enum op op, uint64_t i)
{
	switch (op) {
	case OP_ADD:
		return shmlog_add(add_series, 1.0);
	case OP_REC:
		return shmlog_record(rec_series, hist_vals[i & 15]);
	default:
		return log_one(i);
	}
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

/* Waits until the collector has released every ring. Metric slots are
 * released with the next log flush: one log record (untimed) has it done. */
static void settle(enum op op)
{
	if (op != OP_LOG) {
		/* First every ring read: a flush releases each ring up to
		 * where the collector has read it. */
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);

		for (uint32_t k = 0; k < view.nrings; k++) {
			struct shm_ring_hdr *r = seg_ring(&view, k);

			while (atomic_load_explicit(&r->rh_cursor, memory_order_relaxed) <
				   atomic_load_explicit(&r->rh_hint, memory_order_relaxed) &&
			       now_ns(CLOCK_MONOTONIC) - t0 < DRAIN_WAIT_S * 1000000000ull)
				sleep_us(50);
		}
		log_one(0);
	}
	wait_backlog(0);
}

/* Untimed: fills one lap of this thread's ring so that every page of it
 * is mapped, as in a long-running producer. */
static void warm_up(struct thr *t, int lead)
{
	for (uint64_t i = 0; i < t->lap; i++) {
		call_one(t->op, i);
		if ((i + 1) % t->burst == 0) {
			pthread_barrier_wait(t->bar);
			if (lead)
				settle(t->op);
			pthread_barrier_wait(t->bar);
		}
	}
	pthread_barrier_wait(t->bar);
	if (lead)
		settle(t->op);
	pthread_barrier_wait(t->bar);
}

/* The timed bursts; inlined once per op so that the call is direct. */
static inline __attribute__((always_inline)) void timed_bursts(struct thr *t, const enum op op)
{
	uint64_t i = 0, done = 0;

	while (done < t->n) {
		uint64_t nb = t->n - done < t->burst ? t->n - done : t->burst, t0;

		nb /= BATCH;
		if (nb == 0)
			break;
		pthread_barrier_wait(t->bar);
		t0 = now_ns(CLOCK_MONOTONIC);
		for (uint64_t b = 0; b < nb; b++) {
			int bad = 0;
			uint64_t c0 = ticks_begin(), c1;

			for (int k = 0; k < BATCH; k++, i++) {
				int ret = call_one(op, i);

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
			settle(op);
		pthread_barrier_wait(t->bar);
	}
	t->ok = done - t->drops - t->other;
}

static void *producer_thread(void *arg)
{
	struct thr *t = arg;

	if (t->cpu >= 0 && pin(t->cpu) < 0)
		fprintf(stderr, "bench_producer: cannot pin to CPU %d\n", t->cpu);
	warm_up(t, t->cpu == 0);
	switch (t->op) {
	case OP_ADD:
		timed_bursts(t, OP_ADD);
		break;
	case OP_REC:
		timed_bursts(t, OP_REC);
		break;
	default:
		timed_bursts(t, OP_LOG);
		break;
	}
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

/* Runs nthreads producers on CPUs 0..nthreads-1, n timed calls of op in all
 * (n / nthreads each). */
static void run_threads(int nthreads, uint64_t n, enum op op, struct stats *per)
{
	pthread_barrier_t bar;
	struct thr t[2];
	int ret;

	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int k = 0; k < nthreads; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		t[k].cpu = k;
		t[k].n = n / (uint64_t)nthreads;
		t[k].op = op;
		t[k].lap = op == OP_LOG ? lap_recs : view.slots; /* metric: 1 slot */
		t[k].burst = op == OP_LOG ? burst_recs : view.slots / 2 / BATCH * BATCH;
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

struct drain_res {
	uint64_t cycles, per_cycle, records, drops, errors, poll_timeouts;
	double wall_med, wall_min, wall_max; /* records/s of one cycle */
	double cpu_rec_s, cpu_ticks_rec_s;   /* records per collector CPU-second */
	double cpu_s, cpu_ticks_s, wall_s;   /* totals over the timed cycles */
};

static void run_drain(struct drain_res *res, int log);
static void json_drain(const char *name, const struct drain_res *d);

static int mode_latency(uint64_t n)
{
	struct stats one, two[2], wr, fp;
	struct drain_res dl;
	double timer;

	calibrate();
	timer = timer_overhead();
	run_threads(1, n, OP_LOG, &one);
	run_threads(2, n, OP_LOG, two);
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
	json_stats("fprintf", &fp, 0);
	/* The collector's drain rate of log records, after the latencies. */
	run_drain(&dl, 1);
	json_drain("drain_log", &dl);
	printf("}\n");
	return 0;
}

/* ---- metrics ------------------------------------------------------------ */

static void register_metrics(void)
{
	int inst;

	inst = shmlog_instrument("bench.requests", "1", "shmlog benchmark counter", SHMLOG_COUNTER,
				 NULL, 0);
	add_series = inst < 0 ? inst : shmlog_series(inst, NULL, 0);
	inst = shmlog_instrument("bench.latency", "ms", "shmlog benchmark histogram",
				 SHMLOG_HISTOGRAM, NULL, 0);
	rec_series = inst < 0 ? inst : shmlog_series(inst, NULL, 0);
	if (add_series < 0 || rec_series < 0) {
		fprintf(stderr, "bench_producer: cannot register the metrics: %s\n",
			strerror(-(add_series < 0 ? add_series : rec_series)));
		exit(1);
	}
	/* The first measurement of each, untimed, then the rings emptied. */
	if (shmlog_add(add_series, 1.0) || shmlog_record(rec_series, 1.0)) {
		fprintf(stderr, "bench_producer: the first measurement failed\n");
		exit(1);
	}
	settle(OP_ADD);
}

static pid_t coll_pid;
static volatile sig_atomic_t coll_stopped;

static void coll_cont(void)
{
	if (coll_stopped && coll_pid > 0)
		kill(coll_pid, SIGCONT);
	coll_stopped = 0;
}

static void on_fatal(int sig)
{
	coll_cont();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* State letter of /proc/<pid>/stat (field 3, after the last ')'). */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* CPU time of the process: *ticks_ns from utime+stime of /proc/<pid>/stat
 * (clock-tick resolution), return value the sum of its threads'
 * schedstat run times in ns (0 when schedstat is not there). */
static uint64_t proc_cpu_ns(pid_t pid, uint64_t *ticks_ns)
{
	char path[128], buf[1024], *p;
	unsigned long long ut = 0, st = 0, run, sum = 0;
	struct dirent *de;
	ssize_t n;
	DIR *d;
	int fd;

	*ticks_ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			p = strrchr(buf, ')');
			/* After ')': state is field 3; utime, stime are 14, 15. */
			if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
					&ut, &st) == 2)
				*ticks_ns = (ut + st) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &run) == 1)
			sum += run;
		fclose(f);
	}
	closedir(d);
	return sum;
}

struct drain_thr {
	pthread_t tid;
	int cpu;
	uint64_t per_cycle, cycles;
	int log;		   /* log records, else metric records */
	uint64_t ok, drops, other; /* of the current cycle */
	pthread_barrier_t *bar;
};

static void *drain_writer(void *arg)
{
	struct drain_thr *t = arg;

	if (pin(t->cpu) < 0)
		fprintf(stderr, "bench_producer: cannot pin to CPU %d\n", t->cpu);
	/* Registers this thread, untimed. */
	if (t->log)
		log_one(0);
	else
		shmlog_add(add_series, 1.0);
	pthread_barrier_wait(t->bar);
	for (uint64_t c = 0; c < t->cycles; c++) {
		pthread_barrier_wait(t->bar); /* the collector is stopped */
		t->ok = t->drops = t->other = 0;
		for (uint64_t i = 0; i < t->per_cycle; i++) {
			int ret = t->log     ? log_one(i)
				  : (i & 1) ? shmlog_record(rec_series, hist_vals[(i >> 1) & 15])
					    : shmlog_add(add_series, 1.0);

			t->ok += ret == 0;
			t->drops += ret == -ENOBUFS;
			t->other += ret != 0 && ret != -ENOBUFS;
		}
		pthread_barrier_wait(t->bar); /* written */
		pthread_barrier_wait(t->bar); /* drained */
	}
	return NULL;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Polls sh_records_in until it reaches target; 0, or -1 after
 * DRAIN_WAIT_S without progress. */
static int wait_records_in(uint64_t target)
{
	uint64_t last = 0, t0 = now_ns(CLOCK_MONOTONIC);

	for (;;) {
		/* Relaxed: the collector stores it relaxed after each turn. */
		uint64_t v = atomic_load_explicit(&view.hdr->sh_records_in, memory_order_relaxed);

		if (v >= target)
			return 0;
		if (v != last) {
			last = v;
			t0 = now_ns(CLOCK_MONOTONIC);
		} else if (now_ns(CLOCK_MONOTONIC) - t0 > DRAIN_WAIT_S * 1000000000ull) {
			return -1;
		}
		sleep_us(5);
	}
}

/* log: log records (the benchmark record), else metric records. */
static void run_drain(struct drain_res *res, int log)
{
	int nthr = view.nrings >= 2 && sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
	const char *cy = getenv("BENCH_DRAIN_CYCLES"); /* run.sh --smoke: fewer */
	uint64_t cycles = (cy && atoi(cy) > 0 ? (uint64_t)atoi(cy) : DRAIN_CYCLES) + 1;
	uint64_t cpu_ns = 0, tick_ns = 0, wall_ns = 0;
	struct drain_thr t[2];
	pthread_barrier_t bar;
	double *rates;
	uint32_t nr = 0;
	/* Records that fill a ring but DRAIN_SPARE slots. */
	uint64_t per_thr = log ? lap_recs - DRAIN_SPARE / (view.slots / lap_recs)
			       : view.slots - DRAIN_SPARE;
	enum op op = log ? OP_LOG : OP_ADD;

	memset(res, 0, sizeof(*res));
	coll_pid = (pid_t)atomic_load_explicit(&view.hdr->sh_collector_pid, memory_order_relaxed);
	if (coll_pid <= 0 || kill(coll_pid, 0) != 0) {
		fprintf(stderr, "bench_producer: collector pid %d not signalable: no drain figure\n",
			(int)coll_pid);
		res->wall_med = res->cpu_rec_s = res->cpu_ticks_rec_s = -1;
		return;
	}
	rates = calloc(cycles, sizeof(double));
	if (!rates)
		exit(1);
	atexit(coll_cont);
	signal(SIGINT, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGSEGV, on_fatal);
	signal(SIGABRT, on_fatal);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* finer polling sleeps */
	pthread_barrier_init(&bar, NULL, (unsigned)nthr + 1);
	for (int k = 0; k < nthr; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		t[k].cpu = k;
		t[k].per_cycle = per_thr;
		t[k].log = log;
		t[k].cycles = cycles;
		t[k].bar = &bar;
		if (pthread_create(&t[k].tid, NULL, drain_writer, &t[k])) {
			fprintf(stderr, "bench_producer: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&bar);
	res->per_cycle = (uint64_t)nthr * per_thr;
	for (uint64_t c = 0; c < cycles; c++) {
		uint64_t r0, n = 0, c0, c1, k0, k1, w0, w1;
		char stt = '?';

		settle(op);
		kill(coll_pid, SIGSTOP);
		coll_stopped = 1;
		for (int i = 0; i < 100000 && (stt = proc_state(coll_pid)) != 'T'; i++)
			sleep_us(50);
		if (stt != 'T') {
			fprintf(stderr, "bench_producer: the collector did not stop\n");
			coll_cont();
			exit(3);
		}
		/* Stopped after its last turn: the count is final until SIGCONT. */
		r0 = atomic_load_explicit(&view.hdr->sh_records_in, memory_order_relaxed);
		pthread_barrier_wait(&bar);
		pthread_barrier_wait(&bar);
		for (int k = 0; k < nthr; k++) {
			n += t[k].ok;
			if (c > 0) {
				res->drops += t[k].drops;
				res->errors += t[k].other;
			}
		}
		c0 = proc_cpu_ns(coll_pid, &k0);
		w0 = now_ns(CLOCK_MONOTONIC);
		coll_cont();
		if (wait_records_in(r0 + n) < 0) {
			fprintf(stderr,
				"bench_producer: the collector read %" PRIu64 " of %" PRIu64
				" records in a cycle\n",
				atomic_load_explicit(&view.hdr->sh_records_in, memory_order_relaxed) - r0,
				n);
			res->poll_timeouts++;
		}
		w1 = now_ns(CLOCK_MONOTONIC);
		c1 = proc_cpu_ns(coll_pid, &k1);
		pthread_barrier_wait(&bar);
		if (c == 0 || n == 0 || w1 <= w0)
			continue; /* warm-up */
		rates[nr++] = (double)n * 1e9 / (double)(w1 - w0);
		res->records += n;
		wall_ns += w1 - w0;
		cpu_ns += c1 - c0;
		tick_ns += k1 - k0;
	}
	for (int k = 0; k < nthr; k++)
		pthread_join(t[k].tid, NULL);
	pthread_barrier_destroy(&bar);
	settle(op);
	res->cycles = nr;
	if (nr) {
		qsort(rates, nr, sizeof(double), cmp_dbl);
		res->wall_med = rates[nr / 2];
		res->wall_min = rates[0];
		res->wall_max = rates[nr - 1];
	} else {
		res->wall_med = -1;
	}
	res->wall_s = (double)wall_ns / 1e9;
	res->cpu_s = (double)cpu_ns / 1e9;
	res->cpu_ticks_s = (double)tick_ns / 1e9;
	res->cpu_rec_s = cpu_ns ? (double)res->records * 1e9 / (double)cpu_ns : -1;
	res->cpu_ticks_rec_s = tick_ns ? (double)res->records * 1e9 / (double)tick_ns : -1;
	free(rates);
}

static void json_drain(const char *name, const struct drain_res *d)
{
	printf("\"%s\":{\"cycles\":%" PRIu64 ",\"records_per_cycle\":%" PRIu64
	       ",\"records\":%" PRIu64 ",\"drops\":%" PRIu64 ",\"errors\":%" PRIu64
	       ",\"poll_timeouts\":%" PRIu64 ",\"wall_rec_s_med\":%.0f,\"wall_rec_s_min\":%.0f"
	       ",\"wall_rec_s_max\":%.0f,\"wall_s\":%.4f,\"cpu_s\":%.4f,\"cpu_ticks_s\":%.3f"
	       ",\"cpu_rec_s\":%.0f,\"cpu_ticks_rec_s\":%.0f}",
	       name, d->cycles, d->per_cycle, d->records, d->drops, d->errors, d->poll_timeouts,
	       d->wall_med, d->wall_min, d->wall_max, d->wall_s, d->cpu_s, d->cpu_ticks_s,
	       d->cpu_rec_s, d->cpu_ticks_rec_s);
}

static int mode_metrics(uint64_t n)
{
	struct stats a1, a2[2], r1, r2[2];
	struct drain_res d;
	double timer;

	calibrate();
	timer = timer_overhead();
	register_metrics();
	run_threads(1, n, OP_ADD, &a1);
	run_threads(2, n, OP_ADD, a2);
	run_threads(1, n, OP_REC, &r1);
	run_threads(2, n, OP_REC, r2);
	run_drain(&d, 0);
	printf("{\"n\":%" PRIu64 ",\"batch\":%d,\"burst\":%u,\"ring_slots\":%u,"
	       "\"nrings\":%u,\"tsc_ghz\":%.4f,\"timer_ns\":%.2f,",
	       n, BATCH, view.slots / 2 / BATCH * BATCH, view.slots, view.nrings, 1.0 / tsc_ns,
	       timer);
	json_stats("add_t1", &a1, 0);
	json_stats("add_t2a", &a2[0], 0);
	json_stats("add_t2b", &a2[1], 0);
	json_stats("rec_t1", &r1, 0);
	json_stats("rec_t2a", &r2[0], 0);
	json_stats("rec_t2b", &r2[1], 0);
	json_drain("drain", &d);
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

/* Attached and registered (one record written by attach()), then idle
 * for s seconds: run.sh measures the collector's CPU meanwhile. */
static int mode_idle(uint64_t s)
{
	printf("{\"idle_s\":%" PRIu64 "}\n", s);
	sleep_us((long)s * 1000000);
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
		} else if (i + 1 < argc && !strcmp(argv[i], "--metrics")) {
			mode = 3;
			n = parse_n(argv[++i]);
		} else if (i + 1 < argc && !strcmp(argv[i], "--idle")) {
			mode = 4;
			n = strtoull(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: bench_producer [-n N | --syscalls N | --e2e K | "
					"--metrics N | --idle S]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	attach(mode != 2);
	if (mode == 1)
		return mode_syscalls(n);
	if (mode == 2)
		return mode_e2e(n);
	if (mode == 3)
		return mode_metrics(n);
	if (mode == 4)
		return mode_idle(n);
	return mode_latency(n);
}
