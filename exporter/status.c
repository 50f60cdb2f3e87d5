/* SPDX-License-Identifier: MIT */
/*
 * The exporter's status file; format in status.h. Readers (shmtop,
 * scripts) may read it at any moment, so it is never written in place:
 * the content goes to "<file>.tmp" and rename() swaps it in.
 */
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "exporter_status.h"

int status_init(struct status *st, const char *spool_dir, const char *endpoint,
		const char *protocol, const char *compression)
{
	int n;

	memset(st, 0, sizeof(*st));
	n = snprintf(st->path, sizeof(st->path), "%s/%s", spool_dir, STATUS_FILE);
	if (n < 0 || (size_t)n + 4 >= sizeof(st->path))
		return -ENAMETOOLONG;
	endpoint_redact(endpoint, st->endpoint, sizeof(st->endpoint));
	snprintf(st->protocol, sizeof(st->protocol), "%s", protocol);
	snprintf(st->compression, sizeof(st->compression), "%s", compression);
	status_set_metrics(st, endpoint, protocol, compression);
	st->last_grpc_status = -1;
	return 0;
}

void status_carry(struct status *st, const char *spool_dir)
{
	struct exporter_status old;
	int i;

	if (exporter_status_read(spool_dir, &old) != 0 || !old.present)
		return;
	st->sent_requests = old.sent_requests;
	st->sent_records = old.sent_records;
	st->retries = old.retries;
	st->dropped_requests = old.dropped_requests;
	st->dropped_records = old.dropped_records;
	st->rejected_records = old.rejected_records;
	st->quarantined_files = old.quarantined_files;
	if (old.latency_nbounds != STATUS_LATENCY_NBOUNDS ||
	    old.latency_nbuckets != STATUS_LATENCY_NBOUNDS + 1)
		return;
	for (i = 0; i < STATUS_LATENCY_NBOUNDS; i++)
		if (old.latency_bounds[i] != status_latency_bounds[i])
			return;
	memcpy(st->latency_buckets, old.latency_buckets, sizeof(st->latency_buckets));
	st->latency_count = old.latency_count;
	st->latency_sum = old.latency_sum;
}

void status_set_logs(struct status *st, const char *endpoint, const char *protocol,
		     const char *compression)
{
	endpoint_redact(endpoint, st->endpoint, sizeof(st->endpoint));
	snprintf(st->protocol, sizeof(st->protocol), "%s", protocol);
	snprintf(st->compression, sizeof(st->compression), "%s", compression);
}

void status_set_metrics(struct status *st, const char *endpoint, const char *protocol,
			const char *compression)
{
	endpoint_redact(endpoint, st->metrics_endpoint, sizeof(st->metrics_endpoint));
	snprintf(st->metrics_protocol, sizeof(st->metrics_protocol), "%s", protocol);
	snprintf(st->metrics_compression, sizeof(st->metrics_compression), "%s", compression);
}

void status_set_error(struct status *st, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(st->last_error, sizeof(st->last_error), fmt, ap);
	va_end(ap);
	/* One line per key: a server message must not start a new key. */
	for (p = st->last_error; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

void status_auth_failure(struct status *st, long http_status)
{
	struct timespec ts;

	if (http_status != 401 && http_status != 403)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	st->auth_failures++;
	st->last_auth_status = (int)http_status;
	st->last_auth_unix_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

const double status_latency_bounds[STATUS_LATENCY_NBOUNDS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

void status_latency(struct status *st, double ms)
{
	int b = 0;

	while (b < STATUS_LATENCY_NBOUNDS && ms > status_latency_bounds[b])
		b++;
	st->latency_buckets[b]++;
	st->latency_count++;
	st->latency_sum += ms;
}

/* "a,b,c" of the histogram's bounds and buckets. */
static int latency_lines(const struct status *st, char *buf, size_t len)
{
	size_t o = 0;
	int n;

	n = snprintf(buf, len, "latency_ms_bounds=");
	o += (size_t)n;
	for (int i = 0; i < STATUS_LATENCY_NBOUNDS && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%g", i ? "," : "", status_latency_bounds[i]);
	if (o < len)
		o += (size_t)snprintf(buf + o, len - o, "\nlatency_ms_buckets=");
	for (int i = 0; i <= STATUS_LATENCY_NBOUNDS && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%" PRIu64, i ? "," : "",
				      st->latency_buckets[i]);
	if (o < len)
		o += (size_t)snprintf(buf + o, len - o,
				      "\nlatency_ms_count=%" PRIu64 "\nlatency_ms_sum=%.3f\n"
				      "metrics_endpoint=%s\nmetrics_protocol=%s\n"
				      "metrics_compression=%s\n",
				      st->latency_count, st->latency_sum, st->metrics_endpoint,
				      st->metrics_protocol, st->metrics_compression);
	return o < len ? (int)o : -1;
}

int status_write(struct status *st, uint64_t now_ms)
{
	char tmp[PATH_MAX + 8];
	char buf[4096];
	struct timespec ts;
	int fd, n, m, ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof(buf),
		     "pid=%d\n"
		     "updated_unix_ms=%" PRIu64 "\n"
		     "endpoint=%s\n"
		     "protocol=%s\n"
		     "compression=%s\n"
		     "last_http_status=%d\n"
		     "last_grpc_status=%d\n"
		     "last_error=%s\n"
		     "last_latency_ms=%.1f\n"
		     "sent_requests=%" PRIu64 "\n"
		     "sent_records=%" PRIu64 "\n"
		     "retries=%" PRIu64 "\n"
		     "dropped_requests=%" PRIu64 "\n"
		     "dropped_records=%" PRIu64 "\n"
		     "rejected_records=%" PRIu64 "\n"
		     "quarantined_files=%" PRIu64 "\n"
		     "spool_files=%" PRIu64 "\n"
		     "spool_bytes=%" PRIu64 "\n"
		     "auth_failures=%" PRIu64 "\n"
		     "last_auth_status=%d\n"
		     "last_auth_unix_ms=%" PRIu64 "\n",
		     (int)getpid(), (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000,
		     st->endpoint, st->protocol, st->compression, st->last_http_status,
		     st->last_grpc_status, st->last_error, st->last_latency_ms, st->sent_requests,
		     st->sent_records, st->retries, st->dropped_requests, st->dropped_records,
		     st->rejected_records, st->quarantined_files, st->spool_files, st->spool_bytes,
		     st->auth_failures, st->last_auth_status, st->last_auth_unix_ms);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EOVERFLOW;
	m = latency_lines(st, buf + n, sizeof(buf) - (size_t)n);
	if (m < 0)
		return -EOVERFLOW;
	n += m;
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -errno;
	ret = write_all(fd, buf, (size_t)n);
	if (close(fd) == -1 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, st->path) == -1)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	st->written_ms = now_ms ? now_ms : 1;
	return ret;
}

int status_tick(struct status *st, uint64_t now_ms)
{
	if (st->written_ms && now_ms - st->written_ms < STATUS_INTERVAL_MS)
		return 0;
	return status_write(st, now_ms);
}
