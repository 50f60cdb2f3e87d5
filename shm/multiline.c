/* SPDX-License-Identifier: MIT */
/*
 * Multiline grouping of captured lines (see multiline.h). The Python rule,
 * as CPython's traceback printer writes it:
 *
 *   IDLE   --"Traceback (most recent call last):"-------------> TB
 *   IDLE   --"  + Exception Group Traceback (most recent ...):"-> EG
 *   TB     indented line (frame, source, ^^^^ marker): kept
 *          first non-indented line: the exception line, kept  -> DONE
 *   EG     indented line ("  | ...", "    +---"): kept
 *          a non-indented line ends it (and is not part of it)
 *   DONE   a non-empty line ends the group (it is a plain line)
 *   DONE/EG/TB  ""                                            -> BLANK1
 *   BLANK1 "During handling of the above exception, ..." or
 *          "The above exception was the direct cause ..."     -> CHAIN
 *   CHAIN  ""                                                 -> BLANK2
 *   BLANK2 an opener: the held lines and the opener join the group
 *                                                         -> TB or EG
 *
 * The Java rule (Throwable.printStackTrace()):
 *
 *   IDLE   a line "pkg.Name: message", "pkg.Name" or the same after
 *          'Exception in thread "T" ' (the uncaught handler's prefix)
 *                                                   -> JCAND (held)
 *   JCAND  "\tat ..."                                 -> JAVA
 *          anything else: the held line was a plain line after all
 *   JAVA   a line starting with a tab ("\tat", "\t... 3 more",
 *          "\tSuppressed: ...", deeper frames) or "Caused by: ": kept
 *          anything else ends the group (and is looked at from IDLE)
 *
 * Any line that does not fit ends the group: the group goes out as one
 * record, then the chain lines held in BLANK1/CHAIN/BLANK2 as plain
 * lines, then the line itself is looked at from IDLE (it may open the
 * next group). So a chain is one record when its parts follow each other
 * on the stream, and each exception is its own record when something
 * else is written in between. A group larger than the buffer keeps its
 * head (the lines in the first half) and its end (the latest lines,
 * always including the last one): lines are dropped from the middle and
 * counted.
 */
#include "multiline.h"

#include <errno.h>
#include <string.h>

enum {
	ST_IDLE = 0,
	ST_TB = 1,     /* in a traceback's frames */
	ST_EG = 2,     /* in an exception group's lines */
	ST_DONE = 3,   /* the exception line came */
	ST_BLANK1 = 4, /* an empty line held after the group */
	ST_CHAIN = 5,  /* "", chain message held */
	ST_BLANK2 = 6, /* "", chain message, "" held */
	ST_JCAND = 7,  /* a line that may head a Java stack trace, held */
	ST_JAVA = 8    /* in a Java stack trace */
};

enum {
	HELD_DURING = 0,
	HELD_CAUSE = 1
};

static const char tb_open[] = "Traceback (most recent call last):";
static const char eg_open[] = "  + Exception Group Traceback (most recent call last):";
static const char *const chain_msg[] = {
	"During handling of the above exception, another exception occurred:",
	"The above exception was the direct cause of the following exception:",
};

#define TB_OPEN_LEN (sizeof(tb_open) - 1)
#define EG_OPEN_LEN (sizeof(eg_open) - 1)
_Static_assert(TB_OPEN_LEN == MULTILINE_OPEN_TB_LEN, "opener length");
_Static_assert(EG_OPEN_LEN == MULTILINE_OPEN_EG_LEN, "opener length");
_Static_assert(ST_IDLE == 0, "multiline_passes() tests state == 0");

void multiline_init(struct multiline *ml, int mode, char *buf, size_t cap,
		    multiline_clock_fn clock)
{
	memset(ml, 0, sizeof(*ml));
	/* too small a buffer could not keep a head and an end: no grouping */
	ml->mode = cap >= MULTILINE_CAP_MIN ? mode & MULTILINE_ALL : MULTILINE_OFF;
	ml->buf = buf;
	ml->cap = cap;
	ml->clock = clock;
}

void multiline_reset(struct multiline *ml)
{
	ml->state = ST_IDLE;
	ml->len = 0;
	ml->head = 0;
	ml->cut_lines = 0;
	ml->cut_bytes = 0;
	ml->long_in_group = 0;
	ml->eg_closed = 0;
}

int multiline_parse_mode(const char *s)
{
	int mode = 0;

	if (!s || !*s)
		return MULTILINE_PYTHON;
	if (strcmp(s, "off") == 0)
		return MULTILINE_OFF;
	while (*s) {
		size_t n = strcspn(s, ",");

		if (n == 6 && memcmp(s, "python", 6) == 0)
			mode |= MULTILINE_PYTHON;
		else if (n == 4 && memcmp(s, "java", 4) == 0)
			mode |= MULTILINE_JAVA;
		else
			return -EINVAL;
		s += n;
		if (*s == ',' && *++s == '\0')
			return -EINVAL; /* a trailing comma */
	}
	return mode;
}

/* 0 none, ST_TB or ST_EG: which group the line opens. */
static int opener(const char *line, size_t len)
{
	if (len == TB_OPEN_LEN && memcmp(line, tb_open, TB_OPEN_LEN) == 0)
		return ST_TB;
	if (len == EG_OPEN_LEN && memcmp(line, eg_open, EG_OPEN_LEN) == 0)
		return ST_EG;
	return 0;
}

/* A line that may head a Java stack trace: Throwable.toString(), a class
 * name with a package ("java.lang.IllegalStateException") then ": " and
 * the message, or nothing; also after the uncaught handler's
 * 'Exception in thread "main" '. Stops at the first byte that can't be
 * in a class name, so ordinary text costs a few compares. */
static int java_head(const char *p, size_t n)
{
	static const char thread[] = "Exception in thread \"";
	size_t i = 0, start, dots = 0;

	if (n > sizeof(thread) - 1 && memcmp(p, thread, sizeof(thread) - 1) == 0) {
		const char *q = memchr(p + sizeof(thread) - 1, '"', n - (sizeof(thread) - 1));

		if (!q || (size_t)(q - p) + 2 > n || q[1] != ' ')
			return 0;
		i = (size_t)(q - p) + 2;
	}
	start = i;
	for (; i < n && p[i] != ':'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '.')
			dots++;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80))
			return 0;
	}
	if (i == start || !dots || p[start] == '.' || p[i - 1] == '.')
		return 0;
	return i == n || (i + 1 < n && p[i + 1] == ' ');
}

static int indented(const char *line, size_t len)
{
	return len > 0 && (line[0] == ' ' || line[0] == '\t');
}

/* An exception group's closing line: spaces, '+', 36 '-'. */
static int eg_closing(const char *line, size_t len)
{
	size_t i = 0, dashes = 0;

	while (i < len && line[i] == ' ')
		i++;
	if (i == len || line[i] != '+')
		return 0;
	for (i++; i < len; i++, dashes++)
		if (line[i] != '-')
			return 0;
	return dashes == 36;
}

static void emit_plain(const char *line, size_t len, int more, uint16_t part,
		       multiline_emit_fn emit, void *ctx)
{
	struct multiline_rec r = { .body = line, .len = len, .more = more, .part = part };

	emit(ctx, &r);
}

/* Where the kept head ends once the group no longer fits: after the last
 * line that ends in the first half of the buffer (at least the opener). */
static size_t head_end(const struct multiline *ml)
{
	size_t i = ml->cap / 2 < ml->len ? ml->cap / 2 : ml->len;

	while (i > 0 && ml->buf[i - 1] != '\n')
		i--;
	if (i == 0) {
		const char *nl = memchr(ml->buf, '\n', ml->len);

		i = nl ? (size_t)(nl - ml->buf) + 1 : ml->len;
	}
	return i;
}

/* Where to cut p[0, n) to at most room bytes without splitting a UTF-8
 * sequence (so that a cut line stays valid UTF-8 when it was). */
static size_t utf8_keep(const char *p, size_t n, size_t room)
{
	size_t k = room;

	if (n <= room)
		return n;
	while (k > 0 && room - k < 3 && ((unsigned char)p[k] & 0xc0) == 0x80)
		k--; /* p[k] continues a sequence that starts before it */
	return ((unsigned char)p[k] & 0xc0) == 0x80 ? room : k;
}

/* Appends a line to the group, dropping the oldest lines after the head
 * (and the end of a line too long for what is left) to make room. */
static void put_line(struct multiline *ml, const char *p, size_t n)
{
	size_t room;

	if (ml->len + n + 1 > ml->cap) {
		char *s;
		size_t avail, drop = 0;

		if (!ml->head)
			ml->head = head_end(ml);
		s = ml->buf + ml->head;
		avail = ml->len - ml->head;
		while (ml->len - drop + n + 1 > ml->cap && drop < avail) {
			const char *nl = memchr(s + drop, '\n', avail - drop);

			/* every line in buf ends with '\n', so nl is found */
			drop = nl ? (size_t)(nl - s) + 1 : avail;
			ml->cut_lines++;
		}
		memmove(s, s + drop, avail - drop);
		ml->len -= drop;
		ml->cut_bytes += drop;
	}
	room = utf8_keep(p, n, ml->cap - ml->len - 1);
	if (n > room) {
		ml->cut_bytes += n - room;
		n = room;
	}
	memcpy(ml->buf + ml->len, p, n);
	ml->buf[ml->len + n] = '\n';
	ml->len += n + 1;
	ml->eg_closed = ml->state == ST_EG && eg_closing(p, n);
}

/* Emits the group and the chain lines held after it; back to IDLE. */
static void end_group(struct multiline *ml, multiline_emit_fn emit, void *ctx)
{
	struct multiline_rec r = {
		.body = ml->buf,
		.len = ml->len ? ml->len - 1 : 0,
		.cut_lines = ml->cut_lines,
		.cut_bytes = ml->cut_bytes,
		.time_ns = ml->t0,
	};
	int state = ml->state, held = ml->held;

	multiline_reset(ml);
	if (state == ST_JCAND) {
		/* no frame came: the held line is a plain line */
		emit_plain(r.body, r.len, 0, 0, emit, ctx);
		return;
	}
	r.group = state == ST_JAVA ? MULTILINE_JAVA : MULTILINE_PYTHON;
	emit(ctx, &r);
	if (state > ST_BLANK2)
		return;
	if (state >= ST_BLANK1)
		emit_plain("", 0, 0, 0, emit, ctx);
	if (state >= ST_CHAIN)
		emit_plain(chain_msg[held], strlen(chain_msg[held]), 0, 0, emit, ctx);
	if (state >= ST_BLANK2)
		emit_plain("", 0, 0, 0, emit, ctx);
}

/* Feeds a line (part 0) to a held group. Returns 1 if it took the line,
 * 0 if the line ends the group (the caller emits it and looks at the
 * line from IDLE). */
static int group_step(struct multiline *ml, const char *line, size_t len, int more)
{
	int o;

	switch (ml->state) {
	case ST_TB:
	case ST_EG:
		if (len == 0 && !more) {
			ml->state = ST_BLANK1;
			return 1;
		}
		if (!indented(line, len) && ml->state == ST_EG)
			return 0;
		if (!indented(line, len))
			ml->state = ST_DONE; /* the exception line */
		put_line(ml, line, len);
		ml->long_in_group = more;
		return 1;
	case ST_DONE:
		if (len == 0 && !more) {
			ml->state = ST_BLANK1;
			return 1;
		}
		return 0;
	case ST_BLANK1:
		for (int i = 0; i < 2; i++) {
			if (!more && len == strlen(chain_msg[i]) && memcmp(line, chain_msg[i], len) == 0) {
				ml->held = i;
				ml->state = ST_CHAIN;
				return 1;
			}
		}
		return 0;
	case ST_CHAIN:
		if (len == 0 && !more) {
			ml->state = ST_BLANK2;
			return 1;
		}
		return 0;
	case ST_JCAND:
		if (len < 4 || memcmp(line, "\tat ", 4) != 0)
			return 0;
		ml->state = ST_JAVA;
		put_line(ml, line, len);
		ml->long_in_group = more;
		return 1;
	case ST_JAVA:
		if (!(len > 0 && line[0] == '\t') &&
		    !(len >= 10 && memcmp(line, "Caused by:", 10) == 0))
			return 0;
		put_line(ml, line, len);
		ml->long_in_group = more;
		return 1;
	case ST_BLANK2:
		o = more ? 0 : opener(line, len);
		if (!o)
			return 0;
		put_line(ml, "", 0);
		put_line(ml, chain_msg[ml->held], strlen(chain_msg[ml->held]));
		put_line(ml, "", 0);
		ml->state = o;
		put_line(ml, line, len);
		return 1;
	default:
		return 0;
	}
}

void multiline_line(struct multiline *ml, const char *line, size_t len, int more, uint16_t part,
		    multiline_emit_fn emit, void *ctx)
{
	int o;

	if (ml->state != ST_IDLE) {
		if (part > 0) {
			/* The rest of a line too long for a record. */
			if (ml->long_in_group) {
				ml->cut_bytes += len;
				ml->long_in_group = more;
				return;
			}
			emit_plain(line, len, more, part, emit, ctx);
			return;
		}
		if (group_step(ml, line, len, more)) {
			if (ml->cut_bytes > MULTILINE_CUT_GIVE_UP)
				end_group(ml, emit, ctx);
			return;
		}
		end_group(ml, emit, ctx);
	}
	if (more || part) {
		emit_plain(line, len, more, part, emit, ctx);
		return;
	}
	/* The hot path: a line that is not exactly an opener's length. */
	if ((len == TB_OPEN_LEN || len == EG_OPEN_LEN) && (ml->mode & MULTILINE_PYTHON) &&
	    (o = opener(line, len))) {
		ml->state = o;
	} else if ((ml->mode & MULTILINE_JAVA) && java_head(line, len)) {
		ml->state = ST_JCAND;
	} else {
		emit_plain(line, len, more, part, emit, ctx);
		return;
	}
	ml->t0 = ml->clock ? ml->clock() : 0;
	put_line(ml, line, len);
}

void multiline_flush(struct multiline *ml, multiline_emit_fn emit, void *ctx)
{
	if (ml->state != ST_IDLE)
		end_group(ml, emit, ctx);
}

int multiline_complete(const struct multiline *ml)
{
	return (ml->state >= ST_DONE && ml->state <= ST_BLANK2) ||
	       (ml->state == ST_EG && ml->eg_closed);
}
