/* SPDX-License-Identifier: MIT */
/*
 * Unit test of core/spool_writer.c's byte budget: the oldest requests are
 * deleted and their records counted, but never one the exporter has
 * claimed (spool_claim_file), and a request submitted over budget makes
 * room the same way, then is written and reported durable with its
 * record count. Runs the real io_uring loop in a mkdtemp spool; skips
 * (77) where io_uring is not allowed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "pbuf.h"
#include "spool_file.h"
#include "spool_writer.h"
#include "test_help.h"

#define PAYLOAD 1000
#define FILE_BYTES (PAYLOAD + sizeof(struct spool_file_hdr))

static char dir[PATH_MAX];
static uint32_t done_records;
static unsigned done_calls;

static void on_done(void *ctx, enum spool_signal sig, const uint64_t *release, uint32_t nrecords)
{
	(void)ctx;
	T_EQ_INT(sig, SPOOL_SIG_LOGS);
	T_EQ_INT(release[0], 42);
	done_records += nrecords;
	done_calls++;
}

static int exists(uint64_t seq)
{
	char path[PATH_MAX];

	T_EQ_INT(spool_path(path, sizeof(path), dir, SPOOL_SIG_LOGS, seq), 0);
	return access(path, F_OK) == 0;
}

static void cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
	char payload[PAYLOAD], path[PATH_MAX];
	struct spool_writer w;
	struct spool_file_hdr hdr;
	struct loop loop;
	struct pbuf pb;
	uint64_t seq[5], release[1] = {42};
	const void *p;
	size_t plen;
	void *buf;
	int claim, i, ret;

	snprintf(dir, sizeof(dir), "%s/test_spool_writer.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return T_SKIP;
	}
	atexit(cleanup);
	ret = loop_init(&loop, 64);
	if (ret < 0) {
		fprintf(stderr, "io_uring: %s; skipped\n", strerror(-ret));
		return T_SKIP;
	}
	memset(payload, 'p', sizeof(payload));
	T_EQ_INT(spool_dirs_create(dir), 0);
	/* Five requests of 1..5 records, oldest first; the exporter is
	 * sending the oldest. */
	for (i = 0; i < 5; i++)
		T_EQ_INT(spool_write_file(dir, SPOOL_SIG_LOGS, payload, PAYLOAD, (uint32_t)i + 1,
					  &seq[i]),
			 0);
	T_EQ_INT(spool_path(path, sizeof(path), dir, SPOOL_SIG_LOGS, seq[0]), 0);
	T_EQ_INT(spool_claim_file(path, &claim, &buf, &hdr, &p, &plen), 0);
	free(buf);

	/* Budget of three files: init's scan deletes two, skipping the
	 * claimed one: the 2nd and 3rd (2 + 3 records). */
	T_EQ_INT(spool_writer_init(&w, &loop, dir, 3 * FILE_BYTES + 10, 1, on_done, NULL), 0);
	T_EQ_INT(w.dropped_files, 2);
	T_EQ_INT(w.dropped_records, 5);
	T_EQ_INT(w.dropped_records_sig[SPOOL_SIG_LOGS], 5);
	T_EQ_INT(w.dropped_records_sig[SPOOL_SIG_METRICS], 0);
	T_ASSERT(exists(seq[0]) && !exists(seq[1]) && !exists(seq[2]));
	T_ASSERT(exists(seq[3]) && exists(seq[4]));
	T_EQ_INT(w.files, 3);
	T_EQ_INT(w.bytes, 3 * FILE_BYTES);

	/* A new request of 7 records needs room: the 4th goes (4 records),
	 * the claimed one stays. */
	pbuf_init(&pb);
	pbuf_put(&pb, payload, PAYLOAD);
	T_EQ_INT(spool_writer_submit(&w, SPOOL_SIG_LOGS, &pb, 7, release), 0);
	T_EQ_INT(pb.len, 0); /* moved */
	T_EQ_INT(w.dropped_files, 3);
	T_EQ_INT(w.dropped_records, 9);
	T_ASSERT(exists(seq[0]) && !exists(seq[3]) && exists(seq[4]));
	for (i = 0; i < 100 && !done_calls; i++)
		T_ASSERT(loop_run_once(&loop, 100000000ull) >= 0);
	T_EQ_INT(done_calls, 1);
	T_EQ_INT(done_records, 7);
	T_EQ_INT(w.written_records, 7);
	T_EQ_INT(w.errors, 0);

	/* Claim released: the next scan may take the oldest now. */
	close(claim);
	w.max_bytes = 2 * FILE_BYTES + 10;
	spool_writer_tick(&w, 0);
	T_EQ_INT(w.dropped_files, 4);
	T_EQ_INT(w.dropped_records, 10);
	T_ASSERT(!exists(seq[0]) && exists(seq[4]));
	T_EQ_INT(w.files, 2);

	/* One scan that must drop more than half of the files: all but the
	 * newest go (the count of the walk must not shrink with each drop). */
	for (i = 0; i < 5; i++)
		T_EQ_INT(spool_write_file(dir, SPOOL_SIG_LOGS, payload, PAYLOAD, 1, &seq[i]), 0);
	w.max_bytes = FILE_BYTES + 10;
	spool_writer_tick(&w, 0);
	T_EQ_INT(w.files, 1);
	T_EQ_INT(w.bytes, FILE_BYTES);
	T_ASSERT(exists(seq[4]) && !exists(seq[3]) && !exists(seq[0]));
	T_EQ_INT(w.dropped_files, 10);

	spool_writer_fini(&w);
	loop_fini(&loop);
	return 0;
}
