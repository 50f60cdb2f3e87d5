/* SPDX-License-Identifier: MIT */
/*
 * The spool: the durable hand-off between shmlog-collector (writer) and
 * shmlog-exporter (reader). One file per OTLP request:
 *
 *   <spool>/<signal>/<seq>.pb      seq: 20 decimal digits, so that the
 *                                  lexical order is the numeric order
 *   <spool>/<signal>/.tmp-<seq>    being written; never read
 *   <spool>/quarantine/            corrupt files moved here, counted
 *   <spool>/out/                   embedded default exporter output
 *
 * A file is a 32-byte header (struct spool_file_hdr, little-endian)
 * followed by sf_len bytes of serialized Export*ServiceRequest protobuf.
 * The writer writes header + payload to .tmp-<seq>, fsyncs, renames to
 * <seq>.pb: a reader never sees a partial file. The reader treats every
 * byte as hostile: spool_file_parse() checks magic, version, signal,
 * length against the real size, and both CRCs.
 *
 * Claims: the exporter holds a shared flock(2) on every file it is
 * sending or waiting to retry (spool_claim_file()); the collector deletes
 * a file for the byte budget only under an exclusive, non-blocking lock
 * (spool_drop_file()). So a request is either dropped and counted by the
 * collector or sent by the exporter, never both.
 */
#ifndef CORE_COMMON_SPOOL_FILE_H
#define CORE_COMMON_SPOOL_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_MAGIC "SHMLSPL1"
#define SPOOL_VERSION 1
#define SPOOL_MAX_PAYLOAD (64u << 20) /* OTLP's recommended request cap */

enum spool_signal {
	SPOOL_SIG_LOGS = 1,
	SPOOL_SIG_METRICS = 2,
	SPOOL_SIG_TRACES = 3,
	SPOOL_SIG_NR /* count sentinel, one past the last */
};

/*
 * Byte layout (32 bytes):
 *   0  sf_magic[8]   "SHMLSPL1"
 *   8  sf_version    u16, SPOOL_VERSION
 *  10  sf_signal     u16, enum spool_signal
 *  12  sf_records    u32, number of log records / data points inside
 *  16  sf_len        u64, payload length in bytes
 *  24  sf_crc        u32, CRC32C of the payload
 *  28  sf_hdr_crc    u32, CRC32C of bytes 0..27
 */
struct spool_file_hdr {
	char sf_magic[8];
	uint16_t sf_version;
	uint16_t sf_signal;
	uint32_t sf_records;
	uint64_t sf_len;
	uint32_t sf_crc;
	uint32_t sf_hdr_crc;
};
_Static_assert(sizeof(struct spool_file_hdr) == 32, "spool header size");

/* Directory name of a signal ("logs", "metrics", "traces"), NULL if out of
 * range. */
const char *spool_signal_name(int sig);

/* Fills hdr for a payload. */
void spool_hdr_fill(struct spool_file_hdr *hdr, enum spool_signal sig, const void *payload,
		    size_t len, uint32_t nrecords);

/*
 * Validates a whole file image of size len (header + payload). On success
 * returns 0 and sets *payload / *plen to the payload inside buf.
 * -EBADMSG: bad magic, version, signal, CRC or length (a corrupt file);
 * -EMSGSIZE: payload larger than SPOOL_MAX_PAYLOAD.
 */
int spool_file_parse(const void *buf, size_t len, struct spool_file_hdr *hdr,
		     const void **payload, size_t *plen);

/*
 * Next sequence number: strictly greater than prev and than the current
 * CLOCK_REALTIME in nanoseconds, so that order survives a restart that
 * finds an empty spool.
 */
uint64_t spool_seq_next(uint64_t prev);

/* "<dir>/<signal>/<seq 20 digits>.pb" and the ".tmp-" variant. Return
 * -ENAMETOOLONG when out is too small, else 0. */
int spool_path(char *out, size_t outlen, const char *dir, enum spool_signal sig, uint64_t seq);
int spool_tmp_path(char *out, size_t outlen, const char *dir, enum spool_signal sig,
		   uint64_t seq);

/* Creates <dir>, <dir>/logs, <dir>/metrics, <dir>/traces, <dir>/quarantine
 * and <dir>/out when missing (mode 0750). 0 or -errno. */
int spool_dirs_create(const char *dir);

/* Writes one complete spool file synchronously (tmp, fsync, rename, fsync
 * of the directory). Returns 0 and *seq_out, or -errno. Used by tests and
 * tools; the collector writes through its io_uring loop instead. */
int spool_write_file(const char *dir, enum spool_signal sig, const void *payload, size_t len,
		     uint32_t nrecords, uint64_t *seq_out);

/* Reads and validates one spool file (at most SPOOL_MAX_PAYLOAD + header).
 * On success *buf is malloc'd (caller frees) and payload points inside it.
 * -ENOENT, -EBADMSG, -EMSGSIZE, -ENOMEM, or another -errno. */
int spool_read_file(const char *path, void **buf, struct spool_file_hdr *hdr,
		    const void **payload, size_t *plen);

/*
 * The exporter's read: spool_read_file() under a shared flock(2) that
 * stays held while *fd_out is open, so that spool_drop_file() leaves the
 * file alone. The caller unlinks the file (when acknowledged or dropped)
 * before it closes *fd_out, never after. On success *fd_out is the open
 * descriptor and *buf is malloc'd (caller frees both). -EBUSY: the
 * collector is deleting it right now (treat as gone); -ENOENT (also when
 * it was unlinked between open and lock), -EBADMSG, -EMSGSIZE, -ENOMEM, or
 * another -errno; *fd_out is -1 on failure.
 */
int spool_claim_file(const char *path, int *fd_out, void **buf, struct spool_file_hdr *hdr,
		     const void **payload, size_t *plen);

/*
 * A read buffer that one reader reuses from file to file, so that a
 * stream of requests of similar size does not allocate (and the kernel
 * fault in) a fresh buffer per file. Zero it to start; spool_buf_fini()
 * frees it. Not shared between threads.
 */
struct spool_buf {
	void *data;
	size_t cap;
};

/* Storage a spool_buf keeps between files; a larger file's buffer is
 * freed by spool_buf_trim(), so that one big request does not stay
 * resident. */
#define SPOOL_BUF_KEEP (8u << 20)

/*
 * spool_claim_file() reading into b (grown as needed): on success payload
 * points into b->data and stays valid until the next call with b,
 * spool_buf_trim() or spool_buf_fini(); nothing is for the caller to
 * free but *fd_out. Same returns; on failure b keeps its storage.
 */
int spool_claim_file_buf(const char *path, int *fd_out, struct spool_buf *b,
			 struct spool_file_hdr *hdr, const void **payload, size_t *plen);

/* Frees b's storage when it is larger than SPOOL_BUF_KEEP. Accepts a
 * zeroed b. */
void spool_buf_trim(struct spool_buf *b);

/* Frees b's storage and zeroes it. Accepts a zeroed b. */
void spool_buf_fini(struct spool_buf *b);

/*
 * The collector's budget delete: takes an exclusive flock(2) without
 * waiting, reads the record count from the header (0 when the header is
 * not valid) into *records, unlinks dirfd/name and closes. 0 when it was
 * deleted (and *records are the ones lost); -EBUSY when the exporter has
 * it claimed (nothing done); -ENOENT or another -errno (*records 0).
 */
int spool_drop_file(int dirfd, const char *name, uint32_t *records);

#endif
