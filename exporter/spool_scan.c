/* SPDX-License-Identifier: MIT */
/*
 * Listing, watching and quarantining spool files for the exporter. The
 * collector makes a file visible with rename(), so any "<seq>.pb" listed
 * here is complete; it may still vanish before it is read (the spool
 * budget drops the oldest files), which readers handle as -ENOENT. The
 * same rename is the IN_MOVED_TO event the watch waits for.
 */
#include "spool_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_file.h"

static int entry_cmp(const void *a, const void *b)
{
	const struct spool_scan_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int is_request_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 3 && len < SPOOL_SCAN_NAME_MAX &&
	       strcmp(name + len - 3, ".pb") == 0;
}

void spool_scan_free(struct spool_scan_list *l)
{
	free(l->ent);
	memset(l, 0, sizeof(*l));
}

static int push(struct spool_scan_list *l, const char *name, uint64_t size)
{
	struct spool_scan_entry *ent;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		ent = realloc(l->ent, cap * sizeof(*ent));
		if (!ent)
			return -ENOMEM;
		l->ent = ent;
		l->cap = cap;
	}
	snprintf(l->ent[l->n].name, sizeof(l->ent[l->n].name), "%s", name);
	l->ent[l->n].size = size;
	l->n++;
	l->bytes += size;
	return 0;
}

int spool_scan_list(const char *spool_dir, int sig, struct spool_scan_list *l)
{
	const char *sname = spool_signal_name(sig);
	char dir[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n, ret = 0;

	l->n = 0;
	l->bytes = 0;
	if (!sname)
		return -EINVAL;
	n = snprintf(dir, sizeof(dir), "%s/%s", spool_dir, sname);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				ret = -errno;
			break;
		}
		if (!is_request_name(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue; /* gone since readdir: delivered or dropped */
		if (!S_ISREG(st.st_mode))
			continue;
		ret = push(l, de->d_name, (uint64_t)st.st_size);
		if (ret < 0)
			break;
	}
	closedir(d);
	if (ret < 0) {
		l->n = 0;
		l->bytes = 0;
		return ret;
	}
	if (l->n > 1)
		qsort(l->ent, l->n, sizeof(*l->ent), entry_cmp);
	return (int)l->n;
}

int spool_scan_path(char *out, size_t outlen, const char *spool_dir, int sig, const char *name)
{
	const char *sname = spool_signal_name(sig);
	int n;

	if (!sname)
		return -EINVAL;
	n = snprintf(out, outlen, "%s/%s/%s", spool_dir, sname, name);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int spool_scan_quarantine(const char *spool_dir, int sig, const char *name)
{
	char from[PATH_MAX], to[PATH_MAX];
	int n, ret;

	ret = spool_scan_path(from, sizeof(from), spool_dir, sig, name);
	if (ret < 0)
		return ret;
	n = snprintf(to, sizeof(to), "%s/quarantine", spool_dir);
	if (n < 0 || (size_t)n >= sizeof(to))
		return -ENAMETOOLONG;
	if (mkdir(to, 0750) == -1 && errno != EEXIST)
		return -errno;
	n = snprintf(to, sizeof(to), "%s/quarantine/%s-%s", spool_dir, spool_signal_name(sig),
		     name);
	if (n < 0 || (size_t)n >= sizeof(to))
		return -ENAMETOOLONG;
	if (rename(from, to) == -1)
		return -errno;
	return 0;
}

int spool_scan_watch_open(const char *spool_dir, const int *sigs, unsigned nsigs)
{
	char dir[PATH_MAX];
	unsigned i;
	int fd, n, ret;

	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd == -1)
		return -errno;
	for (i = 0; i < nsigs; i++) {
		const char *sname = spool_signal_name(sigs[i]);

		if (!sname) {
			ret = -EINVAL;
			goto err_close;
		}
		n = snprintf(dir, sizeof(dir), "%s/%s", spool_dir, sname);
		if (n < 0 || (size_t)n >= sizeof(dir)) {
			ret = -ENAMETOOLONG;
			goto err_close;
		}
		/* IN_MOVED_TO: the collector's rename of a complete file.
		 * IN_ONLYDIR: a planted symlink or file is not watched. */
		if (inotify_add_watch(fd, dir, IN_MOVED_TO | IN_ONLYDIR) == -1) {
			ret = -errno;
			goto err_close;
		}
	}
	return fd;

err_close:
	(void)close(fd); /* nothing written through it */
	return ret;
}

int spool_scan_watch_drain(int fd)
{
	/* Aligned as inotify(7) asks; the events themselves are not read,
	 * only that there were some. */
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	int any = 0;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			any = 1;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return any;
		/* 0 cannot happen with a large enough buffer; treat as none. */
		return n == 0 ? any : -errno;
	}
}
