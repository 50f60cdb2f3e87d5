/* SPDX-License-Identifier: MIT */
/*
 * shm_abi.h: the layout of the shared-memory segment /dev/shm/shmlog-<ns>.
 * Types and constants only; the single source of truth for the layout,
 * included by the producer library (shm/), the collector (core/) and
 * shmtop (tools/). shm/ABI.md explains it byte by byte and justifies the
 * ring protocol; shm/ring.pml is its Promela model. Read ring_write.c and
 * core/drain.c next.
 *
 * Segment:
 *
 *   0            struct shm_seg_hdr                     (4096 bytes)
 *   sh_prod_off  struct shm_producer[sh_max_producers]  (1024 bytes each)
 *   sh_thr_off   struct shm_thread[sh_max_threads]      (32 bytes each)
 *   sh_inst_off  struct shm_instrument[sh_max_instruments] (512 bytes each)
 *   sh_series_off struct shm_series[sh_max_series]      (256 bytes each)
 *   sh_cells_off struct shm_cell[sh_max_cells]          (1024 bytes each)
 *   sh_ring_off  ring 0, ring 1, ... ring sh_nrings-1    (sh_ring_stride each)
 *
 * Ring k (one per possible CPU), at sh_ring_off + k * sh_ring_stride:
 *
 *   +0                 struct shm_ring_hdr               (192 bytes, 3 lines)
 *   +256               uint64_t ctl[sh_ring_slots]       control words
 *   +256 + 8*slots     slot[sh_ring_slots], 64 bytes each: record bytes
 *
 * Ring protocol ("claim with owner", RING.md design A, one atomic RMW per
 * record). Positions are free-running 64-bit counters; slot = pos & mask;
 * lap(pos) = (uint32_t)(pos >> shift) + 1. Each slot has a control word:
 *
 *   63            32 31 30 29        20 19           0
 *   +---------------+-----+------------+--------------+
 *   |      lap      |state|   nslots   |    owner     |
 *   +---------------+-----+------------+--------------+
 *
 *   FREE(L)          state 0: released by the collector in lap L, so free
 *                    for a record of lap L + 1 (the zeroed segment reads as
 *                    FREE(0): free for lap 1, the first lap)
 *   CLAIMED(L,n,o)   state 1: a record of n slots starting here, lap L,
 *                    being written by thread-table entry o
 *   PUBLISHED(L,n,o) state 2: that record is complete
 *
 * A writer finds the head by following claimed records from a hint (or
 * from rh_tail when the hint is stale), checks the free space against
 * rh_tail, and takes position h with ONE compare-and-swap on ctl[h] from
 * FREE(lap(h) - 1) to CLAIMED(lap(h), n, owner). The claim names its owner
 * in the same instruction, so no reserved slot is ever ownerless. It then
 * stores the payload and publishes with a release store of
 * PUBLISHED(lap(h), n, owner). The collector load-acquires ctl[cursor]:
 * PUBLISHED of the cursor's lap -> copy out, validate; CLAIMED -> the owner
 * is alive (wait) or dead (skip n slots, counted as abandoned); FREE ->
 * nothing more. Slots are released (ctl = FREE(lap), then rh_tail
 * store-release) only once their records are in a fsynced spool file.
 *
 * What a reader sees when a writer dies between claim and publish: a
 * CLAIMED word whose owner thread no longer exists (checked in /proc with
 * its start time, so a reused tid is not taken for it); the collector
 * skips it within sh_dead_check_ms. A stopped writer is alive: its ring
 * waits, and other writers that find it full drop and count.
 */
#ifndef SHM_SHM_ABI_H
#define SHM_SHM_ABI_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_ABI_MAGIC 0x4c4d4853u /* "SHML" little-endian */
#define SHM_ABI_MAJOR 1
#define SHM_ABI_MINOR 4 /* 1.1: SHM_FEAT_LOG_PYTB/JAVATB, SHM_LOG_F_PYTB/JAVATB;
			 * 1.2: sh_drop_noprod; 1.3: the TSC calibration line (sh_tsc_*);
			 * 1.4: pe_full_waits, pe_full_wait_ms (SHMLOG_ON_FULL) */
#define SHM_ABI_ENDIAN 0x01020304u
#define SHM_ABI_SLOT_SIZE 64
#define SHM_ABI_HDR_SIZE 4096
#define SHM_ABI_RING_HDR_SIZE 256 /* ring header area, ctl[] starts here */
#define SHM_ABI_NAME_PREFIX "/shmlog-"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free across processes");
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "64-bit atomics must be lock-free across processes");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free across processes");

/* sh_features: what the collector that built the segment understands.
 * A producer sets a flag that needs a feature only when the bit is set,
 * so that an older collector never sees a record it would reject. */
#define SHM_FEAT_LOG_PYTB 0x0001ull   /* log records may carry SHM_LOG_F_PYTB */
#define SHM_FEAT_LOG_JAVATB 0x0002ull /* log records may carry SHM_LOG_F_JAVATB */

/* Fixed-point shift of sh_tsc_mult (ns per TSC tick << 32). */
#define SHM_TSC_SHIFT 32

/* sh_state */
#define SHM_SEG_INIT 0  /* being built by the collector: do not attach */
#define SHM_SEG_READY 1 /* usable */

/* ---- control words ---------------------------------------------------- */
/* A producer wakes a sleeping collector when its record takes a ring's
 * fill past this fraction of its slots (a quarter: room for the wake-up). */
#define SHM_WAKE_FILL_SHIFT 2

#define SHM_CTL_FREE 0u
#define SHM_CTL_CLAIMED 1u
#define SHM_CTL_PUBLISHED 2u
#define SHM_CTL_OWNER_BITS 20
#define SHM_CTL_NSLOTS_BITS 10
#define SHM_CTL_MAX_OWNER ((1u << SHM_CTL_OWNER_BITS) - 1)
#define SHM_CTL_MAX_NSLOTS ((1u << SHM_CTL_NSLOTS_BITS) - 1) /* 1023 slots */
#define SHM_CTL_MAKE(lap, state, n, owner)                                                   \
	(((uint64_t)(uint32_t)(lap) << 32) | ((uint64_t)(state) << 30) |                    \
	 ((uint64_t)(n) << SHM_CTL_OWNER_BITS) | (uint64_t)(owner))
#define SHM_CTL_LAP(w) ((uint32_t)((w) >> 32))
#define SHM_CTL_STATE(w) ((uint32_t)(((w) >> 30) & 3u))
#define SHM_CTL_NSLOTS(w) ((uint32_t)(((w) >> SHM_CTL_OWNER_BITS) & SHM_CTL_MAX_NSLOTS))
#define SHM_CTL_OWNER(w) ((uint32_t)((w) & SHM_CTL_MAX_OWNER))

/* ---- segment header ----------------------------------------------------
 *
 *    0 sh_magic        4 sh_abi_major/minor  8 sh_hdr_size   12 sh_endian
 *   16 sh_seg_size    24 sh_features        32 sh_state      36 sh_nrings
 *   40 sh_ring_slots  44 sh_max_producers   48 sh_max_threads 52 sh_dead_check_ms
 *   56 sh_prod_off    64 sh_thr_off         72 sh_ring_off   80 sh_ring_stride
 *   88 sh_epoch       96 sh_create_ns      104 sh_max_instruments
 *  108 sh_max_series 112 sh_inst_off       120 sh_series_off
 *  128 collector line (heartbeat, counters, dictionary refusals, sh_drop_noprod)
 *  256 sh_wake (futex word, its own line)
 *  320 sh_spool_dir[256]
 *  576 sh_max_cells  584 sh_cells_off  592 reserved
 *  640 TSC calibration line (sh_tsc_seq .. sh_tsc_max_delta, ABI 1.3)
 *  704 reserved to 4096
 *
 * Immutable fields are written by the collector while sh_state is
 * SHM_SEG_INIT and published by the store-release of SHM_SEG_READY;
 * readers load-acquire sh_state first.
 */
struct shm_seg_hdr {
	uint32_t sh_magic;         /* collector at init; immutable */
	uint16_t sh_abi_major;     /* collector at init; immutable */
	uint16_t sh_abi_minor;     /* collector at init; immutable */
	uint32_t sh_hdr_size;      /* collector at init; immutable: SHM_ABI_HDR_SIZE */
	uint32_t sh_endian;        /* collector at init; immutable: SHM_ABI_ENDIAN */
	uint64_t sh_seg_size;      /* collector at init; immutable: bytes mapped */
	uint64_t sh_features;      /* collector at init; immutable: SHM_FEAT_* bits */
	uint32_t sh_state;         /* collector; release store / acquire load */
	uint32_t sh_nrings;        /* collector at init; immutable */
	uint32_t sh_ring_slots;    /* collector at init; immutable: power of two */
	uint32_t sh_max_producers; /* collector at init; immutable */
	uint32_t sh_max_threads;   /* collector at init; immutable, <= SHM_CTL_MAX_OWNER */
	uint32_t sh_dead_check_ms; /* collector at init; immutable */
	uint64_t sh_prod_off;      /* collector at init; immutable */
	uint64_t sh_thr_off;       /* collector at init; immutable */
	uint64_t sh_ring_off;      /* collector at init; immutable */
	uint64_t sh_ring_stride;   /* collector at init; immutable */
	uint64_t sh_epoch;         /* collector at each start; relaxed; shmtop reads */
	uint64_t sh_create_ns;     /* collector at init; immutable */
	uint32_t sh_max_instruments; /* collector at init; immutable */
	uint32_t sh_max_series;      /* collector at init; immutable */
	uint64_t sh_inst_off;        /* collector at init; immutable: instrument table */
	uint64_t sh_series_off;      /* collector at init; immutable: series table */

	/* collector-written line: relaxed stores, read by shmtop */
	alignas(64) uint64_t sh_heartbeat_ns; /* CLOCK_REALTIME of the last loop turn */
	uint32_t sh_collector_pid;
	uint32_t sh_producers_live;
	uint64_t sh_records_in;      /* records drained from all rings */
	uint64_t sh_records_spooled; /* records in spool files (fsynced) */
	uint64_t sh_invalid;         /* records rejected by validation */
	uint64_t sh_abandoned;       /* claims of dead writers skipped */
	uint64_t sh_spool_files;     /* files in the spool at the last scan */
	uint64_t sh_spool_bytes;     /* bytes in the spool at the last scan */
	uint64_t sh_spool_dropped;   /* requests deleted because of the byte budget */
	uint64_t sh_spool_dropped_records;
	uint64_t sh_lag_ns;          /* age of the oldest record not yet spooled */
	uint64_t sh_dict_full;       /* producers, atomic add: registrations refused, full */
	uint64_t sh_overflow;        /* collector: measurements put in overflow series */
	uint64_t sh_drop_noprod;     /* producers, atomic add relaxed (1.2): records
				      * refused because the producer table was full */

	/* 1 while the collector sleeps and wants a wake-up: a producer
	 * whose record fills a ring past SHM_WAKE_FILL CASes it to 0 and
	 * futex-wakes it (shared futex). Own cache line. */
	alignas(64) uint32_t sh_wake;
	uint8_t sh_reserved2[60];

	char sh_spool_dir[256]; /* collector at init; immutable; NUL-terminated */
	uint32_t sh_max_cells;  /* collector at init; immutable: aggregation cells */
	uint32_t sh_reserved3;
	uint64_t sh_cells_off;  /* collector at init; immutable */
	uint8_t sh_reserved4[48];

	/* TSC calibration (ABI 1.3; shm/tsc.h reads it, core/tsc_cal.c
	 * writes it): CLOCK_REALTIME ns = sh_tsc_base_ns + ((tsc -
	 * sh_tsc_base) * sh_tsc_mult >> SHM_TSC_SHIFT) for tsc - sh_tsc_base
	 * < sh_tsc_max_delta. A seqlock: the collector makes sh_tsc_seq odd
	 * (relaxed store, release fence), rewrites the other fields
	 * (relaxed), then store-releases it even; a producer load-acquires
	 * it, loads the fields relaxed, fences acquire, and uses them only
	 * when it reads the same even, non-zero value again. 0 everywhere (a
	 * 1.1 collector, or a TSC the collector does not trust): producers
	 * read CLOCK_REALTIME. Own cache line: rewritten every few ms. */
	alignas(64) uint64_t sh_tsc_seq; /* collector; see above */
	uint64_t sh_tsc_base;            /* collector: TSC of the calibration point */
	uint64_t sh_tsc_base_ns;         /* collector: CLOCK_REALTIME at sh_tsc_base */
	uint64_t sh_tsc_mult;            /* collector: ns per tick << SHM_TSC_SHIFT */
	uint64_t sh_tsc_max_delta;       /* collector: ticks the calibration is good for */
	uint8_t sh_reserved5[24];
	uint8_t sh_reserved6[SHM_ABI_HDR_SIZE - 704];
};
_Static_assert(sizeof(struct shm_seg_hdr) == SHM_ABI_HDR_SIZE, "seg hdr size");
_Static_assert(offsetof(struct shm_seg_hdr, sh_magic) == 0, "sh_magic");
_Static_assert(offsetof(struct shm_seg_hdr, sh_abi_major) == 4, "sh_abi_major");
_Static_assert(offsetof(struct shm_seg_hdr, sh_abi_minor) == 6, "sh_abi_minor");
_Static_assert(offsetof(struct shm_seg_hdr, sh_hdr_size) == 8, "sh_hdr_size");
_Static_assert(offsetof(struct shm_seg_hdr, sh_endian) == 12, "sh_endian");
_Static_assert(offsetof(struct shm_seg_hdr, sh_seg_size) == 16, "sh_seg_size");
_Static_assert(offsetof(struct shm_seg_hdr, sh_features) == 24, "sh_features");
_Static_assert(offsetof(struct shm_seg_hdr, sh_state) == 32, "sh_state");
_Static_assert(offsetof(struct shm_seg_hdr, sh_nrings) == 36, "sh_nrings");
_Static_assert(offsetof(struct shm_seg_hdr, sh_ring_slots) == 40, "sh_ring_slots");
_Static_assert(offsetof(struct shm_seg_hdr, sh_max_producers) == 44, "sh_max_producers");
_Static_assert(offsetof(struct shm_seg_hdr, sh_max_threads) == 48, "sh_max_threads");
_Static_assert(offsetof(struct shm_seg_hdr, sh_dead_check_ms) == 52, "sh_dead_check_ms");
_Static_assert(offsetof(struct shm_seg_hdr, sh_prod_off) == 56, "sh_prod_off");
_Static_assert(offsetof(struct shm_seg_hdr, sh_thr_off) == 64, "sh_thr_off");
_Static_assert(offsetof(struct shm_seg_hdr, sh_ring_off) == 72, "sh_ring_off");
_Static_assert(offsetof(struct shm_seg_hdr, sh_ring_stride) == 80, "sh_ring_stride");
_Static_assert(offsetof(struct shm_seg_hdr, sh_epoch) == 88, "sh_epoch");
_Static_assert(offsetof(struct shm_seg_hdr, sh_create_ns) == 96, "sh_create_ns");
_Static_assert(offsetof(struct shm_seg_hdr, sh_max_instruments) == 104, "sh_max_instruments");
_Static_assert(offsetof(struct shm_seg_hdr, sh_max_series) == 108, "sh_max_series");
_Static_assert(offsetof(struct shm_seg_hdr, sh_inst_off) == 112, "sh_inst_off");
_Static_assert(offsetof(struct shm_seg_hdr, sh_series_off) == 120, "sh_series_off");
_Static_assert(offsetof(struct shm_seg_hdr, sh_heartbeat_ns) == 128, "sh_heartbeat_ns");
_Static_assert(offsetof(struct shm_seg_hdr, sh_collector_pid) == 136, "sh_collector_pid");
_Static_assert(offsetof(struct shm_seg_hdr, sh_producers_live) == 140, "sh_producers_live");
_Static_assert(offsetof(struct shm_seg_hdr, sh_records_in) == 144, "sh_records_in");
_Static_assert(offsetof(struct shm_seg_hdr, sh_records_spooled) == 152, "sh_records_spooled");
_Static_assert(offsetof(struct shm_seg_hdr, sh_invalid) == 160, "sh_invalid");
_Static_assert(offsetof(struct shm_seg_hdr, sh_abandoned) == 168, "sh_abandoned");
_Static_assert(offsetof(struct shm_seg_hdr, sh_spool_files) == 176, "sh_spool_files");
_Static_assert(offsetof(struct shm_seg_hdr, sh_spool_bytes) == 184, "sh_spool_bytes");
_Static_assert(offsetof(struct shm_seg_hdr, sh_spool_dropped) == 192, "sh_spool_dropped");
_Static_assert(offsetof(struct shm_seg_hdr, sh_spool_dropped_records) == 200, "sh_spool_dropped_records");
_Static_assert(offsetof(struct shm_seg_hdr, sh_lag_ns) == 208, "sh_lag_ns");
_Static_assert(offsetof(struct shm_seg_hdr, sh_dict_full) == 216, "sh_dict_full");
_Static_assert(offsetof(struct shm_seg_hdr, sh_overflow) == 224, "sh_overflow");
_Static_assert(offsetof(struct shm_seg_hdr, sh_wake) == 256, "sh_wake");
_Static_assert(offsetof(struct shm_seg_hdr, sh_spool_dir) == 320, "sh_spool_dir");
_Static_assert(offsetof(struct shm_seg_hdr, sh_drop_noprod) == 232, "sh_drop_noprod");
_Static_assert(offsetof(struct shm_seg_hdr, sh_max_cells) == 576, "sh_max_cells");
_Static_assert(offsetof(struct shm_seg_hdr, sh_cells_off) == 584, "sh_cells_off");
_Static_assert(offsetof(struct shm_seg_hdr, sh_tsc_seq) == 640, "sh_tsc_seq");
_Static_assert(offsetof(struct shm_seg_hdr, sh_tsc_base) == 648, "sh_tsc_base");
_Static_assert(offsetof(struct shm_seg_hdr, sh_tsc_base_ns) == 656, "sh_tsc_base_ns");
_Static_assert(offsetof(struct shm_seg_hdr, sh_tsc_mult) == 664, "sh_tsc_mult");
_Static_assert(offsetof(struct shm_seg_hdr, sh_tsc_max_delta) == 672, "sh_tsc_max_delta");

/* ---- producer table ----------------------------------------------------
 * One entry per attached process. pe_claim names the entry's owner from
 * the instant it is taken: a producer CASes it from 0 to
 * SHM_PE_CLAIM(pid, SHM_PE_FILLING), fills the rest, then store-releases
 * SHM_PE_CLAIM(pid, SHM_PE_READY). The collector load-acquires pe_claim,
 * copies the entry and checks every string's length; it frees entries of
 * dead processes (store 0) once no record of theirs can remain in a ring,
 * and bumps pe_gen so that a record of the old owner is told apart.
 *
 *    0 pe_claim      8 pe_gen     12 pe_pid     16 pe_uid     20 pe_ppid
 *   24 pe_start_ticks 32 pe_drops  40 pe_drop_nothr 48 pe_attach_ns
 *   56 pe_full_waits 60 pe_full_wait_ms  64 pe_exe[64] 128 pe_service[128] 256 pe_container[80]
 *  336 pe_cmdline[368] 704 pe_res_attrs[320]  1024 end
 */
#define SHM_PE_FREE 0u
#define SHM_PE_FILLING 1u
#define SHM_PE_READY 2u
#define SHM_PE_CLAIM(pid, st) (((uint64_t)(uint32_t)(pid) << 32) | (uint32_t)(st))
#define SHM_PE_CLAIM_PID(w) ((uint32_t)((w) >> 32))
#define SHM_PE_CLAIM_STATE(w) ((uint32_t)(w))

struct shm_producer {
	uint64_t pe_claim;       /* producer CAS / release; collector acquire, frees */
	uint32_t pe_gen;         /* collector bumps when freeing; producer copies at claim */
	uint32_t pe_pid;         /* producer while FILLING; then immutable */
	uint32_t pe_uid;         /* producer while FILLING; then immutable */
	uint32_t pe_ppid;        /* producer while FILLING; then immutable */
	uint64_t pe_start_ticks; /* producer while FILLING: /proc/self/stat field 22 */
	uint64_t pe_drops;       /* producer: atomic add, relaxed: records dropped, ring full */
	uint64_t pe_drop_nothr;  /* producer: atomic add, relaxed: dropped, no thread entry */
	uint64_t pe_attach_ns;   /* producer while FILLING: CLOCK_REALTIME at attach */
	uint32_t pe_full_waits;   /* producer: atomic add, relaxed: records that waited for
				  * room (SHMLOG_ON_FULL=wait:ms; ABI 1.4, was reserved);
				  * wraps at 2^32 */
	uint32_t pe_full_wait_ms; /* producer: atomic add, relaxed: ms those waits took;
				  * wraps at 2^32 (ABI 1.4) */
	char pe_exe[64];         /* producer while FILLING; NUL-terminated, untrusted */
	char pe_service[128];    /* OTEL_SERVICE_NAME or empty; untrusted */
	char pe_container[80];   /* container id from /proc/self/cgroup or empty */
	char pe_cmdline[368];    /* args joined by spaces, truncated; untrusted */
	char pe_res_attrs[320];  /* OTEL_RESOURCE_ATTRIBUTES verbatim, truncated */
};
_Static_assert(sizeof(struct shm_producer) == 1024, "producer entry size");
_Static_assert(offsetof(struct shm_producer, pe_claim) == 0, "pe_claim");
_Static_assert(offsetof(struct shm_producer, pe_gen) == 8, "pe_gen");
_Static_assert(offsetof(struct shm_producer, pe_pid) == 12, "pe_pid");
_Static_assert(offsetof(struct shm_producer, pe_uid) == 16, "pe_uid");
_Static_assert(offsetof(struct shm_producer, pe_ppid) == 20, "pe_ppid");
_Static_assert(offsetof(struct shm_producer, pe_start_ticks) == 24, "pe_start_ticks");
_Static_assert(offsetof(struct shm_producer, pe_drops) == 32, "pe_drops");
_Static_assert(offsetof(struct shm_producer, pe_drop_nothr) == 40, "pe_drop_nothr");
_Static_assert(offsetof(struct shm_producer, pe_attach_ns) == 48, "pe_attach_ns");
_Static_assert(offsetof(struct shm_producer, pe_full_waits) == 56, "pe_full_waits");
_Static_assert(offsetof(struct shm_producer, pe_full_wait_ms) == 60, "pe_full_wait_ms");
_Static_assert(offsetof(struct shm_producer, pe_exe) == 64, "pe_exe");
_Static_assert(offsetof(struct shm_producer, pe_service) == 128, "pe_service");
_Static_assert(offsetof(struct shm_producer, pe_container) == 256, "pe_container");
_Static_assert(offsetof(struct shm_producer, pe_cmdline) == 336, "pe_cmdline");
_Static_assert(offsetof(struct shm_producer, pe_res_attrs) == 704, "pe_res_attrs");

/* ---- thread table ------------------------------------------------------
 * One entry per writing thread: the owner named in control words. A thread
 * CASes te_tid from 0 to its tid (naming the entry in that instruction),
 * then fills the rest and store-releases te_ready = 1. It clears te_tid at
 * thread exit. The collector frees entries of dead threads once no claim
 * of theirs is left in any ring.
 *
 *    0 te_tid  4 te_pid  8 te_start_ticks  16 te_producer  20 te_pgen
 *   24 te_ready  28 te_reserved  32 end
 */
struct shm_thread {
	uint32_t te_tid;         /* writer thread CAS 0 -> tid; itself or collector store 0 */
	uint32_t te_pid;         /* writer while te_ready == 0 */
	uint64_t te_start_ticks; /* writer while te_ready == 0: /proc/self/task/tid/stat 22 */
	uint32_t te_producer;    /* writer while te_ready == 0: producer table index */
	uint32_t te_pgen;        /* writer while te_ready == 0: that entry's pe_gen */
	uint32_t te_ready;       /* writer release 1; collector acquire */
	uint32_t te_reserved;
};
_Static_assert(sizeof(struct shm_thread) == 32, "thread entry size");
_Static_assert(offsetof(struct shm_thread, te_tid) == 0, "te_tid");
_Static_assert(offsetof(struct shm_thread, te_pid) == 4, "te_pid");
_Static_assert(offsetof(struct shm_thread, te_start_ticks) == 8, "te_start_ticks");
_Static_assert(offsetof(struct shm_thread, te_producer) == 16, "te_producer");
_Static_assert(offsetof(struct shm_thread, te_pgen) == 20, "te_pgen");
_Static_assert(offsetof(struct shm_thread, te_ready) == 24, "te_ready");
_Static_assert(offsetof(struct shm_thread, te_reserved) == 28, "te_reserved");

/* ---- ring header -------------------------------------------------------
 *    0 immutable line: rh_magic rh_index rh_slots rh_shift
 *   64 producer line:  rh_hint rh_drops rh_drop_bytes
 *  128 collector line: rh_tail rh_cursor rh_records rh_invalid rh_abandoned
 */
#define SHM_RING_MAGIC 0x474e4952u /* "RING" */

struct shm_ring_hdr {
	uint32_t rh_magic; /* collector at init; immutable */
	uint32_t rh_index; /* collector at init; immutable */
	uint32_t rh_slots; /* collector at init; immutable, == sh_ring_slots */
	uint32_t rh_shift; /* collector at init; immutable, log2(rh_slots) */
	uint8_t rh_reserved0[48];

	alignas(64) uint64_t rh_hint; /* producers: relaxed; a record boundary <= head */
	uint64_t rh_drops;            /* producers: atomic add relaxed: records dropped */
	uint64_t rh_drop_bytes;       /* producers: atomic add relaxed */
	uint8_t rh_reserved1[40];

	alignas(64) uint64_t rh_tail; /* collector: release after ctl[] FREE stores;
				       * producers acquire. Positions < rh_tail are released. */
	uint64_t rh_cursor;           /* collector: relaxed; next position to read (shmtop) */
	uint64_t rh_records;          /* collector: relaxed; records read from this ring */
	uint64_t rh_invalid;          /* collector: relaxed; records rejected */
	uint64_t rh_abandoned;        /* collector: relaxed; dead writers' claims skipped */
	uint64_t rh_mapplied;         /* collector only: metric records below are already
				       * in the aggregation cells (not applied twice after
				       * a restart) */
	uint8_t rh_reserved2[16];
};
_Static_assert(sizeof(struct shm_ring_hdr) == 192, "ring header size");
_Static_assert(sizeof(struct shm_ring_hdr) <= SHM_ABI_RING_HDR_SIZE, "ring header area");
_Static_assert(offsetof(struct shm_ring_hdr, rh_magic) == 0, "rh_magic");
_Static_assert(offsetof(struct shm_ring_hdr, rh_index) == 4, "rh_index");
_Static_assert(offsetof(struct shm_ring_hdr, rh_slots) == 8, "rh_slots");
_Static_assert(offsetof(struct shm_ring_hdr, rh_shift) == 12, "rh_shift");
_Static_assert(offsetof(struct shm_ring_hdr, rh_hint) == 64, "rh_hint");
_Static_assert(offsetof(struct shm_ring_hdr, rh_drops) == 72, "rh_drops");
_Static_assert(offsetof(struct shm_ring_hdr, rh_drop_bytes) == 80, "rh_drop_bytes");
_Static_assert(offsetof(struct shm_ring_hdr, rh_tail) == 128, "rh_tail");
_Static_assert(offsetof(struct shm_ring_hdr, rh_cursor) == 136, "rh_cursor");
_Static_assert(offsetof(struct shm_ring_hdr, rh_records) == 144, "rh_records");
_Static_assert(offsetof(struct shm_ring_hdr, rh_invalid) == 152, "rh_invalid");
_Static_assert(offsetof(struct shm_ring_hdr, rh_abandoned) == 160, "rh_abandoned");
_Static_assert(offsetof(struct shm_ring_hdr, rh_mapplied) == 168, "rh_mapplied");

/* ---- records -----------------------------------------------------------
 * A record starts at the first byte of its first slot and runs over
 * ceil(rec_len / 64) contiguous slots, wrapping at the end of the slot
 * array. Written by one producer thread between claim and publish; the
 * collector validates all of it.
 *
 *    0 rec_type  1 rec_severity  2 rec_flags  4 rec_len  8 rec_producer
 *   10 rec_pgen  12 rec_reserved  16 rec_time_ns  24 type-specific payload
 */
#define SHM_REC_LOG 1
#define SHM_REC_METRIC 2

struct shm_rec_hdr {
	uint8_t rec_type;      /* SHM_REC_* */
	uint8_t rec_severity;  /* OTel SeverityNumber 0..24 */
	uint16_t rec_flags;    /* SHM_LOG_F_* */
	uint32_t rec_len;      /* bytes including this header, <= nslots * 64 */
	uint16_t rec_producer; /* producer table index; must match the owner's */
	uint16_t rec_pgen;     /* low 16 bits of that entry's pe_gen */
	uint32_t rec_reserved;
	uint64_t rec_time_ns;  /* CLOCK_REALTIME at the call */
};
_Static_assert(sizeof(struct shm_rec_hdr) == 24, "record header size");
_Static_assert(offsetof(struct shm_rec_hdr, rec_type) == 0, "rec_type");
_Static_assert(offsetof(struct shm_rec_hdr, rec_severity) == 1, "rec_severity");
_Static_assert(offsetof(struct shm_rec_hdr, rec_flags) == 2, "rec_flags");
_Static_assert(offsetof(struct shm_rec_hdr, rec_len) == 4, "rec_len");
_Static_assert(offsetof(struct shm_rec_hdr, rec_producer) == 8, "rec_producer");
_Static_assert(offsetof(struct shm_rec_hdr, rec_pgen) == 10, "rec_pgen");
_Static_assert(offsetof(struct shm_rec_hdr, rec_reserved) == 12, "rec_reserved");
_Static_assert(offsetof(struct shm_rec_hdr, rec_time_ns) == 16, "rec_time_ns");

/* rec_flags of SHM_REC_LOG */
#define SHM_LOG_F_STDOUT 0x0001u    /* captured from fd 1: log.iostream=stdout */
#define SHM_LOG_F_STDERR 0x0002u    /* captured from fd 2: log.iostream=stderr */
#define SHM_LOG_F_TRACE 0x0004u     /* struct shm_log_trace follows the log header */
#define SHM_LOG_F_MORE 0x0008u      /* a split line: more parts follow */
#define SHM_LOG_F_PART 0x0010u      /* a split line: lg_part is meaningful */
#define SHM_LOG_F_TRUNCATED 0x0020u /* the API body was cut at SHMLOG_BODY_MAX, or a
				     * multiline group's middle was cut */
#define SHM_LOG_F_PYTB 0x0040u      /* the body is a Python traceback grouped from
				     * captured lines (ABI 1.1; only if the segment
				     * has SHM_FEAT_LOG_PYTB) */
#define SHM_LOG_F_JAVATB 0x0080u    /* the body is a Java stack trace grouped from
				     * captured lines (ABI 1.1, SHM_FEAT_LOG_JAVATB) */
#define SHM_LOG_F_ALL 0x00ffu

/*
 * Log payload after struct shm_rec_hdr:
 *   struct shm_log_hdr                       8 bytes
 *   struct shm_log_trace  (SHM_LOG_F_TRACE)  32 bytes
 *   body[lg_body_len] sevtext[lg_sevtext_len] attrs[lg_attrs_len]
 * Attributes: lg_nattrs entries, each
 *   u8 type (1 str, 2 int, 3 double, 4 bool), u8 key_len, u16 val_len,
 *   key bytes, value bytes (str: val_len bytes; int/double: 8; bool: 1).
 */
struct shm_log_hdr {
	uint16_t lg_body_len;
	uint8_t lg_sevtext_len;
	uint8_t lg_nattrs;
	uint16_t lg_attrs_len;
	uint16_t lg_part; /* index of this part of a split line */
};
_Static_assert(sizeof(struct shm_log_hdr) == 8, "log header size");
_Static_assert(offsetof(struct shm_log_hdr, lg_body_len) == 0, "lg_body_len");
_Static_assert(offsetof(struct shm_log_hdr, lg_sevtext_len) == 2, "lg_sevtext_len");
_Static_assert(offsetof(struct shm_log_hdr, lg_nattrs) == 3, "lg_nattrs");
_Static_assert(offsetof(struct shm_log_hdr, lg_attrs_len) == 4, "lg_attrs_len");
_Static_assert(offsetof(struct shm_log_hdr, lg_part) == 6, "lg_part");

struct shm_log_trace {
	uint8_t lt_trace_id[16];
	uint8_t lt_span_id[8];
	uint8_t lt_flags;
	uint8_t lt_reserved[7];
};
_Static_assert(sizeof(struct shm_log_trace) == 32, "trace size");
_Static_assert(offsetof(struct shm_log_trace, lt_span_id) == 16, "lt_span_id");
_Static_assert(offsetof(struct shm_log_trace, lt_flags) == 24, "lt_flags");

#define SHM_ATTR_STR 1
#define SHM_ATTR_INT 2
#define SHM_ATTR_DOUBLE 3
#define SHM_ATTR_BOOL 4

/* ---- metric dictionary ------------------------------------------------
 * Two open-addressing hash tables, written by producers, read by the
 * collector and producers. An entry is taken by a CAS of its claim word
 * from 0 to SHM_DICT_CLAIM(hash, SHM_DICT_FILLING), which names its hash
 * in the same instruction; it is filled, then store-released READY.
 * Entries are never freed (the segment's life): ids stay valid.
 * Lookup: start at hash % size, probe linearly, stop at a free entry.
 */
#define SHM_DICT_FREE 0u
#define SHM_DICT_FILLING 1u
#define SHM_DICT_READY 2u
#define SHM_DICT_CLAIM(hash, st) (((uint64_t)(uint32_t)(hash) << 32) | (uint32_t)(st))
#define SHM_DICT_HASH(w) ((uint32_t)((w) >> 32))
#define SHM_DICT_STATE(w) ((uint32_t)(w))

#define SHM_INST_COUNTER 1
#define SHM_INST_UPDOWN 2
#define SHM_INST_GAUGE 3
#define SHM_INST_HISTOGRAM 4
#define SHM_INST_MAX_BOUNDS 32

/*
 *    0 in_claim  8 in_kind  12 in_nbounds  16 in_name[96]  112 in_unit[32]
 *  144 in_desc[112]  256 in_bounds[32]  512 end
 */
struct shm_instrument {
	uint64_t in_claim;    /* producer CAS / release; readers acquire */
	uint32_t in_kind;     /* SHM_INST_*; written while FILLING */
	uint32_t in_nbounds;  /* histogram bounds in in_bounds */
	char in_name[96];     /* NUL-terminated; untrusted */
	char in_unit[32];
	char in_desc[112];
	double in_bounds[SHM_INST_MAX_BOUNDS]; /* strictly increasing; untrusted */
};
_Static_assert(sizeof(struct shm_instrument) == 512, "instrument size");
_Static_assert(offsetof(struct shm_instrument, in_kind) == 8, "in_kind");
_Static_assert(offsetof(struct shm_instrument, in_nbounds) == 12, "in_nbounds");
_Static_assert(offsetof(struct shm_instrument, in_name) == 16, "in_name");
_Static_assert(offsetof(struct shm_instrument, in_unit) == 112, "in_unit");
_Static_assert(offsetof(struct shm_instrument, in_desc) == 144, "in_desc");
_Static_assert(offsetof(struct shm_instrument, in_bounds) == 256, "in_bounds");

/*
 *    0 se_claim  8 se_instrument  12 se_attrs_len  14 se_nattrs
 *   15 se_reserved  16 se_attrs[240]  256 end
 * se_attrs: the attribute encoding of log records, keys sorted.
 */
struct shm_series {
	uint64_t se_claim;      /* producer CAS / release; readers acquire */
	uint32_t se_instrument; /* instrument index; written while FILLING */
	uint16_t se_attrs_len;
	uint8_t se_nattrs;
	uint8_t se_reserved;
	unsigned char se_attrs[240];
};
_Static_assert(sizeof(struct shm_series) == 256, "series size");
_Static_assert(offsetof(struct shm_series, se_instrument) == 8, "se_instrument");
_Static_assert(offsetof(struct shm_series, se_attrs_len) == 12, "se_attrs_len");
_Static_assert(offsetof(struct shm_series, se_nattrs) == 14, "se_nattrs");
_Static_assert(offsetof(struct shm_series, se_attrs) == 16, "se_attrs");

/* Metric record payload, after struct shm_rec_hdr: rec_len 40, 1 slot. */
struct shm_metric {
	uint32_t mt_series; /* series index */
	uint32_t mt_kind;   /* SHM_INST_* the producer used; must match */
	double mt_value;
};
_Static_assert(sizeof(struct shm_metric) == 16, "metric size");
_Static_assert(offsetof(struct shm_metric, mt_kind) == 4, "mt_kind");
_Static_assert(offsetof(struct shm_metric, mt_value) == 8, "mt_value");

/* ---- aggregation cells ------------------------------------------------
 * The collector's metric aggregates, one per (series, resource group), in
 * the segment so that a restarted collector continues the same series
 * (DESIGN.md, Collector). Written and read by the collector only (one
 * thread; a successor process sees everything its predecessor stored);
 * shmtop may read them. ce_skey 0: free.
 *
 *    0 ce_skey  8 ce_gkey  16 ce_inst  20 ce_kind  24 ce_nbuckets  28 ce_pid
 *   32 ce_start_ns  40 ce_last_export_ns  48 ce_last_ns  56 ce_count
 *   64 ce_prev_count  72 ce_sum  80 ce_prev_sum  88 ce_min  96 ce_max
 *  104 ce_imin  112 ce_imax  120 ce_last  128 ce_buckets[33]
 *  392 ce_prev_buckets[33]  656 ce_group[128]  784 reserved  1024 end
 */
#define SHM_CELL_BUCKETS (SHM_INST_MAX_BOUNDS + 1)

struct shm_cell {
	uint64_t ce_skey;  /* series id + 1, or the overflow key of an instrument */
	uint64_t ce_gkey;  /* resource group */
	uint32_t ce_inst;
	uint32_t ce_kind;
	uint32_t ce_nbuckets;
	uint32_t ce_pid;   /* the group's process, when grouped per process */
	uint64_t ce_start_ns;
	uint64_t ce_last_export_ns;
	uint64_t ce_last_ns;
	uint64_t ce_count;
	uint64_t ce_prev_count;
	double ce_sum;
	double ce_prev_sum;
	double ce_min;
	double ce_max;
	double ce_imin;
	double ce_imax;
	double ce_last;
	uint64_t ce_buckets[SHM_CELL_BUCKETS];
	uint64_t ce_prev_buckets[SHM_CELL_BUCKETS];
	char ce_group[128]; /* service.name of a per-service group */
	uint8_t ce_reserved[240];
};
_Static_assert(sizeof(struct shm_cell) == 1024, "cell size");
_Static_assert(offsetof(struct shm_cell, ce_start_ns) == 32, "ce_start_ns");
_Static_assert(offsetof(struct shm_cell, ce_sum) == 72, "ce_sum");
_Static_assert(offsetof(struct shm_cell, ce_last) == 120, "ce_last");
_Static_assert(offsetof(struct shm_cell, ce_buckets) == 128, "ce_buckets");
_Static_assert(offsetof(struct shm_cell, ce_prev_buckets) == 392, "ce_prev_buckets");
_Static_assert(offsetof(struct shm_cell, ce_group) == 656, "ce_group");

/* Largest record: 1023 slots. */
#define SHM_REC_MAX_LEN (SHM_CTL_MAX_NSLOTS * SHM_ABI_SLOT_SIZE)

#endif
