/* SPDX-License-Identifier: MIT */
/*
 * e2e_forge_producer: a hostile producer for test_audit.py. It maps the
 * segment itself (no libshmlog) and writes the producer table and a ring
 * by hand, as any process that can open the segment could:
 *   forge NS PID UID START N TAG
 *                              registers an entry that claims another
 *                              identity (pid, uid, start ticks), named TAG
 *                              (service e2e-TAG), and writes N log
 *                              records "TAG <i>"
 *   garbage NS N M             registers its own true identity, writes M
 *                              log records "valid <i>" and N records of
 *                              no known type (the collector counts them
 *                              invalid)
 * Prints "slot <i>" and exits 0, or a line on stderr and exits 1.
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

static struct seg seg;
static uint32_t owner, pidx, pgen;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int take_entry(uint32_t pid, uint32_t uid, uint64_t start, const char *exe)
{
	for (uint32_t i = 0; i < seg.max_producers; i++) {
		struct shm_producer *pe = seg_producer(&seg, i);
		uint64_t expect = 0;

		if (!shm_cas(&pe->pe_claim, &expect, SHM_PE_CLAIM(pid, SHM_PE_FILLING)))
			continue;
		pgen = shm_load_relaxed(&pe->pe_gen);
		pe->pe_pid = pid;
		pe->pe_uid = uid;
		pe->pe_ppid = (uint32_t)getppid();
		pe->pe_start_ticks = start;
		pe->pe_attach_ns = now_ns();
		snprintf(pe->pe_exe, sizeof(pe->pe_exe), "%s", exe);
		snprintf(pe->pe_service, sizeof(pe->pe_service), "e2e-%s", exe);
		snprintf(pe->pe_cmdline, sizeof(pe->pe_cmdline), "%s", exe);
		shm_store_release(&pe->pe_claim, SHM_PE_CLAIM(pid, SHM_PE_READY));
		pidx = i;
		return 0;
	}
	return -ENOSPC;
}

/* Our real thread, honestly: the collector checks a claim's owner. */
static int take_thread(void)
{
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	char path[64], st;
	uint64_t start = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%u/stat", tid);
	if (proc_stat_read(path, &st, &start))
		return -EPROTO;
	for (uint32_t i = 0; i < seg.max_threads; i++) {
		struct shm_thread *te = seg_thread(&seg, i);
		uint32_t expect = 0;

		if (!shm_cas(&te->te_tid, &expect, tid))
			continue;
		te->te_pid = (uint32_t)getpid();
		te->te_start_ticks = start;
		te->te_producer = pidx;
		te->te_pgen = pgen;
		shm_store_release(&te->te_ready, 1);
		owner = i;
		return 0;
	}
	return -ENOSPC;
}

/* One record of type type with body text; retried while the ring is full. */
static int put(uint8_t type, const char *text)
{
	unsigned char rec[256];
	struct shm_rec_hdr rh = { 0 };
	struct shm_log_hdr lh = { 0 };
	size_t blen = strlen(text), len = sizeof(rh) + sizeof(lh) + blen;
	uint32_t n = (uint32_t)((len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE);
	struct shm_ring_hdr *r = seg_ring(&seg, 0);
	uint64_t pos;
	int ret;

	rh.rec_type = type;
	rh.rec_severity = 9;
	rh.rec_len = (uint32_t)len;
	rh.rec_producer = (uint16_t)pidx;
	rh.rec_pgen = (uint16_t)pgen;
	rh.rec_time_ns = now_ns();
	lh.lg_body_len = (uint16_t)blen;
	memcpy(rec, &rh, sizeof(rh));
	memcpy(rec + sizeof(rh), &lh, sizeof(lh));
	memcpy(rec + sizeof(rh) + sizeof(lh), text, blen);
	for (int tries = 0; tries < 5000; tries++) {
		ret = ring_claim(&seg, r, n, owner, &pos);
		if (ret == 0) {
			ring_copy(&seg, r, pos, 0, rec, len);
			ring_publish(&seg, r, pos, n, owner);
			return 0;
		}
		usleep(1000);
	}
	return ret;
}

int main(int argc, char **argv)
{
	char st, buf[64];
	uint64_t start = 0;
	int forge, ret, n, m = 0;

	if (argc < 4 || (strcmp(argv[1], "forge") && strcmp(argv[1], "garbage")) ||
	    (!strcmp(argv[1], "forge") && argc != 8) || (!strcmp(argv[1], "garbage") && argc != 5)) {
		fprintf(stderr, "usage: %s forge NS PID UID START N TAG | garbage NS N M\n", argv[0]);
		return 2;
	}
	forge = !strcmp(argv[1], "forge");
	ret = seg_attach(&seg, argv[2], 1);
	if (ret) {
		fprintf(stderr, "forge_producer: segment %s: %s\n", argv[2], strerror(-ret));
		return 1;
	}
	if (forge) {
		ret = take_entry((uint32_t)strtoul(argv[3], NULL, 10),
				 (uint32_t)strtoul(argv[4], NULL, 10), strtoull(argv[5], NULL, 10),
				 argv[7]);
		n = atoi(argv[6]);
	} else {
		if (proc_stat_read("/proc/self/stat", &st, &start))
			return 1;
		ret = take_entry((uint32_t)getpid(), (uint32_t)getuid(), start, "garbage");
		n = atoi(argv[3]);
		m = atoi(argv[4]);
	}
	if (ret == 0)
		ret = take_thread();
	if (ret) {
		fprintf(stderr, "forge_producer: tables: %s\n", strerror(-ret));
		return 1;
	}
	printf("slot %u\n", pidx);
	fflush(stdout);
	for (int i = 0; i < (forge ? n : m) && ret == 0; i++) {
		snprintf(buf, sizeof(buf), "%.32s %d", forge ? argv[7] : "valid", i);
		ret = put(SHM_REC_LOG, buf);
	}
	for (int i = 0; !forge && i < n && ret == 0; i++)
		ret = put(99, "garbage"); /* no such record type */
	if (ret) {
		fprintf(stderr, "forge_producer: ring: %s\n", strerror(-ret));
		return 1;
	}
	seg_detach(&seg);
	return 0;
}
