/* SPDX-License-Identifier: MIT */
/*
 * exporter/response.c: partial success (protobuf and JSON, logs and
 * metrics), google.rpc.Status messages, printable excerpts of other
 * bodies, and garbage bodies that must neither crash nor leak.
 */
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "response.h"
#include "spool_file.h"
#include "test_help.h"

static void test_partial_logs(void)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsPartialSuccess ps =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse r =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
	struct response_info ri;
	uint8_t buf[256];
	size_t n;

	ps.rejected_log_records = 5;
	ps.error_message = "5 records too old\n";
	r.partial_success = &ps;
	n = opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(&r, buf);
	T_EQ_INT(response_parse_success(SPOOL_SIG_LOGS, "application/x-protobuf", buf, n, &ri), 0);
	T_EQ_INT(ri.rejected, 5);
	T_EQ_STR(ri.message, "5 records too old");

	/* full success: empty body, or empty response message */
	T_EQ_INT(response_parse_success(SPOOL_SIG_LOGS, NULL, NULL, 0, &ri), 0);
	T_EQ_INT(ri.rejected, 0);
	T_EQ_STR(ri.message, "");
	r.partial_success = NULL;
	n = opentelemetry__proto__collector__logs__v1__export_logs_service_response__pack(&r, buf);
	T_EQ_INT(response_parse_success(SPOOL_SIG_LOGS, "application/x-protobuf", buf, n, &ri), 0);
	T_EQ_INT(ri.rejected, 0);
}

static void test_partial_metrics(void)
{
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse r =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
	struct response_info ri;
	uint8_t buf[256];
	size_t n;

	ps.rejected_data_points = 7;
	ps.error_message = "bad unit";
	r.partial_success = &ps;
	n = opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(
	    &r, buf);
	T_EQ_INT(response_parse_success(SPOOL_SIG_METRICS, NULL, buf, n, &ri), 0);
	T_EQ_INT(ri.rejected, 7);
	T_EQ_STR(ri.message, "bad unit");
}

static void test_partial_json(void)
{
	const char *b1 = "{\"partialSuccess\":{\"rejectedLogRecords\":\"3\",\"errorMessage\":"
			 "\"too \\\"old\\\"\\n\"}}";
	const char *b2 = "{ \"partialSuccess\" : { \"rejectedDataPoints\" : 12 } }";
	struct response_info ri;

	T_EQ_INT(response_parse_success(SPOOL_SIG_LOGS, "application/json; charset=utf-8", b1,
					strlen(b1), &ri),
		 0);
	T_EQ_INT(ri.rejected, 3);
	T_EQ_STR(ri.message, "too \"old\" ");
	T_EQ_INT(response_parse_success(SPOOL_SIG_METRICS, "application/json", b2, strlen(b2), &ri),
		 0);
	T_EQ_INT(ri.rejected, 12);
	T_EQ_STR(ri.message, "");
	T_EQ_INT(response_parse_success(SPOOL_SIG_LOGS, "application/json", "{}", 2, &ri), 0);
	T_EQ_INT(ri.rejected, 0);
}

static void test_status(void)
{
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Google__Protobuf__Any *details[1] = {&any};
	struct response_info ri;
	uint8_t buf[256];
	size_t n;

	st.code = 3;
	st.message = "invalid log record: bad\ttime";
	any.type_url = "type.googleapis.com/google.rpc.BadRequest";
	any.value.data = (uint8_t *)"\x0a\x00";
	any.value.len = 2;
	st.details = details;
	st.n_details = 1;
	n = google__rpc__status__pack(&st, buf);
	response_parse_error("application/x-protobuf", buf, n, &ri);
	T_EQ_STR(ri.message, "invalid log record: bad time");
	T_EQ_INT(ri.rejected, 0);
	/* no content type: still tried as protobuf */
	response_parse_error(NULL, buf, n, &ri);
	T_EQ_STR(ri.message, "invalid log record: bad time");
}

static void test_other_bodies(void)
{
	char big[600];
	struct response_info ri;
	const char *json = "{\"code\":7,\"message\":\"no such tenant\"}";

	response_parse_error("application/json", json, strlen(json), &ri);
	T_EQ_STR(ri.message, "no such tenant");
	response_parse_error("text/html", "<h1>Bad\r\nGateway</h1>\n", 23, &ri);
	T_EQ_STR(ri.message, "<h1>Bad  Gateway</h1>");
	memset(big, 'x', sizeof(big));
	response_parse_error("text/plain", big, sizeof(big), &ri);
	T_EQ_INT(strlen(ri.message), RESPONSE_EXCERPT_MAX);
	response_parse_error("text/plain", "\x01\x02\xff", 3, &ri);
	T_EQ_STR(ri.message, "");
	response_parse_error("text/plain", NULL, 0, &ri);
	T_EQ_STR(ri.message, "");
	/* not a Status although the type says so: excerpt instead */
	response_parse_error("application/x-protobuf", "upstream timeout", 16, &ri);
	T_EQ_STR(ri.message, "upstream timeout");
}

static void test_garbage(void)
{
	uint32_t x = 88172645u;
	unsigned i, k;

	/* Random bytes through every parser: must not crash, must stay
	 * printable (ASan/UBSan builds check memory). */
	for (i = 0; i < 3000; i++) {
		size_t n = i % 300, j;
		uint8_t *b = malloc(n + 1);
		struct response_info ri;

		T_ASSERT(b);
		for (j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			b[j] = (uint8_t)x;
		}
		if (i % 3 == 0 && n > 4)
			memcpy(b, "{\"me", 4);
		response_parse_success(SPOOL_SIG_LOGS, "application/x-protobuf", b, n, &ri);
		response_parse_success(SPOOL_SIG_METRICS, "application/json", b, n, &ri);
		response_parse_error("application/x-protobuf", b, n, &ri);
		response_parse_error("application/json", b, n, &ri);
		response_parse_error("text/plain", b, n, &ri);
		for (k = 0; ri.message[k]; k++)
			T_ASSERT(ri.message[k] >= 0x20 && ri.message[k] < 0x7f);
		free(b);
	}
	{
		/* truncated JSON string and key at the very end */
		struct response_info ri;

		response_parse_success(SPOOL_SIG_LOGS, "application/json",
				       "{\"errorMessage\":\"abc", 20, &ri);
		response_parse_success(SPOOL_SIG_LOGS, "application/json",
				       "{\"rejectedLogRecords\"", 21, &ri);
		response_parse_error("application/json", "{\"message\":\"\\u12", 17, &ri);
	}
}

int main(void)
{
	T_RUN(test_partial_logs);
	T_RUN(test_partial_metrics);
	T_RUN(test_partial_json);
	T_RUN(test_status);
	T_RUN(test_other_bodies);
	T_RUN(test_garbage);
	return 0;
}
