/* SPDX-License-Identifier: MIT */
/*
 * Host, container, process and GPU metrics sampled by the collector
 * (DESIGN.md, Collector): CPU and memory utilization of the container from
 * cgroup v2 (or v1), relative to its limits when set, else to the host;
 * CPU and memory of each producer process from procfs; GPU compute and
 * memory utilization per GPU through NVML loaded with dlopen at run time.
 * Names follow the OpenTelemetry semantic conventions, or Modal's
 * container metrics ([metrics] naming = modal). Collector thread only.
 */
#ifndef CORE_HOSTMETRICS_HOSTMETRICS_H
#define CORE_HOSTMETRICS_HOSTMETRICS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum hm_kind {
	HM_GAUGE = 0,      /* last value; exported as an OTLP Gauge */
	HM_COUNTER = 1,    /* monotonic cumulative total; an OTLP Sum, monotonic */
	HM_UPDOWN = 2,     /* non-monotonic total; an OTLP Sum, not monotonic */
	HM_KIND_NR         /* count sentinel */
};

#define HM_MAX_ATTRS 4

struct hm_attr {
	const char *key;
	const char *value; /* string attributes only */
};

/* One sampled data point. Pointers are valid during the emit call only. */
struct hm_point {
	const char *name;  /* e.g. "container.cpu.usage" or "modal.cpu.utilization" */
	const char *unit;  /* UCUM: "1", "{cpu}", "By", "s" */
	const char *desc;
	int kind;          /* enum hm_kind */
	double value;
	uint32_t pid;      /* 0: host/container/GPU (the agent's resource); else that
			    * producer process's resource */
	struct hm_attr attrs[HM_MAX_ATTRS];
	int nattrs;
};

typedef void (*hm_emit_fn)(void *ctx, const struct hm_point *p);

struct hostmetrics;

/*
 * Reads the configuration ([metrics] naming, container_id,
 * environment_name, workspace_name, cgroup_root, proc_root, nvml_library)
 * and probes what exists: cgroup v2 or v1, the limits, NVML. Never fails
 * for a missing cgroup or GPU: those series are then simply absent (one
 * informational log line for a missing NVML). 0 or -ENOMEM.
 */
int hostmetrics_create(struct hostmetrics **out, const struct shmlog_config *cfg);
void hostmetrics_destroy(struct hostmetrics *h);

/*
 * Samples now (CLOCK_MONOTONIC ns, for rates between two samples) and
 * calls emit for every point. pids: the live producer processes whose
 * process.* metrics are wanted. Utilizations need two samples: the first
 * call emits none of the rate-based ones.
 */
void hostmetrics_sample(struct hostmetrics *h, uint64_t mono_ns, const uint32_t *pids,
			size_t npids, hm_emit_fn emit, void *ctx);

#endif
