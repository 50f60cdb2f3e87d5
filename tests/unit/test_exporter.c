/* SPDX-License-Identifier: MIT */
/*
 * exporter/exporter.c without a network: the embedded file output (one
 * OTLP/JSON line per request in <spool>/out/<signal>.jsonl, spool files
 * deleted after), quarantine of corrupt files, files being written
 * (.tmp-*) left alone, the ordered spool listing, the status file's keys,
 * endpoint redaction and the gRPC refusal, the per-signal option
 * resolution (exporter_signal_opts()), and the spool watch (a complete
 * file renamed in is an event; a file being written, a deletion or a
 * quarantine is not).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "request_body.h"
#include "spool_file.h"
#include "spool_scan.h"
#include "test_help.h"

static char *make_spool(void)
{
	char *dir = strdup("/tmp/shmlog-test-exp.XXXXXX");

	T_ASSERT(dir && mkdtemp(dir));
	T_EQ_INT(spool_dirs_create(dir), 0);
	return dir;
}

static void rm_spool(char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	T_EQ_INT(system(cmd), 0);
	free(dir);
}

static void put_file(const char *dir, const char *rel, const char *data)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	T_ASSERT(f);
	fputs(data, f);
	fclose(f);
}

static char *slurp(const char *dir, const char *rel)
{
	char path[512];
	char *buf = calloc(1, 1 << 16);
	FILE *f;

	T_ASSERT(buf);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "r");
	if (!f) {
		free(buf);
		return NULL;
	}
	(void)!fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static int exists(const char *dir, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return access(path, F_OK) == 0;
}

static void put_request(const char *dir, int sig, const char *text)
{
	Opentelemetry__Proto__Common__V1__AnyValue body =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord rec =
	    OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord *recp = &rec;
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl =
	    OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
	    OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp = &rl;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	uint8_t buf[512];
	uint64_t seq;
	size_t n;

	body.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	body.string_value = (char *)text;
	rec.body = &body;
	sl.log_records = &recp;
	sl.n_log_records = 1;
	rl.scope_logs = &slp;
	rl.n_scope_logs = 1;
	req.resource_logs = &rlp;
	req.n_resource_logs = 1;
	n = opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, buf);
	if (sig == SPOOL_SIG_METRICS)
		n = 0; /* an empty ExportMetricsServiceRequest is valid too */
	T_EQ_INT(spool_write_file(dir, sig, buf, n, 1, &seq), 0);
}

static void cfg_init(struct shmlog_config *cfg, const char *spool)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->spool_dir, sizeof(cfg->spool_dir), "%s", spool);
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "http/protobuf");
	snprintf(cfg->exp_compression, sizeof(cfg->exp_compression), "gzip");
	cfg->exp_timeout_ms = 2000;
	cfg->exp_max_in_flight = 4;
	cfg->exp_retry_initial_ms = 50;
	cfg->exp_retry_max_ms = 100;
	cfg->exp_scan_interval_ms = 20;
}

static unsigned lines(const char *s)
{
	unsigned n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void test_file_mode(void)
{
	static const char *const keys[] = {
	    "pid=",
	    "updated_unix_ms=",
	    "endpoint=",
	    "protocol=",
	    "compression=",
	    "last_http_status=",
	    "last_grpc_status=",
	    "last_error=",
	    "last_latency_ms=",
	    "sent_requests=",
	    "sent_records=",
	    "retries=",
	    "dropped_requests=",
	    "dropped_records=",
	    "rejected_records=",
	    "quarantined_files=",
	    "spool_files=",
	    "spool_bytes=",
	    "auth_failures=",
	    "last_auth_status=",
	    "last_auth_unix_ms=",
	    "latency_ms_bounds=",
	    "latency_ms_buckets=",
	    "latency_ms_count=",
	    "latency_ms_sum=",
	    "metrics_endpoint=",
	    "metrics_protocol=",
	    "metrics_compression=",
	};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	struct exporter *ex = NULL;
	char *dir = make_spool();
	char *out, *p, *status;
	unsigned i;

	T_ASSERT(cfg);
	cfg_init(cfg, dir);
	/* corrupt, and sorting first */
	put_file(dir, "logs/00000000000000000001.pb", "not a spool file");
	/* being written: never touched */
	put_file(dir, "logs/.tmp-00000000000000000002", "partial");
	put_request(dir, SPOOL_SIG_LOGS, "first \"line\"\n");
	put_request(dir, SPOOL_SIG_LOGS, "second");
	put_request(dir, SPOOL_SIG_METRICS, "");

	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 1); /* the quarantined file was not delivered */
	T_EQ_INT(exporter_status(ex)->sent_requests, 3);
	T_EQ_INT(exporter_status(ex)->sent_records, 3);
	T_EQ_INT(exporter_status(ex)->quarantined_files, 1);
	T_EQ_INT(exporter_status(ex)->spool_files, 0);

	out = slurp(dir, "out/logs.jsonl");
	T_ASSERT(out);
	T_EQ_INT(lines(out), 2);
	p = strstr(out, "first \\\"line\\\"\\n");
	T_ASSERT(p);
	T_ASSERT(strstr(out, "second"));
	T_ASSERT(p < strstr(out, "second")); /* sequence order */
	T_ASSERT(strncmp(out, "{\"resourceLogs\":[", 17) == 0);
	free(out);
	out = slurp(dir, "out/metrics.jsonl");
	T_ASSERT(out);
	T_EQ_STR(out, "{}\n");
	free(out);
	T_ASSERT(exists(dir, "quarantine/logs-00000000000000000001.pb"));
	T_ASSERT(exists(dir, "logs/.tmp-00000000000000000002"));

	status = slurp(dir, "exporter.status");
	T_ASSERT(status);
	p = status;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		T_ASSERT(strncmp(p, keys[i], strlen(keys[i])) == 0);
		p = strchr(p, '\n');
		T_ASSERT(p);
		p++;
	}
	T_EQ_STR(p, "");
	T_ASSERT(strstr(status, "\nsent_requests=3\n"));
	T_ASSERT(strstr(status, "\nquarantined_files=1\n"));
	T_ASSERT(strstr(status, "\nauth_failures=0\nlast_auth_status=0\n"));
	free(status);

	/* nothing left: a second --once run delivers nothing and succeeds;
	 * the counters are the spool's totals, continued from the file */
	exporter_destroy(ex);
	ex = NULL;
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_status(ex)->sent_requests, 3);
	T_EQ_INT(exporter_status(ex)->sent_records, 3);
	T_EQ_INT(exporter_status(ex)->quarantined_files, 1);
	put_file(dir, "logs/00000000000000000009.pb", "corrupt too");
	T_EQ_INT(exporter_run(ex, NULL, 1), 1);
	T_EQ_INT(exporter_status(ex)->quarantined_files, 2);
	exporter_destroy(ex);
	/* and the file says so */
	status = slurp(dir, "exporter.status");
	T_ASSERT(status && strstr(status, "\nquarantined_files=2\n"));
	free(status);
	ex = NULL;
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_status(ex)->quarantined_files, 2);
	T_EQ_INT(exporter_run(ex, NULL, 1), 0);
	exporter_destroy(ex);
	free(cfg);
	rm_spool(dir);
}

static void test_scan_order(void)
{
	static const char *const names[] = {
	    "00000000000000000300.pb",
	    "00000000000000000010.pb",
	    "00000000000000000200.pb",
	};
	struct spool_scan_list l = {0};
	char *dir = make_spool();
	char rel[128];
	unsigned i;

	for (i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "logs/%s", names[i]);
		put_file(dir, rel, "x");
	}
	put_file(dir, "logs/.tmp-00000000000000000001", "x");
	put_file(dir, "logs/README", "x");
	put_file(dir, "logs/.pb", "x");
	T_EQ_INT(spool_scan_list(dir, SPOOL_SIG_LOGS, &l), 3);
	T_EQ_STR(l.ent[0].name, "00000000000000000010.pb");
	T_EQ_STR(l.ent[1].name, "00000000000000000200.pb");
	T_EQ_STR(l.ent[2].name, "00000000000000000300.pb");
	T_EQ_INT(l.bytes, 3);
	T_EQ_INT(spool_scan_list(dir, SPOOL_SIG_TRACES, &l), 0);
	T_EQ_INT(spool_scan_quarantine(dir, SPOOL_SIG_LOGS, "00000000000000000010.pb"), 0);
	T_ASSERT(exists(dir, "quarantine/logs-00000000000000000010.pb"));
	T_EQ_INT(spool_scan_list(dir, SPOOL_SIG_LOGS, &l), 2);
	spool_scan_free(&l);
	spool_scan_free(&l);
	rm_spool(dir);
}

static void test_watch(void)
{
	static const int sigs[] = {SPOOL_SIG_LOGS, SPOOL_SIG_METRICS};
	char *dir = make_spool();
	char path[512], name[64];
	uint64_t seq;
	int fd;

	T_EQ_INT(spool_scan_watch_open("/nonexistent-shmlog", sigs, 2), -ENOENT);
	fd = spool_scan_watch_open(dir, sigs, 2);
	T_ASSERT(fd >= 0);
	T_EQ_INT(spool_scan_watch_drain(fd), 0);
	/* Being written, then deleted: no event. */
	put_file(dir, "logs/.tmp-00000000000000000001", "x");
	snprintf(path, sizeof(path), "%s/logs/.tmp-00000000000000000001", dir);
	T_EQ_INT(unlink(path), 0);
	T_EQ_INT(spool_scan_watch_drain(fd), 0);
	/* Complete (write, fsync, rename), in either signal: one wake-up
	 * for however many events. */
	T_EQ_INT(spool_write_file(dir, SPOOL_SIG_LOGS, "\x0a\x00", 2, 1, &seq), 0);
	T_EQ_INT(spool_write_file(dir, SPOOL_SIG_LOGS, "\x0a\x00", 2, 1, NULL), 0);
	T_EQ_INT(spool_scan_watch_drain(fd), 1);
	T_EQ_INT(spool_scan_watch_drain(fd), 0);
	T_EQ_INT(spool_write_file(dir, SPOOL_SIG_METRICS, "\x0a\x00", 2, 1, NULL), 0);
	T_EQ_INT(spool_scan_watch_drain(fd), 1);
	/* Moved out to quarantine: not a new file. */
	snprintf(name, sizeof(name), "%020llu.pb", (unsigned long long)seq);
	T_EQ_INT(spool_scan_quarantine(dir, SPOOL_SIG_LOGS, name), 0);
	T_EQ_INT(spool_scan_watch_drain(fd), 0);
	T_EQ_INT(close(fd), 0);
	rm_spool(dir);
}

static void test_create_checks(void)
{
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	struct exporter *ex = NULL;
	char *dir = make_spool();

	T_ASSERT(cfg);
	cfg_init(cfg, dir);
	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint),
		 "http://user:pass@127.0.0.1:1/otlp?api-key=k");
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_STR(exporter_status(ex)->endpoint, "http://127.0.0.1:1/otlp");
	T_EQ_STR(exporter_status(ex)->protocol, "http/protobuf");
	T_EQ_STR(exporter_status(ex)->compression, "gzip");
	exporter_destroy(ex);
	ex = NULL;

	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint), "http://127.0.0.1:1");
	snprintf(cfg->exp_logs.endpoint, sizeof(cfg->exp_logs.endpoint), "http://h:2");
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_STR(exporter_status(ex)->endpoint, "http://h:2/");
	exporter_destroy(ex);
	ex = NULL;

	/* gRPC: endpoints are targets; the method path replaces any path. */
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "grpc");
	cfg->exp_logs.endpoint[0] = '\0';
	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint), "http://127.0.0.1:1/ignored");
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_STR(exporter_status(ex)->protocol, "grpc");
	T_EQ_STR(exporter_status(ex)->endpoint,
		 "http://127.0.0.1:1/opentelemetry.proto.collector.logs.v1.LogsService/Export");
	T_EQ_INT(exporter_status(ex)->last_grpc_status, -1);
	exporter_destroy(ex);
	ex = NULL;
	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint), "ftp://127.0.0.1:1");
	T_EQ_INT(exporter_create(cfg, &ex), -EINVAL);
	T_EQ_INT(exporter_protocol_parse("GRPC"), REQUEST_BODY_GRPC);
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "http/xml");
	T_EQ_INT(exporter_create(cfg, &ex), -EINVAL);
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "HTTP/JSON");
	snprintf(cfg->exp_compression, sizeof(cfg->exp_compression), "lz4");
	T_EQ_INT(exporter_create(cfg, &ex), -EINVAL);
	T_EQ_INT(exporter_protocol_parse("HTTP/JSON"), REQUEST_BODY_JSON);
	exporter_destroy(NULL);
	free(cfg);
	rm_spool(dir);
}

static void set_hdr(struct config_header *h, uint32_t *n, const char *name, const char *value)
{
	snprintf(h[*n].name, sizeof(h[*n].name), "%s", name);
	snprintf(h[*n].value, sizeof(h[*n].value), "%s", value);
	(*n)++;
}

/* exporter_signal_opts(): each field per signal, else generic; headers
 * merged by name; the status file shows both signals. */
static void test_signal_opts(void)
{
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	struct exporter_sig_opts *lo = calloc(1, sizeof(*lo)), *mo = calloc(1, sizeof(*mo));
	struct exporter *ex = NULL;
	char *dir = make_spool();
	char err[256], *status;
	unsigned i;

	T_ASSERT(cfg && lo && mo);
	cfg_init(cfg, dir);
	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint), "http://base:4318/otlp");
	snprintf(cfg->exp_ca_file, sizeof(cfg->exp_ca_file), "/generic-ca.pem");
	set_hdr(cfg->exp_headers, &cfg->exp_nheaders, "api-key", "generic");
	set_hdr(cfg->exp_headers, &cfg->exp_nheaders, "x-both", "1");

	/* Nothing per signal: the generic values, the base path rule. */
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_LOGS, lo, err, sizeof(err)), 0);
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_METRICS, mo, err, sizeof(err)), 0);
	T_EQ_STR(lo->url, "http://base:4318/otlp/v1/logs");
	T_EQ_STR(mo->url, "http://base:4318/otlp/v1/metrics");
	T_EQ_INT(lo->proto, REQUEST_BODY_PROTOBUF);
	T_EQ_INT(mo->ck, COMPRESS_GZIP);
	T_EQ_INT(mo->timeout_ms, 2000);
	T_EQ_STR(mo->ca_file, "/generic-ca.pem");
	T_EQ_INT(mo->insecure, 0);
	T_EQ_INT(mo->nheaders, 2);

	/* Metrics get their own of everything. */
	snprintf(cfg->exp_metrics.endpoint, sizeof(cfg->exp_metrics.endpoint),
		 "https://user:pw@metrics:443?k=v");
	snprintf(cfg->exp_metrics.protocol, sizeof(cfg->exp_metrics.protocol), "http/json");
	snprintf(cfg->exp_metrics.compression, sizeof(cfg->exp_metrics.compression), "none");
	snprintf(cfg->exp_metrics.timeout_ms, sizeof(cfg->exp_metrics.timeout_ms), "0");
	snprintf(cfg->exp_metrics.ca_file, sizeof(cfg->exp_metrics.ca_file), "/m-ca.pem");
	snprintf(cfg->exp_metrics.insecure, sizeof(cfg->exp_metrics.insecure), "true");
	set_hdr(cfg->exp_metrics.headers, &cfg->exp_metrics.nheaders, "API-KEY", "metrics");
	set_hdr(cfg->exp_metrics.headers, &cfg->exp_metrics.nheaders, "dd-protocol", "otlp");
	snprintf(cfg->exp_logs.compression, sizeof(cfg->exp_logs.compression), "zstd");
	snprintf(cfg->exp_logs.insecure, sizeof(cfg->exp_logs.insecure), "false");
	cfg->exp_insecure = 1;
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_METRICS, mo, err, sizeof(err)), 0);
	T_EQ_STR(mo->url, "https://user:pw@metrics:443/?k=v"); /* as given, empty path: "/" */
	T_EQ_STR(mo->shown, "https://metrics:443/");
	T_EQ_STR(mo->protocol, "http/json");
	T_EQ_INT(mo->proto, REQUEST_BODY_JSON);
	T_EQ_INT(mo->ck, COMPRESS_NONE);
	T_EQ_INT(mo->timeout_ms, 0);
	T_EQ_STR(mo->ca_file, "/m-ca.pem");
	T_EQ_INT(mo->insecure, 1);
	T_EQ_INT(mo->nheaders, 3);
	T_EQ_STR(mo->headers[0].name, "API-KEY"); /* replaced in place */
	T_EQ_STR(mo->headers[0].value, "metrics");
	T_EQ_STR(mo->headers[1].value, "1");
	T_EQ_STR(mo->headers[2].name, "dd-protocol");
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_LOGS, lo, err, sizeof(err)), 0);
	T_EQ_STR(lo->url, "http://base:4318/otlp/v1/logs");
	T_EQ_INT(lo->ck, COMPRESS_ZSTD);
	T_EQ_INT(lo->insecure, 0); /* per-signal false beats generic true */
	T_EQ_INT(lo->nheaders, 2);
	T_EQ_STR(lo->headers[0].value, "generic");

	/* The daemon uses them: the status file names both signals. */
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_STR(exporter_status(ex)->endpoint, "http://base:4318/otlp/v1/logs");
	T_EQ_STR(exporter_status(ex)->compression, "zstd");
	T_EQ_STR(exporter_status(ex)->metrics_endpoint, "https://metrics:443/");
	T_EQ_STR(exporter_status(ex)->metrics_protocol, "http/json");
	T_EQ_STR(exporter_status(ex)->metrics_compression, "none");
	T_EQ_INT(exporter_run(ex, NULL, 1), 0); /* empty spool: writes the status file */
	status = slurp(dir, "exporter.status");
	T_ASSERT(status);
	T_ASSERT(strstr(status, "\nendpoint=http://base:4318/otlp/v1/logs\n"));
	T_ASSERT(strstr(status, "\nmetrics_endpoint=https://metrics:443/\n"));
	T_ASSERT(strstr(status, "\nmetrics_protocol=http/json\n"));
	T_ASSERT(!strstr(status, "pw"));
	free(status);
	exporter_destroy(ex);
	ex = NULL;

	/* Only a per-signal endpoint: the other signal uses the default base,
	 * and this is not file mode. */
	cfg->exp_endpoint[0] = '\0';
	T_EQ_INT(exporter_file_mode(cfg), 0);
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_LOGS, lo, err, sizeof(err)), 0);
	T_EQ_STR(lo->url, "http://localhost:4318/v1/logs");

	/* gRPC for one signal only: its target defaults to :4317 and the
	 * method path; the other signal keeps OTLP/HTTP. */
	snprintf(cfg->exp_logs.protocol, sizeof(cfg->exp_logs.protocol), "grpc");
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_LOGS, lo, err, sizeof(err)), 0);
	T_EQ_INT(lo->proto, REQUEST_BODY_GRPC);
	T_EQ_STR(lo->url,
		 "http://localhost:4317/opentelemetry.proto.collector.logs.v1.LogsService/Export");
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_METRICS, mo, err, sizeof(err)), 0);
	T_ASSERT(mo->proto != REQUEST_BODY_GRPC);
	snprintf(cfg->exp_metrics.endpoint, sizeof(cfg->exp_metrics.endpoint),
		 "https://m.example:4317/some/path");
	snprintf(cfg->exp_metrics.protocol, sizeof(cfg->exp_metrics.protocol), "grpc");
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_METRICS, mo, err, sizeof(err)), 0);
	T_EQ_STR(mo->url, "https://m.example:4317/"
			  "opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
	cfg->exp_metrics.endpoint[0] = '\0';
	cfg->exp_metrics.protocol[0] = '\0';
	/* Refusals name the signal. */
	snprintf(cfg->exp_logs.protocol, sizeof(cfg->exp_logs.protocol), "thrift");
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_LOGS, lo, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "logs: protocol 'thrift' is not http/protobuf, http/json or grpc");
	T_EQ_INT(exporter_create(cfg, &ex), -EINVAL);
	cfg->exp_logs.protocol[0] = '\0';
	snprintf(cfg->exp_metrics.compression, sizeof(cfg->exp_metrics.compression), "lz4");
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_METRICS, mo, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "metrics: compression 'lz4': expected gzip, zstd or none");
	cfg->exp_metrics.compression[0] = '\0';
	/* Merged headers must fit. */
	cfg->exp_nheaders = 0;
	for (i = 0; i < CONFIG_MAX_HEADERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "h%u", i);
		set_hdr(cfg->exp_headers, &cfg->exp_nheaders, name, "v");
	}
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_LOGS, lo, err, sizeof(err)), 0);
	T_EQ_INT(lo->nheaders, CONFIG_MAX_HEADERS);
	T_EQ_INT(exporter_signal_opts(cfg, SPOOL_SIG_METRICS, mo, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "metrics: more than 32 headers with the generic ones");

	free(lo);
	free(mo);
	free(cfg);
	rm_spool(dir);
}

/* request_body_check(): what http/protobuf sends as is must have the wire
 * structure of a request; bytes with a valid spool CRC but foreign
 * content are refused (then quarantined). */
static void test_body_check(void)
{
	Opentelemetry__Proto__Common__V1__AnyValue body =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord rec =
	    OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord *recp = &rec;
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl =
	    OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
	    OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp[2] = {&rl, &rl};
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	static const unsigned char group[] = {0x0a, 0x02, 0x0b, 0x0c};	 /* group in field 1 */
	static const unsigned char field2[] = {0x12, 0x00};		 /* top-level field 2 */
	static const unsigned char longlen[] = {0x0a, 0x02, 0x0a, 0x10}; /* inner length past end */
	static const unsigned char badvar[] = {0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t buf[512], junk[300];
	void *out = NULL;
	size_t n, outlen;

	body.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	body.string_value = "hello";
	rec.body = &body;
	rec.time_unix_nano = 1234567890123456789ull;
	sl.log_records = &recp;
	sl.n_log_records = 1;
	rl.scope_logs = &slp;
	rl.n_scope_logs = 1;
	req.resource_logs = rlp;
	req.n_resource_logs = 2;
	n = opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, buf);
	T_ASSERT(n > 10);
	T_EQ_INT(request_body_check(buf, n), 0);
	T_EQ_INT(request_body_check(buf, 0), 0); /* an empty request is a request */
	/* Cut anywhere but between the two resource_logs: truncated. */
	for (size_t cut = 1; cut < n; cut++)
		T_EQ_INT(request_body_check(buf, cut), cut == n / 2 ? 0 : -EBADMSG);
	T_EQ_INT(request_body_check(group, sizeof(group)), -EBADMSG);
	T_EQ_INT(request_body_check(field2, sizeof(field2)), -EBADMSG);
	T_EQ_INT(request_body_check(longlen, sizeof(longlen)), -EBADMSG);
	T_EQ_INT(request_body_check(badvar, sizeof(badvar)), -EBADMSG);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	T_EQ_INT(request_body_check(junk, sizeof(junk)), -EBADMSG);
	T_EQ_INT(request_body_check("this is not a spool file\n", 25), -EBADMSG);
	/* request_body_build() refuses it for http/protobuf, as for JSON. */
	T_EQ_INT(request_body_build(REQUEST_BODY_PROTOBUF, NULL, SPOOL_SIG_LOGS, junk, sizeof(junk),
				    &out, &outlen),
		 -EBADMSG);
	T_EQ_INT(
	    request_body_build(REQUEST_BODY_PROTOBUF, NULL, SPOOL_SIG_LOGS, buf, n, &out, &outlen),
	    0);
	T_EQ_INT(outlen, n);
	T_ASSERT(memcmp(out, buf, n) == 0);
	free(out);
}

int main(void)
{
	T_RUN(test_body_check);
	T_RUN(test_file_mode);
	T_RUN(test_scan_order);
	T_RUN(test_watch);
	T_RUN(test_create_checks);
	T_RUN(test_signal_opts);
	return 0;
}
