/* SPDX-License-Identifier: MIT */
/*
 * Spool writes through io_uring (see spool_writer.h). One request is a
 * linked chain of four operations:
 *
 *   writev(tmp, [header, payload]) -> fsync(tmp) -> renameat(tmp, final)
 *     -> fsync(directory)
 *
 * A failure anywhere cancels the rest of the chain (-ECANCELED); the
 * request is then retried from the start a second later, under a new
 * sequence number, while its records stay in the rings. A full
 * filesystem (ENOSPC, EDQUOT, a short write) also makes the next tick
 * delete the oldest spooled requests, counted, to make room for it.
 */
#include "spool_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct spool_req {
	struct loop_op op;
	struct spool_writer *w;
	enum spool_signal sig;
	struct spool_file_hdr hdr;
	struct pbuf payload;
	struct iovec iov[2];
	uint64_t seq;
	int fd;
	int ops_left;
	int err;
	int done;
	int failed;
	uint32_t nrecords;
	uint64_t *release;
	struct spool_req *next;
	char tmp[48];
	char final[48];
};

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int spool_writer_init(struct spool_writer *w, struct loop *loop, const char *dir,
		      uint64_t max_bytes, uint32_t nrings, spool_done_fn done, void *ctx)
{
	int ret;

	memset(w, 0, sizeof(*w));
	for (int i = 0; i < SPOOL_SIG_NR; i++)
		w->dirfd[i] = -1;
	w->loop = loop;
	w->max_bytes = max_bytes;
	w->nrings = nrings;
	w->done = done;
	w->ctx = ctx;
	if (strlen(dir) >= sizeof(w->dir))
		return -ENAMETOOLONG;
	strcpy(w->dir, dir);
	ret = spool_dirs_create(dir);
	if (ret)
		return ret;
	for (int s = SPOOL_SIG_LOGS; s < SPOOL_SIG_NR; s++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, spool_signal_name(s));
		w->dirfd[s] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w->dirfd[s] == -1) {
			ret = -errno;
			spool_writer_fini(w);
			return ret;
		}
	}
	spool_writer_tick(w, mono_now());
	return 0;
}

/* Payload memory kept for reuse, all buffers together, at most (a
 * request is at most [collector] max_export_batch_bytes, 4 MiB by
 * default, plus its envelopes; at the e2e benchmark's rate they add
 * 2-3 MiB to the collector's resident memory). */
#define SPARE_BYTES_MAX (8u << 20)

/* Keeps r's payload memory for a later submitter, within the limits;
 * req_free() frees it otherwise. */
static void keep_spare(struct spool_writer *w, struct spool_req *r)
{
	if (!r->payload.p || w->nspare == SPOOL_SPARE_NR ||
	    w->spare_bytes + r->payload.cap > SPARE_BYTES_MAX)
		return;
	w->spare[w->nspare++] = r->payload;
	w->spare_bytes += r->payload.cap;
	pbuf_reset(&w->spare[w->nspare - 1]);
	pbuf_init(&r->payload);
}

static void req_free(struct spool_req *r)
{
	if (!r)
		return;
	pbuf_fini(&r->payload);
	free(r->release);
	free(r);
}

void spool_writer_fini(struct spool_writer *w)
{
	struct spool_req *r = w->head, *next;

	for (; r; r = next) {
		next = r->next;
		req_free(r);
	}
	for (int i = 0; i < SPOOL_SIG_NR; i++)
		if (w->dirfd[i] >= 0)
			close(w->dirfd[i]);
	for (uint32_t i = 0; i < w->nspare; i++)
		pbuf_fini(&w->spare[i]);
	memset(w, 0, sizeof(*w));
}

/* Hands durable requests at the head of the FIFO to the callback. */
static void complete_in_order(struct spool_writer *w)
{
	while (w->head && w->head->done) {
		struct spool_req *r = w->head;

		w->head = r->next;
		if (!w->head)
			w->tail = NULL;
		w->done(w->ctx, r->sig, r->release, r->nrecords);
		keep_spare(w, r);
		req_free(r);
	}
}

static void chain_done(struct spool_writer *w, struct spool_req *r)
{
	close(r->fd);
	r->fd = -1;
	w->inflight--;
	if (r->err) {
		/* Once per distinct error until a write succeeds again: a full
		 * disk fails every request alike, every second. */
		if (r->err != w->last_err)
			LOGW("spool: writing %s/%s/%s failed: %s; retrying every second%s (counted "
			     "in shmlog.spool.errors; logged again only for another error)",
			     w->dir, spool_signal_name(r->sig), r->final, strerror(-r->err),
			     r->err == -ENOSPC || r->err == -EDQUOT
				 ? ", dropping the oldest requests to make room"
				 : "");
		w->last_err = r->err;
		(void)unlinkat(w->dirfd[r->sig], r->tmp, 0);
		(void)unlinkat(w->dirfd[r->sig], r->final, 0);
		r->failed = 1;
		w->errors++;
		/* The spool is full however large its budget: like the budget,
		 * give up the oldest requests rather than the newest, which
		 * would be lost in the rings. The next tick deletes them. */
		if (r->err == -ENOSPC || r->err == -EDQUOT)
			w->need_room += sizeof(r->hdr) + r->payload.len;
		if (!w->retry_at_ns)
			w->retry_at_ns = mono_now() + 1000000000ull;
		return;
	}
	if (w->last_err)
		LOGI("spool: writing %s works again", w->dir);
	w->last_err = 0;
	r->done = 1;
	w->files++;
	w->bytes += sizeof(r->hdr) + r->payload.len;
	w->written_files++;
	w->written_records += r->nrecords;
	complete_in_order(w);
}

static void op_done(void *arg, int res)
{
	struct spool_req *r = arg;
	size_t want = sizeof(r->hdr) + r->payload.len;

	/* The first operation is the writev: its result is a byte count. */
	if (r->ops_left == 4 && res >= 0 && (size_t)res != want)
		res = -ENOSPC; /* short write to a regular file: disk full */
	if (res < 0 && !r->err)
		r->err = res;
	if (--r->ops_left == 0)
		chain_done(r->w, r);
}

static int submit_chain(struct spool_writer *w, struct spool_req *r)
{
	struct io_uring_sqe *sqe[4];
	int dfd = w->dirfd[r->sig];

	w->last_seq = spool_seq_next(w->last_seq);
	r->seq = w->last_seq;
	snprintf(r->tmp, sizeof(r->tmp), ".tmp-%020llu", (unsigned long long)r->seq);
	snprintf(r->final, sizeof(r->final), "%020llu.pb", (unsigned long long)r->seq);
	r->fd = openat(dfd, r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (r->fd == -1)
		return -errno;
	r->iov[0].iov_base = &r->hdr;
	r->iov[0].iov_len = sizeof(r->hdr);
	r->iov[1].iov_base = r->payload.p;
	r->iov[1].iov_len = r->payload.len;
	r->op.fn = op_done;
	r->op.arg = r;
	r->err = 0;
	r->failed = 0;
	/* Four SQEs must be had at once, or the chain would be cut. */
	if (io_uring_sq_space_left(&w->loop->ring) < 4)
		(void)io_uring_submit(&w->loop->ring);
	for (int i = 0; i < 4; i++) {
		sqe[i] = loop_sqe(w->loop, &r->op);
		if (!sqe[i]) {
			/* Cannot happen after the submit above; be safe. */
			for (int j = 0; j < i; j++)
				io_uring_prep_nop(sqe[j]);
			r->ops_left = 4 - i;
			r->err = -EBUSY;
			w->inflight++;
			return 0;
		}
	}
	io_uring_prep_writev(sqe[0], r->fd, r->iov, 2, 0);
	sqe[0]->flags |= IOSQE_IO_LINK;
	io_uring_prep_fsync(sqe[1], r->fd, 0);
	sqe[1]->flags |= IOSQE_IO_LINK;
	io_uring_prep_renameat(sqe[2], dfd, r->tmp, dfd, r->final, 0);
	sqe[2]->flags |= IOSQE_IO_LINK;
	io_uring_prep_fsync(sqe[3], dfd, 0);
	r->ops_left = 4;
	w->inflight++;
	return 0;
}

struct spool_entry {
	char name[48];
	int sig;
	uint64_t size;
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct spool_entry *)a)->name, ((const struct spool_entry *)b)->name);
}

/*
 * Scans the spool; deletes the oldest requests, counted, while it is over
 * budget with `incoming` bytes more, and until at least `must_free` bytes
 * are freed (a full filesystem). Files the exporter has claimed (sending,
 * or waiting to retry) are skipped: their records are not lost.
 */
static void scan_and_trim(struct spool_writer *w, uint64_t incoming, uint64_t must_free)
{
	struct spool_entry *e = NULL;
	size_t n = 0, cap = 0, kept;
	uint64_t total = 0, freed = 0;

	for (int s = SPOOL_SIG_LOGS; s < SPOOL_SIG_NR; s++) {
		int fd = dup(w->dirfd[s]);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;

		if (!d) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		rewinddir(d);
		while ((de = readdir(d))) {
			struct stat st;
			size_t len = strlen(de->d_name);

			if (len != 23 || strcmp(de->d_name + 20, ".pb") != 0)
				continue;
			if (fstatat(w->dirfd[s], de->d_name, &st, 0) != 0)
				continue;
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 256;
				struct spool_entry *ne = realloc(e, nc * sizeof(*e));
				if (!ne)
					break;
				e = ne;
				cap = nc;
			}
			strcpy(e[n].name, de->d_name);
			e[n].sig = s;
			e[n].size = (uint64_t)st.st_size;
			total += e[n].size;
			n++;
		}
		closedir(d);
	}
	kept = n;
	if (n > 0 && (must_free || (w->max_bytes && total + incoming > w->max_bytes))) {
		qsort(e, n, sizeof(*e), entry_cmp);
		for (size_t i = 0; i < n; i++) {
			uint32_t recs;

			if (freed >= must_free &&
			    !(w->max_bytes && total + incoming > w->max_bytes))
				break;
			if (spool_drop_file(w->dirfd[e[i].sig], e[i].name, &recs) != 0)
				continue; /* claimed by the exporter, or already gone */
			total -= e[i].size;
			freed += e[i].size;
			kept--; /* not n: the loop still walks all n entries */
			w->dropped_files++;
			w->dropped_records += recs;
			w->dropped_records_sig[e[i].sig] += recs;
			/* The first drop, then at every power of two: a spool
			 * that stays full must not fill the log instead. */
			if ((w->dropped_files & (w->dropped_files - 1)) != 0)
				continue;
			if (must_free)
				LOGW("spool: %s is full: dropped the oldest request %s/%s "
				     "(%u records; %llu requests, %llu records dropped so far)",
				     w->dir, spool_signal_name(e[i].sig), e[i].name, recs,
				     (unsigned long long)w->dropped_files,
				     (unsigned long long)w->dropped_records);
			else
				LOGW("spool: over its budget of %llu bytes: dropped %s/%s "
				     "(%u records; %llu requests, %llu records dropped so far)",
				     (unsigned long long)w->max_bytes, spool_signal_name(e[i].sig),
				     e[i].name, recs, (unsigned long long)w->dropped_files,
				     (unsigned long long)w->dropped_records);
		}
	}
	w->files = kept;
	w->bytes = total;
	free(e);
}

int spool_writer_submit(struct spool_writer *w, enum spool_signal sig, struct pbuf *payload,
			uint32_t nrecords, const uint64_t *release)
{
	struct spool_req *r;
	int ret;

	if (payload->oom)
		return -ENOMEM;
	if (w->max_bytes && w->bytes + payload->len + 32 > w->max_bytes)
		scan_and_trim(w, payload->len + 32, 0);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->release = malloc(w->nrings * sizeof(uint64_t));
	if (!r->release) {
		free(r);
		return -ENOMEM;
	}
	memcpy(r->release, release, w->nrings * sizeof(uint64_t));
	r->w = w;
	r->sig = sig;
	r->nrecords = nrecords;
	r->fd = -1;
	spool_hdr_fill(&r->hdr, sig, payload->p, payload->len, nrecords);
	r->payload = *payload; /* take ownership */
	if (w->nspare) { /* and give back memory already mapped */
		*payload = w->spare[--w->nspare];
		w->spare_bytes -= payload->cap;
	} else {
		pbuf_init(payload);
	}
	ret = submit_chain(w, r);
	if (ret) {
		/* Keep it queued as failed: retried by the tick, in order. */
		if (ret != w->last_err)
			LOGW("spool: cannot create a file in %s: %s; retrying every second", w->dir,
			     strerror(-ret));
		w->last_err = ret;
		r->failed = 1;
		w->errors++;
		if (ret == -ENOSPC || ret == -EDQUOT)
			w->need_room += sizeof(r->hdr) + r->payload.len;
		if (!w->retry_at_ns)
			w->retry_at_ns = mono_now() + 1000000000ull;
	}
	if (w->tail)
		w->tail->next = r;
	else
		w->head = r;
	w->tail = r;
	return 0;
}

void spool_writer_tick(struct spool_writer *w, uint64_t mono_ns)
{
	/* Room first (a full disk), then the retries that need it. */
	scan_and_trim(w, 0, w->need_room);
	w->need_room = 0;
	if (w->retry_at_ns && mono_ns >= w->retry_at_ns) {
		w->retry_at_ns = 0;
		for (struct spool_req *r = w->head; r; r = r->next) {
			int ret;

			if (!r->failed)
				continue;
			ret = submit_chain(w, r);
			if (ret != 0) {
				r->failed = 1;
				w->errors++;
				w->last_err = ret;
				if (ret == -ENOSPC || ret == -EDQUOT)
					w->need_room += sizeof(r->hdr) + r->payload.len;
				w->retry_at_ns = mono_ns + 1000000000ull;
			}
		}
	}
}
