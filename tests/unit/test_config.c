/* SPDX-License-Identifier: MIT */
/*
 * Unit test of core/common/config.c: defaults, the precedence command
 * line > environment > file > defaults, every error shape (with the exact
 * line number), header secrets kept out of errors and dumps, percent-
 * decoding, OTEL_HEADER_<name>, and that the files in conf/ load. Uses setenv()
 * and files in a mkdtemp directory that it removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "test_help.h"

/* snprintf that fails the test instead of truncating. */
static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	T_ASSERT(n >= 0 && (size_t)n < len);
}

static char tmpdir[PATH_MAX];
static char cfgpath[PATH_MAX];
static struct shmlog_config cfg;
static char err[512];

static const char *const env_vars[] = {
    "SHMLOG_NAMESPACE",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRIC_EXPORT_TIMEOUT",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_SDK_DISABLED",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
#define SIG_VARS(S)                                                                                \
	"OTEL_EXPORTER_OTLP_" S "_ENDPOINT", "OTEL_EXPORTER_OTLP_" S "_HEADERS",                    \
	    "OTEL_EXPORTER_OTLP_" S "_PROTOCOL", "OTEL_EXPORTER_OTLP_" S "_COMPRESSION",           \
	    "OTEL_EXPORTER_OTLP_" S "_TIMEOUT", "OTEL_EXPORTER_OTLP_" S "_CERTIFICATE",            \
	    "OTEL_EXPORTER_OTLP_" S "_CLIENT_KEY", "OTEL_EXPORTER_OTLP_" S "_CLIENT_CERTIFICATE",  \
	    "OTEL_EXPORTER_OTLP_" S "_INSECURE"
    SIG_VARS("LOGS"),
    SIG_VARS("METRICS"),
};

/* Leaves no configuration variable behind, OTEL_HEADER_* included. */
static void env_clear(void)
{
	char name[256];
	size_t i;
	int again = 1;

	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	while (again) {
		again = 0;
		for (i = 0; environ[i]; i++) {
			const char *eq = strchr(environ[i], '=');

			if (strncmp(environ[i], "OTEL_HEADER_", 12) || !eq)
				continue;
			xsnprintf(name, sizeof(name), "%.*s", (int)(eq - environ[i]), environ[i]);
			unsetenv(name);
			again = 1;
			break;
		}
	}
}

static const char *write_cfg(const char *text)
{
	int fd = open(cfgpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(text);

	T_ASSERT(fd >= 0);
	T_EQ_INT(write(fd, text, len), (long long)len);
	T_EQ_INT(close(fd), 0);
	return cfgpath;
}

static int load(const char *file, int argc, char **argv)
{
	err[0] = '\0';
	return config_load(&cfg, file, argc, argv, err, sizeof(err));
}

static int load_text(const char *text)
{
	return load(write_cfg(text), 0, NULL);
}

/* err must be exactly "<cfgpath><suffix>". */
static void expect_file_err(const char *suffix)
{
	char want[1024];

	xsnprintf(want, sizeof(want), "%s%s", cfgpath, suffix);
	T_EQ_STR(err, want);
}

static void test_defaults(void)
{
	env_clear();
	log_level = LOG_LVL_ERROR;
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_STR(err, "");
	T_EQ_STR(cfg.shm_namespace, "default");
	T_EQ_INT(cfg.shm_ring_slots, 65536);
	T_EQ_INT(cfg.shm_max_producers, 256);
	T_EQ_INT(cfg.shm_max_threads, 4096);
	T_EQ_INT(cfg.shm_dead_check_ms, 1000);
	T_EQ_STR(cfg.spool_dir, "/var/tmp/shmlog/default");
	T_EQ_INT(cfg.spool_max_bytes, 1073741824ull);
	T_EQ_INT(cfg.coll_schedule_delay_ms, 1000);
	T_EQ_INT(cfg.coll_max_batch, 16384);
	T_EQ_INT(cfg.coll_max_batch_bytes, 4194304);
	T_EQ_INT(cfg.coll_high_water_pct, 50);
	T_EQ_INT(cfg.coll_poll_max_ms, 50);
	T_EQ_STR(cfg.res_attributes, "");
	T_EQ_STR(cfg.res_host_name, "");
	T_EQ_STR(cfg.exp_endpoint, "");
	T_EQ_STR(cfg.exp_logs.endpoint, "");
	T_EQ_STR(cfg.exp_protocol, "http/protobuf");
	T_EQ_STR(cfg.exp_compression, "gzip");
	T_EQ_INT(cfg.exp_nheaders, 0);
	T_EQ_INT(cfg.exp_timeout_ms, 10000);
	T_EQ_INT(cfg.exp_max_in_flight, 4);
	T_EQ_INT(cfg.exp_retry_initial_ms, 1000);
	T_EQ_INT(cfg.exp_retry_max_ms, 30000);
	T_EQ_INT(cfg.exp_retry_max_elapsed_ms, 0);
	T_EQ_INT(cfg.exp_scan_interval_ms, 200);
	T_EQ_STR(cfg.exp_ca_file, "");
	T_EQ_STR(cfg.exp_client_cert, "");
	T_EQ_STR(cfg.exp_client_key, "");
	T_EQ_INT(cfg.exp_insecure, 0);
	T_EQ_INT(cfg.exp_gzip_level, 1);
	T_EQ_INT(cfg.exp_zstd_level, 3);
	T_EQ_STR(cfg.log_level, "info");
	T_EQ_STR(cfg.service_name, "shmlog");
	T_EQ_INT(log_level, LOG_LVL_INFO);
}

/* The shipped files: shmlog.ini must give exactly the defaults. */
static void test_conf_files(void)
{
	static const char *const examples[] = {"otel-collector.ini", "newrelic.ini",
					       "grafana-cloud.ini", "honeycomb.ini", "datadog.ini"};
	struct shmlog_config defaults;
	char root[PATH_MAX], path[PATH_MAX];
	glob_t g;
	char *slash;
	size_t i;

	/* CMake compiles this file by its absolute path: find conf/ from it. */
	xsnprintf(root, sizeof(root), "%s", __FILE__);
	slash = strstr(root, "/tests/unit/test_config.c");
	if (root[0] != '/' || !slash) {
		fprintf(stderr, "skip test_conf_files: no absolute __FILE__\n");
		return;
	}
	*slash = '\0';
	env_clear();
	T_EQ_INT(load(NULL, 0, NULL), 0);
	defaults = cfg;
	xsnprintf(path, sizeof(path), "%s/conf/shmlog.ini", root);
	if (load(path, 0, NULL) != 0)
		fprintf(stderr, "%s\n", err);
	T_EQ_STR(err, "");
	T_ASSERT(memcmp(&cfg, &defaults, sizeof(cfg)) == 0);

	for (i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		xsnprintf(path, sizeof(path), "%s/conf/%s", root, examples[i]);
		if (load(path, 0, NULL) != 0)
			fprintf(stderr, "%s\n", err);
		T_EQ_STR(err, "");
		T_ASSERT(cfg.exp_endpoint[0] != '\0');
		if (strcmp(examples[i], "datadog.ini") == 0) {
			/* per-signal headers and delta, as Datadog's intake wants */
			T_EQ_STR(cfg.met_temporality, "delta");
			T_EQ_INT(cfg.exp_logs.nheaders, 1);
			T_EQ_STR(cfg.exp_logs.headers[0].name, "dd-protocol");
			T_EQ_INT(cfg.exp_metrics.nheaders, 1);
			T_EQ_STR(cfg.exp_metrics.headers[0].name, "dd-otel-metric-config");
			T_EQ_STR(cfg.exp_metrics.headers[0].value,
				 "{\"histograms\":{\"mode\":\"distributions\",\"send_aggregation_metrics\":"
				 "true}}");
		}
	}
	/* Every example in conf/ is in the list above. */
	xsnprintf(path, sizeof(path), "%s/conf/*.ini", root);
	T_EQ_INT(glob(path, 0, NULL, &g), 0);
	T_EQ_INT(g.gl_pathc, sizeof(examples) / sizeof(examples[0]) + 1);
	globfree(&g);
}

static void test_precedence(void)
{
	char a1[] = "--exporter.timeout_ms=4000";
	char a2[] = "--exporter.endpoint=http://cli:4318";
	char *argv[] = {"prog", "-c", "x.ini", a1, a2, NULL};
	const char *file = "[exporter]\n"
			   "timeout_ms = 2000\n"
			   "endpoint = http://file:4318\n"
			   "[shm]\n"
			   "namespace = fromfile\n";

	env_clear();
	write_cfg(file);
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3000", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318", 1);
	setenv("SHMLOG_NAMESPACE", "fromenv", 1);

	T_EQ_INT(load(cfgpath, 5, argv), 0);
	T_EQ_INT(cfg.exp_timeout_ms, 4000);
	T_EQ_STR(cfg.exp_endpoint, "http://cli:4318");
	T_EQ_STR(cfg.shm_namespace, "fromenv");
	/* The default spool follows the final namespace. */
	T_EQ_STR(cfg.spool_dir, "/var/tmp/shmlog/fromenv");

	T_EQ_INT(load(cfgpath, 3, argv), 0); /* no overrides */
	T_EQ_INT(cfg.exp_timeout_ms, 3000);
	T_EQ_STR(cfg.exp_endpoint, "http://env:4318");

	env_clear();
	T_EQ_INT(load(cfgpath, 3, argv), 0);
	T_EQ_INT(cfg.exp_timeout_ms, 2000);
	T_EQ_STR(cfg.exp_endpoint, "http://file:4318");
	T_EQ_STR(cfg.spool_dir, "/var/tmp/shmlog/fromfile");

	T_EQ_INT(load(NULL, 3, argv), 0);
	T_EQ_INT(cfg.exp_timeout_ms, 10000);
	T_EQ_STR(cfg.exp_endpoint, "");

	/* An empty environment value counts as unset. */
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "", 1);
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "  ", 1);
	T_EQ_INT(load(cfgpath, 3, argv), 0);
	T_EQ_INT(cfg.exp_timeout_ms, 2000);
	T_EQ_STR(cfg.exp_compression, "gzip");

	/* An explicit spool dir does not follow the namespace. */
	env_clear();
	setenv("SHMLOG_NAMESPACE", "ns2", 1);
	T_EQ_INT(load_text("[spool]\ndir = /srv/spool\n"), 0);
	T_EQ_STR(cfg.spool_dir, "/srv/spool");
	T_EQ_STR(cfg.shm_namespace, "ns2");

	/* Arguments after "--" belong to someone else. */
	env_clear();
	{
		char b1[] = "--";
		char b2[] = "--exporter.timeout_ms=5";
		char *av[] = {"prog", b1, b2, NULL};

		T_EQ_INT(load(NULL, 3, av), 0);
		T_EQ_INT(cfg.exp_timeout_ms, 10000);
	}
}

static void test_file_values(void)
{
	env_clear();
	T_EQ_INT(load_text("; comment\n"
			   "# another\n"
			   "\n"
			   "[shm]\n"
			   "  ring_slots = 4096   ; inline comment\n"
			   "\tmax_producers=16\n"
			   "max_threads: 1000000\n"
			   "[spool]\n"
			   "max_bytes = 2g\n"
			   "dir = \"/tmp/my spool\"\n"
			   "[collector]\n"
			   "max_batch_bytes = 64k\n"
			   "[exporter]\n"
			   "insecure = yes\n"
			   "compression = ZSTD\n"
			   "protocol = http/json\n"
			   "[log]\n"
			   "level = debug\n"),
		 0);
	T_EQ_INT(cfg.shm_ring_slots, 4096);
	T_EQ_INT(cfg.shm_max_producers, 16);
	T_EQ_INT(cfg.shm_max_threads, 1000000);
	T_EQ_INT(cfg.spool_max_bytes, 2ull << 30);
	T_EQ_STR(cfg.spool_dir, "/tmp/my spool");
	T_EQ_INT(cfg.coll_max_batch_bytes, 65536);
	T_EQ_INT(cfg.exp_insecure, 1);
	T_EQ_STR(cfg.exp_compression, "zstd");
	T_EQ_STR(cfg.exp_protocol, "http/json");
	T_EQ_INT(log_level, LOG_LVL_DEBUG);

	T_EQ_INT(load_text("[spool]\nmax_bytes = 1M\n[exporter]\ninsecure = off\n"), 0);
	T_EQ_INT(cfg.spool_max_bytes, 1ull << 20);
	T_EQ_INT(cfg.exp_insecure, 0);
	T_EQ_INT(log_level, LOG_LVL_INFO);

	/* An indented line is a key of its own, not a continuation. */
	T_EQ_INT(load_text("[exporter]\nendpoint = http://a:1\n    protocol = grpc\n"), 0);
	T_EQ_STR(cfg.exp_endpoint, "http://a:1");
	T_EQ_STR(cfg.exp_protocol, "grpc");

	/* Boundaries. */
	T_EQ_INT(load_text("[shm]\nring_slots = 16777216\n"), 0);
	T_EQ_INT(load_text("[shm]\nring_slots = 33554432\n"), -EINVAL);
	T_EQ_INT(load_text("[shm]\nring_slots = 2048\n"), -EINVAL);
	T_EQ_INT(load_text("[collector]\nhigh_water_pct = 99\n"), 0);
	T_EQ_INT(load_text("[collector]\nhigh_water_pct = 100\n"), -EINVAL);
	T_EQ_INT(load_text("[exporter]\nmax_in_flight = 0\n"), -EINVAL);
	T_EQ_INT(load_text("[exporter]\nmax_in_flight = 64\n"), 0);
	T_EQ_INT(load_text("[spool]\nmax_bytes = 99999999999999999999\n"), -EINVAL);
	T_EQ_INT(load_text("[spool]\nmax_bytes = 17179869184g\n"), -EINVAL);
	T_EQ_INT(load_text("[spool]\nmax_bytes = -1\n"), -EINVAL);
	T_EQ_INT(load_text("[spool]\nmax_bytes = 12x\n"), -EINVAL);
	T_EQ_INT(load_text("[shm]\nmax_threads = 0x100\n"), -EINVAL);
	T_EQ_INT(load_text("[shm]\nmax_threads =\n"), -EINVAL);
	T_EQ_INT(load_text("[exporter]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n"), -EINVAL);
	T_EQ_STR(err, "[exporter] retry_max_ms = 1000: expected at least retry_initial_ms (5000)");
}

static void test_file_errors(void)
{
	env_clear();
	T_EQ_INT(load_text("; shmlog\n"
			   "\n"
			   "[shm]\n"
			   "namespace = x\n"
			   "\n"
			   "[exporter]\n"
			   "endpont = http://h:4318\n"),
		 -EINVAL);
	expect_file_err(":7: unknown key 'endpont' in [exporter]");

	/* A segment producers could not write, or one open to all by a typo. */
	T_EQ_INT(load_text("[shm]\nmode = 0644\n"), -EINVAL);
	expect_file_err(":2: [shm] mode = '0644': expected 0600, 0660 or 0666");
	T_EQ_INT(load_text("[shm]\nmode = 0660\ngroup = shmlog\n"), 0);

	T_EQ_INT(load_text("[spool]\n\nmax_bytes = lots\n"), -EINVAL);
	expect_file_err(":3: [spool] max_bytes = 'lots': expected a size in bytes");

	T_EQ_INT(load_text("[spool]\nmax_bytes = 10\n"), -EINVAL);
	expect_file_err(":2: [spool] max_bytes = '10': expected a size in bytes from 1048576 to "
			"18446744073709551615");

	T_EQ_INT(load_text("[shm]\nring_slots = 5000\n"), -EINVAL);
	expect_file_err(":2: [shm] ring_slots = '5000': expected a power of two from 4096 to "
			"16777216");

	T_EQ_INT(load_text("[shm]\nmax_producers = 8\n"), -EINVAL);
	expect_file_err(":2: [shm] max_producers = '8': expected an integer from 16 to 65535");

	T_EQ_INT(load_text("[exporter]\ncompression = lz4\n"), -EINVAL);
	expect_file_err(":2: [exporter] compression = 'lz4': expected gzip, zstd or none");

	T_EQ_INT(load_text("[exporter]\nprotocol = http\n"), -EINVAL);
	expect_file_err(":2: [exporter] protocol = 'http': expected http/protobuf, http/json or "
			"grpc");

	T_EQ_INT(load_text("[exporter]\ninsecure = maybe\n"), -EINVAL);
	expect_file_err(":2: [exporter] insecure = 'maybe': expected true or false");

	T_EQ_INT(load_text("[exporter]\nendpoint = ftp://x\n"), -EINVAL);
	expect_file_err(":2: [exporter] endpoint = 'ftp://x': expected an http:// or https:// URL");

	T_EQ_INT(load_text("[shm]\nnamespace = ../etc\n"), -EINVAL);
	expect_file_err(":2: [shm] namespace = '../etc': expected letters, digits, '.', '_' or "
			"'-', not starting with '.'");

	/* An unknown section is an error even with no key in it. */
	T_EQ_INT(load_text("[shm]\nring_slots = 4096\n\n\n[foo]\n[exporter]\n"), -EINVAL);
	expect_file_err(":5: unknown section [foo]");

	T_EQ_INT(load_text("namespace = x\n"), -EINVAL);
	expect_file_err(":1: key 'namespace' outside any [section]");

	T_EQ_INT(load_text("[shm]\n\nring_slots\n"), -EINVAL);
	expect_file_err(":3: expected '[section]' or 'key = value'");

	T_EQ_INT(load_text("[shm\nring_slots = 4096\n"), -EINVAL);
	expect_file_err(":1: expected '[section]' or 'key = value'");

	/* The first error wins, whichever kind it is. */
	T_EQ_INT(load_text("[shm]\nbogus\nring_slots = 1\n"), -EINVAL);
	expect_file_err(":2: expected '[section]' or 'key = value'");
	T_EQ_INT(load_text("[shm]\nring_slots = 1\nbogus\n"), -EINVAL);
	expect_file_err(":2: [shm] ring_slots = '1': expected a power of two from 4096 to "
			"16777216");

	/* CRLF line ends are fine. */
	T_EQ_INT(load_text("[shm]\r\nring_slots = 8192\r\n"), 0);
	T_EQ_INT(cfg.shm_ring_slots, 8192);

	T_EQ_INT(load("/nonexistent/shmlog.ini", 0, NULL), -ENOENT);
	T_EQ_STR(err, "/nonexistent/shmlog.ini: No such file or directory");
}

/* Lines longer than inih's 200-byte buffer (long bearer tokens). */
static void test_long_lines(void)
{
	char text[8192], tok[3001];

	env_clear();
	memset(tok, 'T', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	memcpy(tok + 2990, "END", 3);
	xsnprintf(text, sizeof(text),
		  "[exporter]\n"
		  "; %s\n"
		  "headers = Authorization=Bearer%%20%.900s ; comment\n"
		  "\n"
		  "endpont = x\n",
		  tok, tok);
	T_EQ_INT(load_text(text), -EINVAL);
	expect_file_err(":5: unknown key 'endpont' in [exporter]");

	xsnprintf(text, sizeof(text),
		  "[exporter]\nheaders = Authorization=Bearer%%20%.900s ; comment\n"
		  "timeout_ms = 7\n",
		  tok);
	T_EQ_INT(load_text(text), 0);
	T_EQ_INT(cfg.exp_nheaders, 1);
	T_EQ_STR(cfg.exp_headers[0].name, "Authorization");
	T_EQ_INT(strlen(cfg.exp_headers[0].value), 7 + 900);
	T_ASSERT(!strncmp(cfg.exp_headers[0].value, "Bearer TTT", 10));
	T_EQ_INT(cfg.exp_timeout_ms, 7);

	/* A long value that does not fit its field is refused, not cut. */
	xsnprintf(text, sizeof(text), "[exporter]\nendpoint = https://%s\n", tok);
	T_EQ_INT(load_text(text), -EINVAL);
	T_ASSERT(strstr(err, ":2: [exporter] endpoint = 'https://TTT"));
	T_ASSERT(strstr(err, "expected at most 1023 characters"));
	T_ASSERT(!strstr(err, "END"));
}

static void test_env(void)
{
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "ZSTD", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC", 1);
	setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://logs.example.com/v1/logs", 1);
	setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/etc/c.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/etc/k.pem", 1);
	setenv("OTEL_EXPORTER_OTLP_INSECURE", "TRUE", 1);
	setenv("OTEL_BLRP_SCHEDULE_DELAY", "250", 1);
	setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "512", 1);
	setenv("OTEL_SERVICE_NAME", "agent-1", 1);
	setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,team=a%2Cb", 1);
	T_EQ_INT(load_text("[exporter]\ninsecure = false\n"), 0);
	T_EQ_STR(cfg.exp_compression, "zstd");
	T_EQ_STR(cfg.exp_protocol, "grpc");
	T_EQ_STR(cfg.exp_logs.endpoint, "https://logs.example.com/v1/logs");
	T_EQ_STR(cfg.exp_ca_file, "/etc/ca.pem");
	T_EQ_STR(cfg.exp_client_cert, "/etc/c.pem");
	T_EQ_STR(cfg.exp_client_key, "/etc/k.pem");
	T_EQ_INT(cfg.exp_insecure, 1);
	T_EQ_INT(cfg.coll_schedule_delay_ms, 250);
	T_EQ_INT(cfg.coll_max_batch, 512);
	T_EQ_STR(cfg.service_name, "agent-1");
	T_EQ_STR(cfg.res_attributes, "deployment.environment.name=prod,team=a%2Cb");

	/* OpenTelemetry booleans: only "true" is true. */
	setenv("OTEL_EXPORTER_OTLP_INSECURE", "yes", 1);
	T_EQ_INT(load_text("[exporter]\ninsecure = true\n"), 0);
	T_EQ_INT(cfg.exp_insecure, 0);

	/* Bad values name the variable. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "lz4", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_COMPRESSION=lz4: expected gzip, zstd or none");
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "-5", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_TIMEOUT=-5: expected an integer from 0 to 3600000");
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err,
		 "OTEL_EXPORTER_OTLP_PROTOCOL=http: expected http/protobuf, http/json or grpc");
	env_clear();
	setenv("SHMLOG_NAMESPACE", "a/b", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strncmp(err, "SHMLOG_NAMESPACE=a/b: expected", 30));
	env_clear();
	setenv("OTEL_RESOURCE_ATTRIBUTES", "novalue", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strncmp(err, "OTEL_RESOURCE_ATTRIBUTES=novalue: expected key=value", 51));
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_ENDPOINT=localhost:4318: expected an http:// or https:// "
		      "URL");
	env_clear();
	setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "many", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strncmp(err, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE=many: ", 38));
	env_clear();
}

static void test_headers(void)
{
	char a1[] = "--exporter.headers=x-cli=1,API-KEY=fromcli";
	char *argv[] = {"prog", a1};

	env_clear();
	setenv("OTEL_EXPORTER_OTLP_HEADERS",
	       " api-key = s3cr%3Dt%2C , Authorization=Bearer%20tok%25,,x-empty=", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_INT(cfg.exp_nheaders, 3);
	T_EQ_STR(cfg.exp_headers[0].name, "api-key");
	T_EQ_STR(cfg.exp_headers[0].value, "s3cr=t,");
	T_EQ_STR(cfg.exp_headers[1].name, "Authorization");
	T_EQ_STR(cfg.exp_headers[1].value, "Bearer tok%");
	T_EQ_STR(cfg.exp_headers[2].name, "x-empty");
	T_EQ_STR(cfg.exp_headers[2].value, "");

	/* Merged by name, case-insensitively: file < HEADERS < OTEL_HEADER_ < LOGS < cli. */
	env_clear();
	write_cfg("[exporter]\nheaders = api-key=fromfile,x-file=f\n");
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "Api-Key=fromenv,x-env=e", 1);
	setenv("OTEL_HEADER_x_one_header", "  literal%20value  ", 1);
	setenv("OTEL_HEADER_x_env", "fromheadervar", 1);
	setenv("OTEL_HEADER_x_unset", "", 1);
	setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-env=fromlogs", 1);
	T_EQ_INT(load(cfgpath, 0, NULL), 0);
	T_EQ_INT(cfg.exp_nheaders, 4);
	/* The replacing source's spelling of the name wins, in place. */
	T_EQ_STR(cfg.exp_headers[0].name, "Api-Key");
	T_EQ_STR(cfg.exp_headers[0].value, "fromenv");
	T_EQ_STR(cfg.exp_headers[1].value, "f");
	/* OTEL_HEADER_<name> wins over OTEL_EXPORTER_OTLP_HEADERS... */
	T_EQ_STR(cfg.exp_headers[2].name, "x-env");
	T_EQ_STR(cfg.exp_headers[2].value, "fromheadervar");
	T_EQ_STR(cfg.exp_headers[3].name, "x-one-header");
	T_EQ_STR(cfg.exp_headers[3].value, "literal%20value");
	/* ...and the per-signal list keeps its own entry (merged over it by
	 * the exporter, test_exporter). */
	T_EQ_INT(cfg.exp_logs.nheaders, 1);
	T_EQ_STR(cfg.exp_logs.headers[0].name, "x-env");
	T_EQ_STR(cfg.exp_logs.headers[0].value, "fromlogs");
	T_EQ_INT(cfg.exp_metrics.nheaders, 0);

	T_EQ_INT(load(cfgpath, 2, argv), 0);
	T_EQ_INT(cfg.exp_nheaders, 5);
	T_EQ_STR(cfg.exp_headers[0].value, "fromcli");
	T_EQ_STR(cfg.exp_headers[4].name, "x-cli");
	env_clear();
}

static void test_secrets(void)
{
	char dump[8192], a1[64];
	char *argv[] = {"prog", a1};
	char name[64], many[4096];
	ssize_t n;
	int fd, i;

	env_clear();
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET1%zz", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));
	T_ASSERT(!strncmp(err, "OTEL_EXPORTER_OTLP_HEADERS=***: header 1: ", 42));

	setenv("OTEL_EXPORTER_OTLP_HEADERS", "SECRET2", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));

	/* CR/LF would inject a header line: refused, and not echoed. */
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET3%0d%0aX-Evil: 1", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));
	T_EQ_STR(err,
		 "OTEL_EXPORTER_OTLP_HEADERS=***: header 'api-key': control character in value");

	setenv("OTEL_EXPORTER_OTLP_HEADERS", "bad name=SECRET4", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));

	env_clear();
	setenv("OTEL_HEADER_x_key", "SECRET5\nX-Evil: 1", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));
	T_EQ_STR(err, "OTEL_HEADER_x_key=***: header 'x-key': control character in value");

	env_clear();
	T_EQ_INT(load_text("[exporter]\nheaders = api-key=SECRET6%g0\n"), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));
	expect_file_err(":2: [exporter] headers = '***': header 1: expected name=value pairs "
			"separated by ',' with %XX escapes");

	xsnprintf(a1, sizeof(a1), "--exporter.headers=k=SECRET7%%");
	T_EQ_INT(load(NULL, 2, argv), -EINVAL);
	T_ASSERT(!strstr(err, "SECRET"));
	T_ASSERT(!strncmp(err, "--exporter.headers=***: ", 24));

	/* A mistyped key is not echoed with its value either. */
	xsnprintf(a1, sizeof(a1), "--exporter.header=api-key=SECRET8");
	T_EQ_INT(load(NULL, 2, argv), -EINVAL);
	T_EQ_STR(err, "--exporter.header: unknown key 'header' in [exporter]");

	/* Too many headers. */
	n = 0;
	for (i = 0; i <= CONFIG_MAX_HEADERS; i++)
		n += snprintf(many + n, sizeof(many) - (size_t)n, "h%d=v,", i);
	setenv("OTEL_EXPORTER_OTLP_HEADERS", many, 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_HEADERS=***: more than 32 headers");
	env_clear();

	/* The dump masks every value. */
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=SECRET9,x-other=SECRET10", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	xsnprintf(name, sizeof(name), "%s/dump", tmpdir);
	fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	config_dump(&cfg, fd);
	n = pread(fd, dump, sizeof(dump) - 1, 0);
	T_ASSERT(n > 0);
	dump[n] = '\0';
	close(fd);
	T_ASSERT(!strstr(dump, "SECRET"));
	T_ASSERT(strstr(dump, "[exporter] headers = api-key=***,x-other=***\n"));
	T_ASSERT(strstr(dump, "[spool] dir = /var/tmp/shmlog/default\n"));
	T_ASSERT(strstr(dump, "[exporter] timeout_ms = 10000\n"));
	T_ASSERT(strstr(dump, "[exporter] insecure = false\n"));
	T_ASSERT(strstr(dump, "[exporter] endpoint = \"\"\n"));
	T_ASSERT(strstr(dump, "[log] level = info\n"));
	for (i = 0, n = 0; dump[n]; n++)
		i += dump[n] == '\n';
	T_EQ_INT(i, 72); /* one line per key */
	env_clear();
}

static void test_overrides(void)
{
	char a1[128];
	char *argv[] = {"prog", "-c", "file", "--verbose", "--config=x.y", a1};

	env_clear();
	xsnprintf(a1, sizeof(a1), "--exporter.compression=lz4");
	T_EQ_INT(load(NULL, 6, argv), -EINVAL);
	T_EQ_STR(err, "--exporter.compression=lz4: expected gzip, zstd or none");

	xsnprintf(a1, sizeof(a1), "--exporter.endpont=http://x");
	T_EQ_INT(load(NULL, 6, argv), -EINVAL);
	T_EQ_STR(err, "--exporter.endpont: unknown key 'endpont' in [exporter]");

	xsnprintf(a1, sizeof(a1), "--foo.bar=1");
	T_EQ_INT(load(NULL, 6, argv), -EINVAL);
	T_EQ_STR(err, "--foo.bar: unknown section [foo]");

	xsnprintf(a1, sizeof(a1), "--exporter.endpoint");
	T_EQ_INT(load(NULL, 6, argv), -EINVAL);
	T_EQ_STR(err, "--exporter.endpoint: expected --section.key=value");

	xsnprintf(a1, sizeof(a1), "--spool.max_bytes=lots");
	T_EQ_INT(load(NULL, 6, argv), -EINVAL);
	T_EQ_STR(err, "--spool.max_bytes=lots: expected a size in bytes");

	xsnprintf(a1, sizeof(a1), "--spool.max_bytes=3m");
	T_EQ_INT(load(NULL, 6, argv), 0);
	T_EQ_INT(cfg.spool_max_bytes, 3u << 20);

	xsnprintf(a1, sizeof(a1), "--exporter.endpoint=http://127.0.0.1:4318");
	T_EQ_INT(load(NULL, 6, argv), 0);
	T_EQ_STR(cfg.exp_endpoint, "http://127.0.0.1:4318");

	T_ASSERT(config_is_override("--exporter.endpoint=x"));
	T_ASSERT(config_is_override("--exporter.endpoint"));
	T_ASSERT(config_is_override("--a.b=c.d"));
	T_ASSERT(!config_is_override("--config=/etc/shmlog.ini"));
	T_ASSERT(!config_is_override("--help"));
	T_ASSERT(!config_is_override("-c"));
	T_ASSERT(!config_is_override("x.y=1"));
	T_ASSERT(!config_is_override("--"));
	T_ASSERT(!config_is_override("--.x=1"));
	T_ASSERT(!config_is_override("---a.b=1"));
	T_ASSERT(!config_is_override(NULL));
}

static void test_kv_next(void)
{
	char k[16], v[16];
	const char *cur = " a = 1 ,, b%3D=%41%2c ,c= ";

	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), 1);
	T_EQ_STR(k, "a");
	T_EQ_STR(v, "1");
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), 1);
	T_EQ_STR(k, "b=");
	T_EQ_STR(v, "A,");
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), 1);
	T_EQ_STR(k, "c");
	T_EQ_STR(v, "");
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), 0);
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), 0);

	cur = "=x";
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), -EINVAL);
	cur = "a=%4";
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), -EINVAL);
	cur = "a=%";
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), -EINVAL);
	cur = "a=0123456789abcdef";
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), -E2BIG);
	cur = "";
	T_EQ_INT(config_kv_next(&cur, k, sizeof(k), v, sizeof(v)), 0);
}

/* Every per-signal variable lands in its own signal's field. */
static void test_signal_env(void)
{
	static const char *const sig[] = {"LOGS", "METRICS"};
	struct config_signal *sc;
	char var[128], val[128];
	int i;

	for (i = 0; i < 2; i++) {
		env_clear();
		sc = i ? &cfg.exp_metrics : &cfg.exp_logs;
#define SETV(suffix, fmt)                                                                          \
	do {                                                                                       \
		xsnprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s_" suffix, sig[i]);              \
		xsnprintf(val, sizeof(val), fmt, sig[i]);                                          \
		setenv(var, val, 1);                                                               \
	} while (0)
		SETV("ENDPOINT", "http://%s.example:4318");
		SETV("PROTOCOL", "HTTP/JSON%.0s");
		SETV("COMPRESSION", "zstd%.0s");
		SETV("TIMEOUT", "1234%.0s");
		SETV("CERTIFICATE", "/ca-%s.pem");
		SETV("CLIENT_CERTIFICATE", "/cert-%s.pem");
		SETV("CLIENT_KEY", "/key-%s.pem");
		SETV("INSECURE", "True%.0s");
		SETV("HEADERS", "x-sig=%s,Authorization=Basic%%20abc");
#undef SETV
		T_EQ_INT(load(NULL, 0, NULL), 0);
		xsnprintf(val, sizeof(val), "http://%s.example:4318", sig[i]);
		T_EQ_STR(sc->endpoint, val);
		T_EQ_STR(sc->protocol, "http/json");
		T_EQ_STR(sc->compression, "zstd");
		T_EQ_STR(sc->timeout_ms, "1234");
		xsnprintf(val, sizeof(val), "/ca-%s.pem", sig[i]);
		T_EQ_STR(sc->ca_file, val);
		xsnprintf(val, sizeof(val), "/cert-%s.pem", sig[i]);
		T_EQ_STR(sc->client_cert, val);
		xsnprintf(val, sizeof(val), "/key-%s.pem", sig[i]);
		T_EQ_STR(sc->client_key, val);
		T_EQ_STR(sc->insecure, "true");
		T_EQ_INT(sc->nheaders, 2);
		T_EQ_STR(sc->headers[0].value, sig[i]);
		T_EQ_STR(sc->headers[1].value, "Basic abc"); /* percent-decoded */
		/* The generic keys and the other signal are untouched. */
		T_EQ_STR(cfg.exp_endpoint, "");
		T_EQ_STR(cfg.exp_protocol, "http/protobuf");
		T_EQ_INT(cfg.exp_timeout_ms, 10000);
		T_EQ_INT(cfg.exp_insecure, 0);
		T_EQ_INT(cfg.exp_nheaders, 0);
		sc = i ? &cfg.exp_logs : &cfg.exp_metrics;
		T_EQ_STR(sc->endpoint, "");
		T_EQ_STR(sc->protocol, "");
		T_EQ_STR(sc->timeout_ms, "");
		T_EQ_STR(sc->insecure, "");
		T_EQ_INT(sc->nheaders, 0);
	}

	/* OpenTelemetry booleans: only "true" is true, also per signal. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "1", 1);
	T_EQ_INT(load_text("[exporter]\nmetrics_insecure = true\n"), 0);
	T_EQ_STR(cfg.exp_metrics.insecure, "false");

	/* A bad per-signal value names its variable. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "10s", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT=10s: expected an integer from 0 to 3600000");
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "thrift", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=thrift: expected http/protobuf, http/json or "
		      "grpc");
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "collector:4318", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=collector:4318: expected an http:// or "
		      "https:// URL");
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=s3cret,broken", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_ASSERT(!strncmp(err, "OTEL_EXPORTER_OTLP_LOGS_HEADERS=***: header 2:", 46));
	T_ASSERT(!strstr(err, "s3cret"));
	env_clear();
	T_EQ_INT(load_text("[exporter]\nlogs_timeout_ms = soon\n"), -EINVAL);
	expect_file_err(":2: [exporter] logs_timeout_ms = 'soon': expected an integer from 0 to "
			"3600000");
	env_clear();
}

/*
 * The precedence between generic and per-signal values, one rule at a
 * time (config.h): per-signal beats generic within a source; a higher
 * source's generic value beats a lower source's per-signal one.
 */
static void test_signal_precedence(void)
{
	char a_gen[] = "--exporter.timeout_ms=300";
	char a_sig[] = "--exporter.logs_timeout_ms=200";
	char a_hdr[] = "--exporter.headers=x-b=cli";
	char *argv_gen[] = {"prog", a_gen};
	char *argv_both[] = {"prog", a_sig, a_gen}; /* order on the line does not matter */
	char *argv_hdr[] = {"prog", a_hdr};

	/* 1. Within the file, per-signal beats generic, whatever the order. */
	env_clear();
	T_EQ_INT(load_text("[exporter]\nlogs_protocol = http/json\nprotocol = http/protobuf\n"
			   "metrics_compression = none\ncompression = zstd\n"),
		 0);
	T_EQ_STR(cfg.exp_logs.protocol, "http/json");
	T_EQ_STR(cfg.exp_protocol, "http/protobuf");
	T_EQ_STR(cfg.exp_metrics.compression, "none");
	T_EQ_STR(cfg.exp_compression, "zstd");

	/* 2. Within the environment, per-signal beats generic. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_STR(cfg.exp_protocol, "http/json");
	T_EQ_STR(cfg.exp_metrics.protocol, "http/protobuf");
	T_EQ_STR(cfg.exp_logs.protocol, "");

	/* 3. A generic variable beats a per-signal key of the file. */
	env_clear();
	write_cfg("[exporter]\nlogs_compression = zstd\nlogs_endpoint = http://file-logs:1/x\n"
		  "metrics_timeout_ms = 50\n");
	setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318", 1);
	T_EQ_INT(load(cfgpath, 0, NULL), 0);
	T_EQ_STR(cfg.exp_logs.compression, "");
	T_EQ_STR(cfg.exp_compression, "none");
	T_EQ_STR(cfg.exp_logs.endpoint, "");
	T_EQ_STR(cfg.exp_endpoint, "http://env:4318");
	T_EQ_STR(cfg.exp_metrics.timeout_ms, "50"); /* not named by the environment */

	/* 4. A per-signal variable beats the file's per-signal key. */
	setenv("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "70", 1);
	T_EQ_INT(load(cfgpath, 0, NULL), 0);
	T_EQ_STR(cfg.exp_metrics.timeout_ms, "70");

	/* 5. A generic option beats a per-signal variable... */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "100", 1);
	T_EQ_INT(load(NULL, 2, argv_gen), 0);
	T_EQ_STR(cfg.exp_logs.timeout_ms, "");
	T_EQ_INT(cfg.exp_timeout_ms, 300);
	/* 6. ...and a per-signal option beats a generic one on the line. */
	T_EQ_INT(load(NULL, 3, argv_both), 0);
	T_EQ_STR(cfg.exp_logs.timeout_ms, "200");
	T_EQ_INT(cfg.exp_timeout_ms, 300);

	/* 7. Headers follow the same rule, by name: a generic header of a
	 * higher source replaces a lower source's per-signal one of the same
	 * name; other per-signal headers stay. */
	env_clear();
	write_cfg("[exporter]\nlogs_headers = API-KEY=filelogs,x-keep=1\n");
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=envgeneric", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-b=envmetrics,x-c=envmetrics", 1);
	T_EQ_INT(load(cfgpath, 2, argv_hdr), 0);
	T_EQ_INT(cfg.exp_logs.nheaders, 1);
	T_EQ_STR(cfg.exp_logs.headers[0].name, "x-keep");
	T_EQ_INT(cfg.exp_metrics.nheaders, 1);
	T_EQ_STR(cfg.exp_metrics.headers[0].name, "x-c");
	T_EQ_INT(cfg.exp_nheaders, 2);
	T_EQ_STR(cfg.exp_headers[0].value, "envgeneric");
	T_EQ_STR(cfg.exp_headers[1].value, "cli");
	/* Within one source the per-signal header stays. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=gen", 1);
	setenv("OTEL_HEADER_api_key", "gen2", 1);
	setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=logs", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_STR(cfg.exp_headers[0].value, "gen2");
	T_EQ_INT(cfg.exp_logs.nheaders, 1);
	T_EQ_STR(cfg.exp_logs.headers[0].value, "logs");

	/* 8. An empty per-signal value inherits, from any source. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "", 1);
	T_EQ_INT(load_text("[exporter]\nlogs_insecure =\nlogs_timeout_ms =\ninsecure = true\n"), 0);
	T_EQ_STR(cfg.exp_logs.compression, "");
	T_EQ_STR(cfg.exp_logs.insecure, "");
	T_EQ_STR(cfg.exp_logs.timeout_ms, "");
	T_EQ_INT(cfg.exp_insecure, 1);
	env_clear();
}

/* The other variables of the specification. */
static void test_otel_misc(void)
{
	char dump[16384];
	int fd;
	ssize_t n;

	/* Export timeouts of the batch processor and the metric reader are the
	 * signal's request timeout, below its own _TIMEOUT variable. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000", 1);
	setenv("OTEL_BLRP_EXPORT_TIMEOUT", "2000", 1);
	setenv("OTEL_METRIC_EXPORT_TIMEOUT", "3000", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_INT(cfg.exp_timeout_ms, 1000);
	T_EQ_STR(cfg.exp_logs.timeout_ms, "2000");
	T_EQ_STR(cfg.exp_metrics.timeout_ms, "3000");
	setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "4000", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_STR(cfg.exp_logs.timeout_ms, "4000");
	env_clear();
	setenv("OTEL_METRIC_EXPORT_TIMEOUT", "-1", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_METRIC_EXPORT_TIMEOUT=-1: expected an integer from 0 to 3600000");

	/* Histogram aggregation: only explicit buckets. */
	env_clear();
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_STR(cfg.met_histogram_aggregation, "explicit_bucket_histogram");
	setenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
	       "EXPLICIT_BUCKET_HISTOGRAM", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_STR(cfg.met_histogram_aggregation, "explicit_bucket_histogram");
	setenv("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
	       "base2_exponential_bucket_histogram", 1);
	T_EQ_INT(load(NULL, 0, NULL), -EINVAL);
	T_EQ_STR(err, "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION="
		      "base2_exponential_bucket_histogram: expected explicit_bucket_histogram");

	/* OTEL_SDK_DISABLED is noted (the daemons run anyway); only "true"
	 * counts. OTEL_BLRP_MAX_QUEUE_SIZE has no effect and no error. */
	env_clear();
	setenv("OTEL_SDK_DISABLED", "TRUE", 1);
	setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "whatever", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_INT(cfg.sdk_disabled, 1);
	setenv("OTEL_SDK_DISABLED", "yes", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	T_EQ_INT(cfg.sdk_disabled, 0);

	/* --print-config shows the per-signal keys, header values masked. */
	env_clear();
	setenv("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "dd-api-key=t0psecret", 1);
	setenv("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "true", 1);
	T_EQ_INT(load(NULL, 0, NULL), 0);
	fd = open(cfgpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	config_dump(&cfg, fd);
	T_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	n = read(fd, dump, sizeof(dump) - 1);
	T_ASSERT(n > 0);
	dump[n] = '\0';
	close(fd);
	T_ASSERT(strstr(dump, "\n[exporter] metrics_headers = dd-api-key=***\n"));
	T_ASSERT(strstr(dump, "\n[exporter] metrics_insecure = true\n"));
	T_ASSERT(strstr(dump, "\n[exporter] logs_insecure = \"\"\n"));
	T_ASSERT(strstr(dump, "\n[exporter] logs_timeout_ms = \"\"\n"));
	T_ASSERT(!strstr(dump, "t0psecret"));
	env_clear();
}

static void rm_dir(void)
{
	char path[PATH_MAX];

	if (!tmpdir[0])
		return;
	xsnprintf(path, sizeof(path), "%s/dump", tmpdir);
	unlink(path);
	unlink(cfgpath);
	rmdir(tmpdir);
}

int main(void)
{
	xsnprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX",
		  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return T_SKIP;
	}
	atexit(rm_dir);
	xsnprintf(cfgpath, sizeof(cfgpath), "%s/shmlog.ini", tmpdir);
	log_init("test_config");

	T_RUN(test_defaults);
	T_RUN(test_conf_files);
	T_RUN(test_precedence);
	T_RUN(test_file_values);
	T_RUN(test_file_errors);
	T_RUN(test_long_lines);
	T_RUN(test_env);
	T_RUN(test_headers);
	T_RUN(test_secrets);
	T_RUN(test_overrides);
	T_RUN(test_kv_next);
	T_RUN(test_signal_env);
	T_RUN(test_signal_precedence);
	T_RUN(test_otel_misc);
	return 0;
}
