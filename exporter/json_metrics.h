/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON of an ExportMetricsServiceRequest (all metric data types).
 * The logs half and the spool-payload entry point are in json_encode.h.
 * Pure function; thread-safe.
 */
#ifndef EXPORTER_JSON_METRICS_H
#define EXPORTER_JSON_METRICS_H

#include "json_buf.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

/* Appends the JSON of req to b (check b->oom / json_buf_take). */
void json_metrics_encode(
    struct json_buf *b,
    const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req);

#endif
