/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the collector's drain over a hostile segment. Each
 * input is written over ring 0's control words and slots, the thread
 * table and the first producer entries of a real (small) segment; the
 * drain then reads it with the real validation and encoding. Whatever
 * the bytes, the collector must not crash, read outside the segment, or
 * emit a request that does not decode (protobuf-c checks UTF-8 too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drain.h"
#include "log_batch.h"
#include "metrics_agg.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "producers.h"
#include "seg.h"

static struct seg seg;
static struct shmlog_config cfg;
static char ns[64];

static void cleanup(void)
{
	(void)seg_unlink(ns);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct seg_geometry g = { .nrings = 1, .ring_slots = 64, .max_producers = 16,
				  .max_threads = 64, .dead_check_ms = 10,
				  .max_instruments = 16, .max_series = 64, .max_cells = 128 };
	int reused;

	(void)argc;
	(void)argv;
	snprintf(ns, sizeof(ns), "fuzz-drain-%d", (int)getpid());
	if (seg_create(&seg, ns, &g, 0600, &reused))
		abort();
	atexit(cleanup);
	strcpy(cfg.met_grouping, "process");
	strcpy(cfg.met_temporality, "delta");
	cfg.met_cardinality_limit = 4;
	strcpy(cfg.service_name, "shmlog");
	return 0;
}

/* Copies as much of the input as fits into [dst, dst + n), zero-filling. */
static size_t put(void *dst, size_t n, const unsigned char *data, size_t size, size_t off)
{
	size_t take = off < size ? size - off : 0;

	if (take > n)
		take = n;
	memcpy(dst, data + off, take);
	memset((char *)dst + take, 0, n - take);
	return off + n;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct shm_ring_hdr *r = seg_ring(&seg, 0);
	struct producers prod;
	struct log_batch batch;
	struct metrics *m;
	struct drain d;
	struct pbuf out;
	uint32_t n;
	size_t off = 0;

	off = put(seg_ring_ctl(&seg, r), (size_t)seg.slots * 8, data, size, off);
	off = put(seg_ring_slots(&seg, r), (size_t)seg.slots * SHM_ABI_SLOT_SIZE, data, size, off);
	off = put(seg_thread(&seg, 0), 8 * sizeof(struct shm_thread), data, size, off);
	off = put(seg_producer(&seg, 0), 2 * sizeof(struct shm_producer), data, size, off);
	off = put(seg_series(&seg, 0), 4 * sizeof(struct shm_series), data, size, off);
	(void)put(seg_instrument(&seg, 0), 2 * sizeof(struct shm_instrument), data, size, off);
	memset(seg_cell(&seg, 0), 0, (size_t)seg.max_cells * sizeof(struct shm_cell));
	r->rh_tail = 0;
	r->rh_hint = 0;
	r->rh_mapplied = 0;

	if (producers_init(&prod, &seg, &cfg))
		abort();
	log_batch_init(&batch);
	if (drain_init(&d, &seg, &prod, &batch, 10) || metrics_create(&m, &seg, &prod, &cfg, "h"))
		abort();
	d.metrics = m;
	for (int pass = 0; pass < 3; pass++)
		(void)drain_ring(&d, 0, 1, 1ull << 40, 1000);
	pbuf_init(&out);
	if (log_batch_encode(&batch, &out, &n) == 0 && out.len) {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *q =
			opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
				NULL, out.len, out.p);
		if (!q)
			abort(); /* we wrote something that is not a valid request */
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(
			q, NULL);
	}
	pbuf_reset(&out);
	if (metrics_encode(m, &out, 2, &n) == 0 && out.len) {
		Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *q =
			opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
				NULL, out.len, out.p);
		if (!q)
			abort();
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
			q, NULL);
	}
	pbuf_fini(&out);
	metrics_destroy(m);
	drain_fini(&d);
	log_batch_fini(&batch);
	producers_fini(&prod);
	return 0;
}
