/* SPDX-License-Identifier: MIT */
/*
 * shmlog.h: the public API of libshmlog.so.
 *
 * A program that links libshmlog (or has it preloaded) writes OpenTelemetry
 * log records into the per-CPU shared-memory rings of the local
 * shmlog-collector. Every call is cheap, makes no system call once the
 * process is attached, never blocks, never allocates, never prints, and
 * never changes errno. Without a collector the calls do nothing and return
 * -ENOTCONN; the library attaches by itself when a collector appears.
 *
 * Thread-safe and async-signal-safe (a record logged from a signal handler
 * that interrupted another record is a separate record).
 *
 * Environment: SHMLOG_NAMESPACE (segment to attach to, default "default"),
 * SHMLOG_STDIO (tee | capture | off, for fds 1 and 2 when preloaded),
 * SHMLOG_DEBUG=1 (diagnostics on stderr), SHMLOG_ON_FULL (drop, the
 * default: a full ring refuses a record at once; wait:<ms>: a call waits
 * up to ms milliseconds for room before it refuses, -ENOBUFS as below; the
 * waits are counted), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES.
 */
#ifndef SHMLOG_H
#define SHMLOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OpenTelemetry SeverityNumber values (logs data model). 0 = unspecified. */
enum shmlog_severity {
	SHMLOG_SEV_UNSPECIFIED = 0,
	SHMLOG_SEV_TRACE = 1,
	SHMLOG_SEV_DEBUG = 5,
	SHMLOG_SEV_INFO = 9,
	SHMLOG_SEV_WARN = 13,
	SHMLOG_SEV_ERROR = 17,
	SHMLOG_SEV_FATAL = 21
};

enum shmlog_attr_type {
	SHMLOG_ATTR_STR = 1,
	SHMLOG_ATTR_INT = 2,
	SHMLOG_ATTR_DOUBLE = 3,
	SHMLOG_ATTR_BOOL = 4
};

/* One attribute. Keys are at most 255 bytes; a record's attributes take
 * at most SHMLOG_ATTRS_MAX bytes in all (key and value bytes plus 4 per
 * attribute, 8 for a number). */
struct shmlog_attr {
	const char *key;
	int type; /* enum shmlog_attr_type */
	union {
		const char *s; /* UTF-8, NUL-terminated */
		int64_t i;
		double d;
		int b;
	} v;
};

#define SHMLOG_STR(k, val) ((struct shmlog_attr){ .key = (k), .type = SHMLOG_ATTR_STR, .v.s = (val) })
#define SHMLOG_INT(k, val) ((struct shmlog_attr){ .key = (k), .type = SHMLOG_ATTR_INT, .v.i = (val) })
#define SHMLOG_DOUBLE(k, val) ((struct shmlog_attr){ .key = (k), .type = SHMLOG_ATTR_DOUBLE, .v.d = (val) })
#define SHMLOG_BOOL(k, val) ((struct shmlog_attr){ .key = (k), .type = SHMLOG_ATTR_BOOL, .v.b = (val) })

/* Longest body of one record; longer captured lines are split into parts
 * (attributes shmlog.line.part and shmlog.line.last); a longer body given
 * to shmlog_log() is truncated and flagged (attribute shmlog.truncated). */
#define SHMLOG_BODY_MAX 16384
#define SHMLOG_ATTRS_MAX 8192
#define SHMLOG_SEVTEXT_MAX 32

/*
 * Writes one log record. severity: enum shmlog_severity or any 0..24;
 * severity_text: NULL or at most SHMLOG_SEVTEXT_MAX bytes; body: UTF-8
 * (invalid bytes are replaced by U+FFFD on export), body_len bytes;
 * attrs: nattrs entries or NULL.
 * Returns 0 when the record is in a ring;
 *   -ENOTCONN  no collector (library inert), record not kept;
 *   -ENOBUFS   ring full, or no room for this process in the producer
 *              or thread table: record dropped and counted;
 *   -EMSGSIZE  attributes too large: record dropped and counted;
 *   -EINVAL    bad argument (severity out of range, NULL body with len).
 */
int shmlog_log(int severity, const char *severity_text, const char *body, size_t body_len,
	       const struct shmlog_attr *attrs, size_t nattrs);

/* As shmlog_log(), with the trace context: trace_id 16 bytes, span_id 8
 * bytes (either may be NULL), W3C trace flags. */
int shmlog_log_span(int severity, const char *severity_text, const char *body, size_t body_len,
		    const struct shmlog_attr *attrs, size_t nattrs, const uint8_t trace_id[16],
		    const uint8_t span_id[8], uint8_t trace_flags);

/* printf-style convenience: formats into a stack buffer of SHMLOG_BODY_MAX
 * bytes (longer output is truncated). Returns as shmlog_log(). */
int shmlog_logf(int severity, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- metrics ---------------------------------------------------------
 * An instrument (name, unit, description, kind, histogram bounds) and a
 * series (instrument + attribute set) are registered once in the
 * segment's dictionary; the same name and attributes from any process
 * give the same ids. The hot path then carries only the series id and the
 * value: no system call, no lock, no allocation. The collector aggregates
 * per series and per producer resource and exports every
 * [metrics] export_interval_ms.
 */
enum shmlog_instrument_kind {
	SHMLOG_COUNTER = 1,        /* monotonic sum: shmlog_add() with values >= 0 */
	SHMLOG_UPDOWN_COUNTER = 2, /* sum: shmlog_add() with any value */
	SHMLOG_GAUGE = 3,          /* last value: shmlog_set() */
	SHMLOG_HISTOGRAM = 4       /* explicit buckets: shmlog_record() */
};

/* Most bucket bounds of a histogram; NULL bounds: the OpenTelemetry
 * default (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000,
 * 7500, 10000). */
#define SHMLOG_MAX_BOUNDS 24
#define SHMLOG_NAME_MAX 95
#define SHMLOG_UNIT_MAX 31
#define SHMLOG_DESC_MAX 111
#define SHMLOG_SERIES_ATTRS_MAX 224 /* encoded bytes, as for log records */

/*
 * Registers (or finds) an instrument. name: 1..SHMLOG_NAME_MAX bytes;
 * unit and description may be NULL. Returns its id (>= 0), or
 *   -EEXIST  the name exists with another kind, unit or bounds;
 *   -ENOSPC  the dictionary is full (counted in the segment, see shmtop);
 *   -EINVAL  bad name, kind or bounds (not strictly increasing, too many);
 *   -ENOTCONN no collector.
 * Not for the hot path (it may scan the dictionary); thread-safe.
 */
int shmlog_instrument(const char *name, const char *unit, const char *description, int kind,
		      const double *bounds, size_t nbounds);

/*
 * Registers (or finds) the series of an instrument with an attribute set
 * (order does not matter). Returns its id (>= 0), or -ENOSPC (dictionary
 * full, counted), -EINVAL, -EMSGSIZE (attributes too large), -ENOTCONN.
 */
int shmlog_series(int instrument, const struct shmlog_attr *attrs, size_t nattrs);

/* Hot path. Return 0, -ENOBUFS (ring, producer or thread table full:
 * dropped and counted),
 * -EINVAL (not that kind of series, or a negative counter increment),
 * -ENOTCONN. */
int shmlog_add(int series, double value);    /* counter, up-down counter */
int shmlog_set(int series, double value);    /* gauge */
int shmlog_record(int series, double value); /* histogram */

/* Emits the partial (unterminated) lines captured from fds 1 and 2, and
 * the tracebacks held for grouping (SHMLOG_MULTILINE), as records. Called
 * automatically at exit. Returns 0. */
int shmlog_flush(void);

/* 1 when attached to a collector's segment, 0 otherwise. Tries to attach
 * when not attached (at most once per second). */
int shmlog_attached(void);

#ifdef __cplusplus
}
#endif

#endif
