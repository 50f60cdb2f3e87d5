/* SPDX-License-Identifier: MIT */
/*
 * Line splitting for captured stdio (see line_split.h). The common case,
 * a write that holds whole lines and no held bytes, emits straight from
 * the caller's buffer with no copy.
 */
#include "line_split.h"

#include <string.h>

void line_split_init(struct line_split *ls, char *buf, size_t cap)
{
	ls->cap = cap;
	ls->len = 0;
	ls->part = 0;
	ls->buf = buf;
}

void line_split_reset(struct line_split *ls)
{
	ls->len = 0;
	ls->part = 0;
}

/* Ends a line: strips one trailing "\r" (CRLF) and emits it as its last
 * part. */
static void end_line(struct line_split *ls, const char *p, size_t n, line_emit_fn emit,
		     void *ctx)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	emit(ctx, p, n, 0, ls->part);
	ls->part = 0;
}

void line_split_feed(struct line_split *ls, const char *p, size_t n, line_emit_fn emit,
		     void *ctx)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t seg = nl ? (size_t)(nl - p) : n;

		if (ls->len == 0) {
			/* Nothing held: emit full parts and whole lines in place. */
			while (seg > ls->cap) {
				emit(ctx, p, ls->cap, 1, ls->part++);
				p += ls->cap;
				n -= ls->cap;
				seg -= ls->cap;
			}
			if (nl) {
				end_line(ls, p, seg, emit, ctx);
				p += seg + 1;
				n -= seg + 1;
				continue;
			}
			memcpy(ls->buf, p, seg);
			ls->len = seg;
			return;
		}
		/* Bytes held: append up to the buffer's capacity. */
		while (seg > 0) {
			size_t room = ls->cap - ls->len;
			size_t take = seg < room ? seg : room;

			memcpy(ls->buf + ls->len, p, take);
			ls->len += take;
			p += take;
			n -= take;
			seg -= take;
			if (ls->len == ls->cap && (seg > 0 || !nl)) {
				if (seg == 0 && !nl)
					return; /* full, but the line may end next */
				emit(ctx, ls->buf, ls->len, 1, ls->part++);
				ls->len = 0;
				if (seg > 0)
					break; /* continue unheld with the rest */
			}
		}
		if (seg > 0)
			continue;
		if (nl) {
			end_line(ls, ls->buf, ls->len, emit, ctx);
			ls->len = 0;
			p++;
			n--;
		}
	}
}

void line_split_flush(struct line_split *ls, line_emit_fn emit, void *ctx)
{
	if (ls->len == 0 && ls->part == 0)
		return;
	emit(ctx, ls->buf, ls->len, 0, ls->part);
	ls->len = 0;
	ls->part = 0;
}

struct level_word {
	const char *w;
	unsigned char len;
	unsigned char sev;
};

static const struct level_word levels[] = {
	{ "TRACE", 5, 1 },    { "DEBUG", 5, 5 },   { "INFO", 4, 9 },
	{ "WARNING", 7, 13 }, { "WARN", 4, 13 },   { "ERROR", 5, 17 },
	{ "CRITICAL", 8, 21 }, { "FATAL", 5, 21 },
};

int line_severity(const char *line, size_t len, const char **word, size_t *wlen)
{
	size_t off = 0;

	if (len > 0 && line[0] == '[')
		off = 1;
	if (len - off < 4 || line[off] < 'C' || line[off] > 'W')
		return 0;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		const struct level_word *l = &levels[i];
		size_t end = off + l->len;

		if (end > len || memcmp(line + off, l->w, l->len) != 0)
			continue;
		if (end < len && line[end] != ':' && line[end] != ' ' && line[end] != ']' &&
		    line[end] != '\t')
			continue;
		*word = line + off;
		*wlen = l->len;
		return l->sev;
	}
	return 0;
}
