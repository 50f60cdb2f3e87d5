/* SPDX-License-Identifier: MIT */
/*
 * The exporter's view of the spool (format in core/common/spool_file.h):
 * the ordered list of complete request files of one signal, and moving a
 * corrupt file into <spool>/quarantine/. Sequence numbers are 20 digits,
 * so sorting names sorts requests in the order the collector wrote them.
 * Called from the exporter's single thread.
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

#endif
