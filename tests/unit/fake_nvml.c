/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for libnvidia-ml.so, built by the tests as a shared library
 * so test_hostmetrics can exercise core/hostmetrics/nvml.c without a GPU.
 * It answers the seven NVML calls that nvml.c uses with fixed values:
 * GPU 0 "GPU-fake-0" 37 % busy, 4 of 16 GiB used; GPU 1 "GPU-fake-1"
 * 80 % busy, 60 of 80 GiB used. FAKE_NVML_DEVICES=<n> overrides the
 * device count (0: no GPU), FAKE_NVML_INIT_FAIL=1 makes nvmlInit_v2 fail.
 * fake_nvml_inits / fake_nvml_shutdowns let the test check the pairing.
 */
#include <stdlib.h>
#include <string.h>

#define FAKE_OK 0
#define FAKE_ERR_UNINITIALIZED 1
#define FAKE_ERR_INVALID_ARGUMENT 2
#define FAKE_ERR_INSUFFICIENT_SIZE 7
#define FAKE_ERR_UNKNOWN 999

struct fake_util {
	unsigned int gpu;
	unsigned int memory;
};

struct fake_mem {
	unsigned long long total;
	unsigned long long free;
	unsigned long long used;
};

struct fake_dev {
	const char *uuid;
	unsigned int gpu, mem;
	unsigned long long total, used;
};

int nvmlInit_v2(void);
int nvmlShutdown(void);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device);
int nvmlDeviceGetUtilizationRates(void *device, struct fake_util *util);
int nvmlDeviceGetMemoryInfo(void *device, struct fake_mem *mem);
int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length);

int fake_nvml_inits;
int fake_nvml_shutdowns;

static struct fake_dev fake_devs[2] = {
    {"GPU-fake-0", 37, 20, 17179869184ull, 4294967296ull},
    {"GPU-fake-1", 80, 50, 85899345920ull, 64424509440ull},
};

static int fake_live;

static unsigned int fake_count(void)
{
	const char *e = getenv("FAKE_NVML_DEVICES");
	unsigned int n = e ? (unsigned int)atoi(e) : 2;

	return n > 2 ? 2 : n;
}

static struct fake_dev *fake_dev(void *device)
{
	struct fake_dev *d = device;

	if (!fake_live || d < fake_devs || d >= fake_devs + 2)
		return NULL;
	return d;
}

int nvmlInit_v2(void)
{
	const char *e = getenv("FAKE_NVML_INIT_FAIL");

	if (e && !strcmp(e, "1"))
		return FAKE_ERR_UNKNOWN;
	fake_nvml_inits++;
	fake_live = 1;
	return FAKE_OK;
}

int nvmlShutdown(void)
{
	if (!fake_live)
		return FAKE_ERR_UNINITIALIZED;
	fake_nvml_shutdowns++;
	fake_live = 0;
	return FAKE_OK;
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
	if (!fake_live)
		return FAKE_ERR_UNINITIALIZED;
	*count = fake_count();
	return FAKE_OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device)
{
	if (!fake_live)
		return FAKE_ERR_UNINITIALIZED;
	if (index >= fake_count())
		return FAKE_ERR_INVALID_ARGUMENT;
	*device = &fake_devs[index];
	return FAKE_OK;
}

int nvmlDeviceGetUtilizationRates(void *device, struct fake_util *util)
{
	struct fake_dev *d = fake_dev(device);

	if (!d)
		return FAKE_ERR_INVALID_ARGUMENT;
	util->gpu = d->gpu;
	util->memory = d->mem;
	return FAKE_OK;
}

int nvmlDeviceGetMemoryInfo(void *device, struct fake_mem *mem)
{
	struct fake_dev *d = fake_dev(device);

	if (!d)
		return FAKE_ERR_INVALID_ARGUMENT;
	mem->total = d->total;
	mem->used = d->used;
	mem->free = d->total - d->used;
	return FAKE_OK;
}

int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length)
{
	struct fake_dev *d = fake_dev(device);

	if (!d)
		return FAKE_ERR_INVALID_ARGUMENT;
	if (strlen(d->uuid) + 1 > length)
		return FAKE_ERR_INSUFFICIENT_SIZE;
	strcpy(uuid, d->uuid);
	return FAKE_OK;
}
