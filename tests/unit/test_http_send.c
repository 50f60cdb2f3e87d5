/* SPDX-License-Identifier: MIT */
/*
 * exporter/http_send.c through the exporter's send path, against a tiny
 * HTTP/1.1 server on 127.0.0.1 (a thread in this test) that answers with
 * scripted responses. Checks: 503 and 429 are retried and Retry-After is
 * honoured; a 400 drops and counts; connection errors are retried and
 * given up after retry_max_elapsed_ms; partial success is counted; files
 * go out in sequence order to /v1/logs and /v1/metrics with the right
 * headers and a body that decompresses to the spool payload. Timing
 * assertions are one-sided (elapsed >= 0.9 s), never upper bounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "exporter.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "spool_file.h"
#include "spool_scan.h"
#include "exporter_status.h"
#include "test_help.h"

#define MAX_REQ 64
#define MAX_CONN 8

struct reply {
	const char *data;
	size_t len;
};

struct srv {
	int lfd;
	int port;
	pthread_t th;
	atomic_int quit;
	pthread_mutex_t mu;
	const struct reply *script;
	unsigned nscript;
	unsigned nreq;
	double t_ms[MAX_REQ];
	char head[MAX_REQ][2048];
	unsigned char *body[MAX_REQ];
	size_t blen[MAX_REQ];
};

struct conn {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
};

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Handles every complete request in c->buf; returns 0, or -1 to close. */
static int serve(struct srv *s, struct conn *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		size_t hlen, cl = 0;
		const struct reply *r;
		char *p;
		unsigned i;

		if (!end)
			return 0;
		hlen = (size_t)(end - c->buf) + 4;
		for (p = c->buf; p < end; p++) {
			if (strncasecmp(p, "\r\ncontent-length:", 17) == 0) {
				cl = strtoul(p + 17, NULL, 10);
				break;
			}
		}
		if (c->len < hlen + cl)
			return 0;
		pthread_mutex_lock(&s->mu);
		i = s->nreq < MAX_REQ ? s->nreq : MAX_REQ - 1;
		s->t_ms[i] = mono_ms();
		snprintf(s->head[i], sizeof(s->head[i]), "%.*s", (int)hlen, c->buf);
		free(s->body[i]);
		s->body[i] = malloc(cl + 1);
		T_ASSERT(s->body[i]);
		memcpy(s->body[i], c->buf + hlen, cl);
		s->blen[i] = cl;
		r = &s->script[s->nreq < s->nscript ? s->nreq : s->nscript - 1];
		s->nreq++;
		pthread_mutex_unlock(&s->mu);
		write_all(c->fd, r->data, r->len);
		memmove(c->buf, c->buf + hlen + cl, c->len - hlen - cl);
		c->len -= hlen + cl;
	}
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	struct conn conns[MAX_CONN];
	struct pollfd pfd[MAX_CONN + 1];
	unsigned i, n;

	memset(conns, 0, sizeof(conns));
	for (i = 0; i < MAX_CONN; i++)
		conns[i].fd = -1;
	while (!atomic_load(&s->quit)) {
		pfd[0].fd = s->lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < MAX_CONN; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (poll(pfd, MAX_CONN + 1, 50) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept(s->lfd, NULL, NULL);

			for (i = 0; fd >= 0 && i < MAX_CONN; i++) {
				if (conns[i].fd < 0) {
					conns[i].fd = fd;
					conns[i].len = 0;
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (i = 0; i < MAX_CONN; i++) {
			struct conn *c = &conns[i];
			ssize_t r;

			if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (c->cap - c->len < 65536) {
				c->cap = c->cap ? c->cap * 2 : 131072;
				c->buf = realloc(c->buf, c->cap);
				T_ASSERT(c->buf);
			}
			r = read(c->fd, c->buf + c->len, c->cap - c->len);
			if (r <= 0 || (c->len += (size_t)r, serve(s, c) < 0)) {
				close(c->fd);
				c->fd = -1;
			}
		}
	}
	for (n = 0; n < MAX_CONN; n++) {
		if (conns[n].fd >= 0)
			close(conns[n].fd);
		free(conns[n].buf);
	}
	return NULL;
}

static void srv_start(struct srv *s, const struct reply *script, unsigned nscript)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->script = script;
	s->nscript = nscript;
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_ASSERT(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_EQ_INT(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	T_EQ_INT(listen(s->lfd, 16), 0);
	T_EQ_INT(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	T_EQ_INT(pthread_create(&s->th, NULL, srv_main, s), 0);
}

/* Joins the server thread: everything it recorded is then visible to
 * the test without locks (and to TSan). */
static void srv_stop(struct srv *s)
{
	atomic_store(&s->quit, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
}

static void srv_free(struct srv *s)
{
	unsigned i;

	for (i = 0; i < MAX_REQ; i++)
		free(s->body[i]);
	pthread_mutex_destroy(&s->mu);
}

/* An ExportLogsServiceRequest with n records "rec <tag> <i>". */
static uint8_t *make_logs(unsigned n, unsigned tag, size_t *len)
{
	Opentelemetry__Proto__Logs__V1__LogRecord recs[16];
	Opentelemetry__Proto__Logs__V1__LogRecord *rp[16];
	Opentelemetry__Proto__Common__V1__AnyValue bodies[16];
	char text[16][32];
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl =
	    OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs *slp = &sl;
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
	    OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rlp = &rl;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
	    OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	uint8_t *out;
	unsigned i;

	T_ASSERT(n <= 16);
	for (i = 0; i < n; i++) {
		opentelemetry__proto__logs__v1__log_record__init(&recs[i]);
		opentelemetry__proto__common__v1__any_value__init(&bodies[i]);
		snprintf(text[i], sizeof(text[i]), "rec %u %u", tag, i);
		bodies[i].value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		bodies[i].string_value = text[i];
		recs[i].body = &bodies[i];
		recs[i].time_unix_nano = 1700000000000000000ull + i;
		rp[i] = &recs[i];
	}
	sl.log_records = rp;
	sl.n_log_records = n;
	rl.scope_logs = &slp;
	rl.n_scope_logs = 1;
	req.resource_logs = &rlp;
	req.n_resource_logs = 1;
	*len =
	    opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(
		&req);
	out = malloc(*len);
	T_ASSERT(out);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&req, out);
	return out;
}

static void spool_put(const char *dir, int sig, unsigned n, unsigned tag, uint8_t **pb, size_t *len)
{
	uint64_t seq;

	*pb = make_logs(n, tag, len);
	/* A metrics file carries a logs request here: the exporter does not
	 * decode protobuf bodies, and the signal only picks the URL. */
	T_EQ_INT(spool_write_file(dir, sig, *pb, *len, n, &seq), 0);
}

static void cfg_init(struct shmlog_config *cfg, const char *spool, int port)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->spool_dir, sizeof(cfg->spool_dir), "%s", spool);
	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint), "http://127.0.0.1:%d", port);
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "http/protobuf");
	snprintf(cfg->exp_compression, sizeof(cfg->exp_compression), "gzip");
	snprintf(cfg->service_name, sizeof(cfg->service_name), "test");
	snprintf(cfg->exp_headers[0].name, sizeof(cfg->exp_headers[0].name), "x-api-key");
	snprintf(cfg->exp_headers[0].value, sizeof(cfg->exp_headers[0].value), "sekret-value");
	cfg->exp_nheaders = 1;
	cfg->exp_timeout_ms = 5000;
	cfg->exp_max_in_flight = 2;
	cfg->exp_retry_initial_ms = 50;
	cfg->exp_retry_max_ms = 200;
	cfg->exp_scan_interval_ms = 50;
}

static char *make_spool(void)
{
	char *dir = strdup("/tmp/shmlog-test-http.XXXXXX");

	T_ASSERT(dir && mkdtemp(dir));
	T_EQ_INT(spool_dirs_create(dir), 0);
	return dir;
}

static void rm_spool(char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	T_EQ_INT(system(cmd), 0);
	free(dir);
}

static unsigned spool_count(const char *dir, int sig)
{
	struct spool_scan_list l = {0};
	int n = spool_scan_list(dir, sig, &l);

	spool_scan_free(&l);
	T_ASSERT(n >= 0);
	return (unsigned)n;
}

static int has_header(const char *head, const char *line)
{
	return strcasestr(head, line) != NULL;
}

static void gunzip_eq(const unsigned char *z, size_t zlen, const uint8_t *want, size_t n)
{
	unsigned char *out = malloc(n + 64);
	z_stream zs;

	T_ASSERT(out);
	memset(&zs, 0, sizeof(zs));
	T_EQ_INT(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)z;
	zs.avail_in = (uInt)zlen;
	zs.next_out = out;
	zs.avail_out = (uInt)(n + 64);
	T_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END);
	T_EQ_INT(zs.total_out, n);
	T_ASSERT(memcmp(out, want, n) == 0);
	inflateEnd(&zs);
	free(out);
}

#define REPLY(s)                                                                                   \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}

static void test_retry_then_ok(void)
{
	static const struct reply script[] = {
	    REPLY("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"),
	    REPLY("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
		  "Content-Length: 0\r\n\r\n"),
	    REPLY("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
		  "Content-Length: 0\r\n\r\n"),
	};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	const struct status *st;
	struct exporter *ex = NULL;
	char *dir = make_spool();
	char path[512], sbuf[4096];
	struct srv s;
	uint8_t *pb;
	size_t len;
	FILE *f;

	T_ASSERT(cfg);
	srv_start(&s, script, 3);
	cfg_init(cfg, dir, s.port);
	spool_put(dir, SPOOL_SIG_LOGS, 3, 0, &pb, &len);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 0);
	srv_stop(&s);
	st = exporter_status(ex);

	T_EQ_INT(s.nreq, 3);
	/* Retry-After: 1 was honoured (one-sided: never an upper bound). */
	T_ASSERT(s.t_ms[2] - s.t_ms[1] >= 900.0);
	T_EQ_INT(st->sent_requests, 1);
	T_EQ_INT(st->sent_records, 3);
	T_EQ_INT(st->retries, 2);
	T_EQ_INT(st->dropped_requests, 0);
	T_EQ_INT(st->last_http_status, 200);
	T_EQ_INT(spool_count(dir, SPOOL_SIG_LOGS), 0);

	T_ASSERT(strncmp(s.head[0], "POST /v1/logs HTTP/1.1\r\n", 24) == 0);
	T_ASSERT(has_header(s.head[0], "\r\nContent-Type: application/x-protobuf\r\n"));
	T_ASSERT(has_header(s.head[0], "\r\nContent-Encoding: gzip\r\n"));
	T_ASSERT(has_header(s.head[0], "\r\nUser-Agent: shmlog-exporter/"));
	T_ASSERT(has_header(s.head[0], "OTel-OTLP-Exporter-C\r\n"));
	T_ASSERT(has_header(s.head[0], "\r\nx-api-key: sekret-value\r\n"));
	T_ASSERT(!has_header(s.head[0], "Expect:"));
	gunzip_eq(s.body[2], s.blen[2], pb, len);

	/* status file: written at exit, no secret in it */
	snprintf(path, sizeof(path), "%s/exporter.status", dir);
	f = fopen(path, "r");
	T_ASSERT(f);
	len = fread(sbuf, 1, sizeof(sbuf) - 1, f);
	sbuf[len] = '\0';
	fclose(f);
	T_ASSERT(strstr(sbuf, "\nsent_requests=1\n"));
	T_ASSERT(strstr(sbuf, "\nretries=2\n"));
	T_ASSERT(strstr(sbuf, "\nlast_http_status=200\n"));
	T_ASSERT(!strstr(sbuf, "sekret"));

	exporter_destroy(ex);
	srv_free(&s);
	free(pb);
	free(cfg);
	rm_spool(dir);
}

static void test_permanent_drop(void)
{
	/* google.rpc.Status{code: 3, message: "bad data"} */
	static const struct reply script[] = {
	    REPLY("HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-protobuf\r\n"
		  "Content-Length: 12\r\n\r\n\x08\x03\x12\x08"
		  "bad data"),
	};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	const struct status *st;
	struct exporter *ex = NULL;
	char *dir = make_spool();
	uint8_t *pb1, *pb2;
	size_t l1, l2;
	struct srv s;

	T_ASSERT(cfg);
	srv_start(&s, script, 1);
	cfg_init(cfg, dir, s.port);
	spool_put(dir, SPOOL_SIG_LOGS, 2, 1, &pb1, &l1);
	spool_put(dir, SPOOL_SIG_LOGS, 5, 2, &pb2, &l2);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 1); /* not everything delivered */
	srv_stop(&s);
	st = exporter_status(ex);
	T_EQ_INT(s.nreq, 2);
	T_EQ_INT(st->dropped_requests, 2);
	T_EQ_INT(st->dropped_records, 7);
	T_EQ_INT(st->sent_requests, 0);
	T_EQ_INT(st->retries, 0);
	T_EQ_INT(st->last_http_status, 400);
	T_ASSERT(strstr(st->last_error, "bad data"));
	T_EQ_INT(spool_count(dir, SPOOL_SIG_LOGS), 0);
	exporter_destroy(ex);
	srv_free(&s);
	free(pb1);
	free(pb2);
	free(cfg);
	rm_spool(dir);
}

static void test_auth_failures(void)
{
	static const struct reply script[] = {
	    REPLY("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
	    REPLY("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
	};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	const struct status *st;
	struct exporter *ex = NULL;
	struct exporter_status es;
	char *dir = make_spool();
	uint8_t *pb1, *pb2;
	size_t l1, l2;
	struct srv s;

	T_ASSERT(cfg);
	srv_start(&s, script, 2);
	cfg_init(cfg, dir, s.port);
	cfg->exp_max_in_flight = 1; /* in order: 401, then 403 */
	spool_put(dir, SPOOL_SIG_LOGS, 2, 1, &pb1, &l1);
	spool_put(dir, SPOOL_SIG_LOGS, 5, 2, &pb2, &l2);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 1);
	srv_stop(&s);
	st = exporter_status(ex);
	T_EQ_INT(s.nreq, 2);
	T_EQ_INT(st->dropped_requests, 2); /* permanent: dropped, never retried */
	T_EQ_INT(st->auth_failures, 2);
	T_EQ_INT(st->last_auth_status, 403);
	T_ASSERT(st->last_auth_unix_ms > 0);
	/* what the collector reads back for its auth_failed audit event
	 * (exporter_run() wrote the file as it returned) */
	T_EQ_INT(exporter_status_read(dir, &es), 0);
	T_EQ_INT(es.auth_failures, 2);
	T_EQ_INT(es.last_auth_status, 403);
	T_ASSERT(es.last_auth_unix_ms > 0);
	exporter_destroy(ex);
	srv_free(&s);
	free(pb1);
	free(pb2);
	free(cfg);
	rm_spool(dir);
}

static void test_json_zstd_order_partial(void)
{
	static const char ok[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 66\r\n\r\n"
	    "{\"partialSuccess\":{\"rejectedLogRecords\":\"1\",\"errorMessage\":\"dup\"}}";
	static const struct reply script[] = {{ok, sizeof(ok) - 1}};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	const struct status *st;
	struct exporter *ex = NULL;
	char *dir = make_spool();
	uint8_t *pb[4];
	size_t len[4];
	struct srv s;
	unsigned i;

	T_ASSERT(cfg);
	T_EQ_INT(strlen(strstr(ok, "\r\n\r\n") + 4), 66);
	srv_start(&s, script, 1);
	cfg_init(cfg, dir, s.port);
	snprintf(cfg->exp_protocol, sizeof(cfg->exp_protocol), "http/json");
	snprintf(cfg->exp_compression, sizeof(cfg->exp_compression), "zstd");
	cfg->exp_max_in_flight = 1;
	for (i = 0; i < 4; i++)
		spool_put(dir, SPOOL_SIG_LOGS, 1, i, &pb[i], &len[i]);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 0);
	srv_stop(&s);
	st = exporter_status(ex);
	T_EQ_INT(s.nreq, 4);
	T_EQ_INT(st->sent_requests, 4);
	T_EQ_INT(st->rejected_records, 4);
	for (i = 0; i < 4; i++) {
		char want[32], *js;
		unsigned long long n;
		size_t r;

		T_ASSERT(has_header(s.head[i], "\r\nContent-Type: application/json\r\n"));
		T_ASSERT(has_header(s.head[i], "\r\nContent-Encoding: zstd\r\n"));
		n = ZSTD_getFrameContentSize(s.body[i], s.blen[i]);
		T_ASSERT(n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN);
		js = malloc(n + 1);
		T_ASSERT(js);
		r = ZSTD_decompress(js, n, s.body[i], s.blen[i]);
		T_ASSERT(!ZSTD_isError(r) && r == n);
		js[n] = '\0';
		/* sequence order with one request in flight */
		snprintf(want, sizeof(want), "\"rec %u 0\"", i);
		T_ASSERT(strncmp(js, "{\"resourceLogs\":[", 17) == 0);
		T_ASSERT(strstr(js, want));
		T_ASSERT(strstr(js, "\"timeUnixNano\":\"1700000000000000000\""));
		free(js);
		free(pb[i]);
	}
	exporter_destroy(ex);
	srv_free(&s);
	free(cfg);
	rm_spool(dir);
}

static void test_metrics_path(void)
{
	static const struct reply script[] = {
	    REPLY("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	struct exporter *ex = NULL;
	char *dir = make_spool();
	int logs = 0, metrics = 0;
	uint8_t *pb1, *pb2;
	size_t l1, l2;
	struct srv s;
	unsigned i;

	T_ASSERT(cfg);
	srv_start(&s, script, 1);
	cfg_init(cfg, dir, s.port);
	snprintf(cfg->exp_endpoint, sizeof(cfg->exp_endpoint), "http://127.0.0.1:%d/base/", s.port);
	spool_put(dir, SPOOL_SIG_METRICS, 1, 0, &pb1, &l1);
	spool_put(dir, SPOOL_SIG_LOGS, 1, 1, &pb2, &l2);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 0);
	srv_stop(&s);
	T_EQ_INT(s.nreq, 2);
	for (i = 0; i < 2; i++) {
		logs += strncmp(s.head[i], "POST /base/v1/logs ", 19) == 0;
		metrics += strncmp(s.head[i], "POST /base/v1/metrics ", 22) == 0;
	}
	T_EQ_INT(logs, 1);
	T_EQ_INT(metrics, 1);
	T_EQ_INT(exporter_status(ex)->sent_records, 2);
	exporter_destroy(ex);
	srv_free(&s);
	free(pb1);
	free(pb2);
	free(cfg);
	rm_spool(dir);
}

/* Logs and metrics with different options (compression, a header of
 * their own): two option profiles of one transport, each request sent
 * with its own. */
static void test_two_profiles(void)
{
	static const struct reply script[] = {
	    REPLY("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	};
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	struct exporter *ex = NULL;
	char *dir = make_spool();
	int logs = 0, metrics = 0;
	uint8_t *pb1, *pb2;
	size_t l1, l2;
	struct srv s;
	unsigned i;

	T_ASSERT(cfg);
	srv_start(&s, script, 1);
	cfg_init(cfg, dir, s.port);
	snprintf(cfg->exp_metrics.compression, sizeof(cfg->exp_metrics.compression), "none");
	snprintf(cfg->exp_metrics.headers[0].name, sizeof(cfg->exp_metrics.headers[0].name),
		 "x-metrics");
	snprintf(cfg->exp_metrics.headers[0].value, sizeof(cfg->exp_metrics.headers[0].value),
		 "m-value");
	cfg->exp_metrics.nheaders = 1;
	spool_put(dir, SPOOL_SIG_METRICS, 1, 0, &pb1, &l1);
	spool_put(dir, SPOOL_SIG_LOGS, 1, 1, &pb2, &l2);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 0);
	srv_stop(&s);
	T_EQ_INT(s.nreq, 2);
	for (i = 0; i < 2; i++) {
		const char *hd = s.head[i];

		T_ASSERT(has_header(hd, "x-api-key: sekret-value"));
		if (strncmp(hd, "POST /v1/logs ", 14) == 0) {
			logs++;
			T_ASSERT(has_header(hd, "Content-Encoding: gzip"));
			T_ASSERT(!strstr(hd, "x-metrics"));
		} else if (strncmp(hd, "POST /v1/metrics ", 17) == 0) {
			metrics++;
			T_ASSERT(!strstr(hd, "Content-Encoding"));
			T_ASSERT(has_header(hd, "x-metrics: m-value"));
		}
	}
	T_EQ_INT(logs, 1);
	T_EQ_INT(metrics, 1);
	exporter_destroy(ex);
	srv_free(&s);
	free(pb1);
	free(pb2);
	free(cfg);
	rm_spool(dir);
}

static void test_connection_refused(void)
{
	struct shmlog_config *cfg = calloc(1, sizeof(*cfg));
	const struct status *st;
	struct exporter *ex = NULL;
	char *dir = make_spool();
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	uint8_t *pb;
	size_t len;
	int fd, port;

	T_ASSERT(cfg);
	/* A port that was just free: bound, then closed. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_EQ_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	T_EQ_INT(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	port = ntohs(a.sin_port);
	close(fd);

	cfg_init(cfg, dir, port);
	cfg->exp_retry_max_elapsed_ms = 300;
	spool_put(dir, SPOOL_SIG_LOGS, 4, 0, &pb, &len);
	T_EQ_INT(exporter_create(cfg, &ex), 0);
	T_EQ_INT(exporter_run(ex, NULL, 1), 1);
	st = exporter_status(ex);
	T_EQ_INT(st->last_http_status, -1);
	T_ASSERT(st->retries >= 1);
	T_EQ_INT(st->dropped_requests, 1);
	T_EQ_INT(st->dropped_records, 4);
	T_ASSERT(strncmp(st->last_error, "connection:", 11) == 0);
	exporter_destroy(ex);
	free(pb);
	free(cfg);
	rm_spool(dir);
}

int main(void)
{
	T_RUN(test_retry_then_ok);
	T_RUN(test_permanent_drop);
	T_RUN(test_auth_failures);
	T_RUN(test_json_zstd_order_partial);
	T_RUN(test_metrics_path);
	T_RUN(test_two_profiles);
	T_RUN(test_connection_refused);
	return 0;
}
