/* SPDX-License-Identifier: MIT */
/*
 * The exporter loop. Per pass: rescan the spool every scan_interval_ms,
 * and at once when the spool watch (inotify) saw a new file while there
 * is nothing else to start; start due retries first, then start the
 * oldest new files while a request slot is free, then wait in
 * curl_multi_poll for the network, the spool watch, a retry timer or the
 * next scan.
 *
 * Order: files are taken in name (= sequence) order. A request waiting
 * for a retry keeps its place: while any request of a signal waits, no
 * newer request of that signal is started (the receiver is throttling or
 * down, and sending more would only reorder and add load), so requests
 * overtake each other only as far as max_in_flight concurrency allows.
 *
 * Durability: a spool file is unlinked only after a 2xx, or when the
 * request is dropped as a permanent error; everything else leaves it in
 * place, so a crash or SIGKILL at any point re-sends (at-least-once).
 *
 * Transport: one http_send (one curl multi handle) carries both signals,
 * with one option profile per distinct set of per-signal options, so the
 * loop sleeps in a single curl_multi_poll.
 *
 * SIGHUP reload: the configuration is loaded again as at start; a bad
 * one is refused with one line and the running one stays. A good one is
 * built into a complete new transport (options, compressors, a new multi
 * handle, hence new connections that read the TLS files afresh), then
 * the loop stops starting requests until those in flight have finished
 * on the old transport, and swaps. Nothing is cancelled, so nothing is
 * sent twice; the exception is a request still unanswered after the
 * drain limit (the request timeout), which is aborted and sent again on
 * the new transport. Retries waiting for their back-off were encoded
 * with the old options: they are released and taken again, in order,
 * from the spool. spool.dir and max_in_flight need a restart.
 */
#include "exporter.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config_diff.h"
#include "endpoint.h"
#include "file_out.h"
#include "grpc_frame.h"
#include "json_encode.h"
#include "log.h"
#include "response.h"
#include "retry.h"
#include "spool_file.h"
#include "spool_scan.h"

/* Files handled per pass in file mode, so the loop still ticks. */
#define FILE_MODE_BATCH 64
/* Longest single wait of the loop, to notice stop requests promptly. */
#define LOOP_WAIT_MAX_MS 1000
/* Distinct transport errors remembered between two deliveries. */
#define CONN_ERRS_MAX 16
/* A failure's description: endpoint plus the server's message. */
#define WHY_MAX (sizeof(((struct exporter_sig_opts *)0)->shown) + RESPONSE_MSG_MAX + 192)

enum job_state {
	JOB_FREE = 0,
	JOB_IN_FLIGHT = 1,
	JOB_WAITING = 2, /* back-off before the next attempt */
	JOB_STATE_NR	 /* count sentinel */
};

struct job {
	enum job_state state;
	int sig;
	char name[SPOOL_SCAN_NAME_MAX];
	char path[PATH_MAX];
	uint32_t records; /* sf_records of the spool header */
	int fd;		  /* the file, under a shared flock (spool_claim_file), or -1 */
	void *body;	  /* wire bytes, owned */
	size_t body_len;
	unsigned attempt; /* retries so far */
	uint64_t first_ms;
	uint64_t due_ms;
	uint32_t hint_ms; /* next retry's delay asked by the server (gRPC RetryInfo) */
};

/* What one configuration makes of the transport; replaced whole by a
 * reload. */
struct exp_tr {
	struct exporter_sig_opts so[SPOOL_SIG_NR]; /* per signal, resolved once */
	struct compress *cz[SPOOL_SIG_NR];
	/* One transport for every signal; signals with the same options share
	 * a profile (the usual case). NULL in file mode. */
	struct http_send *hs;
	unsigned prof[SPOOL_SIG_NR];
};

/* A configuration loaded by a reload, with its transport built. */
struct exp_conf {
	struct shmlog_config cfg;
	struct exp_tr tr; /* pointers into cfg */
};

struct exporter {
	const struct shmlog_config *cfg; /* the caller's, or &own->cfg */
	struct exp_conf *own;		 /* the running reloaded configuration */
	struct exp_conf *next;		 /* waiting for requests in flight */
	uint64_t next_since_ms;
	struct exp_tr tr;
	/* Reload source (exporter_set_reload()); none: SIGHUP is ignored. */
	const char *rl_file;
	int rl_argc;
	char **rl_argv;
	volatile sig_atomic_t *hup;
	unsigned reloads;
	struct retry_policy rp;
	struct job *jobs;
	unsigned njobs;
	struct spool_scan_list lists[SPOOL_SIG_NR];
	size_t cursor[SPOOL_SIG_NR];
	struct spool_buf rbuf; /* spool file being encoded; reused */
	int watch_fd;	       /* spool_scan_watch_open(), or -1: periodic scans only */
	int spool_changed;     /* the watch saw a new file since the last scan */
	uint64_t next_scan_ms;
	int fresh_scan; /* nothing was taken since the last scan */
	int once;
	int stopping;
	int failed;	   /* --once: something could not be delivered */
	int status_warned; /* a status write failure was logged */
	uint64_t partials; /* 2xx responses with a partial success */
	uint32_t rnd;
	/* Reasons logged once: HTTP codes (0 = no response), 600 + gRPC code. */
	uint8_t logged[(600 + GRPC_CODE_NR) / 8 + 1];
	uint32_t conn_errs[CONN_ERRS_MAX]; /* transport errors logged since the last 2xx */
	unsigned n_conn_errs;
	struct status st;
};

/* Signals the exporter ships (traces have no writer yet). */
static const int exp_sigs[] = {SPOOL_SIG_LOGS, SPOOL_SIG_METRICS};
#define NSIGS (sizeof(exp_sigs) / sizeof(exp_sigs[0]))

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t next_rnd(struct exporter *ex)
{
	/* xorshift32: jitter needs spread, not secrecy. */
	uint32_t x = ex->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	ex->rnd = x;
	return x;
}

int exporter_protocol_parse(const char *name)
{
	if (!name || !*name || strcasecmp(name, "http/protobuf") == 0)
		return REQUEST_BODY_PROTOBUF;
	if (strcasecmp(name, "http/json") == 0)
		return REQUEST_BODY_JSON;
	if (strcasecmp(name, "grpc") == 0)
		return REQUEST_BODY_GRPC;
	return -EINVAL;
}

int exporter_file_mode(const struct shmlog_config *cfg)
{
	return !cfg->exp_endpoint[0] && !cfg->exp_logs.endpoint[0] && !cfg->exp_metrics.endpoint[0];
}

static const struct config_signal *sig_cfg(const struct shmlog_config *cfg, int sig)
{
	return sig == SPOOL_SIG_METRICS ? &cfg->exp_metrics : &cfg->exp_logs;
}

static const char *pick(const char *per_signal, const char *generic)
{
	return per_signal[0] ? per_signal : generic;
}

int exporter_signal_opts(const struct shmlog_config *cfg, int sig, struct exporter_sig_opts *o,
			 char *err, size_t errlen)
{
	const struct config_signal *sc = sig_cfg(cfg, sig);
	const char *name = spool_signal_name(sig);
	const char *base = cfg->exp_endpoint[0] ? cfg->exp_endpoint : ENDPOINT_DEFAULT_BASE;
	const char *compression;
	char path[32];
	unsigned i, j, n;
	int ret;

	memset(o, 0, sizeof(*o));
	o->protocol = pick(sc->protocol, cfg->exp_protocol);
	ret = exporter_protocol_parse(o->protocol);
	if (ret < 0) {
		snprintf(err, errlen, "%s: protocol '%s' is not %s", name, o->protocol,
			 "http/protobuf, http/json or grpc");
		return ret;
	}
	o->proto = (enum request_body_proto)ret;
	compression = pick(sc->compression, cfg->exp_compression);
	ret = compress_parse(compression);
	if (ret < 0) {
		snprintf(err, errlen, "%s: compression '%s': expected gzip, zstd or none", name,
			 compression);
		return -EINVAL;
	}
	o->ck = (enum compress_kind)ret;
	o->level = o->ck == COMPRESS_GZIP   ? (int)cfg->exp_gzip_level
		   : o->ck == COMPRESS_ZSTD ? (int)cfg->exp_zstd_level
					    : 0;
	if (o->proto == REQUEST_BODY_GRPC) {
		/* gRPC: an endpoint is a target (scheme, host and port); the
		 * path is the service's Export method, per-signal or not. */
		const char *target = sc->endpoint[0]	     ? sc->endpoint
				     : cfg->exp_endpoint[0] ? cfg->exp_endpoint
							    : ENDPOINT_DEFAULT_GRPC;

		ret = endpoint_grpc_url(target,
					sig == SPOOL_SIG_LOGS ? GRPC_PATH_LOGS : GRPC_PATH_METRICS,
					o->url, sizeof(o->url));
		if (ret < 0) {
			snprintf(err, errlen, "%s: grpc endpoint: %s", name,
				 ret == -EINVAL ? "expected http://host:port or https://host:port"
						: "too long");
			return ret;
		}
	} else {
		snprintf(path, sizeof(path), "v1/%s", name);
		ret = endpoint_url(base, sc->endpoint, path, o->url, sizeof(o->url));
		if (ret < 0) {
			snprintf(err, errlen, "%s: endpoint too long", name);
			return ret;
		}
	}
	endpoint_redact(o->url, o->shown, sizeof(o->shown));
	/* config.c validated the text: decimal in range, "true" or "false". */
	o->timeout_ms =
	    sc->timeout_ms[0] ? (uint32_t)strtoul(sc->timeout_ms, NULL, 10) : cfg->exp_timeout_ms;
	o->ca_file = pick(sc->ca_file, cfg->exp_ca_file);
	o->client_cert = pick(sc->client_cert, cfg->exp_client_cert);
	o->client_key = pick(sc->client_key, cfg->exp_client_key);
	o->insecure = sc->insecure[0] ? !strcmp(sc->insecure, "true") : cfg->exp_insecure != 0;

	n = cfg->exp_nheaders < CONFIG_MAX_HEADERS ? cfg->exp_nheaders : CONFIG_MAX_HEADERS;
	memcpy(o->headers, cfg->exp_headers, n * sizeof(o->headers[0]));
	for (i = 0; i < sc->nheaders && i < CONFIG_MAX_HEADERS; i++) {
		for (j = 0; j < n; j++)
			if (!strcasecmp(o->headers[j].name, sc->headers[i].name))
				break;
		if (j == n) {
			if (n >= CONFIG_MAX_HEADERS) {
				snprintf(err, errlen,
					 "%s: more than %d headers with the generic ones", name,
					 CONFIG_MAX_HEADERS);
				return -EINVAL;
			}
			n++;
		}
		o->headers[j] = sc->headers[i];
	}
	o->nheaders = n;
	return 0;
}

void exporter_sig_http_opts(const struct exporter_sig_opts *so, struct http_send_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms = so->timeout_ms;
	o->content_type = request_body_content_type(so->proto);
	o->content_encoding = compress_encoding(so->ck);
	o->grpc = so->proto == REQUEST_BODY_GRPC;
	o->ca_file = so->ca_file;
	o->client_cert = so->client_cert;
	o->client_key = so->client_key;
	o->insecure = so->insecure;
	o->headers = so->headers;
	o->nheaders = so->nheaders;
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* 1 when two signals can share one option profile. */
static int same_transport(const struct http_send_opts *a, const struct http_send_opts *b)
{
	unsigned i;

	if (a->timeout_ms != b->timeout_ms || a->insecure != b->insecure ||
	    a->nheaders != b->nheaders || !str_eq(a->content_type, b->content_type) ||
	    !str_eq(a->content_encoding, b->content_encoding) || !str_eq(a->ca_file, b->ca_file) ||
	    !str_eq(a->client_cert, b->client_cert) || !str_eq(a->client_key, b->client_key))
		return 0;
	for (i = 0; i < a->nheaders; i++)
		if (strcmp(a->headers[i].name, b->headers[i].name) ||
		    strcmp(a->headers[i].value, b->headers[i].value))
			return 0;
	return 1;
}

const struct status *exporter_status(const struct exporter *ex)
{
	return &ex->st;
}

/* Accepts a zeroed or half-built tr. */
static void tr_fini(struct exp_tr *tr)
{
	unsigned i;

	http_send_destroy(tr->hs);
	tr->hs = NULL;
	for (i = 0; i < SPOOL_SIG_NR; i++) {
		compress_destroy(tr->cz[i]);
		tr->cz[i] = NULL;
	}
}

static void conf_free(struct exp_conf *c)
{
	if (!c)
		return;
	tr_fini(&c->tr);
	free(c);
}

void exporter_destroy(struct exporter *ex)
{
	unsigned i;

	if (!ex)
		return;
	/* Transports before the bodies they may still point to. */
	tr_fini(&ex->tr);
	conf_free(ex->next);
	for (i = 0; ex->jobs && i < ex->njobs; i++) {
		free(ex->jobs[i].body);
		if (ex->jobs[i].fd >= 0)
			(void)close(ex->jobs[i].fd); /* read-only; drops the claim */
	}
	free(ex->jobs);
	for (i = 0; i < SPOOL_SIG_NR; i++)
		spool_scan_free(&ex->lists[i]);
	spool_buf_fini(&ex->rbuf);
	if (ex->watch_fd >= 0)
		(void)close(ex->watch_fd); /* inotify: nothing to flush */
	/* After tr_fini: tr pointed into own->cfg. */
	free(ex->own);
	free(ex);
}

/*
 * Builds tr for cfg: every signal's options (also in file mode: bad
 * values are refused either way), one compressor per signal and, unless
 * cfg is in file mode, one transport with a profile per distinct option
 * set. 0, or -errno with the reason in err (never a header value); tr may
 * be half built then (tr_fini() it).
 */
static int tr_build(struct exp_tr *tr, const struct shmlog_config *cfg, unsigned max_in_flight,
		    char *err, size_t errlen)
{
	struct http_send_opts o[NSIGS];
	unsigned i, j, np = 0;
	int sig, ret;

	for (i = 0; i < NSIGS; i++) {
		sig = exp_sigs[i];
		ret = exporter_signal_opts(cfg, sig, &tr->so[sig], err, errlen);
		if (ret < 0)
			return ret;
		ret = compress_create(tr->so[sig].ck, tr->so[sig].level, &tr->cz[sig]);
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot create the compressor: %s",
				 spool_signal_name(sig), strerror(-ret));
			return ret;
		}
	}
	if (exporter_file_mode(cfg))
		return 0;
	for (i = 0; i < NSIGS; i++) {
		sig = exp_sigs[i];
		exporter_sig_http_opts(&tr->so[sig], &o[np]);
		for (j = 0; j < np; j++)
			if (same_transport(&o[np], &o[j]))
				break;
		tr->prof[sig] = j;
		if (j == np)
			np++;
	}
	ret = http_send_create(o, np, max_in_flight, &tr->hs);
	if (ret < 0)
		snprintf(err, errlen, "cannot set up the transport: %s", strerror(-ret));
	return ret;
}

/* Sets the status file's endpoint, protocol and compression fields. */
static void status_endpoints(struct exporter *ex)
{
	const struct exporter_sig_opts *lo = &ex->tr.so[SPOOL_SIG_LOGS];
	const struct exporter_sig_opts *mo = &ex->tr.so[SPOOL_SIG_METRICS];
	char shown[PATH_MAX + 16];

	if (!ex->tr.hs) {
		snprintf(shown, sizeof(shown), "file://%s/out", ex->cfg->spool_dir);
		status_set_logs(&ex->st, shown, "file/json", "none");
		status_set_metrics(&ex->st, shown, "file/json", "none");
		return;
	}
	status_set_logs(&ex->st, lo->url, request_body_proto_name(lo->proto),
			compress_name(lo->ck));
	status_set_metrics(&ex->st, mo->url, request_body_proto_name(mo->proto),
			   compress_name(mo->ck));
}

static void set_retry_policy(struct exporter *ex)
{
	ex->rp.initial_ms = ex->cfg->exp_retry_initial_ms;
	ex->rp.max_ms = ex->cfg->exp_retry_max_ms;
	ex->rp.max_elapsed_ms = ex->cfg->exp_retry_max_elapsed_ms;
}

int exporter_create(const struct shmlog_config *cfg, struct exporter **out)
{
	struct exporter *ex;
	char err[256];
	int ret;

	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	ex->cfg = cfg;
	ex->watch_fd = -1;
	set_retry_policy(ex);
	ex->rnd = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9u;
	if (!ex->rnd)
		ex->rnd = 1;
	ex->njobs = cfg->exp_max_in_flight ? cfg->exp_max_in_flight : 1;
	ex->jobs = calloc(ex->njobs, sizeof(*ex->jobs));
	for (unsigned k = 0; ex->jobs && k < ex->njobs; k++)
		ex->jobs[k].fd = -1;
	if (!ex->jobs) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	ret = spool_dirs_create(cfg->spool_dir);
	if (ret < 0) {
		LOGE("exporter: cannot create spool %s: %s", cfg->spool_dir, strerror(-ret));
		goto err_destroy;
	}
	ret = tr_build(&ex->tr, cfg, ex->njobs, err, sizeof(err));
	if (ret < 0) {
		LOGE("exporter: %s", err);
		goto err_destroy;
	}
	ret = spool_scan_watch_open(cfg->spool_dir, exp_sigs, NSIGS);
	if (ret < 0)
		LOGI("exporter: cannot watch %s for new files (%s); they are taken at the "
		     "rescan every scan_interval_ms",
		     cfg->spool_dir, strerror(-ret));
	else
		ex->watch_fd = ret;
	ret = status_init(&ex->st, cfg->spool_dir, "", "", "");
	if (ret < 0)
		goto err_destroy;
	status_endpoints(ex);
	status_carry(&ex->st, cfg->spool_dir);
	*out = ex;
	return 0;

err_destroy:
	exporter_destroy(ex);
	return ret;
}

/* ---- the spool side ---------------------------------------------------- */

static void rescan(struct exporter *ex, uint64_t now)
{
	uint64_t files = 0, bytes = 0;
	unsigned i;
	int ret;

	for (i = 0; i < NSIGS; i++) {
		int sig = exp_sigs[i];

		ret = spool_scan_list(ex->cfg->spool_dir, sig, &ex->lists[sig]);
		if (ret < 0)
			LOGW("exporter: cannot list %s/%s: %s", ex->cfg->spool_dir,
			     spool_signal_name(sig), strerror(-ret));
		ex->cursor[sig] = 0;
		files += ex->lists[sig].n;
		bytes += ex->lists[sig].bytes;
	}
	ex->st.spool_files = files;
	ex->st.spool_bytes = bytes;
	ex->next_scan_ms =
	    now + (ex->cfg->exp_scan_interval_ms ? ex->cfg->exp_scan_interval_ms : 200);
	ex->fresh_scan = 1;
	ex->spool_changed = 0;
}

static int in_jobs(const struct exporter *ex, int sig, const char *name)
{
	unsigned i;

	for (i = 0; i < ex->njobs; i++)
		if (ex->jobs[i].state != JOB_FREE && ex->jobs[i].sig == sig &&
		    strcmp(ex->jobs[i].name, name) == 0)
			return 1;
	return 0;
}

static int sig_waiting(const struct exporter *ex, int sig)
{
	unsigned i;

	for (i = 0; i < ex->njobs; i++)
		if (ex->jobs[i].state == JOB_WAITING && ex->jobs[i].sig == sig)
			return 1;
	return 0;
}

/* The oldest file not yet taken, of a signal that is not waiting for a
 * retry. Returns its entry and signal, or NULL. Does not consume it. */
static const struct spool_scan_entry *next_file(struct exporter *ex, int *sig_out)
{
	const struct spool_scan_entry *best = NULL, *e;
	unsigned i;

	for (i = 0; i < NSIGS; i++) {
		int sig = exp_sigs[i];
		struct spool_scan_list *l = &ex->lists[sig];

		if (sig_waiting(ex, sig))
			continue;
		while (ex->cursor[sig] < l->n && in_jobs(ex, sig, l->ent[ex->cursor[sig]].name))
			ex->cursor[sig]++;
		if (ex->cursor[sig] >= l->n)
			continue;
		e = &l->ent[ex->cursor[sig]];
		if (!best || strcmp(e->name, best->name) < 0) {
			best = e;
			*sig_out = sig;
		}
	}
	return best;
}

static struct job *free_job(struct exporter *ex)
{
	unsigned i;

	for (i = 0; i < ex->njobs; i++)
		if (ex->jobs[i].state == JOB_FREE)
			return &ex->jobs[i];
	return NULL;
}

static void quarantine(struct exporter *ex, int sig, const char *name, const char *why)
{
	int ret = spool_scan_quarantine(ex->cfg->spool_dir, sig, name);

	if (ret < 0 && ret != -ENOENT) {
		LOGE("exporter: cannot quarantine %s/%s: %s", spool_signal_name(sig), name,
		     strerror(-ret));
		ex->failed = 1;
		return;
	}
	ex->st.quarantined_files++;
	/* Now, not at the next tick: a killed exporter must not forget a
	 * loss it counted (the file is gone from the queue already). */
	(void)status_write(&ex->st, now_ms());
	ex->failed = 1; /* --once: quarantined is not delivered */
	LOGW("exporter: %s/%s: %s; moved to %s/quarantine", spool_signal_name(sig), name, why,
	     ex->cfg->spool_dir);
}

static void remove_file(struct exporter *ex, const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		LOGE("exporter: cannot delete %s: %s (it will be sent again)", path,
		     strerror(errno));
}

/* Ends the claim; whoever unlinks the file does so before this. */
static void job_unclaim(struct job *job)
{
	if (job->fd >= 0)
		(void)close(job->fd); /* read-only: close cannot lose data */
	job->fd = -1;
}

/*
 * Reads a spool file into job->body. Returns 1 when the job is ready, 0
 * when the file was skipped (gone or quarantined), -errno on a failure
 * that leaves the file in place.
 */
static int load_job(struct exporter *ex, struct job *job, int sig, const char *name)
{
	struct spool_file_hdr hdr;
	const void *payload;
	size_t plen;
	int ret;

	ret = spool_scan_path(job->path, sizeof(job->path), ex->cfg->spool_dir, sig, name);
	if (ret < 0)
		return ret;
	/* Claimed until acknowledged or dropped: the collector's budget
	 * never deletes (and counts as lost) what is being sent. The bytes
	 * are needed only until the body is built. */
	ret = spool_claim_file_buf(job->path, &job->fd, &ex->rbuf, &hdr, &payload, &plen);
	if (ret == -ENOENT || ret == -EBUSY)
		return 0; /* deleted by the spool budget, counted there */
	if (ret == -EBADMSG || ret == -EMSGSIZE) {
		quarantine(ex, sig, name,
			   ret == -EBADMSG ? "corrupt spool file" : "oversized spool file");
		return 0;
	}
	if (ret < 0) {
		LOGE("exporter: cannot read %s: %s", job->path, strerror(-ret));
		return ret;
	}
	if (hdr.sf_signal != sig) {
		job_unclaim(job);
		quarantine(ex, sig, name, "spool file of another signal");
		return 0;
	}
	job->sig = sig;
	snprintf(job->name, sizeof(job->name), "%s", name);
	job->records = hdr.sf_records;
	job->attempt = 0;
	ret = request_body_build(ex->tr.so[sig].proto, ex->tr.cz[sig], sig, payload, plen,
				 &job->body, &job->body_len);
	spool_buf_trim(&ex->rbuf);
	if (ret < 0)
		job_unclaim(job);
	if (ret == -EBADMSG) {
		quarantine(ex, sig, name, "payload is not a valid OTLP request");
		return 0;
	}
	if (ret < 0) {
		LOGE("exporter: cannot encode %s: %s", job->path, strerror(-ret));
		return ret;
	}
	return 1;
}

static void job_free(struct job *job)
{
	job_unclaim(job);
	free(job->body);
	job->body = NULL;
	job->body_len = 0;
	job->state = JOB_FREE;
}

/* ---- outcomes ------------------------------------------------------------ */

static int log_once(struct exporter *ex, long code)
{
	unsigned c = code >= 0 && code < 600 + GRPC_CODE_NR ? (unsigned)code : 0;

	if (ex->logged[c / 8] & (1u << (c % 8)))
		return 0;
	ex->logged[c / 8] |= (uint8_t)(1u << (c % 8));
	return 1;
}

static void drop_job(struct exporter *ex, struct job *job, long code, const char *why)
{
	remove_file(ex, job->path);
	ex->st.dropped_requests++;
	ex->st.dropped_records += job->records;
	(void)status_write(&ex->st, now_ms()); /* as in quarantine() */
	ex->failed = 1;
	/* Once per status code: a receiver that rejects everything must not
	 * turn the exporter's log into a second copy of the data. */
	if (log_once(ex, code))
		LOGE("exporter: dropped %s (%u records): %s; later drops for the same reason "
		     "are only counted (dropped_requests in %s)",
		     job->path, job->records, why, ex->st.path);
	job_free(job);
}

/* True the first time a transport error (no HTTP response: TLS, connect,
 * reset) is seen since the last delivery. Digits do not count, so "after
 * 3 ms" and "after 4 ms" are the same error. */
static int conn_err_new(struct exporter *ex, const char *err)
{
	uint32_t h = 2166136261u;
	unsigned i;

	for (; *err; err++)
		if (*err < '0' || *err > '9')
			h = (h ^ (uint8_t)*err) * 16777619u;
	for (i = 0; i < ex->n_conn_errs; i++)
		if (ex->conn_errs[i] == h)
			return 0;
	if (ex->n_conn_errs < CONN_ERRS_MAX)
		ex->conn_errs[ex->n_conn_errs++] = h;
	return 1;
}

static void retry_job(struct exporter *ex, struct job *job, long code, const char *retry_after,
		      const char *why, int quiet)
{
	uint64_t now = now_ms(), elapsed;
	uint32_t delay, ra_ms;
	char reason[WHY_MAX + 96];

	job->attempt++;
	delay = retry_backoff_ms(&ex->rp, job->attempt, next_rnd(ex));
	/* The server knows its own load better than our back-off does. */
	if (retry_after && *retry_after && retry_after_parse(retry_after, time(NULL), &ra_ms) == 0)
		delay = ra_ms;
	if (job->hint_ms) {
		delay = job->hint_ms;
		job->hint_ms = 0;
	}
	elapsed = now + delay - job->first_ms;
	if (ex->rp.max_elapsed_ms && elapsed > ex->rp.max_elapsed_ms) {
		snprintf(reason, sizeof(reason), "gave up after %u attempts over %u ms: %s",
			 job->attempt, ex->rp.max_elapsed_ms, why);
		drop_job(ex, job, code, reason);
		return;
	}
	if (ex->once && !ex->rp.max_elapsed_ms && elapsed > EXPORTER_ONCE_GIVE_UP_MS) {
		LOGE("exporter: --once: %s still failing after %u attempts (%s); left in the spool",
		     job->path, job->attempt, why);
		ex->failed = 1;
		ex->stopping = 1;
		job_free(job);
		return;
	}
	ex->st.retries++;
	job->state = JOB_WAITING;
	job->due_ms = now + delay;
	/* First failure, then every power of two: enough to see an outage,
	 * not one line per attempt. */
	if (!quiet && !ex->stopping && (job->attempt & (job->attempt - 1)) == 0)
		LOGW("exporter: %s: %s; retry %u in %u ms", spool_signal_name(job->sig), why,
		     job->attempt, delay);
}

/* Acknowledged (2xx, or gRPC OK), with ri the partial success. */
static void delivered(struct exporter *ex, struct job *job, const struct response_info *ri)
{
	if (ri->rejected > 0 || ri->message[0]) {
		ex->partials++;
		/* Powers of two: a receiver that trims every request
		 * must not flood the log. */
		if ((ex->partials & (ex->partials - 1)) == 0)
			LOGW("exporter: partial success (#%llu): %lld %s rejected%s%s",
			     (unsigned long long)ex->partials, (long long)ri->rejected,
			     job->sig == SPOOL_SIG_METRICS ? "data points" : "log records",
			     ri->message[0] ? ": " : "", ri->message);
		if (ri->rejected > 0)
			ex->st.rejected_records += (uint64_t)ri->rejected;
	}
	remove_file(ex, job->path);
	ex->st.sent_requests++;
	ex->st.sent_records += job->records;
	ex->st.last_error[0] = '\0';
	ex->n_conn_errs = 0;
	job_free(job);
}

/*
 * A gRPC call that got an answer: grpc-status (trailers, or the headers of
 * a trailers-only answer), else the HTTP status mapped the way gRPC maps
 * it; retried or dropped by the OTLP/gRPC rules (grpc_frame.h), with a
 * RetryInfo delay standing in for Retry-After.
 */
static void grpc_done(struct exporter *ex, struct job *job, const struct http_result *res)
{
	struct grpc_outcome go;
	struct response_info ri;
	char why[WHY_MAX + 64], http[64]; /* + the status name and the HTTP note */
	int ret;

	grpc_frame_outcome(res->status, res->grpc_status, res->grpc_message, res->grpc_details,
			   &go);
	ex->st.last_grpc_status = go.code;
	if (go.code == GRPC_OK) {
		ret = grpc_frame_response(job->sig, res->grpc_encoding, res->body, res->body_len,
					  &ri);
		if (ret < 0 && log_once(ex, 600 + GRPC_OK))
			LOGW("exporter: %s: OK, but the answer does not decode (%s); counted as "
			     "delivered without partial-success details",
			     spool_signal_name(job->sig), strerror(-ret));
		delivered(ex, job, &ri);
		return;
	}
	http[0] = '\0';
	if (go.from_http)
		snprintf(http, sizeof(http), " (HTTP%s %ld, no grpc-status)",
			 res->http2 ? "" : "/1.x", res->status);
	status_set_error(&ex->st, "gRPC %s%s%s%s", grpc_code_name(go.code), http,
			 go.message[0] ? ": " : "", go.message);
	snprintf(why, sizeof(why), "gRPC %s from %s%s%s%s", grpc_code_name(go.code),
		 ex->st.endpoint, http, go.message[0] ? ": " : "", go.message);
	if (!go.retryable) {
		drop_job(ex, job, 600 + go.code, why);
		return;
	}
	job->hint_ms = go.has_retry_info ? go.retry_delay_ms : 0;
	retry_job(ex, job, 600 + go.code, go.from_http ? res->retry_after : NULL, why, 0);
}

static void on_done(void *arg, void *user, const struct http_result *res)
{
	struct exporter *ex = arg;
	struct job *job = user;
	struct response_info ri;
	char why[WHY_MAX];

	ex->fresh_scan = 0;
	ex->st.last_latency_ms = res->latency_ms;
	status_latency(&ex->st, res->latency_ms);
	if (res->status == 0) {
		ex->st.last_http_status = -1;
		/* gRPC reports a call that got no answer as UNAVAILABLE. */
		if (ex->tr.so[job->sig].proto == REQUEST_BODY_GRPC)
			ex->st.last_grpc_status = GRPC_UNAVAILABLE;
		status_set_error(&ex->st, "connection: %s", res->err);
		snprintf(why, sizeof(why), "no response from %s: %s", ex->tr.so[job->sig].shown,
			 res->err);
		/* Once per distinct error until something is delivered: a bad
		 * certificate or a refused handshake fails every retry alike. */
		if (!ex->stopping && conn_err_new(ex, res->err))
			LOGE("exporter: %s: %s; retrying with back-off (this error is logged once, "
			     "retries are counted in %s)",
			     spool_signal_name(job->sig), why, ex->st.path);
		retry_job(ex, job, 0, NULL, why, 1);
		return;
	}
	ex->st.last_http_status = (int)res->status;
	if (ex->tr.so[job->sig].proto == REQUEST_BODY_GRPC) {
		grpc_done(ex, job, res);
		return;
	}
	if (res->status >= 200 && res->status < 300) {
		/* A body that does not decode leaves ri empty: delivered all
		 * the same, without partial-success details. */
		(void)response_parse_success(job->sig, res->content_type, res->body, res->body_len,
					     &ri);
		delivered(ex, job, &ri);
		return;
	}
	status_auth_failure(&ex->st, res->status); /* 401, 403: audit event */
	response_parse_error(res->content_type, res->body, res->body_len, &ri);
	status_set_error(&ex->st, "HTTP %ld%s%s", res->status, ri.message[0] ? ": " : "",
			 ri.message);
	snprintf(why, sizeof(why), "HTTP %ld from %s%s%s", res->status, ex->tr.so[job->sig].shown,
		 ri.message[0] ? ": " : "", ri.message);
	if (retry_is_retryable(res->status)) {
		retry_job(ex, job, res->status, res->retry_after, why, 0);
		return;
	}
	/* OTLP makes 413 permanent, and re-encoding a spooled request into
	 * halves is not worth the risk of sending part of it twice: say how
	 * to make the next requests fit. */
	if (res->status == 413)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " (request of %zu bytes; lower [collector] max_batch_bytes = %u or "
			 "max_export_batch_size = %u)",
			 job->body_len, ex->cfg->coll_max_batch_bytes, ex->cfg->coll_max_batch);
	drop_job(ex, job, res->status, why);
}

/* ---- dispatch -------------------------------------------------------------- */

static void start_job(struct exporter *ex, struct job *job)
{
	int ret = http_send_start(ex->tr.hs, ex->tr.prof[job->sig], ex->tr.so[job->sig].url,
				  job->body, job->body_len, job);

	if (ret < 0) {
		retry_job(ex, job, 0, NULL, "cannot start request", 0);
		return;
	}
	job->state = JOB_IN_FLIGHT;
}

static int file_mode_one(struct exporter *ex, int sig, const char *name)
{
	struct spool_file_hdr hdr;
	char path[PATH_MAX];
	const void *payload;
	char *json = NULL;
	size_t plen, jlen;
	int fd, ret;

	ret = spool_scan_path(path, sizeof(path), ex->cfg->spool_dir, sig, name);
	if (ret < 0)
		return ret;
	ret = spool_claim_file_buf(path, &fd, &ex->rbuf, &hdr, &payload, &plen);
	if (ret == -ENOENT || ret == -EBUSY)
		return 0; /* deleted by the spool budget, counted there */
	if (ret == -EBADMSG || ret == -EMSGSIZE) {
		quarantine(ex, sig, name,
			   ret == -EBADMSG ? "corrupt spool file" : "oversized spool file");
		return 0;
	}
	if (ret < 0) {
		LOGE("exporter: cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	ret =
	    hdr.sf_signal == sig ? json_encode_payload(sig, payload, plen, &json, &jlen) : -EBADMSG;
	spool_buf_trim(&ex->rbuf);
	if (ret < 0)
		(void)close(fd); /* read-only; ends the claim */
	if (ret == -EBADMSG) {
		quarantine(ex, sig, name, "payload is not a valid OTLP request");
		return 0;
	}
	if (ret < 0)
		return ret;
	ret = file_out_append(ex->cfg->spool_dir, sig, json, jlen);
	free(json);
	if (ret < 0)
		(void)close(fd);
	if (ret < 0) {
		ex->st.last_http_status = -1;
		status_set_error(&ex->st, "out file: %s", strerror(-ret));
		LOGE("exporter: cannot append to %s/out: %s", ex->cfg->spool_dir, strerror(-ret));
		return ret;
	}
	remove_file(ex, path);
	(void)close(fd); /* after the unlink: see spool_claim_file() */
	ex->st.sent_requests++;
	ex->st.sent_records += hdr.sf_records;
	return 0;
}

/* Returns -errno when the pass had to stop on a failure that keeps the
 * file (the next scan tries again). */
static int dispatch(struct exporter *ex, uint64_t now)
{
	const struct spool_scan_entry *e;
	struct job *job;
	unsigned i, n = 0;
	int sig = 0, ret;

	/* A reload waits for the requests in flight: start nothing new on
	 * the old transport. */
	if (ex->next)
		return 0;
	if (!ex->tr.hs) {
		while (!ex->stopping && n++ < FILE_MODE_BATCH && (e = next_file(ex, &sig))) {
			ex->cursor[sig]++;
			ex->fresh_scan = 0;
			ret = file_mode_one(ex, sig, e->name);
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	/* Retries first: they keep their place ahead of newer files. */
	for (i = 0; i < ex->njobs && !ex->stopping; i++) {
		job = &ex->jobs[i];
		if (job->state == JOB_WAITING && job->due_ms <= now &&
		    http_send_can_start(ex->tr.hs))
			start_job(ex, job);
	}
	while (!ex->stopping && (job = free_job(ex)) && (e = next_file(ex, &sig))) {
		if (!http_send_can_start(ex->tr.hs))
			break;
		ex->cursor[sig]++;
		ex->fresh_scan = 0;
		ret = load_job(ex, job, sig, e->name);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		job->first_ms = now;
		start_job(ex, job);
	}
	return 0;
}

static int busy(const struct exporter *ex)
{
	unsigned i;

	for (i = 0; i < ex->njobs; i++)
		if (ex->jobs[i].state != JOB_FREE)
			return 1;
	return 0;
}

/* The longest per-request timeout of the signals; 0 when one has none. */
static uint64_t drain_limit_ms(const struct exporter *ex)
{
	uint64_t limit = 0;
	unsigned i;

	for (i = 0; i < NSIGS; i++) {
		uint32_t t = ex->tr.so[exp_sigs[i]].timeout_ms;

		if (t == 0)
			return EXPORTER_DRAIN_DEFAULT_MS;
		if (t > limit)
			limit = t;
	}
	return limit ? limit : EXPORTER_DRAIN_DEFAULT_MS;
}

static int wait_ms(struct exporter *ex, uint64_t now)
{
	uint64_t until = ex->next_scan_ms;
	unsigned i;
	int sig;

	if (!ex->tr.hs && next_file(ex, &sig))
		return 0;
	/* A reload waiting for requests in flight starts no retry: wait for
	 * the network, or for the drain limit. */
	if (ex->next) {
		uint64_t limit = ex->next_since_ms + drain_limit_ms(ex);

		if (limit < until)
			until = limit;
	}
	for (i = 0; i < ex->njobs && !ex->next; i++)
		if (ex->jobs[i].state == JOB_WAITING && ex->jobs[i].due_ms < until)
			until = ex->jobs[i].due_ms;
	if (until <= now)
		return 0;
	return until - now > LOOP_WAIT_MAX_MS ? LOOP_WAIT_MAX_MS : (int)(until - now);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	/* A signal cuts the sleep short, which is what stop needs. */
	nanosleep(&ts, NULL);
}

static unsigned busy_all(const struct exporter *ex)
{
	return ex->tr.hs ? http_send_busy(ex->tr.hs) : 0;
}

/* Reads the spool watch's events, so that it cannot keep a wait short. */
static void watch_drain(struct exporter *ex)
{
	int ret = spool_scan_watch_drain(ex->watch_fd);

	if (ret > 0)
		ex->spool_changed = 1;
	else if (ret < 0) {
		LOGW("exporter: spool watch: %s; new files are taken at the rescan every "
		     "scan_interval_ms",
		     strerror(-ret));
		(void)close(ex->watch_fd); /* inotify: nothing to flush */
		ex->watch_fd = -1;
	}
}

static int poll_all(struct exporter *ex, int timeout_ms)
{
	int woken, ret;

	ret = http_send_poll(ex->tr.hs, timeout_ms, ex->watch_fd, &woken, on_done, ex);
	if (woken)
		watch_drain(ex);
	return ret;
}

/* File mode's wait: the spool watch, or a plain sleep without one. */
static void file_mode_wait(struct exporter *ex, int ms)
{
	struct pollfd pfd = {.fd = ex->watch_fd, .events = POLLIN};

	if (ex->watch_fd < 0) {
		sleep_ms(ms);
		return;
	}
	/* A signal cuts the wait short (EINTR), which is what stop needs. */
	if (poll(&pfd, 1, ms) > 0)
		watch_drain(ex);
}

static void drain(struct exporter *ex)
{
	uint64_t deadline = now_ms() + drain_limit_ms(ex), now;

	ex->stopping = 1;
	while (busy_all(ex) && (now = now_ms()) < deadline) {
		uint64_t left = deadline - now;

		if (poll_all(ex, left > 100 ? 100 : (int)left) < 0)
			break;
	}
	if (busy_all(ex))
		LOGW("exporter: %u requests still in flight at exit; their files stay in the spool",
		     busy_all(ex));
}

/* ---- SIGHUP reload ---------------------------------------------------------- */

/* The keys the exporter uses; the live ones take effect at the swap. */
static const struct config_diff_key exp_keys[] = {
	CONFIG_DIFF_KEY("log.level", log_level, 1),
	CONFIG_DIFF_KEY("exporter.endpoint", exp_endpoint, 1),
	CONFIG_DIFF_KEY("exporter.protocol", exp_protocol, 1),
	CONFIG_DIFF_KEY("exporter.compression", exp_compression, 1),
	CONFIG_DIFF_KEY("exporter.gzip_level", exp_gzip_level, 1),
	CONFIG_DIFF_KEY("exporter.zstd_level", exp_zstd_level, 1),
	CONFIG_DIFF_KEY("exporter.headers", exp_headers, 1),
	CONFIG_DIFF_KEY("exporter.timeout_ms", exp_timeout_ms, 1),
	CONFIG_DIFF_KEY("exporter.retry_initial_ms", exp_retry_initial_ms, 1),
	CONFIG_DIFF_KEY("exporter.retry_max_ms", exp_retry_max_ms, 1),
	CONFIG_DIFF_KEY("exporter.retry_max_elapsed_ms", exp_retry_max_elapsed_ms, 1),
	CONFIG_DIFF_KEY("exporter.scan_interval_ms", exp_scan_interval_ms, 1),
	CONFIG_DIFF_KEY("exporter.ca_file", exp_ca_file, 1),
	CONFIG_DIFF_KEY("exporter.client_cert", exp_client_cert, 1),
	CONFIG_DIFF_KEY("exporter.client_key", exp_client_key, 1),
	CONFIG_DIFF_KEY("exporter.insecure", exp_insecure, 1),
	CONFIG_DIFF_KEY("exporter.logs_*", exp_logs, 1),
	CONFIG_DIFF_KEY("exporter.metrics_*", exp_metrics, 1),
	CONFIG_DIFF_KEY("exporter.max_in_flight", exp_max_in_flight, 0),
	CONFIG_DIFF_KEY("spool.dir", spool_dir, 0),
};

#define EXP_NKEYS (sizeof(exp_keys) / sizeof(exp_keys[0]))

void exporter_set_reload(struct exporter *ex, const char *file, int argc, char **argv,
			 volatile sig_atomic_t *hup)
{
	ex->rl_file = file;
	ex->rl_argc = argc;
	ex->rl_argv = argv;
	ex->hup = hup;
}

unsigned exporter_reloads(const struct exporter *ex)
{
	return ex->reloads;
}

/* A TLS file that cannot be read now (a renewal half done) would fail
 * every connection: keep the running configuration instead. */
static int tls_files_readable(const struct exp_tr *tr, char *err, size_t errlen)
{
	unsigned i, k;

	for (i = 0; i < NSIGS; i++) {
		const struct exporter_sig_opts *so = &tr->so[exp_sigs[i]];
		const char *files[] = {so->ca_file, so->client_cert, so->client_key};

		for (k = 0; k < 3; k++) {
			int e;

			if (!files[k] || !files[k][0] || access(files[k], R_OK) == 0)
				continue;
			e = errno;
			snprintf(err, errlen, "%s: cannot read %s: %s",
				 spool_signal_name(exp_sigs[i]), files[k], strerror(e));
			return -e;
		}
	}
	return 0;
}

/* SIGHUP: loads and builds the new configuration; the swap waits for the
 * requests in flight (reload_swap()). */
static void reload_load(struct exporter *ex)
{
	char err[512], changed[512], restart[128];
	struct exp_conf *nc;
	int n, ret;

	nc = calloc(1, sizeof(*nc));
	if (!nc) {
		LOGE("exporter: SIGHUP: out of memory; the running configuration stays");
		return;
	}
	err[0] = '\0';
	ret = config_load(&nc->cfg, ex->rl_file, ex->rl_argc, ex->rl_argv, err, sizeof(err));
	if (ret < 0) {
		LOGE("exporter: SIGHUP: configuration not reloaded, the running one stays: %s",
		     err[0] ? err : "bad configuration");
		goto err_free;
	}
	n = config_diff(exp_keys, EXP_NKEYS, ex->cfg, &nc->cfg, changed, sizeof(changed),
			restart, sizeof(restart));
	/* What needs a restart keeps its running value. */
	config_diff_copy(exp_keys, EXP_NKEYS, &nc->cfg, ex->cfg, 0);
	ret = tr_build(&nc->tr, &nc->cfg, ex->njobs, err, sizeof(err));
	if (ret == 0)
		ret = tls_files_readable(&nc->tr, err, sizeof(err));
	if (ret < 0) {
		LOGE("exporter: SIGHUP: configuration not reloaded, the running one stays: %s",
		     err);
		goto err_free;
	}
	LOGI("exporter: SIGHUP: configuration reloaded from %s: %d keys changed%s%s%s%s; "
	     "new requests go to %s once the %u in flight have finished",
	     ex->rl_file ? ex->rl_file : "the environment", n, changed[0] ? ": " : "", changed,
	     restart[0] ? "; needs a restart, kept: " : "", restart,
	     nc->tr.hs ? nc->tr.so[SPOOL_SIG_LOGS].shown : "files", busy_all(ex));
	/* A second SIGHUP before the swap: the newest configuration wins. */
	conf_free(ex->next);
	ex->next = nc;
	ex->next_since_ms = now_ms();
	return;

err_free:
	conf_free(nc);
}

/*
 * Swaps in ex->next once nothing is in flight on the old transport, or
 * when the drain limit has passed (then the requests still in flight are
 * aborted: their files stay and go again on the new transport).
 */
static void reload_swap(struct exporter *ex)
{
	unsigned i, aborted = 0;
	uint64_t now = now_ms();

	if (!ex->next)
		return;
	if (busy_all(ex) && now < ex->next_since_ms + drain_limit_ms(ex))
		return;
	for (i = 0; i < ex->njobs; i++) {
		struct job *job = &ex->jobs[i];

		if (job->state == JOB_IN_FLIGHT)
			aborted++;
	}
	/* The old transport goes first: it may point to job bodies. */
	tr_fini(&ex->tr);
	/* In flight (aborted) or waiting for a retry: encoded with the old
	 * options. The files stay in the spool and are taken again. */
	for (i = 0; i < ex->njobs; i++)
		if (ex->jobs[i].state != JOB_FREE)
			job_free(&ex->jobs[i]);
	ex->tr = ex->next->tr;
	memset(&ex->next->tr, 0, sizeof(ex->next->tr));
	free(ex->own);
	ex->own = ex->next;
	ex->next = NULL;
	ex->cfg = &ex->own->cfg;
	set_retry_policy(ex);
	status_endpoints(ex);
	/* A new endpoint: its failures deserve a log line of their own. */
	memset(ex->logged, 0, sizeof(ex->logged));
	ex->n_conn_errs = 0;
	ex->st.last_error[0] = '\0';
	ex->reloads++;
	if (aborted)
		LOGW("exporter: reload: %u requests still unanswered after %llu ms were aborted; "
		     "they are sent again with the new configuration",
		     aborted, (unsigned long long)drain_limit_ms(ex));
	LOGI("exporter: reload #%u in effect: logs to %s, metrics to %s", ex->reloads,
	     ex->tr.hs ? ex->tr.so[SPOOL_SIG_LOGS].shown : ex->st.endpoint,
	     ex->tr.hs ? ex->tr.so[SPOOL_SIG_METRICS].shown : ex->st.endpoint);
	rescan(ex, now);
	(void)status_write(&ex->st, now); /* shmtop sees the new endpoint now */
}

int exporter_run(struct exporter *ex, volatile sig_atomic_t *stop, int once)
{
	uint64_t now;
	int ret, idle;

	ex->once = once;
	ex->stopping = 0;
	rescan(ex, now_ms());
	for (;;) {
		now = now_ms();
		if ((stop && *stop) || ex->stopping)
			break;
		if (ex->hup && *ex->hup && !once) {
			*ex->hup = 0;
			reload_load(ex);
		}
		reload_swap(ex);
		/* A new file with nothing else to start: take it now rather
		 * than at the next periodic scan. With a backlog the periodic
		 * scan is enough, and a rescan per new file would only cost. */
		if (now >= ex->next_scan_ms || (ex->spool_changed && !next_file(ex, &(int){0})))
			rescan(ex, now);
		ret = dispatch(ex, now);
		if (ret < 0 && once) {
			ex->failed = 1;
			break;
		}
		idle = !busy(ex) && !next_file(ex, &(int){0});
		if (once && idle) {
			if (ex->fresh_scan)
				break;
			rescan(ex, now);
			continue;
		}
		if (ex->tr.hs) {
			ret = poll_all(ex, wait_ms(ex, now));
			if (ret < 0)
				sleep_ms(100); /* libcurl trouble: do not spin */
		} else {
			int w = wait_ms(ex, now);

			if (ret < 0 && w == 0)
				w = 100;
			if (w)
				file_mode_wait(ex, w);
		}
		ret = status_tick(&ex->st, now_ms());
		if (ret < 0 && !ex->status_warned++)
			LOGW("exporter: cannot write %s: %s", ex->st.path, strerror(-ret));
	}
	drain(ex);
	rescan(ex, now_ms());
	ret = status_write(&ex->st, now_ms());
	if (ret < 0)
		LOGW("exporter: cannot write %s: %s", ex->st.path, strerror(-ret));
	if (!once)
		return 0;
	return ex->failed || busy(ex) || (stop && *stop) ? 1 : 0;
}
