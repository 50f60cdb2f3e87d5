/* SPDX-License-Identifier: MIT */
/*
 * Daemon logging: one line per message on stderr, prefixed with the
 * program name and level. Used by shmlog-collector, shmlog-exporter and
 * shmtop; never by libshmlog.so (library code does not log).
 * The macros test the level before evaluating their arguments.
 */
#ifndef CORE_COMMON_LOG_H
#define CORE_COMMON_LOG_H

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3
};

/* The only mutable global besides signal flags (STYLE.md section 10). */
extern int log_level;

/* Sets the program name printed before every line. Not thread-safe. */
void log_init(const char *prog);

/* Prints one line "prog: level: message" to stderr. Thread-safe (one
 * write(2) per line). */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOGE(...) do { if (log_level >= LOG_LVL_ERROR) log_msg(LOG_LVL_ERROR, __VA_ARGS__); } while (0)
#define LOGW(...) do { if (log_level >= LOG_LVL_WARN) log_msg(LOG_LVL_WARN, __VA_ARGS__); } while (0)
#define LOGI(...) do { if (log_level >= LOG_LVL_INFO) log_msg(LOG_LVL_INFO, __VA_ARGS__); } while (0)
#define LOGD(...) do { if (log_level >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
