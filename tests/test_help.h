/* SPDX-License-Identifier: MIT */
/*
 * Assertions for unit tests: print file, line and the failed expression,
 * exit 1. A test exits 0 for pass, 1 for fail, 77 for skip (CTest's
 * SKIP_RETURN_CODE).
 */
#ifndef TESTS_TEST_HELP_H
#define TESTS_TEST_HELP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_SKIP 77

#define T_ASSERT(cond)                                                                   \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

#define T_EQ_INT(a, b)                                                                   \
	do {                                                                             \
		long long _a = (long long)(a), _b = (long long)(b);                      \
		if (_a != _b) {                                                          \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,  \
				__LINE__, #a, #b, _a, _b);                               \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

#define T_EQ_STR(a, b)                                                                   \
	do {                                                                             \
		const char *_a = (a), *_b = (b);                                         \
		if (strcmp(_a, _b) != 0) {                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",       \
				__FILE__, __LINE__, #a, #b, _a, _b);                     \
			exit(1);                                                         \
		}                                                                        \
	} while (0)

#define T_RUN(fn)                                                                        \
	do {                                                                             \
		fn();                                                                    \
		fprintf(stderr, "ok %s\n", #fn);                                         \
	} while (0)

#endif
