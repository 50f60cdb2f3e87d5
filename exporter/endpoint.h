/* SPDX-License-Identifier: MIT */
/*
 * OTLP/HTTP endpoint URL rules (OTLP.md 2.2, the SDK environment-variable
 * specification): a base endpoint gets "v1/<signal>" appended after making
 * sure it ends with '/', a per-signal endpoint is used as given except that
 * an empty path becomes "/". Also the redaction used wherever a URL is
 * shown (status file, --test output, logs). Pure string functions.
 */
#ifndef EXPORTER_ENDPOINT_H
#define EXPORTER_ENDPOINT_H

#include <stddef.h>

/* Used when only a per-signal endpoint is configured and another signal
 * needs a URL: the specification's default base for OTLP/HTTP. */
#define ENDPOINT_DEFAULT_BASE "http://localhost:4318"
/* The same for OTLP/gRPC. */
#define ENDPOINT_DEFAULT_GRPC "http://localhost:4317"

/*
 * Writes the URL for one signal to out. per_signal (may be NULL or "")
 * wins over base; sig_path is the relative path for the base form, e.g.
 * "v1/logs". Returns 0, -EINVAL when both are empty, -ENAMETOOLONG when
 * out is too small. Thread-safe.
 */
int endpoint_url(const char *base, const char *per_signal, const char *sig_path, char *out,
		 size_t outlen);

/*
 * OTLP/gRPC: writes "<scheme>://<host:port>/<method>" for a gRPC target
 * (the base or per-signal endpoint): an http:// (cleartext HTTP/2) or
 * https:// (TLS) URL whose path, not part of a gRPC target, is dropped.
 * method is e.g. GRPC_PATH_LOGS. Returns 0, -EINVAL (empty host, no
 * scheme or another one; the configuration only takes http(s) URLs),
 * -ENAMETOOLONG. Thread-safe.
 */
int endpoint_grpc_url(const char *target, const char *method, char *out, size_t outlen);

/*
 * Copies url to out without "user:password@" and without the query string
 * and fragment (either may carry a key), e.g.
 * "https://u:k@h:1/p?api-key=x" -> "https://h:1/p". Always terminates out
 * (truncating when needed). Thread-safe.
 */
void endpoint_redact(const char *url, char *out, size_t outlen);

#endif
