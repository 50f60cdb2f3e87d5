/* SPDX-License-Identifier: MIT */
/*
 * bench_tp.h: the LTTng-UST tracepoint provider of bench_lttng.c: one
 * event, shmlog_bench:record, with the benchmark record's fields (the
 * 64-byte message as a 64-byte text array, a 64-bit integer). Included
 * twice by lttng-ust's macros (the provider header protocol); the probes
 * are created in bench_tp.c.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER shmlog_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./bench_tp.h"

#if !defined(BENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(shmlog_bench, record,
	LTTNG_UST_TP_ARGS(const char *, msg, int64_t, seq),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_array_text(char, msg, msg, 64)
		lttng_ust_field_integer(int64_t, seq, seq)
	)
)

#endif

#include <lttng/tracepoint-event.h>
