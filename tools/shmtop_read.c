/* SPDX-License-Identifier: MIT */
/*
 * shmtop's reader (declarations and rules in shmtop_read.h). The segment
 * geometry is never re-read from shared memory after seg_attach() checked
 * it: the local copies in struct seg are used, and before each snapshot
 * they are clamped to the object's current size so that a segment cut
 * short after we mapped it is not read past its end. Shared words are
 * read with relaxed loads except where a comment names the release that
 * an acquire pairs with.
 *
 * The walk (walk_ring()) reads, per ring, the records between where the
 * previous snapshot's walk stopped and rh_cursor: the collector has read
 * them, and they stay in their slots until it releases them. Each record
 * is taken only when its control word names it PUBLISHED in the lap of
 * its position before and after its header is copied (a seqlock-style
 * check: the collector frees a slot before a producer may reuse it), and
 * its producer index and generation must name a READY entry copied in the
 * same snapshot. Records released before shmtop looked are not seen: the
 * per-producer split is a sample (shmtop_rate.h). Next: shmtop_print.c.
 */
#include "shmtop_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exporter_status.h"
#include "proc_stat.h"
#include "shm_atomic.h"
#include "text_clean.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int stat_shm(const char *name, struct stat *st)
{
	int fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	int ret = 0;

	if (fd == -1)
		return -errno;
	if (fstat(fd, st) == -1)
		ret = -errno;
	close(fd);
	return ret;
}

static int alloc_walk(struct shmtop_src *src)
{
	src->nwalk = src->seg.nrings;
	src->walk_pos = calloc(src->nwalk ? src->nwalk : 1, sizeof(*src->walk_pos));
	return src->walk_pos ? 0 : -ENOMEM;
}

int shmtop_read_open(struct shmtop_src *src, const char *ns)
{
	struct stat st, again;
	int ret;

	memset(src, 0, sizeof(*src));
	src->fd = -1;
	snprintf(src->ns, sizeof(src->ns), "%s", ns);
	/* seg_attach() maps and closes its descriptor; ours must name the
	 * same object, so retry if the collector replaced it in between. */
	for (int tries = 0; tries < 3; tries++) {
		ret = seg_attach(&src->seg, ns, 0);
		if (ret)
			return ret;
		src->fd = shm_open(src->seg.name, O_RDONLY | O_CLOEXEC, 0);
		if (src->fd == -1) {
			ret = -errno;
			goto err_detach;
		}
		if (fstat(src->fd, &st) == -1) {
			ret = -errno;
			goto err_close;
		}
		ret = stat_shm(src->seg.name, &again);
		if (ret)
			goto err_close;
		if (st.st_ino == again.st_ino && st.st_dev == again.st_dev &&
		    (uint64_t)st.st_size >= src->seg.size) {
			src->dev = st.st_dev;
			src->ino = st.st_ino;
			ret = alloc_walk(src);
			if (ret)
				goto err_close;
			return 0;
		}
		close(src->fd);
		src->fd = -1;
		seg_detach(&src->seg);
	}
	return -EAGAIN;

err_close:
	close(src->fd);
	src->fd = -1;
err_detach:
	seg_detach(&src->seg);
	return ret;
}

void shmtop_read_close(struct shmtop_src *src)
{
	if (src->seg.hdr)
		seg_detach(&src->seg);
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
	free(src->walk_pos);
	src->walk_pos = NULL;
	src->nwalk = 0;
}

int shmtop_read_replaced(const struct shmtop_src *src)
{
	struct stat st;

	if (stat_shm(src->seg.name, &st))
		return 1;
	return st.st_ino != src->ino || st.st_dev != src->dev;
}

static void read_ring(const struct seg *s, uint32_t k, struct shmtop_ring *out)
{
	struct shm_ring_hdr *r = seg_ring(s, k);
	uint64_t head, tail;

	out->index = k;
	out->slots = s->slots;
	out->ok = shm_load_relaxed(&r->rh_magic) == SHM_RING_MAGIC &&
		  shm_load_relaxed(&r->rh_index) == k && shm_load_relaxed(&r->rh_slots) == s->slots;
	/* Relaxed: a display may be a moment stale; every value is clamped. */
	tail = shm_load_relaxed(&r->rh_tail);
	head = shm_load_relaxed(&r->rh_hint);
	if (head < shm_load_relaxed(&r->rh_cursor))
		head = shm_load_relaxed(&r->rh_cursor);
	out->used = head > tail ? head - tail : 0;
	if (out->used > out->slots)
		out->used = out->slots;
	out->records = shm_load_relaxed(&r->rh_records);
	out->drops = shm_load_relaxed(&r->rh_drops);
	out->drop_bytes = shm_load_relaxed(&r->rh_drop_bytes);
	out->invalid = shm_load_relaxed(&r->rh_invalid);
	out->abandoned = shm_load_relaxed(&r->rh_abandoned);
}

/* The state letter of /proc/<pid>/stat, '?' when it cannot be read. */
static char proc_state(uint32_t pid)
{
	char path[32], st = '?';
	uint64_t start;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/stat", pid);
	if (proc_stat_read(path, &st, &start) || st < 'A' || st > 'z')
		return '?';
	return st;
}

/*
 * Copies producer entry i when it is READY and stays the same across the
 * copy (claim and generation unchanged: the collector bumps pe_gen and
 * stores 0 when it frees an entry). 1: copied, 0: free, -1: skipped.
 */
static int read_producer(const struct seg *s, uint32_t i, struct shmtop_producer *out)
{
	struct shm_producer *pe = seg_producer(s, i);
	struct shm_producer copy;
	uint64_t claim, claim2, a, b;
	uint32_t gen;

	/* Pairs with the release store of SHM_PE_READY in lib_attach.c
	 * (attach_register): the fields below are filled once it reads READY. */
	claim = shm_load_acquire(&pe->pe_claim);
	if (claim == 0)
		return 0;
	if (SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY)
		return -1;
	gen = shm_load_relaxed(&pe->pe_gen);
	memcpy(&copy, pe, sizeof(copy));
	/* Orders the copy before the re-check, as a seqlock reader does. */
	atomic_thread_fence(memory_order_acquire);
	claim2 = shm_load_relaxed(&pe->pe_claim);
	if (claim2 != claim || shm_load_relaxed(&pe->pe_gen) != gen ||
	    copy.pe_pid != SHM_PE_CLAIM_PID(claim))
		return -1;
	memset(out, 0, sizeof(*out));
	out->index = i;
	out->pid = copy.pe_pid;
	out->uid = copy.pe_uid;
	out->attach_ns = copy.pe_attach_ns;
	a = copy.pe_drops;
	b = copy.pe_drop_nothr;
	out->drops = a + b < a ? UINT64_MAX : a + b;
	text_clean(out->exe, sizeof(out->exe), copy.pe_exe, sizeof(copy.pe_exe));
	text_clean(out->container, sizeof(out->container), copy.pe_container,
			sizeof(copy.pe_container));
	text_clean(out->service, sizeof(out->service), copy.pe_service,
			sizeof(copy.pe_service));
	if (!out->service[0])
		snprintf(out->service, sizeof(out->service), "unknown_service:%s",
			 out->exe[0] ? out->exe : "unknown");
	out->gen = gen;
	out->alive = proc_alive(out->pid, copy.pe_start_ticks);
	out->state = proc_state(out->pid);
	return 1;
}

/*
 * Entries of a dictionary table (max entries of size bytes at off) whose
 * claim word is non-zero. Only entries wholly inside the first avail
 * bytes are read; *cut is set when some are not. The result is at most
 * max whatever the words hold.
 */
static uint32_t dict_used(const struct seg *s, uint64_t off, uint32_t max, size_t size,
			  uint64_t avail, int *cut)
{
	uint64_t n = avail > off ? (avail - off) / size : 0;
	uint32_t used = 0;

	if (n < max)
		*cut = 1;
	else
		n = max;
	for (uint64_t i = 0; i < n; i++) {
		/* Relaxed: only "taken or not" is looked at, never the fields
		 * the claim publishes. in_claim and se_claim are both at 0. */
		uint64_t *claim = (uint64_t *)((char *)s->hdr + off + i * size);

		used += shm_load_relaxed(claim) != 0;
	}
	return used;
}

/* Position in s->prods-like array prods (nprods entries, ascending table
 * index) of the entry with table index idx and generation pgen; -1 if none. */
static long find_producer(const struct shmtop_producer *prods, uint32_t nprods, uint32_t idx,
			  uint16_t pgen)
{
	uint32_t lo = 0, hi = nprods;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (prods[mid].index < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nprods && prods[lo].index == idx && (uint16_t)prods[lo].gen == pgen)
		return lo;
	return -1;
}

/*
 * Walks ring k from *pos (a record boundary the previous walk reached, or
 * anything else: then rh_tail) to rh_cursor, at most one lap of steps,
 * counting each record it can read into cnt[] (by position in prods) or
 * into out->seen_other. Leaves in *pos where the next walk starts.
 */
static void walk_ring(const struct seg *s, uint32_t k, uint64_t *pos,
		      const struct shmtop_producer *prods, uint32_t nprods, uint64_t *cnt,
		      struct shmtop_ring *out)
{
	struct shm_ring_hdr *r = seg_ring(s, k);
	const uint64_t *ctl = seg_ring_ctl(s, r);
	const unsigned char *slot = seg_ring_slots(s, r);
	uint64_t mask = (uint64_t)s->slots - 1, tail, cursor, p = *pos;

	/* Pairs with the release store of rh_tail in drain_release(): the
	 * slots below it are FREE, those above still hold their records. */
	tail = shm_load_acquire(&r->rh_tail);
	cursor = shm_load_relaxed(&r->rh_cursor);
	if (p < tail || p > cursor)
		p = tail;
	for (uint32_t steps = 0; p < cursor && steps < s->slots; steps++) {
		uint64_t w, again;
		uint32_t n;
		uint16_t idx, pgen;
		long j;

		/* Pairs with the release store of PUBLISHED in ring_publish():
		 * the record's bytes are complete once it reads PUBLISHED. */
		w = shm_load_acquire(&ctl[p & mask]);
		n = SHM_CTL_NSLOTS(w);
		if (SHM_CTL_LAP(w) != seg_lap(s, p) || SHM_CTL_STATE(w) == SHM_CTL_FREE || !n ||
		    n > s->slots) {
			/* Released under us (or garbage): jump to the new tail
			 * if it moved past p, else give up until next time. */
			uint64_t t2 = shm_load_acquire(&r->rh_tail); /* as above */

			if (t2 > p && t2 <= cursor) {
				p = t2;
				continue;
			}
			p = cursor;
			break;
		}
		if (SHM_CTL_STATE(w) == SHM_CTL_PUBLISHED) {
			const unsigned char *rec = slot + (p & mask) * SHM_ABI_SLOT_SIZE;

			memcpy(&idx, rec + offsetof(struct shm_rec_hdr, rec_producer), sizeof(idx));
			memcpy(&pgen, rec + offsetof(struct shm_rec_hdr, rec_pgen), sizeof(pgen));
			/* Orders the copy before the re-check, as in read_producer(). */
			atomic_thread_fence(memory_order_acquire);
			again = shm_load_relaxed(&ctl[p & mask]);
			if (again == w) {
				j = find_producer(prods, nprods, idx, pgen);
				out->seen++;
				if (j >= 0)
					cnt[j]++;
				else
					out->seen_other++;
			}
		}
		/* CLAIMED in this lap: a dead writer's slots that the
		 * collector skipped; not a record. */
		p += n;
	}
	*pos = p > cursor ? cursor : p;
}

/* Appends the non-zero counts of cnt[] for ring k to snap->seen and zeroes
 * them. -ENOMEM on failure. */
static int add_seen(struct shmtop_snap *snap, uint32_t k, uint64_t *cnt, uint32_t *cap)
{
	for (uint32_t j = 0; j < snap->nprods; j++) {
		if (!cnt[j])
			continue;
		if (snap->nseen == *cap) {
			uint32_t ncap = *cap ? *cap * 2 : 16;
			struct shmtop_seen *n = realloc(snap->seen, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			snap->seen = n;
			*cap = ncap;
		}
		snap->seen[snap->nseen++] = (struct shmtop_seen){.ring = k, .prod = j,
								 .count = cnt[j]};
		cnt[j] = 0;
	}
	return 0;
}

/* *.pb files in <dir>/logs (written, not yet exported); -1 unreadable. */
static long long count_spool_logs(const char *dir)
{
	char path[512];
	struct dirent *de;
	long long n = 0;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/logs", dir) >= (int)sizeof(path))
		return -1;
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] != '.' && len > 3 && !strcmp(de->d_name + len - 3, ".pb"))
			n++;
	}
	closedir(d);
	return n;
}

int shmtop_read_snap(struct shmtop_src *src, struct shmtop_snap *snap)
{
	const struct seg *s = &src->seg;
	struct shm_seg_hdr *h = s->hdr;
	uint64_t avail = s->size, nprod, nring;
	char dir[sizeof(h->sh_spool_dir)];
	uint64_t *cnt = NULL;
	uint32_t cap = 0;
	struct stat st;
	int ret;

	memset(snap, 0, sizeof(*snap));
	snprintf(snap->ns, sizeof(snap->ns), "%s", src->ns);
	/* Clamp to the object's size now: reading a page past its end would
	 * raise SIGBUS. */
	if (src->fd >= 0 && fstat(src->fd, &st) == 0 && (uint64_t)st.st_size < avail)
		avail = (uint64_t)st.st_size;
	if (avail < SHM_ABI_HDR_SIZE)
		return -EPROTO;
	snap->now_ns = clock_ns(CLOCK_REALTIME);
	snap->mono_ns = clock_ns(CLOCK_MONOTONIC);
	snap->abi_major = SHM_ABI_MAJOR; /* seg_attach() refused any other */
	snap->abi_minor = shm_load_relaxed(&h->sh_abi_minor);
	snap->epoch = shm_load_relaxed(&h->sh_epoch);
	snap->create_ns = shm_load_relaxed(&h->sh_create_ns);
	snap->slots = s->slots;
	snap->nrings = s->nrings;
	snap->max_producers = s->max_producers;

	nring = avail > s->ring_off ? (avail - s->ring_off) / s->ring_stride : 0;
	snap->nrings_read = nring < s->nrings ? (uint32_t)nring : s->nrings;
	nprod = avail > s->prod_off ? (avail - s->prod_off) / sizeof(struct shm_producer) : 0;
	if (nprod > s->max_producers)
		nprod = s->max_producers;

	snap->rings = calloc(snap->nrings_read ? snap->nrings_read : 1, sizeof(*snap->rings));
	snap->prods = calloc(nprod ? nprod : 1, sizeof(*snap->prods));
	if (!snap->rings || !snap->prods) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (uint32_t k = 0; k < snap->nrings_read; k++)
		read_ring(s, k, &snap->rings[k]);
	for (uint32_t i = 0; i < nprod; i++) {
		ret = read_producer(s, i, &snap->prods[snap->nprods]);
		if (ret > 0)
			snap->nprods++;
		else if (ret < 0)
			snap->producers_other++;
	}
	/* After the ring counters: a record counted in rh_records later than
	 * read_ring() looked is walked now or next time, never lost. */
	cnt = calloc(snap->nprods ? snap->nprods : 1, sizeof(*cnt));
	if (!cnt) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (uint32_t k = 0; k < snap->nrings_read && k < src->nwalk; k++) {
		walk_ring(s, k, &src->walk_pos[k], snap->prods, snap->nprods, cnt, &snap->rings[k]);
		ret = add_seen(snap, k, cnt, &cap);
		if (ret)
			goto err_free;
	}
	free(cnt);
	cnt = NULL;

	snap->coll_pid = shm_load_relaxed(&h->sh_collector_pid);
	if (snap->coll_pid > INT32_MAX)
		snap->coll_pid = 0;
	snap->coll_alive = proc_alive(snap->coll_pid, 0);
	snap->producers_live = shm_load_relaxed(&h->sh_producers_live);
	snap->heartbeat_ns = shm_load_relaxed(&h->sh_heartbeat_ns);
	snap->records_in = shm_load_relaxed(&h->sh_records_in);
	snap->records_spooled = shm_load_relaxed(&h->sh_records_spooled);
	snap->invalid = shm_load_relaxed(&h->sh_invalid);
	snap->abandoned = shm_load_relaxed(&h->sh_abandoned);
	snap->lag_ns = shm_load_relaxed(&h->sh_lag_ns);
	snap->spool_files = shm_load_relaxed(&h->sh_spool_files);
	snap->spool_bytes = shm_load_relaxed(&h->sh_spool_bytes);
	snap->spool_dropped = shm_load_relaxed(&h->sh_spool_dropped);
	snap->spool_dropped_records = shm_load_relaxed(&h->sh_spool_dropped_records);

	/* Table sizes and offsets: seg_attach()'s validated copies. */
	snap->inst_max = s->max_instruments;
	snap->series_max = s->max_series;
	snap->inst_used = dict_used(s, s->inst_off, s->max_instruments,
				    sizeof(struct shm_instrument), avail, &snap->dict_cut);
	snap->series_used = dict_used(s, s->series_off, s->max_series, sizeof(struct shm_series),
				      avail, &snap->dict_cut);
	snap->dict_full = shm_load_relaxed(&h->sh_dict_full);
	snap->overflow = shm_load_relaxed(&h->sh_overflow);

	/* Written at init, but any producer maps the header writable: bound
	 * it, and use it only as an absolute path. */
	memcpy(dir, h->sh_spool_dir, sizeof(dir));
	text_clean(snap->spool_dir, sizeof(snap->spool_dir), dir, sizeof(dir));
	if (snap->spool_dir[0] != '/')
		snap->spool_dir[0] = '\0';
	snap->spool_logs_now = -1;
	if (snap->spool_dir[0]) {
		snap->spool_logs_now = count_spool_logs(snap->spool_dir);
		if (exporter_status_read(snap->spool_dir, &snap->exp) == 0)
			snap->exp.alive = proc_alive(snap->exp.pid, 0);
	}
	return 0;

err_free:
	free(cnt);
	shmtop_read_free(snap);
	return ret;
}

void shmtop_read_free(struct shmtop_snap *snap)
{
	free(snap->rings);
	free(snap->prods);
	free(snap->seen);
	snap->rings = NULL;
	snap->prods = NULL;
	snap->seen = NULL;
	snap->nrings_read = 0;
	snap->nprods = 0;
	snap->nseen = 0;
}

void shmtop_read_explain(char *buf, size_t len, const char *ns, int err)
{
	char name[80];
	unsigned char hdr[8];
	uint32_t magic;
	uint16_t major, minor;
	int fd;

	if (seg_name(name, sizeof(name), ns)) {
		snprintf(buf, len, "bad namespace '%s'", ns);
		return;
	}
	switch (err) {
	case -ENOENT:
		snprintf(buf, len, "no collector on namespace '%s' (/dev/shm%s absent)", ns, name);
		return;
	case -EAGAIN:
		snprintf(buf, len, "/dev/shm%s is still being set up by the collector; try again",
			 name);
		return;
	case -EPROTO:
		fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
		if (fd != -1 && read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr)) {
			memcpy(&magic, hdr, 4);
			memcpy(&major, hdr + 4, 2);
			memcpy(&minor, hdr + 6, 2);
			if (magic == SHM_ABI_MAGIC && major != SHM_ABI_MAJOR) {
				snprintf(buf, len, "/dev/shm%s has ABI %u.%u; this shmtop reads ABI %d.x",
					 name, major, minor, SHM_ABI_MAJOR);
				close(fd);
				return;
			}
		}
		if (fd != -1)
			close(fd);
		snprintf(buf, len,
			 "/dev/shm%s is not a valid shmlog segment (corrupt or truncated header)",
			 name);
		return;
	default:
		snprintf(buf, len, "cannot attach to /dev/shm%s: %s", name, strerror(-err));
	}
}
