/* SPDX-License-Identifier: MIT */
/*
 * Configuration loading for shmlog-collector, shmlog-exporter and shmtop,
 * called once from main() before any thread starts (not thread-safe:
 * it reads the environment and sets log_level).
 *
 * One table, config_keys[], describes every key: section, name, type,
 * default (as text, parsed like any user value so the table cannot hold
 * an out-of-range default), bounds, where it lives in struct
 * shmlog_config and a help line. The four sources are applied in
 * increasing precedence: defaults, the ini file (through inih), the
 * OpenTelemetry environment variables (config_envs[]), then
 * --section.key=value arguments. The first error stops loading with one
 * line that names where the bad value came from; header values (secrets)
 * are never copied into it. conf/shmlog.ini documents the same keys.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "log.h"
#include "spool_file.h"

#define CONFIG_FILE_MAX (1u << 20) /* a config file is never this big */
#define CONFIG_SHOW_MAX 120	   /* longest value quoted in an error */
#define CONFIG_SPOOL_BASE "/var/tmp/shmlog/"
#define CONFIG_MASK "***"

enum config_type {
	CFG_STR = 0, /* text, optionally restricted by CFG_F_* flags */
	CFG_U32,     /* decimal integer */
	CFG_SIZE,    /* bytes with optional k/m/g suffix (1024-based); u32 or u64 field */
	CFG_BOOL,    /* true/false, yes/no, on/off, 1/0; u32 field holding 0 or 1 */
	CFG_ENUM,    /* one of choices[], case-insensitive, stored as written there */
	CFG_HEADERS, /* name=value list merged into exp_headers / exp_nheaders */
	CFG_TYPE_NR  /* count sentinel */
};

#define CFG_F_POW2 0x1u /* CFG_U32: a power of two */
#define CFG_F_NAME 0x2u /* CFG_STR: becomes part of shm and file names */
#define CFG_F_URL 0x4u	/* CFG_STR: empty, or an http:// or https:// URL */
#define CFG_F_KV 0x8u	/* CFG_STR: k=v,k=v as OTEL_RESOURCE_ATTRIBUTES */
#define CFG_F_GEN 0x10u /* generic [exporter] key with logs_ and metrics_ twins */
#define CFG_F_SIG 0x20u /* per-signal twin: empty = inherit; numbers kept as text */

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	unsigned int flags;
	const char *def;
	uint64_t min;
	uint64_t max;
	size_t off;  /* offsetof(struct shmlog_config, field) */
	size_t size; /* sizeof(field) */
	const char *const *choices;
	const char *help;
};

#define FIELD(f)                                                                                   \
	.off = offsetof(struct shmlog_config, f), .size = sizeof(((struct shmlog_config *)0)->f)

/*
 * The per-signal twins of the generic [exporter] keys, "<signal>_<key>".
 * Empty (the default) inherits the generic key; see config.h for the
 * precedence between the two.
 */
/* clang-format off */
#define SIGNAL_KEYS(s)                                                                             \
	{"exporter", #s "_endpoint", CFG_STR, CFG_F_URL | CFG_F_SIG, "", 0, 0,                     \
	 FIELD(exp_##s.endpoint), NULL,                                                            \
	 "full URL for " #s ", used as given (an empty path becomes /); empty: endpoint + "        \
	 "/v1/" #s},                                                                               \
	{"exporter", #s "_protocol", CFG_ENUM, CFG_F_SIG, "", 0, 0, FIELD(exp_##s.protocol),       \
	 protocol_choices, "wire protocol of " #s "; empty: protocol"},                             \
	{"exporter", #s "_compression", CFG_ENUM, CFG_F_SIG, "", 0, 0, FIELD(exp_##s.compression), \
	 compression_choices, "compression of " #s "; empty: compression"},                         \
	{"exporter", #s "_headers", CFG_HEADERS, CFG_F_SIG, "", 0, 0, FIELD(exp_##s.headers),     \
	 NULL, "headers of " #s " requests only, merged over headers (same name: this one)"},       \
	{"exporter", #s "_timeout_ms", CFG_U32, CFG_F_SIG, "", 0, 3600000,                         \
	 FIELD(exp_##s.timeout_ms), NULL, "per-request timeout of " #s "; empty: timeout_ms"},      \
	{"exporter", #s "_ca_file", CFG_STR, CFG_F_SIG, "", 0, 0, FIELD(exp_##s.ca_file), NULL,    \
	 "CA bundle for " #s "; empty: ca_file"},                                                  \
	{"exporter", #s "_client_cert", CFG_STR, CFG_F_SIG, "", 0, 0, FIELD(exp_##s.client_cert),  \
	 NULL, "client certificate for " #s "; empty: client_cert"},                                \
	{"exporter", #s "_client_key", CFG_STR, CFG_F_SIG, "", 0, 0, FIELD(exp_##s.client_key),    \
	 NULL, "client key for " #s "; empty: client_key"},                                         \
	{                                                                                          \
		"exporter", #s "_insecure", CFG_BOOL, CFG_F_SIG, "", 0, 1, FIELD(exp_##s.insecure), \
		    NULL, "skip TLS verification for " #s "; empty: insecure"                      \
	}
/* clang-format on */

static const char *const protocol_choices[] = {"http/protobuf", "http/json", "grpc", NULL};
static const char *const compression_choices[] = {"gzip", "zstd", "none", NULL};
static const char *const level_choices[] = {"error", "warn", "info", "debug", NULL};
static const char *const temporality_choices[] = {"cumulative", "delta", "lowmemory", NULL};
static const char *const grouping_choices[] = {"process", "service", "host", NULL};
static const char *const naming_choices[] = {"semconv", "modal", NULL};
/* base2_exponential_bucket_histogram is not implemented: refused by name. */
static const char *const histogram_choices[] = {"explicit_bucket_histogram", NULL};
static const char *const unverifiable_choices[] = {"accept", "refuse", NULL};
/* Producers need read and write access: owner only, plus the group, plus
 * everyone. */
static const char *const shm_mode_choices[] = {"0600", "0660", "0666", NULL};

static const struct config_key config_keys[] = {
    {"shm", "namespace", CFG_STR, CFG_F_NAME, "default", 0, 0, FIELD(shm_namespace), NULL,
     "shared-memory segment that producers, collector and shmtop meet in"},
    {"shm", "ring_slots", CFG_U32, CFG_F_POW2, "65536", 4096, 1u << 24, FIELD(shm_ring_slots), NULL,
     "64-byte slots per CPU ring"},
    {"shm", "max_producers", CFG_U32, 0, "256", 16, 65535, FIELD(shm_max_producers), NULL,
     "producer processes attached at once"},
    {"shm", "max_threads", CFG_U32, 0, "4096", 64, 1000000, FIELD(shm_max_threads), NULL,
     "producer threads attached at once"},
    {"shm", "dead_check_ms", CFG_U32, 0, "1000", 10, 3600000, FIELD(shm_dead_check_ms), NULL,
     "how often the collector looks for producers that died"},
    {"shm", "mode", CFG_ENUM, 0, "0600", 0, 0, FIELD(shm_mode), shm_mode_choices,
     "who may attach: 0600 the collector's user, 0660 also [shm] group, 0666 every user"},
    {"shm", "group", CFG_STR, 0, "", 0, 0, FIELD(shm_group), NULL,
     "group (name or number) of the segment, for mode 0660; empty: the collector's"},

    {"shm", "max_instruments", CFG_U32, 0, "1024", 16, 65536, FIELD(shm_max_instruments), NULL,
     "metric instruments in the segment's dictionary"},
    {"shm", "max_series", CFG_U32, 0, "16384", 64, 4194304, FIELD(shm_max_series), NULL,
     "metric series (instrument + attributes) in the segment's dictionary"},

    {"spool", "dir", CFG_STR, 0, "", 0, 0, FIELD(spool_dir), NULL,
     "spool directory; empty: " CONFIG_SPOOL_BASE "<namespace>"},
    {"spool", "max_bytes", CFG_SIZE, 0, "1073741824", 1u << 20, UINT64_MAX, FIELD(spool_max_bytes),
     NULL, "spool budget; the oldest requests are dropped beyond it (also on a full disk)"},

    {"collector", "schedule_delay_ms", CFG_U32, 0, "1000", 1, 3600000,
     FIELD(coll_schedule_delay_ms), NULL, "longest wait before a partial batch is written"},
    {"collector", "max_export_batch_size", CFG_U32, 0, "16384", 1, 1000000, FIELD(coll_max_batch),
     NULL, "records per OTLP request"},
    {"collector", "max_batch_bytes", CFG_SIZE, 0, "4194304", 4096, SPOOL_MAX_PAYLOAD,
     FIELD(coll_max_batch_bytes), NULL, "serialized bytes per OTLP request"},
    {"collector", "high_water_pct", CFG_U32, 0, "50", 1, 99, FIELD(coll_high_water_pct), NULL,
     "ring fill level that triggers an immediate drain"},
    {"collector", "poll_max_ms", CFG_U32, 0, "50", 1, 60000, FIELD(coll_poll_max_ms), NULL,
     "idle drain interval"},
    {"collector", "audit_events", CFG_BOOL, 0, "true", 0, 1, FIELD(coll_audit_events), NULL,
     "emit audit log records (producer attached/detached/refused, invalid records, ...)"},
    {"collector", "audit_interval_ms", CFG_U32, 0, "10000", 100, 3600000,
     FIELD(coll_audit_interval_ms), NULL,
     "at most one invalid-records / auth-failure event per ring or exporter this often"},
    {"collector", "verify_producers", CFG_BOOL, 0, "true", 0, 1, FIELD(coll_verify_producers),
     NULL, "check each producer's claimed pid, uid and start time against /proc"},
    {"collector", "unverifiable_producers", CFG_ENUM, 0, "accept", 0, 0,
     FIELD(coll_unverifiable), unverifiable_choices,
     "producers whose pid /proc does not show (exited, other pid namespace)"},

    {"resource", "attributes", CFG_STR, CFG_F_KV, "", 0, 0, FIELD(res_attributes), NULL,
     "k=v,k=v (percent-encoded) added to every resource"},
    {"resource", "host_name", CFG_STR, 0, "", 0, 0, FIELD(res_host_name), NULL,
     "host.name; empty: gethostname()"},
    {"resource", "service_name", CFG_STR, 0, "shmlog", 0, 0, FIELD(service_name), NULL,
     "service.name of the agent's own telemetry"},

    {"metrics", "export_interval_ms", CFG_U32, 0, "10000", 100, 3600000,
     FIELD(met_export_interval_ms), NULL, "how often metrics are exported"},
    {"metrics", "temporality", CFG_ENUM, 0, "cumulative", 0, 0, FIELD(met_temporality),
     temporality_choices, "aggregation temporality preference, as the OTLP exporter spec"},
    {"metrics", "grouping", CFG_ENUM, 0, "process", 0, 0, FIELD(met_grouping), grouping_choices,
     "resource of metrics: per process, per service.name, or per host"},
    {"metrics", "cardinality_limit", CFG_U32, 0, "2000", 2, 1000000, FIELD(met_cardinality_limit),
     NULL, "series per instrument before the overflow series"},
    {"metrics", "host_metrics", CFG_BOOL, 0, "true", 0, 1, FIELD(met_host_metrics), NULL,
     "sample container, process and GPU metrics"},
    {"metrics", "sample_interval_ms", CFG_U32, 0, "10000", 100, 3600000,
     FIELD(met_sample_interval_ms), NULL, "how often host metrics are sampled"},
    {"metrics", "naming", CFG_ENUM, 0, "semconv", 0, 0, FIELD(met_naming), naming_choices,
     "host metric names: OpenTelemetry semantic conventions, or Modal's"},
    {"metrics", "container_id", CFG_STR, 0, "", 0, 0, FIELD(met_container_id), NULL,
     "container_id attribute (modal naming)"},
    {"metrics", "environment_name", CFG_STR, 0, "", 0, 0, FIELD(met_environment_name), NULL,
     "environment_name attribute (modal naming)"},
    {"metrics", "workspace_name", CFG_STR, 0, "", 0, 0, FIELD(met_workspace_name), NULL,
     "workspace_name attribute (modal naming)"},
    {"metrics", "cgroup_root", CFG_STR, 0, "/sys/fs/cgroup", 0, 0, FIELD(met_cgroup_root), NULL,
     "where the cgroup filesystem is mounted"},
    {"metrics", "proc_root", CFG_STR, 0, "/proc", 0, 0, FIELD(met_proc_root), NULL,
     "where procfs is mounted"},
    {"metrics", "nvml_library", CFG_STR, 0, "libnvidia-ml.so.1", 0, 0, FIELD(met_nvml_library),
     NULL, "NVML shared library, loaded with dlopen"},
    {"metrics", "histogram_aggregation", CFG_ENUM, 0, "explicit_bucket_histogram", 0, 0,
     FIELD(met_histogram_aggregation), histogram_choices,
     "histogram aggregation; base2_exponential_bucket_histogram is not supported"},

    {"exporter", "endpoint", CFG_STR, CFG_F_URL | CFG_F_GEN, "", 0, 0, FIELD(exp_endpoint), NULL,
     "OTLP base URL (/v1/logs and /v1/metrics are appended); empty: OTLP/JSON files in "
     "<spool>/out"},
    {"exporter", "protocol", CFG_ENUM, CFG_F_GEN, "http/protobuf", 0, 0, FIELD(exp_protocol),
     protocol_choices, "wire protocol"},
    {"exporter", "compression", CFG_ENUM, CFG_F_GEN, "gzip", 0, 0, FIELD(exp_compression),
     compression_choices, "request body compression"},
    {"exporter", "gzip_level", CFG_U32, 0, "1", 1, 9, FIELD(exp_gzip_level), NULL,
     "zlib level of gzip: 1 fastest, 9 smallest"},
    {"exporter", "zstd_level", CFG_U32, 0, "3", 1, 19, FIELD(exp_zstd_level), NULL,
     "zstd level: 1 fastest, 19 smallest"},
    {"exporter", "headers", CFG_HEADERS, CFG_F_GEN, "", 0, 0, FIELD(exp_headers), NULL,
     "name=value,name=value sent with every request (percent-encoded)"},
    {"exporter", "timeout_ms", CFG_U32, CFG_F_GEN, "10000", 0, 3600000, FIELD(exp_timeout_ms), NULL,
     "per-request timeout; 0: none"},
    {"exporter", "max_in_flight", CFG_U32, 0, "4", 1, 64, FIELD(exp_max_in_flight), NULL,
     "requests sent concurrently"},
    {"exporter", "retry_initial_ms", CFG_U32, 0, "1000", 1, 3600000, FIELD(exp_retry_initial_ms),
     NULL, "first retry back-off"},
    {"exporter", "retry_max_ms", CFG_U32, 0, "30000", 1, 3600000, FIELD(exp_retry_max_ms), NULL,
     "longest retry back-off"},
    {"exporter", "retry_max_elapsed_ms", CFG_U32, 0, "0", 0, UINT32_MAX,
     FIELD(exp_retry_max_elapsed_ms), NULL, "give up on a request after this long; 0: never"},
    {"exporter", "scan_interval_ms", CFG_U32, 0, "200", 1, 60000, FIELD(exp_scan_interval_ms), NULL,
     "spool rescan interval"},
    {"exporter", "ca_file", CFG_STR, CFG_F_GEN, "", 0, 0, FIELD(exp_ca_file), NULL,
     "PEM CA bundle that verifies the server"},
    {"exporter", "client_cert", CFG_STR, CFG_F_GEN, "", 0, 0, FIELD(exp_client_cert), NULL,
     "PEM client certificate for mTLS"},
    {"exporter", "client_key", CFG_STR, CFG_F_GEN, "", 0, 0, FIELD(exp_client_key), NULL,
     "PEM client key for mTLS"},
    {"exporter", "insecure", CFG_BOOL, CFG_F_GEN, "false", 0, 1, FIELD(exp_insecure), NULL,
     "skip TLS certificate verification"},
    SIGNAL_KEYS(logs),
    SIGNAL_KEYS(metrics),

    {"log", "level", CFG_ENUM, 0, "info", 0, 0, FIELD(log_level), level_choices,
     "daemon log level"},
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

#define ENV_F_OTEL_BOOL 0x1u   /* OpenTelemetry boolean: only "true" is true */
#define ENV_F_HEADER_VARS 0x2u /* OTEL_HEADER_<name> are applied right after this one */

/*
 * Environment variables, applied in this order (later wins), after the
 * file and before the command line. All generic variables come before
 * the per-signal ones because the specification ranks a per-signal
 * variable higher; OTEL_BLRP_EXPORT_TIMEOUT and OTEL_METRIC_EXPORT_TIMEOUT
 * sit between OTEL_EXPORTER_OTLP_TIMEOUT and the per-signal _TIMEOUT.
 * OTEL_HEADER_<name> adds to the generic list right after
 * OTEL_EXPORTER_OTLP_HEADERS (so it wins over it by name).
 */
struct config_env {
	const char *var;
	const char *section;
	const char *key;
	unsigned int flags;
};

/* clang-format off */
#define SIGNAL_ENVS(S, s)                                                                          \
	{"OTEL_EXPORTER_OTLP_" S "_ENDPOINT", "exporter", s "_endpoint", 0},                       \
	    {"OTEL_EXPORTER_OTLP_" S "_PROTOCOL", "exporter", s "_protocol", 0},                   \
	    {"OTEL_EXPORTER_OTLP_" S "_COMPRESSION", "exporter", s "_compression", 0},             \
	    {"OTEL_EXPORTER_OTLP_" S "_TIMEOUT", "exporter", s "_timeout_ms", 0},                  \
	    {"OTEL_EXPORTER_OTLP_" S "_CERTIFICATE", "exporter", s "_ca_file", 0},                 \
	    {"OTEL_EXPORTER_OTLP_" S "_CLIENT_CERTIFICATE", "exporter", s "_client_cert", 0},      \
	    {"OTEL_EXPORTER_OTLP_" S "_CLIENT_KEY", "exporter", s "_client_key", 0},               \
	    {"OTEL_EXPORTER_OTLP_" S "_INSECURE", "exporter", s "_insecure", ENV_F_OTEL_BOOL},     \
	{                                                                                          \
		"OTEL_EXPORTER_OTLP_" S "_HEADERS", "exporter", s "_headers", 0                     \
	}
/* clang-format on */

static const struct config_env config_envs[] = {
    {"SHMLOG_NAMESPACE", "shm", "namespace", 0},
    {"OTEL_SERVICE_NAME", "resource", "service_name", 0},
    {"OTEL_RESOURCE_ATTRIBUTES", "resource", "attributes", 0},
    {"OTEL_BLRP_SCHEDULE_DELAY", "collector", "schedule_delay_ms", 0},
    {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "collector", "max_export_batch_size", 0},
    {"OTEL_METRIC_EXPORT_INTERVAL", "metrics", "export_interval_ms", 0},
    {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "metrics", "temporality", 0},
    {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "metrics", "histogram_aggregation",
     0},
    {"OTEL_EXPORTER_OTLP_ENDPOINT", "exporter", "endpoint", 0},
    {"OTEL_EXPORTER_OTLP_PROTOCOL", "exporter", "protocol", 0},
    {"OTEL_EXPORTER_OTLP_COMPRESSION", "exporter", "compression", 0},
    {"OTEL_EXPORTER_OTLP_TIMEOUT", "exporter", "timeout_ms", 0},
    {"OTEL_EXPORTER_OTLP_CERTIFICATE", "exporter", "ca_file", 0},
    {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "exporter", "client_cert", 0},
    {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "exporter", "client_key", 0},
    {"OTEL_EXPORTER_OTLP_INSECURE", "exporter", "insecure", ENV_F_OTEL_BOOL},
    {"OTEL_EXPORTER_OTLP_HEADERS", "exporter", "headers", ENV_F_HEADER_VARS},
    {"OTEL_BLRP_EXPORT_TIMEOUT", "exporter", "logs_timeout_ms", 0},
    {"OTEL_METRIC_EXPORT_TIMEOUT", "exporter", "metrics_timeout_ms", 0},
    SIGNAL_ENVS("LOGS", "logs"),
    SIGNAL_ENVS("METRICS", "metrics"),
};

/*
 * Variables of the specification that have no effect here, with the
 * reason config_load() logs (at info level) when one is set.
 */
static const struct {
	const char *var;
	const char *why;
} config_envs_ignored[] = {
    {"OTEL_BLRP_MAX_QUEUE_SIZE",
     "ignored: the rings ([shm] ring_slots) and the spool ([spool] max_bytes) are the queue, "
     "and what they cannot hold is dropped and counted"},
    {"OTEL_SDK_DISABLED", "producers started with it stay inert; the daemons are not SDKs and "
			  "run anyway"},
};

#define CONFIG_NENVS (sizeof(config_envs) / sizeof(config_envs[0]))

/*
 * OTEL_HEADER_<name>=<value> adds one header. Environment variable names
 * cannot portably hold '-', which most header names contain, so every
 * '_' in <name> becomes '-' (OTEL_HEADER_api_key -> "api-key"); letter
 * case is kept as given. The value is used literally (no percent-decoding:
 * there is no list to escape ',' or '=' from), with surrounding blanks
 * trimmed.
 */
#define CONFIG_ENV_HEADER_PFX "OTEL_HEADER_"

/* Sources, lowest first: what a value was last set by (config.h). */
enum config_layer {
	LAYER_DEFAULT = 0,
	LAYER_FILE = 1,
	LAYER_ENV = 2,
	LAYER_CLI = 3,
	LAYER_NR /* count sentinel */
};

/* Header lists: the generic one and one per signal. */
#define HDR_LISTS 3

/* State of one config_load() call. */
struct config_ld {
	struct shmlog_config *cfg;
	char *err;
	size_t errlen;
	enum config_layer layer;			  /* source being applied */
	uint8_t key_layer[CONFIG_NKEYS];		  /* per-signal keys: who set them */
	uint8_t hdr_layer[HDR_LISTS][CONFIG_MAX_HEADERS]; /* who set each header */
	/* ini file pass */
	const char *file;
	const char *pos; /* unread part of the file image */
	const char *end;
	int lineno;	  /* line last handed to inih */
	char *long_value; /* value of the current line when it was too long for inih */
	int failed;	  /* an error is in err: stop */
	int err_line;	  /* lineno when it was recorded */
};

static int ld_fail(struct config_ld *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int ld_fail(struct config_ld *ld, const char *fmt, ...)
{
	va_list ap;

	ld->failed = 1;
	ld->err_line = ld->lineno;
	if (!ld->err || !ld->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err, ld->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Copies at most n bytes of v for an error line: control characters
 * become '?' (no terminal escapes from a hostile value), long values are
 * cut with "...".
 */
static const char *show_n(char *out, size_t outlen, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && v[i] && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)v[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
	if (i < n && v[i] && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
	return out;
}

static const char *show(char *out, size_t outlen, const char *v)
{
	return show_n(out, outlen, v, SIZE_MAX);
}

/*
 * A URL as it may be shown: the userinfo ("user:password@", a key either
 * way) and the query and fragment (where some backends take a key) become
 * CONFIG_MASK: "https://u:k@h:1/p?api-key=x" is shown as https://MASK@h:1/p?MASK.
 * Without "://" whatever precedes an '@' is masked.
 */
static const char *show_url(char *out, size_t outlen, const char *v)
{
	char tmp[CONFIG_STR_MAX + 32];
	const char *auth = strstr(v, "://"), *end, *at = NULL, *q, *p;
	size_t alen;

	auth = auth ? auth + 3 : v;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	q = end + strcspn(end, "?#");
	alen = (size_t)(auth - v);
	snprintf(tmp, sizeof(tmp), "%.*s%s%.*s%s", (int)alen, v, at ? CONFIG_MASK "@" : "",
		 (int)(q - (at ? at + 1 : auth)), at ? at + 1 : auth, *q ? "?" CONFIG_MASK : "");
	return show(out, outlen, tmp);
}

/* A value of k as error messages and --print-config show it: header values
 * are secrets, URLs lose their credentials. */
static const char *show_key(const struct config_key *k, char *out, size_t outlen, const char *v)
{
	if (k->type == CFG_HEADERS)
		return CONFIG_MASK;
	if (k->flags & CFG_F_URL)
		return show_url(out, outlen, v);
	return show(out, outlen, v);
}

static const struct config_key *key_find(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (!strcmp(config_keys[i].section, section) && !strcmp(config_keys[i].key, key))
			return &config_keys[i];
	return NULL;
}

static int section_known(const char *section, size_t len)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strlen(config_keys[i].section) == len &&
		    !memcmp(config_keys[i].section, section, len))
			return 1;
	return 0;
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes %XX escapes of [s, s + len) into out. -EINVAL, -E2BIG or 0. */
static int pct_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= len)
				return -EINVAL;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (n + 1 >= outlen)
			return -E2BIG;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

int config_kv_next(const char **cursor, char *key, size_t keylen, char *val, size_t vallen)
{
	const char *p = *cursor, *end, *eq, *ks, *ke, *vs, *ve;
	int ret;

	while (*p == ',' || isspace((unsigned char)*p))
		p++;
	if (!*p) {
		*cursor = p;
		return 0;
	}
	end = strchr(p, ',');
	if (!end)
		end = p + strlen(p);
	eq = memchr(p, '=', (size_t)(end - p));
	if (!eq)
		return -EINVAL;
	ks = p;
	ke = eq;
	vs = eq + 1;
	ve = end;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke)
		return -EINVAL;
	ret = pct_decode(ks, (size_t)(ke - ks), key, keylen);
	if (ret < 0)
		return ret;
	ret = pct_decode(vs, (size_t)(ve - vs), val, vallen);
	if (ret < 0)
		return ret;
	*cursor = *end ? end + 1 : end;
	return 1;
}

/* RFC 9110 token characters: what an HTTP field name may contain. */
static int header_name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

/* A value may not smuggle a CR/LF into the request (HTAB is allowed). */
static int header_value_ok(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

/* The header list of key k (the generic one, or a signal's). */
static int hdr_list_of(struct shmlog_config *cfg, size_t off, struct config_header **h,
		       uint32_t **n)
{
	if (off == offsetof(struct shmlog_config, exp_logs.headers)) {
		*h = cfg->exp_logs.headers;
		*n = &cfg->exp_logs.nheaders;
		return 1;
	}
	if (off == offsetof(struct shmlog_config, exp_metrics.headers)) {
		*h = cfg->exp_metrics.headers;
		*n = &cfg->exp_metrics.nheaders;
		return 2;
	}
	*h = cfg->exp_headers;
	*n = &cfg->exp_nheaders;
	return 0;
}

/* Removes entry i of list l (keeping the order of the others). */
static void hdr_remove(struct config_ld *ld, int l, uint32_t i)
{
	struct config_header *h;
	uint32_t *n;

	hdr_list_of(ld->cfg,
		    l == 1   ? offsetof(struct shmlog_config, exp_logs.headers)
		    : l == 2 ? offsetof(struct shmlog_config, exp_metrics.headers)
			     : offsetof(struct shmlog_config, exp_headers),
		    &h, &n);
	memmove(&h[i], &h[i + 1], (*n - i - 1) * sizeof(h[0]));
	memmove(&ld->hdr_layer[l][i], &ld->hdr_layer[l][i + 1], *n - i - 1);
	memset(&h[*n - 1], 0, sizeof(h[0]));
	(*n)--;
}

/*
 * Adds or replaces (by case-insensitive name) one header in the list at
 * off. A generic header from a higher source also removes the same-named
 * per-signal headers of lower sources (config.h).
 */
static int header_put(struct config_ld *ld, size_t off, const char *name, const char *value,
		      char *why, size_t whylen)
{
	struct config_header *list, *h = NULL, *sl;
	uint32_t i, *n, *sn;
	int l, s;

	if (!header_name_ok(name)) {
		snprintf(why, whylen, "a header name is not a valid HTTP field name");
		return -EINVAL;
	}
	if (strlen(name) >= sizeof(h->name) || strlen(value) >= sizeof(h->value)) {
		snprintf(why, whylen, "header '%.64s': name or value too long", name);
		return -EINVAL;
	}
	if (!header_value_ok(value)) {
		snprintf(why, whylen, "header '%s': control character in value", name);
		return -EINVAL;
	}
	l = hdr_list_of(ld->cfg, off, &list, &n);
	for (i = 0; i < *n; i++)
		if (!strcasecmp(list[i].name, name))
			h = &list[i];
	if (!h) {
		if (*n >= CONFIG_MAX_HEADERS) {
			snprintf(why, whylen, "more than %d headers", CONFIG_MAX_HEADERS);
			return -EINVAL;
		}
		h = &list[(*n)++];
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->value, sizeof(h->value), "%s", value);
	ld->hdr_layer[l][h - list] = (uint8_t)ld->layer;
	if (l != 0)
		return 0;
	for (s = 1; s < HDR_LISTS; s++) {
		hdr_list_of(ld->cfg,
			    s == 1 ? offsetof(struct shmlog_config, exp_logs.headers)
				   : offsetof(struct shmlog_config, exp_metrics.headers),
			    &sl, &sn);
		for (i = 0; i < *sn; i++) {
			if (!strcasecmp(sl[i].name, name) && ld->hdr_layer[s][i] < ld->layer) {
				hdr_remove(ld, s, i);
				break;
			}
		}
	}
	return 0;
}

static int headers_merge(struct config_ld *ld, size_t off, const char *list, char *why,
			 size_t whylen)
{
	char name[sizeof(ld->cfg->exp_headers[0].name)];
	char value[sizeof(ld->cfg->exp_headers[0].value)];
	const char *cur = list;
	unsigned int idx;
	int ret;

	for (idx = 1;; idx++) {
		ret = config_kv_next(&cur, name, sizeof(name), value, sizeof(value));
		if (ret == 0)
			return 0;
		if (ret == -E2BIG) {
			snprintf(why, whylen, "header %u: name or value too long", idx);
			return -EINVAL;
		}
		if (ret < 0) {
			snprintf(why, whylen,
				 "header %u: expected name=value pairs separated by ',' "
				 "with %%XX escapes",
				 idx);
			return -EINVAL;
		}
		ret = header_put(ld, off, name, value, why, whylen);
		if (ret < 0)
			return ret;
	}
}

static int kv_list_ok(const char *list)
{
	char k[CONFIG_STR_MAX], v[CONFIG_STR_MAX];
	const char *cur = list;
	int ret;

	while ((ret = config_kv_next(&cur, k, sizeof(k), v, sizeof(v))) > 0)
		;
	return ret;
}

/* Decimal integer with an optional k/m/g suffix: -EINVAL, -ERANGE or 0. */
static int parse_u64(const char *s, int suffix, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (suffix && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_bool(const char *s, uint32_t *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static void choices_text(const char *const *c, char *out, size_t outlen)
{
	size_t n = 0;
	int i;

	out[0] = '\0';
	for (i = 0; c[i]; i++) {
		const char *sep = i == 0 ? "" : c[i + 1] ? ", " : " or ";

		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s", sep, c[i]);
		if (n >= outlen)
			return;
	}
}

static int name_ok(const char *s)
{
	if (!*s || *s == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int url_ok(const char *s)
{
	const char *host;

	if (!*s)
		return 1;
	if (!strncasecmp(s, "http://", 7))
		host = s + 7;
	else if (!strncasecmp(s, "https://", 8))
		host = s + 8;
	else
		return 0;
	if (!*host || *host == '/')
		return 0;
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return 0;
	return 1;
}

static void store_uint(struct shmlog_config *cfg, const struct config_key *k, uint64_t v)
{
	char *dst = (char *)cfg + k->off;

	if (k->size == sizeof(uint64_t)) {
		uint64_t v64 = v;

		memcpy(dst, &v64, sizeof(v64));
	} else {
		uint32_t v32 = (uint32_t)v;

		memcpy(dst, &v32, sizeof(v32));
	}
}

/*
 * Parses val for key k and stores it in ld->cfg. On a bad value returns
 * -EINVAL with the reason (never the value itself) in why.
 */
static int key_store(struct config_ld *ld, const struct config_key *k, const char *val, char *why,
		     size_t whylen)
{
	struct shmlog_config *cfg = ld->cfg;
	char *dst = (char *)cfg + k->off;
	char list[256];
	uint64_t v = 0;
	uint32_t b;
	int ret, i;

	if ((k->flags & CFG_F_SIG) && !*val && k->type != CFG_HEADERS) {
		/* Empty per-signal value: inherit the generic key. */
		dst[0] = '\0';
		return 0;
	}
	switch (k->type) {
	case CFG_STR:
		if (strlen(val) >= k->size) {
			snprintf(why, whylen, "expected at most %zu characters", k->size - 1);
			return -EINVAL;
		}
		if (has_ctl(val)) {
			snprintf(why, whylen, "control characters are not allowed");
			return -EINVAL;
		}
		if ((k->flags & CFG_F_NAME) && !name_ok(val)) {
			snprintf(
			    why, whylen,
			    "expected letters, digits, '.', '_' or '-', not starting with '.'");
			return -EINVAL;
		}
		if ((k->flags & CFG_F_URL) && !url_ok(val)) {
			snprintf(why, whylen, "expected an http:// or https:// URL");
			return -EINVAL;
		}
		if ((k->flags & CFG_F_KV) && kv_list_ok(val) < 0) {
			snprintf(why, whylen,
				 "expected key=value pairs separated by ',' with %%XX escapes");
			return -EINVAL;
		}
		memcpy(dst, val, strlen(val) + 1);
		return 0;
	case CFG_U32:
	case CFG_SIZE:
		ret = parse_u64(val, k->type == CFG_SIZE, &v);
		if (ret == -EINVAL && k->type == CFG_SIZE) {
			snprintf(why, whylen, "expected a size in bytes");
			return -EINVAL;
		}
		if (ret < 0 || v < k->min || v > k->max ||
		    ((k->flags & CFG_F_POW2) && (v & (v - 1)))) {
			snprintf(why, whylen, "expected %s from %llu to %llu",
				 k->type == CFG_SIZE	 ? "a size in bytes"
				 : k->flags & CFG_F_POW2 ? "a power of two"
							 : "an integer",
				 (unsigned long long)k->min, (unsigned long long)k->max);
			return -EINVAL;
		}
		if (k->flags & CFG_F_SIG)
			snprintf(dst, k->size, "%llu", (unsigned long long)v);
		else
			store_uint(cfg, k, v);
		return 0;
	case CFG_BOOL:
		if (parse_bool(val, &b) < 0) {
			snprintf(why, whylen, "expected true or false");
			return -EINVAL;
		}
		if (k->flags & CFG_F_SIG)
			snprintf(dst, k->size, "%s", b ? "true" : "false");
		else
			store_uint(cfg, k, b);
		return 0;
	case CFG_ENUM:
		for (i = 0; k->choices[i]; i++) {
			if (!strcasecmp(val, k->choices[i])) {
				snprintf(dst, k->size, "%s", k->choices[i]);
				return 0;
			}
		}
		choices_text(k->choices, list, sizeof(list));
		snprintf(why, whylen, "expected %s", list);
		return -EINVAL;
	case CFG_HEADERS:
		return headers_merge(ld, k->off, val, why, whylen);
	case CFG_TYPE_NR:
		break;
	}
	snprintf(why, whylen, "internal error: bad key type");
	return -EINVAL;
}

/*
 * key_store() plus the layering of config.h: a per-signal key remembers
 * the source that set it; a generic key set by a higher source than a
 * per-signal twin's resets that twin to "inherit".
 */
static int key_set(struct config_ld *ld, const struct config_key *k, const char *val, char *why,
		   size_t whylen)
{
	static const char *const sigs[] = {"logs_", "metrics_"};
	const struct config_key *twin;
	char name[64];
	size_t i;
	int ret;

	ret = key_store(ld, k, val, why, whylen);
	if (ret < 0)
		return ret;
	if (k->flags & CFG_F_SIG) {
		ld->key_layer[k - config_keys] = (uint8_t)ld->layer;
		return 0;
	}
	if (!(k->flags & CFG_F_GEN) || k->type == CFG_HEADERS)
		return 0; /* headers: by name, in header_put() */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", sigs[i], k->key);
		twin = key_find(k->section, name);
		if (twin && ld->key_layer[twin - config_keys] < ld->layer)
			(void)key_store(ld, twin, "", why, whylen); /* "" always parses */
	}
	return 0;
}

/* ---- ini file ---------------------------------------------------------- */

/* inih's parser for [s, e): the key/value split and inline ';' comments. */
static const char *find_chars_or_comment(const char *s, const char *e, const char *chars)
{
	int was_space = 0;

	while (s < e && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/*
 * inih (Debian's build) reads lines into a 200-byte buffer and splits
 * longer ones, but header values (bearer tokens) can be longer. Such a
 * line is split here the way inih would split it, and inih is given
 * "key=-" while the real value waits in ld->long_value for ini_on_pair().
 */
static char *long_line(struct config_ld *ld, const char *s, const char *e, char *str, int num)
{
	const char *sep, *ks = s, *ke, *vs, *ve;
	size_t klen;

	sep = find_chars_or_comment(s, e, "=:");
	if (sep == e || (*sep != '=' && *sep != ':')) {
		ld_fail(ld, "%s:%d: expected '[section]' or 'key = value'", ld->file, ld->lineno);
		return NULL;
	}
	ke = sep;
	trim(&ks, &ke);
	vs = sep + 1;
	ve = find_chars_or_comment(vs, e, NULL);
	trim(&vs, &ve);
	klen = (size_t)(ke - ks);
	if (klen + 3 > (size_t)num) {
		ld_fail(ld, "%s:%d: key too long", ld->file, ld->lineno);
		return NULL;
	}
	ld->long_value = strndup(vs, (size_t)(ve - vs));
	if (!ld->long_value) {
		ld_fail(ld, "%s:%d: out of memory", ld->file, ld->lineno);
		return NULL;
	}
	memcpy(str, ks, klen);
	memcpy(str + klen, "=-", 3);
	return str;
}

/*
 * inih's line reader (fgets-like): hands out one line per call so that
 * ld->lineno is the line inih is working on. Leading blanks are removed,
 * which turns off inih's continuation lines (an indented "key = value"
 * would otherwise be glued to the previous value). Section headers are
 * checked here because inih only calls the handler for keys.
 */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct config_ld *ld = stream;
	const char *s, *e, *nl, *close;

	free(ld->long_value);
	ld->long_value = NULL;
	if (ld->failed || ld->pos >= ld->end)
		return NULL;
	s = ld->pos;
	nl = memchr(s, '\n', (size_t)(ld->end - s));
	e = nl ? nl : ld->end;
	ld->pos = nl ? nl + 1 : ld->end;
	ld->lineno++;

	if (ld->lineno == 1 && e - s >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	if (memchr(s, '\0', (size_t)(e - s))) {
		ld_fail(ld, "%s:%d: NUL byte in line", ld->file, ld->lineno);
		return NULL;
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;

	if (s < e && *s == '[') {
		close = memchr(s, ']', (size_t)(e - s));
		if (close && !section_known(s + 1, (size_t)(close - s - 1))) {
			char shown[CONFIG_SHOW_MAX];

			ld_fail(ld, "%s:%d: unknown section [%s]", ld->file, ld->lineno,
				show_n(shown, sizeof(shown), s + 1, (size_t)(close - s - 1)));
			return NULL;
		}
	}
	if (e - s + 1 <= num) {
		memcpy(str, s, (size_t)(e - s));
		str[e - s] = '\0';
		return str;
	}
	if (*s == ';' || *s == '#') {
		str[0] = '\0';
		return str;
	}
	return long_line(ld, s, e, str, num);
}

/* Copies v without one pair of surrounding double quotes. */
static char *unquote(const char *v)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
		return strndup(v + 1, len - 2);
	return strdup(v);
}

static int ini_on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct config_ld *ld = user;
	const struct config_key *k;
	char why[256], shown[CONFIG_SHOW_MAX];
	char *v;
	int ret;

	if (ld->failed)
		return 0;
	if (ld->long_value)
		value = ld->long_value;
	if (!*section) {
		ld_fail(ld, "%s:%d: key '%s' outside any [section]", ld->file, ld->lineno,
			show(shown, sizeof(shown), name));
		goto err;
	}
	if (!section_known(section, strlen(section))) {
		ld_fail(ld, "%s:%d: unknown section [%s]", ld->file, ld->lineno,
			show(shown, sizeof(shown), section));
		goto err;
	}
	k = key_find(section, name);
	if (!k) {
		ld_fail(ld, "%s:%d: unknown key '%s' in [%s]", ld->file, ld->lineno,
			show(shown, sizeof(shown), name), section);
		goto err;
	}
	v = unquote(value);
	if (!v) {
		ld_fail(ld, "%s:%d: out of memory", ld->file, ld->lineno);
		goto err;
	}
	ret = key_set(ld, k, v, why, sizeof(why));
	if (ret < 0)
		ld_fail(ld, "%s:%d: [%s] %s = '%s': %s", ld->file, ld->lineno, section, name,
			show_key(k, shown, sizeof(shown), v), why);
	free(v);
	if (ret < 0)
		goto err;
	return 1;
err:
	return 0;
}

static int load_file(struct config_ld *ld, const char *file)
{
	struct stat st;
	char *img = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		ret = -errno;
		snprintf(ld->err, ld->errlen, "%s: %s", file, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) == -1) {
		ret = -errno;
		snprintf(ld->err, ld->errlen, "%s: %s", file, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CONFIG_FILE_MAX) {
		ret = ld_fail(ld, "%s: not a regular file of at most %u bytes", file,
			      CONFIG_FILE_MAX);
		goto out;
	}
	img = malloc((size_t)st.st_size + 1);
	if (!img) {
		ret = -ENOMEM;
		snprintf(ld->err, ld->errlen, "%s: %s", file, strerror(ENOMEM));
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, img + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ret = -errno;
			snprintf(ld->err, ld->errlen, "%s: %s", file, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	img[len] = '\0';

	ld->file = file;
	ld->pos = img;
	ld->end = img + len;
	ld->lineno = 0;
	ret = ini_parse_stream(ini_read_line, ld, ini_on_pair, ld);
	free(ld->long_value);
	ld->long_value = NULL;
	if (ret > 0 && (!ld->failed || ret < ld->err_line)) {
		/* inih found a line it could not parse before our first error. */
		ld->lineno = ret;
		ret = ld_fail(ld, "%s:%d: expected '[section]' or 'key = value'", file, ret);
	} else if (ld->failed) {
		ret = -EINVAL;
	} else if (ret < 0) {
		ret = -ENOMEM;
		snprintf(ld->err, ld->errlen, "%s: %s", file, strerror(ENOMEM));
	}
out:
	free(img);
	(void)close(fd); /* read-only */
	return ret;
}

/* ---- environment and command line ------------------------------------ */

/* Trimmed copy of an environment value; NULL when unset or blank ("unset"). */
static char *env_value(const char *var)
{
	const char *v = getenv(var), *e;

	if (!v)
		return NULL;
	e = v + strlen(v);
	trim(&v, &e);
	if (v == e)
		return NULL;
	return strndup(v, (size_t)(e - v));
}

static int env_apply_one(struct config_ld *ld, const struct config_env *ce)
{
	const struct config_key *k = key_find(ce->section, ce->key);
	char why[256], shown[CONFIG_SHOW_MAX];
	char *v;
	int ret = 0;

	v = env_value(ce->var);
	if (!v)
		return 0;
	if (ce->flags & ENV_F_OTEL_BOOL) {
		/* OpenTelemetry: only "true" is true, anything else false. */
		if (strcasecmp(v, "true") && strcasecmp(v, "false"))
			LOGW("%s=%s: neither true nor false, taken as false", ce->var,
			     show(shown, sizeof(shown), v));
		ret = key_set(ld, k, strcasecmp(v, "true") ? "false" : "true", why, sizeof(why));
	} else {
		ret = key_set(ld, k, v, why, sizeof(why));
		if (ret < 0)
			ret = ld_fail(ld, "%s=%s: %s", ce->var,
				      show_key(k, shown, sizeof(shown), v), why);
	}
	free(v);
	return ret;
}

static int env_apply_header_vars(struct config_ld *ld)
{
	const size_t plen = strlen(CONFIG_ENV_HEADER_PFX);
	char name[sizeof(ld->cfg->exp_headers[0].name)];
	char why[256], var[CONFIG_SHOW_MAX];
	const char *eq, *v, *ve;
	char **env;
	size_t nlen, i;
	char *value;
	int ret;

	for (env = environ; *env; env++) {
		if (strncmp(*env, CONFIG_ENV_HEADER_PFX, plen))
			continue;
		eq = strchr(*env, '=');
		if (!eq)
			continue;
		nlen = (size_t)(eq - *env) - plen;
		show_n(var, sizeof(var), *env, (size_t)(eq - *env));
		if (nlen == 0 || nlen >= sizeof(name))
			return ld_fail(ld, "%s: expected %s<header name> of 1 to %zu characters",
				       var, CONFIG_ENV_HEADER_PFX, sizeof(name) - 1);
		for (i = 0; i < nlen; i++)
			name[i] = (*env)[plen + i] == '_' ? '-' : (*env)[plen + i];
		name[nlen] = '\0';
		v = eq + 1;
		ve = v + strlen(v);
		trim(&v, &ve);
		if (v == ve)
			continue; /* empty means unset */
		value = strndup(v, (size_t)(ve - v));
		if (!value)
			return ld_fail(ld, "out of memory");
		ret = header_put(ld, offsetof(struct shmlog_config, exp_headers), name, value, why,
				 sizeof(why));
		free(value);
		if (ret < 0)
			return ld_fail(ld, "%s=%s: %s", var, CONFIG_MASK, why);
	}
	return 0;
}

static int env_apply(struct config_ld *ld)
{
	const char *v;
	size_t i;
	int ret;

	for (i = 0; i < CONFIG_NENVS; i++) {
		ret = env_apply_one(ld, &config_envs[i]);
		if (ret < 0)
			return ret;
		if (config_envs[i].flags & ENV_F_HEADER_VARS) {
			ret = env_apply_header_vars(ld);
			if (ret < 0)
				return ret;
		}
	}
	v = getenv("OTEL_SDK_DISABLED");
	ld->cfg->sdk_disabled = v && !strcasecmp(v, "true");
	return 0;
}

int config_is_override(const char *arg)
{
	const char *eq, *dot;

	if (!arg || strncmp(arg, "--", 2) || arg[2] == '-' || arg[2] == '\0')
		return 0;
	eq = strchr(arg, '=');
	dot = strchr(arg, '.');
	return dot && (!eq || dot < eq) && dot > arg + 2;
}

static int override_apply(struct config_ld *ld, const char *arg)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	char opt[CONFIG_SHOW_MAX], shown[CONFIG_SHOW_MAX], why[256];
	char section[32], key[64];
	const struct config_key *k;
	size_t slen, klen;

	/* Only "--section.key" is echoed: a mistyped key may carry a secret. */
	show_n(opt, sizeof(opt), arg, eq ? (size_t)(eq - arg) : SIZE_MAX);
	if (!eq)
		return ld_fail(ld, "%s: expected --section.key=value", opt);
	slen = (size_t)(dot - arg - 2);
	klen = (size_t)(eq - dot - 1);
	if (slen >= sizeof(section) || !section_known(arg + 2, slen))
		return ld_fail(ld, "%s: unknown section [%s]", opt,
			       show_n(shown, sizeof(shown), arg + 2, slen));
	memcpy(section, arg + 2, slen);
	section[slen] = '\0';
	k = NULL;
	if (klen < sizeof(key)) {
		memcpy(key, dot + 1, klen);
		key[klen] = '\0';
		k = key_find(section, key);
	}
	if (!k)
		return ld_fail(ld, "%s: unknown key '%s' in [%s]", opt,
			       show_n(shown, sizeof(shown), dot + 1, klen), section);
	if (key_set(ld, k, eq + 1, why, sizeof(why)) < 0)
		return ld_fail(
		    ld, "%s=%s: %s", opt,
		    show_key(k, shown, sizeof(shown), eq + 1), why);
	return 0;
}

static int post_checks(struct config_ld *ld)
{
	struct shmlog_config *cfg = ld->cfg;
	int n, i;

	if (!cfg->spool_dir[0]) {
		n = snprintf(cfg->spool_dir, sizeof(cfg->spool_dir), CONFIG_SPOOL_BASE "%s",
			     cfg->shm_namespace);
		if (n < 0 || (size_t)n >= sizeof(cfg->spool_dir))
			return ld_fail(ld, "[spool] dir: default path too long");
	}
	if (cfg->exp_retry_max_ms < cfg->exp_retry_initial_ms)
		return ld_fail(ld,
			       "[exporter] retry_max_ms = %u: expected at least retry_initial_ms "
			       "(%u)",
			       cfg->exp_retry_max_ms, cfg->exp_retry_initial_ms);
	for (i = 0; level_choices[i]; i++)
		if (!strcmp(cfg->log_level, level_choices[i]))
			log_level = LOG_LVL_ERROR + i;
	return 0;
}

/* One info line per variable of config_envs_ignored[] that is set. */
static void log_ignored_envs(void)
{
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(config_envs_ignored) / sizeof(config_envs_ignored[0]); i++) {
		v = getenv(config_envs_ignored[i].var);
		if (!v || !*v)
			continue;
		if (!strcmp(config_envs_ignored[i].var, "OTEL_SDK_DISABLED") &&
		    strcasecmp(v, "true"))
			continue;
		LOGI("config: %s is set: %s", config_envs_ignored[i].var,
		     config_envs_ignored[i].why);
	}
}

int config_load(struct shmlog_config *cfg, const char *file, int argc, char **argv, char *err,
		size_t errlen)
{
	struct config_ld ld = {.cfg = cfg, .err = err, .errlen = err ? errlen : 0};
	char why[256];
	size_t i;
	int ret;

	if (ld.errlen)
		err[0] = '\0';
	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (key_set(&ld, &config_keys[i], config_keys[i].def, why, sizeof(why)) < 0)
			return ld_fail(&ld, "built-in default of [%s] %s: %s",
				       config_keys[i].section, config_keys[i].key, why);
	}
	ld.layer = LAYER_FILE;
	if (file) {
		ret = load_file(&ld, file);
		if (ret < 0)
			return ret;
	}
	ld.layer = LAYER_ENV;
	ret = env_apply(&ld);
	if (ret < 0)
		return ret;
	ld.layer = LAYER_CLI;
	for (i = 0; argv && i < (size_t)(argc > 0 ? argc : 0) && argv[i]; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!config_is_override(argv[i]))
			continue;
		ret = override_apply(&ld, argv[i]);
		if (ret < 0)
			return ret;
	}
	ret = post_checks(&ld);
	if (ret < 0)
		return ret;
	log_ignored_envs();
	return 0;
}

void config_dump(const struct shmlog_config *cfg, int fd)
{
	const char *base = (const char *)cfg;
	struct config_header *hl;
	uint32_t v32, i, *hn;
	uint64_t v64;
	size_t n;

	for (n = 0; n < CONFIG_NKEYS; n++) {
		const struct config_key *k = &config_keys[n];
		const char *field = base + k->off;

		dprintf(fd, "[%s] %s = ", k->section, k->key);
		switch (k->type) {
		case CFG_STR:
		case CFG_ENUM:
			if (*field && (k->flags & CFG_F_URL)) {
				char shown[CONFIG_STR_MAX + 32];

				dprintf(fd, "%s\n", show_url(shown, sizeof(shown), field));
				break;
			}
			dprintf(fd, "%s\n", *field ? field : "\"\"");
			break;
		case CFG_U32:
		case CFG_SIZE:
		case CFG_BOOL:
			if (k->flags & CFG_F_SIG) {
				dprintf(fd, "%s\n", *field ? field : "\"\"");
				break;
			}
			if (k->size == sizeof(uint64_t)) {
				memcpy(&v64, field, sizeof(v64));
			} else {
				memcpy(&v32, field, sizeof(v32));
				v64 = v32;
			}
			if (k->type == CFG_BOOL)
				dprintf(fd, "%s\n", v64 ? "true" : "false");
			else
				dprintf(fd, "%llu\n", (unsigned long long)v64);
			break;
		case CFG_HEADERS:
			hdr_list_of((struct shmlog_config *)cfg, k->off, &hl, &hn);
			if (!*hn)
				dprintf(fd, "\"\"");
			for (i = 0; i < *hn && i < CONFIG_MAX_HEADERS; i++)
				dprintf(fd, "%s%s=" CONFIG_MASK, i ? "," : "", hl[i].name);
			dprintf(fd, "\n");
			break;
		case CFG_TYPE_NR:
			dprintf(fd, "?\n");
			break;
		}
	}
}

void config_help(int fd)
{
	const char *section = "";

	dprintf(fd, "Configuration keys (ini file -c FILE, or --section.key=value); precedence:\n"
		    "command line, environment, file, defaults.\n");
	for (size_t n = 0; n < CONFIG_NKEYS; n++) {
		const struct config_key *k = &config_keys[n];

		if (strcmp(k->section, section) != 0) {
			section = k->section;
			dprintf(fd, "\n[%s]\n", section);
		}
		dprintf(fd, "  %s = %s\n      %s", k->key, k->def[0] ? k->def : "\"\"",
			k->help ? k->help : "");
		if (k->choices) {
			dprintf(fd, " (");
			for (size_t c = 0; k->choices[c]; c++)
				dprintf(fd, "%s%s", c ? "|" : "", k->choices[c]);
			dprintf(fd, ")");
		}
		if (k->type == CFG_U32 && k->max)
			dprintf(fd, " [%llu..%llu]", (unsigned long long)k->min,
				(unsigned long long)k->max);
		for (size_t e = 0; e < CONFIG_NENVS; e++)
			if (strcmp(config_envs[e].section, k->section) == 0 &&
			    strcmp(config_envs[e].key, k->key) == 0)
				dprintf(fd, "; env %s", config_envs[e].var);
		dprintf(fd, "\n");
	}
	dprintf(fd, "\nAlso: OTEL_HEADER_<name>=<value> adds header <name> ('_' becomes '-') to "
		    "headers, after OTEL_EXPORTER_OTLP_HEADERS.\n"
		    "A logs_/metrics_ key beats its generic key from the same source; a generic "
		    "key from a higher\nsource replaces the logs_/metrics_ keys of lower ones.\n");
	for (size_t e = 0; e < sizeof(config_envs_ignored) / sizeof(config_envs_ignored[0]); e++)
		dprintf(fd, "%s: %s.\n", config_envs_ignored[e].var, config_envs_ignored[e].why);
}
