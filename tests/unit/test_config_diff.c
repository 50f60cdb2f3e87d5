/* SPDX-License-Identifier: MIT */
/*
 * core/common/config_diff.c: the key-by-key comparison both daemons use
 * for SIGHUP reloads. Checks that changed keys are named in the right
 * list (live or restart), that values never appear in the lists, that a
 * name that does not fit is left out whole, and that config_diff_copy()
 * copies exactly the keys of one class.
 */
#include <stdlib.h>
#include <string.h>

#include "config_diff.h"
#include "test_help.h"

static const struct config_diff_key keys[] = {
	CONFIG_DIFF_KEY("exporter.endpoint", exp_endpoint, 1),
	CONFIG_DIFF_KEY("exporter.headers", exp_headers, 1),
	CONFIG_DIFF_KEY("exporter.timeout_ms", exp_timeout_ms, 1),
	CONFIG_DIFF_KEY("spool.dir", spool_dir, 0),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void test_diff_and_copy(void)
{
	struct shmlog_config *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char changed[128], restart[64], tiny[12], tiny2[4];

	T_ASSERT(a && b);
	T_EQ_INT(config_diff(keys, NKEYS, a, b, changed, sizeof(changed), restart,
			     sizeof(restart)),
		 0);
	T_EQ_STR(changed, "");
	T_EQ_STR(restart, "");

	strcpy(b->exp_endpoint, "https://b.example:4318");
	strcpy(b->exp_headers[0].name, "api-key");
	strcpy(b->exp_headers[0].value, "s3cr3t-value");
	strcpy(b->spool_dir, "/var/tmp/other");
	b->exp_timeout_ms = a->exp_timeout_ms; /* unchanged */
	T_EQ_INT(config_diff(keys, NKEYS, a, b, changed, sizeof(changed), restart,
			     sizeof(restart)),
		 3);
	T_EQ_STR(changed, "exporter.endpoint,exporter.headers");
	T_EQ_STR(restart, "spool.dir");
	T_ASSERT(!strstr(changed, "s3cr3t"));

	/* A name that does not fit is left out whole, never cut. */
	T_EQ_INT(config_diff(keys, NKEYS, a, b, tiny, sizeof(tiny), tiny2, sizeof(tiny2)), 3);
	T_EQ_STR(tiny, "");
	T_EQ_STR(tiny2, "");

	/* Keep the restart keys of the running configuration. */
	config_diff_copy(keys, NKEYS, b, a, 0);
	T_EQ_STR(b->spool_dir, "");
	T_EQ_STR(b->exp_endpoint, "https://b.example:4318");
	/* Apply the live keys to the running one. */
	config_diff_copy(keys, NKEYS, a, b, 1);
	T_EQ_STR(a->exp_headers[0].value, "s3cr3t-value");
	T_EQ_INT(config_diff(keys, NKEYS, a, b, changed, sizeof(changed), restart,
			     sizeof(restart)),
		 0);
	free(a);
	free(b);
}

int main(void)
{
	T_RUN(test_diff_and_copy);
	return 0;
}
