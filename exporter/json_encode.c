/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON for the common messages (AnyValue, KeyValue, Resource,
 * InstrumentationScope) and for logs; json_metrics.c does the metric
 * types. Field order follows the .proto files. proto3 JSON rules apply:
 * a scalar equal to its default and an empty repeated field are omitted,
 * a present sub-message is written even when empty, and a set oneof
 * member is written even when it holds the default value.
 */
#include "json_encode.h"

#include <errno.h>

#include "json_encode_int.h"
#include "json_metrics.h"
#include "spool_file.h"

#define TRACE_ID_LEN 16
#define SPAN_ID_LEN 8

/* Nesting guard: AnyValue can nest arrays and maps without bound, and a
 * hostile payload must not exhaust the stack (protobuf-c itself unpacks
 * recursively but bounds nothing). */
#define ANYVALUE_MAX_DEPTH 64

static void anyvalue(struct json_buf *b, const Opentelemetry__Proto__Common__V1__AnyValue *v,
		     unsigned depth);

static void kvlist(struct json_buf *b, Opentelemetry__Proto__Common__V1__KeyValue *const *kv,
		   size_t n, unsigned depth)
{
	size_t i;

	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		json_buf_sep(b);
		json_buf_open(b, '{');
		json_encode_str_field(b, "key", kv[i]->key);
		if (kv[i]->value) {
			json_buf_key(b, "value");
			anyvalue(b, kv[i]->value, depth + 1);
		}
		json_buf_close(b, '}');
	}
	json_buf_close(b, ']');
}

static void anyvalue(struct json_buf *b, const Opentelemetry__Proto__Common__V1__AnyValue *v,
		     unsigned depth)
{
	size_t i;

	json_buf_open(b, '{');
	if (depth > ANYVALUE_MAX_DEPTH) {
		json_buf_close(b, '}');
		return;
	}
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		json_buf_key(b, "stringValue");
		json_buf_cstr(b, v->string_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		json_buf_key(b, "boolValue");
		json_buf_puts(b, v->bool_value ? "true" : "false");
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		json_buf_key(b, "intValue");
		json_buf_i64_str(b, v->int_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		json_buf_key(b, "doubleValue");
		json_buf_double(b, v->double_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
		json_buf_key(b, "arrayValue");
		json_buf_open(b, '{');
		if (v->array_value && v->array_value->n_values) {
			json_buf_key(b, "values");
			json_buf_open(b, '[');
			for (i = 0; i < v->array_value->n_values; i++) {
				json_buf_sep(b);
				anyvalue(b, v->array_value->values[i], depth + 1);
			}
			json_buf_close(b, ']');
		}
		json_buf_close(b, '}');
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE:
		json_buf_key(b, "kvlistValue");
		json_buf_open(b, '{');
		if (v->kvlist_value && v->kvlist_value->n_values) {
			json_buf_key(b, "values");
			kvlist(b, v->kvlist_value->values, v->kvlist_value->n_values, depth + 1);
		}
		json_buf_close(b, '}');
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
		json_buf_key(b, "bytesValue");
		json_buf_base64(b, v->bytes_value.data, v->bytes_value.len);
		break;
	default:
		break;
	}
	json_buf_close(b, '}');
}

void json_encode_str_field(struct json_buf *b, const char *key, const char *s)
{
	if (!s || !*s)
		return;
	json_buf_key(b, key);
	json_buf_cstr(b, s);
}

void json_encode_u64_field(struct json_buf *b, const char *key, uint64_t v)
{
	if (!v)
		return;
	json_buf_key(b, key);
	json_buf_u64_str(b, v);
}

void json_encode_int_field(struct json_buf *b, const char *key, int64_t v)
{
	if (!v)
		return;
	json_buf_key(b, key);
	json_buf_i64(b, v);
}

void json_encode_attrs(struct json_buf *b, const char *key,
		       Opentelemetry__Proto__Common__V1__KeyValue *const *kv, size_t n)
{
	if (!n)
		return;
	json_buf_key(b, key);
	kvlist(b, kv, n, 0);
}

void json_encode_resource(struct json_buf *b, const char *key,
			  const Opentelemetry__Proto__Resource__V1__Resource *r)
{
	if (!r)
		return;
	json_buf_key(b, key);
	json_buf_open(b, '{');
	json_encode_attrs(b, "attributes", r->attributes, r->n_attributes);
	json_encode_int_field(b, "droppedAttributesCount", r->dropped_attributes_count);
	json_buf_close(b, '}');
}

void json_encode_scope(struct json_buf *b, const char *key,
		       const Opentelemetry__Proto__Common__V1__InstrumentationScope *s)
{
	if (!s)
		return;
	json_buf_key(b, key);
	json_buf_open(b, '{');
	json_encode_str_field(b, "name", s->name);
	json_encode_str_field(b, "version", s->version);
	json_encode_attrs(b, "attributes", s->attributes, s->n_attributes);
	json_encode_int_field(b, "droppedAttributesCount", s->dropped_attributes_count);
	json_buf_close(b, '}');
}

void json_encode_id(struct json_buf *b, const char *key, const ProtobufCBinaryData *id, size_t want)
{
	if (!id->len)
		return;
	json_buf_key(b, key);
	if (id->len == want)
		json_buf_hex(b, id->data, id->len);
	else
		json_buf_put(b, "\"\"", 2);
}

static void log_record(struct json_buf *b, const Opentelemetry__Proto__Logs__V1__LogRecord *r)
{
	json_buf_open(b, '{');
	json_encode_u64_field(b, "timeUnixNano", r->time_unix_nano);
	json_encode_u64_field(b, "observedTimeUnixNano", r->observed_time_unix_nano);
	json_encode_int_field(b, "severityNumber", r->severity_number);
	json_encode_str_field(b, "severityText", r->severity_text);
	if (r->body) {
		json_buf_key(b, "body");
		anyvalue(b, r->body, 0);
	}
	json_encode_attrs(b, "attributes", r->attributes, r->n_attributes);
	json_encode_int_field(b, "droppedAttributesCount", r->dropped_attributes_count);
	json_encode_int_field(b, "flags", r->flags);
	json_encode_id(b, "traceId", &r->trace_id, TRACE_ID_LEN);
	json_encode_id(b, "spanId", &r->span_id, SPAN_ID_LEN);
	json_encode_str_field(b, "eventName", r->event_name);
	json_buf_close(b, '}');
}

static void scope_logs(struct json_buf *b, const Opentelemetry__Proto__Logs__V1__ScopeLogs *sl)
{
	size_t i;

	json_buf_open(b, '{');
	json_encode_scope(b, "scope", sl->scope);
	if (sl->n_log_records) {
		json_buf_key(b, "logRecords");
		json_buf_open(b, '[');
		for (i = 0; i < sl->n_log_records; i++) {
			json_buf_sep(b);
			log_record(b, sl->log_records[i]);
		}
		json_buf_close(b, ']');
	}
	json_encode_str_field(b, "schemaUrl", sl->schema_url);
	json_buf_close(b, '}');
}

void json_encode_logs(
    struct json_buf *b,
    const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req)
{
	size_t i, j;

	json_buf_open(b, '{');
	if (req->n_resource_logs) {
		json_buf_key(b, "resourceLogs");
		json_buf_open(b, '[');
		for (i = 0; i < req->n_resource_logs; i++) {
			const Opentelemetry__Proto__Logs__V1__ResourceLogs *rl =
			    req->resource_logs[i];

			json_buf_sep(b);
			json_buf_open(b, '{');
			json_encode_resource(b, "resource", rl->resource);
			if (rl->n_scope_logs) {
				json_buf_key(b, "scopeLogs");
				json_buf_open(b, '[');
				for (j = 0; j < rl->n_scope_logs; j++) {
					json_buf_sep(b);
					scope_logs(b, rl->scope_logs[j]);
				}
				json_buf_close(b, ']');
			}
			json_encode_str_field(b, "schemaUrl", rl->schema_url);
			json_buf_close(b, '}');
		}
		json_buf_close(b, ']');
	}
	json_buf_close(b, '}');
}

int json_encode_payload(int sig, const void *payload, size_t len, char **out, size_t *outlen)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *lr;
	Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *mr;
	struct json_buf b;

	json_buf_init(&b);
	switch (sig) {
	case SPOOL_SIG_LOGS:
		lr = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		    NULL, len, payload);
		if (!lr)
			return -EBADMSG;
		json_encode_logs(&b, lr);
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(
		    lr, NULL);
		break;
	case SPOOL_SIG_METRICS:
		mr =
		    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
			NULL, len, payload);
		if (!mr)
			return -EBADMSG;
		json_metrics_encode(&b, mr);
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
		    mr, NULL);
		break;
	default:
		return -EINVAL;
	}
	return json_buf_take(&b, out, outlen);
}
