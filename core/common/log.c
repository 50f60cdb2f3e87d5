/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging: formats "prog: level: message\n" into a stack buffer
 * and hands it to stderr with a single write(2), so that lines from
 * several threads never interleave. Called from every thread of
 * shmlog-collector, shmlog-exporter and shmtop; never from libshmlog.so.
 * Read log.h for the macros that check the level first.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

int log_level = LOG_LVL_INFO;

/* Written once by log_init() before any thread starts, read-only after. */
static char log_prog[64] = "shmlog";

static const char *const log_level_names[] = {
    [LOG_LVL_ERROR] = "error",
    [LOG_LVL_WARN] = "warn",
    [LOG_LVL_INFO] = "info",
    [LOG_LVL_DEBUG] = "debug",
};

void log_init(const char *prog)
{
	const char *base;

	if (!prog || !*prog)
		return;
	base = strrchr(prog, '/');
	base = base ? base + 1 : prog;
	if (!*base)
		return;
	snprintf(log_prog, sizeof(log_prog), "%s", base);
}

void log_msg(int level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	const char *lname = "?";
	int saved_errno = errno; /* so that %m reports the caller's errno */
	va_list ap;
	size_t n;
	int ret;

	if (level >= LOG_LVL_ERROR && level <= LOG_LVL_DEBUG)
		lname = log_level_names[level];
	ret = snprintf(line, sizeof(line), "%s: %s: ", log_prog, lname);
	if (ret < 0)
		goto out;
	n = (size_t)ret < sizeof(line) ? (size_t)ret : sizeof(line) - 1;

	errno = saved_errno;
	va_start(ap, fmt);
	ret = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (ret < 0)
		goto out;
	n += (size_t)ret;
	if (n > sizeof(line) - 2) {
		/* Truncated: mark it so a reader knows the line is incomplete. */
		n = sizeof(line) - 2;
		memcpy(line + n - 3, "...", 3);
	}
	/* Callers may or may not end their message with a newline. */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';

	do {
		ret = (int)write(STDERR_FILENO, line, n);
	} while (ret == -1 && errno == EINTR);
	/* A failed or short write to stderr has nowhere else to be reported. */
out:
	errno = saved_errno;
}
