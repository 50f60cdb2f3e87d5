/* SPDX-License-Identifier: MIT */
/*
 * exporter/json_encode.c and json_metrics.c: OTLP/JSON of hand-built
 * requests compared with exact expected strings: lowerCamelCase keys, hex
 * trace/span ids (empty for a wrong length), 64-bit integers as strings,
 * enums as integers, base64 bytes, escaped control characters, UTF-8
 * passed through and invalid UTF-8 replaced, NaN/Infinity, omitted
 * defaults. Also: undecodable payloads are refused.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_encode.h"
#include "json_metrics.h"
#include "spool_file.h"
#include "test_help.h"

#define STR_VALUE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE

static char *
encode_logs(const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r)
{
	struct json_buf b;
	char *out = NULL;
	size_t len = 0;

	json_buf_init(&b);
	json_encode_logs(&b, r);
	T_EQ_INT(json_buf_take(&b, &out, &len), 0);
	T_EQ_INT(strlen(out), len);
	return out;
}

static void test_logs(void)
{
	static uint8_t trace[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
				    0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
	static uint8_t span[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
	static uint8_t bad_id[3] = {1, 2, 3};
	static uint8_t bytes[3] = {0x00, 0x01, 0xff};
	Opentelemetry__Proto__Common__V1__AnyValue v_svc =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_int =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_dbl =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_bool =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_bytes =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_arr =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_kvl =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_empty =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue v_zero =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue body =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__AnyValue body2 =
	    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__ArrayValue arr =
	    OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValueList kvl =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_svc =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_int =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_dbl =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_bool =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_bytes =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_arr =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue kv_in =
	    OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
	Opentelemetry__Proto__Common__V1__KeyValue *res_attrs[1] = {&kv_svc};
	Opentelemetry__Proto__Common__V1__KeyValue *rec_attrs[5] = {&kv_int, &kv_dbl, &kv_bool,
								    &kv_bytes, &kv_arr};
	Opentelemetry__Proto__Common__V1__AnyValue *arr_vals[3] = {&v_kvl, &v_empty, &v_zero};
	Opentelemetry__Proto__Common__V1__KeyValue *kvl_vals[1] = {&kv_in};
	Opentelemetry__Proto__Resource__V1__Resource res =
	    OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
	    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord r1 =
	    OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord r2 =
	    OPENTELEMETRY__PROTO__LOGS__V1__LOG_RECORD__INIT;
	Opentelemetry__Proto__Logs__V1__LogRecord *recs[2] = {&r1, &r2};
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl =
	    OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *sls[1] = {&sl};
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
	    OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rls[1] = {&rl};
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	const char *want;
	char *got;

	v_svc.value_case = STR_VALUE;
	v_svc.string_value = "svc";
	kv_svc.key = "service.name";
	kv_svc.value = &v_svc;
	res.attributes = res_attrs;
	res.n_attributes = 1;
	scope.name = "shmlog";

	v_int.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	v_int.int_value = INT64_MIN;
	kv_int.key = "i";
	kv_int.value = &v_int;
	v_dbl.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
	v_dbl.double_value = 1.5;
	kv_dbl.key = "d";
	kv_dbl.value = &v_dbl;
	v_bool.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
	v_bool.bool_value = 0;
	kv_bool.key = "b";
	kv_bool.value = &v_bool;
	v_bytes.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
	v_bytes.bytes_value.data = bytes;
	v_bytes.bytes_value.len = sizeof(bytes);
	kv_bytes.key = "y";
	kv_bytes.value = &v_bytes;
	kv_in.key = "k";
	kv_in.value = &v_svc;
	kvl.values = kvl_vals;
	kvl.n_values = 1;
	v_kvl.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
	v_kvl.kvlist_value = &kvl;
	v_zero.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	v_zero.int_value = 0;
	arr.values = arr_vals;
	arr.n_values = 3;
	v_arr.value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
	v_arr.array_value = &arr;
	kv_arr.key = "a";
	kv_arr.value = &v_arr;

	body.value_case = STR_VALUE;
	/* quote, backslash, newline, tab, 0x01, 0x1f, DEL, UTF-8 é and 日 */
	body.string_value = "q\"b\\n\nt\t\x01\x1f\x7f \xc3\xa9\xe6\x97\xa5";
	r1.time_unix_nano = 1700000000000000001ull;
	r1.observed_time_unix_nano = UINT64_MAX;
	r1.severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
	r1.severity_text = "INFO";
	r1.body = &body;
	r1.attributes = rec_attrs;
	r1.n_attributes = 5;
	r1.flags = 1;
	r1.trace_id.data = trace;
	r1.trace_id.len = 16;
	r1.span_id.data = span;
	r1.span_id.len = 8;
	r1.event_name = "app.start";

	/* invalid UTF-8 (lone continuation, overlong, surrogate), bad ids */
	body2.value_case = STR_VALUE;
	body2.string_value = "x\x80y\xc0\xafz\xed\xa0\x80";
	r2.body = &body2;
	r2.trace_id.data = bad_id;
	r2.trace_id.len = 3;
	r2.span_id.data = bad_id;
	r2.span_id.len = 3;
	r2.dropped_attributes_count = 2;

	sl.scope = &scope;
	sl.log_records = recs;
	sl.n_log_records = 2;
	rl.resource = &res;
	rl.scope_logs = sls;
	rl.n_scope_logs = 1;
	rl.schema_url = "https://opentelemetry.io/schemas/1.24.0";
	req.resource_logs = rls;
	req.n_resource_logs = 1;

	want = "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	       "\"value\":{\"stringValue\":\"svc\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":"
	       "\"shmlog\"},\"logRecords\":[{\"timeUnixNano\":\"1700000000000000001\","
	       "\"observedTimeUnixNano\":\"18446744073709551615\",\"severityNumber\":9,"
	       "\"severityText\":\"INFO\",\"body\":{\"stringValue\":"
	       "\"q\\\"b\\\\n\\nt\\t\\u0001\\u001f\x7f \xc3\xa9\xe6\x97\xa5\"},"
	       "\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
	       "{\"key\":\"d\",\"value\":{\"doubleValue\":1.5}},"
	       "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
	       "{\"key\":\"y\",\"value\":{\"bytesValue\":\"AAH/\"}},"
	       "{\"key\":\"a\",\"value\":{\"arrayValue\":{\"values\":[{\"kvlistValue\":"
	       "{\"values\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"svc\"}}]}},{},"
	       "{\"intValue\":\"0\"}]}}}],"
	       "\"flags\":1,\"traceId\":\"5b8efff798038103d269b633813fc60c\","
	       "\"spanId\":\"eee19b7ec3c1b174\",\"eventName\":\"app.start\"},"
	       "{\"body\":{\"stringValue\":\"x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbdz"
	       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"},\"droppedAttributesCount\":2,"
	       "\"traceId\":\"\",\"spanId\":\"\"}]}],"
	       "\"schemaUrl\":\"https://opentelemetry.io/schemas/1.24.0\"}]}";
	got = encode_logs(&req);
	T_EQ_STR(got, want);
	free(got);

	/* Through the spool-payload entry point: pack, decode, encode. */
	{
		size_t n =
		    opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(
			&req);
		uint8_t *pb = malloc(n);
		char *js = NULL;
		size_t jlen = 0;

		T_ASSERT(pb);
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req,
											     pb);
		T_EQ_INT(json_encode_payload(SPOOL_SIG_LOGS, pb, n, &js, &jlen), 0);
		T_EQ_STR(js, want);
		free(js);
		free(pb);
	}
}

static void test_empty(void)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	char *got = encode_logs(&req);
	char *js = NULL;
	size_t jlen;

	T_EQ_STR(got, "{}");
	free(got);
	T_EQ_INT(json_encode_payload(SPOOL_SIG_LOGS, "", 0, &js, &jlen), 0);
	T_EQ_STR(js, "{}");
	free(js);
}

static void test_garbage(void)
{
	static const uint8_t bad[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
	char *js = NULL;
	size_t jlen;

	T_EQ_INT(json_encode_payload(SPOOL_SIG_LOGS, bad, sizeof(bad), &js, &jlen), -EBADMSG);
	T_EQ_INT(json_encode_payload(SPOOL_SIG_METRICS, bad, sizeof(bad), &js, &jlen), -EBADMSG);
	T_EQ_INT(json_encode_payload(SPOOL_SIG_TRACES, "", 0, &js, &jlen), -EINVAL);
}

static void test_metrics(void)
{
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint g1 =
	    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint g2 =
	    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint g3 =
	    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint *gps[3] = {&g1, &g2, &g3};
	Opentelemetry__Proto__Metrics__V1__Gauge gauge =
	    OPENTELEMETRY__PROTO__METRICS__V1__GAUGE__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint s1 =
	    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__NumberDataPoint *sps[1] = {&s1};
	Opentelemetry__Proto__Metrics__V1__Sum sum = OPENTELEMETRY__PROTO__METRICS__V1__SUM__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint h1 =
	    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__INIT;
	Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *hps[1] = {&h1};
	Opentelemetry__Proto__Metrics__V1__Histogram hist =
	    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM__INIT;
	Opentelemetry__Proto__Metrics__V1__Metric m1 =
	    OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
	Opentelemetry__Proto__Metrics__V1__Metric m2 =
	    OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
	Opentelemetry__Proto__Metrics__V1__Metric m3 =
	    OPENTELEMETRY__PROTO__METRICS__V1__METRIC__INIT;
	Opentelemetry__Proto__Metrics__V1__Metric *ms[3] = {&m1, &m2, &m3};
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics sm =
	    OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
	Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sms[1] = {&sm};
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics rm =
	    OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
	Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rms[1] = {&rm};
	Opentelemetry__Proto__Resource__V1__Resource res =
	    OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	uint64_t buckets[3] = {1, 0, 18446744073709551615ull};
	double bounds[2] = {0.5, 1e300};
	struct json_buf b;
	const char *want;
	char *got = NULL;
	size_t len;

	g1.time_unix_nano = 5;
	g1.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	g1.as_double = NAN;
	g2.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	g2.as_double = -INFINITY;
	g3.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
	g3.as_double = 0.1;
	gauge.data_points = gps;
	gauge.n_data_points = 3;
	m1.name = "cpu.utilization";
	m1.unit = "1";
	m1.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
	m1.gauge = &gauge;

	s1.start_time_unix_nano = 1;
	s1.time_unix_nano = 2;
	s1.value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
	s1.as_int = -42;
	s1.flags =
	    OPENTELEMETRY__PROTO__METRICS__V1__DATA_POINT_FLAGS__DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK;
	sum.data_points = sps;
	sum.n_data_points = 1;
	sum.aggregation_temporality =
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
	sum.is_monotonic = 1;
	m2.name = "requests";
	m2.description = "all of them";
	m2.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
	m2.sum = &sum;

	h1.count = 19;
	h1._sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
	h1.sum = 0; /* set to zero: still written (explicit presence) */
	h1.bucket_counts = buckets;
	h1.n_bucket_counts = 3;
	h1.explicit_bounds = bounds;
	h1.n_explicit_bounds = 2;
	h1._min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN;
	h1.min = -2.25;
	hist.data_points = hps;
	hist.n_data_points = 1;
	hist.aggregation_temporality =
	    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
	m3.name = "latency";
	m3.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
	m3.histogram = &hist;

	sm.metrics = ms;
	sm.n_metrics = 3;
	rm.resource = &res; /* present but empty: {} */
	rm.scope_metrics = sms;
	rm.n_scope_metrics = 1;
	req.resource_metrics = rms;
	req.n_resource_metrics = 1;

	want =
	    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
	    "{\"name\":\"cpu.utilization\",\"unit\":\"1\",\"gauge\":{\"dataPoints\":["
	    "{\"timeUnixNano\":\"5\",\"asDouble\":\"NaN\"},{\"asDouble\":\"-Infinity\"},"
	    "{\"asDouble\":0.1}]}},"
	    "{\"name\":\"requests\",\"description\":\"all of them\",\"sum\":{\"dataPoints\":["
	    "{\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\",\"asInt\":\"-42\",\"flags\":1}],"
	    "\"aggregationTemporality\":2,\"isMonotonic\":true}},"
	    "{\"name\":\"latency\",\"histogram\":{\"dataPoints\":[{\"count\":\"19\",\"sum\":0,"
	    "\"bucketCounts\":[\"1\",\"0\",\"18446744073709551615\"],"
	    "\"explicitBounds\":[0.5,1e+300],\"min\":-2.25}],"
	    "\"aggregationTemporality\":1}}]}]}]}";
	json_buf_init(&b);
	json_metrics_encode(&b, &req);
	T_EQ_INT(json_buf_take(&b, &got, &len), 0);
	T_EQ_STR(got, want);
	free(got);
}

static void test_primitives(void)
{
	static const uint8_t b64in[] = "foobar";
	struct json_buf b;
	char *got = NULL;
	size_t len, i;

	json_buf_init(&b);
	for (i = 0; i <= 6; i++) {
		json_buf_sep(&b);
		json_buf_base64(&b, b64in, i);
	}
	json_buf_sep(&b);
	json_buf_double(&b, INFINITY);
	json_buf_sep(&b);
	json_buf_double(&b, 1.0 / 3);
	json_buf_sep(&b);
	json_buf_double(&b, 100);
	T_EQ_INT(json_buf_take(&b, &got, &len), 0);
	T_EQ_STR(got, "\"\",\"Zg==\",\"Zm8=\",\"Zm9v\",\"Zm9vYg==\",\"Zm9vYmE=\",\"Zm9vYmFy\","
		      "\"Infinity\",0.33333333333333331,100");
	free(got);
}

int main(void)
{
	T_RUN(test_logs);
	T_RUN(test_empty);
	T_RUN(test_garbage);
	T_RUN(test_metrics);
	T_RUN(test_primitives);
	return 0;
}
