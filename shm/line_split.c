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

/*
 * Where to cut a full part of n bytes: before a multi-byte UTF-8 sequence
 * that the cut would break (so each part is valid UTF-8 whenever the line
 * is), else at n. Never returns 0.
 */
static size_t utf8_cut(const char *p, size_t n)
{
	for (size_t back = 1; back <= 3 && back < n; back++) {
		unsigned char c = (unsigned char)p[n - back];
		size_t len;

		if ((c & 0xc0) == 0x80)
			continue; /* a continuation byte: look further back */
		len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return len > back ? n - back : n;
	}
	return n;
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
				size_t k = utf8_cut(p, ls->cap);

				emit(ctx, p, k, 1, ls->part++);
				p += k;
				n -= k;
				seg -= k;
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
				size_t k;

				if (seg == 0 && !nl)
					return; /* full, but the line may end next */
				k = utf8_cut(ls->buf, ls->len);
				emit(ctx, ls->buf, k, 1, ls->part++);
				memmove(ls->buf, ls->buf + k, ls->len - k);
				ls->len -= k;
			}
		}
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
