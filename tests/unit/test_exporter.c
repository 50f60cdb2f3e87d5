/* SPDX-License-Identifier: MIT */
/*
 * exporter/exporter.c without a network: the embedded file output (one
 * OTLP/JSON line per request in <spool>/out/<signal>.jsonl, spool files
 * deleted after), quarantine of corrupt files, files being written
 * (.tmp-*) left alone, the ordered spool listing, the status file's keys,
 * endpoint redaction and the gRPC refusal.
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
	    "latency_ms_bounds=",
	    "latency_ms_buckets=",
	    "latency_ms_count=",
	    "latency_ms_sum=",
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
	free(status);

	/* nothing left: a second --once run delivers nothing and succeeds */
	exporter_destroy(ex);
	ex = NULL;
	T_EQ_INT(exporter_create(cfg, &ex), 0);
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
	snprintf(cfg->exp_logs_endpoint, sizeof(cfg->exp_logs_endpoint), "http://h:2");
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_STR(exporter_status(ex)->endpoint, "http://h:2/");
	exporter_destroy(ex);
	ex = NULL;

	/* gRPC: endpoints are targets; the method path replaces any path. */
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "grpc");
	cfg->exp_logs_endpoint[0] = '\0';
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

int main(void)
{
	T_RUN(test_file_mode);
	T_RUN(test_scan_order);
	T_RUN(test_create_checks);
	return 0;
}
