/* SPDX-License-Identifier: MIT */
/*
 * Mapping the shared-memory segment: the collector creates and sizes it,
 * producers and shmtop attach to it. Checks the header before anything is
 * trusted (magic, ABI major, endian, sizes, offsets within the mapping).
 * Library-safe: no logging, no exit; results are -errno.
 */
#ifndef SHM_SEG_H
#define SHM_SEG_H

#include <stddef.h>
#include <stdint.h>

#include "shm_abi.h"

struct seg_geometry {
	uint32_t nrings;
	uint32_t ring_slots; /* power of two */
	uint32_t max_producers;
	uint32_t max_threads;
	uint32_t dead_check_ms;
	uint32_t max_instruments;
	uint32_t max_series;
	uint32_t max_cells;
};

/* A process-local view of a mapped segment. */
struct seg {
	struct shm_seg_hdr *hdr;
	size_t size;
	uint32_t nrings;
	uint32_t slots;
	uint32_t shift;
	uint32_t max_producers;
	uint32_t max_threads;
	uint32_t max_instruments;
	uint32_t max_series;
	uint32_t max_cells;
	uint64_t inst_off;
	uint64_t series_off;
	uint64_t cells_off;
	uint64_t prod_off; /* copies of the header's offsets, validated at */
	uint64_t thr_off;  /* map time: never re-read from shared memory */
	uint64_t ring_off;
	uint64_t ring_stride;
	char name[80]; /* "/shmlog-<ns>" for shm_open */
	/* seg_create(): what was found under the name and replaced (or, on
	 * -EEXIST/-EACCES/-EPERM, could not be removed), "" when the name
	 * was free or the segment was reused. For the collector's log. */
	char replaced[160];
	/* seg_create(): set when an existing segment of another geometry was
	 * reused in its own geometry because replacing it would lose records
	 * (live producers, records not yet spooled): which, and why. */
	char kept[192];
};

/* "/shmlog-<ns>"; -EINVAL when the namespace is empty, too long, or has
 * characters other than [A-Za-z0-9._-]. */
int seg_name(char *out, size_t outlen, const char *ns);

/* Bytes needed for a geometry. */
uint64_t seg_size(const struct seg_geometry *g);

/*
 * Collector: opens the segment of namespace ns. If one exists with the
 * same ABI major and geometry, it is reused as is (its rings hold records
 * not yet spooled) and *reused = 1. One of another geometry that still
 * has a live producer or a record not yet released is reused too, in its
 * own geometry (s->nrings, s->slots... are its values; s->kept says why),
 * because replacing it would lose those records. Otherwise (absent, other ABI, other
 * geometry, or never finished) it is replaced by a fresh one, mode 0600
 * (plus group/other bits of mode), *reused = 0, and s->replaced says what
 * the old one was ("ABI 2.0", "bad magic 0x...", "truncated: ..."). One
 * that cannot be removed (another user's) is left alone: -EACCES or
 * -EPERM, s->replaced says whose it is. -errno on failure.
 */
int seg_create(struct seg *s, const char *ns, const struct seg_geometry *g, unsigned mode,
	       int *reused);

/*
 * Producer / shmtop: maps an existing READY segment read-write (writable
 * = 1) or read-only. -ENOENT: no segment; -EAGAIN: still being built
 * (empty, or a header not yet READY whose magic is ours or still zero);
 * -EPROTO: another magic, other ABI major or a header that does not
 * validate.
 * Async-signal-unsafe (shm_open, mmap); never logs.
 */
int seg_attach(struct seg *s, const char *ns, int writable);

/* Unmaps. Accepts a zeroed struct. */
void seg_detach(struct seg *s);

/* Removes the segment name (collector at exit when asked, tests). */
int seg_unlink(const char *ns);

static inline struct shm_producer *seg_producer(const struct seg *s, uint32_t i)
{
	return (struct shm_producer *)((char *)s->hdr + s->prod_off) + i;
}

static inline struct shm_thread *seg_thread(const struct seg *s, uint32_t i)
{
	return (struct shm_thread *)((char *)s->hdr + s->thr_off) + i;
}

static inline struct shm_instrument *seg_instrument(const struct seg *s, uint32_t i)
{
	return (struct shm_instrument *)((char *)s->hdr + s->inst_off) + i;
}

static inline struct shm_series *seg_series(const struct seg *s, uint32_t i)
{
	return (struct shm_series *)((char *)s->hdr + s->series_off) + i;
}

static inline struct shm_cell *seg_cell(const struct seg *s, uint32_t i)
{
	return (struct shm_cell *)((char *)s->hdr + s->cells_off) + i;
}

static inline struct shm_ring_hdr *seg_ring(const struct seg *s, uint32_t k)
{
	return (struct shm_ring_hdr *)((char *)s->hdr + s->ring_off +
				       (uint64_t)k * s->ring_stride);
}

static inline uint64_t *seg_ring_ctl(const struct seg *s, struct shm_ring_hdr *r)
{
	(void)s;
	return (uint64_t *)((char *)r + SHM_ABI_RING_HDR_SIZE);
}

static inline unsigned char *seg_ring_slots(const struct seg *s, struct shm_ring_hdr *r)
{
	return (unsigned char *)r + SHM_ABI_RING_HDR_SIZE + (uint64_t)s->slots * 8;
}

static inline uint32_t seg_lap(const struct seg *s, uint64_t pos)
{
	return (uint32_t)(pos >> s->shift) + 1;
}

#endif
