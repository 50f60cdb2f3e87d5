/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of shm/multiline.c behind shm/line_split.c, as lib_stdio.c
 * wires them: tracebacks as CPython 3.11 prints them (plain, chained both
 * ways, exception groups, a multi-line message) become one record each,
 * the lines around them one record each, whatever the write boundaries
 * (every split point, byte by byte); a group cut by exit, two streams
 * interleaved, mode off, a group longer than the buffer (head and end
 * kept), a long exception line, the give-up bound, and the states
 * multiline_complete() reports.
 */
#include "multiline.h"

#include <errno.h>
#include <stdlib.h>

#include "line_split.h"
#include "test_help.h"

#define MAXREC 256

struct rec {
	char *body;
	size_t len;
	int group, more;
	unsigned part;
	uint32_t cut_lines;
	uint64_t cut_bytes;
	uint64_t time_ns;
};

struct got {
	struct rec r[MAXREC];
	int n;
};

/* One captured stream: line splitter, multiline stage, what came out. */
struct stream {
	struct line_split ls;
	struct multiline ml;
	char lbuf[16384];
	char *mbuf;
	struct got g;
};

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return ++fake_now;
}

static void on_rec(void *ctx, const struct multiline_rec *r)
{
	struct got *g = ctx;
	struct rec *o;

	T_ASSERT(g->n < MAXREC);
	o = &g->r[g->n++];
	o->body = malloc(r->len + 1);
	T_ASSERT(o->body);
	memcpy(o->body, r->body, r->len);
	o->body[r->len] = '\0';
	o->len = r->len;
	o->group = r->group;
	o->more = r->more;
	o->part = r->part;
	o->cut_lines = r->cut_lines;
	o->cut_bytes = r->cut_bytes;
	o->time_ns = r->time_ns;
	if (r->group) {
		T_ASSERT(r->more == 0 && r->part == 0);
		T_ASSERT(r->time_ns != 0);
	} else {
		T_ASSERT(r->time_ns == 0 && r->cut_bytes == 0);
	}
}

static void on_line(void *ctx, const char *line, size_t len, int more, uint16_t part)
{
	struct stream *s = ctx;

	multiline_line(&s->ml, line, len, more, part, on_rec, &s->g);
}

static void s_init(struct stream *s, int mode, size_t mcap)
{
	memset(&s->g, 0, sizeof(s->g));
	s->mbuf = malloc(mcap);
	T_ASSERT(s->mbuf);
	line_split_init(&s->ls, s->lbuf, sizeof(s->lbuf));
	multiline_init(&s->ml, mode, s->mbuf, mcap, fake_clock);
}

static void s_feed(struct stream *s, const char *p, size_t n)
{
	line_split_feed(&s->ls, p, n, on_line, s);
}

/* What exit does: the partial line, then the group. */
static void s_exit(struct stream *s)
{
	line_split_flush(&s->ls, on_line, s);
	multiline_flush(&s->ml, on_rec, &s->g);
}

static void s_fini(struct stream *s)
{
	for (int i = 0; i < s->g.n; i++)
		free(s->g.r[i].body);
	free(s->mbuf);
	s->g.n = 0;
}

/* Expected records: "G:" prefix = a Python group, "J:" a Java one, else a
 * plain line. */
static void expect(const struct got *g, const char *const *want, int nwant, const char *label)
{
	if (g->n != nwant) {
		fprintf(stderr, "%s: %d records, want %d\n", label, g->n, nwant);
		for (int i = 0; i < g->n; i++)
			fprintf(stderr, "  [%d] %s%s\n", i, g->r[i].group ? "G:" : "",
				g->r[i].body);
		exit(1);
	}
	for (int i = 0; i < nwant; i++) {
		int grp = strncmp(want[i], "G:", 2) == 0 ? MULTILINE_PYTHON :
			  strncmp(want[i], "J:", 2) == 0 ? MULTILINE_JAVA : 0;
		const char *body = grp ? want[i] + 2 : want[i];

		if (g->r[i].group != grp || strcmp(g->r[i].body, body) != 0) {
			fprintf(stderr, "%s: record %d is %d:\"%s\", want %d:\"%s\"\n", label, i,
				g->r[i].group, g->r[i].body, grp, body);
			exit(1);
		}
	}
}

/* Feeds text in every way: whole, split at each point, byte by byte;
 * each must give exactly want. */
static void check_all_splits(int mode, const char *text, const char *const *want, int nwant)
{
	size_t n = strlen(text);
	struct stream s;
	char label[64];

	s_init(&s, mode, 16384);
	s_feed(&s, text, n);
	s_exit(&s);
	expect(&s.g, want, nwant, "whole");
	s_fini(&s);
	for (size_t cut = 0; cut <= n; cut++) {
		s_init(&s, mode, 16384);
		s_feed(&s, text, cut);
		s_feed(&s, text + cut, n - cut);
		s_exit(&s);
		snprintf(label, sizeof(label), "split at %zu", cut);
		expect(&s.g, want, nwant, label);
		s_fini(&s);
	}
	s_init(&s, mode, 16384);
	for (size_t i = 0; i < n; i++)
		s_feed(&s, text + i, 1);
	s_exit(&s);
	expect(&s.g, want, nwant, "byte by byte");
	s_fini(&s);
}

#define TB "Traceback (most recent call last):\n"
#define FRAME1 "  File \"/tmp/x.py\", line 6, in <module>\n    f()\n"
#define FRAME2 "  File \"/tmp/x.py\", line 3, in f\n    raise KeyError(\"x\")\n"
#define DURING "During handling of the above exception, another exception occurred:"
#define CAUSE "The above exception was the direct cause of the following exception:"

static void test_plain_traceback(void)
{
	/* the opener's length, not the opener: a plain line */
	const char *text = "Traceback (most recent call last)!\nbefore\n" TB FRAME1 FRAME2
			   "    ~~~^^^\nKeyError: 'x'\nafter 1\nafter 2\n";
	const char *want[] = {
		"Traceback (most recent call last)!",
		"before",
		"G:Traceback (most recent call last):\n"
		"  File \"/tmp/x.py\", line 6, in <module>\n    f()\n"
		"  File \"/tmp/x.py\", line 3, in f\n    raise KeyError(\"x\")\n    ~~~^^^\n"
		"KeyError: 'x'",
		"after 1",
		"after 2",
	};

	check_all_splits(MULTILINE_PYTHON, text, want, 5);
}

static void test_chains(void)
{
	const char *text = TB FRAME1 "KeyError: 'x'\n\n" DURING "\n\n" TB FRAME2
			   "ValueError: bad\n\n" CAUSE "\n\n" TB FRAME1 "RuntimeError: wrap\n"
			   "next line\n";
	const char *want[] = {
		"G:" TB FRAME1 "KeyError: 'x'\n\n" DURING "\n\n" TB FRAME2 "ValueError: bad\n\n" CAUSE
		"\n\n" TB "  File \"/tmp/x.py\", line 6, in <module>\n    f()\nRuntimeError: wrap",
		"next line",
	};

	check_all_splits(MULTILINE_PYTHON, text, want, 2);
}

/* Chain lines that lead to no traceback are plain lines again, in order. */
static void test_broken_chain(void)
{
	const char *t1 = TB FRAME1 "KeyError: 'x'\n\n" DURING "\n\nnot a traceback\n";
	const char *w1[] = { "G:" TB FRAME1 "KeyError: 'x'", "", DURING, "", "not a traceback" };
	const char *t2 = TB FRAME1 "KeyError: 'x'\n\n" DURING "\nx\n";
	const char *w2[] = { "G:" TB FRAME1 "KeyError: 'x'", "", DURING, "x" };
	const char *t3 = TB FRAME1 "KeyError: 'x'\n\nsomething else\n\n";
	const char *w3[] = { "G:" TB FRAME1 "KeyError: 'x'", "", "something else", "" };
	const char *t4 = TB FRAME1 "KeyError: 'x'\n\n" DURING "\n\n";
	const char *w4[] = { "G:" TB FRAME1 "KeyError: 'x'", "", DURING, "" };

	check_all_splits(MULTILINE_PYTHON, t1, w1, 5);
	check_all_splits(MULTILINE_PYTHON, t2, w2, 4);
	check_all_splits(MULTILINE_PYTHON, t3, w3, 4);
	check_all_splits(MULTILINE_PYTHON, t4, w4, 4); /* held lines go out at exit */
}

/* As CPython 3.11 prints an exception group, then a cause chain that
 * starts with one, then a plain traceback right after. */
#define EG_TEXT                                                                          \
	"  + Exception Group Traceback (most recent call last):\n"                        \
	"  |   File \"<string>\", line 4, in <module>\n"                                \
	"  | ExceptionGroup: outer (2 sub-exceptions)\n"                                  \
	"  +-+---------------- 1 ----------------\n"                                      \
	"    | ValueError: 1\n"                                                           \
	"    +---------------- 2 ----------------\n"                                      \
	"    | ExceptionGroup: inner (1 sub-exception)\n"                                 \
	"    +-+---------------- 1 ----------------\n"                                    \
	"      | TypeError: 2\n"                                                          \
	"      +------------------------------------\n"

static void test_exception_groups(void)
{
	const char *text = "x\n" EG_TEXT TB FRAME1 "KeyError: 'x'\n" EG_TEXT "\n" CAUSE "\n\n" TB
			   FRAME2 "RuntimeError: r\nlast\n";
	/* The group text without its last newline. */
	char eg[sizeof(EG_TEXT) + 2], g3[1024];
	const char *want[] = { "x", eg, "G:" TB FRAME1 "KeyError: 'x'", g3, "last" };

	snprintf(eg, sizeof(eg), "G:%.*s", (int)strlen(EG_TEXT) - 1, EG_TEXT);
	snprintf(g3, sizeof(g3), "G:%s\n%s\n\n%s%sRuntimeError: r", EG_TEXT, CAUSE, TB, FRAME2);
	check_all_splits(MULTILINE_PYTHON, text, want, 5);
}

/* A message of two lines: the second is not told from a following line. */
static void test_multiline_message(void)
{
	const char *text = TB FRAME1 "ValueError: bad\nsecond\n";
	const char *want[] = { "G:" TB FRAME1 "ValueError: bad", "second" };

	check_all_splits(MULTILINE_PYTHON, text, want, 2);
}

/* Exit in the middle of a traceback, and with a partial last line. */
static void test_cut_by_exit(void)
{
	const char *t1 = "a\n" TB FRAME1;
	const char *w1[] = { "a", "G:" TB "  File \"/tmp/x.py\", line 6, in <module>\n    f()" };
	const char *t2 = TB FRAME1 "KeyError: 'x'";
	const char *w2[] = { "G:" TB FRAME1 "KeyError: 'x'" };
	const char *t3 = "no newline";
	const char *w3[] = { "no newline" };

	check_all_splits(MULTILINE_PYTHON, t1, w1, 2);
	check_all_splits(MULTILINE_PYTHON, t2, w2, 1);
	check_all_splits(MULTILINE_PYTHON, t3, w3, 1);
}

static void test_off(void)
{
	const char *text = "before\n" TB FRAME1 "KeyError: 'x'\n\n" DURING "\n";
	const char *want[] = {
		"before", "Traceback (most recent call last):",
		"  File \"/tmp/x.py\", line 6, in <module>", "    f()", "KeyError: 'x'", "", DURING,
	};

	check_all_splits(MULTILINE_OFF, text, want, 7);
	T_EQ_INT(multiline_parse_mode(NULL), MULTILINE_PYTHON);
	T_EQ_INT(multiline_parse_mode(""), MULTILINE_PYTHON);
	T_EQ_INT(multiline_parse_mode("python"), MULTILINE_PYTHON);
	T_EQ_INT(multiline_parse_mode("off"), MULTILINE_OFF);
	T_EQ_INT(multiline_parse_mode("java"), MULTILINE_JAVA);
	T_EQ_INT(multiline_parse_mode("python,java"), MULTILINE_ALL);
	T_EQ_INT(multiline_parse_mode("java,python"), MULTILINE_ALL);
	T_EQ_INT(multiline_parse_mode("Python"), -EINVAL);
	T_EQ_INT(multiline_parse_mode("python,"), -EINVAL);
	T_EQ_INT(multiline_parse_mode("python,,java"), -EINVAL);
	T_EQ_INT(multiline_parse_mode("go"), -EINVAL);
}

/* Two streams written in turn, each with its own state. */
static void test_interleaved(void)
{
	struct stream out, err;
	const char *e[] = { TB, "  File \"a.py\", line 1, in <module>\n", "    g()\n",
			    "OSError: gone\n" };
	const char *o[] = { "step 1\n", "step 2\n", "Traceback (most recent call last):x\n",
			    "step 3\n" };
	const char *we[] = { "G:" TB "  File \"a.py\", line 1, in <module>\n    g()\nOSError: gone",
			     "err after" };
	const char *wo[] = { "step 1", "step 2", "Traceback (most recent call last):x", "step 3" };

	s_init(&out, MULTILINE_PYTHON, 16384);
	s_init(&err, MULTILINE_PYTHON, 16384);
	for (int i = 0; i < 4; i++) {
		s_feed(&err, e[i], strlen(e[i]));
		s_feed(&out, o[i], strlen(o[i]));
		T_EQ_INT(out.g.n, i + 1); /* stdout lines are never held */
		T_EQ_INT(err.g.n, 0);
		T_EQ_INT(multiline_complete(&err.ml), i == 3);
	}
	s_feed(&err, "err after\n", 10);
	s_exit(&out);
	s_exit(&err);
	expect(&out.g, wo, 4, "stdout");
	expect(&err.g, we, 2, "stderr");
	s_fini(&out);
	s_fini(&err);
}

static void test_complete_states(void)
{
	struct stream s;

	s_init(&s, MULTILINE_PYTHON, 16384);
	T_EQ_INT(multiline_complete(&s.ml), 0);
	s_feed(&s, TB, strlen(TB));
	T_EQ_INT(multiline_complete(&s.ml), 0); /* frames to come */
	s_feed(&s, FRAME1 "E: m\n", strlen(FRAME1) + 5);
	T_EQ_INT(multiline_complete(&s.ml), 1);
	s_feed(&s, "\n" DURING "\n\n", strlen(DURING) + 3);
	T_EQ_INT(multiline_complete(&s.ml), 1); /* what is held is complete */
	T_EQ_INT(s.g.n, 0);
	/* What a write to the other stream does. */
	multiline_flush(&s.ml, on_rec, &s.g);
	T_EQ_INT(s.g.n, 4);
	T_EQ_INT(multiline_complete(&s.ml), 0);
	s_fini(&s);
	s_init(&s, MULTILINE_PYTHON, 16384);
	s_feed(&s, EG_TEXT, strlen(EG_TEXT) - 40); /* before the closing line */
	T_EQ_INT(multiline_complete(&s.ml), 0);
	s_feed(&s, EG_TEXT + strlen(EG_TEXT) - 40, 40);
	T_EQ_INT(multiline_complete(&s.ml), 1);
	T_EQ_INT(s.g.n, 0);
	multiline_reset(&s.ml); /* a fork child */
	s_exit(&s);
	T_EQ_INT(s.g.n, 0);
	s_fini(&s);
}

/* The time of a group is the clock when its first line came. */
static void test_time(void)
{
	struct stream s;
	uint64_t t;

	s_init(&s, MULTILINE_PYTHON, 16384);
	s_feed(&s, "x\n", 2);
	t = fake_now;
	s_feed(&s, TB FRAME1, strlen(TB FRAME1));
	s_feed(&s, "E\n", 2);
	s_exit(&s);
	T_EQ_INT(s.g.n, 2);
	T_EQ_INT(s.g.r[1].time_ns, t + 1);
	T_EQ_STR(s.g.r[1].body, TB FRAME1 "E");
	s_fini(&s);
}

/* A traceback longer than the buffer: the head lines, then the latest
 * lines ending with the exception line; the dropped ones counted. */
static void test_too_long(void)
{
	const size_t cap = 1024;
	static char text[64 * 1024];
	size_t n = 0, lines = 0;
	struct stream s;
	const struct rec *r;
	const char *tail;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", TB);
	for (int i = 0; i < 400; i++, lines += 2)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  File \"f.py\", line %d, in f\n    f(%d)\n", i, i);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "RecursionError: maximum depth\nok\n");
	s_init(&s, MULTILINE_PYTHON, cap);
	s_feed(&s, text, n);
	s_exit(&s);
	T_EQ_INT(s.g.n, 2);
	r = &s.g.r[0];
	T_ASSERT(r->group);
	T_ASSERT(r->len <= cap - 1);
	T_ASSERT(r->len > cap / 2);
	T_ASSERT(r->cut_lines > 0 && r->cut_lines < lines);
	T_ASSERT(r->cut_bytes > 0);
	/* Kept + cut = what was written (the group's text, '\n' for each line). */
	T_EQ_INT(r->len + 1 + r->cut_bytes, strlen(text) - 3);
	/* the head: the opener and the first frames, as written */
	T_ASSERT(strncmp(r->body, TB "  File \"f.py\", line 0, in f\n    f(0)\n", 60) == 0);
	/* the end: the last frame and the exception line */
	tail = "  File \"f.py\", line 399, in f\n    f(399)\nRecursionError: maximum depth";
	T_ASSERT(r->len > strlen(tail));
	T_EQ_STR(r->body + r->len - strlen(tail), tail);
	/* whole lines only: the kept text is a head and a tail of the lines */
	T_ASSERT(strstr(text, r->body + r->len - strlen(tail)) != NULL);
	T_EQ_STR(s.g.r[1].body, "ok");
	s_fini(&s);
}

/* An exception line longer than a line part: its head is kept. */
static void test_long_exception_line(void)
{
	static char text[40000];
	struct stream s;
	size_t n = 0;

	n += (size_t)snprintf(text, sizeof(text), "%s%sValueError: ", TB, FRAME1);
	memset(text + n, 'v', 30000);
	n += 30000;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "\nafter\n");
	s_init(&s, MULTILINE_PYTHON, 16384);
	s_feed(&s, text, n);
	s_exit(&s);
	T_EQ_INT(s.g.n, 2);
	T_ASSERT(s.g.r[0].group);
	T_ASSERT(s.g.r[0].len <= 16383);
	T_ASSERT(strncmp(s.g.r[0].body, TB FRAME1 "ValueError: vvv", strlen(TB FRAME1) + 15) == 0);
	T_ASSERT(s.g.r[0].cut_bytes > 0);
	T_EQ_INT(s.g.r[0].cut_lines, 0);
	T_EQ_INT(s.g.r[0].len + 1 + s.g.r[0].cut_bytes, n - 6);
	T_EQ_STR(s.g.r[1].body, "after");
	T_EQ_INT(s.g.r[1].part, 0);
	s_fini(&s);

	/* Cut inside two-byte characters: no sequence is split, at any offset. */
	for (size_t shift = 0; shift < 2; shift++) {
		size_t pre;

		n = (size_t)snprintf(text, sizeof(text), "%s%sE: %s", TB, FRAME1, shift ? "x" : "");
		pre = n;
		for (int i = 0; i < 15000; i++) {
			text[n++] = (char)0xc3;
			text[n++] = (char)0xa9; /* U+00E9 */
		}
		text[n++] = '\n';
		s_init(&s, MULTILINE_PYTHON, 16384);
		s_feed(&s, text, n);
		s_exit(&s);
		T_EQ_INT(s.g.n, 1);
		T_ASSERT(s.g.r[0].len > pre);
		T_EQ_INT((s.g.r[0].len - pre) % 2, 0);
		T_EQ_INT((unsigned char)s.g.r[0].body[s.g.r[0].len - 1], 0xa9);
		T_EQ_INT(s.g.r[0].len + 1 + s.g.r[0].cut_bytes, n);
		s_fini(&s);
	}
}

/* Endless indented output after an opener is not held forever. */
static void test_give_up(void)
{
	char line[128];
	struct stream s;
	size_t fed = 0;
	int groups = 0, plain = 0;

	s_init(&s, MULTILINE_PYTHON, 1024);
	s_feed(&s, TB, strlen(TB));
	memset(line, ' ', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	while (fed < 2 * MULTILINE_CUT_GIVE_UP && s.g.n < MAXREC - 1) {
		s_feed(&s, line, sizeof(line));
		fed += sizeof(line);
	}
	T_ASSERT(s.g.n >= 2);
	for (int i = 0; i < s.g.n; i++) {
		if (s.g.r[i].group) {
			groups++;
			T_ASSERT(s.g.r[i].cut_bytes > MULTILINE_CUT_GIVE_UP);
		} else {
			plain++;
		}
	}
	T_EQ_INT(groups, 1);
	T_ASSERT(s.g.r[0].group);
	T_ASSERT(plain > 0);
	s_fini(&s);
}

#define JTRACE                                                                           \
	"Exception in thread \"main\" java.lang.IllegalStateException: outer: x\n"          \
	"\tat Main.f(Main.java:5)\n"                                                      \
	"\tat Main.main(Main.java:9)\n"                                                   \
	"Caused by: java.lang.RuntimeException: inner\n"                                  \
	"\tat Main.g(Main.java:2)\n"                                                      \
	"\t... 1 more\n"                                                                  \
	"\tSuppressed: java.io.IOException: s\n"                                          \
	"\t\tat Main.h(Main.java:3)\n"

static void test_java(void)
{
	char j[sizeof(JTRACE) + 2];
	const char *t1 = "start\n" JTRACE "after\n";
	const char *w1[] = { "start", j, "after" };
	/* exception-like lines with no frame after them stay plain lines */
	const char *t2 = "com.example.Thing: hello\nnext\norg.x.Y\n\njava.lang.Error\n";
	const char *w2[] = { "com.example.Thing: hello", "next", "org.x.Y", "", "java.lang.Error" };
	/* both rules on one stream */
	const char *t3 = TB FRAME1 "KeyError: 'x'\n" "a.b.C: m\n\tat X.y(X.java:1)\nend\n";
	const char *w3[] = { "G:" TB FRAME1 "KeyError: 'x'", "J:a.b.C: m\n\tat X.y(X.java:1)",
			     "end" };
	/* the Java rule alone leaves a Python traceback alone, and back */
	const char *t4 = TB FRAME1 "KeyError: 'x'\n";
	const char *w4[] = { "Traceback (most recent call last):",
			     "  File \"/tmp/x.py\", line 6, in <module>", "    f()", "KeyError: 'x'" };
	const char *t5 = "a.b.C: m\n\tat X.y(X.java:1)\n";
	const char *w5[] = { "a.b.C: m", "\tat X.y(X.java:1)" };
	/* what the Java rule does not take for an exception line */
	static const char *const plain[] = {
		"INFO: x", "a.b c", ".x: y", "x.: y", "x.y:z", "NoPackage: m", "a.b:", "",
		"2026-12-01 10:00:00.123 ERROR x.y.Z - failed", "Exception in thread \"main",
		"Exception in thread \"main\"x.y.Z",
	};
	struct stream s;

	snprintf(j, sizeof(j), "J:%.*s", (int)strlen(JTRACE) - 1, JTRACE);
	check_all_splits(MULTILINE_JAVA, t1, w1, 3);
	check_all_splits(MULTILINE_ALL, t1, w1, 3);
	check_all_splits(MULTILINE_JAVA, t2, w2, 5);
	check_all_splits(MULTILINE_ALL, t3, w3, 3);
	check_all_splits(MULTILINE_JAVA, t4, w4, 4);
	check_all_splits(MULTILINE_PYTHON, t5, w5, 2);
	s_init(&s, MULTILINE_JAVA, 16384);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		s_feed(&s, plain[i], strlen(plain[i]));
		s_feed(&s, "\n", 1);
		T_EQ_INT(s.g.n, (int)i + 1); /* not held */
	}
	s_feed(&s, "x.y.Z: held\n", 12);
	T_EQ_INT(s.g.n, (int)(sizeof(plain) / sizeof(plain[0])));
	s_feed(&s, "\tat A.b(A.java:1)\n", 18);
	T_EQ_INT(multiline_complete(&s.ml), 0); /* frames may follow */
	s_exit(&s);
	T_EQ_INT(s.g.r[s.g.n - 1].group, MULTILINE_JAVA);
	s_fini(&s);
}

int main(void)
{
	T_RUN(test_plain_traceback);
	T_RUN(test_chains);
	T_RUN(test_broken_chain);
	T_RUN(test_exception_groups);
	T_RUN(test_multiline_message);
	T_RUN(test_cut_by_exit);
	T_RUN(test_off);
	T_RUN(test_interleaved);
	T_RUN(test_complete_states);
	T_RUN(test_time);
	T_RUN(test_too_long);
	T_RUN(test_long_exception_line);
	T_RUN(test_give_up);
	T_RUN(test_java);
	return 0;
}
