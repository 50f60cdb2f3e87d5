/* SPDX-License-Identifier: MIT */
/*
 * shmlog-exporter: command line, configuration, signals (SIGTERM and
 * SIGINT stop, SIGHUP reloads the configuration); the work is in
 * exporter.c (daemon, reload and --once) and selftest.c (--test).
 *
 *   shmlog-exporter [-c FILE] [--section.key=value ...] [--test]
 *                   [--print-config] [--once] [-h]
 *
 * Exit status: 0 success; 1 --once/--test could not deliver, or a runtime
 * failure; 2 bad command line or configuration.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exporter.h"
#include "log.h"
#include "selftest.h"
#include "spool_file.h"

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t hup_flag;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else
		stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shmlog-exporter [-c FILE] [--section.key=value ...] [--test]\n"
		   "                       [--print-config] [--once] [-h]\n"
		   "  -c FILE          configuration file (ini)\n"
		   "  --section.key=v  override one configuration key\n"
		   "  --test           send a test log record and an empty metrics request, each\n"
		   "                   with its signal's options, and report\n"
		   "  --print-config   print the effective configuration and exit\n"
		   "  --help-config    print every configuration key, default and variable\n"
		   "  --once           deliver what is in the spool now, then exit\n"
		   "  -h, --help       this help\n"
		   "SIGHUP loads the configuration again (file, environment, command line).\n");
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must end the loop's poll()/nanosleep(). */
	if (sigaction(SIGTERM, &sa, NULL) == -1 || sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return -errno;
	return 0;
}

/* Each signal's protocol, compression and URL resolve; one line on
 * stderr otherwise. */
static int check_signals(const struct shmlog_config *cfg)
{
	static const int sigs[] = {SPOOL_SIG_LOGS, SPOOL_SIG_METRICS};
	struct exporter_sig_opts *so = calloc(1, sizeof(*so));
	char err[256];
	size_t i;
	int ret = 0;

	if (!so)
		return -ENOMEM;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]) && ret == 0; i++) {
		ret = exporter_signal_opts(cfg, sigs[i], so, err, sizeof(err));
		if (ret < 0)
			fprintf(stderr, "shmlog-exporter: %s\n", err);
	}
	free(so);
	return ret;
}

int main(int argc, char **argv)
{
	const struct status *st;
	struct shmlog_config *cfg;
	struct exporter *ex = NULL;
	const char *file = NULL;
	int test = 0, print = 0, once = 0;
	char err[512];
	int i, ret, rc = 1;

	log_init("shmlog-exporter");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			file = argv[++i];
		} else if (strcmp(argv[i], "--test") == 0) {
			test = 1;
		} else if (strcmp(argv[i], "--help-config") == 0) {
			config_help(STDOUT_FILENO);
			return 0;
		} else if (strcmp(argv[i], "--print-config") == 0) {
			print = 1;
		} else if (strcmp(argv[i], "--once") == 0) {
			once = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (!config_is_override(argv[i])) {
			fprintf(stderr, "shmlog-exporter: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		fprintf(stderr, "shmlog-exporter: out of memory\n");
		return 1;
	}
	err[0] = '\0';
	ret = config_load(cfg, file, argc, argv, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "%s\n", err[0] ? err : "shmlog-exporter: bad configuration");
		rc = 2;
		goto out_free;
	}
	if (print) {
		config_dump(cfg, STDOUT_FILENO);
		rc = 0;
		goto out_free;
	}
	if (!exporter_file_mode(cfg)) {
		ret = check_signals(cfg);
		if (ret < 0) {
			rc = 2;
			goto out_free;
		}
	}
	if (test) {
		rc = selftest_run(cfg);
		goto out_free;
	}
	if (install_signals() < 0) {
		LOGE("cannot install signal handlers: %s", strerror(errno));
		goto out_free;
	}
	ret = exporter_create(cfg, &ex);
	if (ret < 0) {
		rc = ret == -EINVAL ? 2 : 1;
		goto out_free;
	}
	st = exporter_status(ex);
	if (!strcmp(st->endpoint, st->metrics_endpoint) &&
	    !strcmp(st->protocol, st->metrics_protocol) &&
	    !strcmp(st->compression, st->metrics_compression))
		LOGI("exporting %s to %s (%s, %s)", cfg->spool_dir, st->endpoint, st->protocol,
		     st->compression);
	else
		LOGI("exporting %s: logs to %s (%s, %s), metrics to %s (%s, %s)", cfg->spool_dir,
		     st->endpoint, st->protocol, st->compression, st->metrics_endpoint,
		     st->metrics_protocol, st->metrics_compression);
	/* SIGHUP: load the same sources again (exporter.h). */
	exporter_set_reload(ex, file, argc, argv, &hup_flag);
	ret = exporter_run(ex, &stop_flag, once);
	rc = ret == 0 ? 0 : 1;

out_free:
	exporter_destroy(ex);
	free(cfg);
	return rc;
}
