/* SPDX-License-Identifier: MIT */
/*
 * Key-by-key comparison of two loaded configurations for SIGHUP reloads
 * (see config_diff.h). The tables live with the daemons that know which
 * keys they can apply live (core/reload.c, exporter/exporter.c).
 */
#include "config_diff.h"

#include <stdio.h>
#include <string.h>

/* Appends ",name" (or "name") to list, if it fits whole. */
static void add_name(char *list, size_t len, const char *name)
{
	size_t o = strlen(list);

	if (o + (o ? 1 : 0) + strlen(name) + 1 > len)
		return;
	snprintf(list + o, len - o, "%s%s", o ? "," : "", name);
}

int config_diff(const struct config_diff_key *keys, size_t nkeys,
		const struct shmlog_config *old, const struct shmlog_config *nc, char *changed,
		size_t changedlen, char *restart, size_t restartlen)
{
	int n = 0;

	changed[0] = '\0';
	restart[0] = '\0';
	for (size_t i = 0; i < nkeys; i++) {
		const struct config_diff_key *k = &keys[i];

		if (memcmp((const char *)old + k->off, (const char *)nc + k->off, k->size) == 0)
			continue;
		n++;
		if (k->live)
			add_name(changed, changedlen, k->name);
		else
			add_name(restart, restartlen, k->name);
	}
	return n;
}

void config_diff_copy(const struct config_diff_key *keys, size_t nkeys,
		      struct shmlog_config *dst, const struct shmlog_config *src, int live)
{
	for (size_t i = 0; i < nkeys; i++) {
		const struct config_diff_key *k = &keys[i];

		if (k->live == live)
			memcpy((char *)dst + k->off, (const char *)src + k->off, k->size);
	}
}
