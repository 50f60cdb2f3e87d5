/* SPDX-License-Identifier: MIT */
/*
 * Reading the exception out of a Python traceback body (see exc_parse.h).
 * One pass over the lines, each looked at through its length only.
 */
#include "exc_parse.h"

#include <errno.h>
#include <string.h>

static const char tb_open[] = "Traceback (most recent call last):";
static const char eg_open[] = "  + Exception Group Traceback (most recent call last):";
static const char chain_during[] =
	"During handling of the above exception, another exception occurred:";
static const char chain_cause[] =
	"The above exception was the direct cause of the following exception:";

enum {
	PART_NONE = 0, /* before any opener */
	PART_TB = 1,
	PART_EG = 2
};

static int is(const unsigned char *p, size_t n, const char *s, size_t slen)
{
	return n == slen && memcmp(p, s, slen) == 0;
}

/* A type name as Python prints it: module and qualified name, dotted
 * (qualnames may hold "<locals>"), or a Java class name (nested classes
 * hold '$'); non-ASCII identifier bytes allowed. */
static int type_like(const unsigned char *p, size_t n)
{
	if (n == 0 || n > EXC_PARSE_TYPE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '<' || c == '>' || c == '$' || c >= 0x80))
			return 0;
	}
	return 1;
}

/* Splits an exception line at body offset off, n bytes. */
static void split_exc_line(const unsigned char *body, size_t off, size_t n, struct exc_info *out)
{
	const unsigned char *p = body + off;
	size_t colon = n;

	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == ':' && p[i + 1] == ' ') {
			colon = i;
			break;
		}
	}
	memset(out, 0, sizeof(*out));
	if (colon < n && type_like(p, colon)) {
		out->type_off = off;
		out->type_len = colon;
		out->msg_off = off + colon + 2;
		out->msg_len = n - colon - 2;
	} else if (colon == n && type_like(p, n)) {
		out->type_off = off;
		out->type_len = n;
	} else {
		out->msg_off = off;
		out->msg_len = n;
	}
}

int exc_parse_python(const unsigned char *body, size_t len, struct exc_info *out)
{
	size_t off = 0, best_off = 0, best_len = 0;
	int part = PART_NONE, found_in_part = 0, found = 0;

	while (off < len) {
		const unsigned char *p = body + off;
		const unsigned char *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;

		if (is(p, n, tb_open, sizeof(tb_open) - 1)) {
			part = PART_TB;
			found_in_part = 0;
		} else if (is(p, n, eg_open, sizeof(eg_open) - 1)) {
			part = PART_EG;
			found_in_part = 0;
		} else if (is(p, n, chain_during, sizeof(chain_during) - 1) ||
			   is(p, n, chain_cause, sizeof(chain_cause) - 1)) {
			found_in_part = 1; /* nothing more in this part */
		} else if (!found_in_part && part == PART_TB && n > 0 && p[0] != ' ' &&
			   p[0] != '\t') {
			best_off = off;
			best_len = n;
			found_in_part = found = 1;
		} else if (!found_in_part && part == PART_EG && n > 4 && memcmp(p, "  | ", 4) == 0 &&
			   p[4] != ' ') {
			best_off = off + 4;
			best_len = n - 4;
			found_in_part = found = 1;
		}
		off += n + 1; /* past the '\n' (or past the end) */
	}
	if (!found) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	split_exc_line(body, best_off, best_len, out);
	return 0;
}

int exc_parse_java(const unsigned char *body, size_t len, struct exc_info *out)
{
	static const char thread[] = "Exception in thread \"";
	const unsigned char *nl = memchr(body, '\n', len);
	size_t n = nl ? (size_t)(nl - body) : len, off = 0;

	if (n > sizeof(thread) - 1 && memcmp(body, thread, sizeof(thread) - 1) == 0) {
		const unsigned char *q = memchr(body + sizeof(thread) - 1, '"',
						n - (sizeof(thread) - 1));

		if (q && (size_t)(q - body) + 2 <= n && q[1] == ' ')
			off = (size_t)(q - body) + 2;
	}
	if (off == n) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	split_exc_line(body, off, n - off, out);
	return 0;
}
