/* SPDX-License-Identifier: MIT */
/*
 * Host metrics sampler (hostmetrics.h): probes the container's cgroup,
 * the host capacity and NVML once at create, then on every sample emits
 * the container series (cgroup.c), the producers' process series
 * (procstat.c) and the GPU series (nvml.c), named by naming.c.
 * Capacity, the denominator of every utilization, is the cgroup limit when
 * one is set (capped at the host's size, since a limit above it cannot
 * bind), else the host: its CPUs (the "cpuN" lines of <proc_root>/stat,
 * so a fixture can set it; sysconf(_SC_NPROCESSORS_ONLN) if unreadable)
 * and MemTotal of <proc_root>/meminfo. Limits are re-read each sample, as
 * they can change at run time. Called by the collector thread only.
 */
#include "hostmetrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostmetrics_int.h"
#include "log.h"

struct hostmetrics {
	int modal;
	char container_id[128];
	char environment_name[128];
	char workspace_name[128];
	struct cgroup cg;
	uint32_t ncpus;          /* host CPUs, >= 1 */
	uint64_t mem_total;      /* host MemTotal in bytes, 0 if unknown */
	struct procstat *ps;
	struct nvml *nvml;       /* NULL: no GPU series */
	int have_prev;           /* prev_* hold the last container CPU sample */
	uint64_t prev_mono_ns;
	uint64_t prev_cpu_ns;
};

/* Counts the "cpuN" lines of /proc/stat; they come first, before the
 * possibly very long "intr" line, so reading stops at the first other. */
static uint32_t count_cpus(const char *proc_root)
{
	char path[PATH_MAX], line[256];
	uint32_t n = 0;
	int bol = 1;
	size_t len;
	FILE *f;
	long v;

	if (hm_file_path(path, sizeof(path), "%s/stat", proc_root) == 0 &&
	    (f = fopen(path, "re")) != NULL) {
		while (fgets(line, sizeof(line), f)) {
			len = strlen(line);
			if (bol) {
				if (strncmp(line, "cpu", 3))
					break;
				if (line[3] >= '0' && line[3] <= '9')
					n++;
			}
			bol = len && line[len - 1] == '\n';
		}
		fclose(f);
	}
	if (n)
		return n;
	v = sysconf(_SC_NPROCESSORS_ONLN);
	return v > 0 ? (uint32_t)v : 1;
}

static uint64_t read_mem_total(const char *proc_root)
{
	char path[PATH_MAX];
	uint64_t kib;

	if (hm_file_path(path, sizeof(path), "%s/meminfo", proc_root) < 0 ||
	    hm_file_key_u64(path, "MemTotal", &kib) < 0 || kib > UINT64_MAX / 1024)
		return 0;
	return kib * 1024;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

int hostmetrics_create(struct hostmetrics **out, const struct shmlog_config *cfg)
{
	struct hostmetrics *h;
	char why[512];
	int ret;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->modal = !strcmp(cfg->met_naming, "modal");
	copy_str(h->container_id, sizeof(h->container_id), cfg->met_container_id);
	copy_str(h->environment_name, sizeof(h->environment_name), cfg->met_environment_name);
	copy_str(h->workspace_name, sizeof(h->workspace_name), cfg->met_workspace_name);
	h->ncpus = count_cpus(cfg->met_proc_root);
	h->mem_total = read_mem_total(cfg->met_proc_root);
	if (cgroup_init(&h->cg, cfg->met_proc_root, cfg->met_cgroup_root) < 0)
		LOGI("hostmetrics: no cgroup found under %s: no container series",
		     cfg->met_cgroup_root);
	else
		LOGD("hostmetrics: cgroup v%d cpu '%s' cpu-limit '%s' memory '%s'",
		     h->cg.cg_version, h->cg.cg_acct_dir, h->cg.cg_quota_dir,
		     h->cg.cg_mem_dir);
	ret = procstat_create(&h->ps, cfg->met_proc_root);
	if (ret < 0)
		goto err;
	why[0] = '\0';
	ret = nvml_open(&h->nvml, cfg->met_nvml_library, why, sizeof(why));
	if (ret == -ENOMEM)
		goto err;
	if (ret < 0)
		LOGI("hostmetrics: no GPU metrics: %s", why);
	else
		LOGI("hostmetrics: NVML: %u GPU(s)", nvml_count(h->nvml));
	*out = h;
	return 0;
err:
	hostmetrics_destroy(h);
	return -ENOMEM;
}

void hostmetrics_destroy(struct hostmetrics *h)
{
	if (!h)
		return;
	nvml_close(h->nvml);
	procstat_destroy(h->ps);
	free(h);
}

static double cpu_capacity(const struct hostmetrics *h)
{
	double lim, cap = (double)h->ncpus;

	if (h->cg.cg_version && cgroup_cpu_limit(&h->cg, &lim) == 0 && lim > 0 && lim < cap)
		cap = lim;
	return cap;
}

static uint64_t mem_capacity(const struct hostmetrics *h)
{
	uint64_t lim, cap = h->mem_total;

	if (h->cg.cg_version && cgroup_mem_limit(&h->cg, &lim) == 0 && (!cap || lim < cap))
		cap = lim;
	return cap;
}

static void sample_container(struct hostmetrics *h, uint64_t mono_ns, double cpu_cap,
			     uint64_t mem_cap, const struct naming_sink *s)
{
	uint64_t ns, usage, inactive, wset;
	double cpus;

	if (!h->cg.cg_version)
		return;
	if (cgroup_cpu_usage_ns(&h->cg, &ns) == 0) {
		naming_put(s, HM_M_CTR_CPU_TIME, (double)ns / 1e9, 0, NULL);
		/* A counter going back means a new cgroup: start over. */
		if (h->have_prev && mono_ns > h->prev_mono_ns && ns >= h->prev_cpu_ns) {
			cpus = (double)(ns - h->prev_cpu_ns) / (double)(mono_ns - h->prev_mono_ns);
			naming_put(s, HM_M_CTR_CPU_USAGE, cpus, 0, NULL);
			naming_put(s, HM_M_CTR_CPU_UTIL, cpus / cpu_cap, 0, NULL);
		}
		h->have_prev = 1;
		h->prev_mono_ns = mono_ns;
		h->prev_cpu_ns = ns;
	} else {
		h->have_prev = 0;
	}
	if (cgroup_mem_usage(&h->cg, &usage) < 0)
		return;
	naming_put(s, HM_M_CTR_MEM_USAGE, (double)usage, 0, NULL);
	/* Without memory.stat the working set is taken to be all of usage. */
	if (cgroup_mem_inactive_file(&h->cg, &inactive) < 0)
		inactive = 0;
	wset = inactive < usage ? usage - inactive : 0;
	naming_put(s, HM_M_CTR_MEM_WSET, (double)wset, 0, NULL);
	if (mem_cap)
		naming_put(s, HM_M_CTR_MEM_UTIL, (double)wset / (double)mem_cap, 0, NULL);
}

static void sample_gpus(struct hostmetrics *h, const struct naming_sink *s)
{
	struct naming_gpu id;
	struct nvml_gpu g;
	char index[16];
	unsigned int i;

	for (i = 0; i < nvml_count(h->nvml); i++) {
		if (nvml_read(h->nvml, i, &g) < 0)
			continue;
		snprintf(index, sizeof(index), "%u", i);
		/* hw.id is required: fall back to the index without a UUID. */
		id.ng_uuid = g.ng_uuid[0] ? g.ng_uuid : index;
		id.ng_index = index;
		if (g.ng_has_util)
			naming_put(s, HM_M_GPU_UTIL, g.ng_util_gpu / 100.0, 0, &id);
		if (g.ng_has_mem) {
			naming_put(s, HM_M_GPU_MEM_UTIL,
				   (double)g.ng_mem_used / (double)g.ng_mem_total, 0, &id);
			naming_put(s, HM_M_GPU_MEM_USAGE, (double)g.ng_mem_used, 0, &id);
			naming_put(s, HM_M_GPU_MEM_LIMIT, (double)g.ng_mem_total, 0, &id);
		}
	}
}

void hostmetrics_sample(struct hostmetrics *h, uint64_t mono_ns, const uint32_t *pids,
			size_t npids, hm_emit_fn emit, void *ctx)
{
	struct naming_sink s;
	uint64_t mem_cap;
	double cpu_cap;

	if (!h || !emit)
		return;
	naming_sink_init(&s, emit, ctx, h->modal, h->container_id, h->environment_name,
			 h->workspace_name);
	cpu_cap = cpu_capacity(h);
	mem_cap = mem_capacity(h);
	sample_container(h, mono_ns, cpu_cap, mem_cap, &s);
	procstat_sample(h->ps, mono_ns, pids, pids ? npids : 0, cpu_cap, mem_cap, &s);
	sample_gpus(h, &s);
}
