/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON for ExportMetricsServiceRequest: every metric data type
 * (Gauge, Sum, Histogram, ExponentialHistogram, Summary), their data
 * points and exemplars. Same rules as json_encode.c, which owns the common
 * messages; fixed64/sfixed64 values (times, counts, asInt, bucket counts)
 * are decimal strings, temporality is an integer.
 */
#include "json_metrics.h"

#include "json_encode_int.h"

#define TRACE_ID_LEN 16
#define SPAN_ID_LEN 8

/* "key":<double> when v is not 0 (a plain proto3 double). */
static void double_field(struct json_buf *b, const char *key, double v)
{
	/* -0.0 compares equal to 0 and is dropped too: proto3 does the same
	 * for a field with no presence. */
	if (v == 0)
		return;
	json_buf_key(b, key);
	json_buf_double(b, v);
}

static void double_always(struct json_buf *b, const char *key, double v)
{
	json_buf_key(b, key);
	json_buf_double(b, v);
}

static void exemplars(struct json_buf *b, Opentelemetry__Proto__Metrics__V1__Exemplar *const *ex,
		      size_t n)
{
	size_t i;

	if (!n)
		return;
	json_buf_key(b, "exemplars");
	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		const Opentelemetry__Proto__Metrics__V1__Exemplar *e = ex[i];

		json_buf_sep(b);
		json_buf_open(b, '{');
		json_encode_attrs(b, "filteredAttributes", e->filtered_attributes,
				  e->n_filtered_attributes);
		json_encode_u64_field(b, "timeUnixNano", e->time_unix_nano);
		if (e->value_case == OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE) {
			double_always(b, "asDouble", e->as_double);
		} else if (e->value_case ==
			   OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT) {
			json_buf_key(b, "asInt");
			json_buf_i64_str(b, e->as_int);
		}
		json_encode_id(b, "spanId", &e->span_id, SPAN_ID_LEN);
		json_encode_id(b, "traceId", &e->trace_id, TRACE_ID_LEN);
		json_buf_close(b, '}');
	}
	json_buf_close(b, ']');
}

static void number_points(struct json_buf *b,
			  Opentelemetry__Proto__Metrics__V1__NumberDataPoint *const *dp, size_t n)
{
	size_t i;

	if (!n)
		return;
	json_buf_key(b, "dataPoints");
	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		const Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p = dp[i];

		json_buf_sep(b);
		json_buf_open(b, '{');
		json_encode_attrs(b, "attributes", p->attributes, p->n_attributes);
		json_encode_u64_field(b, "startTimeUnixNano", p->start_time_unix_nano);
		json_encode_u64_field(b, "timeUnixNano", p->time_unix_nano);
		if (p->value_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE) {
			double_always(b, "asDouble", p->as_double);
		} else if (p->value_case ==
			   OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT) {
			json_buf_key(b, "asInt");
			json_buf_i64_str(b, p->as_int);
		}
		exemplars(b, p->exemplars, p->n_exemplars);
		json_encode_int_field(b, "flags", p->flags);
		json_buf_close(b, '}');
	}
	json_buf_close(b, ']');
}

static void u64_array(struct json_buf *b, const char *key, const uint64_t *v, size_t n)
{
	size_t i;

	if (!n)
		return;
	json_buf_key(b, key);
	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		json_buf_sep(b);
		json_buf_u64_str(b, v[i]);
	}
	json_buf_close(b, ']');
}

static void histogram_points(struct json_buf *b,
			     Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *const *dp,
			     size_t n)
{
	size_t i, j;

	if (!n)
		return;
	json_buf_key(b, "dataPoints");
	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		const Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p = dp[i];

		json_buf_sep(b);
		json_buf_open(b, '{');
		json_encode_attrs(b, "attributes", p->attributes, p->n_attributes);
		json_encode_u64_field(b, "startTimeUnixNano", p->start_time_unix_nano);
		json_encode_u64_field(b, "timeUnixNano", p->time_unix_nano);
		json_encode_u64_field(b, "count", p->count);
		if (p->_sum_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM)
			double_always(b, "sum", p->sum);
		u64_array(b, "bucketCounts", p->bucket_counts, p->n_bucket_counts);
		if (p->n_explicit_bounds) {
			json_buf_key(b, "explicitBounds");
			json_buf_open(b, '[');
			for (j = 0; j < p->n_explicit_bounds; j++) {
				json_buf_sep(b);
				json_buf_double(b, p->explicit_bounds[j]);
			}
			json_buf_close(b, ']');
		}
		exemplars(b, p->exemplars, p->n_exemplars);
		json_encode_int_field(b, "flags", p->flags);
		if (p->_min_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN)
			double_always(b, "min", p->min);
		if (p->_max_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX)
			double_always(b, "max", p->max);
		json_buf_close(b, '}');
	}
	json_buf_close(b, ']');
}

static void
exp_buckets(struct json_buf *b, const char *key,
	    const Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets *bk)
{
	if (!bk)
		return;
	json_buf_key(b, key);
	json_buf_open(b, '{');
	json_encode_int_field(b, "offset", bk->offset);
	u64_array(b, "bucketCounts", bk->bucket_counts, bk->n_bucket_counts);
	json_buf_close(b, '}');
}

static void
exp_histogram_points(struct json_buf *b,
		     Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *const *dp,
		     size_t n)
{
	size_t i;

	if (!n)
		return;
	json_buf_key(b, "dataPoints");
	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		const Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint *p = dp[i];

		json_buf_sep(b);
		json_buf_open(b, '{');
		json_encode_attrs(b, "attributes", p->attributes, p->n_attributes);
		json_encode_u64_field(b, "startTimeUnixNano", p->start_time_unix_nano);
		json_encode_u64_field(b, "timeUnixNano", p->time_unix_nano);
		json_encode_u64_field(b, "count", p->count);
		if (p->_sum_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT___SUM_SUM)
			double_always(b, "sum", p->sum);
		json_encode_int_field(b, "scale", p->scale);
		json_encode_u64_field(b, "zeroCount", p->zero_count);
		exp_buckets(b, "positive", p->positive);
		exp_buckets(b, "negative", p->negative);
		json_encode_int_field(b, "flags", p->flags);
		exemplars(b, p->exemplars, p->n_exemplars);
		if (p->_min_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT___MIN_MIN)
			double_always(b, "min", p->min);
		if (p->_max_case ==
		    OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT___MAX_MAX)
			double_always(b, "max", p->max);
		double_field(b, "zeroThreshold", p->zero_threshold);
		json_buf_close(b, '}');
	}
	json_buf_close(b, ']');
}

static void summary_points(struct json_buf *b,
			   Opentelemetry__Proto__Metrics__V1__SummaryDataPoint *const *dp, size_t n)
{
	size_t i, j;

	if (!n)
		return;
	json_buf_key(b, "dataPoints");
	json_buf_open(b, '[');
	for (i = 0; i < n; i++) {
		const Opentelemetry__Proto__Metrics__V1__SummaryDataPoint *p = dp[i];

		json_buf_sep(b);
		json_buf_open(b, '{');
		json_encode_attrs(b, "attributes", p->attributes, p->n_attributes);
		json_encode_u64_field(b, "startTimeUnixNano", p->start_time_unix_nano);
		json_encode_u64_field(b, "timeUnixNano", p->time_unix_nano);
		json_encode_u64_field(b, "count", p->count);
		double_field(b, "sum", p->sum);
		if (p->n_quantile_values) {
			json_buf_key(b, "quantileValues");
			json_buf_open(b, '[');
			for (j = 0; j < p->n_quantile_values; j++) {
				json_buf_sep(b);
				json_buf_open(b, '{');
				double_field(b, "quantile", p->quantile_values[j]->quantile);
				double_field(b, "value", p->quantile_values[j]->value);
				json_buf_close(b, '}');
			}
			json_buf_close(b, ']');
		}
		json_encode_int_field(b, "flags", p->flags);
		json_buf_close(b, '}');
	}
	json_buf_close(b, ']');
}

static void metric(struct json_buf *b, const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
	json_buf_open(b, '{');
	json_encode_str_field(b, "name", m->name);
	json_encode_str_field(b, "description", m->description);
	json_encode_str_field(b, "unit", m->unit);
	switch (m->data_case) {
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
		json_buf_key(b, "gauge");
		json_buf_open(b, '{');
		number_points(b, m->gauge->data_points, m->gauge->n_data_points);
		json_buf_close(b, '}');
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
		json_buf_key(b, "sum");
		json_buf_open(b, '{');
		number_points(b, m->sum->data_points, m->sum->n_data_points);
		json_encode_int_field(b, "aggregationTemporality", m->sum->aggregation_temporality);
		if (m->sum->is_monotonic) {
			json_buf_key(b, "isMonotonic");
			json_buf_puts(b, "true");
		}
		json_buf_close(b, '}');
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
		json_buf_key(b, "histogram");
		json_buf_open(b, '{');
		histogram_points(b, m->histogram->data_points, m->histogram->n_data_points);
		json_encode_int_field(b, "aggregationTemporality",
				      m->histogram->aggregation_temporality);
		json_buf_close(b, '}');
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
		json_buf_key(b, "exponentialHistogram");
		json_buf_open(b, '{');
		exp_histogram_points(b, m->exponential_histogram->data_points,
				     m->exponential_histogram->n_data_points);
		json_encode_int_field(b, "aggregationTemporality",
				      m->exponential_histogram->aggregation_temporality);
		json_buf_close(b, '}');
		break;
	case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
		json_buf_key(b, "summary");
		json_buf_open(b, '{');
		summary_points(b, m->summary->data_points, m->summary->n_data_points);
		json_buf_close(b, '}');
		break;
	default:
		break;
	}
	json_encode_attrs(b, "metadata", m->metadata, m->n_metadata);
	json_buf_close(b, '}');
}

static void scope_metrics(struct json_buf *b,
			  const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm)
{
	size_t i;

	json_buf_open(b, '{');
	json_encode_scope(b, "scope", sm->scope);
	if (sm->n_metrics) {
		json_buf_key(b, "metrics");
		json_buf_open(b, '[');
		for (i = 0; i < sm->n_metrics; i++) {
			json_buf_sep(b);
			metric(b, sm->metrics[i]);
		}
		json_buf_close(b, ']');
	}
	json_encode_str_field(b, "schemaUrl", sm->schema_url);
	json_buf_close(b, '}');
}

void json_metrics_encode(
    struct json_buf *b,
    const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req)
{
	size_t i, j;

	json_buf_open(b, '{');
	if (req->n_resource_metrics) {
		json_buf_key(b, "resourceMetrics");
		json_buf_open(b, '[');
		for (i = 0; i < req->n_resource_metrics; i++) {
			const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm =
			    req->resource_metrics[i];

			json_buf_sep(b);
			json_buf_open(b, '{');
			json_encode_resource(b, "resource", rm->resource);
			if (rm->n_scope_metrics) {
				json_buf_key(b, "scopeMetrics");
				json_buf_open(b, '[');
				for (j = 0; j < rm->n_scope_metrics; j++) {
					json_buf_sep(b);
					scope_metrics(b, rm->scope_metrics[j]);
				}
				json_buf_close(b, ']');
			}
			json_encode_str_field(b, "schemaUrl", rm->schema_url);
			json_buf_close(b, '}');
		}
		json_buf_close(b, ']');
	}
	json_buf_close(b, '}');
}
