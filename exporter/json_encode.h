/* SPDX-License-Identifier: MIT */
/*
 * OTLP/JSON encoding (OTLP.md 1.3) of Export{Logs,Metrics}ServiceRequest
 * messages: lowerCamelCase keys, trace/span ids as lowercase hex, enums as
 * integers, 64-bit integers as decimal strings, bytes as base64, default
 * and empty fields omitted. One request becomes one line (no newlines).
 * Used for protocol http/json and for the embedded file output. Pure
 * functions; thread-safe.
 */
#ifndef EXPORTER_JSON_ENCODE_H
#define EXPORTER_JSON_ENCODE_H

#include <stddef.h>

#include "json_buf.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"

/* Append the JSON of a request to b (check b->oom / json_buf_take). */
void json_encode_logs(
    struct json_buf *b,
    const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req);
/* Metrics: json_metrics_encode() in json_metrics.h. */

/*
 * Decodes a spool payload (protobuf of the request for signal sig, enum
 * spool_signal) and returns its JSON in a malloc'd, NUL-terminated *out.
 * Returns 0, -EBADMSG when the payload does not decode, -EINVAL for a
 * signal without an encoder, -ENOMEM.
 */
int json_encode_payload(int sig, const void *payload, size_t len, char **out, size_t *outlen);

#endif
