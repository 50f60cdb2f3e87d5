/* SPDX-License-Identifier: MIT */
/*
 * Spool files: naming, the 32-byte header, validation of untrusted file
 * images, and a synchronous writer and reader. shmlog-collector uses the
 * names, header and sequence numbers (it writes through io_uring itself);
 * shmlog-exporter reads every file through spool_claim_file_buf() (the
 * read of spool_read_file() under a claim, into a reused buffer); tests and
 * tools use spool_write_file(). The format is described in spool_file.h.
 *
 * Every byte read back is treated as hostile: any process that can write
 * to the spool can plant a file there, so lengths are checked against
 * the real size before anything is allocated or read.
 */
#include "spool_file.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"

#define SPOOL_HDR_SIZE sizeof(struct spool_file_hdr)
#define SPOOL_HDR_CRC_LEN offsetof(struct spool_file_hdr, sf_hdr_crc)
#define SPOOL_DIR_MODE 0750
#define SPOOL_FILE_MODE 0640

_Static_assert(offsetof(struct spool_file_hdr, sf_version) == 8, "sf_version");
_Static_assert(offsetof(struct spool_file_hdr, sf_signal) == 10, "sf_signal");
_Static_assert(offsetof(struct spool_file_hdr, sf_records) == 12, "sf_records");
_Static_assert(offsetof(struct spool_file_hdr, sf_len) == 16, "sf_len");
_Static_assert(offsetof(struct spool_file_hdr, sf_crc) == 24, "sf_crc");
_Static_assert(offsetof(struct spool_file_hdr, sf_hdr_crc) == 28, "sf_hdr_crc");

static const char *const spool_signal_names[SPOOL_SIG_NR] = {
    [SPOOL_SIG_LOGS] = "logs",
    [SPOOL_SIG_METRICS] = "metrics",
    [SPOOL_SIG_TRACES] = "traces",
};

/*
 * Last sequence number handed out by spool_write_file() in this process.
 * Keeps names increasing even if CLOCK_REALTIME steps backwards; shared
 * by all threads, hence atomic.
 */
static _Atomic uint64_t spool_last_seq;

const char *spool_signal_name(int sig)
{
	if (sig <= 0 || sig >= SPOOL_SIG_NR)
		return NULL;
	return spool_signal_names[sig];
}

/*
 * hdr is the on-disk image: little-endian fields. On the little-endian
 * hosts we run on, the conversions compile to nothing.
 */
void spool_hdr_fill(struct spool_file_hdr *hdr, enum spool_signal sig, const void *payload,
		    size_t len, uint32_t nrecords)
{
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr->sf_magic, SPOOL_MAGIC, sizeof(hdr->sf_magic));
	hdr->sf_version = htole16(SPOOL_VERSION);
	hdr->sf_signal = htole16((uint16_t)sig);
	hdr->sf_records = htole32(nrecords);
	hdr->sf_len = htole64((uint64_t)len);
	hdr->sf_crc = htole32(crc32c(0, payload, len));
	hdr->sf_hdr_crc = htole32(crc32c(0, hdr, SPOOL_HDR_CRC_LEN));
}

/*
 * Checks the header of a file whose real size is fsize, before any of
 * the payload is looked at. Fills hdr in host byte order.
 */
static int spool_hdr_check(const void *buf, uint64_t fsize, struct spool_file_hdr *hdr)
{
	struct spool_file_hdr raw;
	uint16_t sig;

	if (fsize < SPOOL_HDR_SIZE)
		return -EBADMSG;
	memcpy(&raw, buf, sizeof(raw)); /* buf may be unaligned */
	if (memcmp(raw.sf_magic, SPOOL_MAGIC, sizeof(raw.sf_magic)) != 0)
		return -EBADMSG;
	/* Nothing else in the header is trusted until its own CRC matches. */
	if (le32toh(raw.sf_hdr_crc) != crc32c(0, &raw, SPOOL_HDR_CRC_LEN))
		return -EBADMSG;
	if (le16toh(raw.sf_version) != SPOOL_VERSION)
		return -EBADMSG;
	sig = le16toh(raw.sf_signal);
	if (!spool_signal_name(sig))
		return -EBADMSG;
	if (le64toh(raw.sf_len) > SPOOL_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* Exact match: a short file is truncated, a longer one has garbage. */
	if (le64toh(raw.sf_len) != fsize - SPOOL_HDR_SIZE)
		return -EBADMSG;

	memcpy(hdr->sf_magic, raw.sf_magic, sizeof(hdr->sf_magic));
	hdr->sf_version = le16toh(raw.sf_version);
	hdr->sf_signal = sig;
	hdr->sf_records = le32toh(raw.sf_records);
	hdr->sf_len = le64toh(raw.sf_len);
	hdr->sf_crc = le32toh(raw.sf_crc);
	hdr->sf_hdr_crc = le32toh(raw.sf_hdr_crc);
	return 0;
}

int spool_file_parse(const void *buf, size_t len, struct spool_file_hdr *hdr, const void **payload,
		     size_t *plen)
{
	const unsigned char *p = buf;
	struct spool_file_hdr h;
	int ret;

	if (!buf)
		return -EBADMSG;
	ret = spool_hdr_check(buf, len, &h);
	if (ret < 0)
		return ret;
	if (crc32c(0, p + SPOOL_HDR_SIZE, (size_t)h.sf_len) != h.sf_crc)
		return -EBADMSG;
	if (hdr)
		*hdr = h;
	*payload = p + SPOOL_HDR_SIZE;
	*plen = (size_t)h.sf_len;
	return 0;
}

uint64_t spool_seq_next(uint64_t prev)
{
	struct timespec ts;
	uint64_t now = 0;

	/* CLOCK_REALTIME cannot fail with a valid clock id and pointer. */
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec >= 0)
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	/* prev == UINT64_MAX would wrap: unreachable before the year 2554. */
	return (prev > now ? prev : now) + 1;
}

static int spool_fmt(char *out, size_t outlen, const char *dir, enum spool_signal sig, uint64_t seq,
		     const char *pfx, const char *sfx)
{
	const char *name = spool_signal_name(sig);
	int n;

	if (!name)
		return -EINVAL;
	n = snprintf(out, outlen, "%s/%s/%s%020" PRIu64 "%s", dir, name, pfx, seq, sfx);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int spool_path(char *out, size_t outlen, const char *dir, enum spool_signal sig, uint64_t seq)
{
	return spool_fmt(out, outlen, dir, sig, seq, "", ".pb");
}

int spool_tmp_path(char *out, size_t outlen, const char *dir, enum spool_signal sig, uint64_t seq)
{
	return spool_fmt(out, outlen, dir, sig, seq, ".tmp-", "");
}

/* mkdir that accepts an existing directory (but not an existing file). */
static int mkdir_one(const char *path)
{
	struct stat st;

	if (mkdir(path, SPOOL_DIR_MODE) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) == -1)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* mkdir -p: the default spool, /var/tmp/shmlog/<ns>, has a missing parent. */
static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);
	char *p;
	int ret;

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (p = path + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = '\0';
		ret = mkdir_one(path);
		*p = '/';
		if (ret < 0)
			return ret;
	}
	return mkdir_one(path);
}

int spool_dirs_create(const char *dir)
{
	static const char *const subs[] = {"logs", "metrics", "traces", "quarantine", "out"};
	char path[PATH_MAX];
	size_t i;
	int ret, n;

	ret = mkdir_parents(dir);
	if (ret < 0)
		return ret;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		n = snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		ret = mkdir_one(path);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *path)
{
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (fsync(fd) == -1)
		ret = -errno;
	if (close(fd) == -1 && ret == 0)
		ret = -errno;
	return ret;
}

/*
 * Publishes tmp as the file for *seq without replacing an existing one
 * (another writer may have used the same number): on a clash, moves on
 * to the next number.
 */
static int publish(const char *tmp, const char *dir, enum spool_signal sig, uint64_t *seq)
{
	char path[PATH_MAX];
	int ret, tries;

	for (tries = 0; tries < 64; tries++) {
		ret = spool_path(path, sizeof(path), dir, sig, *seq);
		if (ret < 0)
			return ret;
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EINVAL || errno == ENOSYS) {
			/* File system without RENAME_NOREPLACE: plain rename. */
			if (rename(tmp, path) == 0)
				return 0;
			return -errno;
		}
		if (errno != EEXIST)
			return -errno;
		*seq = spool_seq_next(*seq);
	}
	return -EEXIST;
}

/* Hands out a number above every earlier one of this process. */
static uint64_t seq_take(void)
{
	uint64_t prev, next;

	prev = atomic_load_explicit(&spool_last_seq, memory_order_relaxed);
	do {
		next = spool_seq_next(prev);
		/* Relaxed is enough: only the value's uniqueness matters. */
	} while (!atomic_compare_exchange_weak_explicit(
	    &spool_last_seq, &prev, next, memory_order_relaxed, memory_order_relaxed));
	return next;
}

int spool_write_file(const char *dir, enum spool_signal sig, const void *payload, size_t len,
		     uint32_t nrecords, uint64_t *seq_out)
{
	struct spool_file_hdr hdr;
	char tmp[PATH_MAX], sigdir[PATH_MAX];
	uint64_t seq;
	int fd, ret, n;

	if (!spool_signal_name(sig) || (!payload && len))
		return -EINVAL;
	if (len > SPOOL_MAX_PAYLOAD)
		return -EMSGSIZE;
	n = snprintf(sigdir, sizeof(sigdir), "%s/%s", dir, spool_signal_name(sig));
	if (n < 0 || (size_t)n >= sizeof(sigdir))
		return -ENAMETOOLONG;
	seq = seq_take();
	ret = spool_tmp_path(tmp, sizeof(tmp), dir, sig, seq);
	if (ret < 0)
		return ret;
	spool_hdr_fill(&hdr, sig, payload, len, nrecords);

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, SPOOL_FILE_MODE);
	if (fd == -1)
		return -errno;
	ret = write_all(fd, &hdr, sizeof(hdr));
	if (ret == 0)
		ret = write_all(fd, payload, len);
	if (ret == 0 && fsync(fd) == -1)
		ret = -errno;
	if (close(fd) == -1 && ret == 0)
		ret = -errno;
	if (ret < 0)
		goto err_unlink;
	ret = publish(tmp, dir, sig, &seq);
	if (ret < 0)
		goto err_unlink;
	/* The rename is durable only once the directory itself is synced. */
	ret = fsync_dir(sigdir);
	if (ret < 0)
		return ret;
	if (seq_out)
		*seq_out = seq;
	return 0;

err_unlink:
	(void)unlink(tmp); /* best effort; a stale .tmp- file is never read */
	return ret;
}

static int read_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG; /* shrank under us: not a complete file */
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Makes b at least size bytes; its contents are not kept. */
static int buf_reserve(struct spool_buf *b, size_t size)
{
	void *p;

	if (size <= b->cap)
		return 0;
	p = malloc(size);
	if (!p)
		return -ENOMEM;
	free(b->data);
	b->data = p;
	b->cap = size;
	return 0;
}

/*
 * Reads and validates the file open on fd (see spool_read_file()): into
 * rb when it is not NULL, else into a new buffer returned in *buf.
 */
static int read_fd(int fd, struct spool_buf *rb, void **buf, struct spool_file_hdr *hdr,
		   const void **payload, size_t *plen)
{
	unsigned char head[SPOOL_HDR_SIZE];
	struct spool_file_hdr h;
	struct stat st;
	void *data = NULL;
	size_t size;
	int ret;

	if (buf)
		*buf = NULL;
	if (fstat(fd, &st) == -1)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)SPOOL_HDR_SIZE)
		return -EBADMSG;
	if ((uint64_t)st.st_size > SPOOL_MAX_PAYLOAD + SPOOL_HDR_SIZE) {
		/* Too big to load: the header alone says which error it is. */
		ret = read_full(fd, head, sizeof(head), 0);
		if (ret == 0)
			ret = spool_hdr_check(head, (uint64_t)st.st_size, &h);
		return ret == 0 ? -EBADMSG : ret; /* 0: unreachable, sf_len was bounded */
	}
	size = (size_t)st.st_size;
	if (rb) {
		ret = buf_reserve(rb, size);
		if (ret < 0)
			return ret;
		data = rb->data;
	} else {
		data = malloc(size);
		if (!data)
			return -ENOMEM;
	}
	ret = read_full(fd, data, size, 0);
	if (ret == 0)
		ret = spool_file_parse(data, size, hdr, payload, plen);
	if (ret < 0) {
		if (!rb)
			free(data);
		return ret;
	}
	if (!rb)
		*buf = data;
	return 0;
}

int spool_read_file(const char *path, void **buf, struct spool_file_hdr *hdr, const void **payload,
		    size_t *plen)
{
	int fd, ret;

	*buf = NULL;
	/* O_NONBLOCK: a FIFO planted in the spool must not hang the reader. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return -errno;
	ret = read_fd(fd, NULL, buf, hdr, payload, plen);
	(void)close(fd); /* read-only: close cannot lose data */
	return ret;
}

/* spool_claim_file() and spool_claim_file_buf(): exactly one of rb, buf. */
static int claim(const char *path, int *fd_out, struct spool_buf *rb, void **buf,
		 struct spool_file_hdr *hdr, const void **payload, size_t *plen)
{
	struct stat st;
	int fd, ret;

	if (buf)
		*buf = NULL;
	*fd_out = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out_close;
	}
	/* Opened before the collector's unlink, locked after it: gone. */
	if (fstat(fd, &st) == -1) {
		ret = -errno;
		goto out_close;
	}
	if (st.st_nlink == 0) {
		ret = -ENOENT;
		goto out_close;
	}
	ret = read_fd(fd, rb, buf, hdr, payload, plen);
	if (ret < 0)
		goto out_close;
	*fd_out = fd;
	return 0;

out_close:
	(void)close(fd); /* read-only: close cannot lose data */
	return ret;
}

int spool_claim_file(const char *path, int *fd_out, void **buf, struct spool_file_hdr *hdr,
		     const void **payload, size_t *plen)
{
	return claim(path, fd_out, NULL, buf, hdr, payload, plen);
}

int spool_claim_file_buf(const char *path, int *fd_out, struct spool_buf *b,
			 struct spool_file_hdr *hdr, const void **payload, size_t *plen)
{
	return claim(path, fd_out, b, NULL, hdr, payload, plen);
}

void spool_buf_trim(struct spool_buf *b)
{
	if (b->cap > SPOOL_BUF_KEEP)
		spool_buf_fini(b);
}

void spool_buf_fini(struct spool_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->cap = 0;
}

int spool_drop_file(int dirfd, const char *name, uint32_t *records)
{
	struct spool_file_hdr h;
	ssize_t n;
	int fd, ret = 0;

	*records = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out_close;
	}
	/* The header's count, trusted only as far as its own CRC says. */
	n = pread(fd, &h, sizeof(h), 0);
	if (n == (ssize_t)sizeof(h) && memcmp(h.sf_magic, SPOOL_MAGIC, 8) == 0 &&
	    crc32c(0, &h, SPOOL_HDR_CRC_LEN) == le32toh(h.sf_hdr_crc))
		*records = le32toh(h.sf_records);
	/* Unlinked while the lock is held, so an exporter that opened it
	 * meanwhile sees st_nlink == 0 once it gets its lock. */
	if (unlinkat(dirfd, name, 0) == -1)
		ret = -errno;
	if (ret < 0)
		*records = 0;

out_close:
	(void)close(fd); /* read-only: close cannot lose data */
	return ret;
}
