/* SPDX-License-Identifier: MIT */
/*
 * The collector's loop (see collector.h). Each turn: heartbeat; once a
 * second the table reclamation and the spool scan; drain every ring;
 * flush the batch to the spool when it is full, old (schedule delay), or
 * a ring is past its high-water mark; then wait in io_uring for I/O
 * completions or signals, for 1 ms after a busy turn and up to
 * [collector] poll_max_ms when idle.
 *
 * Slots are released only from the spool writer's completion callback,
 * once the file holding their records is durable (RING.md S3).
 */
#include "collector.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "exporter_status.h"
#include "log.h"
#include "reload.h"
#include "self_metrics.h"
#include "shm_atomic.h"

#define NS_PER_MS 1000000ull

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spool writer callback: the request is durable, release its slots. */
static void spool_done(void *ctx, enum spool_signal sig, const uint64_t *release,
		       uint32_t nrecords)
{
	struct collector *c = ctx;

	for (uint32_t k = 0; k < c->seg.nrings; k++)
		drain_release(&c->drain, k, release[k]);
	if (sig != SPOOL_SIG_LOGS)
		return; /* metric points are not records */
	if (c->aq_len) {
		uint32_t nau = c->aq[c->aq_head];

		c->aq_head = (c->aq_head + 1) % c->aq_cap;
		c->aq_len--;
		nrecords = nau <= nrecords ? nrecords - nau : 0;
	}
	c->records_spooled += nrecords;
	shm_store_relaxed(&c->seg.hdr->sh_records_spooled, c->records_spooled);
}

static void arm_signals(struct collector *c);

void collector_set_reload(struct collector *c, struct shmlog_config *cfg, const char *file,
			  int argc, char **argv)
{
	c->live_cfg = cfg;
	c->cfg_file = file;
	c->argc = argc;
	c->argv = argv;
}

/* SIGHUP: see collector_set_reload(). */
static void reload(struct collector *c)
{
	static struct shmlog_config nc;
	char err[1024], changed[512], restart[512];
	int level = log_level, n;

	if (!c->live_cfg) {
		LOGI("collector: SIGHUP: nothing to reload");
		return;
	}
	if (config_load(&nc, c->cfg_file, c->argc, c->argv, err, sizeof(err)) != 0) {
		log_level = level; /* config_load() may have set it */
		c->reload_errors++;
		LOGE("collector: SIGHUP: %s; keeping the running configuration", err);
		audit_config(&c->audit, c->cfg_file, 0, "", "", err, clock_ns(CLOCK_REALTIME),
			     clock_ns(CLOCK_MONOTONIC));
		return;
	}
	n = reload_diff(c->live_cfg, &nc, changed, sizeof(changed), restart, sizeof(restart));
	reload_apply(c->live_cfg, &nc);
	c->reloads++;
	LOGI("collector: SIGHUP: configuration reloaded from %s: %d keys changed%s%s%s%s",
	     c->cfg_file ? c->cfg_file : "(no file)", n, changed[0] ? "; applied: " : "", changed,
	     restart[0] ? "; need a restart: " : "", restart);
	/* After the apply: turning audit events on reports this reload. */
	audit_config(&c->audit, c->cfg_file, 1, changed, restart, NULL, clock_ns(CLOCK_REALTIME),
		     clock_ns(CLOCK_MONOTONIC));
}

static void on_signal(void *arg, int res)
{
	struct collector *c = arg;
	struct signalfd_siginfo si;

	if (res == (int)sizeof(si)) {
		memcpy(&si, c->sigbuf, sizeof(si));
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			LOGI("collector: signal %u: draining and stopping", si.ssi_signo);
			c->stop = 1;
		} else if (si.ssi_signo == SIGHUP) {
			reload(c);
		}
	}
	if (!c->stop)
		arm_signals(c);
}

static void arm_signals(struct collector *c)
{
	struct io_uring_sqe *sqe;

	c->sig_op.fn = on_signal;
	c->sig_op.arg = c;
	sqe = loop_sqe(&c->loop, &c->sig_op);
	if (!sqe)
		return;
	io_uring_prep_read(sqe, c->sigfd, c->sigbuf, sizeof(struct signalfd_siginfo), 0);
}

/* [shm] group as a gid: a group name, or a number; empty: ours. 0 or
 * -EINVAL (logged). */
static int shm_gid(const char *name, gid_t *gid)
{
	struct group *gr;
	char *end;
	unsigned long v;

	if (!name[0]) {
		*gid = getegid();
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (*end == '\0' && errno == 0 && v < (gid_t)-1) {
		*gid = (gid_t)v;
		return 0;
	}
	gr = getgrnam(name);
	if (!gr) {
		LOGE("collector: [shm] group '%s': no such group", name);
		return -EINVAL;
	}
	*gid = gr->gr_gid;
	return 0;
}

/* The segment's mode and group as configured, also for a reused one (the
 * configuration may have changed since it was made). */
static int shm_access(const struct seg *seg, const struct shmlog_config *cfg)
{
	mode_t mode = (mode_t)strtoul(cfg->shm_mode, NULL, 8); /* config.c checked it */
	char path[128];
	gid_t gid;
	int ret = shm_gid(cfg->shm_group, &gid);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/dev/shm%s", seg->name);
	if (chown(path, (uid_t)-1, gid) == -1) {
		ret = -errno;
		LOGE("collector: cannot give %s to group %u: %s", path, (unsigned)gid,
		     strerror(-ret));
		return ret;
	}
	if (chmod(path, mode) == -1) {
		ret = -errno;
		LOGE("collector: cannot set mode %04o on %s: %s", (unsigned)mode, path,
		     strerror(-ret));
		return ret;
	}
	return 0;
}

int collector_open(struct collector *c, const struct shmlog_config *cfg)
{
	struct seg_geometry g = {
		.nrings = (uint32_t)get_nprocs_conf(),
		.ring_slots = cfg->shm_ring_slots,
		.max_producers = cfg->shm_max_producers,
		.max_threads = cfg->shm_max_threads,
		.dead_check_ms = cfg->shm_dead_check_ms,
		.max_instruments = cfg->shm_max_instruments,
		.max_series = cfg->shm_max_series,
		/* two aggregation cells per series: room for a series
		 * used by several processes, and for overflow points */
		.max_cells = cfg->shm_max_series * 2,
	};
	sigset_t set;
	int reused, ret;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->sigfd = -1;
	if (g.nrings == 0)
		g.nrings = 1;
	ret = seg_create(&c->seg, cfg->shm_namespace, &g, 0600, &reused);
	if (ret) {
		if (c->seg.replaced[0])
			LOGE("collector: cannot replace /dev/shm%s (%s): %s; remove it or use "
			     "another [shm] namespace",
			     c->seg.name, c->seg.replaced, strerror(-ret));
		else
			LOGE("collector: cannot create the segment for namespace '%s': %s",
			     cfg->shm_namespace, strerror(-ret));
		return ret;
	}
	if (reused && c->seg.kept[0])
		LOGW("collector: continuing with /dev/shm%s in its own geometry, %s; the "
		     "configured one applies at a start that finds no live producer and no "
		     "record in it",
		     c->seg.name, c->seg.kept);
	if (!reused && c->seg.replaced[0])
		LOGW("collector: replaced the stale segment /dev/shm%s: %s", c->seg.name,
		     c->seg.replaced);
	ret = shm_access(&c->seg, cfg);
	if (ret)
		return ret;
	LOGI("collector: %s segment %s: %u rings of %u slots, %llu bytes",
	     reused ? "continuing with" : "created", c->seg.name, c->seg.nrings, c->seg.slots,
	     (unsigned long long)c->seg.size);
	c->seg.hdr->sh_collector_pid = (uint32_t)getpid();
	shm_store_relaxed(&c->seg.hdr->sh_epoch, c->seg.hdr->sh_epoch + 1);
	if (!reused || strcmp(c->seg.hdr->sh_spool_dir, cfg->spool_dir) != 0) {
		/* shmtop finds the spool here; producers never read it. */
		snprintf(c->seg.hdr->sh_spool_dir, sizeof(c->seg.hdr->sh_spool_dir), "%.255s",
			 cfg->spool_dir);
	}
	if (tsc_cal_init(&c->tsc, c->seg.hdr, 1))
		LOGI("collector: producers time records with the TSC");
	c->cursors = calloc(c->seg.nrings, sizeof(uint64_t));
	c->heads = calloc(c->seg.nrings, sizeof(uint64_t));
	c->submitted = calloc(c->seg.nrings, sizeof(uint64_t));
	if (!c->cursors || !c->heads || !c->submitted)
		return -ENOMEM;
	ret = loop_init(&c->loop, 256);
	if (ret) {
		LOGE("collector: io_uring setup failed: %s", strerror(-ret));
		return ret;
	}
	ret = producers_init(&c->prod, &c->seg, cfg);
	if (ret)
		return ret;
	log_batch_init(&c->batch);
	ret = audit_init(&c->audit, cfg, &c->batch, c->prod.host, c->seg.nrings);
	if (ret)
		return ret;
	c->prod.audit = &c->audit;
	ret = drain_init(&c->drain, &c->seg, &c->prod, &c->batch, cfg->shm_dead_check_ms);
	if (ret)
		return ret;
	ret = metrics_create(&c->metrics, &c->seg, &c->prod, cfg, c->prod.host);
	if (ret)
		return ret;
	c->drain.metrics = c->metrics;
	if (cfg->met_host_metrics) {
		ret = hostmetrics_create(&c->host, cfg);
		if (ret)
			return ret;
	}
	pbuf_init(&c->mreq);
	c->next_export_ns = clock_ns(CLOCK_MONOTONIC) +
			    (uint64_t)cfg->met_export_interval_ms * NS_PER_MS;
	for (uint32_t k = 0; k < c->seg.nrings; k++)
		c->submitted[k] = c->drain.rings[k].cursor;
	pbuf_init(&c->req);
	ret = spool_writer_init(&c->spool, &c->loop, cfg->spool_dir, cfg->spool_max_bytes,
				c->seg.nrings, spool_done, c);
	if (ret) {
		LOGE("collector: spool %s: %s", cfg->spool_dir, strerror(-ret));
		return ret;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -errno;
	c->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (c->sigfd == -1)
		return -errno;
	arm_signals(c);
	return 0;
}

/* Remembers that the logs request just submitted holds nau audit
 * records. 0 or -ENOMEM. */
static int aq_push(struct collector *c, uint32_t nau)
{
	if (c->aq_len == c->aq_cap) {
		size_t cap = c->aq_cap ? c->aq_cap * 2 : 64;
		uint32_t *q = malloc(cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		for (size_t i = 0; i < c->aq_len; i++)
			q[i] = c->aq[(c->aq_head + i) % c->aq_cap];
		free(c->aq);
		c->aq = q;
		c->aq_cap = cap;
		c->aq_head = 0;
	}
	c->aq[(c->aq_head + c->aq_len) % c->aq_cap] = nau;
	c->aq_len++;
	return 0;
}

/* Encodes the batch and hands it to the spool writer. */
static void flush(struct collector *c)
{
	uint32_t n, nau = c->audit.res ? c->audit.res->nix : 0;
	int ret;

	if (c->batch.records == 0)
		return;
	/* Queued before the submission: its completion pops it. */
	if (aq_push(c, nau) != 0)
		return; /* out of memory: try again at the next turn */
	for (uint32_t k = 0; k < c->seg.nrings; k++)
		c->cursors[k] = c->drain.rings[k].cursor;
	pbuf_reset(&c->req);
	ret = log_batch_encode(&c->batch, &c->req, &n);
	if (ret == 0)
		ret = spool_writer_submit(&c->spool, SPOOL_SIG_LOGS, &c->req, n, c->cursors);
	if (ret) {
		/* The records were read but are not in the spool: leave their
		 * slots held and read them again, from the end of the newest
		 * request already handed over (not from the last release: the
		 * requests in flight would be spooled twice). */
		LOGE("collector: cannot spool %u records: %s; re-reading them", n,
		     strerror(-ret));
		c->aq_len--; /* not submitted (its audit records are lost) */
		for (uint32_t k = 0; k < c->seg.nrings; k++)
			c->drain.rings[k].cursor = c->submitted[k];
		return;
	}
	memcpy(c->submitted, c->cursors, c->seg.nrings * sizeof(uint64_t));
}

/*
 * With no log record pending (none in the batch, no spool write in
 * flight), everything read is either in a durable spool file or folded
 * into the aggregation cells, which outlive the collector: release it.
 * Without this, a producer that only writes metrics would never get its
 * slots back, since only log flushes release.
 */
static void release_idle(struct collector *c)
{
	if (c->batch.records || spool_writer_pending(&c->spool) || c->spool.head)
		return;
	for (uint32_t k = 0; k < c->seg.nrings; k++) {
		drain_release(&c->drain, k, c->drain.rings[k].cursor);
		c->submitted[k] = c->drain.rings[k].cursor;
	}
}

static int need_flush(struct collector *c, uint64_t mono)
{
	const struct shmlog_config *cfg = c->cfg;

	if (c->batch.records == 0)
		return 0;
	if (c->batch.records >= cfg->coll_max_batch || c->batch.bytes >= cfg->coll_max_batch_bytes)
		return 1;
	/* An audit event appended during this turn may be stamped after mono. */
	if (mono > c->batch.first_ns &&
	    mono - c->batch.first_ns >= (uint64_t)cfg->coll_schedule_delay_ms * NS_PER_MS)
		return 1;
	for (uint32_t k = 0; k < c->seg.nrings; k++)
		if (drain_fill_pct(&c->drain, k) >= cfg->coll_high_water_pct)
			return 1;
	return 0;
}

/* Drains every ring once; flushes whenever the batch fills. */
static uint32_t drain_all(struct collector *c, uint64_t now, uint64_t mono)
{
	uint32_t total = 0;

	for (uint32_t k = 0; k < c->seg.nrings; k++) {
		for (;;) {
			/* The limit may shrink under a full batch (SIGHUP). */
			uint32_t room = c->batch.records < c->cfg->coll_max_batch ?
						c->cfg->coll_max_batch - c->batch.records : 0;
			uint32_t got = drain_ring(&c->drain, k, now, mono, room ? room : 1);

			total += got;
			if (need_flush(c, mono))
				flush(c);
			if (got < room || got == 0)
				break;
		}
	}
	return total;
}

static void publish_stats(struct collector *c, uint64_t now)
{
	struct shm_seg_hdr *h = c->seg.hdr;

	shm_store_relaxed(&h->sh_heartbeat_ns, now);
	shm_store_relaxed(&h->sh_records_in, c->drain.records);
	shm_store_relaxed(&h->sh_invalid, c->drain.invalid);
	shm_store_relaxed(&h->sh_abandoned, c->drain.abandoned);
	shm_store_relaxed(&h->sh_spool_files, c->spool.files);
	shm_store_relaxed(&h->sh_spool_bytes, c->spool.bytes);
	shm_store_relaxed(&h->sh_spool_dropped, c->spool.dropped_files);
	shm_store_relaxed(&h->sh_spool_dropped_records, c->spool.dropped_records);
	shm_store_relaxed(&h->sh_producers_live, c->prod.live);
}

static void host_point(void *ctx, const struct hm_point *p)
{
	struct collector *c = ctx;
	const char *keys[HM_MAX_ATTRS], *vals[HM_MAX_ATTRS];
	int n = p->nattrs < HM_MAX_ATTRS ? p->nattrs : HM_MAX_ATTRS;

	for (int i = 0; i < n; i++) {
		keys[i] = p->attrs[i].key;
		vals[i] = p->attrs[i].value;
	}
	metrics_sample(c->metrics, p->name, p->unit, p->desc, p->kind, p->value, p->pid, keys, vals,
		       n, clock_ns(CLOCK_REALTIME));
}

/* Samples container, process and GPU metrics of the live producers. */
static void sample_host(struct collector *c, uint64_t mono)
{
	uint32_t *pids = calloc(c->seg.max_producers, sizeof(uint32_t));
	size_t n = 0;

	if (!pids)
		return;
	for (uint32_t i = 0; i < c->seg.max_producers; i++) {
		/* Pairs with the producer's release of READY. */
		struct shm_producer *pe = seg_producer(&c->seg, i);
		uint64_t claim = shm_load_acquire(&pe->pe_claim);

		/* A refused entry's pid may be another process's: not sampled. */
		if (SHM_PE_CLAIM_STATE(claim) == SHM_PE_READY &&
		    !producers_refused(&c->prod, i, (uint16_t)shm_load_relaxed(&pe->pe_gen)))
			pids[n++] = SHM_PE_CLAIM_PID(claim);
	}
	hostmetrics_sample(c->host, mono, pids, n, host_point, c);
	free(pids);
}

/* Exports the metrics: one request through the spool. Metric records
 * were folded into the aggregation when read, so this request releases
 * no ring slots of its own (the log flushes do). */
static void export_metrics(struct collector *c, uint64_t now)
{
	uint32_t n;
	int ret;

	self_metrics_sample(c, now);
	pbuf_reset(&c->mreq);
	ret = metrics_encode(c->metrics, &c->mreq, now, &n);
	if (ret == 0 && n == 0)
		return;
	for (uint32_t k = 0; k < c->seg.nrings; k++)
		c->cursors[k] = c->drain.rings[k].released;
	if (ret == 0)
		ret = spool_writer_submit(&c->spool, SPOOL_SIG_METRICS, &c->mreq, n, c->cursors);
	if (ret)
		LOGE("collector: cannot spool %u metric points: %s", n, strerror(-ret));
	shm_store_relaxed(&c->seg.hdr->sh_overflow, metrics_overflows(c->metrics));
}

static void once_a_second(struct collector *c, uint64_t mono)
{
	uint64_t np;

	for (uint32_t k = 0; k < c->seg.nrings; k++) {
		c->cursors[k] = c->drain.rings[k].cursor;
		c->heads[k] = drain_head(&c->drain, k);
	}
	producers_gc(&c->prod, c->cursors, c->heads, drain_claimed_by, &c->drain);
	spool_writer_tick(&c->spool, mono);
	if (c->cfg->coll_audit_events) {
		struct exporter_status st;
		int have = exporter_status_read(c->cfg->spool_dir, &st) == 0;

		for (uint32_t k = 0; k < c->seg.nrings; k++)
			c->heads[k] = c->drain.rings[k].invalid; /* scratch */
		audit_tick(&c->audit, c->heads, have ? &st : NULL, clock_ns(CLOCK_REALTIME),
			   mono);
	}
	/* Producers that found the producer table full count their records
	 * there; say so once per burst (the count is a metric too). */
	np = shm_load_relaxed(&c->seg.hdr->sh_drop_noprod);
	if (np != c->noprod_seen) {
		if (c->noprod_seen == 0 || np < c->noprod_seen)
			LOGW("collector: producer table full ([shm] max_producers = %u): "
			     "records dropped, counted in shmlog.records.dropped.unregistered",
			     c->seg.max_producers);
		c->noprod_seen = np;
	}
}

static void on_wake(void *arg, int res)
{
	struct collector *c = arg;

	c->wake_armed = 0;
	if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED) {
		/* The kernel refused the wait after all: poll from now on. */
		LOGI("collector: futex wake-ups unavailable (%s); polling", strerror(-res));
		c->loop.has_futex = 0;
	}
}

/*
 * Before an idle sleep: ask producers to wake us (sh_wake = 1), and wait
 * on the word in io_uring. Returns 1 if records arrived meanwhile (do not
 * sleep). The seq_cst store orders our "sleeping" flag before the re-read
 * of the rings; a producer publishes before it reads the flag, so either
 * we see its record or it sees the flag (RING.md's "store, then check").
 */
static int prepare_sleep(struct collector *c, uint64_t now, uint64_t mono)
{
	if (!c->loop.has_futex)
		return 0;
	atomic_store_explicit((_Atomic uint32_t *)&c->seg.hdr->sh_wake, 1, memory_order_seq_cst);
	if (drain_all(c, now, mono)) {
		shm_store_relaxed(&c->seg.hdr->sh_wake, 0);
		return 1;
	}
	if (!c->wake_armed) {
		c->wake_op.fn = on_wake;
		c->wake_op.arg = c;
		if (loop_futex_wait(&c->loop, &c->wake_op, &c->seg.hdr->sh_wake, 1) == 0)
			c->wake_armed = 1;
	}
	return 0;
}

int collector_run(struct collector *c)
{
	uint64_t wait_ns = NS_PER_MS, idle_max;
	uint64_t deadline = 0;
	int ret;

	while (1) {
		uint64_t now = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
		uint32_t got;

		idle_max = (uint64_t)c->cfg->coll_poll_max_ms * NS_PER_MS; /* SIGHUP may change it */

		if (mono >= c->next_gc_ns) {
			once_a_second(c, mono);
			c->next_gc_ns = mono + 1000 * NS_PER_MS;
		}
		got = drain_all(c, now, mono);
		if (need_flush(c, mono))
			flush(c);
		release_idle(c);
		if (c->host && mono >= c->next_sample_ns) {
			sample_host(c, mono);
			c->next_sample_ns = mono + (uint64_t)c->cfg->met_sample_interval_ms * NS_PER_MS;
		}
		if (mono >= c->next_export_ns) {
			export_metrics(c, now);
			c->next_export_ns = mono + (uint64_t)c->cfg->met_export_interval_ms * NS_PER_MS;
		}
		publish_stats(c, now);
		tsc_cal_tick(&c->tsc, mono);
		if (c->stop) {
			/* Drain until the rings are empty (bounded), flush, and
			 * wait for the spool writes to be durable. */
			if (!deadline)
				deadline = mono + 5000 * NS_PER_MS;
			if (got == 0 || mono >= deadline) {
				flush(c);
				export_metrics(c, clock_ns(CLOCK_REALTIME));
				while (spool_writer_pending(&c->spool) && clock_ns(CLOCK_MONOTONIC) < deadline + 5000 * NS_PER_MS) {
					ret = loop_run_once(&c->loop, 100 * NS_PER_MS);
					if (ret < 0)
						break;
					if (!spool_writer_pending(&c->spool) && c->spool.head)
						spool_writer_tick(&c->spool, clock_ns(CLOCK_MONOTONIC));
				}
				publish_stats(c, clock_ns(CLOCK_REALTIME));
				LOGI("collector: stopped: %llu records read, %llu spooled, %llu "
				     "invalid, %llu abandoned; spool: %llu write errors, %llu "
				     "requests (%llu records) dropped",
				     (unsigned long long)c->drain.records,
				     (unsigned long long)c->records_spooled,
				     (unsigned long long)c->drain.invalid,
				     (unsigned long long)c->drain.abandoned,
				     (unsigned long long)c->spool.errors,
				     (unsigned long long)c->spool.dropped_files,
				     (unsigned long long)c->spool.dropped_records);
				return 0;
			}
			wait_ns = 0;
		} else if (got) {
			wait_ns = NS_PER_MS;
		} else {
			wait_ns = wait_ns * 2 > idle_max ? idle_max : wait_ns * 2;
			if (wait_ns > NS_PER_MS && prepare_sleep(c, now, mono))
				wait_ns = NS_PER_MS;
		}
		ret = loop_run_once(&c->loop, wait_ns ? wait_ns : 1000);
		shm_store_relaxed(&c->seg.hdr->sh_wake, 0); /* awake: producers need not call */
		if (ret < 0) {
			LOGE("collector: io_uring wait failed: %s", strerror(-ret));
			return ret;
		}
	}
}

void collector_close(struct collector *c)
{
	spool_writer_fini(&c->spool);
	drain_fini(&c->drain);
	metrics_destroy(c->metrics);
	hostmetrics_destroy(c->host);
	pbuf_fini(&c->mreq);
	log_batch_fini(&c->batch);
	audit_fini(&c->audit); /* its resource is out of the batch now */
	producers_fini(&c->prod);
	pbuf_fini(&c->req);
	loop_fini(&c->loop);
	if (c->sigfd >= 0)
		close(c->sigfd);
	free(c->cursors);
	free(c->heads);
	free(c->submitted);
	free(c->aq);
	seg_detach(&c->seg);
}
