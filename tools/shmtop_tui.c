/* SPDX-License-Identifier: MIT */
/*
 * shmtop's interactive screen (contract in shmtop_tui.h). One loop: take a
 * snapshot every interval (the first two 0.5 s apart at most, so that rates
 * show soon), wait for keys in slices of at most 250 ms so that a signal
 * flag is seen promptly, and redraw after each snapshot or key. Keys
 * redraw from the snapshots already taken: rates always cover a whole
 * interval. Everything drawn comes from the reader's bounded, cleaned
 * snapshot; lines are cut to the screen width here. Read shmtop_read.h
 * and shmtop_rate.h first.
 */
#include "shmtop_tui.h"

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shm_abi.h"
#include "shmtop_rate.h"
#include "shmtop_read.h"

#define TUI_FIRST_MS 500 /* at most this long between the first two snapshots */
#define TUI_SLICE_MS 250 /* longest wait for a key before the stop flag is checked */
#define TUI_BAR 20	 /* characters of a ring's fill bar */

static volatile sig_atomic_t tui_stop;

struct tui {
	char ns[72];
	struct shmtop_src src;
	int open;
	struct shmtop_snap prev, cur;
	int have_prev, have_cur;
	char why[320]; /* why nothing is shown, when !have_cur */
	unsigned interval_ms;
	enum shmtop_sort sort;
	int all, help;
	uint32_t scroll; /* first producer row shown */
	uint32_t page;	 /* producer rows that fit, from the last draw */
	double *rates;	 /* cur.nprods entries */
	struct shmtop_row *rows;
	double coverage;
	uint64_t budget;
	uint64_t snap_ms; /* CLOCK_MONOTONIC of the last snapshot attempt */
};

static void on_signal(int sig)
{
	(void)sig;
	tui_stop = 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drop_snaps(struct tui *t)
{
	shmtop_read_free(&t->prev);
	shmtop_read_free(&t->cur);
	t->have_prev = t->have_cur = 0;
}

/* Rates and rows for t->cur; on -ENOMEM the producer list is left empty. */
static void compute(struct tui *t)
{
	uint32_t n = t->cur.nprods;

	free(t->rates);
	free(t->rows);
	t->rates = calloc(n ? n : 1, sizeof(*t->rates));
	t->rows = calloc(n ? n : 1, sizeof(*t->rows));
	if (!t->rates || !t->rows) {
		free(t->rates);
		free(t->rows);
		t->rates = NULL;
		t->rows = NULL;
		return;
	}
	shmtop_rate_producers(&t->cur, t->have_prev ? &t->prev : NULL, t->rates, &t->coverage);
	shmtop_rate_rows(&t->cur, t->rates, t->rows);
}

static void take_snapshot(struct tui *t)
{
	struct shmtop_snap snap;
	int ret;

	t->snap_ms = mono_ms();
	if (t->open && shmtop_read_replaced(&t->src)) {
		shmtop_read_close(&t->src);
		t->open = 0;
		drop_snaps(t);
	}
	if (!t->open) {
		ret = shmtop_read_open(&t->src, t->ns);
		if (ret) {
			shmtop_read_explain(t->why, sizeof(t->why), t->ns, ret);
			shmtop_read_close(&t->src);
			return;
		}
		t->open = 1;
	}
	ret = shmtop_read_snap(&t->src, &snap);
	if (ret) {
		shmtop_read_explain(t->why, sizeof(t->why), t->ns, ret);
		shmtop_read_close(&t->src);
		t->open = 0;
		drop_snaps(t);
		return;
	}
	shmtop_read_free(&t->prev);
	t->prev = t->cur;
	t->have_prev = t->have_cur;
	t->cur = snap;
	t->have_cur = 1;
	compute(t);
}

/* ---- drawing ---------------------------------------------------------- */

/* Writes one line at row y, cut to the screen width at a UTF-8 character
 * boundary; the last row is the footer's. */
static void put(int y, attr_t attr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(int y, attr_t attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t n;

	if (y < 0 || y >= LINES - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	if (COLS > 0 && n > (size_t)COLS) {
		n = (size_t)COLS;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
	}
	attron(attr);
	mvaddnstr(y, 0, buf, (int)n);
	attroff(attr);
}

static const char *human(char *buf, size_t len, uint64_t v)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	unsigned u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", v);
		return buf;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

static const char *rate_str(char *buf, size_t len, double r)
{
	if (r < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", r);
	return buf;
}

static const char *state_name(const struct shmtop_producer *p)
{
	if (!p->alive)
		return "gone";
	switch (p->state) {
	case 'R':
		return "run";
	case 'S':
	case 'I':
		return "sleep";
	case 'D':
		return "disk";
	case 'T':
		return "stopped";
	case 't':
		return "traced";
	case 'Z':
		return "zombie";
	default:
		return "?";
	}
}

static const char *sort_name(enum shmtop_sort s)
{
	return s == SHMTOP_SORT_DROPS ? "drops" : s == SHMTOP_SORT_PID ? "pid" : "rate";
}

static int ring_idle(const struct shmtop_ring *r)
{
	return r->ok && !r->records && !r->drops && !r->used && !r->invalid && !r->abandoned;
}

static int draw_header(const struct tui *t, int y)
{
	const struct shmtop_snap *s = &t->cur;
	const struct exporter_status *e = &s->exp;
	char a[32], b[32], c[32];
	uint64_t now_ms = s->now_ns / 1000000;

	if (s->heartbeat_ns)
		snprintf(a, sizeof(a), "%" PRIu64 " ms ago",
			 s->now_ns > s->heartbeat_ns ? (s->now_ns - s->heartbeat_ns) / 1000000 : 0);
	else
		snprintf(a, sizeof(a), "never");
	put(y++, A_NORMAL,
	    "collector  pid %" PRIu32 " %s  heartbeat %s  lag %" PRIu64 " ms  read %" PRIu64
	    " (%s/s)  spooled %" PRIu64 "  invalid %" PRIu64 "  abandoned %" PRIu64
	    "  producers live %" PRIu32,
	    s->coll_pid, s->coll_alive ? "running" : "NOT RUNNING", a, s->lag_ns / 1000000,
	    s->records_in,
	    rate_str(b, sizeof(b), shmtop_rate_total(s, t->have_prev ? &t->prev : NULL)),
	    s->records_spooled, s->invalid, s->abandoned, s->producers_live);
	put(y++, A_NORMAL,
	    "spool      %s  files %" PRIu64 "  bytes %s of budget %s (shmtop's config)"
	    "  dropped %" PRIu64 " req / %" PRIu64 " rec",
	    s->spool_dir[0] ? s->spool_dir : "(unknown)", s->spool_files,
	    human(a, sizeof(a), s->spool_bytes), human(c, sizeof(c), t->budget), s->spool_dropped,
	    s->spool_dropped_records);
	put(y++, A_NORMAL,
	    "metrics    instruments %" PRIu32 "/%" PRIu32 "  series %" PRIu32 "/%" PRIu32
	    " (%.0f%%)  registrations refused %" PRIu64 "  overflow measurements %" PRIu64 "%s",
	    s->inst_used, s->inst_max, s->series_used, s->series_max,
	    s->series_max ? 100.0 * s->series_used / s->series_max : 0.0, s->dict_full, s->overflow,
	    s->dict_cut ? "  (tables cut short)" : "");
	if (!e->present) {
		put(y++, A_NORMAL,
		    "exporter   no status file in the spool (exporter not started?)");
		return y;
	}
	put(y++, A_NORMAL, "exporter   pid %" PRIu32 " %s  %s  %s  %s  status %" PRIu64 " ms old",
	    e->pid, e->alive ? "running" : "NOT RUNNING",
	    e->endpoint[0] ? e->endpoint : "files in <spool>/out", e->protocol, e->compression,
	    now_ms > e->updated_unix_ms ? now_ms - e->updated_unix_ms : 0);
	if (e->last_http_status > 0)
		snprintf(a, sizeof(a), "%lld in %.1f ms", e->last_http_status, e->last_latency_ms);
	else
		snprintf(a, sizeof(a), "%s",
			 e->last_http_status < 0 ? "connection error" : "none yet");
	put(y++, A_NORMAL,
	    "           last %s  error %s  sent %" PRIu64 " req / %" PRIu64 " rec  retries %" PRIu64
	    "  dropped %" PRIu64 " req / %" PRIu64 " rec  rejected %" PRIu64
	    "  quarantined %" PRIu64,
	    a, e->last_error[0] ? e->last_error : "-", e->sent_requests, e->sent_records,
	    e->retries, e->dropped_requests, e->dropped_records, e->rejected_records,
	    e->quarantined_files);
	return y;
}

/* Ring rows, at most max of them. */
static int draw_rings(const struct tui *t, int y, int max)
{
	const struct shmtop_snap *s = &t->cur;
	const struct shmtop_snap *prev = t->have_prev ? &t->prev : NULL;
	uint32_t shown = 0, idle = 0, cut = 0;
	char bar[TUI_BAR + 1], r1[32], r2[32];

	for (uint32_t k = 0; k < s->nrings_read; k++)
		idle += ring_idle(&s->rings[k]);
	put(y++, A_BOLD, "RINGS %" PRIu32 " x %" PRIu32 " slots%s%s", s->nrings, s->slots,
	    !t->all && idle ? "   idle rings hidden (a: show)" : "",
	    s->nrings_read < s->nrings ? "   (some beyond the end of the file, not read)" : "");
	put(y++, A_UNDERLINE,
	    "RING FILL                          USED/SLOTS      REC/S      DROPS     DROP/S"
	    "    INVALID  ABANDONED");
	for (uint32_t k = 0; k < s->nrings_read; k++) {
		const struct shmtop_ring *r = &s->rings[k];
		double pct = r->slots ? 100.0 * (double)r->used / (double)r->slots : 0;
		unsigned fill = (unsigned)(pct * TUI_BAR / 100.0 + 0.5);

		if (!t->all && ring_idle(r))
			continue;
		if ((int)shown >= max) {
			cut++;
			continue;
		}
		for (unsigned i = 0; i < TUI_BAR; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[TUI_BAR] = '\0';
		put(y++, A_NORMAL,
		    "%4" PRIu32 " [%s] %5.1f%% %9" PRIu64 "/%-9" PRIu64 " %9s %10" PRIu64
		    " %10s %10" PRIu64 " %10" PRIu64 "%s",
		    r->index, bar, pct, r->used, r->slots,
		    rate_str(r1, sizeof(r1), shmtop_rate_ring(s, prev, k)), r->drops,
		    rate_str(r2, sizeof(r2), shmtop_rate_ring_drops(s, prev, k)), r->invalid,
		    r->abandoned, r->ok ? "" : "  CORRUPT HEADER");
		shown++;
	}
	if (!shown)
		put(y++, A_NORMAL, "     (no ring has records yet)");
	if (cut)
		put(y++, A_NORMAL, "     (+%" PRIu32 " more rings; a larger window shows them)",
		    cut);
	return y;
}

static int draw_producers(struct tui *t, int y)
{
	const struct shmtop_snap *s = &t->cur;
	int bottom = LINES - 1, rows;
	uint32_t n = t->rows ? s->nprods : 0;
	char cov[48] = "", r1[32];

	if (t->have_prev && t->coverage >= 0)
		snprintf(cov, sizeof(cov), "   rates: %.0f%% of records sampled",
			 t->coverage * 100.0);
	put(y++, A_BOLD, "PRODUCERS %" PRIu32 " of %" PRIu32 " entries   sort: %s%s%s", s->nprods,
	    s->max_producers, sort_name(t->sort), cov,
	    s->producers_other ? "   (some not ready, skipped)" : "");
	put(y++, A_UNDERLINE,
	    "     PID STATE         REC/S      DROPS  EXE              SERVICE                 "
	    "         CONTAINER");
	rows = bottom - y;
	t->page = rows > 1 ? (uint32_t)rows : 1;
	if (n <= t->page)
		t->scroll = 0;
	else if (t->scroll > n - t->page)
		t->scroll = n - t->page;
	if (t->rows)
		shmtop_rate_sort(t->rows, n, t->sort);
	for (uint32_t i = t->scroll; i < n && y < bottom; i++) {
		const struct shmtop_row *row = &t->rows[i];
		const struct shmtop_producer *p = &s->prods[row->prod];

		put(y++, A_NORMAL, "%8" PRIu32 " %-7s %11s %10" PRIu64 "  %-16s %-32s %.12s",
		    p->pid, state_name(p), rate_str(r1, sizeof(r1), row->rate), p->drops, p->exe,
		    p->service, p->container);
	}
	if (!n)
		put(y++, A_NORMAL, "     (no producer attached)");
	return y;
}

static void draw_help(int y)
{
	static const char *lines[] = {
	    "Keys",
	    "  q              quit (also Ctrl-C)",
	    "  r  d  p        sort producers by record rate, by drops, by pid",
	    "  +  -           refresh interval one step longer / shorter (0.1 s to 1 h)",
	    "  Up Down        scroll the producer list by one line",
	    "  PgUp PgDn      scroll it by one screen; Home End: to the top / bottom",
	    "  a              show or hide idle rings",
	    "  h  ?           this help; any key closes it",
	    "",
	    "Rates are per second between the last two snapshots. A producer's rate",
	    "is an estimate: shmtop reads the headers of the records the collector",
	    "read (several times a second, while their slots are not yet reused)",
	    "and splits each ring's count among their producers; the producers",
	    "header says which share of the records could be split.",
	    "Spool budget: [spool] max_bytes of shmtop's own configuration (-c).",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		put(y++, i == 0 ? A_BOLD : A_NORMAL, "%s", lines[i]);
}

/* The last row, in reverse video: the keys, the order and the interval. */
static void draw_footer(const struct tui *t)
{
	char foot[256];
	int n;

	n = snprintf(foot, sizeof(foot),
		     " q quit  r/d/p sort (%s)  +/- refresh %.1f s  Up/Down PgUp/PgDn scroll"
		     "  a idle rings  h help ",
		     sort_name(t->sort), t->interval_ms / 1000.0);
	if (n > COLS)
		n = COLS;
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, foot, n > 0 ? n : 0);
	attroff(A_REVERSE);
}

static void draw(struct tui *t)
{
	const struct shmtop_snap *s = &t->cur;
	char when[32] = "";
	int y = 0, max_rings;
	time_t now = time(NULL);
	struct tm tm;

	erase();
	if (localtime_r(&now, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (t->have_cur)
		put(y++, A_BOLD,
		    "shmtop  namespace '%s'  %s  epoch %" PRIu64 "  ABI %" PRIu32 ".%" PRIu32
		    "  refresh %.1f s",
		    t->ns, when, s->epoch, s->abi_major, s->abi_minor, t->interval_ms / 1000.0);
	else
		put(y++, A_BOLD, "shmtop  namespace '%s'  %s  refresh %.1f s", t->ns, when,
		    t->interval_ms / 1000.0);
	if (t->help) {
		draw_help(y + 1);
	} else if (!t->have_cur) {
		put(y + 1, A_NORMAL, "%s", t->why);
		put(y + 2, A_NORMAL, "waiting for the collector: retrying every %.1f s",
		    t->interval_ms / 1000.0);
	} else {
		y = draw_header(t, y);
		y++;
		/* Rings get at most a third of what is left, producers the rest. */
		max_rings = (LINES - y) / 3 - 3;
		if (max_rings < 1)
			max_rings = 1;
		y = draw_rings(t, y, max_rings);
		y++;
		draw_producers(t, y);
	}
	draw_footer(t);
	refresh();
}

/* ---- keys ------------------------------------------------------------- */

/* 1 when the key asks to quit. */
static int key(struct tui *t, int ch)
{
	uint32_t n = t->have_cur ? t->cur.nprods : 0;

	if (ch == 'q' || ch == 'Q')
		return 1;
	if (t->help && ch != KEY_RESIZE) {
		t->help = 0;
		return 0;
	}
	switch (ch) {
	case 'h':
	case '?':
		t->help = 1;
		break;
	case 'r':
		t->sort = SHMTOP_SORT_RATE;
		break;
	case 'd':
		t->sort = SHMTOP_SORT_DROPS;
		break;
	case 'p':
		t->sort = SHMTOP_SORT_PID;
		break;
	case '+':
	case '=':
		t->interval_ms = shmtop_rate_interval_step(t->interval_ms, 1);
		break;
	case '-':
	case '_':
		t->interval_ms = shmtop_rate_interval_step(t->interval_ms, -1);
		break;
	case 'a':
		t->all = !t->all;
		break;
	case KEY_UP:
	case 'k':
		if (t->scroll)
			t->scroll--;
		break;
	case KEY_DOWN:
	case 'j':
		t->scroll++; /* draw_producers() clamps */
		break;
	case KEY_PPAGE:
		t->scroll = t->scroll > t->page ? t->scroll - t->page : 0;
		break;
	case KEY_NPAGE:
		t->scroll += t->page;
		break;
	case KEY_HOME:
		t->scroll = 0;
		break;
	case KEY_END:
		t->scroll = n;
		break;
	default:
		break; /* KEY_RESIZE and anything else: a redraw */
	}
	return 0;
}

int shmtop_tui_run(const char *ns, const struct shmtop_tui_opts *opts)
{
	struct tui t;
	struct sigaction sa;
	SCREEN *scr;
	int in_tty = isatty(STDIN_FILENO);

	memset(&t, 0, sizeof(t));
	snprintf(t.ns, sizeof(t.ns), "%s", ns);
	t.src.fd = -1;
	t.interval_ms = shmtop_rate_interval_step(opts->interval_ms, 0);
	t.all = opts->all;
	t.budget = opts->spool_budget;
	t.coverage = -1;
	snprintf(t.why, sizeof(t.why), "starting");

	/* Ours before ncurses starts: it then leaves SIGINT and SIGTERM to
	 * us and keeps its own SIGWINCH handler, which yields KEY_RESIZE. No
	 * SA_RESTART, so that a wait returns at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	setlocale(LC_ALL, "");
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fprintf(stderr, "shmtop: cannot use the terminal (TERM=%s); try --once or --json\n",
			getenv("TERM") ? getenv("TERM") : "");
		return 2;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);

	take_snapshot(&t);
	draw(&t);
	while (!tui_stop) {
		unsigned wait = t.interval_ms;
		uint64_t now = mono_ms(), due;
		int ch;

		if (t.have_cur && !t.have_prev && wait > TUI_FIRST_MS)
			wait = TUI_FIRST_MS;
		due = t.snap_ms + wait;
		if (now >= due) {
			take_snapshot(&t);
			draw(&t);
			continue;
		}
		if (due - now < TUI_SLICE_MS)
			wait = (unsigned)(due - now);
		else
			wait = TUI_SLICE_MS;
		if (!in_tty) {
			napms((int)wait);
			ch = ERR;
		} else {
			timeout((int)wait);
			ch = getch();
		}
		/* More looks at the rings than snapshots: fewer records are
		 * reused before their headers are sampled. */
		if (t.open)
			shmtop_read_walk(&t.src);
		if (ch == ERR)
			continue;
		if (key(&t, ch))
			break;
		draw(&t);
	}

	endwin();
	delscreen(scr);
	drop_snaps(&t);
	if (t.open)
		shmtop_read_close(&t.src);
	free(t.rates);
	free(t.rows);
	return 0;
}
