/* SPDX-License-Identifier: MIT */
/* Unit tests of shm/line_split.c: lines, CRLF, empty lines, split parts,
 * partial lines and flush, severity words. */
#include "line_split.h"

#include "test_help.h"

struct got {
	char lines[64][64];
	int more[64];
	int part[64];
	size_t len[64];
	int n;
};

static void collect(void *ctx, const char *line, size_t len, int more, uint16_t part)
{
	struct got *g = ctx;

	T_ASSERT(g->n < 64 && len < 64);
	memcpy(g->lines[g->n], line, len);
	g->lines[g->n][len] = '\0';
	g->len[g->n] = len;
	g->more[g->n] = more;
	g->part[g->n] = part;
	g->n++;
}

static void test_lines_and_crlf(void)
{
	struct got g = { .n = 0 };
	struct line_split ls;
	char buf[16];

	line_split_init(&ls, buf, sizeof(buf));
	line_split_feed(&ls, "a\nbb\r\n\n", 7, collect, &g);
	T_EQ_INT(g.n, 3);
	T_EQ_STR(g.lines[0], "a");
	T_EQ_STR(g.lines[1], "bb");
	T_EQ_STR(g.lines[2], "");
	T_EQ_INT(g.more[1], 0);
	T_EQ_INT(g.part[1], 0);
}

static void test_partial_then_flush(void)
{
	struct got g = { .n = 0 };
	struct line_split ls;
	char buf[16];

	line_split_init(&ls, buf, sizeof(buf));
	line_split_feed(&ls, "hel", 3, collect, &g);
	T_EQ_INT(g.n, 0);
	line_split_feed(&ls, "lo\nwor", 6, collect, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.lines[0], "hello");
	line_split_flush(&ls, collect, &g);
	T_EQ_INT(g.n, 2);
	T_EQ_STR(g.lines[1], "wor");
	line_split_flush(&ls, collect, &g); /* nothing held: nothing emitted */
	T_EQ_INT(g.n, 2);
}

static void test_split_long_line(void)
{
	struct got g = { .n = 0 };
	struct line_split ls;
	char buf[8];
	const char *line = "0123456789abcdefXYZ\nnext\n";

	line_split_init(&ls, buf, sizeof(buf));
	line_split_feed(&ls, line, strlen(line), collect, &g);
	T_EQ_INT(g.n, 4);
	T_EQ_STR(g.lines[0], "01234567");
	T_EQ_INT(g.more[0], 1);
	T_EQ_INT(g.part[0], 0);
	T_EQ_STR(g.lines[1], "89abcdef");
	T_EQ_INT(g.part[1], 1);
	T_EQ_STR(g.lines[2], "XYZ");
	T_EQ_INT(g.more[2], 0);
	T_EQ_INT(g.part[2], 2);
	T_EQ_STR(g.lines[3], "next");
	T_EQ_INT(g.part[3], 0);
}

static void test_split_across_writes(void)
{
	struct got g = { .n = 0 };
	struct line_split ls;
	char buf[8];

	line_split_init(&ls, buf, sizeof(buf));
	/* byte by byte: the same parts as one write */
	const char *line = "0123456789abcdefXYZ\n";
	for (size_t i = 0; i < strlen(line); i++)
		line_split_feed(&ls, line + i, 1, collect, &g);
	T_EQ_INT(g.n, 3);
	T_EQ_STR(g.lines[0], "01234567");
	T_EQ_STR(g.lines[1], "89abcdef");
	T_EQ_STR(g.lines[2], "XYZ");
	T_EQ_INT(g.part[2], 2);
	T_EQ_INT(g.more[2], 0);
	/* exactly cap bytes then newline: one unsplit line */
	g.n = 0;
	line_split_feed(&ls, "abcdefgh", 8, collect, &g);
	line_split_feed(&ls, "\n", 1, collect, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.lines[0], "abcdefgh");
	T_EQ_INT(g.more[0], 0);
	T_EQ_INT(g.part[0], 0);
}

/* A part never ends inside a multi-byte UTF-8 character, whether the
 * line comes in one write or byte by byte. */
static void test_split_utf8_boundary(void)
{
	const char *line = "a\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\n"; /* a + 3 x EURO */
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct got g = { .n = 0 };
		struct line_split ls;
		char buf[8];

		line_split_init(&ls, buf, sizeof(buf));
		if (bytewise)
			for (size_t i = 0; i < strlen(line); i++)
				line_split_feed(&ls, line + i, 1, collect, &g);
		else
			line_split_feed(&ls, line, strlen(line), collect, &g);
		T_EQ_INT(g.n, 2);
		T_EQ_STR(g.lines[0], "a\xe2\x82\xac\xe2\x82\xac");
		T_EQ_INT(g.more[0], 1);
		T_EQ_STR(g.lines[1], "\xe2\x82\xac");
		T_EQ_INT(g.part[1], 1);
		T_EQ_INT(g.more[1], 0);
	}
}

static void test_reset(void)
{
	struct got g = { .n = 0 };
	struct line_split ls;
	char buf[8];

	line_split_init(&ls, buf, sizeof(buf));
	line_split_feed(&ls, "parent", 6, collect, &g);
	line_split_reset(&ls);
	line_split_feed(&ls, "child\n", 6, collect, &g);
	T_EQ_INT(g.n, 1);
	T_EQ_STR(g.lines[0], "child");
}

static void test_severity(void)
{
	const char *w;
	size_t wl;

	T_EQ_INT(line_severity("WARNING:root:x", 14, &w, &wl), 13);
	T_EQ_INT(wl, 7);
	T_EQ_INT(line_severity("ERROR something", 15, &w, &wl), 17);
	T_EQ_INT(line_severity("[INFO] x", 8, &w, &wl), 9);
	T_ASSERT(memcmp(w, "INFO", 4) == 0);
	T_EQ_INT(line_severity("CRITICAL:x", 10, &w, &wl), 21);
	T_EQ_INT(line_severity("FATAL", 5, &w, &wl), 21);
	T_EQ_INT(line_severity("DEBUG\tx", 7, &w, &wl), 5);
	T_EQ_INT(line_severity("WARN x", 6, &w, &wl), 13);
	T_EQ_INT(line_severity("INFORMATION", 11, &w, &wl), 0);
	T_EQ_INT(line_severity("info: lower case", 16, &w, &wl), 0);
	T_EQ_INT(line_severity("", 0, &w, &wl), 0);
	T_EQ_INT(line_severity("[", 1, &w, &wl), 0);
	T_EQ_INT(line_severity("ERR", 3, &w, &wl), 0);
}

int main(void)
{
	T_RUN(test_lines_and_crlf);
	T_RUN(test_partial_then_flush);
	T_RUN(test_split_long_line);
	T_RUN(test_split_across_writes);
	T_RUN(test_split_utf8_boundary);
	T_RUN(test_reset);
	T_RUN(test_severity);
	return 0;
}
