/* SPDX-License-Identifier: MIT */
/*
 * Unit test of core/common/spool_file.c: names, sequence numbers, the
 * directory tree, the write/read round trip, and hostile files (truncated,
 * flipped bytes, lying length fields, wrong magic, short, FIFOs). Every
 * corrupt image must give -EBADMSG (or -EMSGSIZE for a valid header that
 * announces too much) and never crash; run it under ASan to prove the
 * second half. Also the claim protocol between the exporter
 * (spool_claim_file) and the collector's budget (spool_drop_file): a
 * claimed file is never deleted, a deleted one is never claimed. Works in
 * a mkdtemp directory that it removes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "spool_file.h"
#include "test_help.h"

/* snprintf that fails the test instead of truncating. */
static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	T_ASSERT(n >= 0 && (size_t)n < len);
}

static char tmpdir[PATH_MAX];
static char spool[PATH_MAX];

static void rm_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			xsnprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			rm_tree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

static void cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void write_blob(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	T_ASSERT(fd >= 0);
	T_EQ_INT(write(fd, buf, len), (long long)len);
	T_EQ_INT(close(fd), 0);
}

/* A valid file image: header + payload of n bytes. */
static unsigned char *make_image(size_t n, size_t *len)
{
	struct spool_file_hdr hdr;
	unsigned char *img = malloc(sizeof(hdr) + n + 1);
	size_t i;

	T_ASSERT(img);
	for (i = 0; i < n; i++)
		img[sizeof(hdr) + i] = (unsigned char)(i * 7 + 3);
	spool_hdr_fill(&hdr, SPOOL_SIG_LOGS, img + sizeof(hdr), n, 42);
	memcpy(img, &hdr, sizeof(hdr));
	*len = sizeof(hdr) + n;
	return img;
}

/* Rewrites the header CRC so that only the field we changed is wrong. */
static void reseal(unsigned char *img)
{
	uint32_t crc = crc32c(0, img, offsetof(struct spool_file_hdr, sf_hdr_crc));

	memcpy(img + offsetof(struct spool_file_hdr, sf_hdr_crc), &crc, 4);
}

static int parse(const void *img, size_t len)
{
	const void *payload = NULL;
	struct spool_file_hdr hdr;
	size_t plen = 0;

	return spool_file_parse(img, len, &hdr, &payload, &plen);
}

static int read_back(const char *path)
{
	struct spool_file_hdr hdr;
	const void *payload;
	void *buf = (void *)1;
	size_t plen;
	int ret;

	ret = spool_read_file(path, &buf, &hdr, &payload, &plen);
	if (ret < 0)
		T_ASSERT(buf == NULL);
	free(buf);
	return ret;
}

static void test_names(void)
{
	char out[PATH_MAX];

	T_EQ_STR(spool_signal_name(SPOOL_SIG_LOGS), "logs");
	T_EQ_STR(spool_signal_name(SPOOL_SIG_METRICS), "metrics");
	T_EQ_STR(spool_signal_name(SPOOL_SIG_TRACES), "traces");
	T_ASSERT(spool_signal_name(0) == NULL);
	T_ASSERT(spool_signal_name(SPOOL_SIG_NR) == NULL);
	T_ASSERT(spool_signal_name(-1) == NULL);

	T_EQ_INT(spool_path(out, sizeof(out), "/s", SPOOL_SIG_LOGS, 42), 0);
	T_EQ_STR(out, "/s/logs/00000000000000000042.pb");
	T_EQ_INT(spool_tmp_path(out, sizeof(out), "/s", SPOOL_SIG_METRICS, UINT64_MAX), 0);
	T_EQ_STR(out, "/s/metrics/.tmp-18446744073709551615");
	T_EQ_INT(spool_path(out, 31, "/s", SPOOL_SIG_LOGS, 1), -ENAMETOOLONG);
	T_EQ_INT(spool_path(out, 32, "/s", SPOOL_SIG_LOGS, 1), 0);
	T_EQ_INT(spool_path(out, sizeof(out), "/s", (enum spool_signal)9, 1), -EINVAL);
}

static void test_seq(void)
{
	struct timespec ts;
	uint64_t now, prev = 0, s;
	int i;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	for (i = 0; i < 10000; i++) {
		s = spool_seq_next(prev);
		T_ASSERT(s > prev);
		T_ASSERT(s > now);
		prev = s;
	}
	/* A spool left by a clock that ran ahead: still strictly increasing. */
	T_EQ_INT(spool_seq_next(UINT64_MAX / 2), UINT64_MAX / 2 + 1);
}

static void test_dirs(void)
{
	static const char *const subs[] = {"logs", "metrics", "traces", "quarantine", "out"};
	char path[PATH_MAX];
	size_t i;

	T_EQ_INT(spool_dirs_create(spool), 0);
	for (i = 0; i < 5; i++) {
		xsnprintf(path, sizeof(path), "%s/%s", spool, subs[i]);
		T_ASSERT(is_dir(path));
	}
	T_EQ_INT(spool_dirs_create(spool), 0); /* idempotent */

	xsnprintf(path, sizeof(path), "%s/afile", tmpdir);
	write_blob(path, "x", 1);
	T_EQ_INT(spool_dirs_create(path), -ENOTDIR);
}

static void test_round_trip(void)
{
	char path[PATH_MAX], payload[1000];
	struct spool_file_hdr hdr;
	uint64_t seq = 0, prev = 0;
	const void *p;
	void *buf;
	size_t plen;
	int i;

	for (i = 0; i < (int)sizeof(payload); i++)
		payload[i] = (char)(i * 31);
	for (i = 0; i < 20; i++) {
		T_EQ_INT(spool_write_file(spool, SPOOL_SIG_METRICS, payload, (size_t)i * 50,
					  (uint32_t)i, &seq),
			 0);
		T_ASSERT(seq > prev); /* monotonic across writes */
		prev = seq;
		T_EQ_INT(spool_path(path, sizeof(path), spool, SPOOL_SIG_METRICS, seq), 0);
		T_EQ_INT(spool_read_file(path, &buf, &hdr, &p, &plen), 0);
		T_EQ_INT(plen, i * 50);
		T_ASSERT(memcmp(p, payload, plen) == 0);
		T_EQ_INT(hdr.sf_signal, SPOOL_SIG_METRICS);
		T_EQ_INT(hdr.sf_records, i);
		T_EQ_INT(hdr.sf_version, SPOOL_VERSION);
		T_EQ_INT(hdr.sf_len, i * 50);
		T_ASSERT(memcmp(hdr.sf_magic, SPOOL_MAGIC, 8) == 0);
		free(buf);
	}
	/* No .tmp- file is left behind. */
	T_EQ_INT(spool_tmp_path(path, sizeof(path), spool, SPOOL_SIG_METRICS, seq), 0);
	T_EQ_INT(access(path, F_OK), -1);

	T_EQ_INT(spool_write_file(spool, SPOOL_SIG_LOGS, payload, SPOOL_MAX_PAYLOAD + 1u, 1, &seq),
		 -EMSGSIZE);
	T_EQ_INT(spool_write_file(spool, (enum spool_signal)0, payload, 1, 1, &seq), -EINVAL);
	xsnprintf(path, sizeof(path), "%s/missing", tmpdir);
	T_EQ_INT(spool_write_file(path, SPOOL_SIG_LOGS, payload, 1, 1, &seq), -ENOENT);
}

static void test_parse_good(void)
{
	struct spool_file_hdr hdr;
	unsigned char *img;
	const void *p;
	size_t len, plen;

	img = make_image(100, &len);
	T_EQ_INT(spool_file_parse(img, len, &hdr, &p, &plen), 0);
	T_EQ_INT(plen, 100);
	T_ASSERT(p == img + 32);
	T_EQ_INT(hdr.sf_records, 42);
	/* Unaligned buffer. */
	memmove(img + 1, img, len);
	T_EQ_INT(spool_file_parse(img + 1, len, &hdr, &p, &plen), 0);
	free(img);
}

static void test_truncated_and_short(void)
{
	unsigned char *img;
	size_t len, n;

	img = make_image(64, &len);
	for (n = 0; n < len; n++)
		T_EQ_INT(parse(img, n), -EBADMSG);
	T_EQ_INT(parse(NULL, 0), -EBADMSG);
	/* Trailing garbage is as bad as a missing tail. */
	img[len] = 0;
	T_EQ_INT(parse(img, len + 1), -EBADMSG);
	free(img);
}

static void test_flipped_bytes(void)
{
	unsigned char *img;
	size_t len, i;
	int bit;

	img = make_image(64, &len);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			img[i] ^= (unsigned char)(1u << bit);
			T_EQ_INT(parse(img, len), -EBADMSG);
			img[i] ^= (unsigned char)(1u << bit);
		}
	}
	T_EQ_INT(parse(img, len), 0);
	free(img);
}

static void test_lying_header(void)
{
	unsigned char *img;
	uint64_t big;
	uint16_t v;
	size_t len;

	img = make_image(64, &len);

	/* Wrong magic, even with a matching header CRC. */
	img[0] = 'X';
	reseal(img);
	T_EQ_INT(parse(img, len), -EBADMSG);
	free(img);

	/* Length field larger than the file. */
	img = make_image(64, &len);
	big = 65;
	memcpy(img + 16, &big, 8);
	reseal(img);
	T_EQ_INT(parse(img, len), -EBADMSG);
	big = UINT64_MAX;
	memcpy(img + 16, &big, 8);
	reseal(img);
	T_EQ_INT(parse(img, len), -EMSGSIZE);
	big = SPOOL_MAX_PAYLOAD + 1ull;
	memcpy(img + 16, &big, 8);
	reseal(img);
	T_EQ_INT(parse(img, len), -EMSGSIZE);
	big = 63;
	memcpy(img + 16, &big, 8);
	reseal(img);
	T_EQ_INT(parse(img, len), -EBADMSG);
	free(img);

	/* Version and signal out of range. */
	img = make_image(8, &len);
	v = 2;
	memcpy(img + 8, &v, 2);
	reseal(img);
	T_EQ_INT(parse(img, len), -EBADMSG);
	free(img);
	img = make_image(8, &len);
	v = 0;
	memcpy(img + 10, &v, 2);
	reseal(img);
	T_EQ_INT(parse(img, len), -EBADMSG);
	v = SPOOL_SIG_NR;
	memcpy(img + 10, &v, 2);
	reseal(img);
	T_EQ_INT(parse(img, len), -EBADMSG);
	free(img);
}

/* The same attacks through spool_read_file(), on real files. */
static void test_read_hostile_files(void)
{
	char path[PATH_MAX];
	unsigned char *img;
	uint64_t big;
	size_t len;
	int fd;

	xsnprintf(path, sizeof(path), "%s/logs/00000000000000000001.pb", spool);
	img = make_image(200, &len);
	write_blob(path, img, len);
	T_EQ_INT(read_back(path), 0);

	write_blob(path, img, len - 1); /* truncated */
	T_EQ_INT(read_back(path), -EBADMSG);
	write_blob(path, img, 10); /* short */
	T_EQ_INT(read_back(path), -EBADMSG);
	write_blob(path, img, 0); /* empty */
	T_EQ_INT(read_back(path), -EBADMSG);

	img[100] ^= 0x40; /* payload byte */
	write_blob(path, img, len);
	T_EQ_INT(read_back(path), -EBADMSG);
	img[100] ^= 0x40;
	img[20] ^= 0x01; /* header byte */
	write_blob(path, img, len);
	T_EQ_INT(read_back(path), -EBADMSG);
	img[20] ^= 0x01;
	img[3] = 'Z'; /* magic */
	write_blob(path, img, len);
	T_EQ_INT(read_back(path), -EBADMSG);
	free(img);

	/* A sparse file over the cap: judged from its header alone. */
	img = make_image(16, &len);
	write_blob(path, img, len);
	T_EQ_INT(truncate(path, (off_t)SPOOL_MAX_PAYLOAD + 4096), 0);
	T_EQ_INT(read_back(path), -EBADMSG);
	big = SPOOL_MAX_PAYLOAD + 4096ull - 32;
	memcpy(img + 16, &big, 8);
	reseal(img);
	write_blob(path, img, 32);
	T_EQ_INT(truncate(path, (off_t)SPOOL_MAX_PAYLOAD + 4096), 0);
	T_EQ_INT(read_back(path), -EMSGSIZE);
	free(img);

	/* Not regular files: a FIFO must not block, a directory must not pass. */
	xsnprintf(path, sizeof(path), "%s/logs/00000000000000000002.pb", spool);
	T_EQ_INT(mkfifo(path, 0600), 0);
	T_EQ_INT(read_back(path), -EBADMSG);
	xsnprintf(path, sizeof(path), "%s/logs", spool);
	T_ASSERT(read_back(path) < 0);
	xsnprintf(path, sizeof(path), "%s/logs/00000000000000000003.pb", spool);
	T_EQ_INT(read_back(path), -ENOENT);
	fd = symlink("/etc/passwd", path);
	T_EQ_INT(fd, 0);
	T_ASSERT(read_back(path) < 0);
}

static void test_claim_and_drop(void)
{
	char path[PATH_MAX], dirpath[PATH_MAX], payload[300];
	struct spool_file_hdr hdr;
	const void *p;
	uint32_t recs = 99;
	uint64_t seq = 0;
	void *buf;
	size_t plen;
	int dfd, fd, fd2, early;

	memset(payload, 'x', sizeof(payload));
	xsnprintf(dirpath, sizeof(dirpath), "%s/logs", spool);
	dfd = open(dirpath, O_RDONLY | O_DIRECTORY);
	T_ASSERT(dfd >= 0);
	T_EQ_INT(spool_write_file(spool, SPOOL_SIG_LOGS, payload, sizeof(payload), 7, &seq), 0);
	T_EQ_INT(spool_path(path, sizeof(path), spool, SPOOL_SIG_LOGS, seq), 0);

	/* Claimed by the exporter: the budget must leave it and count nothing. */
	T_EQ_INT(spool_claim_file(path, &fd, &buf, &hdr, &p, &plen), 0);
	T_ASSERT(fd >= 0);
	T_EQ_INT(plen, sizeof(payload));
	T_EQ_INT(hdr.sf_records, 7);
	free(buf);
	T_EQ_INT(spool_drop_file(dfd, strrchr(path, '/') + 1, &recs), -EBUSY);
	T_EQ_INT(recs, 0);
	T_EQ_INT(access(path, F_OK), 0);
	/* Two claims (a restarted exporter next to a dying one) coexist. */
	T_EQ_INT(spool_claim_file(path, &fd2, &buf, &hdr, &p, &plen), 0);
	free(buf);
	close(fd2);
	close(fd);

	/* Unclaimed: deleted, its records reported once. */
	early = open(path, O_RDONLY); /* an exporter that opened it just before */
	T_ASSERT(early >= 0);
	T_EQ_INT(spool_drop_file(dfd, strrchr(path, '/') + 1, &recs), 0);
	T_EQ_INT(recs, 7);
	T_EQ_INT(access(path, F_OK), -1);
	T_EQ_INT(spool_claim_file(path, &fd, &buf, &hdr, &p, &plen), -ENOENT);
	T_EQ_INT(fd, -1);
	T_ASSERT(buf == NULL);
	T_EQ_INT(spool_drop_file(dfd, strrchr(path, '/') + 1, &recs), -ENOENT);
	T_EQ_INT(recs, 0);
	close(early);

	/* A file whose header lies is still deleted, but counts 0 records. */
	T_EQ_INT(spool_write_file(spool, SPOOL_SIG_LOGS, payload, sizeof(payload), 5, &seq), 0);
	T_EQ_INT(spool_path(path, sizeof(path), spool, SPOOL_SIG_LOGS, seq), 0);
	fd = open(path, O_WRONLY);
	T_ASSERT(fd >= 0);
	T_EQ_INT(pwrite(fd, "\xff", 1, 12), 1); /* sf_records, header CRC now wrong */
	close(fd);
	T_EQ_INT(spool_drop_file(dfd, strrchr(path, '/') + 1, &recs), 0);
	T_EQ_INT(recs, 0);
	close(dfd);
}

int main(void)
{
	xsnprintf(tmpdir, sizeof(tmpdir), "%s/test_spool_file.XXXXXX",
		  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return T_SKIP;
	}
	atexit(cleanup);
	xsnprintf(spool, sizeof(spool), "%s/a/b/spool", tmpdir);

	T_RUN(test_names);
	T_RUN(test_seq);
	T_RUN(test_dirs);
	T_RUN(test_round_trip);
	T_RUN(test_parse_good);
	T_RUN(test_truncated_and_short);
	T_RUN(test_flipped_bytes);
	T_RUN(test_lying_header);
	T_RUN(test_read_hostile_files);
	T_RUN(test_claim_and_drop);
	return 0;
}
