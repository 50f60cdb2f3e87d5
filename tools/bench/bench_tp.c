/* SPDX-License-Identifier: MIT */
/*
 * bench_tp.c: creates the probes of bench_tp.h (the LTTng-UST tracepoint
 * of bench_lttng.c), linked into bench_lttng itself.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "bench_tp.h"
