/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations shared by the files of core/hostmetrics/; users
 * include hostmetrics.h only. hm_file.c reads small numeric files, cgroup.c
 * finds and reads the container's cgroup, procstat.c the producer processes,
 * nvml.c the GPUs, and naming.c turns a metric id into the name, unit, kind
 * and attributes of the configured naming. hostmetrics.c wires them up.
 * Collector thread only; nothing here is thread-safe.
 */
#ifndef CORE_HOSTMETRICS_HOSTMETRICS_INT_H
#define CORE_HOSTMETRICS_HOSTMETRICS_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "hostmetrics.h"

/* ---- hm_file.c ------------------------------------------------------- */

/*
 * Reads at most len - 1 bytes of path into buf and NUL-terminates it.
 * Returns the byte count, or -errno from open/read (-EINVAL if len is 0).
 */
int hm_file_read(const char *path, char *buf, size_t len);

/*
 * Parses a decimal u64 at s after optional blanks; *end (if not NULL) gets
 * the first byte after the digits. 0, -EINVAL (no digits, a sign) or
 * -ERANGE (does not fit in 64 bits).
 */
int hm_file_parse_u64(const char *s, const char **end, uint64_t *out);

/* A file holding one decimal u64 and optional trailing whitespace.
 * 0, -errno from reading, -EINVAL or -ERANGE. */
int hm_file_u64(const char *path, uint64_t *out);

/*
 * A "key value" or "Key:   value kB" file (cpu.stat, memory.stat,
 * /proc/meminfo): the value of the first line whose first word is key
 * (a trailing ':' on the word is ignored). Only the first 16 KiB are read.
 * 0, -ENOENT (no such key), -errno from reading, -EINVAL or -ERANGE.
 */
int hm_file_key_u64(const char *path, const char *key, uint64_t *out);

/* snprintf into a PATH_MAX buffer: 0, or -ENAMETOOLONG when truncated. */
int hm_file_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- cgroup.c -------------------------------------------------------- */

enum cgroup_version {
	CGROUP_NONE = 0,
	CGROUP_V1 = 1,
	CGROUP_V2 = 2,
	CGROUP_VERSION_NR /* count sentinel */
};

/* The container's cgroup directories; an empty string: not available. */
struct cgroup {
	int cg_version;               /* enum cgroup_version */
	char cg_acct_dir[PATH_MAX];   /* CPU time: cpu.stat (v2), cpuacct.usage (v1) */
	char cg_quota_dir[PATH_MAX];  /* CPU limit: cpu.max (v2), cpu.cfs_* (v1) */
	char cg_mem_dir[PATH_MAX];    /* memory.current/max (v2), memory.*_in_bytes (v1) */
};

/*
 * Finds the cgroup of this process from <proc_root>/self/cgroup under
 * cgroup_root. 0 with cg_version set, or -ENOENT (no usable cgroup: the
 * container series are then absent). Never fails otherwise.
 */
int cgroup_init(struct cgroup *cg, const char *proc_root, const char *cgroup_root);

/* Cumulative CPU time of the cgroup in ns. 0 or -errno. */
int cgroup_cpu_usage_ns(const struct cgroup *cg, uint64_t *ns);

/* The CPU limit in CPUs (quota / period). 0, -ENOENT (no limit) or -errno. */
int cgroup_cpu_limit(const struct cgroup *cg, double *cpus);

/* Memory charged to the cgroup, page cache included. 0 or -errno. */
int cgroup_mem_usage(const struct cgroup *cg, uint64_t *bytes);

/* inactive_file of memory.stat (reclaimable page cache). 0 or -errno. */
int cgroup_mem_inactive_file(const struct cgroup *cg, uint64_t *bytes);

/* The memory limit in bytes. 0, -ENOENT (no limit) or -errno. */
int cgroup_mem_limit(const struct cgroup *cg, uint64_t *bytes);

/* ---- naming.c -------------------------------------------------------- */

/* Every series this module can emit, whatever it is called. */
enum hm_metric {
	HM_M_CTR_CPU_TIME = 0,
	HM_M_CTR_CPU_USAGE,
	HM_M_CTR_CPU_UTIL,
	HM_M_CTR_MEM_USAGE,
	HM_M_CTR_MEM_WSET,
	HM_M_CTR_MEM_UTIL,
	HM_M_PROC_CPU_TIME,
	HM_M_PROC_CPU_UTIL,
	HM_M_PROC_MEM_USAGE,
	HM_M_PROC_MEM_UTIL,
	HM_M_GPU_UTIL,
	HM_M_GPU_MEM_UTIL,
	HM_M_GPU_MEM_USAGE,
	HM_M_GPU_MEM_LIMIT,
	HM_M_NR /* count sentinel */
};

/* Where points go, and how they are named. Attribute strings are borrowed. */
struct naming_sink {
	hm_emit_fn ns_emit;
	void *ns_ctx;
	int ns_modal;                 /* 0: semconv, 1: modal */
	struct hm_attr ns_attrs[3];   /* modal: container_id, environment_name, workspace_name */
	int ns_nattrs;                /* the non-empty ones only */
};

/* Identity of one GPU for its attributes. */
struct naming_gpu {
	const char *ng_uuid;          /* hw.id (semconv) */
	const char *ng_index;         /* gpu_index (modal), decimal */
};

/* Fills the modal attributes of s from non-empty strings (borrowed). */
void naming_sink_init(struct naming_sink *s, hm_emit_fn emit, void *ctx, int modal,
		      const char *container_id, const char *environment_name,
		      const char *workspace_name);

/*
 * Emits metric m with value v under s's naming, or nothing if that naming
 * has no such series or v is not finite. pid: 0 or the producer's pid.
 * gpu: the GPU of an HM_M_GPU_* metric, else NULL.
 */
void naming_put(const struct naming_sink *s, enum hm_metric m, double v, uint32_t pid,
		const struct naming_gpu *gpu);

/* ---- procstat.c ------------------------------------------------------ */

struct procstat;

/* 0 or -ENOMEM. proc_root is copied (-ENAMETOOLONG if it does not fit). */
int procstat_create(struct procstat **out, const char *proc_root);
void procstat_destroy(struct procstat *ps);

/*
 * Emits the process.* series of each pid. cpu_cap: CPUs available to the
 * processes (> 0); mem_cap: bytes of memory available (0: unknown, no
 * process.memory.utilization). Processes that vanished or whose files do
 * not parse are skipped.
 */
void procstat_sample(struct procstat *ps, uint64_t mono_ns, const uint32_t *pids, size_t npids,
		     double cpu_cap, uint64_t mem_cap, const struct naming_sink *s);

/* ---- nvml.c ---------------------------------------------------------- */

struct nvml;

/* One GPU's readings; a field is valid when its has_ flag is set. */
struct nvml_gpu {
	char ng_uuid[96];
	int ng_has_util;
	unsigned int ng_util_gpu;     /* percent of time a kernel ran */
	unsigned int ng_util_mem;     /* percent of time memory was read/written */
	int ng_has_mem;
	uint64_t ng_mem_total;
	uint64_t ng_mem_used;
};

/*
 * dlopen()s library and initialises NVML. 0, or -ENOENT (the library or a
 * symbol is missing), -EIO (nvmlInit failed), -ENODEV (no GPU), -ENOMEM;
 * on failure why (if not NULL) gets one line for the log.
 */
int nvml_open(struct nvml **out, const char *library, char *why, size_t whylen);
void nvml_close(struct nvml *n);

unsigned int nvml_count(const struct nvml *n);

/* Reads GPU idx. 0, or -EIO when NVML answered nothing usable. */
int nvml_read(struct nvml *n, unsigned int idx, struct nvml_gpu *g);

#endif
