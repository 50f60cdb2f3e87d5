/* SPDX-License-Identifier: MIT */
/*
 * The shmlog-exporter daemon's context and loop: scan the spool in
 * sequence order, send each request (several in flight), retry what OTLP
 * says to retry, delete a spool file only once it is acknowledged (2xx)
 * or dropped as a permanent error, quarantine corrupt files, and keep
 * <spool>/exporter.status current. With no endpoint configured, requests
 * go to <spool>/out/<signal>.jsonl instead (file_out.h).
 * main.c wires it up; tests drive it with exporter_run(..., once = 1).
 * One thread owns a struct exporter.
 */
#ifndef EXPORTER_EXPORTER_H
#define EXPORTER_EXPORTER_H

#include <signal.h>
#include <stdint.h>

#include "compress.h"
#include "config.h"
#include "http_send.h"
#include "request_body.h"
#include "status.h"

/* --once with retry_max_elapsed_ms = 0: stop retrying one request after
 * this long, keep its file, and report failure instead of hanging. */
#define EXPORTER_ONCE_GIVE_UP_MS 60000u

/* Shutdown wait for in-flight requests when timeout_ms is 0 (no limit). */
#define EXPORTER_DRAIN_DEFAULT_MS 30000u

struct exporter;

/* "http/protobuf", "http/json" or "grpc" (case-insensitive; empty =
 * http/protobuf) -> enum request_body_proto; -EINVAL for anything else. */
int exporter_protocol_parse(const char *name);

/* 1 when cfg names no endpoint at all (neither the base nor a
 * per-signal one): the embedded file output. */
int exporter_file_mode(const struct shmlog_config *cfg);

/*
 * One signal's options, resolved once from cfg: each field is the
 * per-signal key when set, else the generic one (config.h says which
 * source wins). headers is the generic list with the signal's own
 * entries merged over it by name (case-insensitive, the signal's spelling
 * and value win in place; new names are appended).
 */
struct exporter_sig_opts {
	char url[CONFIG_STR_MAX + 32];	 /* endpoint_url() of the signal */
	char shown[CONFIG_STR_MAX + 32]; /* url, redacted */
	const char *protocol;		 /* as configured, e.g. "http/json" */
	enum request_body_proto proto;
	enum compress_kind ck;
	int level; /* ck's level: [exporter] gzip_level or zstd_level; 0 for none */
	uint32_t timeout_ms;
	const char *ca_file; /* "" for none */
	const char *client_cert;
	const char *client_key;
	int insecure;
	struct config_header headers[CONFIG_MAX_HEADERS];
	unsigned nheaders;
};

/*
 * Resolves the options of sig (SPOOL_SIG_LOGS or SPOOL_SIG_METRICS) into
 * *o (pointers into cfg: keep it alive). With no endpoint at all the URL
 * is built on ENDPOINT_DEFAULT_BASE (grpc: ENDPOINT_DEFAULT_GRPC). Returns 0;
 * -EINVAL for an unknown protocol or compression or more than
 * CONFIG_MAX_HEADERS merged headers; -ENAMETOOLONG for a URL that does
 * not fit. The reason, naming the signal, is in err (never a header
 * value). Thread-safe.
 */
int exporter_signal_opts(const struct shmlog_config *cfg, int sig, struct exporter_sig_opts *o,
			 char *err, size_t errlen);

/* Transport options of one signal (pointers into so: keep it alive). */
void exporter_sig_http_opts(const struct exporter_sig_opts *so, struct http_send_opts *o);

/*
 * Creates the exporter for cfg (which must outlive it). Creates the spool
 * directories when missing. Returns 0 and *out, -EINVAL (bad protocol,
 * compression or endpoint; logged), -ENOMEM, -EIO.
 */
int exporter_create(const struct shmlog_config *cfg, struct exporter **out);

/*
 * Arms SIGHUP reloads: whenever *hup is non-zero, exporter_run() clears
 * it and loads the configuration again from file (may be NULL), the
 * environment and argv, as config_load() does at start. A configuration
 * that does not load or resolve is refused with one error line and the
 * running one stays; a good one replaces the running one once the
 * requests in flight have finished (exporter.c's opening comment says
 * how). file and argv must outlive ex. Without this call *hup is never
 * read.
 */
void exporter_set_reload(struct exporter *ex, const char *file, int argc, char **argv,
			 volatile sig_atomic_t *hup);

/* Reloads that took effect so far. */
unsigned exporter_reloads(const struct exporter *ex);

/* Accepts NULL. In-flight requests are aborted; their files stay. */
void exporter_destroy(struct exporter *ex);

/*
 * Runs until *stop becomes non-zero (stop may be NULL), then stops taking
 * files, waits up to timeout_ms for requests in flight, writes the status
 * file and returns 0. With once, returns as soon as the spool is empty
 * (every file delivered, dropped or quarantined): 0 when everything was
 * delivered, 1 otherwise. Returns -errno on a fatal error.
 */
int exporter_run(struct exporter *ex, volatile sig_atomic_t *stop, int once);

/* Counters and last outcome (valid until exporter_destroy). */
const struct status *exporter_status(const struct exporter *ex);

#endif
