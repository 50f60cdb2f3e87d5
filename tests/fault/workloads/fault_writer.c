/* SPDX-License-Identifier: MIT */
/*
 * fault_writer.c: the producer of the fault tests (tests/fault/), built as
 * fault_writer. One program, two kinds of workload:
 *
 * The "fw" modes (seq, partial-*, stop-in-claim) write "fw TAG I PAYLOAD"
 * records (I the turn, PAYLOAD fw_payload(I) letters, 0..599 bytes:
 * records of 1 to 11 slots) and keep a state file that outlives a SIGKILL,
 * so that a test can check every received body against the one it
 * expects, tell whose and which it is, and know which turn a killed
 * producer died in (accounting.py Published.add_writer):
 *
 *   fault_writer seq TAG STATE [MAX [PACE_US [hold]]]
 *     turn I: an API record (shmlog_log, I even) or a captured write(1)
 *     line (I odd; run it with LD_PRELOAD and SHMLOG_STDIO=capture), MAX
 *     turns (0: until the test sets quit), PACE_US microseconds of sleep
 *     every 100 turns (0: flat out). Then it exits 0; with `hold`, after
 *     MAX turns it waits for quit instead (a kill victim that is done).
 *   fault_writer partial-exit|partial-kill TAG STATE BEFORE
 *     BEFORE API records as seq writes them, then, through the ring
 *     protocol itself (ring_write.h, on the segment of SHMLOG_NAMESPACE,
 *     as its own thread entry's owner), claims a record of 8 slots on
 *     this CPU's ring, copies only its first 4 slots (a well-formed header
 *     and half of the body "fw TAG partial ...") and calls _exit(0) or
 *     SIGKILLs itself: a producer that dies holding a partly written
 *     record. claim_ring and claim_pos tell the test where.
 *   fault_writer stop-in-claim TAG STATE BEFORE AFTER
 *     BEFORE turns as seq writes them (flat out), then turn BEFORE by
 *     hand the same way: claimed, half copied, then SIGSTOP to itself
 *     while it holds the claim; once continued (SIGCONT), the rest copied
 *     and published (the record is the ordinary "fw TAG BEFORE ..."), then
 *     AFTER more turns as seq writes them, and exit.
 *
 * The "fk" mode is the bulk workload of the daemon and spool tests
 * (millions of records): small fixed-size API records, no state file per
 * turn (a result file instead), and no wait for attaching beyond 10 s (a
 * producer started before its collector must go on, inert):
 *
 *   fault_writer fast TAG N PACE_US RESULT
 *     N records, body "fk TAG NNNNNNNN" (i, 8 digits), severity INFO, one
 *     attribute fk.i = i, through shmlog_log(); sleeps PACE_US
 *     microseconds every 100 records (0: flat out). Unlike
 *     tests/e2e/workloads/api_producer.c it never retries a record that a
 *     full ring refused: the record is dropped, and the library counts it
 *     (so that a test can check that the agent's own count is exact).
 *     Writes to RESULT "pid= ok= enobufs= failed= last_err= done=", one
 *     key a line (harness.read_kv), at the end with done=1 and every
 *     10,000 records while running with done=0. Exit 0 when no call
 *     failed with anything but -ENOBUFS.
 *
 * STATE is a file this program maps MAP_SHARED: a struct fw_state that
 * the test reads while the program runs and after it was SIGKILLed (the
 * page cache outlives the process). Before turn I it stores started =
 * I + 1, after the call returned done = I + 1; so a producer killed with
 * started > done died inside the call of turn done (that record may or
 * may not be in a ring), and every turn below done returned. A turn's
 * outcome: ok (the call returned 0, or a write(1) that returned), enobufs
 * (the ring was full: the library counted the drop), refused (any other
 * error: the record never existed; the test does not count it as
 * published). Stores are relaxed atomics: the test reads them from another
 * process, and started is stored before the call's first ring store.
 *
 * The tests compute the same bodies (accounting.py fw_body): keep the two
 * in step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ring_write.h"
#include "seg.h"
#include "shmlog.h"

#define FW_MAGIC 0x31574654u /* "TFW1" */
#define FW_PAYLOAD_MAX 600

/* The state file, 128 bytes, native endian: offsets are accounting.py's. */
struct fw_state {
	_Atomic uint32_t magic;     /*  0: FW_MAGIC once the fields are valid */
	_Atomic uint32_t pid;       /*  4 */
	_Atomic uint32_t attached;  /*  8: 1 once shmlog_attached() said so */
	_Atomic uint32_t quit;      /* 12: the test stores 1: finish and exit */
	_Atomic uint64_t started;   /* 16: turns begun */
	_Atomic uint64_t done;      /* 24: turns whose call returned */
	_Atomic uint64_t ok;        /* 32 */
	_Atomic uint64_t enobufs;   /* 40 */
	_Atomic uint64_t refused;   /* 48 */
	_Atomic uint32_t finished;  /* 56: 1 after the last turn */
	_Atomic uint32_t last_err;  /* 60: -errno of the last refused call */
	_Atomic uint64_t claim_pos; /* 64: partial-*, stop-in-claim: the claim */
	_Atomic uint32_t claim_ring; /* 72: partial-*: its ring */
	_Atomic uint32_t claimed;   /* 76: 1 once the claim is held */
	uint64_t pad[6];
};
_Static_assert(sizeof(struct fw_state) == 128, "fw_state layout");

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Length of the payload of turn i. */
static int fw_payload_len(uint64_t i)
{
	return (int)((i * 37) % FW_PAYLOAD_MAX);
}

/* The line of turn i, without a newline; returns its length. */
static int fw_line(char *out, size_t outlen, const char *tag, uint64_t i)
{
	int len = snprintf(out, outlen, "fw %s %llu ", tag, (unsigned long long)i);
	int plen = fw_payload_len(i);

	if (len < 0 || (size_t)len + (size_t)plen + 2 > outlen)
		return -1;
	for (int k = 0; k < plen; k++)
		out[len++] = (char)('a' + (int)((i + (uint64_t)k) % 26));
	out[len] = '\0';
	return len;
}

static struct fw_state *map_state(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct fw_state *st;

	if (fd < 0 || ftruncate(fd, sizeof(*st)) != 0) {
		perror(path);
		return NULL;
	}
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (st == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	return st;
}

static int seq(const char *tag, const char *state, uint64_t first, uint64_t max, long pace_us,
	       int wait_quit)
{
	char line[FW_PAYLOAD_MAX + 128];
	struct fw_state *st = map_state(state);

	if (!st)
		return 2;
	atomic_store_explicit(&st->pid, (uint32_t)getpid(), memory_order_relaxed);
	atomic_store_explicit(&st->magic, FW_MAGIC, memory_order_release);
	/* The library attaches by itself; give it up to 10 s. */
	for (int k = 0; k < 1000 && !shmlog_attached(); k++)
		sleep_us(10000);
	if (!shmlog_attached()) {
		fprintf(stderr, "fault_writer %s: not attached after 10 s\n", tag);
		return 3;
	}
	atomic_store_explicit(&st->attached, 1, memory_order_relaxed);
	for (uint64_t i = first; max == 0 || i < max; i++) {
		int len, ret = 0;

		if (atomic_load_explicit(&st->quit, memory_order_relaxed))
			break;
		len = fw_line(line, sizeof(line), tag, i);
		if (len < 0)
			return 2;
		/* seq_cst: ordered before the ring stores of this turn. */
		atomic_store(&st->started, i + 1);
		if (i % 2 == 0) {
			ret = shmlog_log(SHMLOG_SEV_INFO, "INFO", line, (size_t)len, NULL, 0);
		} else {
			line[len] = '\n';
			if (write(1, line, (size_t)len + 1) != len + 1)
				ret = -errno;
		}
		if (ret == 0)
			atomic_fetch_add_explicit(&st->ok, 1, memory_order_relaxed);
		else if (ret == -ENOBUFS)
			atomic_fetch_add_explicit(&st->enobufs, 1, memory_order_relaxed);
		else {
			atomic_fetch_add_explicit(&st->refused, 1, memory_order_relaxed);
			atomic_store_explicit(&st->last_err, (uint32_t)-ret, memory_order_relaxed);
		}
		atomic_store(&st->done, i + 1);
		if (pace_us && i % 100 == 99)
			sleep_us(pace_us);
	}
	atomic_store(&st->finished, 1);
	if (wait_quit && max && !atomic_load_explicit(&st->quit, memory_order_relaxed)) {
		/* A victim that is done waits to be killed (or told to quit). */
		while (!atomic_load_explicit(&st->quit, memory_order_relaxed))
			sleep_us(20000);
	}
	return 0;
}

/* The owner index of the calling thread: its entry in the thread table
 * of s, which the library filled at this thread's first record. */
static int find_owner(const struct seg *s, uint32_t *producer, uint32_t *pgen)
{
	uint32_t tid = (uint32_t)syscall(SYS_gettid), pid = (uint32_t)getpid();

	for (uint32_t i = 0; i < s->max_threads; i++) {
		struct shm_thread *te = seg_thread(s, i);

		if (shm_load_acquire(&te->te_tid) == tid && shm_load_relaxed(&te->te_pid) == pid &&
		    shm_load_acquire(&te->te_ready)) {
			*producer = shm_load_relaxed(&te->te_producer);
			*pgen = shm_load_relaxed(&te->te_pgen);
			return (int)i;
		}
	}
	return -ENOENT;
}

/* A record claimed by hand through the ring protocol (ring_write.h), as
 * the library's record path does it, but in steps the caller chooses. */
struct hand_claim {
	struct seg s;
	struct shm_ring_hdr *r;
	unsigned char rec[SHM_ABI_SLOT_SIZE * 16];
	uint64_t pos;
	uint32_t n, owner;
	size_t len;
};

/* Claims, on this CPU's ring, a log record whose body is the body_len
 * bytes at body (at most 16 slots in all), and encodes it in hc->rec;
 * nothing copied yet. Notes the claim in st. */
static int hand_claim(struct hand_claim *hc, struct fw_state *st, const char *body,
		      size_t body_len)
{
	const char *ns = getenv("SHMLOG_NAMESPACE");
	struct shm_rec_hdr rh;
	struct shm_log_hdr lh;
	uint32_t producer, pgen, ring;
	int owner, ret, cpu;

	hc->len = sizeof(rh) + sizeof(lh) + body_len;
	if (hc->len > sizeof(hc->rec) || !ns || seg_attach(&hc->s, ns, 1) != 0) {
		fprintf(stderr, "fault_writer: cannot map the segment of %s\n", ns ? ns : "?");
		return -EINVAL;
	}
	owner = find_owner(&hc->s, &producer, &pgen);
	if (owner < 0) {
		fprintf(stderr, "fault_writer: no thread entry of mine\n");
		return owner;
	}
	memset(&rh, 0, sizeof(rh));
	memset(&lh, 0, sizeof(lh));
	rh.rec_type = SHM_REC_LOG;
	rh.rec_severity = SHMLOG_SEV_INFO;
	rh.rec_len = (uint32_t)hc->len;
	rh.rec_producer = (uint16_t)producer;
	rh.rec_pgen = (uint16_t)pgen;
	rh.rec_time_ns = (uint64_t)time(NULL) * 1000000000ull;
	lh.lg_body_len = (uint16_t)body_len;
	memcpy(hc->rec, &rh, sizeof(rh));
	memcpy(hc->rec + sizeof(rh), &lh, sizeof(lh));
	memcpy(hc->rec + sizeof(rh) + sizeof(lh), body, body_len);
	hc->n = (uint32_t)((hc->len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE);
	hc->owner = (uint32_t)owner;
	cpu = sched_getcpu();
	ring = cpu >= 0 ? (uint32_t)cpu % hc->s.nrings : 0;
	hc->r = seg_ring(&hc->s, ring);
	/* A full ring (the writes before were flat out): wait for room. */
	for (int k = 0; k < 10000; k++) {
		ret = ring_claim(&hc->s, hc->r, hc->n, hc->owner, &hc->pos);
		if (ret != -ENOBUFS && ret != -EAGAIN)
			break;
		sleep_us(1000);
	}
	if (ret) {
		fprintf(stderr, "fault_writer: claim failed: %d\n", ret);
		return ret;
	}
	atomic_store(&st->claim_pos, hc->pos);
	atomic_store(&st->claim_ring, ring);
	atomic_store(&st->claimed, 1);
	return 0;
}

/* partial-exit, partial-kill: dies with half of an 8-slot record copied. */
static int partial(int kill_self, const char *tag, const char *state, uint64_t before)
{
	static struct hand_claim hc;
	char body[8 * SHM_ABI_SLOT_SIZE - 20 - 32];
	struct fw_state *st;
	int len, ret;

	ret = seq(tag, state, 0, before, 0, 0);
	if (ret)
		return ret;
	st = map_state(state);
	if (!st)
		return 2;
	len = snprintf(body, sizeof(body), "fw %s partial ", tag);
	memset(body + len, 'P', sizeof(body) - (size_t)len);
	if (hand_claim(&hc, st, body, sizeof(body)))
		return 2;
	/* Half of it: the slots after the fourth keep whatever they held. */
	ring_copy(&hc.s, hc.r, hc.pos, 0, hc.rec, 4 * SHM_ABI_SLOT_SIZE);
	if (kill_self)
		kill(getpid(), SIGKILL);
	_exit(0);
}

/* stop-in-claim: turns 0 .. before - 1 as seq writes them, then turn
 * `before` by hand: claimed, half copied, SIGSTOP to itself; once
 * continued, the rest copied and published; then `after` more turns. */
static int stop_in_claim(const char *tag, const char *state, uint64_t before, uint64_t after)
{
	static struct hand_claim hc;
	char body[FW_PAYLOAD_MAX + 128];
	struct fw_state *st;
	size_t half;
	int len, ret;

	ret = seq(tag, state, 0, before, 0, 0);
	if (ret)
		return ret;
	st = map_state(state);
	if (!st)
		return 2;
	len = fw_line(body, sizeof(body), tag, before);
	if (len < 0)
		return 2;
	atomic_store(&st->started, before + 1);
	if (hand_claim(&hc, st, body, (size_t)len))
		return 2;
	half = hc.len / 2;
	ring_copy(&hc.s, hc.r, hc.pos, 0, hc.rec, half);
	raise(SIGSTOP); /* the test continues us after its 10 s */
	ring_copy(&hc.s, hc.r, hc.pos, half, hc.rec + half, hc.len - half);
	ring_publish(&hc.s, hc.r, hc.pos, hc.n, hc.owner);
	atomic_fetch_add_explicit(&st->ok, 1, memory_order_relaxed);
	atomic_store(&st->done, before + 1);
	return seq(tag, state, before + 1, before + 1 + after, 0, 0);
}

/* fast: the "fk" bulk workload (see the opening comment). */
struct fk_counts {
	long ok;
	long enobufs; /* refused by a full ring: dropped and counted */
	long failed;  /* any other error */
	int last_err;
};

static void fk_result(const char *path, const struct fk_counts *c, int done)
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

static int fast(const char *tag, long n, long pace_us, const char *result)
{
	struct fk_counts c = { 0 };
	char body[128];

	/* The library attaches by itself; give it up to 10 s, then go on. */
	for (int i = 0; i < 1000 && !shmlog_attached(); i++)
		sleep_us(10000);
	for (long i = 0; i < n; i++) {
		struct shmlog_attr attrs[1] = { SHMLOG_INT("fk.i", i) };
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
			sleep_us(pace_us);
		if (i % 10000 == 9999)
			fk_result(result, &c, 0);
	}
	fk_result(result, &c, 1);
	return c.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && argc <= 7 && strcmp(argv[1], "seq") == 0)
		return seq(argv[2], argv[3], 0, argc > 4 ? strtoull(argv[4], NULL, 10) : 0,
			   argc > 5 ? atol(argv[5]) : 0, argc > 6 && strcmp(argv[6], "hold") == 0);
	if (argc == 5 && (strcmp(argv[1], "partial-exit") == 0 ||
			  strcmp(argv[1], "partial-kill") == 0))
		return partial(argv[1][8] == 'k', argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "stop-in-claim") == 0)
		return stop_in_claim(argv[2], argv[3], strtoull(argv[4], NULL, 10),
				     strtoull(argv[5], NULL, 10));
	if (argc == 6 && strcmp(argv[1], "fast") == 0)
		return fast(argv[2], atol(argv[3]), atol(argv[4]), argv[5]);
	fprintf(stderr, "usage: fault_writer seq TAG STATE [MAX [PACE_US [hold]]] |"
		" partial-exit|partial-kill TAG STATE BEFORE |"
		" stop-in-claim TAG STATE BEFORE AFTER | fast TAG N PACE_US RESULT\n");
	return 2;
}
