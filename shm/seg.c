/* SPDX-License-Identifier: MIT */
/*
 * Creating (collector) and attaching to (producers, shmtop) the segment.
 * The header is validated against the real mapping size before any
 * offset is used: a segment of another ABI or a corrupt one is refused,
 * never guessed at (STYLE.md section 7).
 */
#include "seg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm_atomic.h"

int seg_name(char *out, size_t outlen, const char *ns)
{
	size_t n = ns ? strlen(ns) : 0;

	if (n == 0 || n > 64)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = ns[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return -EINVAL;
	}
	if (ns[0] == '.')
		return -EINVAL;
	if (strlen(SHM_ABI_NAME_PREFIX) + n + 1 > outlen)
		return -ENAMETOOLONG;
	strcpy(out, SHM_ABI_NAME_PREFIX);
	strcat(out, ns);
	return 0;
}

static uint64_t ring_stride(uint32_t slots)
{
	return SHM_ABI_RING_HDR_SIZE + (uint64_t)slots * 8 + (uint64_t)slots * SHM_ABI_SLOT_SIZE;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

struct seg_layout {
	uint64_t prod, thr, inst, series, cells, ring, total;
};

static void layout(const struct seg_geometry *g, struct seg_layout *l)
{
	l->prod = SHM_ABI_HDR_SIZE;
	l->thr = align_up(l->prod + (uint64_t)g->max_producers * sizeof(struct shm_producer), 4096);
	l->inst = align_up(l->thr + (uint64_t)g->max_threads * sizeof(struct shm_thread), 4096);
	l->series = align_up(l->inst + (uint64_t)g->max_instruments * sizeof(struct shm_instrument),
			     4096);
	l->cells = align_up(l->series + (uint64_t)g->max_series * sizeof(struct shm_series), 4096);
	l->ring = align_up(l->cells + (uint64_t)g->max_cells * sizeof(struct shm_cell), 4096);
	l->total = align_up(l->ring + (uint64_t)g->nrings * ring_stride(g->ring_slots), 4096);
}

uint64_t seg_size(const struct seg_geometry *g)
{
	struct seg_layout l;

	layout(g, &l);
	return l.total;
}

static uint32_t log2u(uint32_t v)
{
	uint32_t s = 0;

	while ((1u << s) < v)
		s++;
	return s;
}

/* Checks a mapped header against the mapping size and fills the local
 * view. Everything read here is treated as hostile. */
static int seg_validate(struct seg *s, const struct shm_seg_hdr *h, size_t maplen)
{
	struct seg_layout l;
	struct seg_geometry g;

	if (maplen < SHM_ABI_HDR_SIZE)
		return -EPROTO;
	if (h->sh_magic != SHM_ABI_MAGIC || h->sh_abi_major != SHM_ABI_MAJOR ||
	    h->sh_endian != SHM_ABI_ENDIAN || h->sh_hdr_size < 576 ||
	    h->sh_hdr_size > SHM_ABI_HDR_SIZE)
		return -EPROTO;
	g.nrings = h->sh_nrings;
	g.ring_slots = h->sh_ring_slots;
	g.max_producers = h->sh_max_producers;
	g.max_threads = h->sh_max_threads;
	g.max_instruments = h->sh_max_instruments;
	g.max_series = h->sh_max_series;
	g.max_cells = h->sh_max_cells;
	if (g.max_cells > (1u << 24) || g.max_instruments == 0 || g.max_instruments > (1u << 20) || g.max_series == 0 ||
	    g.max_series > (1u << 24))
		return -EPROTO;
	if (g.nrings == 0 || g.nrings > 4096 || g.ring_slots < 64 || g.ring_slots > (1u << 24) ||
	    (g.ring_slots & (g.ring_slots - 1)) || g.max_producers == 0 ||
	    g.max_producers > 65535 || g.max_threads == 0 || g.max_threads > SHM_CTL_MAX_OWNER)
		return -EPROTO;
	layout(&g, &l);
	if (h->sh_prod_off != l.prod || h->sh_thr_off != l.thr || h->sh_ring_off != l.ring ||
	    h->sh_inst_off != l.inst || h->sh_series_off != l.series ||
	    h->sh_cells_off != l.cells ||
	    h->sh_ring_stride != ring_stride(g.ring_slots) || h->sh_seg_size != l.total ||
	    l.total > maplen)
		return -EPROTO;
	s->nrings = g.nrings;
	s->slots = g.ring_slots;
	s->shift = log2u(g.ring_slots);
	s->max_producers = g.max_producers;
	s->max_threads = g.max_threads;
	s->max_instruments = g.max_instruments;
	s->max_series = g.max_series;
	s->max_cells = g.max_cells;
	s->cells_off = l.cells;
	s->prod_off = l.prod;
	s->thr_off = l.thr;
	s->inst_off = l.inst;
	s->series_off = l.series;
	s->ring_off = l.ring;
	s->ring_stride = ring_stride(g.ring_slots);
	return 0;
}

static int same_geometry(const struct seg *s, const struct seg_geometry *g)
{
	return s->nrings == g->nrings && s->slots == g->ring_slots &&
	       s->max_producers == g->max_producers && s->max_threads == g->max_threads &&
	       s->max_instruments == g->max_instruments && s->max_series == g->max_series &&
	       s->max_cells == g->max_cells;
}

static int map_fd(int fd, size_t len, int writable, void **out)
{
	void *p = mmap(NULL, len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

/* Says in s->replaced what the segment of size bytes at hdr is, when it
 * cannot be reused. */
static void describe_stale(struct seg *s, const struct shm_seg_hdr *h, size_t size,
			   const struct seg_geometry *g)
{
	uint32_t magic = h->sh_magic;

	if (magic != SHM_ABI_MAGIC) {
		snprintf(s->replaced, sizeof(s->replaced), "bad magic 0x%08x (%zu bytes)", magic,
			 size);
	} else if (h->sh_abi_major != SHM_ABI_MAJOR || h->sh_endian != SHM_ABI_ENDIAN) {
		snprintf(s->replaced, sizeof(s->replaced), "ABI %u.%u%s (this collector: %d.%d)",
			 h->sh_abi_major, h->sh_abi_minor,
			 h->sh_endian != SHM_ABI_ENDIAN ? ", other byte order" : "", SHM_ABI_MAJOR,
			 SHM_ABI_MINOR);
	} else if (shm_load_acquire(&h->sh_state) != SHM_SEG_READY) {
		snprintf(s->replaced, sizeof(s->replaced),
			 "never finished (state %u): its collector died while creating it",
			 shm_load_relaxed(&h->sh_state));
	} else if (seg_validate(s, h, size)) {
		snprintf(s->replaced, sizeof(s->replaced),
			 "corrupt or truncated (%zu bytes, header says %llu)", size,
			 (unsigned long long)h->sh_seg_size);
	} else {
		snprintf(s->replaced, sizeof(s->replaced),
			 "other geometry (%u rings of %u slots, %u producers; configured: %u of "
			 "%u, %u)",
			 s->nrings, s->slots, s->max_producers, g->nrings, g->ring_slots,
			 g->max_producers);
	}
}

/*
 * Whether the validated segment s still holds what replacing it would
 * lose without a count: a producer whose process is alive (it writes into
 * the old segment until it notices the new one), or a ring with a record
 * at its tail (records from the tail on are not yet in a spool file, and
 * the first one starts at the tail). Says what in why.
 */
static int seg_busy(const struct seg *s, char *why, size_t len)
{
	uint32_t live = 0, rings = 0;

	for (uint32_t i = 0; i < s->max_producers; i++) {
		uint64_t claim = shm_load_acquire(&seg_producer(s, i)->pe_claim);
		uint32_t pid = SHM_PE_CLAIM_PID(claim);

		/* A pid that is someone else's now counts as alive: keeping a
		 * segment is the safe side. */
		if (SHM_PE_CLAIM_STATE(claim) == SHM_PE_READY && pid &&
		    (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			live++;
	}
	for (uint32_t k = 0; k < s->nrings; k++) {
		struct shm_ring_hdr *r = seg_ring(s, k);
		uint64_t tail = shm_load_acquire(&r->rh_tail);
		uint64_t w = shm_load_acquire(&seg_ring_ctl(s, r)[tail & (s->slots - 1)]);

		rings += SHM_CTL_STATE(w) != SHM_CTL_FREE;
	}
	if (!live && !rings)
		return 0;
	snprintf(why, len, "%u live producers, %u rings with records not yet spooled", live, rings);
	return 1;
}

static int try_reuse(struct seg *s, const struct seg_geometry *g)
{
	char why[96];
	struct stat st;
	void *p = NULL;
	int fd, ret;

	fd = shm_open(s->name, O_RDWR | O_CLOEXEC, 0);
	if (fd == -1) {
		ret = -errno;
		if (ret != -ENOENT)
			snprintf(s->replaced, sizeof(s->replaced), "cannot be opened: %s",
				 strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) == -1) {
		ret = -errno;
		close(fd);
		snprintf(s->replaced, sizeof(s->replaced), "cannot be examined: %s",
			 strerror(-ret));
		return ret;
	}
	if (st.st_uid != geteuid()) {
		close(fd);
		snprintf(s->replaced, sizeof(s->replaced), "owned by uid %u, not this user",
			 (unsigned)st.st_uid);
		return -EPROTO;
	}
	if ((size_t)st.st_size < SHM_ABI_HDR_SIZE) {
		close(fd);
		snprintf(s->replaced, sizeof(s->replaced),
			 "truncated: %lld bytes, not even a header", (long long)st.st_size);
		return -EPROTO;
	}
	ret = map_fd(fd, st.st_size, 1, &p);
	close(fd);
	if (ret)
		return ret;
	s->hdr = p;
	s->size = st.st_size;
	/* Pairs with the release store of SHM_SEG_READY below: a segment
	 * whose build finished is complete. */
	if (shm_load_acquire(&s->hdr->sh_state) != SHM_SEG_READY ||
	    seg_validate(s, s->hdr, s->size)) {
		describe_stale(s, s->hdr, s->size, g);
		seg_detach(s);
		return -EPROTO;
	}
	if (!same_geometry(s, g)) {
		/* Another geometry (the configuration changed): replace it only
		 * when that loses nothing; otherwise go on in its geometry. */
		if (seg_busy(s, why, sizeof(why))) {
			snprintf(
			    s->kept, sizeof(s->kept),
			    "%u rings of %u slots, %u producers (configured: %u of %u, %u): %s",
			    s->nrings, s->slots, s->max_producers, g->nrings, g->ring_slots,
			    g->max_producers, why);
			return 0;
		}
		describe_stale(s, s->hdr, s->size, g);
		seg_detach(s);
		return -EPROTO;
	}
	return 0;
}

int seg_create(struct seg *s, const char *ns, const struct seg_geometry *g, unsigned mode,
	       int *reused)
{
	struct shm_seg_hdr *h;
	struct seg_layout l;
	struct timespec ts;
	void *p = NULL;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	ret = seg_name(s->name, sizeof(s->name), ns);
	if (ret)
		return ret;
	if (g->max_threads > SHM_CTL_MAX_OWNER || g->ring_slots < 64 ||
	    (g->ring_slots & (g->ring_slots - 1)))
		return -EINVAL;
	if (try_reuse(s, g) == 0) {
		*reused = 1;
		return 0;
	}
	*reused = 0;
	/* Build under a temporary name and rename into place would be ideal,
	 * but POSIX shm has no rename: unlink and create exclusively; the
	 * header stays SHM_SEG_INIT until everything is in place. */
	/* Absent, or one that cannot be reused (s->replaced says why). */
	if (shm_unlink(s->name) == -1 && errno != ENOENT)
		return -errno;
	fd = shm_open(s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0666);
	if (fd == -1)
		return -errno;
	(void)fchmod(fd, mode & 0666); /* umask must not narrow the configured mode */
	if (!g->max_instruments || !g->max_series) {
		ret = -EINVAL;
		goto err_close;
	}
	layout(g, &l);
	if (ftruncate(fd, l.total) == -1) {
		ret = -errno;
		goto err_close;
	}
	ret = map_fd(fd, l.total, 1, &p);
	if (ret)
		goto err_close;
	close(fd);
	h = p;
	h->sh_magic = SHM_ABI_MAGIC;
	h->sh_abi_major = SHM_ABI_MAJOR;
	h->sh_abi_minor = SHM_ABI_MINOR;
	h->sh_hdr_size = SHM_ABI_HDR_SIZE;
	h->sh_endian = SHM_ABI_ENDIAN;
	h->sh_seg_size = l.total;
	h->sh_features = SHM_FEAT_LOG_PYTB | SHM_FEAT_LOG_JAVATB;
	h->sh_nrings = g->nrings;
	h->sh_ring_slots = g->ring_slots;
	h->sh_max_producers = g->max_producers;
	h->sh_max_threads = g->max_threads;
	h->sh_dead_check_ms = g->dead_check_ms;
	h->sh_max_instruments = g->max_instruments;
	h->sh_max_series = g->max_series;
	h->sh_max_cells = g->max_cells;
	h->sh_cells_off = l.cells;
	h->sh_prod_off = l.prod;
	h->sh_thr_off = l.thr;
	h->sh_inst_off = l.inst;
	h->sh_series_off = l.series;
	h->sh_ring_off = l.ring;
	h->sh_ring_stride = ring_stride(g->ring_slots);
	clock_gettime(CLOCK_REALTIME, &ts);
	h->sh_create_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	s->hdr = h;
	s->size = l.total;
	ret = seg_validate(s, h, l.total);
	if (ret)
		goto err_unmap;
	for (uint32_t k = 0; k < g->nrings; k++) {
		struct shm_ring_hdr *r = seg_ring(s, k);
		r->rh_magic = SHM_RING_MAGIC;
		r->rh_index = k;
		r->rh_slots = g->ring_slots;
		r->rh_shift = s->shift;
	}
	/* Publishes every field above; pairs with the acquire loads of
	 * sh_state in seg_attach() and try_reuse(). */
	shm_store_release(&h->sh_state, SHM_SEG_READY);
	return 0;

err_unmap:
	seg_detach(s);
	(void)shm_unlink(s->name);
	return ret;
err_close:
	close(fd);
	(void)shm_unlink(s->name);
	return ret;
}

int seg_attach(struct seg *s, const char *ns, int writable)
{
	struct stat st;
	void *p = NULL;
	uint32_t magic;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	ret = seg_name(s->name, sizeof(s->name), ns);
	if (ret)
		return ret;
	fd = shm_open(s->name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if ((size_t)st.st_size < SHM_ABI_HDR_SIZE) {
		close(fd);
		return st.st_size == 0 ? -EAGAIN : -EPROTO;
	}
	ret = map_fd(fd, st.st_size, writable, &p);
	close(fd);
	if (ret)
		return ret;
	s->hdr = p;
	s->size = st.st_size;
	/* A header still all zero is being built (seg_create() writes the
	 * magic before READY); any other magic, or our magic with another
	 * major, is refused now: it will never become READY for us. */
	magic = s->hdr->sh_magic;
	if ((magic != 0 && magic != SHM_ABI_MAGIC) ||
	    (magic == SHM_ABI_MAGIC && s->hdr->sh_abi_major != SHM_ABI_MAJOR)) {
		seg_detach(s);
		return -EPROTO;
	}
	/* Pairs with the release store of SHM_SEG_READY in seg_create(). */
	if (shm_load_acquire(&s->hdr->sh_state) != SHM_SEG_READY) {
		seg_detach(s);
		return -EAGAIN;
	}
	ret = seg_validate(s, s->hdr, s->size);
	if (ret) {
		seg_detach(s);
		return ret;
	}
	return 0;
}

void seg_detach(struct seg *s)
{
	if (s->hdr)
		(void)munmap(s->hdr, s->size);
	s->hdr = NULL;
	s->size = 0;
}

int seg_unlink(const char *ns)
{
	char name[80];
	int ret = seg_name(name, sizeof(name), ns);

	if (ret)
		return ret;
	return shm_unlink(name) == -1 ? -errno : 0;
}
