/* SPDX-License-Identifier: MIT */
/*
 * Configuration shared by shmlog-collector, shmlog-exporter and shmtop:
 * one ini file (inih), the OpenTelemetry environment variables, and
 * --section.key=value overrides. Precedence, highest first: command line,
 * environment, file, built-in defaults (DESIGN.md, Configuration).
 *
 * Every key is an entry of one table in config.c (section, key, type,
 * default, bounds, offsetof into struct shmlog_config, help text);
 * conf/shmlog.ini documents the same keys with their defaults.
 */
#ifndef CORE_COMMON_CONFIG_H
#define CORE_COMMON_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_HEADERS 32
#define CONFIG_STR_MAX 1024

struct config_header {
	char name[128];
	char value[CONFIG_STR_MAX]; /* secret: never printed */
};

/*
 * The per-signal exporter options ([exporter] logs_* and metrics_*, and
 * OTEL_EXPORTER_OTLP_LOGS_* / _METRICS_*). An empty string or nheaders 0
 * means "not set: use the generic key", so a zeroed struct inherits
 * everything. Numbers and booleans are kept as validated text for that
 * reason: timeout_ms is decimal, insecure "true" or "false". headers
 * holds only this signal's own entries; the exporter merges them over the
 * generic list (exporter_signal_opts()).
 */
struct config_signal {
	char endpoint[CONFIG_STR_MAX]; /* full URL, used as given (empty path: "/") */
	char protocol[32];
	char compression[16];
	struct config_header headers[CONFIG_MAX_HEADERS];
	uint32_t nheaders;
	char timeout_ms[16]; /* "" or decimal ms, 0 = no limit */
	char ca_file[PATH_MAX];
	char client_cert[PATH_MAX];
	char client_key[PATH_MAX];
	char insecure[8]; /* "", "true" or "false" */
};

struct shmlog_config {
	/* [shm] */
	char shm_namespace[64];        /* namespace = default; env SHMLOG_NAMESPACE */
	uint32_t shm_ring_slots;       /* ring_slots = 65536 (64-byte slots per CPU ring) */
	uint32_t shm_max_producers;    /* max_producers = 256 */
	uint32_t shm_max_threads;      /* max_threads = 4096 */
	uint32_t shm_dead_check_ms;    /* dead_check_ms = 1000 */
	char shm_mode[8];              /* mode = 0600: who may open the segment */
	char shm_group[64];            /* group = "": the segment's group (name or gid) */
	uint32_t shm_max_instruments;  /* max_instruments = 1024 */
	uint32_t shm_max_series;       /* max_series = 16384 */

	/* [spool] */
	char spool_dir[PATH_MAX];      /* dir = /var/tmp/shmlog/<namespace> */
	uint64_t spool_max_bytes;      /* max_bytes = 1073741824 */

	/* [collector] */
	uint32_t coll_schedule_delay_ms; /* schedule_delay_ms = 1000; OTEL_BLRP_SCHEDULE_DELAY */
	uint32_t coll_max_batch;         /* max_export_batch_size = 16384; OTEL_BLRP_MAX_EXPORT_BATCH_SIZE */
	uint32_t coll_max_batch_bytes;   /* max_batch_bytes = 4194304 */
	uint32_t coll_high_water_pct;    /* high_water_pct = 50 */
	uint32_t coll_poll_max_ms;       /* poll_max_ms = 50: idle drain interval */
	uint32_t coll_audit_events;      /* audit_events = true: audit log records (audit.h) */
	uint32_t coll_audit_interval_ms; /* audit_interval_ms = 10000: counted events at most this often */
	uint32_t coll_verify_producers;  /* verify_producers = true: claimed identity against /proc */
	char coll_unverifiable[16];      /* unverifiable_producers = accept (accept|refuse) */

	/* [resource] */
	char res_attributes[CONFIG_STR_MAX]; /* attributes = "" (k=v,k=v), added to every resource */
	char res_host_name[256];             /* host_name = "" (gethostname) */

	/* [exporter] */
	char exp_endpoint[CONFIG_STR_MAX];      /* endpoint = ""; OTEL_EXPORTER_OTLP_ENDPOINT; empty: files in <spool>/out */
	char exp_protocol[32];                  /* protocol = http/protobuf; OTEL_EXPORTER_OTLP_PROTOCOL */
	char exp_compression[16];               /* compression = gzip (gzip|zstd|none); OTEL_EXPORTER_OTLP_COMPRESSION */
	struct config_header exp_headers[CONFIG_MAX_HEADERS]; /* headers = "" (k=v,k=v); OTEL_EXPORTER_OTLP_HEADERS, OTEL_HEADER_<name> */
	uint32_t exp_nheaders;
	uint32_t exp_timeout_ms;       /* timeout_ms = 10000; OTEL_EXPORTER_OTLP_TIMEOUT */
	uint32_t exp_max_in_flight;    /* max_in_flight = 4 */
	uint32_t exp_retry_initial_ms; /* retry_initial_ms = 1000 */
	uint32_t exp_retry_max_ms;     /* retry_max_ms = 30000 */
	uint32_t exp_retry_max_elapsed_ms; /* retry_max_elapsed_ms = 0 (retry until delivered or dropped by the spool budget) */
	uint32_t exp_scan_interval_ms; /* scan_interval_ms = 200 */
	char exp_ca_file[PATH_MAX];    /* ca_file = ""; OTEL_EXPORTER_OTLP_CERTIFICATE */
	char exp_client_cert[PATH_MAX];/* client_cert = ""; OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE */
	char exp_client_key[PATH_MAX]; /* client_key = ""; OTEL_EXPORTER_OTLP_CLIENT_KEY */
	uint32_t exp_insecure;         /* insecure = false: skip TLS verification */
	uint32_t exp_gzip_level;       /* gzip_level = 1 (zlib 1..9) */
	uint32_t exp_zstd_level;       /* zstd_level = 3 (1..19) */
	struct config_signal exp_logs;    /* logs_* keys; OTEL_EXPORTER_OTLP_LOGS_* */
	struct config_signal exp_metrics; /* metrics_* keys; OTEL_EXPORTER_OTLP_METRICS_* */

	/* [metrics] */
	uint32_t met_export_interval_ms; /* export_interval_ms = 10000; OTEL_METRIC_EXPORT_INTERVAL */
	char met_temporality[16];        /* temporality = cumulative (cumulative|delta|lowmemory);
					  * OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE */
	char met_grouping[16];           /* grouping = process (process|service|host) */
	uint32_t met_cardinality_limit;  /* cardinality_limit = 2000 series per instrument */
	uint32_t met_host_metrics;       /* host_metrics = true: container, process, GPU */
	uint32_t met_sample_interval_ms; /* sample_interval_ms = 10000 */
	char met_naming[16];             /* naming = semconv (semconv|modal) */
	char met_container_id[128];      /* container_id = "" (modal naming attributes) */
	char met_environment_name[128];  /* environment_name = "" */
	char met_workspace_name[128];    /* workspace_name = "" */
	char met_cgroup_root[PATH_MAX];  /* cgroup_root = /sys/fs/cgroup */
	char met_proc_root[PATH_MAX];    /* proc_root = /proc */
	char met_nvml_library[PATH_MAX]; /* nvml_library = libnvidia-ml.so.1 */
	char met_histogram_aggregation[32]; /* histogram_aggregation = explicit_bucket_histogram;
					     * OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION */

	/* [log] */
	char log_level[16];            /* level = info (error|warn|info|debug) */

	/* OTEL_SERVICE_NAME for the agent's own resource (not the producers') */
	char service_name[256];        /* [resource] service_name = shmlog */

	/* OTEL_SDK_DISABLED=true seen (not a key). The daemons are not SDKs
	 * and run anyway; config_load() logs that once. */
	uint32_t sdk_disabled;
};

/*
 * Fills cfg: defaults, then the file (when file is not NULL), then the
 * environment, then every "--section.key=value" in argv (other arguments
 * are left for the caller; argv entries consumed are not modified).
 *
 * Per-signal keys (logs_*, metrics_* and their OTEL_EXPORTER_OTLP_LOGS_* /
 * _METRICS_* variables) beat the generic key of the same source, but each
 * source is a layer: a generic value set by a higher source (command line
 * over environment over file) replaces the per-signal values of the lower
 * ones, so "command line > environment > file > defaults" holds without
 * exception. Headers are merged by name the same way: a header named by a
 * higher source replaces the same-named per-signal header of a lower one.
 * Returns 0, or -EINVAL / -ENOENT with one line in err, shaped like
 *   "shmlog.ini:12: unknown key 'endpont' in [exporter]"
 *   "shmlog.ini:3: [spool] max_bytes = 'lots': expected a size in bytes"
 *   "--exporter.compression=lz4: expected gzip, zstd or none"
 *   "OTEL_EXPORTER_OTLP_COMPRESSION=lz4: expected gzip, zstd or none"
 * Header values never appear in err.
 */
int config_load(struct shmlog_config *cfg, const char *file, int argc, char **argv, char *err,
		size_t errlen);

/* Prints every key with its effective value, header values masked, one
 * "[section] key = value" per line (for --print-config). */
void config_dump(const struct shmlog_config *cfg, int fd);

/* Prints every key with its default, help text, choices, bounds and
 * environment variable, from the table the parser uses (--help-config),
 * so the reference and the behaviour cannot drift. */
void config_help(int fd);

/* True when arg looks like "--section.key=value" (so main() can skip it). */
int config_is_override(const char *arg);

/*
 * Iterates a "k1=v1,k2=v2" list as OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS write it (res_attributes is stored in this
 * form): blanks around keys and values are trimmed, empty elements
 * skipped, then %XX escapes decoded into key / val. *cursor starts at the
 * list and is advanced past each pair. Returns 1 with a pair, 0 at the
 * end, -EINVAL for an element without '=', an empty key or a bad escape,
 * -E2BIG when a key or value does not fit. Thread-safe.
 */
int config_kv_next(const char **cursor, char *key, size_t keylen, char *val, size_t vallen);

#endif
