/* SPDX-License-Identifier: MIT */
/*
 * Finds the container's cgroup and reads its CPU and memory usage and
 * limits (hostmetrics_int.h), for cgroup v2 and for v1 hosts.
 *
 * <proc_root>/self/cgroup has lines "hierarchy-id:controllers:path".
 *  - v2: a "0::/path" line and <cgroup_root>/cgroup.controllers present:
 *    one directory <cgroup_root>/<path> holds cpu.stat (usage_usec),
 *    cpu.max ("max 100000" or "<quota> <period>"), memory.current,
 *    memory.max ("max") and memory.stat.
 *  - v1 (otherwise): each controller has its own line and mount:
 *    cpuacct -> cpuacct.usage (ns); cpu -> cpu.cfs_quota_us (-1: none) and
 *    cpu.cfs_period_us; memory -> memory.usage_in_bytes,
 *    memory.limit_in_bytes (>= 2^62, e.g. 9223372036854771712: no limit)
 *    and memory.stat. The mount is <cgroup_root>/<controller>, else
 *    <cgroup_root>/<the line's controller list> ("cpu,cpuacct").
 * A container that sees its own cgroup as its root (a cgroup namespace,
 * or a bind mount of only its own subtree) shows a path that does not
 * exist below cgroup_root: the mount root itself is then used.
 * Working-set memory (usage minus inactive_file) takes inactive_file
 * from memory.stat: v2 "inactive_file" (hierarchical already), v1
 * "total_inactive_file" (hierarchical), else v1 "inactive_file".
 * Next: procstat.c.
 */
#include "hostmetrics_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits at or above this mean "unlimited" (v1 reports PAGE_COUNTER_MAX
 * pages in bytes, 0x7ffffffffffff000 on 4 KiB pages; no machine has 4 EiB). */
#define CGROUP_NO_LIMIT (1ull << 62)

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A path from the cgroup file must be absolute and must not climb out. */
static int path_ok(const char *path)
{
	const char *p;

	if (path[0] != '/')
		return 0;
	for (p = path; (p = strstr(p, "..")) != NULL; p += 2) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return 0;
	}
	return 1;
}

/* Picks <root>/<mount>/<path>, else <root>/<mount>, trying each mount
 * name in turn (mount2 may be NULL). 0 or -ENOENT. */
static int resolve_dir(char *out, const char *root, const char *mount1, const char *mount2,
		       const char *path)
{
	const char *mounts[2] = {mount1, mount2};
	int pass, i;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 2; i++) {
			if (!mounts[i])
				continue;
			if (hm_file_path(out, PATH_MAX, "%s%s%s%s", root, *mounts[i] ? "/" : "",
					 mounts[i], pass ? "" : path) < 0)
				continue;
			if (is_dir(out))
				return 0;
		}
	}
	out[0] = '\0';
	return -ENOENT;
}

/* Records the directories of the v1 controllers named in one line. */
static void v1_line(struct cgroup *cg, const char *root, const char *ctrls, const char *path)
{
	char name[64];
	const char *p = ctrls, *comma;
	size_t n;

	while (*p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			if (!strcmp(name, "cpuacct"))
				resolve_dir(cg->cg_acct_dir, root, name, ctrls, path);
			else if (!strcmp(name, "cpu"))
				resolve_dir(cg->cg_quota_dir, root, name, ctrls, path);
			else if (!strcmp(name, "memory"))
				resolve_dir(cg->cg_mem_dir, root, name, ctrls, path);
		}
		p += n + (comma ? 1 : 0);
	}
}

int cgroup_init(struct cgroup *cg, const char *proc_root, const char *cgroup_root)
{
	char file[PATH_MAX], buf[8192], *line, *next, *c1, *c2;
	int v2 = 0, ret;

	memset(cg, 0, sizeof(*cg));
	if (hm_file_path(file, sizeof(file), "%s/self/cgroup", proc_root) < 0)
		return -ENOENT;
	ret = hm_file_read(file, buf, sizeof(buf));
	if (ret <= 0)
		return -ENOENT;
	if (hm_file_path(file, sizeof(file), "%s/cgroup.controllers", cgroup_root) == 0 &&
	    access(file, F_OK) == 0)
		v2 = 1;

	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		if (!path_ok(c2 + 1))
			continue;
		if (v2) {
			if (strcmp(line, "0") || c1[1] != '\0')
				continue;
			if (resolve_dir(cg->cg_acct_dir, cgroup_root, "", NULL, c2 + 1) < 0)
				continue;
			strcpy(cg->cg_quota_dir, cg->cg_acct_dir);
			strcpy(cg->cg_mem_dir, cg->cg_acct_dir);
			cg->cg_version = CGROUP_V2;
			return 0;
		}
		if (c1[1] != '\0')
			v1_line(cg, cgroup_root, c1 + 1, c2 + 1);
	}
	if (!v2 && (cg->cg_acct_dir[0] || cg->cg_quota_dir[0] || cg->cg_mem_dir[0])) {
		cg->cg_version = CGROUP_V1;
		return 0;
	}
	memset(cg, 0, sizeof(*cg));
	return -ENOENT;
}

/* <dir>/<name>, or -ENOENT when the controller was not found. */
static int file_in(char *out, const char *dir, const char *name)
{
	if (!dir[0])
		return -ENOENT;
	return hm_file_path(out, PATH_MAX, "%s/%s", dir, name);
}

int cgroup_cpu_usage_ns(const struct cgroup *cg, uint64_t *ns)
{
	char file[PATH_MAX];
	uint64_t us;
	int ret;

	if (cg->cg_version == CGROUP_V1) {
		ret = file_in(file, cg->cg_acct_dir, "cpuacct.usage");
		return ret < 0 ? ret : hm_file_u64(file, ns);
	}
	ret = file_in(file, cg->cg_acct_dir, "cpu.stat");
	if (ret < 0)
		return ret;
	ret = hm_file_key_u64(file, "usage_usec", &us);
	if (ret < 0)
		return ret;
	if (us > UINT64_MAX / 1000)
		return -ERANGE;
	*ns = us * 1000;
	return 0;
}

/* Parses "<quota> <period>" (v2 cpu.max); "max" as quota: no limit. */
static int parse_cpu_max(const char *s, double *cpus)
{
	uint64_t quota, period;
	const char *end;

	while (*s == ' ')
		s++;
	if (!strncmp(s, "max", 3))
		return -ENOENT;
	if (hm_file_parse_u64(s, &end, &quota) < 0 ||
	    hm_file_parse_u64(end, NULL, &period) < 0 || !quota || !period)
		return -EINVAL;
	*cpus = (double)quota / (double)period;
	return 0;
}

int cgroup_cpu_limit(const struct cgroup *cg, double *cpus)
{
	char file[PATH_MAX], buf[64];
	uint64_t quota, period;
	int ret;

	if (cg->cg_version == CGROUP_V2) {
		ret = file_in(file, cg->cg_quota_dir, "cpu.max");
		if (ret < 0)
			return ret;
		ret = hm_file_read(file, buf, sizeof(buf));
		return ret < 0 ? ret : parse_cpu_max(buf, cpus);
	}
	ret = file_in(file, cg->cg_quota_dir, "cpu.cfs_quota_us");
	if (ret < 0)
		return ret;
	ret = hm_file_read(file, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	if (buf[0] == '-')
		return -ENOENT; /* -1: no quota */
	ret = hm_file_u64(file, &quota);
	if (ret < 0)
		return ret;
	ret = file_in(file, cg->cg_quota_dir, "cpu.cfs_period_us");
	if (ret < 0)
		return ret;
	ret = hm_file_u64(file, &period);
	if (ret < 0)
		return ret;
	if (!quota || !period)
		return -EINVAL;
	*cpus = (double)quota / (double)period;
	return 0;
}

int cgroup_mem_usage(const struct cgroup *cg, uint64_t *bytes)
{
	char file[PATH_MAX];
	int ret;

	ret = file_in(file, cg->cg_mem_dir,
		      cg->cg_version == CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes");
	return ret < 0 ? ret : hm_file_u64(file, bytes);
}

int cgroup_mem_inactive_file(const struct cgroup *cg, uint64_t *bytes)
{
	char file[PATH_MAX];
	int ret;

	ret = file_in(file, cg->cg_mem_dir, "memory.stat");
	if (ret < 0)
		return ret;
	if (cg->cg_version == CGROUP_V1) {
		ret = hm_file_key_u64(file, "total_inactive_file", bytes);
		if (ret != -ENOENT)
			return ret;
	}
	return hm_file_key_u64(file, "inactive_file", bytes);
}

int cgroup_mem_limit(const struct cgroup *cg, uint64_t *bytes)
{
	char file[PATH_MAX], buf[64];
	int ret;

	ret = file_in(file, cg->cg_mem_dir,
		      cg->cg_version == CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes");
	if (ret < 0)
		return ret;
	if (cg->cg_version == CGROUP_V2) {
		ret = hm_file_read(file, buf, sizeof(buf));
		if (ret < 0)
			return ret;
		if (!strncmp(buf, "max", 3))
			return -ENOENT;
	}
	ret = hm_file_u64(file, bytes);
	if (ret == -ERANGE || (ret == 0 && (*bytes >= CGROUP_NO_LIMIT || !*bytes)))
		return -ENOENT;
	return ret;
}
