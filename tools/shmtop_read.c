/* SPDX-License-Identifier: MIT */
/*
 * shmtop's reader (declarations and rules in shmtop_read.h). The segment
 * geometry is never re-read from shared memory after seg_attach() checked
 * it: the local copies in struct seg are used, and before each snapshot
 * they are clamped to the object's current size so that a segment cut
 * short after we mapped it is not read past its end. Shared words are
 * read with relaxed loads except where a comment names the release that
 * an acquire pairs with. Next: shmtop_print.c.
 */
#include "shmtop_read.h"


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exporter_status.h"
#include "proc_stat.h"
#include "text_clean.h"
#include "shm_atomic.h"

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
	out->alive = proc_alive(out->pid, copy.pe_start_ticks);
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
