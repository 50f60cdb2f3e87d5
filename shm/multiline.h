/* SPDX-License-Identifier: MIT */
/*
 * Grouping captured lines into multiline records: the lines of a Python
 * traceback (and of a chain of them, and of an exception group), or of a
 * Java stack trace, become one record instead of one record per line.
 * Sits between line_split.c (which cuts bytes into lines) and the record
 * encoder in lib_stdio.c.
 * Pure logic, no system calls, no allocation, no timer: the caller
 * serialises calls per stream and decides when a held group must go out
 * (the next line that does not continue it, exit, fork, the other stream
 * written, see multiline_complete()). The rules are in multiline.c.
 */
#ifndef SHM_MULTILINE_H
#define SHM_MULTILINE_H

#include <stddef.h>
#include <stdint.h>

/* Rules, a bit mask; a group's kind (multiline_rec.group) is one bit. */
enum multiline_mode {
	MULTILINE_OFF = 0,    /* one record per line */
	MULTILINE_PYTHON = 1, /* Python tracebacks grouped (the default) */
	MULTILINE_JAVA = 2,   /* Java stack traces grouped */
	MULTILINE_ALL = 3     /* every rule */
};

/* One record to emit. A plain line passes more/part on unchanged (as
 * line_split gave them); a group has group = MULTILINE_PYTHON or
 * MULTILINE_JAVA (which rule made it), its body joined with "\n" and no
 * trailing newline, and says what was cut from its middle to fit the
 * buffer. */
struct multiline_rec {
	const char *body;
	size_t len;
	int more;            /* plain line: a split line continues */
	uint16_t part;       /* plain line: index of this part */
	int group;           /* 0 plain line, else MULTILINE_PYTHON or _JAVA */
	uint32_t cut_lines;  /* group: whole lines dropped from the middle */
	uint64_t cut_bytes;  /* group: bytes dropped (those lines, long line ends) */
	uint64_t time_ns;    /* group: clock() when its first line came; 0 for a line */
};

typedef void (*multiline_emit_fn)(void *ctx, const struct multiline_rec *r);
typedef uint64_t (*multiline_clock_fn)(void);

struct multiline {
	int mode;             /* enum multiline_mode bits */
	int state;            /* where in a group (multiline.c) */
	int held;             /* chain lines held after the group, multiline.c */
	int long_in_group;    /* the current split line's part 0 went into the group */
	size_t cap;           /* bytes of buf */
	size_t len;           /* bytes in buf: lines, each followed by '\n' */
	size_t head;          /* once cut: buf[0, head) is the kept head */
	uint32_t cut_lines;
	uint64_t cut_bytes;
	uint64_t t0;
	int eg_closed;        /* the last line appended closes an exception group */
	multiline_clock_fn clock; /* may be NULL (time_ns 0) */
	char *buf;            /* cap bytes, owned by the caller */
};

/* Longest group held: cap must be at least this small minimum so that
 * the head (the "Traceback" line) and an end always fit. */
#define MULTILINE_CAP_MIN 256

/* A group whose middle lost more than this many bytes is given up: it is
 * emitted as it stands and the following lines are plain lines again, so
 * that endless indented output after a "Traceback" line is not held. */
#define MULTILINE_CUT_GIVE_UP (1u << 20)

/* The lengths of the two lines that open a group ("Traceback (most recent
 * call last):" and its exception-group form): the hot-path test. */
#define MULTILINE_OPEN_TB_LEN 34
#define MULTILINE_OPEN_EG_LEN 54

/* 1 when multiline_line() would pass this line on unchanged without
 * looking at its bytes (nothing held, not an opener's length): lets the
 * caller skip the call. Inline: the cost of a captured line. */
static inline int multiline_passes(const struct multiline *ml, size_t len)
{
	return ml->state == 0 && !(ml->mode & MULTILINE_JAVA) && len != MULTILINE_OPEN_TB_LEN &&
	       len != MULTILINE_OPEN_EG_LEN;
}

/* As multiline_passes() for a caller that knows nothing is held (state 0)
 * without reading the state: only the mode, fixed at init, is read. */
static inline int multiline_passes_idle(const struct multiline *ml, size_t len)
{
	return !(ml->mode & MULTILINE_JAVA) && len != MULTILINE_OPEN_TB_LEN &&
	       len != MULTILINE_OPEN_EG_LEN;
}

/* 1 when a group is held (in any state). */
static inline int multiline_holding(const struct multiline *ml)
{
	return ml->state != 0;
}

/* buf: cap >= MULTILINE_CAP_MIN bytes owned by the caller (else no
 * grouping); mode: enum multiline_mode bits (unknown bits ignored). */
void multiline_init(struct multiline *ml, int mode, char *buf, size_t cap,
		    multiline_clock_fn clock);

/*
 * Feeds one line (or part of a split line) as line_split emits it. Emits
 * zero or more records through emit, in order: plain lines at once, a
 * group when a line shows it is over (then the held chain lines, then the
 * line itself as the rules say). With the Python rule alone, a line that
 * cannot start a group costs two length compares when no group is held;
 * the Java rule looks at each line's first word (up to ": ") as well, and
 * holds a line that looks like an exception line ("pkg.Name: message")
 * until the next line shows whether "\tat " frames follow.
 */
void multiline_line(struct multiline *ml, const char *line, size_t len, int more, uint16_t part,
		    multiline_emit_fn emit, void *ctx);

/* Emits whatever is held (a group in any state, then held chain lines);
 * afterwards nothing is held. For exit, _exit and flushes. */
void multiline_flush(struct multiline *ml, multiline_emit_fn emit, void *ctx);

/* 1 when the held Python group looks complete (its exception line came,
 * or an exception group's last closing line), so that a write to the
 * other stream or a fork may emit it with multiline_flush(); 0 otherwise
 * (no group, in the middle of its frames, or a Java stack trace, whose
 * end only the next line on its own stream shows). */
int multiline_complete(const struct multiline *ml);

/* Forgets what is held (a fork child: the parent owns it). */
void multiline_reset(struct multiline *ml);

/* SHMLOG_MULTILINE's value to a mode: NULL or "" -> PYTHON (the
 * default); "off" -> OFF; a comma-separated list of "python" and "java"
 * -> those bits; anything else -> -EINVAL. */
int multiline_parse_mode(const char *s);

#endif
