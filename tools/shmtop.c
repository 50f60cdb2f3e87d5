/* SPDX-License-Identifier: MIT */
/*
 * shmtop: a live, top-like view of one namespace: each ring's fill, write
 * rate and drops, the producers, the collector's heartbeat and lag, the
 * spool's depth and the exporter's last status. Wiring only: arguments,
 * configuration (core/common/config.h, for [shm] namespace), the screen
 * loop; shmtop_read.c takes snapshots, shmtop_print.c formats them.
 *
 * Rates are records read per second between two snapshots. Live mode uses
 * consecutive screens; --once and --json take two snapshots 200 ms apart,
 * so they take that long and their rates cover that window.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "seg.h"
#include "shmtop_print.h"
#include "shmtop_read.h"

#define ONCE_WINDOW_MS 200

static volatile sig_atomic_t stop_flag;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmtop [-c FILE] [--shm.namespace=NS | -n NS] [--once] [--json]\n"
		"              [-i SECONDS] [-a] [--version] [-h]\n"
		"Shows what flows through a shmlog namespace: rings (fill, records, write\n"
		"rate, drops, invalid, abandoned), producers (pid, exe, service, drops,\n"
		"alive), the collector (heartbeat, counters, lag), the metric dictionary\n"
		"(instruments and series used, registrations refused, overflow), the spool\n"
		"and the exporter's last status (<spool>/exporter.status).\n"
		"  -c FILE          configuration file (for [shm] namespace)\n"
		"  -n NS            namespace (default: SHMLOG_NAMESPACE or [shm] namespace)\n"
		"  --once           print one snapshot as text and exit (default when\n"
		"                   stdout is not a terminal)\n"
		"  --json           print one snapshot as one JSON object and exit\n"
		"  -i SECONDS       live refresh interval, 0.1 to 3600 (default 2)\n"
		"  -a               also list idle rings (text)\n"
		"Live mode redraws the terminal; q or Ctrl-C quits. --once and --json take\n"
		"two snapshots %d ms apart: rates cover that window.\n"
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
		"Exit status: 0 ok, 1 no usable segment, 2 bad arguments or configuration.\n",
		ONCE_WINDOW_MS);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !stop_flag)
		;
}

/* One line saying why the segment of ns cannot be used. For another ABI
 * it names both versions, read with read(2) so that nothing is mapped. */
static void explain(const char *ns, int err)
{
	char name[80];
	unsigned char hdr[8];
	int fd;

	if (seg_name(name, sizeof(name), ns)) {
		fprintf(stderr, "shmtop: bad namespace '%s'\n", ns);
		return;
	}
	switch (err) {
	case -ENOENT:
		fprintf(stderr, "shmtop: no collector on namespace '%s' (/dev/shm%s absent)\n", ns,
			name);
		return;
	case -EAGAIN:
		fprintf(stderr,
			"shmtop: /dev/shm%s is still being set up by the collector; "
			"try again\n",
			name);
		return;
	case -EPROTO:
		fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
		if (fd != -1 && read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr)) {
			uint32_t magic;
			uint16_t major, minor;

			memcpy(&magic, hdr, 4);
			memcpy(&major, hdr + 4, 2);
			memcpy(&minor, hdr + 6, 2);
			if (magic == SHM_ABI_MAGIC && major != SHM_ABI_MAJOR) {
				fprintf(stderr,
					"shmtop: /dev/shm%s has ABI %u.%u; this shmtop "
					"reads ABI %d.x\n",
					name, major, minor, SHM_ABI_MAJOR);
				close(fd);
				return;
			}
		}
		if (fd != -1)
			close(fd);
		fprintf(stderr,
			"shmtop: /dev/shm%s is not a valid shmlog segment "
			"(corrupt or truncated header)\n",
			name);
		return;
	default:
		fprintf(stderr, "shmtop: cannot attach to /dev/shm%s: %s\n", name, strerror(-err));
	}
}

static int run_once(struct shmtop_src *src, int json, int all)
{
	struct shmtop_snap a, b;
	int ret;

	ret = shmtop_read_snap(src, &a);
	if (ret == 0) {
		sleep_ms(ONCE_WINDOW_MS);
		ret = shmtop_read_snap(src, &b);
		if (ret == 0) {
			if (json)
				shmtop_print_json(stdout, &b, &a);
			else
				shmtop_print_text(stdout, &b, &a, all);
			shmtop_read_free(&b);
		}
		shmtop_read_free(&a);
	}
	if (ret) {
		explain(src->ns, ret);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Writes buf to stdout after clearing the screen, cut to the terminal's
 * height so that the top of the screen stays visible. */
static void draw(const char *buf, size_t len)
{
	struct winsize ws;
	size_t cut = len;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 1) {
		unsigned lines = 0;

		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n' && ++lines == ws.ws_row - 1u) {
				cut = i + 1;
				break;
			}
	}
	fputs("\033[H\033[2J", stdout);
	fwrite(buf, 1, cut, stdout);
	fflush(stdout);
}

/* Waits up to ms for a key; 1 when q was pressed or a signal asked to
 * stop. */
static int wait_key(int tty_in, unsigned ms)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	char c[16];
	ssize_t n;

	if (poll(&pfd, tty_in ? 1 : 0, (int)ms) > 0 && (pfd.revents & POLLIN)) {
		n = read(STDIN_FILENO, c, sizeof(c));
		for (ssize_t i = 0; i < n; i++)
			if (c[i] == 'q' || c[i] == 'Q')
				return 1;
	}
	return stop_flag;
}

static int run_live(struct shmtop_src *src, unsigned interval_ms, int all)
{
	struct shmtop_snap prev = {0}, cur;
	int tty_in = isatty(STDIN_FILENO), have_prev = 0, open = 1;
	struct termios saved, raw;
	struct sigaction sa;
	char *buf = NULL, ns[sizeof(src->ns)];
	size_t len = 0;

	memcpy(ns, src->ns, sizeof(ns)); /* shmtop_read_open() resets src */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty_in && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C still works */
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty_in = 0;
	}
	fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, hide the cursor */

	while (!stop_flag) {
		FILE *m = open_memstream(&buf, &len);

		if (!m)
			break;
		if (open && shmtop_read_replaced(src)) {
			shmtop_read_close(src);
			open = 0;
			have_prev = 0;
			shmtop_read_free(&prev);
		}
		if (!open)
			open = shmtop_read_open(src, ns) == 0;
		if (open && shmtop_read_snap(src, &cur) == 0) {
			shmtop_print_text(m, &cur, have_prev ? &prev : NULL, all);
			shmtop_read_free(&prev);
			prev = cur;
			have_prev = 1;
		} else {
			fprintf(m,
				"shmtop  namespace '%s': no collector (/dev/shm%s%s absent "
				"or unusable); waiting\n",
				ns, SHM_ABI_NAME_PREFIX, ns);
		}
		fprintf(m, "\nq: quit   refresh every %.1f s\n", interval_ms / 1000.0);
		fclose(m);
		draw(buf, len);
		free(buf);
		buf = NULL;
		if (wait_key(tty_in, interval_ms))
			break;
	}

	shmtop_read_free(&prev);
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (tty_in)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return 0;
}

int main(int argc, char **argv)
{
	static struct shmlog_config cfg;
	struct shmtop_src src;
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
		} else if (!strcmp(a, "-i") && i + 1 < argc) {
			char *end;

			interval = strtod(argv[++i], &end);
			if (*end || end == argv[i] || !isfinite(interval) || interval < 0.1 ||
			    interval > 3600) {
				fprintf(stderr,
					"shmtop: -i %s: expected seconds from 0.1 to 3600\n",
					argv[i]);
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

	ret = shmtop_read_open(&src, ns);
	if (ret) {
		explain(ns, ret);
		return 1;
	}
	if (once || json || !isatty(STDOUT_FILENO))
		ret = run_once(&src, json, all);
	else
		ret = run_live(&src, (unsigned)(interval * 1000), all);
	shmtop_read_close(&src);
	return ret;
}
