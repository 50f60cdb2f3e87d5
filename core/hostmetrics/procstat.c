/* SPDX-License-Identifier: MIT */
/*
 * CPU and memory of each producer process from procfs (hostmetrics_int.h).
 * <proc_root>/<pid>/stat gives utime + stime (fields 14, 15, clock ticks
 * of sysconf(_SC_CLK_TCK)) and starttime (field 22), parsed after the last
 * ')' since the command name may hold spaces and parentheses;
 * <proc_root>/<pid>/statm gives resident pages (field 2) x page size.
 * Series: process.cpu.time (s, counter; no cpu.mode split),
 * process.memory.usage (RSS, By), process.memory.utilization (RSS / memory
 * capacity), and from the second sample on process.cpu.utilization =
 * delta CPU time / (delta wall time x CPUs available), semconv's
 * definition, where "CPUs available" is the container's CPU limit when set,
 * else the host's CPUs. The previous sample of each pid is kept in an array
 * sorted by pid, rebuilt every sample, so processes that are gone are
 * forgotten and a reused pid (other starttime) starts over.
 */
#include "hostmetrics_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct procstat_ent {
	uint32_t pid;
	uint64_t start;   /* starttime, ticks after boot: tells reused pids apart */
	uint64_t ticks;   /* utime + stime */
	uint64_t mono_ns;
};

struct procstat {
	char proc_root[PATH_MAX];
	uint64_t clk_tck;
	uint64_t page_size;
	struct procstat_ent *prev;   /* last sample, sorted by pid */
	size_t nprev;
	struct procstat_ent *cur;    /* being built; swapped with prev */
	size_t cap;                  /* of both arrays */
};

int procstat_create(struct procstat **out, const char *proc_root)
{
	struct procstat *ps;
	long v;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	if (hm_file_path(ps->proc_root, sizeof(ps->proc_root), "%s", proc_root) < 0) {
		free(ps);
		return -ENAMETOOLONG;
	}
	v = sysconf(_SC_CLK_TCK);
	ps->clk_tck = v > 0 ? (uint64_t)v : 100;
	v = sysconf(_SC_PAGESIZE);
	ps->page_size = v > 0 ? (uint64_t)v : 4096;
	*out = ps;
	return 0;
}

void procstat_destroy(struct procstat *ps)
{
	if (!ps)
		return;
	free(ps->prev);
	free(ps->cur);
	free(ps);
}

/* utime + stime and starttime of pid. 0 or -errno. */
static int read_stat(const struct procstat *ps, uint32_t pid, uint64_t *ticks, uint64_t *start)
{
	char path[PATH_MAX], buf[1024];
	uint64_t v, utime = 0, stime = 0;
	const char *p;
	int field, ret;

	ret = hm_file_path(path, sizeof(path), "%s/%u/stat", ps->proc_root, pid);
	if (ret < 0)
		return ret;
	ret = hm_file_read(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	/* p is at field 3 (state), preceded by a blank. */
	for (field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -EINVAL;
		if (field == 14 || field == 15 || field == 22) {
			ret = hm_file_parse_u64(p, NULL, &v);
			if (ret < 0)
				return ret;
			if (field == 14)
				utime = v;
			else if (field == 15)
				stime = v;
			else
				*start = v;
		}
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	if (utime > UINT64_MAX - stime)
		return -ERANGE;
	*ticks = utime + stime;
	return 0;
}

/* Resident set size of pid in bytes. 0 or -errno. */
static int read_rss(const struct procstat *ps, uint32_t pid, uint64_t *bytes)
{
	char path[PATH_MAX], buf[256];
	const char *end;
	uint64_t size, resident;
	int ret;

	ret = hm_file_path(path, sizeof(path), "%s/%u/statm", ps->proc_root, pid);
	if (ret < 0)
		return ret;
	ret = hm_file_read(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ret = hm_file_parse_u64(buf, &end, &size);
	if (ret < 0)
		return ret;
	if (*end != ' ')
		return -EINVAL;
	ret = hm_file_parse_u64(end, NULL, &resident);
	if (ret < 0)
		return ret;
	if (resident > UINT64_MAX / ps->page_size)
		return -ERANGE;
	*bytes = resident * ps->page_size;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct procstat_ent *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Both arrays hold at least n entries, or -ENOMEM (rates are then lost). */
static int reserve(struct procstat *ps, size_t n)
{
	struct procstat_ent *a;

	if (n <= ps->cap)
		return 0;
	if (n > SIZE_MAX / sizeof(*a))
		return -ENOMEM;
	a = realloc(ps->prev, n * sizeof(*a));
	if (!a)
		return -ENOMEM;
	ps->prev = a;
	a = realloc(ps->cur, n * sizeof(*a));
	if (!a)
		return -ENOMEM;
	ps->cur = a;
	ps->cap = n;
	return 0;
}

void procstat_sample(struct procstat *ps, uint64_t mono_ns, const uint32_t *pids, size_t npids,
		     double cpu_cap, uint64_t mem_cap, const struct naming_sink *s)
{
	const struct procstat_ent *old;
	struct procstat_ent key, *tmp;
	uint64_t ticks, start, rss;
	size_t i, ncur = 0;
	int keep;

	keep = reserve(ps, npids) == 0;
	for (i = 0; i < npids; i++) {
		if (!pids[i])
			continue;
		if (read_rss(ps, pids[i], &rss) == 0) {
			naming_put(s, HM_M_PROC_MEM_USAGE, (double)rss, pids[i], NULL);
			if (mem_cap)
				naming_put(s, HM_M_PROC_MEM_UTIL, (double)rss / (double)mem_cap,
					   pids[i], NULL);
		}
		if (read_stat(ps, pids[i], &ticks, &start) < 0)
			continue;
		naming_put(s, HM_M_PROC_CPU_TIME, (double)ticks / (double)ps->clk_tck, pids[i],
			   NULL);
		key.pid = pids[i];
		old = ps->nprev ? bsearch(&key, ps->prev, ps->nprev, sizeof(key), ent_cmp) : NULL;
		if (old && old->start == start && old->ticks <= ticks && old->mono_ns < mono_ns &&
		    cpu_cap > 0) {
			double cpu_s = (double)(ticks - old->ticks) / (double)ps->clk_tck;
			double wall_s = (double)(mono_ns - old->mono_ns) / 1e9;

			naming_put(s, HM_M_PROC_CPU_UTIL, cpu_s / (wall_s * cpu_cap), pids[i],
				   NULL);
		}
		if (keep && ncur < ps->cap) {
			ps->cur[ncur].pid = pids[i];
			ps->cur[ncur].start = start;
			ps->cur[ncur].ticks = ticks;
			ps->cur[ncur].mono_ns = mono_ns;
			ncur++;
		}
	}
	if (!keep) {
		ps->nprev = 0;
		return;
	}
	if (ncur > 1)
		qsort(ps->cur, ncur, sizeof(*ps->cur), ent_cmp);
	tmp = ps->prev;
	ps->prev = ps->cur;
	ps->cur = tmp;
	ps->nprev = ncur;
}
