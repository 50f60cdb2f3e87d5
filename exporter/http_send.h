/* SPDX-License-Identifier: MIT */
/*
 * OTLP/HTTP and OTLP/gRPC transport over libcurl's multi interface: one
 * multi handle, up to max_in_flight POSTs at once, each made with one of
 * a few option profiles (the exporter has one per distinct set of
 * per-signal options) on a long-lived easy handle so connections (and
 * TLS sessions) are reused between requests. With grpc
 * set, requests go over HTTP/2 (prior knowledge for http://, ALPN for
 * https://, several calls multiplexed on one connection) with gRPC's
 * headers, and the grpc-* headers and trailers of the answer are
 * collected. The module knows HTTP, not OTLP: exporter.c decides what a
 * status means (retry.c, response.c, grpc_frame.c).
 * Single-threaded: create, start, poll and destroy from one thread.
 */
#ifndef EXPORTER_HTTP_SEND_H
#define EXPORTER_HTTP_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "grpc_frame.h"

#define HTTP_SEND_BODY_MAX (4u << 20) /* response cap, OTLP's recommendation */
#define HTTP_SEND_USER_AGENT "shmlog-exporter/" SHMLOG_VERSION " OTel-OTLP-Exporter-C"

struct http_send;

/* Option profiles one transport can carry (the exporter needs one per
 * signal at most). */
#define HTTP_SEND_PROFILES_MAX 4

/* One option profile. */
struct http_send_opts {
	uint32_t timeout_ms;	      /* whole request; 0 = no limit */
	const char *content_type;     /* "application/x-protobuf", "application/json",
				       * "application/grpc" */
	const char *content_encoding; /* "gzip", "zstd" or NULL (grpc: grpc-encoding) */
	int grpc;		      /* gRPC over HTTP/2: te, grpc-timeout, trailers */
	const char *ca_file;	      /* NULL or "": system CAs */
	const char *client_cert;      /* NULL or "": no client certificate */
	const char *client_key;
	int insecure;			     /* skip peer and host verification */
	const struct config_header *headers; /* extra headers; values are secrets */
	unsigned nheaders;
};

struct http_result {
	long status;	   /* HTTP status; 0 when no response was received */
	int transport_err; /* CURLcode; 0 when a response arrived */
	char err[256];	   /* libcurl's message when transport_err != 0 */
	const char *body;  /* response body (not NUL-terminated), may be NULL */
	size_t body_len;
	int body_truncated; /* the body exceeded HTTP_SEND_BODY_MAX */
	char content_type[128];
	char retry_after[128]; /* Retry-After value, "" if none */
	double latency_ms;
	int http2; /* the answer came over HTTP/2 */
	/* gRPC (opts.grpc): raw values from headers or trailers, "" if none. */
	char grpc_status[GRPC_STATUS_MAX];
	char grpc_message[GRPC_MESSAGE_MAX];
	char grpc_details[GRPC_DETAILS_MAX]; /* grpc-status-details-bin */
	char grpc_encoding[GRPC_ENCODING_MAX];
};

/* Called for each finished request with the user pointer given to
 * http_send_start(). res is valid only during the call; the callback must
 * not call http_send_start(). */
typedef void (*http_send_done_fn)(void *arg, void *user, const struct http_result *res);

/*
 * Creates a transport for the nprof profiles o[0..nprof-1] (copied: o
 * need not outlive the call), with at most max_in_flight requests in
 * flight over all profiles together. 0 and *out, or -EINVAL (no profile,
 * more than HTTP_SEND_PROFILES_MAX, a profile without content_type,
 * max_in_flight 0), -ENOMEM, -EIO (libcurl failed to initialise or
 * rejected an option, e.g. a TLS file option; its message is logged).
 */
int http_send_create(const struct http_send_opts *o, unsigned nprof, unsigned max_in_flight,
		     struct http_send **out);

/* Aborts requests still in flight; accepts NULL. */
void http_send_destroy(struct http_send *hs);

/*
 * Starts POSTing len bytes of body to url with the options of profile
 * prof (for grpc, the body is the framed message and url ends in the
 * method path). body must stay valid and unchanged until the request's
 * callback has run. Returns 0, -EBUSY when max_in_flight requests are
 * running, -EINVAL for a profile index out of range, -EIO when libcurl
 * refuses.
 */
int http_send_start(struct http_send *hs, unsigned prof, const char *url, const void *body,
		    size_t len, void *user);

/* Requests currently in flight, all profiles together. */
unsigned http_send_busy(const struct http_send *hs);

/* 1 when another request can be started now. */
int http_send_can_start(const struct http_send *hs);

/*
 * Drives the transfers: waits up to timeout_ms for network activity (also
 * when nothing is in flight, so it doubles as the loop's sleep; a signal
 * ends the wait early), then calls cb for every request that finished.
 * wake_fd, when >= 0, is one more descriptor that ends the wait when it
 * is readable (the spool watch); *woken (may be NULL) is then set to 1,
 * else to 0. Returns the number of finished requests, or -EIO.
 */
int http_send_poll(struct http_send *hs, int timeout_ms, int wake_fd, int *woken,
		   http_send_done_fn cb, void *arg);

#endif
