/* SPDX-License-Identifier: MIT */
/*
 * The exporter's view of the spool (format in core/common/spool_file.h):
 * the ordered list of complete request files of one signal, and moving a
 * corrupt file into <spool>/quarantine/, and an inotify descriptor that
 * becomes readable when a request file appears, so that the exporter
 * takes a new file at once instead of at its next periodic rescan.
 * Sequence numbers are 20 digits, so sorting names sorts requests in the
 * order the collector wrote them. Called from the exporter's single
 * thread.
 */
#ifndef EXPORTER_SPOOL_SCAN_H
#define EXPORTER_SPOOL_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_SCAN_NAME_MAX 64

struct spool_scan_entry {
	char name[SPOOL_SCAN_NAME_MAX]; /* "<seq>.pb" */
	uint64_t size;			/* bytes on disk, header included */
};

struct spool_scan_list {
	struct spool_scan_entry *ent; /* sorted by name; owned */
	size_t n;
	size_t cap;
	uint64_t bytes; /* sum of ent[].size */
};

/*
 * Replaces l's contents with the "*.pb" files of <spool_dir>/<signal>/,
 * sorted by name (".tmp-*" files being written, and anything else, are
 * ignored). A missing directory is an empty list. Returns the number of
 * entries, or -errno (-ENOMEM, -EACCES, ...) with l emptied.
 */
int spool_scan_list(const char *spool_dir, int sig, struct spool_scan_list *l);

/* Frees the entries; l may be zeroed or already freed. */
void spool_scan_free(struct spool_scan_list *l);

/* "<spool_dir>/<signal>/<name>"; 0 or -ENAMETOOLONG / -EINVAL. */
int spool_scan_path(char *out, size_t outlen, const char *spool_dir, int sig, const char *name);

/*
 * Moves <spool_dir>/<signal>/<name> to <spool_dir>/quarantine/<signal>-<name>
 * (creating the directory when missing). Returns 0 or -errno.
 */
int spool_scan_quarantine(const char *spool_dir, int sig, const char *name);

/*
 * An inotify descriptor (non-blocking, close-on-exec) watching
 * <spool_dir>/<signal>/ of each of the nsigs signals in sigs for files
 * renamed into it, which is how every complete request appears (write,
 * fsync, rename). Only a hint: an event may be lost (queue overflow) or
 * never come (a file system without inotify), so the caller still
 * rescans periodically. The directories must exist. Returns the
 * descriptor (>= 0; the caller closes it), or -errno (-EMFILE, -ENOSPC
 * when the inotify limits are reached, -ENOENT, ...).
 */
int spool_scan_watch_open(const char *spool_dir, const int *sigs, unsigned nsigs);

/*
 * Reads every pending event from fd (spool_scan_watch_open()) without
 * blocking. Returns 1 when there was at least one (a new file, or a
 * lost-events overflow: rescan), 0 when there was none, or -errno.
 */
int spool_scan_watch_drain(int fd);

#endif
