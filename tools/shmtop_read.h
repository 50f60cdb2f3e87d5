/* SPDX-License-Identifier: MIT */
/*
 * shmtop's reader: copies what a namespace's segment says (rings,
 * producers, collector counters, metric dictionary use), plus the spool directory and the
 * exporter's status file, into a plain process-local snapshot. Every value
 * read from shared memory is treated as hostile: the geometry comes from
 * seg_attach()'s validated copy and is clamped to the file's real size
 * before each read, counts are clamped, strings are bounded and made valid
 * UTF-8 without control characters, producer entries are copied only when
 * READY and unchanged across the copy. The segment has no per-producer
 * record counter, so shmtop_read_walk() (also run by each snapshot) reads
 * the headers of the records the collector read since the last walk, as
 * far as they are still in their slots, and splits each ring's count of
 * records read among their producers: an estimate of records per
 * producer that shmtop_rate.h turns into rates. Used by shmtop's main
 * thread only;
 * shmtop_print.h formats a snapshot, shmtop_tui.h draws it. Read
 * shm/shm_abi.h first.
 */
#ifndef TOOLS_SHMTOP_READ_H
#define TOOLS_SHMTOP_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exporter_status.h"
#include "seg.h"

struct shmtop_walk;

struct shmtop_src {
	struct seg seg;
	int fd;	   /* the same object, kept open to re-check its size */
	dev_t dev; /* identity of the mapped object, to notice that */
	ino_t ino; /* the collector replaced the segment */
	char ns[72];
	struct shmtop_walk *walk; /* state of shmtop_read_walk(), malloc'ed */
};

struct shmtop_ring {
	uint32_t index;
	uint32_t ok; /* rh_magic and rh_index are what seg_create() wrote */
	uint64_t slots;
	uint64_t used;	  /* max(rh_hint, rh_cursor) - rh_tail, clamped to [0, slots] */
	uint64_t records; /* rh_records: records the collector read */
	uint64_t drops;
	uint64_t drop_bytes;
	uint64_t invalid;
	uint64_t abandoned;
};

struct shmtop_producer {
	uint32_t index;
	uint32_t pid;
	uint32_t uid;
	uint32_t gen;	/* pe_gen: records carry its low 16 bits */
	int alive;	/* 1: the process exists with the registered start time */
	char state;	/* /proc/<pid>/stat state letter (R, S, D, T, Z, ...); '?' unknown */
	double records_est; /* records read of this entry and generation since
			     * shmtop attached, estimated by the walks */
	uint64_t drops; /* pe_drops + pe_drop_nothr, saturating */
	uint32_t full_waits;   /* pe_full_waits: records that waited for room (ABI 1.2) */
	uint32_t full_wait_ms; /* pe_full_wait_ms: the time they waited */
	uint64_t attach_ns;
	char exe[65];
	char service[160]; /* pe_service, or "unknown_service:<exe>" when empty */
	char container[81];
};


struct shmtop_snap {
	char ns[72];
	uint64_t now_ns;  /* CLOCK_REALTIME when taken */
	uint64_t mono_ns; /* CLOCK_MONOTONIC when taken, for rates */
	uint32_t abi_major;
	uint32_t abi_minor;
	uint64_t epoch;
	uint64_t create_ns;
	uint32_t slots;
	uint32_t nrings;	   /* in the header */
	uint32_t max_producers;	   /* in the header */
	uint32_t producers_other;  /* entries taken but not READY, or torn: skipped */
	uint32_t nrings_read;	   /* rings inside the file's real size */
	struct shmtop_ring *rings; /* nrings_read entries */
	uint32_t nprods;
	struct shmtop_producer *prods; /* READY entries, by table index */
	/* records read since shmtop attached, as the walks accounted for
	 * them: split among producers by sampled headers, or not split (all
	 * of a ring's records between two walks gone before it looked) */
	double est_split;
	double est_unsplit;

	uint32_t coll_pid;
	int coll_alive;
	uint32_t producers_live;
	uint64_t heartbeat_ns; /* 0: never */
	uint64_t records_in;
	uint64_t records_spooled;
	uint64_t invalid;
	uint64_t abandoned;
	uint64_t lag_ns;

	/* metric dictionary: entries whose claim word is non-zero (taken,
	 * whatever their state), among the tables' sizes from seg_attach() */
	uint32_t inst_used;
	uint32_t inst_max;
	uint32_t series_used;
	uint32_t series_max;
	int dict_cut;	       /* 1: part of a table lies beyond the file's end, not read */
	uint64_t dict_full;    /* sh_dict_full: registrations refused, dictionary full */
	uint64_t overflow;     /* sh_overflow: measurements put in overflow series */

	char spool_dir[256]; /* "" when the header's is not an absolute path */
	uint64_t spool_files;
	uint64_t spool_bytes;
	uint64_t spool_dropped;
	uint64_t spool_dropped_records;
	long long spool_logs_now; /* *.pb files in <spool>/logs now; -1 unreadable */

	struct exporter_status exp;
};

/*
 * Attaches read-only to namespace ns (seg_attach(), which validates the
 * header) and keeps a descriptor of the same object. Returns 0, or
 * -ENOENT (no segment), -EAGAIN (still being built), -EPROTO (other ABI
 * or a header that does not validate), -EINVAL (bad namespace name), or
 * another -errno. src needs no initialisation.
 */
int shmtop_read_open(struct shmtop_src *src, const char *ns);

/* Unmaps and closes. Accepts any src that went through
 * shmtop_read_open(), successful or not, and a closed one. */
void shmtop_read_close(struct shmtop_src *src);

/* 1 when /dev/shm/shmlog-<ns> is now absent or another object than the
 * one mapped (the collector recreated it), else 0. */
int shmtop_read_replaced(const struct shmtop_src *src);

/*
 * Fills snap from the mapped segment, the spool and the exporter status
 * file. snap is overwritten (call shmtop_read_free() on a previous one
 * first). Returns 0, -EPROTO when the file shrank below its header, or
 * -ENOMEM. On failure snap holds nothing to free.
 */
int shmtop_read_snap(struct shmtop_src *src, struct shmtop_snap *snap);

/*
 * Walks each ring from where the last walk stopped to rh_cursor (at most
 * SHMTOP_WALK_MAX records a ring; rh_tail when the last position is
 * unknown or was overwritten) and adds the ring's records read since the
 * last walk to the estimates, split in proportion to the producers (table
 * index and generation) named by the headers it could read. A header is
 * used only if its slot was not reused: its control word names it
 * PUBLISHED, or FREE (released) in its own lap, before and after the
 * copy, and a released slot is more than one maximum record from the
 * writers' hint of the next lap. Never fails: what it cannot read is
 * counted as not split. Cheap enough to call a few times a second.
 */
void shmtop_read_walk(struct shmtop_src *src);

#define SHMTOP_WALK_MAX 65536u

/* Frees the arrays of a snapshot. Accepts a zeroed snapshot. */
void shmtop_read_free(struct shmtop_snap *snap);

/*
 * One line (no "shmtop: " prefix, no newline) into buf saying why
 * namespace ns cannot be shown; err is what shmtop_read_open() returned.
 * For another ABI it names both versions, read with read(2) so that
 * nothing is mapped. Always NUL-terminates buf (len > 0).
 */
void shmtop_read_explain(char *buf, size_t len, const char *ns, int err);

#endif
