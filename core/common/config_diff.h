/* SPDX-License-Identifier: MIT */
/*
 * What a SIGHUP reload changes, shared by both daemons: a daemon lists
 * the configuration keys it uses in a table (name, field, whether it can
 * apply a new value live); config_diff() names the keys whose values
 * differ between the running and the newly loaded configuration, and
 * config_diff_copy() moves one class of keys from one struct to the
 * other. Only key names are ever written, never values, so header values
 * (secrets) cannot leak through a reload message.
 * core/reload.c (collector) and exporter/exporter.c (exporter) use it.
 * Pure functions; thread-safe.
 */
#ifndef CORE_COMMON_CONFIG_DIFF_H
#define CORE_COMMON_CONFIG_DIFF_H

#include <stddef.h>

#include "config.h"

struct config_diff_key {
	const char *name; /* "section.key" as users type it */
	size_t off;	  /* offsetof the field in struct shmlog_config */
	size_t size;	  /* sizeof the field */
	int live;	  /* 1: applied without a restart */
};

/* One table entry for field f of struct shmlog_config. */
#define CONFIG_DIFF_KEY(n, f, l)                                                            \
	{ n, offsetof(struct shmlog_config, f), sizeof(((struct shmlog_config *)0)->f), l }

/*
 * Compares old and nc over the nkeys keys. Writes the names that differ,
 * comma separated, into changed (live keys) and restart (the others);
 * both NUL-terminated, a name that does not fit whole is left out.
 * Fields are compared byte by byte: config_load() zeroes the struct, so
 * strings are NUL-padded. Returns how many keys differ in all.
 */
int config_diff(const struct config_diff_key *keys, size_t nkeys,
		const struct shmlog_config *old, const struct shmlog_config *nc, char *changed,
		size_t changedlen, char *restart, size_t restartlen);

/* Copies from src into dst the fields of the keys whose live flag
 * equals live; the other fields of dst stay as they are. */
void config_diff_copy(const struct config_diff_key *keys, size_t nkeys,
		      struct shmlog_config *dst, const struct shmlog_config *src, int live);

#endif
