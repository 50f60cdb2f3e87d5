/* SPDX-License-Identifier: MIT */
/*
 * shmtop's interactive screen (ncurses): a header (namespace, collector,
 * spool, metric dictionary, exporter), the rings, and a scrollable,
 * sortable producer list, redrawn every refresh interval from successive
 * snapshots (shmtop_read.h; rates from shmtop_rate.h). A missing segment,
 * one of another ABI, or one the collector replaced is shown as a message
 * and retried every interval. Keys: q quit; r, d, p sort by rate, drops,
 * pid; + and - change the interval; Up, Down, PgUp, PgDn, Home, End scroll
 * the producers; a shows idle rings; h or ? help. SIGINT, SIGTERM and
 * SIGHUP end it like q, with the terminal restored; SIGWINCH redraws at
 * the new size. Called by shmtop.c on its main thread, once.
 */
#ifndef TOOLS_SHMTOP_TUI_H
#define TOOLS_SHMTOP_TUI_H

#include <stdint.h>

struct shmtop_tui_opts {
	unsigned interval_ms;  /* first refresh interval, clamped to 0.1 .. 3600 s */
	int all;	       /* 1: list idle rings too (key a toggles) */
	uint64_t spool_budget; /* [spool] max_bytes of shmtop's configuration */
};

/*
 * Runs the screen on stdout (input from stdin when it is a terminal) for
 * namespace ns until a quit key or signal. Returns 0, or 2 when the
 * terminal cannot be used (one line on stderr says why).
 */
int shmtop_tui_run(const char *ns, const struct shmtop_tui_opts *opts);

#endif
