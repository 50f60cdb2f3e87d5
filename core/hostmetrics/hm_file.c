/* SPDX-License-Identifier: MIT */
/*
 * Small-file readers for cgroup and procfs files (hostmetrics_int.h).
 * Everything read here is untrusted: a file may be missing, empty,
 * truncated, full of garbage or hold numbers past 64 bits; each reader
 * then returns -errno and the caller skips that series. The files are a
 * few hundred bytes and live in memory-backed filesystems, so plain
 * blocking reads on the collector thread cost microseconds.
 * Next: cgroup.c, procstat.c.
 */
#include "hostmetrics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Enough for memory.stat (v1 with total_* lines, v2) and /proc/meminfo. */
#define HM_FILE_KEY_MAX 16384

int hm_file_read(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd, ret;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			close(fd);
			return ret;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return (int)got;
}

int hm_file_parse_u64(const char *s, const char **end, uint64_t *out)
{
	unsigned long long v;
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	/* strtoull would accept "-1" as ULLONG_MAX and skip other blanks. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*out = (uint64_t)v;
	if (end)
		*end = e;
	return 0;
}

int hm_file_u64(const char *path, uint64_t *out)
{
	const char *end;
	char buf[64];
	int ret;

	ret = hm_file_read(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ret = hm_file_parse_u64(buf, &end, out);
	if (ret < 0)
		return ret;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	return *end ? -EINVAL : 0;
}

int hm_file_key_u64(const char *path, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p, *end;
	char *buf;
	int ret;

	buf = malloc(HM_FILE_KEY_MAX);
	if (!buf)
		return -ENOMEM;
	ret = hm_file_read(path, buf, HM_FILE_KEY_MAX);
	if (ret < 0)
		goto out;
	ret = -ENOENT;
	for (p = buf; *p; p = end) {
		end = strchr(p, '\n');
		end = end ? end + 1 : p + strlen(p);
		if (strncmp(p, key, klen))
			continue;
		if (p[klen] == ':')
			p++;
		if (p[klen] != ' ' && p[klen] != '\t')
			continue;
		ret = hm_file_parse_u64(p + klen, NULL, out);
		break;
	}
out:
	free(buf);
	return ret;
}

int hm_file_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
