/* SPDX-License-Identifier: MIT */
/*
 * Unit test of shmtop's reader and printer (tools/shmtop_read.c,
 * tools/shmtop_print.c): a real segment made with seg_create() under a
 * unique namespace, a temporary spool with an exporter status file,
 * counters, a producer entry and metric dictionary entries filled by hand,
 * then the JSON checked for the values; then hostile contents (huge
 * counters, unterminated strings, control bytes, bad producer states,
 * garbage dictionary claim words, a segment cut short under the mapping)
 * must give sane output and no crash. A second segment with records
 * written by hand into its rings checks the walk that estimates records
 * per producer (shmtop_read_walk()): unreleased and released records
 * counted for the producer they name, reused slots, stale laps and
 * unknown producers never counted for anyone. The segments and the spool
 * are removed at exit, also when an assertion fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seg.h"
#include "shmtop_print.h"
#include "shmtop_rate.h"
#include "shmtop_read.h"
#include "text_clean.h"
#include "test_help.h"

static char ns[64];
static char ns2[64];
static char spool[64];
static struct seg seg;
static struct seg seg2;

static void cleanup(void)
{
	char cmd[128];

	if (ns[0])
		(void)seg_unlink(ns); /* absent already is fine */
	if (ns2[0])
		(void)seg_unlink(ns2);
	if (spool[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", spool);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	T_ASSERT(f);
	T_ASSERT(fputs(text, f) >= 0);
	T_ASSERT(fclose(f) == 0);
}

/* The snapshot's JSON, malloc'ed. */
static char *json_of(const struct shmtop_snap *cur, const struct shmtop_snap *prev)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	T_ASSERT(m);
	shmtop_print_json(m, cur, prev);
	T_ASSERT(fclose(m) == 0);
	return buf;
}

static char *text_of(const struct shmtop_snap *cur)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	T_ASSERT(m);
	shmtop_print_text(m, cur, NULL, 1);
	T_ASSERT(fclose(m) == 0);
	return buf;
}

#define T_HAS(hay, needle)                                                                         \
	do {                                                                                       \
		if (!strstr((hay), (needle))) {                                                    \
			fprintf(stderr, "%s:%d: missing %s in:\n%s\n", __FILE__, __LINE__,         \
				(needle), (hay));                                                  \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

/* Parses the JSON with Python's json module when python3 is there: a
 * second opinion on escaping that this file did not write. */
static void json_valid(const char *json)
{
	char path[96];
	int fd, ret;
	char cmd[256];

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return;
	snprintf(path, sizeof(path), "%s/check.json", spool);
	write_file(path, json);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json,sys; json.load(open(sys.argv[1]))' %s",
		 path);
	ret = system(cmd);
	T_EQ_INT(ret, 0);
	fd = open(path, O_RDONLY);
	T_ASSERT(fd >= 0);
	close(fd);
	unlink(path);
}

static void fill_producer(uint32_t i, uint32_t pid, const char *exe, const char *service)
{
	struct shm_producer *pe = seg_producer(&seg, i);

	memset(pe, 0, sizeof(*pe));
	pe->pe_pid = pid;
	pe->pe_uid = 1000;
	snprintf(pe->pe_exe, sizeof(pe->pe_exe), "%s", exe);
	snprintf(pe->pe_service, sizeof(pe->pe_service), "%s", service);
	pe->pe_claim = SHM_PE_CLAIM(pid, SHM_PE_READY);
}

static void test_strings(void)
{
	char out[8];

	text_clean(out, sizeof(out), "a\001b", 3);
	T_EQ_STR(out, "a?b");
	text_clean(out, sizeof(out), "\xc3\xa9t\xc3\xa9", 16);
	T_EQ_STR(out, "\xc3\xa9t\xc3\xa9");
	text_clean(out, sizeof(out),
			"\xc2\x9b"
			"1m\xff\xc0\xed\xa0\x80",
			16);
	T_EQ_STR(out, "??1m???"); /* C1 CSI, bad bytes, a surrogate; cut at 7 */
	text_clean(out, sizeof(out), "abcdef\xe2\x82\xac", 16);
	T_EQ_STR(out, "abcdef");			  /* the euro sign does not fit whole */
	text_clean(out, sizeof(out), "abcdefgh", 3); /* not NUL-terminated */
	T_EQ_STR(out, "abc");
}

static void test_status(void)
{
	static const char txt[] = "pid=1\nupdated_unix_ms=5\nlast_http_status=99999\n"
				  "=x\nno equals\nlast_error=bad\033[2J\n"
				  "sent_records=-4\nretries=18446744073709551616\n"
				  "dropped_records=12\nlast_latency_ms=nan\nspool_files=3";
	struct exporter_status e;

	exporter_status_parse(&e, txt, sizeof(txt) - 1);
	T_EQ_INT(e.present, 1);
	T_EQ_INT(e.pid, 1);
	T_EQ_INT(e.updated_unix_ms, 5);
	T_EQ_INT(e.last_http_status, 0);
	T_EQ_INT(e.last_grpc_status, -1); /* absent */
	T_EQ_STR(e.last_error, "bad?[2J");
	T_EQ_INT(e.sent_records, 0);
	T_EQ_INT(e.retries, 0);
	T_EQ_INT(e.dropped_records, 12);
	T_ASSERT(e.last_latency_ms == 0);
	T_EQ_INT(e.spool_files, 0); /* its line has no newline: cut, ignored */
	/* authentication failures: only 401 and 403 are a last_auth_status */
	exporter_status_parse(&e, "auth_failures=7\nlast_auth_status=500\nlast_auth_unix_ms=x\n", 57);
	T_EQ_INT(e.auth_failures, 7);
	T_EQ_INT(e.last_auth_status, 0);
	T_EQ_INT(e.last_auth_unix_ms, 0);
	exporter_status_parse(&e, "auth_failures=2\nlast_auth_status=403\nlast_auth_unix_ms=9\n", 57);
	T_EQ_INT(e.auth_failures, 2);
	T_EQ_INT(e.last_auth_status, 403);
	T_EQ_INT(e.last_auth_unix_ms, 9);
	exporter_status_parse(&e, "", 0);
	T_EQ_INT(e.present, 0);
	exporter_status_parse(&e, "protocol=grpc\nlast_grpc_status=14\n", 34);
	T_EQ_STR(e.protocol, "grpc");
	T_EQ_INT(e.last_grpc_status, 14);
	exporter_status_parse(&e, "last_grpc_status=99\n", 20);
	T_EQ_INT(e.last_grpc_status, -1);
}

/* Writes a record header of n slots at position pos of ring k of seg2,
 * with control word state st in lap lap (0: the position's own lap). */
static void put_rec(uint32_t k, uint64_t pos, uint16_t prod, uint16_t pgen, uint32_t n,
		    uint32_t st, uint32_t lap)
{
	struct shm_ring_hdr *r = seg_ring(&seg2, k);
	uint64_t mask = seg2.slots - 1;
	struct shm_rec_hdr hdr = {.rec_type = SHM_REC_LOG,
				  .rec_len = n * SHM_ABI_SLOT_SIZE - 10,
				  .rec_producer = prod,
				  .rec_pgen = pgen};

	memcpy(seg_ring_slots(&seg2, r) + (pos & mask) * SHM_ABI_SLOT_SIZE, &hdr, sizeof(hdr));
	seg_ring_ctl(&seg2, r)[pos & mask] =
		SHM_CTL_MAKE(lap ? lap : seg_lap(&seg2, pos), st, st == SHM_CTL_FREE ? 0 : n, 1);
}

/* Marks positions [from, to) of ring k released, as drain_release() does. */
static void release(uint32_t k, uint64_t from, uint64_t to)
{
	struct shm_ring_hdr *r = seg_ring(&seg2, k);

	for (uint64_t p = from; p < to; p++)
		seg_ring_ctl(&seg2, r)[p & (seg2.slots - 1)] =
			SHM_CTL_MAKE(seg_lap(&seg2, p), SHM_CTL_FREE, 0, 0);
	r->rh_tail = to;
}

static void fill_producer2(uint32_t i, uint32_t pid, uint32_t gen)
{
	struct shm_producer *pe = seg_producer(&seg2, i);

	memset(pe, 0, sizeof(*pe));
	pe->pe_pid = pid;
	pe->pe_gen = gen;
	snprintf(pe->pe_exe, sizeof(pe->pe_exe), "p%u", i);
	pe->pe_claim = SHM_PE_CLAIM(pid, SHM_PE_READY);
}

static void snap2(struct shmtop_src *src, struct shmtop_snap *out)
{
	T_EQ_INT(shmtop_read_snap(src, out), 0);
	T_EQ_INT(out->nprods, 2);
}

static void test_walk(void)
{
	struct seg_geometry g = {.nrings = 2,
				 .ring_slots = 4096,
				 .max_producers = 16,
				 .max_threads = 64,
				 .dead_check_ms = 1000,
				 .max_instruments = 32,
				 .max_series = 128};
	struct shm_ring_hdr *r0, *r1;
	struct shmtop_snap a, b, c;
	struct shmtop_src src;
	double rate[2], cov;
	int reused = 0;

	T_EQ_INT(seg_create(&seg2, ns2, &g, 0600, &reused), 0);
	r0 = seg_ring(&seg2, 0);
	r1 = seg_ring(&seg2, 1);
	fill_producer2(0, 1u << 30, 0);
	fill_producer2(3, (1u << 30) + 1, 5);
	T_EQ_INT(shmtop_read_open(&src, ns2), 0);

	/* The first look only notes where the rings are. */
	r0->rh_cursor = r0->rh_hint = 5;
	r0->rh_records = 5;
	snap2(&src, &a);
	T_ASSERT(a.prods[0].records_est == 0 && a.prods[1].records_est == 0);

	/* Read by the collector, not yet released: 30 one-slot records of
	 * entry 0 and 10 two-slot ones of entry 3 in ring 0, 6 of entry 3 in
	 * ring 1. Counts are exact when the walk sees every record. */
	for (uint64_t p = 5; p < 35; p++)
		put_rec(0, p, 0, 0, 1, SHM_CTL_PUBLISHED, 0);
	for (uint64_t p = 35; p < 55; p += 2)
		put_rec(0, p, 3, 5, 2, SHM_CTL_PUBLISHED, 0);
	r0->rh_cursor = r0->rh_hint = 55;
	r0->rh_records = 45;
	for (uint64_t p = 0; p < 6; p++)
		put_rec(1, p, 3, 5, 1, SHM_CTL_PUBLISHED, 0);
	r1->rh_cursor = r1->rh_hint = 6;
	r1->rh_records = 6;
	snap2(&src, &b);
	T_ASSERT(b.prods[0].index == 0 && b.prods[1].index == 3);
	T_ASSERT(b.prods[0].records_est == 30);
	T_ASSERT(b.prods[1].records_est == 16);
	T_ASSERT(b.est_split == 46 && b.est_unsplit == 0);
	T_EQ_INT(shmtop_rate_producers(&b, &a, rate, &cov), 0);
	T_ASSERT(rate[0] > 0 && rate[1] > 0);
	T_ASSERT(rate[0] > 1.874 * rate[1] && rate[0] < 1.876 * rate[1]); /* 30 : 16 */
	T_ASSERT(cov == 1);
	shmtop_read_free(&a);

	/* Released already (FREE in their lap): still counted, from rec_len. */
	for (uint64_t p = 55; p < 75; p++)
		put_rec(0, p, 0, 0, 1, SHM_CTL_PUBLISHED, 0);
	release(0, 0, 75);
	r0->rh_cursor = r0->rh_hint = 75;
	r0->rh_records = 65;
	for (uint64_t p = 6; p < 10; p++)
		put_rec(1, p, 3, 5, 1, SHM_CTL_PUBLISHED, 0);
	r1->rh_cursor = r1->rh_hint = 10;
	r1->rh_records = 10;
	snap2(&src, &c);
	T_ASSERT(c.prods[0].records_est == 50);
	T_ASSERT(c.prods[1].records_est == 20);
	T_ASSERT(c.est_split == 70 && c.est_unsplit == 0);
	shmtop_read_free(&b);

	/* Released slots the writers may have reached again (their
	 * next-lap positions lie within reach of the hint) are not read: the
	 * ring's records are counted as not split. */
	for (uint64_t p = 75; p < 85; p++)
		put_rec(0, p, 3, 5, 1, SHM_CTL_PUBLISHED, 0);
	release(0, 75, 85);
	r0->rh_cursor = 85;
	r0->rh_hint = 85 + 4096 - 1000;
	r0->rh_records = 75;
	snap2(&src, &a);
	T_ASSERT(a.prods[0].records_est == 50 && a.prods[1].records_est == 20);
	T_ASSERT(a.est_unsplit == 10);
	shmtop_read_free(&c);

	/* A stale lap, nslots 0, an unknown entry, a wrong generation: never
	 * counted for a producer. */
	r0->rh_hint = 100;
	put_rec(0, 85, 0, 0, 1, SHM_CTL_PUBLISHED, 7); /* lap 7: not this lap */
	r0->rh_cursor = 86;
	r0->rh_records = 76;
	snap2(&src, &b);
	T_ASSERT(b.prods[0].records_est == 50 && b.est_unsplit == 11);
	shmtop_read_free(&a);
	put_rec(0, 86, 9, 0, 1, SHM_CTL_PUBLISHED, 0);	 /* entry 9 is free */
	put_rec(0, 87, 0, 3, 1, SHM_CTL_PUBLISHED, 0);	 /* entry 0 has gen 0 */
	put_rec(0, 88, 999, 0, 1, SHM_CTL_PUBLISHED, 0); /* past the table */
	put_rec(0, 89, 0, 0, 1, SHM_CTL_CLAIMED, 0);	 /* a dead writer's claim */
	put_rec(0, 90, 0, 0, 1, SHM_CTL_PUBLISHED, 0);
	r0->rh_cursor = 91;
	r0->rh_records = 80;
	snap2(&src, &c);
	/* 4 records headers were read, one of them entry 0's: a quarter. */
	T_ASSERT(c.prods[0].records_est == 51 && c.prods[1].records_est == 20);
	T_ASSERT(c.est_split == b.est_split + 4);
	shmtop_read_free(&b);
	put_rec(0, 91, 0, 0, 0, SHM_CTL_PUBLISHED, 0); /* nslots 0 */
	r0->rh_cursor = 95;
	r0->rh_records = 84;
	snap2(&src, &a);
	T_ASSERT(a.prods[0].records_est == 51 && a.est_unsplit == 15);
	shmtop_read_free(&c);

	/* Lapped between two looks: only the unreleased part is walked. */
	for (uint64_t p = 95 + 5000; p < 95 + 5010; p++)
		put_rec(0, p, 3, 5, 1, SHM_CTL_PUBLISHED, 0);
	r0->rh_tail = 95 + 5000;
	r0->rh_cursor = r0->rh_hint = 95 + 5010;
	r0->rh_records = 84 + 5000;
	snap2(&src, &b);
	T_ASSERT(b.prods[1].records_est == 20 + 5000);
	shmtop_read_free(&a);

	/* A collector that started over (counters back to 0): primed again. */
	r0->rh_tail = r0->rh_cursor = r0->rh_hint = 0;
	r0->rh_records = 0;
	snap2(&src, &c);
	T_ASSERT(c.prods[1].records_est == 20 + 5000);
	T_EQ_INT(shmtop_rate_producers(&c, &b, rate, &cov), 0);
	T_ASSERT(rate[0] == 0 && rate[1] == 0);
	T_ASSERT(cov == -1);
	shmtop_read_free(&b);
	shmtop_read_free(&c);
	shmtop_read_close(&src);
	seg_detach(&seg2);
	T_EQ_INT(seg_unlink(ns2), 0);
}

static void test_snapshot(void)
{
	struct shm_seg_hdr *h = seg.hdr;
	struct shm_ring_hdr *r1 = seg_ring(&seg, 1);
	struct shmtop_snap cur, prev;
	struct shmtop_ring prev_rings[4];
	struct shmtop_src src;
	struct timespec ts;
	char path[128], *json, *text;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h->sh_collector_pid = (uint32_t)getpid();
	h->sh_heartbeat_ns = now - 1500000000ull;
	h->sh_records_in = 123;
	h->sh_records_spooled = 120;
	h->sh_invalid = 2;
	h->sh_abandoned = 1;
	h->sh_spool_files = 2;
	h->sh_spool_bytes = 4096;
	h->sh_lag_ns = 250000000;
	h->sh_producers_live = 1;
	snprintf(h->sh_spool_dir, sizeof(h->sh_spool_dir), "%s", spool);
	r1->rh_tail = 10;
	r1->rh_cursor = 30;
	r1->rh_hint = 42;
	r1->rh_records = 77;
	r1->rh_drops = 5;
	r1->rh_invalid = 2;
	r1->rh_abandoned = 1;
	fill_producer(3, (uint32_t)getpid(), "python3", "");
	seg_producer(&seg, 3)->pe_drops = 4;
	seg_producer(&seg, 3)->pe_drop_nothr = 3;
	fill_producer(4, 999999999, "gone", "svc-b");
	/* Dictionary: 2 instruments, 3 series (one still FILLING: taken). */
	seg_instrument(&seg, 0)->in_claim = SHM_DICT_CLAIM(0x1234, SHM_DICT_READY);
	seg_instrument(&seg, 5)->in_claim = SHM_DICT_CLAIM(0x99, SHM_DICT_READY);
	seg_series(&seg, 0)->se_claim = SHM_DICT_CLAIM(7, SHM_DICT_READY);
	seg_series(&seg, 1)->se_claim = SHM_DICT_CLAIM(8, SHM_DICT_READY);
	seg_series(&seg, 127)->se_claim = SHM_DICT_CLAIM(9, SHM_DICT_FILLING);
	h->sh_dict_full = 2;
	h->sh_overflow = 7;

	snprintf(path, sizeof(path), "%s/logs", spool);
	T_ASSERT(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "%s/logs/00000000000000000001.pb", spool);
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/logs/00000000000000000002.pb", spool);
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/logs/.tmp-00000000000000000003", spool);
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/exporter.status", spool);
	write_file(path, "pid=1\nupdated_unix_ms=1000\nendpoint=\nprotocol=http/json\n"
			 "compression=none\nlast_http_status=200\nlast_error=\n"
			 "last_latency_ms=3.5\nsent_requests=4\nsent_records=100\nretries=1\n"
			 "dropped_requests=0\ndropped_records=0\nrejected_records=0\n"
			 "quarantined_files=0\nspool_files=2\nspool_bytes=4096\n");

	T_EQ_INT(shmtop_read_open(&src, ns), 0);
	T_EQ_INT(shmtop_read_replaced(&src), 0);
	T_EQ_INT(shmtop_read_snap(&src, &cur), 0);
	T_EQ_INT(cur.nrings_read, 4);
	T_EQ_INT(cur.nprods, 2);
	T_EQ_INT(cur.rings[1].used, 32);

	/* A previous snapshot one second earlier with 50 fewer records. */
	prev = cur;
	memcpy(prev_rings, cur.rings, sizeof(prev_rings));
	prev.rings = prev_rings;
	prev.mono_ns = cur.mono_ns - 1000000000ull;
	prev_rings[1].records -= 50;
	prev.records_in -= 20;
	json = json_of(&cur, &prev);
	T_HAS(json, "\"namespace\":\"");
	T_HAS(json, "\"rate_window_ms\":1000");
	T_HAS(json, "\"index\":1,\"ok\":true,\"slots\":64,\"used\":32,\"fill_pct\":50.0,"
		    "\"records\":77,\"rate_per_s\":50.0,\"drops\":5,\"drop_bytes\":0,"
		    "\"invalid\":2,\"abandoned\":1}");
	T_HAS(json, "\"exe\":\"python3\",\"service\":\"unknown_service:python3\"");
	T_HAS(json, "\"index\":3,\"pid\":");
	T_HAS(json, ",\"uid\":1000,\"alive\":true");
	T_HAS(json, "\"drops\":7");
	T_HAS(json, "\"alive\":false,\"exe\":\"gone\",\"service\":\"svc-b\"");
	T_HAS(json, "\"producers_skipped\":0");
	T_HAS(json, "\"alive\":true,\"heartbeat_age_ms\":15");
	T_HAS(json, "\"records_in\":123,\"records_spooled\":120,\"invalid\":2,\"abandoned\":1,"
		    "\"lag_ms\":250,\"rate_per_s\":20.0}");
	T_HAS(json, "\"rate_per_s\":20.0},\"dictionary\":{\"instruments\":2,"
		    "\"max_instruments\":32,\"series\":3,\"max_series\":128,"
		    "\"registrations_refused\":2,\"overflow_measurements\":7,\"complete\":true},"
		    "\"spool\":{");
	T_HAS(json, "\"files\":2,\"bytes\":4096,\"dropped_requests\":0,\"dropped_records\":0,"
		    "\"log_files_now\":2}");
	T_HAS(json, "\"last_http_status\":200,\"last_error\":\"\",\"last_latency_ms\":3.5,"
		    "\"sent_requests\":4,\"sent_records\":100,\"retries\":1");
	T_HAS(json, "\"spool_bytes\":4096,\"last_grpc_status\":-1}");
	json_valid(json);
	free(json);
	json = json_of(&cur, NULL);
	T_HAS(json, "\"rate_window_ms\":null");
	T_HAS(json, "\"rate_per_s\":null");
	json_valid(json);
	free(json);
	text = text_of(&cur);
	T_HAS(text, "unknown_service:python3");
	T_HAS(text, "dictionary instruments 2/32  series 3/128  registrations refused 2  "
		    "overflow measurements 7\n");
	free(text);
	shmtop_read_free(&cur);
	shmtop_read_close(&src);
}

static void test_hostile(void)
{
	struct shm_seg_hdr *h = seg.hdr;
	struct shm_producer *pe;
	struct shmtop_snap cur;
	struct shmtop_src src;
	char *json, *text;
	int fd;

	seg_ring(&seg, 0)->rh_magic = 0xdeadbeef;
	seg_ring(&seg, 2)->rh_tail = UINT64_MAX; /* tail past head: empty */
	seg_ring(&seg, 2)->rh_hint = 5;
	seg_ring(&seg, 3)->rh_tail = 7;
	seg_ring(&seg, 3)->rh_hint = 7 + 1000000000000ull; /* clamped to slots */
	seg_ring(&seg, 3)->rh_records = UINT64_MAX;
	h->sh_collector_pid = UINT32_MAX;
	h->sh_heartbeat_ns = UINT64_MAX; /* in the future: age 0 */
	h->sh_lag_ns = UINT64_MAX;
	/* Garbage claim words in every dictionary entry, huge counters, and
	 * table sizes in the header changed after the attach (the reader
	 * keeps seg_attach()'s validated copies). */
	for (uint32_t i = 0; i < seg.max_instruments; i++)
		seg_instrument(&seg, i)->in_claim = 0xdeadbeefcafef00dull + i;
	for (uint32_t i = 0; i < seg.max_series; i++)
		seg_series(&seg, i)->se_claim = UINT64_MAX - i;
	seg_instrument(&seg, 3)->in_claim = 0; /* one free */
	h->sh_dict_full = UINT64_MAX;
	h->sh_overflow = UINT64_MAX;

	fill_producer(5, 1234, "filling", "");
	seg_producer(&seg, 5)->pe_claim = SHM_PE_CLAIM(1234, SHM_PE_FILLING);
	fill_producer(6, 1234, "mismatch", "");
	seg_producer(&seg, 6)->pe_pid = 4321; /* not the pid of the claim */
	fill_producer(7, 999999998, "", "");
	seg_producer(&seg, 8)->pe_claim = SHM_PE_CLAIM(1, 77); /* no such state */
	pe = seg_producer(&seg, 7);
	memset(pe->pe_exe, 'A', sizeof(pe->pe_exe)); /* no NUL */
	memset(pe->pe_service, '\033', sizeof(pe->pe_service));
	memcpy(pe->pe_service, "red\xff\xc0\"\\", 7);
	memset(pe->pe_container, 0x9b, sizeof(pe->pe_container));
	pe->pe_drops = UINT64_MAX;
	pe->pe_drop_nothr = 5;

	T_EQ_INT(shmtop_read_open(&src, ns), 0);
	h->sh_max_instruments = UINT32_MAX;
	h->sh_max_series = UINT32_MAX;
	h->sh_inst_off = UINT64_MAX;
	h->sh_series_off = 8;
	T_EQ_INT(shmtop_read_snap(&src, &cur), 0);
	T_EQ_INT(cur.inst_used, 31);
	T_EQ_INT(cur.inst_max, 32);
	T_EQ_INT(cur.series_used, 128);
	T_EQ_INT(cur.series_max, 128);
	T_EQ_INT(cur.dict_cut, 0);
	T_EQ_INT(cur.producers_other, 3);
	T_EQ_INT(cur.nprods, 3);
	T_EQ_INT(cur.coll_pid, 0);
	T_EQ_INT(cur.coll_alive, 0);
	T_EQ_INT(cur.rings[0].ok, 0);
	T_EQ_INT(cur.rings[2].used, 0);
	T_EQ_INT(cur.rings[3].used, 64);
	T_EQ_INT(strlen(cur.prods[2].exe), 64);
	T_ASSERT(!strchr(cur.prods[2].service, '\033'));
	T_ASSERT(cur.prods[2].drops == UINT64_MAX);
	json = json_of(&cur, NULL);
	T_HAS(json, "\"ok\":false");
	T_HAS(json, "\"used\":64,\"fill_pct\":100.0,\"records\":18446744073709551615");
	T_HAS(json, "\"service\":\"red??\\\"\\\\???");
	T_HAS(json, "\"drops\":18446744073709551615");
	T_HAS(json, "\"heartbeat_age_ms\":0");
	T_HAS(json, "\"producers_skipped\":3");
	T_HAS(json, "\"dictionary\":{\"instruments\":31,\"max_instruments\":32,\"series\":128,"
		    "\"max_series\":128,\"registrations_refused\":18446744073709551615,"
		    "\"overflow_measurements\":18446744073709551615,\"complete\":true}");
	json_valid(json);
	free(json);
	text = text_of(&cur);
	T_ASSERT(!strchr(text, '\033'));
	T_HAS(text, "CORRUPT HEADER");
	T_HAS(text, "dictionary instruments 31/32  series 128/128  registrations refused "
		    "18446744073709551615");
	free(text);
	shmtop_read_free(&cur);

	/* An unterminated, relative spool directory is not used. */
	memset(h->sh_spool_dir, 'x', sizeof(h->sh_spool_dir));
	T_EQ_INT(shmtop_read_snap(&src, &cur), 0);
	T_EQ_STR(cur.spool_dir, "");
	T_EQ_INT(cur.exp.present, 0);
	json = json_of(&cur, NULL);
	T_HAS(json, "\"log_files_now\":null},\"exporter\":null}");
	json_valid(json);
	free(json);
	shmtop_read_free(&cur);

	/* The object cut short under the mapping: the last two rings are
	 * beyond its end and must not be touched (SIGBUS otherwise). */
	fd = shm_open(seg.name, O_RDWR, 0);
	T_ASSERT(fd >= 0);
	T_ASSERT(ftruncate(fd, (off_t)(seg.ring_off + 2 * seg.ring_stride)) == 0);
	T_EQ_INT(shmtop_read_snap(&src, &cur), 0);
	T_EQ_INT(cur.nrings_read, 2);
	T_EQ_INT(cur.nrings, 4);
	text = text_of(&cur);
	T_HAS(text, "2 rings beyond the end");
	free(text);
	shmtop_read_free(&cur);
	/* Cut inside the series table: 10 whole entries left, no ring. */
	T_ASSERT(ftruncate(fd, (off_t)(seg.series_off + 10 * sizeof(struct shm_series) + 100)) ==
		 0);
	T_EQ_INT(shmtop_read_snap(&src, &cur), 0);
	T_EQ_INT(cur.nrings_read, 0);
	T_EQ_INT(cur.inst_used, 31);
	T_EQ_INT(cur.series_used, 10);
	T_EQ_INT(cur.dict_cut, 1);
	json = json_of(&cur, NULL);
	T_HAS(json, "\"series\":10,\"max_series\":128,");
	T_HAS(json, "\"complete\":false}");
	json_valid(json);
	free(json);
	text = text_of(&cur);
	T_HAS(text, "series 10/128");
	T_HAS(text, "tables cut short");
	free(text);
	shmtop_read_free(&cur);
	T_ASSERT(ftruncate(fd, 100) == 0);
	T_EQ_INT(shmtop_read_snap(&src, &cur), -EPROTO);
	close(fd);
	shmtop_read_close(&src);

	/* Gone, then absent. */
	T_EQ_INT(seg_unlink(ns), 0);
	T_EQ_INT(shmtop_read_open(&src, ns), -ENOENT);
	shmtop_read_close(&src);
}

int main(void)
{
	struct seg_geometry g = {.nrings = 4,
				 .ring_slots = 64,
				 .max_producers = 16,
				 .max_threads = 64,
				 .dead_check_ms = 1000,
				 .max_instruments = 32,
				 .max_series = 128};
	int reused = 0;

	snprintf(ns, sizeof(ns), "test-shmtop-%ld", (long)getpid());
	snprintf(ns2, sizeof(ns2), "test-shmtop-walk-%ld", (long)getpid());
	snprintf(spool, sizeof(spool), "/tmp/test-shmtop-XXXXXX");
	if (!mkdtemp(spool)) {
		spool[0] = '\0';
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	T_RUN(test_strings);
	T_RUN(test_status);
	if (seg_create(&seg, ns, &g, 0600, &reused) != 0) {
		fprintf(stderr, "seg_create failed: no /dev/shm here? skipping\n");
		return T_SKIP;
	}
	T_EQ_INT(reused, 0);
	T_RUN(test_walk);
	T_RUN(test_snapshot);
	T_RUN(test_hostile);
	seg_detach(&seg);
	return 0;
}
