/* SPDX-License-Identifier: MIT */
/*
 * What a SIGHUP changes in the running collector: the configuration is
 * loaded again (file, environment, command line, as at start) into a new
 * struct; keys the collector can apply live are copied into the running
 * one, keys it cannot (segment geometry, spool, resource, metric layout)
 * are reported as needing a restart. [exporter] keys are the exporter's
 * and are not compared, so header values never appear anywhere.
 * Collector thread only; collector.c calls it.
 */
#ifndef CORE_RELOAD_H
#define CORE_RELOAD_H

#include <stddef.h>

#include "config.h"

/*
 * Compares old and nc. Writes the "section.key" names that differ, comma
 * separated, into changed (keys applied live) and restart (keys that need
 * a restart); both NUL-terminated, cut to fit. Returns how many keys
 * differ in all.
 */
int reload_diff(const struct shmlog_config *old, const struct shmlog_config *nc, char *changed,
		size_t changedlen, char *restart, size_t restartlen);

/* Copies the live keys of nc into running (the others stay as they are). */
void reload_apply(struct shmlog_config *running, const struct shmlog_config *nc);

#endif
