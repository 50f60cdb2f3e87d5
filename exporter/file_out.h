/* SPDX-License-Identifier: MIT */
/*
 * The embedded default exporter: with no endpoint configured, each request
 * is appended as one line of OTLP/JSON to <spool>/out/<signal>.jsonl
 * (logs.jsonl, metrics.jsonl), so the agent works and can be inspected
 * without any backend. Called from the exporter's thread and --test.
 */
#ifndef EXPORTER_FILE_OUT_H
#define EXPORTER_FILE_OUT_H

#include <stddef.h>

/* "<spool>/out/<signal>.jsonl" into out; 0 or -ENAMETOOLONG / -EINVAL. */
int file_out_path(char *out, size_t outlen, const char *spool_dir, int sig);

/*
 * Appends json (len bytes, no newline inside) plus "\n" to the signal's
 * file, creating <spool>/out when missing, and fsyncs it before
 * returning, so that the caller may then delete the spool file.
 * Returns 0 or -errno (-EINVAL for an unknown signal).
 */
int file_out_append(const char *spool_dir, int sig, const char *json, size_t len);

#endif
