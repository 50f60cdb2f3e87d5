/* SPDX-License-Identifier: MIT */
/*
 * Reading what an OTLP/HTTP receiver answered: the partial success of a
 * 2xx Export*ServiceResponse, and the reason of a 4xx/5xx (the
 * google.rpc.Status message, or failing that a printable excerpt of the
 * body). Response bodies are untrusted: any bytes are accepted, nothing is
 * ever read beyond len, and the output is always printable ASCII or UTF-8
 * safe for one log line. Pure functions; thread-safe.
 */
#ifndef EXPORTER_RESPONSE_H
#define EXPORTER_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#define RESPONSE_MSG_MAX 256
#define RESPONSE_EXCERPT_MAX 200 /* printable characters kept from a body */

struct response_info {
	int64_t rejected;		/* partial_success rejected items, 0 if none */
	char message[RESPONSE_MSG_MAX]; /* server's message, "" if none */
};

/*
 * Parses a 2xx body for signal sig (enum spool_signal). content_type may
 * be NULL; "application/json" selects the JSON form, anything else
 * protobuf. An empty body is a full success.
 * Returns 0 (out filled), or -EBADMSG when the body does not decode (out
 * then says nothing was rejected; the request still counts as delivered).
 */
int response_parse_success(int sig, const char *content_type, const void *body, size_t len,
			   struct response_info *out);

/*
 * Fills out->message with the reason of an error response: Status.message
 * when the body is a protobuf google.rpc.Status (content type
 * application/x-protobuf, or none), the "message" member of a JSON body,
 * else the first RESPONSE_EXCERPT_MAX printable characters of the body.
 * out->rejected is 0. Never fails.
 */
void response_parse_error(const char *content_type, const void *body, size_t len,
			  struct response_info *out);

#endif
