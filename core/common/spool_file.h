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

#endif
