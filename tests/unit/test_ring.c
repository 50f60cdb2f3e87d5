/* SPDX-License-Identifier: MIT */
/*
 * The ring protocol end to end inside one process: writer threads log
 * through libshmlog (the real record path) into small rings that wrap and
 * fill, while a collector thread runs the real drain, validation and
 * OTLP encoding, decodes each request (protobuf-c) and releases slots.
 * Asserts: every record published arrives exactly once, uncorrupted, with
 * timestamps that increase with each writer's sequence (export order
 * across requests is not an OTLP guarantee: requests travel in parallel);
 * every refused call was reported to its writer (-ENOBUFS) and counted in
 * the ring; and a claim whose owner is dead is skipped without wedging
 * the ring. Then, in a segment whose producer table is full, every
 * record is refused with -ENOBUFS and counted in sh_drop_noprod, and the
 * library attaches by itself once an entry is free (ABI 1.2).
 *
 * The library attaches in its constructor, so the test creates the
 * segment and re-executes itself with SHMLOG_NAMESPACE set.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "log_batch.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "producers.h"
#include "ring_write.h"
#include "seg.h"
#include "shm_atomic.h"
#include "shmlog.h"
#include "test_help.h"

#define WRITERS 4
#define PER_WRITER 200000

static struct seg seg;
static struct shmlog_config cfg;
static int writers_done;
static uint64_t sent[WRITERS], dropped[WRITERS], refusals[WRITERS];
static uint64_t received;
/* time of each record by writer and sequence; 0 = not received */
static uint64_t *seen[WRITERS];

static void *writer(void *arg)
{
	int w = (int)(intptr_t)arg;
	char body[80];

	for (uint64_t i = 0; i < PER_WRITER; i++) {
		struct shmlog_attr a[2] = { SHMLOG_INT("seq", (int64_t)i), SHMLOG_INT("w", w) };
		int n = snprintf(body, sizeof(body), "writer %d record %llu padding-to-64-bytes....", w,
				 (unsigned long long)i);
		int ret, tries = 0;

		/* A full ring refuses at once; retry a little (the collector
		 * thread shares the CPUs), then give the record up. */
		while ((ret = shmlog_log(SHMLOG_SEV_INFO, "INFO", body, (size_t)n, a, 2)) ==
		       -ENOBUFS) {
			__atomic_add_fetch(&refusals[w], 1, __ATOMIC_RELAXED);
			if (++tries == 200)
				break;
			sched_yield();
		}
		if (ret == 0)
			__atomic_add_fetch(&sent[w], 1, __ATOMIC_RELAXED);
		else if (ret == -ENOBUFS)
			__atomic_add_fetch(&dropped[w], 1, __ATOMIC_RELAXED);
		else
			T_ASSERT(!"unexpected shmlog_log result");
	}
	return NULL;
}

static int64_t attr_int(Opentelemetry__Proto__Logs__V1__LogRecord *lr, const char *key)
{
	for (size_t i = 0; i < lr->n_attributes; i++)
		if (strcmp(lr->attributes[i]->key, key) == 0)
			return lr->attributes[i]->value->int_value;
	T_ASSERT(!"attribute missing");
	return -1;
}

static void check_request(const struct pbuf *req)
{
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *m;
	char want[80];

	m = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, req->len, req->p);
	T_ASSERT(m);
	for (size_t r = 0; r < m->n_resource_logs; r++) {
		Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = m->resource_logs[r];
		for (size_t s = 0; s < rl->n_scope_logs; s++) {
			for (size_t k = 0; k < rl->scope_logs[s]->n_log_records; k++) {
				Opentelemetry__Proto__Logs__V1__LogRecord *lr =
					rl->scope_logs[s]->log_records[k];
				int64_t w = attr_int(lr, "w"), seq = attr_int(lr, "seq");

				T_ASSERT(w >= 0 && w < WRITERS);
				T_ASSERT(seq >= 0 && seq < PER_WRITER);
				T_ASSERT(seen[w][seq] == 0); /* exactly once */
				seen[w][seq] = lr->time_unix_nano;
				/* within a request, records are in time order */
				T_ASSERT(k == 0 || lr->time_unix_nano >=
					 rl->scope_logs[s]->log_records[k - 1]->time_unix_nano);
				snprintf(want, sizeof(want),
					 "writer %d record %lld padding-to-64-bytes....", (int)w,
					 (long long)seq);
				T_EQ_STR(lr->body->string_value, want);
				T_EQ_STR(lr->severity_text, "INFO");
				T_EQ_INT(lr->severity_number, 9);
				received++;
			}
		}
	}
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(m,
											       NULL);
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Collector: drain everything, encode, decode-check, release. */
static void collect(struct drain *d, struct log_batch *b, struct pbuf *req)
{
	uint64_t now = mono();
	uint32_t n;

	static uint64_t last;
	for (uint32_t k = 0; k < seg.nrings; k++)
		(void)drain_ring(d, k, now, now, 4096);
	if (getenv("TEST_RING_DEBUG") && now - last > 200000000ull) {
		last = now;
		for (uint32_t k = 0; k < seg.nrings; k++)
			fprintf(stderr, "ring %u cursor %llu released %llu tail %llu hint %llu invalid %llu abandoned %llu records %llu\n", k,
				(unsigned long long)d->rings[k].cursor, (unsigned long long)d->rings[k].released,
				(unsigned long long)seg_ring(&seg, k)->rh_tail, (unsigned long long)seg_ring(&seg, k)->rh_hint,
				(unsigned long long)d->rings[k].invalid, (unsigned long long)d->rings[k].abandoned,
				(unsigned long long)d->rings[k].records);
	}
	if (b->records == 0)
		return;
	pbuf_reset(req);
	T_EQ_INT(log_batch_encode(b, req, &n), 0);
	check_request(req);
	for (uint32_t k = 0; k < seg.nrings; k++)
		drain_release(d, k, d->rings[k].cursor);
}

/* A claim by a thread that no longer exists: a reaped child's pid. */
static void plant_dead_claim(void)
{
	struct shm_ring_hdr *r = seg_ring(&seg, 0);
	struct shm_thread *te;
	uint32_t owner = seg.max_threads - 1;
	uint64_t pos;
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	te = seg_thread(&seg, owner);
	te->te_tid = (uint32_t)pid;
	te->te_pid = (uint32_t)pid;
	te->te_ready = 1;
	T_EQ_INT(ring_claim(&seg, r, 2, owner, &pos), 0);
	/* never published: as if killed between claim and publish */
}

static int phase2(const char *ns)
{
	static struct producers prod;
	static struct log_batch batch;
	static struct drain d;
	struct pbuf req;
	pthread_t th[WRITERS];
	uint64_t total_sent = 0, total_dropped = 0, total_refusals = 0, ring_drops = 0, t0;

	T_EQ_INT(seg_attach(&seg, ns, 1), 0);
	memset(&cfg, 0, sizeof(cfg));
	T_EQ_INT(producers_init(&prod, &seg, &cfg), 0);
	log_batch_init(&batch);
	T_EQ_INT(drain_init(&d, &seg, &prod, &batch, 200), 0);
	pbuf_init(&req);
	T_ASSERT(shmlog_attached());

	for (int w = 0; w < WRITERS; w++) {
		seen[w] = calloc(PER_WRITER, sizeof(uint64_t));
		T_ASSERT(seen[w]);
	}
	plant_dead_claim();
	for (int w = 0; w < WRITERS; w++)
		T_EQ_INT(pthread_create(&th[w], NULL, writer, (void *)(intptr_t)w), 0);
	t0 = mono();
	while (!__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE)) {
		collect(&d, &batch, &req);
		int all = 1;
		for (int w = 0; w < WRITERS; w++)
			if (__atomic_load_n(&sent[w], __ATOMIC_RELAXED) +
				    __atomic_load_n(&dropped[w], __ATOMIC_RELAXED) <
			    PER_WRITER)
				all = 0;
		if (all)
			__atomic_store_n(&writers_done, 1, __ATOMIC_RELEASE);
		T_ASSERT(mono() - t0 < 60000000000ull);
	}
	for (int w = 0; w < WRITERS; w++)
		pthread_join(th[w], NULL);
	/* the dead claim must not hold the ring: drain everything left */
	t0 = mono();
	while (received < 1 || mono() - t0 < 500000000ull)
		collect(&d, &batch, &req);
	collect(&d, &batch, &req);
	for (int w = 0; w < WRITERS; w++) {
		uint64_t last = 0, got = 0;

		total_sent += sent[w];
		total_dropped += dropped[w];
		total_refusals += refusals[w];
		for (int i = 0; i < PER_WRITER; i++) {
			if (!seen[w][i])
				continue;
			T_ASSERT(seen[w][i] >= last);
			last = seen[w][i];
			got++;
		}
		T_EQ_INT(got, sent[w]);
	}
	for (uint32_t k = 0; k < seg.nrings; k++)
		ring_drops += seg_ring(&seg, k)->rh_drops;
	fprintf(stderr, "published %llu, received %llu, given up %llu, refused calls %llu "
			"(rings count %llu), abandoned %llu, invalid %llu\n",
		(unsigned long long)total_sent, (unsigned long long)received,
		(unsigned long long)total_dropped, (unsigned long long)total_refusals,
		(unsigned long long)ring_drops,
		(unsigned long long)d.abandoned, (unsigned long long)d.invalid);
	T_EQ_INT(received, total_sent);
	T_EQ_INT(total_sent + total_dropped, (uint64_t)WRITERS * PER_WRITER);
	T_EQ_INT(ring_drops, total_refusals); /* every refusal counted, none silent */
	T_EQ_INT(d.abandoned, 1);
	T_EQ_INT(d.invalid, 0);
	pbuf_fini(&req);
	drain_fini(&d);
	producers_fini(&prod);
	seg_detach(&seg);
	(void)seg_unlink(ns);
	return 0;
}

/* The producer table is full (every entry names pid 1, READY): records
 * are refused and counted; once an entry is freed, they are kept. */
static int phase_noprod(const char *ns)
{
	struct timespec ts = { 1, 200000000 };
	int ret = 0;

	T_EQ_INT(seg_attach(&seg, ns, 1), 0);
	T_ASSERT(!shmlog_attached());
	for (int i = 0; i < 10; i++)
		T_EQ_INT(shmlog_log(SHMLOG_SEV_INFO, NULL, "refused", 7, NULL, 0), -ENOBUFS);
	T_EQ_INT(shmlog_logf(SHMLOG_SEV_INFO, "refused %d", 11), -ENOBUFS);
	T_EQ_INT(shm_load_relaxed(&seg.hdr->sh_drop_noprod), 11);
	fprintf(stderr, "producer table full: 11 records refused, sh_drop_noprod %llu\n",
		(unsigned long long)shm_load_relaxed(&seg.hdr->sh_drop_noprod));
	/* Free one entry: within a retry interval (1 s) the library takes it. */
	shm_store_release(&seg_producer(&seg, 3)->pe_claim, 0);
	nanosleep(&ts, NULL);
	for (int i = 0; i < 10 && (ret = shmlog_log(SHMLOG_SEV_INFO, NULL, "kept", 4, NULL, 0)); i++)
		nanosleep(&ts, NULL);
	T_EQ_INT(ret, 0);
	T_ASSERT(shmlog_attached());
	T_EQ_INT(SHM_PE_CLAIM_PID(shm_load_acquire(&seg_producer(&seg, 3)->pe_claim)),
		 (uint32_t)getpid());
	T_EQ_INT(shm_load_relaxed(&seg.hdr->sh_drop_noprod), 11);
	seg_detach(&seg);
	return 0;
}

static int run_phase(char **argv, const char *name, const char *phase)
{
	int status;
	pid_t pid = fork();

	T_ASSERT(pid >= 0);
	if (pid == 0) {
		setenv("SHMLOG_NAMESPACE", name, 1);
		setenv("SHMLOG_STDIO", "off", 1);
		execl("/proc/self/exe", argv[0], phase, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	T_ASSERT(WIFEXITED(status));
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct seg_geometry g = { .nrings = 2, .ring_slots = 1024, .max_producers = 16,
				  .max_threads = 64, .dead_check_ms = 200,
				  .max_instruments = 32, .max_series = 128 };
	const char *ns = getenv("SHMLOG_NAMESPACE");
	char name[64];
	int reused, status;

	if (argc > 1 && strcmp(argv[1], "phase2") == 0 && ns)
		return phase2(ns);
	if (argc > 1 && strcmp(argv[1], "noprod") == 0 && ns)
		return phase_noprod(ns);
	snprintf(name, sizeof(name), "test-ring-%d", (int)getpid());
	T_EQ_INT(seg_create(&seg, name, &g, 0600, &reused), 0);
	seg_detach(&seg);
	status = run_phase(argv, name, "phase2");
	(void)seg_unlink(name);
	if (status)
		return status;

	snprintf(name, sizeof(name), "test-ring-np-%d", (int)getpid());
	T_EQ_INT(seg_create(&seg, name, &g, 0600, &reused), 0);
	for (uint32_t i = 0; i < seg.max_producers; i++)
		shm_store_release(&seg_producer(&seg, i)->pe_claim, SHM_PE_CLAIM(1, SHM_PE_READY));
	seg_detach(&seg);
	status = run_phase(argv, name, "noprod");
	(void)seg_unlink(name);
	return status;
}
