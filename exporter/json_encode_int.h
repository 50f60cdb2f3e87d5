/* SPDX-License-Identifier: MIT */
/*
 * Internal to json_encode.c and json_metrics.c: the encoders of the common
 * OTLP messages both signals share. Nothing else includes this file.
 */
#ifndef EXPORTER_JSON_ENCODE_INT_H
#define EXPORTER_JSON_ENCODE_INT_H

#include <stddef.h>

#include "json_buf.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"

/* "key":[...] of n KeyValues; nothing when n == 0. */
void json_encode_attrs(struct json_buf *b, const char *key,
		       Opentelemetry__Proto__Common__V1__KeyValue *const *kv, size_t n);

/* "key":{...} when r is not NULL. */
void json_encode_resource(struct json_buf *b, const char *key,
			  const Opentelemetry__Proto__Resource__V1__Resource *r);
void json_encode_scope(struct json_buf *b, const char *key,
		       const Opentelemetry__Proto__Common__V1__InstrumentationScope *s);

/* "key":"<hex>" for an id of the expected length; "" for another non-zero
 * length (the spec renders invalid ids as empty); nothing when empty. */
void json_encode_id(struct json_buf *b, const char *key, const ProtobufCBinaryData *id,
		    size_t want);

/* "key":"..." when s is not empty. */
void json_encode_str_field(struct json_buf *b, const char *key, const char *s);

/* "key":"<decimal>" when v is not 0. */
void json_encode_u64_field(struct json_buf *b, const char *key, uint64_t v);

/* "key":<n> when v is not 0. */
void json_encode_int_field(struct json_buf *b, const char *key, int64_t v);

#endif
