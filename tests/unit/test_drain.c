/* SPDX-License-Identifier: MIT */
/*
 * test_drain: what a hostile producer (tests/fault/fault_hostile.py) did
 * to the drain before core/drain.c learned better, one case each, on a
 * small real segment with records written by hand:
 *  - a claim whose owner index names no thread entry stalled the ring for
 *    a loop turn per claim (grace, then /proc): now skipped at once;
 *  - a claim whose owner entry is free: abandoned at once;
 *  - a garbage word over the first slot of a two-slot record left the
 *    cursor on a stale FREE word in the middle: the ring stalled for good
 *    (a hole); now the drain skips to the next record;
 *  - a garbage word ahead of the head: writers could not claim past it
 *    until the cursor passed it and a release followed; now it is freed;
 *  - a forged published word with a long length over a short record made
 *    the cursor jump over the records after it; now one slot.
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "log_batch.h"
#include "proc_stat.h"
#include "producers.h"
#include "ring_write.h"
#include "seg.h"
#include "test_help.h"

static struct seg seg;
static struct shmlog_config cfg;
static struct producers prod;
static struct log_batch batch;
static struct drain d;
static char ns[64];
static int cases;

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A fresh segment with producer 0 and thread entry 0: this process. */
static void setup(void)
{
	struct seg_geometry g = {.nrings = 1,
				 .ring_slots = 64,
				 .max_producers = 4,
				 .max_threads = 16,
				 .dead_check_ms = 10,
				 .max_instruments = 4,
				 .max_series = 4,
				 .max_cells = 8};
	struct shm_producer *pe;
	struct shm_thread *te;
	char st, path[64];
	uint64_t start = 0, tstart = 0;
	int reused;

	snprintf(ns, sizeof(ns), "test-drain-%d-%d", (int)getpid(), cases++);
	T_EQ_INT(seg_create(&seg, ns, &g, 0600, &reused), 0);
	T_EQ_INT(proc_stat_read("/proc/self/stat", &st, &start), 0);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", (long)syscall(SYS_gettid));
	T_EQ_INT(proc_stat_read(path, &st, &tstart), 0);
	pe = seg_producer(&seg, 0);
	pe->pe_pid = (uint32_t)getpid();
	pe->pe_uid = (uint32_t)getuid();
	pe->pe_start_ticks = start;
	snprintf(pe->pe_exe, sizeof(pe->pe_exe), "test_drain");
	shm_store_release(&pe->pe_claim, SHM_PE_CLAIM(getpid(), SHM_PE_READY));
	te = seg_thread(&seg, 0);
	te->te_tid = (uint32_t)syscall(SYS_gettid);
	te->te_pid = (uint32_t)getpid();
	te->te_start_ticks = tstart;
	te->te_producer = 0;
	te->te_pgen = pe->pe_gen;
	shm_store_release(&te->te_ready, 1);
	memset(&cfg, 0, sizeof(cfg)); /* identity check off */
	T_EQ_INT(producers_init(&prod, &seg, &cfg), 0);
	log_batch_init(&batch);
	T_EQ_INT(drain_init(&d, &seg, &prod, &batch, 10), 0);
}

static void teardown(void)
{
	drain_fini(&d);
	log_batch_fini(&batch);
	producers_fini(&prod);
	seg_detach(&seg);
	(void)seg_unlink(ns);
}

/* Writes a log record with body text (blen bytes), owner 0; its position. */
static uint64_t put(const char *text, size_t blen)
{
	unsigned char rec[512];
	struct shm_rec_hdr rh = {.rec_type = SHM_REC_LOG, .rec_severity = 9};
	struct shm_log_hdr lh = {.lg_body_len = (uint16_t)blen};
	size_t len = sizeof(rh) + sizeof(lh) + blen;
	uint32_t n = (uint32_t)((len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE);
	struct shm_ring_hdr *r = seg_ring(&seg, 0);
	uint64_t pos;

	rh.rec_len = (uint32_t)len;
	rh.rec_time_ns = 1;
	memcpy(rec, &rh, sizeof(rh));
	memcpy(rec + sizeof(rh), &lh, sizeof(lh));
	memset(rec + sizeof(rh) + sizeof(lh), 'x', blen);
	memcpy(rec + sizeof(rh) + sizeof(lh), text, strlen(text) < blen ? strlen(text) : blen);
	T_EQ_INT(ring_claim(&seg, r, n, 0, &pos), 0);
	ring_copy(&seg, r, pos, 0, rec, len);
	ring_publish(&seg, r, pos, n, 0);
	return pos;
}

static uint64_t *ctl(uint64_t pos)
{
	return &seg_ring_ctl(&seg, seg_ring(&seg, 0))[pos & (seg.slots - 1)];
}

/* One drain call: must take everything there is, in one go. */
static uint32_t drain_once(void)
{
	uint64_t now = mono();

	return drain_ring(&d, 0, now, now, 1000);
}

static void test_impossible_owner(void)
{
	setup();
	uint64_t p = put("a", 10);
	/* Overwritten by a claim of owner 16 (= max_threads) and owner 5 (a
	 * free entry): neither can ever be published. */
	shm_store_relaxed(ctl(p), SHM_CTL_MAKE(seg_lap(&seg, p), SHM_CTL_CLAIMED, 1, 16));
	uint64_t q = put("b", 10);
	shm_store_relaxed(ctl(q), SHM_CTL_MAKE(seg_lap(&seg, q), SHM_CTL_CLAIMED, 1, 5));
	put("c", 10);
	T_EQ_INT(drain_once(), 1); /* no waiting: c is read in the same call */
	T_EQ_INT((int)d.invalid, 1);
	T_EQ_INT((int)d.abandoned, 1);
	T_EQ_INT((int)d.records, 1);
	teardown();
}

static void test_hole(void)
{
	setup();
	uint64_t p = put("two slots", 60); /* 92 bytes: 2 slots */
	put("after", 10);
	put("after", 10);
	/* Garbage over the first word: the second slot's word is FREE. */
	shm_store_relaxed(ctl(p), 0x1234567812345678ull);
	T_EQ_INT(drain_once(), 2);
	T_EQ_INT((int)d.records, 2);
	T_EQ_INT((int)d.invalid, 2); /* the garbage word, then the hole */
	T_ASSERT(d.rings[0].cursor == p + 4);
	teardown();
}

static void test_garbage_ahead(void)
{
	setup();
	for (int i = 0; i < 4; i++)
		put("first", 10); /* positions 0..3: the head is 4 */
	/* Garbage two slots ahead of the head: a writer could claim 4 and 5,
	 * never 6 (it CASes only from FREE). */
	shm_store_relaxed(ctl(6), 0xdeadbeefdeadbeefull);
	T_EQ_INT(drain_once(), 4);
	T_ASSERT(*ctl(6) == SHM_CTL_MAKE(seg_lap(&seg, 6) - 1, SHM_CTL_FREE, 0, 0));
	T_EQ_INT((int)d.invalid, 1);
	for (int i = 0; i < 4; i++)
		put("after", 10); /* 4..7, through 6 */
	T_EQ_INT(drain_once(), 4);
	T_EQ_INT((int)d.records, 8);
	T_EQ_INT((int)d.invalid, 1);
	teardown();
}

static void test_forged_length(void)
{
	setup();
	uint64_t p = put("short", 10);
	for (int i = 0; i < 5; i++)
		put("next", 10);
	/* A published word claiming 40 slots over a one-slot record. */
	shm_store_relaxed(ctl(p), SHM_CTL_MAKE(seg_lap(&seg, p), SHM_CTL_PUBLISHED, 40, 0));
	T_EQ_INT(drain_once(), 5); /* the five after it are not jumped over */
	T_EQ_INT((int)d.invalid, 1);
	T_ASSERT(d.rings[0].cursor == p + 6);
	teardown();
}

int main(void)
{
	test_impossible_owner();
	test_hole();
	test_garbage_ahead();
	test_forged_length();
	printf("test_drain: ok\n");
	return 0;
}
