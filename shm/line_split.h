/* SPDX-License-Identifier: MIT */
/*
 * Turning the bytes a program writes to fd 1 or 2 into log lines: one
 * record per line without its "\n" (and without a "\r" just before it),
 * empty lines kept, lines longer than the buffer split into numbered
 * parts, a partial last line kept until more bytes, a flush, or exit.
 * Also: the severity of a line from a leading level word. Pure logic, no
 * system calls; the caller serialises calls per stream.
 */
#ifndef SHM_LINE_SPLIT_H
#define SHM_LINE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

/* Called for each finished line or part. more: a split line continues in
 * the next call; part: index of this part (0 for an unsplit line). */
typedef void (*line_emit_fn)(void *ctx, const char *line, size_t len, int more, uint16_t part);

struct line_split {
	size_t cap;     /* longest part, bytes */
	size_t len;     /* bytes held in buf */
	uint16_t part;  /* parts already emitted for the current line */
	char *buf;      /* cap bytes, owned by the caller */
};

void line_split_init(struct line_split *ls, char *buf, size_t cap);

/* Feeds n bytes; emits every complete line and every full part. */
void line_split_feed(struct line_split *ls, const char *p, size_t n, line_emit_fn emit,
		     void *ctx);

/* Emits the held partial line, if any, as the line's last part. */
void line_split_flush(struct line_split *ls, line_emit_fn emit, void *ctx);

/* Forgets held bytes (a fork child: the parent owns them). */
void line_split_reset(struct line_split *ls);

/*
 * Severity of a line from a leading level word, as Python's logging and
 * most loggers print them: optional "[", then DEBUG, INFO, WARN, WARNING,
 * ERROR, CRITICAL, FATAL (or TRACE), upper case, followed by ':', ' ',
 * ']', '\t' or the end. Returns the OTel SeverityNumber (or 0) and sets
 * *word / *wlen to the word as written.
 */
int line_severity(const char *line, size_t len, const char **word, size_t *wlen);

#endif
