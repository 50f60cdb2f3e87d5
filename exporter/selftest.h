/* SPDX-License-Identifier: MIT */
/*
 * shmlog-exporter --test: the operator's first check of an endpoint and
 * its key. Sends one "Hello from shmlog" log record, synchronously, with
 * the configured protocol, compression, headers and TLS options, and
 * prints one summary line (plus the server's message, if any) to stdout.
 * Called from main.c only.
 */
#ifndef EXPORTER_SELFTEST_H
#define EXPORTER_SELFTEST_H

#include "config.h"

/* Returns the process exit status: 0 on a 2xx (or when the record was
 * written to the embedded file output), 1 otherwise. */
int selftest_run(const struct shmlog_config *cfg);

#endif
