/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/exc_parse.c: exception type and message from Python
 * tracebacks as CPython prints them (plain, chained: the last exception
 * wins, exception groups, no message, odd "types"), from Java stack
 * traces (the thrown exception, not its causes), and hostile bodies:
 * no exception line, truncated, binary, every prefix of a real traceback
 * and random bytes, where every offset must stay inside the body.
 */
#include "exc_parse.h"

#include <errno.h>
#include <stdlib.h>

#include "test_help.h"

#define TB "Traceback (most recent call last):\n"
#define FRAME "  File \"/tmp/x.py\", line 6, in <module>\n    f()\n"

static void field(const char *body, size_t off, size_t len, char *out, size_t cap)
{
	T_ASSERT(len < cap);
	memcpy(out, body + off, len);
	out[len] = '\0';
}

/* Parses body; checks type and message ("" = absent). */
static void check(const char *body, const char *type, const char *msg)
{
	struct exc_info e;
	char t[512], m[4096];
	int ret = exc_parse_python((const unsigned char *)body, strlen(body), &e);

	if (!type && !msg) {
		T_EQ_INT(ret, -ENOENT);
		T_EQ_INT(e.type_len + e.msg_len + e.type_off + e.msg_off, 0);
		return;
	}
	T_EQ_INT(ret, 0);
	field(body, e.type_off, e.type_len, t, sizeof(t));
	field(body, e.msg_off, e.msg_len, m, sizeof(m));
	T_EQ_STR(t, type);
	T_EQ_STR(m, msg);
}

static void test_python_output(void)
{
	check(TB FRAME "ValueError: bad value", "ValueError", "bad value");
	check(TB FRAME "KeyError: 'x'", "KeyError", "'x'");
	check(TB FRAME "KeyboardInterrupt", "KeyboardInterrupt", "");
	check(TB FRAME "mod.sub.MyError: a: b: c", "mod.sub.MyError", "a: b: c");
	check(TB FRAME "__main__.f.<locals>.E: m", "__main__.f.<locals>.E", "m");
	check(TB FRAME "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
	      "json.decoder.JSONDecodeError", "Expecting value: line 1 column 1 (char 0)");
	/* SyntaxError carets are indented; the exception line still wins. */
	check(TB "  File \"<string>\", line 1\n    foo(\n       ^\nSyntaxError: '(' was never closed",
	      "SyntaxError", "'(' was never closed");
	/* chained: the exception raised last */
	check(TB FRAME "KeyError: 'x'\n\nDuring handling of the above exception, another "
		       "exception occurred:\n\n" TB FRAME "ValueError: second",
	      "ValueError", "second");
	check(TB FRAME "ZeroDivisionError: division by zero\n\nThe above exception was the direct "
		       "cause of the following exception:\n\n" TB FRAME "RuntimeError: wrap",
	      "RuntimeError", "wrap");
	/* exception groups, also as the end of a chain */
	check("  + Exception Group Traceback (most recent call last):\n"
	      "  |   File \"<string>\", line 4, in <module>\n"
	      "  | ExceptionGroup: outer (2 sub-exceptions)\n"
	      "  +-+---------------- 1 ----------------\n"
	      "    | ValueError: 1\n"
	      "    +------------------------------------",
	      "ExceptionGroup", "outer (2 sub-exceptions)");
	check(TB FRAME "OSError: 1\n\nThe above exception was the direct cause of the following "
		       "exception:\n\n  + Exception Group Traceback (most recent call last):\n"
		       "  |   File \"<string>\", line 4, in <module>\n"
		       "  | ExceptionGroup: eg (1 sub-exception)\n"
		       "  +-+---------------- 1 ----------------\n"
		       "    | OSError: 1\n"
		       "    +------------------------------------",
	      "ExceptionGroup", "eg (1 sub-exception)");
}

static void test_odd(void)
{
	/* not a dotted name before ": ": the whole line is the message */
	check(TB FRAME "some thing: went wrong", "", "some thing: went wrong");
	check(TB FRAME "Error:no space", "", "Error:no space");
	check(TB FRAME "E: ", "E", "");
	/* a type of more than EXC_PARSE_TYPE_MAX bytes is not a type */
	{
		static char body[1024];
		size_t n = (size_t)snprintf(body, sizeof(body), "%s%s", TB, FRAME);

		memset(body + n, 'A', 300);
		memcpy(body + n + 300, ": m", 4);
		check(body, "", body + n);
	}
	/* the first non-indented line of a part is its exception line */
	check(TB FRAME "E1: a\nsecond line of the message", "E1", "a");
	/* a chain part that lost its exception line: the earlier one stays */
	check(TB FRAME "E1: a\n\nDuring handling of the above exception, another exception "
		       "occurred:\n\n" TB FRAME,
	      "E1", "a");
	/* no exception line at all */
	check("", NULL, NULL);
	check(TB, NULL, NULL);
	check(TB FRAME, NULL, NULL);
	check("plain text\nE: m", NULL, NULL);
	check(TB "\n\n", NULL, NULL);
	check("  + Exception Group Traceback (most recent call last):\n  |   x\n", NULL, NULL);
	/* trailing newline, CR and tabs */
	check(TB FRAME "E: m\n", "E", "m");
	check(TB "\tindented by tab\nE: m\r", "E", "m\r");
}

/* Any bytes: offsets and lengths stay inside the body. */
static void bounded(const unsigned char *p, size_t n)
{
	struct exc_info e;
	int ret = exc_parse_python(p, n, &e);

	T_ASSERT(ret == 0 || ret == -ENOENT);
	T_ASSERT(e.type_off + e.type_len <= n);
	T_ASSERT(e.msg_off + e.msg_len <= n);
	T_ASSERT(e.type_len <= EXC_PARSE_TYPE_MAX);
	if (ret == 0)
		T_ASSERT(e.type_len || e.msg_len);
}

static void test_hostile(void)
{
	static const char real[] = TB FRAME "ValueError: bad\n\nDuring handling of the above "
					    "exception, another exception occurred:\n\n" TB FRAME
					    "  | x\nE: m";
	unsigned char *buf;
	unsigned seed = 12345;

	/* every prefix, each in a heap block of its exact size (ASan sees any
	 * read past the end) */
	for (size_t n = 0; n <= sizeof(real) - 1; n++) {
		buf = malloc(n ? n : 1);
		T_ASSERT(buf);
		memcpy(buf, real, n);
		bounded(buf, n);
		free(buf);
	}
	/* random bytes drawn mostly from the characters that matter */
	for (int round = 0; round < 20000; round++) {
		static const char alphabet[] = "\n :|+ \tTEa.<>\xff\x80";
		size_t n = (size_t)(rand_r(&seed) % 200);

		buf = malloc(n + sizeof(TB));
		T_ASSERT(buf);
		memcpy(buf, TB, sizeof(TB) - 1);
		for (size_t i = 0; i < n; i++)
			buf[sizeof(TB) - 1 + i] = round & 1 ? (unsigned char)rand_r(&seed) :
					(unsigned char)alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		bounded(buf + (round & 2 ? sizeof(TB) - 1 : 0), n + (round & 2 ? 0 : sizeof(TB) - 1));
		free(buf);
	}
	/* NUL bytes are bytes like any other */
	{
		static const unsigned char nul[] = "Traceback (most recent call last):\n\0E: m";
		struct exc_info e;

		T_EQ_INT(exc_parse_python(nul, sizeof(nul) - 1, &e), 0);
		T_EQ_INT(e.msg_len, sizeof(nul) - 1 - sizeof(TB) + 1);
	}
}

static void check_java(const char *body, const char *type, const char *msg)
{
	struct exc_info e;
	char t[512], m[4096];
	int ret = exc_parse_java((const unsigned char *)body, strlen(body), &e);

	if (!type && !msg) {
		T_EQ_INT(ret, -ENOENT);
		T_EQ_INT(e.type_len + e.msg_len + e.type_off + e.msg_off, 0);
		return;
	}
	T_EQ_INT(ret, 0);
	field(body, e.type_off, e.type_len, t, sizeof(t));
	field(body, e.msg_off, e.msg_len, m, sizeof(m));
	T_EQ_STR(t, type);
	T_EQ_STR(m, msg);
}

static void test_java(void)
{
	unsigned seed = 7;

	check_java("java.lang.IllegalStateException: boom\n\tat Main.main(Main.java:3)",
		   "java.lang.IllegalStateException", "boom");
	check_java("Exception in thread \"main\" java.lang.RuntimeException: a: b\n"
		   "\tat Main.main(Main.java:3)\nCaused by: java.io.IOException: c",
		   "java.lang.RuntimeException", "a: b");
	check_java("Exception in thread \"pool-1 \"x\" java.lang.Error\n\tat A.b(A.java:1)",
		   "", "Exception in thread \"pool-1 \"x\" java.lang.Error"); /* ambiguous */
	check_java("Main$Inner$Boom\n\tat Main.main(Main.java:3)", "Main$Inner$Boom", "");
	check_java("com.x.E: \xff\n\tat A.b(A.java:1)", "com.x.E", "\xff");
	check_java("Exception in thread \"main\" \n\tat A.b(A.java:1)", NULL, NULL);
	check_java("", NULL, NULL);
	check_java("\n\tat A.b(A.java:1)", NULL, NULL);
	check_java("Exception in thread \"main", "", "Exception in thread \"main");
	for (int round = 0; round < 20000; round++) {
		static const char alphabet[] = "\n :.\"$Ex\xff";
		size_t n = (size_t)(rand_r(&seed) % 64);
		unsigned char *buf = malloc(n + 40);
		struct exc_info e;
		int ret;

		T_ASSERT(buf);
		memcpy(buf, "Exception in thread \"", 21);
		for (size_t i = 0; i < n; i++)
			buf[21 + i] = (unsigned char)alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		ret = exc_parse_java(buf + (round & 1 ? 21 : 0), n + (round & 1 ? 0 : 21), &e);
		T_ASSERT(ret == 0 || ret == -ENOENT);
		T_ASSERT(e.type_off + e.type_len <= n + 21 && e.msg_off + e.msg_len <= n + 21);
		free(buf);
	}
}

int main(void)
{
	T_RUN(test_python_output);
	T_RUN(test_odd);
	T_RUN(test_hostile);
	T_RUN(test_java);
	return 0;
}
