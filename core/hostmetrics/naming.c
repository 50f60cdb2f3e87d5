/* SPDX-License-Identifier: MIT */
/*
 * What each sampled series is called under [metrics] naming = semconv
 * (default) or modal, with its unit, instrument kind and attributes.
 *
 * semconv follows OpenTelemetry semantic conventions (OTLP.md 3.5-3.6).
 * They have no container CPU or memory *utilization*, yet the issue asks
 * for 0-1 ratios "relative to the limits when set, else to the host", so
 * two names of our own sit beside the semconv ones:
 *   container.cpu.limit_utilization    container.cpu.usage / CPU capacity
 *   container.memory.limit_utilization working set / memory capacity
 * where capacity = the cgroup limit when set (capped at the host), else
 * the host's CPUs / MemTotal. They follow kubeletstats' optional
 * k8s.container.{cpu,memory}_limit_utilization without the k8s prefix, and
 * avoid docker_stats' container.cpu.utilization, which is a percentage.
 * hw.gpu.memory.utilization is semconv's "fraction of GPU memory used"
 * (used / total), not NVML's memory-bandwidth busy time.
 *
 * modal reproduces Modal's OpenTelemetry integration: modal.cpu.utilization,
 * modal.memory.usage, modal.memory.utilization, modal.gpu.memory.usage,
 * modal.gpu.compute.utilization, modal.gpu.memory.utilization, all gauges
 * (Modal publishes no units: ratios are 0-1, unit "1"; usages in bytes),
 * with container_id, environment_name and workspace_name attributes from
 * the configuration (empty ones left out) and gpu_index on GPU series.
 * Modal has no per-process series: process.* keep their semconv names.
 */
#include "hostmetrics_int.h"

#include <math.h>
#include <stddef.h>

enum naming_scope {
	SCOPE_CONTAINER = 0,
	SCOPE_PROCESS = 1,
	SCOPE_GPU = 2,
	SCOPE_NR /* count sentinel */
};

struct naming_def {
	const char *name; /* NULL: this naming has no such series */
	const char *unit;
	int kind;         /* enum hm_kind */
	const char *desc;
};

struct naming_row {
	int scope;        /* enum naming_scope */
	struct naming_def sem;
	struct naming_def modal;
};

static const struct naming_row naming_table[HM_M_NR] = {
    [HM_M_CTR_CPU_TIME] = {SCOPE_CONTAINER,
			   {"container.cpu.time", "s", HM_COUNTER, "Total CPU time consumed"},
			   {NULL, NULL, 0, NULL}},
    [HM_M_CTR_CPU_USAGE] = {SCOPE_CONTAINER,
			    {"container.cpu.usage", "{cpu}", HM_GAUGE,
			     "CPUs in use, averaged since the last sample"},
			    {NULL, NULL, 0, NULL}},
    [HM_M_CTR_CPU_UTIL] = {SCOPE_CONTAINER,
			   {"container.cpu.limit_utilization", "1", HM_GAUGE,
			    "CPU in use as a fraction of the CPU limit, else of the host's CPUs"},
			   {"modal.cpu.utilization", "1", HM_GAUGE,
			    "CPU in use as a fraction of the CPU limit, else of the host's CPUs"}},
    [HM_M_CTR_MEM_USAGE] = {SCOPE_CONTAINER,
			    {"container.memory.usage", "By", HM_UPDOWN,
			     "Memory charged to the container, page cache included"},
			    {NULL, NULL, 0, NULL}},
    [HM_M_CTR_MEM_WSET] = {SCOPE_CONTAINER,
			   {"container.memory.working_set", "By", HM_UPDOWN,
			    "Memory usage minus inactive file cache"},
			   {"modal.memory.usage", "By", HM_GAUGE,
			    "Memory usage minus inactive file cache"}},
    [HM_M_CTR_MEM_UTIL] = {SCOPE_CONTAINER,
			   {"container.memory.limit_utilization", "1", HM_GAUGE,
			    "Working set as a fraction of the memory limit, else of host memory"},
			   {"modal.memory.utilization", "1", HM_GAUGE,
			    "Working set as a fraction of the memory limit, else of host memory"}},
    [HM_M_PROC_CPU_TIME] = {SCOPE_PROCESS,
			    {"process.cpu.time", "s", HM_COUNTER, "Total CPU seconds"},
			    {"process.cpu.time", "s", HM_COUNTER, "Total CPU seconds"}},
    [HM_M_PROC_CPU_UTIL] = {SCOPE_PROCESS,
			    {"process.cpu.utilization", "1", HM_GAUGE,
			     "CPU time since the last sample / (elapsed time x CPUs available)"},
			    {"process.cpu.utilization", "1", HM_GAUGE,
			     "CPU time since the last sample / (elapsed time x CPUs available)"}},
    [HM_M_PROC_MEM_USAGE] = {SCOPE_PROCESS,
			     {"process.memory.usage", "By", HM_UPDOWN, "Resident set size"},
			     {"process.memory.usage", "By", HM_UPDOWN, "Resident set size"}},
    [HM_M_PROC_MEM_UTIL] = {SCOPE_PROCESS,
			    {"process.memory.utilization", "1", HM_GAUGE,
			     "Resident set size / memory limit, else host memory"},
			    {"process.memory.utilization", "1", HM_GAUGE,
			     "Resident set size / memory limit, else host memory"}},
    [HM_M_GPU_UTIL] = {SCOPE_GPU,
		       {"hw.gpu.utilization", "1", HM_GAUGE,
			"Fraction of time one or more kernels ran on the GPU"},
		       {"modal.gpu.compute.utilization", "1", HM_GAUGE,
			"Fraction of time one or more kernels ran on the GPU"}},
    [HM_M_GPU_MEM_UTIL] = {SCOPE_GPU,
			   {"hw.gpu.memory.utilization", "1", HM_GAUGE,
			    "Fraction of GPU memory used"},
			   {"modal.gpu.memory.utilization", "1", HM_GAUGE,
			    "Fraction of GPU memory used"}},
    [HM_M_GPU_MEM_USAGE] = {SCOPE_GPU,
			    {"hw.gpu.memory.usage", "By", HM_UPDOWN, "GPU memory used"},
			    {"modal.gpu.memory.usage", "By", HM_GAUGE, "GPU memory used"}},
    [HM_M_GPU_MEM_LIMIT] = {SCOPE_GPU,
			    {"hw.gpu.memory.limit", "By", HM_UPDOWN, "GPU memory size"},
			    {NULL, NULL, 0, NULL}},
};

static void add_attr(struct hm_point *p, const char *key, const char *value)
{
	if (p->nattrs >= HM_MAX_ATTRS || !value || !value[0])
		return;
	p->attrs[p->nattrs].key = key;
	p->attrs[p->nattrs].value = value;
	p->nattrs++;
}

void naming_sink_init(struct naming_sink *s, hm_emit_fn emit, void *ctx, int modal,
		      const char *container_id, const char *environment_name,
		      const char *workspace_name)
{
	const char *keys[3] = {"container_id", "environment_name", "workspace_name"};
	const char *vals[3] = {container_id, environment_name, workspace_name};
	int i;

	s->ns_emit = emit;
	s->ns_ctx = ctx;
	s->ns_modal = modal;
	s->ns_nattrs = 0;
	for (i = 0; i < 3; i++) {
		if (!vals[i] || !vals[i][0])
			continue;
		s->ns_attrs[s->ns_nattrs].key = keys[i];
		s->ns_attrs[s->ns_nattrs].value = vals[i];
		s->ns_nattrs++;
	}
}

void naming_put(const struct naming_sink *s, enum hm_metric m, double v, uint32_t pid,
		const struct naming_gpu *gpu)
{
	const struct naming_row *row;
	const struct naming_def *def;
	struct hm_point p = {0};
	int i;

	if ((unsigned int)m >= HM_M_NR || !isfinite(v))
		return;
	row = &naming_table[m];
	def = s->ns_modal ? &row->modal : &row->sem;
	if (!def->name)
		return;
	p.name = def->name;
	p.unit = def->unit;
	p.desc = def->desc;
	p.kind = def->kind;
	p.value = v;
	p.pid = pid;
	if (s->ns_modal && row->scope != SCOPE_PROCESS) {
		for (i = 0; i < s->ns_nattrs; i++)
			add_attr(&p, s->ns_attrs[i].key, s->ns_attrs[i].value);
	}
	if (row->scope == SCOPE_GPU && gpu) {
		if (s->ns_modal) {
			add_attr(&p, "gpu_index", gpu->ng_index);
		} else {
			add_attr(&p, "hw.id", gpu->ng_uuid);
			if (m == HM_M_GPU_UTIL)
				add_attr(&p, "hw.gpu.task", "general");
		}
	}
	s->ns_emit(s->ns_ctx, &p);
}
