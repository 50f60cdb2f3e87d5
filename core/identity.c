/* SPDX-License-Identifier: MIT */
/*
 * Producer identity check (see identity.h). /proc/<pid>/stat gives the
 * start time (shm/proc_stat.c parses it), /proc/<pid>/status the real and
 * effective uid and gid and the supplementary groups. Files are read once
 * each, bounded; a line that does not parse counts as a mismatch, never
 * as a pass.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_stat.h"

#define STATUS_MAX 16384
#define MAX_GROUPS 256

struct proc_ids {
	uint32_t ruid, euid, egid;
	uint32_t groups[MAX_GROUPS];
	int ngroups;
};

/* The value of "Key:" at the start of a line of buf, or NULL. */
static const char *status_field(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return p + klen + 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* Up to max unsigned decimal numbers separated by blanks, until the end
 * of the line; how many, or -1 if something else is there. */
static int parse_ids(const char *p, uint32_t *out, int max)
{
	int n = 0;

	for (;;) {
		unsigned long v;
		char *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0')
			return n;
		if (*p < '0' || *p > '9' || n == max)
			return -1;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v > UINT32_MAX)
			return -1;
		out[n++] = (uint32_t)v;
		p = end;
	}
}

static int read_ids(const char *path, struct proc_ids *ids)
{
	static char buf[STATUS_MAX];
	uint32_t v[4];
	const char *f;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ESRCH ? -ENOENT : -errno;
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len == 0)
		return -ENOENT;
	f = status_field(buf, "Uid");
	if (!f || parse_ids(f, v, 4) != 4)
		return -EPROTO;
	ids->ruid = v[0];
	ids->euid = v[1];
	f = status_field(buf, "Gid");
	if (!f || parse_ids(f, v, 4) != 4)
		return -EPROTO;
	ids->egid = v[1];
	f = status_field(buf, "Groups");
	ids->ngroups = f ? parse_ids(f, ids->groups, MAX_GROUPS) : 0;
	if (ids->ngroups < 0)
		return -EPROTO;
	return 0;
}

/* May a process with these ids open a file of seg's owner and mode for
 * reading and writing (as shm_open(O_RDWR) does)? */
static int may_open(const struct proc_ids *ids, const struct identity_seg *seg)
{
	if (ids->euid == 0 || ids->euid == seg->uid)
		return ids->euid == 0 || (seg->mode & 0600) == 0600;
	if ((seg->mode & 0060) == 0060) {
		if (ids->egid == seg->gid)
			return 1;
		for (int i = 0; i < ids->ngroups; i++)
			if (ids->groups[i] == seg->gid)
				return 1;
	}
	return (seg->mode & 0006) == 0006;
}

int identity_check(const char *proc_root, const struct identity_claim *claim,
		   const struct identity_seg *seg, char *reason, size_t reasonlen)
{
	char path[4200], state;
	struct proc_ids ids = { 0 };
	uint64_t start;
	int ret;

	if (claim->pid == 0) {
		snprintf(reason, reasonlen, "pid 0");
		return IDENTITY_FORGED;
	}
	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, claim->pid);
	ret = proc_stat_read(path, &state, &start);
	if (ret == -ENOENT) {
		snprintf(reason, reasonlen, "pid %u is not visible in %s", claim->pid, proc_root);
		return IDENTITY_UNSEEN;
	}
	if (ret) {
		snprintf(reason, reasonlen, "pid %u: %s unreadable (%s)", claim->pid, path,
			 strerror(-ret));
		return ret == -EPROTO ? IDENTITY_FORGED : IDENTITY_UNSEEN;
	}
	if (start != claim->start_ticks) {
		snprintf(reason, reasonlen,
			 "pid %u started at tick %llu, not at the claimed %llu", claim->pid,
			 (unsigned long long)start, (unsigned long long)claim->start_ticks);
		return IDENTITY_FORGED;
	}
	snprintf(path, sizeof(path), "%s/%u/status", proc_root, claim->pid);
	ret = read_ids(path, &ids);
	if (ret == -ENOENT) {
		snprintf(reason, reasonlen, "pid %u exited while checked", claim->pid);
		return IDENTITY_UNSEEN;
	}
	if (ret) {
		snprintf(reason, reasonlen, "pid %u: %s unreadable (%s)", claim->pid, path,
			 strerror(-ret));
		return IDENTITY_FORGED;
	}
	if (ids.ruid != claim->uid) {
		snprintf(reason, reasonlen, "pid %u runs as uid %u, not the claimed %u",
			 claim->pid, ids.ruid, claim->uid);
		return IDENTITY_FORGED;
	}
	if (!may_open(&ids, seg)) {
		snprintf(reason, reasonlen,
			 "pid %u (uid %u) may not open the segment (owner %u, group %u, mode %04o)",
			 claim->pid, ids.euid, seg->uid, seg->gid, seg->mode & 07777);
		return IDENTITY_FORGED;
	}
	return IDENTITY_OK;
}
