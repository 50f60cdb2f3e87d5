/* SPDX-License-Identifier: MIT */
/*
 * shmtop: a live, top-like view of one namespace: each ring's fill, write
 * rate and drops, the producers, the collector's heartbeat and lag, the
 * spool's depth and the exporter's last status. Wiring only: arguments,
 * configuration (core/common/config.h, for [shm] namespace and [spool]
 * max_bytes) and the choice of mode; shmtop_read.c takes snapshots,
 * shmtop_print.c formats them as text or JSON, shmtop_tui.c is the
 * interactive screen, shmtop_rate.c does the arithmetic.
 *
 * Rates are records read per second between two snapshots. The live view
 * uses consecutive refreshes; --once and --json take two snapshots 200 ms
 * apart, so they take that long and their rates cover that window. Without
 * a terminal on stdout and without --once/--json, shmtop prints what
 * --once prints and exits: a pipe or a log gets text, never escape codes.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "seg.h"
#include "shmtop_print.h"
#include "shmtop_read.h"
#include "shmtop_tui.h"

#define ONCE_WINDOW_MS 200

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmtop [-c FILE] [--shm.namespace=NS | -n NS] [--once] [--json]\n"
		"              [-d SECONDS] [-a] [--version] [-h]\n"
		"Shows what flows through a shmlog namespace: rings (fill, records, write\n"
		"rate, drops, invalid, abandoned), producers (pid, exe, service, drops,\n"
		"alive), the collector (heartbeat, counters, lag), the metric dictionary\n"
		"(instruments and series used, registrations refused, overflow), the spool\n"
		"and the exporter's last status (<spool>/exporter.status).\n"
		"  -c FILE          configuration file ([shm] namespace; [spool] max_bytes,\n"
		"                   shown as the spool's budget)\n"
		"  -n NS            namespace (default: SHMLOG_NAMESPACE or [shm] namespace)\n"
		"  --once           print one snapshot as text and exit (default when\n"
		"                   stdout is not a terminal)\n"
		"  --json           print one snapshot as one JSON object and exit\n"
		"  -d SECONDS       live refresh interval, 0.1 to 3600 (default 2; also -i)\n"
		"  -a               also list idle rings\n"
		"Live view (stdout a terminal, no --once/--json): header, rings, producers.\n"
		"Keys: q quit; r, d, p sort producers by record rate, drops, pid; + and -\n"
		"refresh interval; Up/Down, PgUp/PgDn, Home/End scroll the producers;\n"
		"a idle rings; h or ? help. Ctrl-C, SIGTERM and SIGHUP quit too; a missing\n"
		"segment or one of another ABI is shown and retried every interval.\n"
		"Without a terminal on stdout shmtop prints one --once snapshot and exits.\n"
		"--once and --json take two snapshots %d ms apart: rates cover that window.\n"
		"JSON keys: namespace, time_unix_ms, rate_window_ms,\n"
		"  segment {abi, epoch, created_unix_ms, ring_slots, rings, rings_read,\n"
		"    max_producers},\n"
		"  rings [{index, ok, slots, used, fill_pct, records, rate_per_s, drops,\n"
		"    drop_bytes, invalid, abandoned}],\n"
		"  producers [{index, pid, uid, alive, exe, service, container, drops,\n"
		"    attached_unix_ms}], producers_skipped,\n"
		"  collector {pid, alive, heartbeat_age_ms, producers_live, records_in,\n"
		"    records_spooled, invalid, abandoned, lag_ms, rate_per_s},\n"
		"  dictionary {instruments, max_instruments, series, max_series (entries\n"
		"    taken / table size), registrations_refused (dictionary full),\n"
		"    overflow_measurements (put in overflow series), complete},\n"
		"  spool {dir, files, bytes, dropped_requests, dropped_records, log_files_now},\n"
		"  exporter (null without a status file) {pid, alive, age_ms, endpoint,\n"
		"    protocol, compression, last_http_status, last_error, last_latency_ms,\n"
		"    sent_requests, sent_records, retries, dropped_requests, dropped_records,\n"
		"    rejected_records, quarantined_files, spool_files, spool_bytes,\n"
		"    last_grpc_status (-1: none, or not protocol grpc)}.\n"
		"Exit status: 0 ok, 1 no usable segment (--once, --json), 2 bad arguments,\n"
		"configuration or terminal.\n",
		ONCE_WINDOW_MS);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void explain(const char *ns, int err)
{
	char why[320];

	shmtop_read_explain(why, sizeof(why), ns, err);
	fprintf(stderr, "shmtop: %s\n", why);
}

static int run_once(const char *ns, int json, int all)
{
	struct shmtop_snap a, b;
	struct shmtop_src src;
	int ret;

	ret = shmtop_read_open(&src, ns);
	if (ret) {
		explain(ns, ret);
		shmtop_read_close(&src);
		return 1;
	}
	ret = shmtop_read_snap(&src, &a);
	if (ret == 0) {
		sleep_ms(ONCE_WINDOW_MS);
		ret = shmtop_read_snap(&src, &b);
		if (ret == 0) {
			if (json)
				shmtop_print_json(stdout, &b, &a);
			else
				shmtop_print_text(stdout, &b, &a, all);
			shmtop_read_free(&b);
		}
		shmtop_read_free(&a);
	}
	shmtop_read_close(&src);
	if (ret) {
		explain(ns, ret);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct shmlog_config cfg;
	struct shmtop_tui_opts tui;
	const char *file = NULL, *ns = NULL;
	int once = 0, json = 0, all = 0, ret;
	double interval = 2.0;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") && i + 1 < argc) {
			file = argv[++i];
		} else if (!strcmp(a, "-n") && i + 1 < argc) {
			ns = argv[++i];
		} else if ((!strcmp(a, "-i") || !strcmp(a, "-d")) && i + 1 < argc) {
			char *end;

			interval = strtod(argv[++i], &end);
			if (*end || end == argv[i] || !isfinite(interval) || interval < 0.1 ||
			    interval > 3600) {
				fprintf(stderr,
					"shmtop: %s %s: expected seconds from 0.1 to 3600\n",
					a, argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--once")) {
			once = 1;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "-a") || !strcmp(a, "--all")) {
			all = 1;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("shmtop %s (shared-memory ABI %d.%d)\n", SHMLOG_VERSION,
			       SHM_ABI_MAJOR, SHM_ABI_MINOR);
			return 0;
		} else if (!config_is_override(a)) {
			fprintf(stderr, "shmtop: unknown argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	ret = config_load(&cfg, file, argc, argv, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (!ns)
		ns = cfg.shm_namespace;
	if (seg_name(err, sizeof(err), ns)) {
		fprintf(stderr,
			"shmtop: bad namespace '%s': expected 1 to 64 of "
			"[A-Za-z0-9._-], not starting with '.'\n",
			ns);
		return 2;
	}

	if (once || json || !isatty(STDOUT_FILENO))
		return run_once(ns, json, all);
	tui.interval_ms = (unsigned)(interval * 1000 + 0.5);
	tui.all = all;
	tui.spool_budget = cfg.spool_max_bytes;
	return shmtop_tui_run(ns, &tui);
}
