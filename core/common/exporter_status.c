/* SPDX-License-Identifier: MIT */
/*
 * Reading <spool>/exporter.status (written by exporter/status.c): for
 * shmtop and for the collector's own metrics. The file is another
 * process's and the directory may come from shared memory: a regular
 * file only, opened O_NONBLOCK (a FIFO planted there cannot hang us), at
 * most STATUS_MAX_BYTES read, every value bounded, strings cleaned.
 */
#include "exporter_status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text_clean.h"

#define STATUS_MAX_BYTES 8192

static uint64_t parse_u64(const char *v)
{
	char *end;
	unsigned long long x;

	if (*v < '0' || *v > '9')
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end)
		return 0;
	return x;
}

/* "a,b,c" numbers into out (at most max); how many, or 0 if malformed. */
static int parse_list(const char *p, double *out, int max)
{
	int n = 0;
	char *end;

	while (*p && n < max) {
		out[n++] = strtod(p, &end);
		if (end == p || (*end != ',' && *end != '\0'))
			return 0;
		if (*end == '\0')
			return n;
		p = end + 1;
	}
	return *p ? 0 : n;
}

void exporter_status_parse(struct exporter_status *exp, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	memset(exp, 0, sizeof(*exp));
	exp->last_grpc_status = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq;
		char key[32], val[512];
		size_t klen, vlen;

		if (!nl)
			break; /* a line without its newline was cut: ignore it */
		eq = memchr(p, '=', (size_t)(nl - p));
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof(key)) {
			p = nl + 1;
			continue;
		}
		klen = (size_t)(eq - p);
		memcpy(key, p, klen);
		key[klen] = '\0';
		vlen = (size_t)(nl - eq - 1);
		if (vlen >= sizeof(val))
			vlen = sizeof(val) - 1;
		memcpy(val, eq + 1, vlen);
		val[vlen] = '\0';
		p = nl + 1;
		exp->present = 1;
		if (!strcmp(key, "pid")) {
			uint64_t pid = parse_u64(val);
			exp->pid = pid <= INT32_MAX ? (uint32_t)pid : 0;
		} else if (!strcmp(key, "updated_unix_ms")) {
			exp->updated_unix_ms = parse_u64(val);
		} else if (!strcmp(key, "endpoint")) {
			text_clean(exp->endpoint, sizeof(exp->endpoint), val, vlen);
		} else if (!strcmp(key, "protocol")) {
			text_clean(exp->protocol, sizeof(exp->protocol), val, vlen);
		} else if (!strcmp(key, "compression")) {
			text_clean(exp->compression, sizeof(exp->compression), val, vlen);
		} else if (!strcmp(key, "last_http_status")) {
			long long x = strtoll(val, NULL, 10);
			exp->last_http_status = x < -1 || x > 999 ? 0 : x;
		} else if (!strcmp(key, "last_grpc_status")) {
			long long x = strtoll(val, NULL, 10);
			exp->last_grpc_status = x < 0 || x > 16 ? -1 : x; /* gRPC codes 0..16 */
		} else if (!strcmp(key, "last_error")) {
			text_clean(exp->last_error, sizeof(exp->last_error), val, vlen);
		} else if (!strcmp(key, "last_latency_ms")) {
			double x = strtod(val, NULL);
			exp->last_latency_ms = x >= 0 && x < 1e9 ? x : 0; /* also drops NaN */
		} else if (!strcmp(key, "sent_requests")) {
			exp->sent_requests = parse_u64(val);
		} else if (!strcmp(key, "sent_records")) {
			exp->sent_records = parse_u64(val);
		} else if (!strcmp(key, "retries")) {
			exp->retries = parse_u64(val);
		} else if (!strcmp(key, "dropped_requests")) {
			exp->dropped_requests = parse_u64(val);
		} else if (!strcmp(key, "dropped_records")) {
			exp->dropped_records = parse_u64(val);
		} else if (!strcmp(key, "rejected_records")) {
			exp->rejected_records = parse_u64(val);
		} else if (!strcmp(key, "quarantined_files")) {
			exp->quarantined_files = parse_u64(val);
		} else if (!strcmp(key, "spool_files")) {
			exp->spool_files = parse_u64(val);
		} else if (!strcmp(key, "spool_bytes")) {
			exp->spool_bytes = parse_u64(val);
		} else if (!strcmp(key, "auth_failures")) {
			exp->auth_failures = parse_u64(val);
		} else if (!strcmp(key, "last_auth_status")) {
			uint64_t x = parse_u64(val);
			exp->last_auth_status = x == 401 || x == 403 ? (long long)x : 0;
		} else if (!strcmp(key, "last_auth_unix_ms")) {
			exp->last_auth_unix_ms = parse_u64(val);
		} else if (!strcmp(key, "latency_ms_bounds")) {
			exp->latency_nbounds = parse_list(val, exp->latency_bounds,
							  EXPORTER_STATUS_MAX_BOUNDS);
		} else if (!strcmp(key, "latency_ms_buckets")) {
			double b[EXPORTER_STATUS_MAX_BOUNDS + 1];
			int nb = parse_list(val, b, EXPORTER_STATUS_MAX_BOUNDS + 1);

			exp->latency_nbuckets = nb;
			for (int i = 0; i < nb; i++)
				exp->latency_buckets[i] = b[i] >= 0 && b[i] < 1e19 ? (uint64_t)b[i] : 0;
		} else if (!strcmp(key, "latency_ms_count")) {
			exp->latency_count = parse_u64(val);
		} else if (!strcmp(key, "latency_ms_sum")) {
			double x = strtod(val, NULL);
			exp->latency_sum = x >= 0 && x < 1e18 ? x : 0;
		}
	}
}

int exporter_status_read(const char *dir, struct exporter_status *exp)
{
	char path[512], buf[STATUS_MAX_BYTES];
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd;

	memset(exp, 0, sizeof(*exp));
	if (snprintf(path, sizeof(path), "%s/exporter.status", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	exporter_status_parse(exp, buf, len);
	return exp->present ? 0 : -ENODATA;
}

