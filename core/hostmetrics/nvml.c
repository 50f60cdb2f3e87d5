/* SPDX-License-Identifier: MIT */
/*
 * GPU readings through NVML, loaded with dlopen at run time so the agent
 * has no build or package dependency on the NVIDIA driver
 * (hostmetrics_int.h). Only seven entry points are used; their types are
 * declared here from the NVML API: every call returns nvmlReturn_t, an
 * int-sized enum where 0 is NVML_SUCCESS, and a device is an opaque
 * pointer. nvmlDeviceGetUtilizationRates gives two percentages over the
 * driver's last sample period (1/6 s to 1 s): "gpu" (a kernel was
 * running) and "memory" (device memory was being read or written, i.e.
 * bandwidth busy time, which is not exported: semconv's
 * hw.gpu.memory.utilization is the fraction of memory *used*, taken from
 * nvmlDeviceGetMemoryInfo). Both are already rates, so GPU series appear
 * from the first sample on. Next: naming.c.
 */
#include "hostmetrics_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds how many GPUs a (possibly broken) driver can make us walk. */
#define NVML_MAX_GPUS 64

/* The NVML types, as the API defines them. */
struct nvml_utilization {
	unsigned int gpu;
	unsigned int memory;
};

struct nvml_memory {
	unsigned long long total;
	unsigned long long free;
	unsigned long long used;
};

typedef int (*nvml_init_fn)(void);
typedef int (*nvml_shutdown_fn)(void);
typedef int (*nvml_count_fn)(unsigned int *count);
typedef int (*nvml_handle_fn)(unsigned int index, void **device);
typedef int (*nvml_util_fn)(void *device, struct nvml_utilization *util);
typedef int (*nvml_mem_fn)(void *device, struct nvml_memory *mem);
typedef int (*nvml_uuid_fn)(void *device, char *uuid, unsigned int length);

struct nvml {
	void *dl;
	int inited;
	unsigned int count;
	nvml_init_fn init;
	nvml_shutdown_fn shutdown;
	nvml_count_fn get_count;
	nvml_handle_fn get_handle;
	nvml_util_fn get_util;
	nvml_mem_fn get_mem;
	nvml_uuid_fn get_uuid;
};

/* dlsym returns void *; ISO C has no conversion to a function pointer,
 * POSIX guarantees it works, so go through memcpy. */
static int sym(void *dl, const char *name, void *fnp, size_t fnsize)
{
	void *p = dlsym(dl, name);

	if (!p)
		return -ENOENT;
	memcpy(fnp, &p, fnsize);
	return 0;
}

#define NVML_SYM(n, field, name) sym((n)->dl, name, &(n)->field, sizeof((n)->field))

int nvml_open(struct nvml **out, const char *library, char *why, size_t whylen)
{
	struct nvml *n;
	const char *e;
	int ret;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->dl = dlopen(library, RTLD_NOW | RTLD_LOCAL);
	if (!n->dl) {
		e = dlerror();
		if (why)
			snprintf(why, whylen, "%s", e ? e : library);
		ret = -ENOENT;
		goto err;
	}
	if (NVML_SYM(n, init, "nvmlInit_v2") || NVML_SYM(n, shutdown, "nvmlShutdown") ||
	    NVML_SYM(n, get_count, "nvmlDeviceGetCount_v2") ||
	    NVML_SYM(n, get_handle, "nvmlDeviceGetHandleByIndex_v2") ||
	    NVML_SYM(n, get_util, "nvmlDeviceGetUtilizationRates") ||
	    NVML_SYM(n, get_mem, "nvmlDeviceGetMemoryInfo") ||
	    NVML_SYM(n, get_uuid, "nvmlDeviceGetUUID")) {
		if (why)
			snprintf(why, whylen, "%s lacks an NVML entry point", library);
		ret = -ENOENT;
		goto err;
	}
	ret = n->init();
	if (ret != 0) {
		if (why)
			snprintf(why, whylen, "nvmlInit_v2 returned %d", ret);
		ret = -EIO;
		goto err;
	}
	n->inited = 1;
	ret = n->get_count(&n->count);
	if (ret != 0 || n->count == 0) {
		if (why)
			snprintf(why, whylen, "no GPU found (nvmlDeviceGetCount_v2 returned %d)",
				 ret);
		ret = -ENODEV;
		goto err;
	}
	if (n->count > NVML_MAX_GPUS)
		n->count = NVML_MAX_GPUS;
	*out = n;
	return 0;
err:
	nvml_close(n);
	return ret;
}

void nvml_close(struct nvml *n)
{
	if (!n)
		return;
	if (n->inited)
		(void)n->shutdown(); /* nothing to do about a failed shutdown */
	if (n->dl)
		dlclose(n->dl);
	free(n);
}

unsigned int nvml_count(const struct nvml *n)
{
	return n ? n->count : 0;
}

int nvml_read(struct nvml *n, unsigned int idx, struct nvml_gpu *g)
{
	struct nvml_utilization u = {0};
	struct nvml_memory m = {0};
	void *dev = NULL;

	memset(g, 0, sizeof(*g));
	if (!n || idx >= n->count || n->get_handle(idx, &dev) != 0 || !dev)
		return -EIO;
	if (n->get_uuid(dev, g->ng_uuid, sizeof(g->ng_uuid)) != 0)
		g->ng_uuid[0] = '\0';
	/* Do not trust the driver to terminate it. */
	g->ng_uuid[sizeof(g->ng_uuid) - 1] = '\0';
	/* A percentage above 100 is a driver bug: drop it rather than export it. */
	if (n->get_util(dev, &u) == 0 && u.gpu <= 100 && u.memory <= 100) {
		g->ng_has_util = 1;
		g->ng_util_gpu = u.gpu;
		g->ng_util_mem = u.memory;
	}
	if (n->get_mem(dev, &m) == 0 && m.total && m.used <= m.total) {
		g->ng_has_mem = 1;
		g->ng_mem_total = m.total;
		g->ng_mem_used = m.used;
	}
	return g->ng_has_util || g->ng_has_mem ? 0 : -EIO;
}
