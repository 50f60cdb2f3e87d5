/* SPDX-License-Identifier: MIT */
/*
 * fault_hostile_producer: a hostile producer for tests/fault/fault_hostile.py
 * (issue 4, item 3). It maps the segment itself (no libshmlog), registers
 * its own true identity in the producer table and the thread table (so
 * that its claims have an owner the collector can look up), then, for
 * SECONDS seconds and as fast as it can, picks one attack at a time:
 *   record   claims 1..8 slots on a random ring with its own owner and
 *            publishes random bytes; half of them with a plausible header
 *            (log or metric type, a consistent rec_len, its own producer
 *            index and generation) so that the payload decoders see them
 *   ctl      writes a random control word at a random position of a
 *            random ring (over an honest record's word sometimes: that
 *            record is lost, and counted invalid by the collector)
 *   slots    claims 1..4 slots at a ring's head for an owner index no
 *            thread entry has and fills them with random bytes
 *   table    random bytes into its own producer entry (strings without
 *            NUL, a random claim state) or into a free entry
 *   dict     random bytes into free instrument and series entries (random
 *            claim words, counts, bounds, attribute lengths), and metric
 *            records naming random series ids and kinds
 *   SHMLOG_HOSTILE_ONLY=record,ctl,... limits it to the attacks named.
 * It never writes other producers' table entries, the thread table or
 * the ring headers: those are the trust model's (item 4), not this test's.
 * Prints "hostile pid=P slot=S" at start and, at the end, one line
 * "attacks record=N ctl=N slots=N table=N dict=N"; exits 0, or 1 with a
 * line on stderr.
 *
 *   fault_hostile_producer NS SECONDS SEED
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "proc_stat.h"
#include "ring_write.h"
#include "seg.h"
#include "shm_abi.h"
#include "shm_atomic.h"

#define CTL_EVERY 1024

enum attack { A_RECORD, A_CTL, A_SLOTS, A_TABLE, A_DICT, A_COUNT };
static const char *const attack_name[A_COUNT] = {"record", "ctl", "slots", "table", "dict"};

static struct seg seg;
static uint32_t owner, pidx, pgen;
static uint64_t rng_state;
/* Free entries taken with garbage, at most a quarter of each table: the
 * honest producers must still find room (the tables have no owner check:
 * filling them is the trust model's question, not this test's). */
static uint32_t taken_pe, taken_in, taken_se;

/* xorshift64*: reproducible from the seed the test prints. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void rnd_fill(void *p, size_t n)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();
		memcpy(b + i, &v, n - i < 8 ? n - i : 8);
	}
}

static uint64_t now_ns(int clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int take_entries(void)
{
	uint32_t tid = (uint32_t)syscall(SYS_gettid), pid = (uint32_t)getpid();
	char st, path[64];
	uint64_t start = 0, tstart = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%u/stat", tid);
	if (proc_stat_read("/proc/self/stat", &st, &start) || proc_stat_read(path, &st, &tstart))
		return -EPROTO;
	for (pidx = 0; pidx < seg.max_producers; pidx++) {
		struct shm_producer *pe = seg_producer(&seg, pidx);
		uint64_t expect = 0;

		if (!shm_cas(&pe->pe_claim, &expect, SHM_PE_CLAIM(pid, SHM_PE_FILLING)))
			continue;
		pgen = shm_load_relaxed(&pe->pe_gen);
		pe->pe_pid = pid;
		pe->pe_uid = (uint32_t)getuid();
		pe->pe_ppid = (uint32_t)getppid();
		pe->pe_start_ticks = start;
		pe->pe_attach_ns = now_ns(CLOCK_REALTIME);
		snprintf(pe->pe_exe, sizeof(pe->pe_exe), "hostile");
		snprintf(pe->pe_service, sizeof(pe->pe_service), "fault-hostile");
		snprintf(pe->pe_cmdline, sizeof(pe->pe_cmdline), "hostile");
		shm_store_release(&pe->pe_claim, SHM_PE_CLAIM(pid, SHM_PE_READY));
		break;
	}
	if (pidx == seg.max_producers)
		return -ENOSPC;
	for (owner = 0; owner < seg.max_threads; owner++) {
		struct shm_thread *te = seg_thread(&seg, owner);
		uint32_t expect = 0;

		if (!shm_cas(&te->te_tid, &expect, tid))
			continue;
		te->te_pid = pid;
		te->te_start_ticks = tstart;
		te->te_producer = pidx;
		te->te_pgen = pgen;
		shm_store_release(&te->te_ready, 1);
		return 0;
	}
	return -ENOSPC;
}

static struct shm_ring_hdr *any_ring(void)
{
	return seg_ring(&seg, (uint32_t)(rnd() % seg.nrings));
}

static int attack_record(void)
{
	unsigned char rec[8 * SHM_ABI_SLOT_SIZE];
	uint32_t n = 1 + (uint32_t)(rnd() % 8);
	struct shm_ring_hdr *r = any_ring();
	struct shm_rec_hdr rh;
	uint64_t pos;

	rnd_fill(rec, sizeof(rec));
	if (rnd() & 1) {
		memcpy(&rh, rec, sizeof(rh));
		rh.rec_type = (rnd() & 1) ? SHM_REC_LOG : SHM_REC_METRIC;
		rh.rec_len =
		    (uint32_t)((n - 1) * SHM_ABI_SLOT_SIZE + 1 + rnd() % SHM_ABI_SLOT_SIZE);
		if (rh.rec_len < sizeof(rh))
			rh.rec_len = sizeof(rh);
		if (rh.rec_type == SHM_REC_METRIC && (rnd() & 1)) {
			n = 1;
			rh.rec_len = sizeof(rh) + sizeof(struct shm_metric);
		}
		rh.rec_producer = (uint16_t)pidx;
		rh.rec_pgen = (uint16_t)pgen;
		memcpy(rec, &rh, sizeof(rh));
	}
	if (ring_claim(&seg, r, n, owner, &pos))
		return 0; /* full: the honest producers' drops are theirs */
	ring_copy(&seg, r, pos, 0, rec, (size_t)n * SHM_ABI_SLOT_SIZE);
	ring_publish(&seg, r, pos, n, owner);
	return 1;
}

static int attack_ctl(void)
{
	static unsigned tick;
	struct shm_ring_hdr *r = any_ring();
	uint64_t *ctl = seg_ring_ctl(&seg, r);
	uint64_t w = rnd(), t = shm_load_relaxed(&r->rh_tail);
	uint64_t p = t + rnd() % seg.slots;

	/* One pick in CTL_EVERY: at full speed every word of every ring
	 * would be hit several times a second, and no honest record could
	 * live long enough to be read. */
	if (++tick % CTL_EVERY)
		return 0;
	switch (rnd() % 4) {
	case 0: /* a claim of this lap by a thread that does not exist */
		w = SHM_CTL_MAKE(seg_lap(&seg, p), SHM_CTL_CLAIMED, 1 + w % 8,
				 seg.max_threads + (uint32_t)(w >> 40) % 1000);
		break;
	case 1: /* published, of this lap, with a random length and owner */
		w = SHM_CTL_MAKE(seg_lap(&seg, p), SHM_CTL_PUBLISHED, (uint32_t)w % 1024,
				 (uint32_t)(w >> 12) & SHM_CTL_MAX_OWNER);
		break;
	default: /* anything */
		break;
	}
	shm_store_relaxed(&ctl[p & (seg.slots - 1)], w);
	return 1;
}

static int attack_slots(void)
{
	struct shm_ring_hdr *r = any_ring();
	uint32_t n = 1 + (uint32_t)(rnd() % 4);
	unsigned char junk[4 * SHM_ABI_SLOT_SIZE];
	uint64_t pos;

	/* Claimed at the head like any record (so that no honest record is
	 * in them), but for an owner index no thread entry has, and left so:
	 * the collector must skip it without waiting, counted invalid, and
	 * then the stale FREE words of its other slots (a hole). The word is
	 * never set back to FREE: a writer with an old hint could then claim
	 * it over the records that followed, which no reader can undo. */
	if (ring_claim(&seg, r, n, seg.max_threads, &pos))
		return 0;
	rnd_fill(junk, sizeof(junk));
	ring_copy(&seg, r, pos, 0, junk, (size_t)n * SHM_ABI_SLOT_SIZE);
	return 1;
}

static int attack_table(void)
{
	struct shm_producer *pe = seg_producer(&seg, pidx);
	unsigned char junk[sizeof(*pe)];
	uint32_t i = (uint32_t)(rnd() % seg.max_producers);

	rnd_fill(junk, sizeof(junk));
	if (i != pidx && taken_pe < seg.max_producers / 4 &&
	    shm_load_relaxed(&seg_producer(&seg, i)->pe_claim) == 0 && (rnd() & 1)) {
		/* A free entry: random everything, a random claim word. */
		struct shm_producer *fe = seg_producer(&seg, i);
		uint64_t expect = 0, w;

		memcpy(&w, junk, 8);
		if (!shm_cas(&fe->pe_claim, &expect, w | 1))
			return 0;
		memcpy((char *)fe + 8, junk + 8, sizeof(*fe) - 8);
		taken_pe++;
		return 1;
	}
	/* Our own entry: the strings without NUL, every field random; the
	 * claim word and generation stay ours (so that our records are still
	 * read and hit the decoders) three times in four. */
	memcpy((char *)pe + 64, junk + 64, sizeof(*pe) - 64);
	if (rnd() % 4 == 0)
		memcpy((char *)pe + 8, junk + 8, 56);
	return 1;
}

static int attack_dict(void)
{
	unsigned char junk[sizeof(struct shm_instrument)];
	uint64_t expect = 0, w;

	rnd_fill(junk, sizeof(junk));
	memcpy(&w, junk, 8);
	if (rnd() % 3 == 0 && taken_in < seg.max_instruments / 4) {
		struct shm_instrument *in =
		    seg_instrument(&seg, (uint32_t)(rnd() % seg.max_instruments));

		if (rnd() & 1)
			w = SHM_DICT_CLAIM(w >> 32, SHM_DICT_READY);
		if (!shm_cas(&in->in_claim, &expect, w))
			return 0;
		memcpy((char *)in + 8, junk + 8, sizeof(*in) - 8);
		taken_in++;
	} else if (rnd() % 2 == 0 && taken_se < seg.max_series / 4) {
		struct shm_series *se = seg_series(&seg, (uint32_t)(rnd() % seg.max_series));

		if (rnd() & 1)
			w = SHM_DICT_CLAIM(w >> 32, SHM_DICT_READY);
		if (!shm_cas(&se->se_claim, &expect, w))
			return 0;
		memcpy((char *)se + 8, junk + 8, sizeof(*se) - 8);
		taken_se++;
	} else {
		/* A metric record naming any series, of any kind and value. */
		unsigned char rec[SHM_ABI_SLOT_SIZE];
		struct shm_rec_hdr rh = {0};
		struct shm_metric mt;
		struct shm_ring_hdr *r = any_ring();
		uint64_t pos;

		rh.rec_type = SHM_REC_METRIC;
		rh.rec_len = sizeof(rh) + sizeof(mt);
		rh.rec_producer = (uint16_t)pidx;
		rh.rec_pgen = (uint16_t)pgen;
		rh.rec_time_ns = now_ns(CLOCK_REALTIME);
		memcpy(&mt, junk + 8, sizeof(mt));
		if (rnd() & 1)
			mt.mt_series %= seg.max_series + 2;
		else if (rnd() & 1)
			mt.mt_series = (uint32_t)(rnd() % 64); /* the first, honest ids */
		if (rnd() & 1)
			mt.mt_kind = 1 + mt.mt_kind % 4;
		memcpy(rec, &rh, sizeof(rh));
		memcpy(rec + sizeof(rh), &mt, sizeof(mt));
		if (ring_claim(&seg, r, 1, owner, &pos))
			return 0;
		ring_copy(&seg, r, pos, 0, rec, sizeof(rh) + sizeof(mt));
		ring_publish(&seg, r, pos, 1, owner);
	}
	return 1;
}

int main(int argc, char **argv)
{
	int (*const fn[A_COUNT])(void) = {attack_record, attack_ctl, attack_slots, attack_table,
					  attack_dict};
	unsigned long long count[A_COUNT] = {0};
	const char *only = getenv("SHMLOG_HOSTILE_ONLY");
	int enabled[A_COUNT], nen = 0;
	uint64_t end;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: %s NS SECONDS SEED\n", argv[0]);
		return 2;
	}
	for (int a = 0; a < A_COUNT; a++) {
		enabled[a] = !only || strstr(only, attack_name[a]) != NULL;
		nen += enabled[a];
	}
	if (!nen) {
		fprintf(stderr, "hostile_producer: SHMLOG_HOSTILE_ONLY names no attack\n");
		return 2;
	}
	rng_state = strtoull(argv[3], NULL, 0) | 1;
	ret = seg_attach(&seg, argv[1], 1);
	if (ret) {
		fprintf(stderr, "hostile_producer: segment %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	ret = take_entries();
	if (ret) {
		fprintf(stderr, "hostile_producer: tables: %s\n", strerror(-ret));
		return 1;
	}
	printf("hostile pid=%d slot=%u\n", (int)getpid(), pidx);
	fflush(stdout);
	end = now_ns(CLOCK_MONOTONIC) + (uint64_t)(atof(argv[2]) * 1e9);
	while (now_ns(CLOCK_MONOTONIC) < end) {
		for (int i = 0; i < 64; i++) {
			int a = (int)(rnd() % A_COUNT);

			if (!enabled[a])
				continue;
			count[a] += fn[a]();
		}
	}
	printf("attacks");
	for (int a = 0; a < A_COUNT; a++)
		printf(" %s=%llu", attack_name[a], count[a]);
	printf("\n");
	seg_detach(&seg);
	return 0;
}
