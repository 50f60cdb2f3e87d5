/* SPDX-License-Identifier: MIT */
/*
 * Appending OTLP/JSON lines to <spool>/out. The line and its newline go
 * out in one writev() on an O_APPEND descriptor, so two writers (the
 * daemon and a --test run) never interleave inside a line; fsync() makes
 * the line durable before the spool file that held it is deleted.
 */
#include "file_out.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "spool_file.h"

int file_out_path(char *out, size_t outlen, const char *spool_dir, int sig)
{
	const char *name = spool_signal_name(sig);
	int n;

	if (!name)
		return -EINVAL;
	n = snprintf(out, outlen, "%s/out/%s.jsonl", spool_dir, name);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static int writev_all(int fd, struct iovec *iov, int cnt)
{
	ssize_t n;

	while (cnt) {
		n = writev(fd, iov, cnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int file_out_append(const char *spool_dir, int sig, const char *json, size_t len)
{
	char path[PATH_MAX];
	struct iovec iov[2];
	int fd, ret;

	ret = snprintf(path, sizeof(path), "%s/out", spool_dir);
	if (ret < 0 || (size_t)ret >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return -errno;
	ret = file_out_path(path, sizeof(path), spool_dir, sig);
	if (ret < 0)
		return ret;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -errno;
	iov[0].iov_base = (void *)(uintptr_t)json; /* writev does not write to it */
	iov[0].iov_len = len;
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	ret = writev_all(fd, iov, 2);
	if (ret == 0 && fsync(fd) == -1)
		ret = -errno;
	if (close(fd) == -1 && ret == 0)
		ret = -errno;
	return ret;
}
