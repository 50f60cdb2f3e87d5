/* SPDX-License-Identifier: MIT */
/*
 * The collector daemon's context and its run loop: one struct passed
 * explicitly (no globals but the signal flags). main.c parses arguments
 * and configuration, then calls collector_open(), collector_run() and
 * collector_close().
 */
#ifndef CORE_COLLECTOR_H
#define CORE_COLLECTOR_H

#include <stdint.h>

#include "audit.h"
#include "config.h"
#include "drain.h"
#include "log_batch.h"
#include "hostmetrics.h"
#include "loop.h"
#include "metrics_agg.h"
#include "producers.h"
#include "seg.h"
#include "spool_writer.h"
#include "tsc_cal.h"

struct collector {
	const struct shmlog_config *cfg;
	struct seg seg;
	struct loop loop;
	struct producers prod;
	struct log_batch batch;
	struct drain drain;
	struct spool_writer spool;
	struct metrics *metrics;
	struct pbuf mreq;         /* metrics request being encoded */
	uint64_t next_export_ns;  /* CLOCK_MONOTONIC of the next metrics export */
	struct hostmetrics *host; /* NULL when [metrics] host_metrics = false */
	uint64_t next_sample_ns;
	struct pbuf req;          /* request being encoded */
	uint64_t *cursors;        /* scratch, one per ring */
	uint64_t *submitted;      /* per ring: end of the newest request handed to the spool */
	uint64_t *heads;
	int sigfd;
	struct loop_op sig_op;
	unsigned char sigbuf[128]; /* one struct signalfd_siginfo */
	struct loop_op wake_op;   /* the futex wait on sh_wake */
	int wake_armed;
	int stop;
	uint64_t next_gc_ns;
	uint64_t records_spooled;
	struct audit audit;
	/* SIGHUP reload: where the configuration came from, and the
	 * running configuration (the same struct as cfg) to apply it to. */
	struct shmlog_config *live_cfg; /* NULL: SIGHUP reloads nothing */
	const char *cfg_file;
	int argc;
	char **argv;
	uint64_t reloads, reload_errors;
	/* Audit records in each logs request handed to the spool, oldest
	 * first (the spool completes in order): records_spooled counts ring
	 * records only. */
	uint32_t *aq;
	size_t aq_head, aq_len, aq_cap;
	uint64_t noprod_seen;     /* sh_drop_noprod when it was last logged */
	struct tsc_cal tsc;       /* producers' clock calibration (sh_tsc_*) */
};

int collector_open(struct collector *c, const struct shmlog_config *cfg);
/*
 * Lets SIGHUP reload the configuration: config_load(file, argc, argv)
 * into a new struct; on success the keys that can change live are copied
 * into cfg (the struct given to collector_open()) and a
 * shmlog.config.reloaded event says which keys changed; on failure the
 * running configuration stays, one error line is logged and the event
 * says result=error. file may be NULL; argv must outlive the collector.
 */
void collector_set_reload(struct collector *c, struct shmlog_config *cfg, const char *file,
			  int argc, char **argv);
/* Runs until SIGTERM/SIGINT, then drains and flushes. 0 or -errno. */
int collector_run(struct collector *c);
void collector_close(struct collector *c);

#endif
