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
 * The walk (walk_ring()) reads, per ring, the headers of the records
 * between where the last walk stopped and rh_cursor: the collector has
 * read them, and their bytes stay in the slots until a writer of the next
 * lap reuses them. read_header() takes a header only when the slot's
 * control word is the same before and after the copy (seqlock-style) and
 * shows the slot not reused; the header's producer index and generation
 * must name a READY entry. Each ring's count of records read since the
 * last walk is then split among the producers seen, in proportion. Next:
 * shmtop_print.c, shmtop_rate.c.
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


/* State of shmtop_read_walk(), per attachment. */
struct shmtop_walk {
	uint32_t nrings;
	uint32_t nprod;	    /* producer entries wholly inside the file at open */
	uint32_t nprod_now; /* of those, inside the file at this walk */
	uint64_t *pos;	    /* [nrings] next position to walk */
	uint64_t *records;  /* [nrings] rh_records at the last walk */
	uint8_t *primed;    /* [nrings] pos and records are set */
	double *est;	    /* [nprod] estimated records per table index */
	uint32_t *gen;	    /* [nprod] 1 + the 16-bit generation est counts; 0 none */
	uint32_t *cnt;	    /* [nprod] headers sampled in one ring (scratch) */
	uint32_t *touched;  /* [nprod] indexes whose cnt is non-zero (scratch) */
	double split;
	double unsplit;
};

static void walk_free(struct shmtop_walk *w)
{
	if (!w)
		return;
	free(w->pos);
	free(w->records);
	free(w->primed);
	free(w->est);
	free(w->gen);
	free(w->cnt);
	free(w->touched);
	free(w);
}

static struct shmtop_walk *walk_create(const struct seg *s, uint64_t avail)
{
	struct shmtop_walk *w = calloc(1, sizeof(*w));
	uint64_t np;

	if (!w)
		return NULL;
	np = avail > s->prod_off ? (avail - s->prod_off) / sizeof(struct shm_producer) : 0;
	w->nprod = np < s->max_producers ? (uint32_t)np : s->max_producers;
	w->nrings = s->nrings;
	w->pos = calloc(w->nrings + 1, sizeof(*w->pos));
	w->records = calloc(w->nrings + 1, sizeof(*w->records));
	w->primed = calloc(w->nrings + 1, sizeof(*w->primed));
	w->est = calloc(w->nprod + 1, sizeof(*w->est));
	w->gen = calloc(w->nprod + 1, sizeof(*w->gen));
	w->cnt = calloc(w->nprod + 1, sizeof(*w->cnt));
	w->touched = calloc(w->nprod + 1, sizeof(*w->touched));
	if (!w->pos || !w->records || !w->primed || !w->est || !w->gen || !w->cnt ||
	    !w->touched) {
		walk_free(w);
		return NULL;
	}
	return w;
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
			src->walk = walk_create(&src->seg, src->seg.size);
			if (!src->walk) {
				ret = -ENOMEM;
				goto err_close;
			}
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
	walk_free(src->walk);
	src->walk = NULL;
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
	out->full_waits = copy.pe_full_waits; /* 0 from a 1.0/1.1 producer */
	out->full_wait_ms = copy.pe_full_wait_ms;
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

/* The table index a header names if that entry is READY now with the
 * header's generation, else -1. */
static long header_producer(const struct seg *s, const struct shmtop_walk *w,
			    const struct shm_rec_hdr *hdr)
{
	struct shm_producer *pe;
	uint64_t claim;

	if (hdr->rec_producer >= w->nprod_now)
		return -1;
	pe = seg_producer(s, hdr->rec_producer);
	/* Only "is this entry READY with that generation": no field that the
	 * READY store publishes is read, so relaxed is enough. */
	claim = shm_load_relaxed(&pe->pe_claim);
	if (SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY ||
	    (uint16_t)shm_load_relaxed(&pe->pe_gen) != hdr->rec_pgen)
		return -1;
	return hdr->rec_producer;
}

/*
 * Reads the header of the record at position p into *hdr and its length
 * in slots into *n. 1: a record to count; 0: not a record (a dead
 * writer's claim the collector skipped), skip *n slots; -1: the slot was
 * reused or holds garbage.
 */
static int read_header(const struct seg *s, struct shm_ring_hdr *r, uint64_t p, uint64_t cursor,
		       struct shm_rec_hdr *hdr, uint32_t *n)
{
	const uint64_t *ctl = seg_ring_ctl(s, r);
	const unsigned char *slots = seg_ring_slots(s, r);
	uint64_t mask = (uint64_t)s->slots - 1, w, head;

	/* Pairs with the release store of PUBLISHED in ring_publish(): the
	 * header is complete once the word reads PUBLISHED. */
	w = shm_load_acquire(&ctl[p & mask]);
	if (SHM_CTL_LAP(w) != seg_lap(s, p))
		return -1;
	if (SHM_CTL_STATE(w) == SHM_CTL_CLAIMED) {
		*n = SHM_CTL_NSLOTS(w);
		return *n ? 0 : -1;
	}
	memcpy(hdr, slots + (p & mask) * SHM_ABI_SLOT_SIZE, sizeof(*hdr));
	/* Orders the copy before the re-check, as a seqlock reader does. */
	atomic_thread_fence(memory_order_acquire);
	if (shm_load_relaxed(&ctl[p & mask]) != w)
		return -1;
	if (SHM_CTL_STATE(w) == SHM_CTL_PUBLISHED) {
		*n = SHM_CTL_NSLOTS(w);
		return *n ? 1 : -1;
	}
	if (SHM_CTL_STATE(w) != SHM_CTL_FREE)
		return -1;
	/* Released by drain_release(): the bytes stay until a writer of the
	 * next lap claims over them, which its claim of a position below p
	 * does without touching ctl[p]. Writers claim at the head, at most
	 * SHM_CTL_MAX_NSLOTS past the hint, so a slot whose next-lap
	 * position lies well ahead of the hint is still intact. */
	head = shm_load_relaxed(&r->rh_hint);
	if (head < cursor)
		head = cursor;
	if (p + s->slots <= head + 2 * (uint64_t)SHM_CTL_MAX_NSLOTS)
		return -1;
	if ((hdr->rec_type != SHM_REC_LOG && hdr->rec_type != SHM_REC_METRIC) ||
	    hdr->rec_len < sizeof(*hdr) || hdr->rec_len > SHM_CTL_MAX_NSLOTS * SHM_ABI_SLOT_SIZE)
		return -1;
	*n = (hdr->rec_len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE;
	return 1;
}

static void walk_ring(const struct seg *s, struct shmtop_walk *w, uint32_t k)
{
	struct shm_ring_hdr *r = seg_ring(s, k);
	uint64_t tail, cursor, recs, delta, p, seen = 0, other = 0;
	uint32_t ntouched = 0;

	/* Pairs with the release store of rh_tail in drain_release(). */
	tail = shm_load_acquire(&r->rh_tail);
	cursor = shm_load_relaxed(&r->rh_cursor);
	recs = shm_load_relaxed(&r->rh_records);
	if (!w->primed[k] || recs < w->records[k] || w->pos[k] > cursor || tail > cursor) {
		/* First look, or the collector started over: count from now. */
		w->primed[k] = 1;
		w->pos[k] = cursor;
		w->records[k] = recs;
		return;
	}
	delta = recs - w->records[k];
	w->records[k] = recs;
	p = w->pos[k];
	if (cursor - p > s->slots)
		p = tail; /* lapped since: only what is still unreleased is known */
	for (uint32_t steps = 0; p < cursor && steps < SHMTOP_WALK_MAX; steps++) {
		struct shm_rec_hdr hdr;
		uint32_t n = 0;
		long idx;
		int ret = read_header(s, r, p, cursor, &hdr, &n);

		if (ret < 0) {
			uint64_t t2 = shm_load_acquire(&r->rh_tail); /* as above */

			if (t2 > p && t2 <= cursor) {
				p = t2;
				continue;
			}
			p = cursor;
			break;
		}
		p += n;
		if (ret == 0)
			continue;
		seen++;
		idx = header_producer(s, w, &hdr);
		if (idx < 0) {
			other++;
			continue;
		}
		if (!w->cnt[idx]++)
			w->touched[ntouched++] = (uint32_t)idx;
		if (w->gen[idx] != (uint32_t)hdr.rec_pgen + 1) {
			w->gen[idx] = (uint32_t)hdr.rec_pgen + 1;
			w->est[idx] = 0;
		}
	}
	w->pos[k] = p > cursor ? cursor : p;
	for (uint32_t i = 0; i < ntouched; i++) {
		uint32_t idx = w->touched[i];

		w->est[idx] += (double)delta * w->cnt[idx] / (double)seen;
		w->cnt[idx] = 0;
	}
	if (seen)
		w->split += (double)delta;
	else
		w->unsplit += (double)delta;
	(void)other; /* its share stays in split: sampled, but of no producer listed */
}

/* Rings inside the first avail bytes of the file. */
static uint32_t rings_inside(const struct seg *s, uint64_t avail)
{
	uint64_t n = avail > s->ring_off ? (avail - s->ring_off) / s->ring_stride : 0;

	return n < s->nrings ? (uint32_t)n : s->nrings;
}

/* The object's size now, at most the mapped size: reading a page past
 * its end would raise SIGBUS. */
static uint64_t avail_now(const struct shmtop_src *src)
{
	struct stat st;
	uint64_t avail = src->seg.size;

	if (src->fd >= 0 && fstat(src->fd, &st) == 0 && (uint64_t)st.st_size < avail)
		avail = (uint64_t)st.st_size;
	return avail;
}

static void walk_all(struct shmtop_src *src, uint64_t avail)
{
	struct shmtop_walk *w = src->walk;
	uint64_t np;
	uint32_t nr;

	if (!w || avail < SHM_ABI_HDR_SIZE)
		return;
	nr = rings_inside(&src->seg, avail);
	np = avail > src->seg.prod_off ?
		     (avail - src->seg.prod_off) / sizeof(struct shm_producer) : 0;
	w->nprod_now = np < w->nprod ? (uint32_t)np : w->nprod;
	for (uint32_t k = 0; k < nr && k < w->nrings; k++)
		walk_ring(&src->seg, w, k);
}

void shmtop_read_walk(struct shmtop_src *src)
{
	if (src->seg.hdr)
		walk_all(src, avail_now(src));
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
	uint64_t avail, nprod;
	char dir[sizeof(h->sh_spool_dir)];
	int ret;

	memset(snap, 0, sizeof(*snap));
	snprintf(snap->ns, sizeof(snap->ns), "%s", src->ns);
	avail = avail_now(src);
	if (avail < SHM_ABI_HDR_SIZE)
		return -EPROTO;
	walk_all(src, avail);
	snap->now_ns = clock_ns(CLOCK_REALTIME);
	snap->mono_ns = clock_ns(CLOCK_MONOTONIC);
	snap->abi_major = SHM_ABI_MAJOR; /* seg_attach() refused any other */
	snap->abi_minor = shm_load_relaxed(&h->sh_abi_minor);
	snap->epoch = shm_load_relaxed(&h->sh_epoch);
	snap->create_ns = shm_load_relaxed(&h->sh_create_ns);
	snap->slots = s->slots;
	snap->nrings = s->nrings;
	snap->max_producers = s->max_producers;

	snap->nrings_read = rings_inside(s, avail);
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
	if (src->walk) {
		const struct shmtop_walk *w = src->walk;

		for (uint32_t i = 0; i < snap->nprods; i++) {
			struct shmtop_producer *p = &snap->prods[i];

			if (p->index < w->nprod && w->gen[p->index] == (uint16_t)p->gen + 1u)
				p->records_est = w->est[p->index];
		}
		snap->est_split = w->split;
		snap->est_unsplit = w->unsplit;
	}

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
	shmtop_read_free(snap);
	return ret;
}

void shmtop_read_free(struct shmtop_snap *snap)
{
	free(snap->rings);
	free(snap->prods);
	snap->rings = NULL;
	snap->prods = NULL;
	snap->nrings_read = 0;
	snap->nprods = 0;
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
