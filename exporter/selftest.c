/* SPDX-License-Identifier: MIT */
/*
 * --test: print each signal's resolved endpoint and options, build one
 * ExportLogsServiceRequest by hand (resource service.name and host.name,
 * one INFO record), encode it exactly as the daemon would encode a spool
 * file (request_body.c), send it through the same transport (http_send.c)
 * with the logs options, then an empty ExportMetricsServiceRequest with
 * the metrics options, and report what came back (for grpc the gRPC status
 * and message as well). With no endpoint
 * configured the record goes to <spool>/out/logs.jsonl instead.
 */
#include "selftest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compress.h"
#include "exporter.h"
#include "file_out.h"
#include "grpc_frame.h"
#include "http_send.h"
#include "json_encode.h"
#include "log.h"
#include "request_body.h"
#include "response.h"
#include "spool_file.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"

#define SELFTEST_BODY "Hello from shmlog"

struct outcome {
	int done;
	int grpc;
	struct grpc_outcome go; /* grpc: what the call ended with */
	long status;
	char err[256];
	double latency_ms;
	struct response_info ri;
};

static int build_request(const struct shmlog_config *cfg, uint8_t **out, size_t *outlen)
{
	Opentelemetry__Proto__Common__V1__AnyValue v_service =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_host =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_body =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_service =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_host =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue *attrs[2] = {&kv_service, &kv_host};
	Opentelemetry__Proto__Resource__V1__Resource res =
	    OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
	    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord rec =
	    OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord *recs[1] = {&rec};
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl =
	    OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *sls[1] = {&sl};
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
	    OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rls[1] = {&rl};
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	char host[256];
	struct timespec ts;
	uint64_t now;

	if (cfg->res_host_name[0]) {
		snprintf(host, sizeof(host), "%s", cfg->res_host_name);
	} else if (gethostname(host, sizeof(host)) == -1) {
		snprintf(host, sizeof(host), "unknown");
	}
	host[sizeof(host) - 1] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	v_service.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v_service.string_value = (char *)(cfg->service_name[0] ? cfg->service_name : "shmlog");
	kv_service.key = "service.name";
	kv_service.value = &v_service;
	v_host.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v_host.string_value = host;
	kv_host.key = "host.name";
	kv_host.value = &v_host;
	res.n_attributes = 2;
	res.attributes = attrs;

	scope.name = "shmlog-exporter";
	scope.version = SHMLOG_VERSION;

	v_body.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v_body.string_value = SELFTEST_BODY;
	rec.time_unix_nano = now;
	rec.observed_time_unix_nano = now;
	rec.severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
	rec.severity_text = "INFO";
	rec.body = &v_body;

	sl.scope = &scope;
	sl.n_log_records = 1;
	sl.log_records = recs;
	rl.resource = &res;
	rl.n_scope_logs = 1;
	rl.scope_logs = sls;
	req.n_resource_logs = 1;
	req.resource_logs = rls;

	*outlen =
	    opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(
		&req);
	*out = malloc(*outlen);
	if (!*out)
		return -ENOMEM;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, *out);
	return 0;
}

static int to_file(const struct shmlog_config *cfg, const uint8_t *pb, size_t len)
{
	char path[PATH_MAX];
	char *json = NULL;
	size_t jlen;
	int ret;

	ret = spool_dirs_create(cfg->spool_dir);
	if (ret == 0)
		ret = json_encode_payload(SPOOL_SIG_LOGS, pb, len, &json, &jlen);
	if (ret == 0)
		ret = file_out_append(cfg->spool_dir, SPOOL_SIG_LOGS, json, jlen);
	free(json);
	file_out_path(path, sizeof(path), cfg->spool_dir, SPOOL_SIG_LOGS);
	if (ret < 0) {
		printf("no endpoint configured: cannot write %s: %s\n", path, strerror(-ret));
		return 1;
	}
	printf("no endpoint configured: wrote the test log record to %s\n", path);
	return 0;
}

static void on_done(void *arg, void *user, const struct http_result *res)
{
	struct outcome *o = arg;
	int sig = user ? SPOOL_SIG_METRICS : SPOOL_SIG_LOGS;

	o->done = 1;
	o->status = res->status;
	o->latency_ms = res->latency_ms;
	snprintf(o->err, sizeof(o->err), "%s", res->err);
	if (o->grpc && res->status) {
		grpc_frame_outcome(res->status, res->grpc_status, res->grpc_message,
				   res->grpc_details, &o->go);
		if (o->go.code == GRPC_OK)
			grpc_frame_response(sig, res->grpc_encoding, res->body,
					    res->body_len, &o->ri);
		return;
	}
	if (res->status >= 200 && res->status < 300)
		response_parse_success(sig, res->content_type, res->body, res->body_len, &o->ri);
	else if (res->status)
		response_parse_error(res->content_type, res->body, res->body_len, &o->ri);
}

/* Sends pb (a request of sig) with sig's own options; prints the outcome.
 * Returns 0 on a 2xx. */
static int send_one(const struct shmlog_config *cfg, int sig, const uint8_t *pb, size_t len)
{
	struct exporter_sig_opts *so = calloc(1, sizeof(*so));
	struct outcome o = {0};
	struct http_send_opts opts;
	struct http_send *hs = NULL;
	struct compress *cz = NULL;
	void *body = NULL;
	char err[256];
	size_t blen;
	int ret, rc = 1;

	if (!so) {
		printf("--test: out of memory\n");
		return 1;
	}
	ret = exporter_signal_opts(cfg, sig, so, err, sizeof(err));
	if (ret < 0) {
		printf("--test: %s\n", err);
		goto out_free;
	}
	ret = compress_create(so->ck, so->level, &cz);
	if (ret == 0)
		ret = request_body_build(so->proto, cz, sig, pb, len, &body, &blen);
	if (ret < 0) {
		printf("--test: cannot encode the %s request: %s\n", spool_signal_name(sig),
		       strerror(-ret));
		goto out_free;
	}
	o.grpc = so->proto == REQUEST_BODY_GRPC;
	exporter_sig_http_opts(so, &opts);
	ret = http_send_create(&opts, 1, 1, &hs);
	/* The user pointer only tells on_done() which signal answered. */
	if (ret == 0)
		ret = http_send_start(hs, 0, so->url, body, blen,
				      sig == SPOOL_SIG_METRICS ? (void *)so : NULL);
	if (ret < 0) {
		printf("POST %s: cannot start: %s\n", so->shown, strerror(-ret));
		goto out_free;
	}
	while (!o.done) {
		if (http_send_poll(hs, 100, -1, NULL, on_done, &o) < 0) {
			printf("POST %s: transport failure\n", so->shown);
			goto out_free;
		}
	}
	if (o.status == 0) {
		printf("POST %s: no response (%s) after %.1f ms\n", so->shown, o.err, o.latency_ms);
		goto out_free;
	}
	if (o.grpc) {
		printf("POST %s: HTTP %ld, gRPC %s (%d)%s in %.1f ms\n", so->shown, o.status,
		       grpc_code_name(o.go.code), o.go.code,
		       o.go.from_http ? ", no grpc-status" : "", o.latency_ms);
		if (o.go.code == GRPC_OK) {
			if (o.ri.rejected > 0 || o.ri.message[0])
				printf("partial success: %lld %s rejected%s%s\n",
				       (long long)o.ri.rejected,
				       sig == SPOOL_SIG_METRICS ? "data points" : "log records",
				       o.ri.message[0] ? ": " : "", o.ri.message);
			rc = 0;
		} else if (o.go.message[0]) {
			printf("server: %s\n", o.go.message);
		}
		goto out_free;
	}
	printf("POST %s: HTTP %ld in %.1f ms\n", so->shown, o.status, o.latency_ms);
	if (o.status >= 200 && o.status < 300) {
		if (o.ri.rejected > 0 || o.ri.message[0])
			printf("partial success: %lld %s rejected%s%s\n", (long long)o.ri.rejected,
			       sig == SPOOL_SIG_METRICS ? "data points" : "log records",
			       o.ri.message[0] ? ": " : "", o.ri.message);
		rc = 0;
	} else if (o.ri.message[0]) {
		printf("server: %s\n", o.ri.message);
	}

out_free:
	http_send_destroy(hs);
	compress_destroy(cz);
	free(body);
	free(so);
	return rc;
}

/* One line per signal: where it goes and how, as the daemon resolves it. */
static int print_signals(const struct shmlog_config *cfg)
{
	static const int sigs[] = {SPOOL_SIG_LOGS, SPOOL_SIG_METRICS};
	struct exporter_sig_opts *so = calloc(1, sizeof(*so));
	char err[256];
	size_t i;
	int rc = 0;

	if (!so) {
		printf("--test: out of memory\n");
		return 1;
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (exporter_signal_opts(cfg, sigs[i], so, err, sizeof(err)) < 0) {
			printf("--test: %s\n", err);
			rc = 1;
			continue;
		}
		printf("%s: %s (%s, %s, timeout %u ms, %u headers)\n", spool_signal_name(sigs[i]),
		       so->shown, so->protocol, compress_name(so->ck), so->timeout_ms,
		       so->nheaders);
	}
	free(so);
	return rc;
}

int selftest_run(const struct shmlog_config *cfg)
{
	uint8_t *pb = NULL;
	size_t len;
	int rc;

	if (build_request(cfg, &pb, &len) < 0) {
		printf("--test: out of memory\n");
		return 1;
	}
	if (exporter_file_mode(cfg)) {
		rc = to_file(cfg, pb, len);
	} else {
		rc = print_signals(cfg);
		if (rc == 0)
			rc = send_one(cfg, SPOOL_SIG_LOGS, pb, len);
		/* An empty ExportMetricsServiceRequest (which OTLP receivers
		 * accept) checks the metrics endpoint and its credentials. */
		if (rc == 0)
			rc = send_one(cfg, SPOOL_SIG_METRICS, (const uint8_t *)"", 0);
	}
	free(pb);
	fflush(stdout);
	return rc;
}
