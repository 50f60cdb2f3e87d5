/* SPDX-License-Identifier: MIT */
/*
 * libcurl multi transport for the exporter. One multi handle carries every
 * request of every option profile (one profile per distinct set of
 * per-signal options), so the exporter sleeps in one curl_multi_poll.
 * Each profile owns max_in_flight easy handles, created once with all of
 * the profile's constant options (headers, TLS, timeouts, callbacks);
 * a request only sets URL and body. max_in_flight bounds the requests of
 * all profiles together. Connections belong to the multi handle's cache,
 * so a finished request leaves its connection open for the next one
 * (OTLP: clients SHOULD keep connections alive).
 *
 * gRPC: the answer's grpc-status (and message, details, encoding) comes
 * in the trailers, which libcurl hands to the header callback after the
 * body, or in the headers of a trailers-only answer; on_header keeps
 * both the same way.
 *
 * Header values are secrets: they go into curl_slist entries and nowhere
 * else; verbose output stays off so libcurl never prints them either.
 */
#include "http_send.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"

struct slot {
	CURL *easy;
	int busy;
	void *user;
	char *body; /* response body buffer, grows to HTTP_SEND_BODY_MAX */
	size_t body_len;
	size_t body_cap;
	int body_truncated;
	char content_type[128];
	char retry_after[128];
	char err[CURL_ERROR_SIZE];
	char grpc_status[GRPC_STATUS_MAX];
	char grpc_message[GRPC_MESSAGE_MAX];
	char grpc_details[GRPC_DETAILS_MAX];
	char grpc_encoding[GRPC_ENCODING_MAX];
};

struct profile {
	struct curl_slist *hdrs;
	struct slot *slots; /* max_in_flight of them */
	int grpc;
};

struct http_send {
	CURLM *multi;
	struct profile *prof;
	unsigned nprof;
	unsigned nslots; /* per profile, = max_in_flight */
	unsigned busy;	 /* all profiles together */
	int global_init;
	int h2c_no_reuse; /* libcurl cannot reuse a prior-knowledge connection */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb, keep = n, cap;
	char *p;

	/* Beyond the cap the bytes are read and discarded rather than
	 * failing the transfer: the status line already says what happened. */
	if (s->body_len + keep > HTTP_SEND_BODY_MAX) {
		keep = HTTP_SEND_BODY_MAX - s->body_len;
		s->body_truncated = 1;
	}
	if (keep && s->body_len + keep > s->body_cap) {
		cap = s->body_cap ? s->body_cap : 4096;
		while (cap < s->body_len + keep)
			cap *= 2;
		if (cap > HTTP_SEND_BODY_MAX)
			cap = HTTP_SEND_BODY_MAX;
		p = realloc(s->body, cap);
		if (!p) {
			s->body_truncated = 1;
			return n;
		}
		s->body = p;
		s->body_cap = cap;
	}
	if (keep) {
		memcpy(s->body + s->body_len, ptr, keep);
		s->body_len += keep;
	}
	return n;
}

/* Copies a header's value (after "Name:"), trimmed, into out. */
static void header_value(const char *line, size_t len, size_t namelen, char *out, size_t outlen)
{
	const char *v = line + namelen, *end = line + len;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	snprintf(out, outlen, "%.*s", (int)(end - v), v);
}

/* "name:" at the start of a header line of n bytes, any case. */
static int is_header(const char *line, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n > len && strncasecmp(line, name, len) == 0;
}

static void clear_grpc(struct slot *s)
{
	s->grpc_status[0] = '\0';
	s->grpc_message[0] = '\0';
	s->grpc_details[0] = '\0';
	s->grpc_encoding[0] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb;

	/* A new status line (after a 100 Continue, or a redirect) starts a
	 * new header block: forget the previous one. Trailers have no
	 * status line, so they add to the answer's headers. */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		s->content_type[0] = '\0';
		s->retry_after[0] = '\0';
		clear_grpc(s);
	} else if (is_header(ptr, n, "grpc-status:")) {
		header_value(ptr, n, 12, s->grpc_status, sizeof(s->grpc_status));
	} else if (is_header(ptr, n, "grpc-message:")) {
		header_value(ptr, n, 13, s->grpc_message, sizeof(s->grpc_message));
	} else if (is_header(ptr, n, "grpc-status-details-bin:")) {
		header_value(ptr, n, 24, s->grpc_details, sizeof(s->grpc_details));
	} else if (is_header(ptr, n, "grpc-encoding:")) {
		header_value(ptr, n, 14, s->grpc_encoding, sizeof(s->grpc_encoding));
	} else if (n > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
		header_value(ptr, n, 12, s->retry_after, sizeof(s->retry_after));
	} else if (n > 13 && strncasecmp(ptr, "Content-Type:", 13) == 0) {
		header_value(ptr, n, 13, s->content_type, sizeof(s->content_type));
	}
	return n;
}

static int has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static int add_header(struct profile *hs, const char *line)
{
	struct curl_slist *l = curl_slist_append(hs->hdrs, line);

	if (!l)
		return -ENOMEM;
	hs->hdrs = l;
	return 0;
}

/*
 * gRPC's request headers (grpc/grpc doc/PROTOCOL-HTTP2.md): te: trailers
 * (gRPC needs trailers; proxies drop them without it), the compression of
 * the message in grpc-encoding (the flag byte says it applies), what we
 * can decompress in answers, and the deadline. (libcurl sends every
 * name in lower case over HTTP/2, as gRPC metadata keys must be.)
 */
static int grpc_headers(struct profile *hs, const struct http_send_opts *o)
{
	char line[128], tmo[24];

	if (add_header(hs, "te: trailers") < 0 ||
	    add_header(hs, "grpc-accept-encoding: identity,gzip,zstd") < 0)
		return -ENOMEM;
	snprintf(line, sizeof(line), "grpc-encoding: %s",
		 o->content_encoding ? o->content_encoding : "identity");
	if (add_header(hs, line) < 0)
		return -ENOMEM;
	if (grpc_timeout_format(o->timeout_ms, tmo, sizeof(tmo)) == 0 && tmo[0]) {
		snprintf(line, sizeof(line), "grpc-timeout: %s", tmo);
		if (add_header(hs, line) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int build_headers(struct profile *hs, const struct http_send_opts *o)
{
	char line[CONFIG_STR_MAX + 160];
	struct curl_slist *l;
	unsigned i;

	snprintf(line, sizeof(line), "Content-Type: %s", o->content_type);
	if (add_header(hs, line) < 0)
		return -ENOMEM;
	if (o->grpc) {
		if (grpc_headers(hs, o) < 0)
			return -ENOMEM;
	} else if (o->content_encoding) {
		snprintf(line, sizeof(line), "Content-Encoding: %s", o->content_encoding);
		if (add_header(hs, line) < 0)
			return -ENOMEM;
	}
	/* libcurl would send "Expect: 100-continue" for large bodies and wait
	 * a round trip for it; OTLP receivers do not need that dance. */
	l = curl_slist_append(hs->hdrs, "Expect:");
	if (!l)
		return -ENOMEM;
	hs->hdrs = l;
	for (i = 0; i < o->nheaders; i++) {
		const struct config_header *h = &o->headers[i];

		if (!h->name[0] || has_crlf(h->name) || has_crlf(h->value) ||
		    strchr(h->name, ':')) {
			/* Name only: the value is a secret. */
			LOGW("http_send: header '%s' skipped: invalid characters", h->name);
			continue;
		}
		snprintf(line, sizeof(line), "%s: %s", h->name, h->value);
		l = curl_slist_append(hs->hdrs, line);
		explicit_bzero(line, sizeof(line));
		if (!l)
			return -ENOMEM;
		hs->hdrs = l;
	}
	return 0;
}

#define SETOPT(easy, opt, val)                                                                     \
	do {                                                                                       \
		if (curl_easy_setopt((easy), (opt), (val)) != CURLE_OK)                            \
			goto err_opt;                                                              \
	} while (0)

static int setup_easy(struct profile *hs, struct slot *s, const struct http_send_opts *o)
{
	CURL *e = curl_easy_init();

	if (!e)
		return -ENOMEM;
	s->easy = e;
	SETOPT(e, CURLOPT_PRIVATE, s);
	SETOPT(e, CURLOPT_ERRORBUFFER, s->err);
	SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SETOPT(e, CURLOPT_POST, 1L);
	SETOPT(e, CURLOPT_HTTPHEADER, hs->hdrs);
	SETOPT(e, CURLOPT_USERAGENT, HTTP_SEND_USER_AGENT);
	SETOPT(e, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(e, CURLOPT_WRITEDATA, s);
	SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(e, CURLOPT_HEADERDATA, s);
	SETOPT(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(e, CURLOPT_TCP_NODELAY, 1L);
	/* Redirects would resend the body to a URL nobody configured. */
	SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* No CA store cache (libcurl >= 7.87 keeps one per multi handle for
	 * a day): a CA file renewed on disk takes effect with the next
	 * connection, as an exporter reload promises. */
#if LIBCURL_VERSION_NUM >= 0x075700
	SETOPT(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
	/* gRPC calls share one HTTP/2 connection: wait for it to be set up
	 * rather than opening one connection per call. */
	if (o->grpc)
		SETOPT(e, CURLOPT_PIPEWAIT, 1L);
	if (o->ca_file && *o->ca_file)
		SETOPT(e, CURLOPT_CAINFO, o->ca_file);
	if (o->client_cert && *o->client_cert)
		SETOPT(e, CURLOPT_SSLCERT, o->client_cert);
	if (o->client_key && *o->client_key)
		SETOPT(e, CURLOPT_SSLKEY, o->client_key);
	if (o->insecure) {
		SETOPT(e, CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;

err_opt:
	LOGE("http_send: libcurl rejected an option: %s", s->err[0] ? s->err : "unknown");
	return -EIO;
}

/*
 * libcurl 7.88.0 and 7.88.1 (Debian 12's) fail a second request on a
 * reused cleartext HTTP/2 connection with "Error in the HTTP2 framing
 * layer" (curl issue 10634, fixed in 8.0.0): prior knowledge was set up
 * again on a connection that already spoke HTTP/2. With such a libcurl
 * every h2c call gets a connection of its own; TLS (ALPN) is not affected.
 */
static int h2c_reuse_broken(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (!v || v->version_num < 0x075800 || v->version_num >= 0x080000)
		return 0;
	LOGD("http_send: libcurl %s cannot reuse cleartext HTTP/2 connections (curl issue "
	     "10634): one connection per gRPC call to http:// endpoints",
	     v->version);
	return 1;
}

void http_send_destroy(struct http_send *hs)
{
	unsigned i, p;

	if (!hs)
		return;
	for (p = 0; hs->prof && p < hs->nprof; p++) {
		struct profile *pr = &hs->prof[p];

		for (i = 0; pr->slots && i < hs->nslots; i++) {
			struct slot *s = &pr->slots[i];

			if (s->busy && hs->multi)
				curl_multi_remove_handle(hs->multi, s->easy);
			if (s->easy)
				curl_easy_cleanup(s->easy);
			free(s->body);
		}
		free(pr->slots);
		curl_slist_free_all(pr->hdrs);
	}
	free(hs->prof);
	if (hs->multi)
		curl_multi_cleanup(hs->multi);
	if (hs->global_init)
		curl_global_cleanup();
	free(hs);
}

int http_send_create(const struct http_send_opts *o, unsigned nprof, unsigned max_in_flight,
		     struct http_send **out)
{
	struct http_send *hs;
	CURLcode cr;
	unsigned i, p;
	int ret;

	if (!max_in_flight || !nprof || nprof > HTTP_SEND_PROFILES_MAX)
		return -EINVAL;
	for (p = 0; p < nprof; p++)
		if (!o[p].content_type)
			return -EINVAL;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	/* Reference-counted and thread-safe in libcurl >= 7.84. */
	cr = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cr != CURLE_OK) {
		LOGE("http_send: curl_global_init: %s", curl_easy_strerror(cr));
		ret = -EIO;
		goto err_destroy;
	}
	hs->global_init = 1;
	hs->multi = curl_multi_init();
	hs->prof = calloc(nprof, sizeof(*hs->prof));
	if (!hs->multi || !hs->prof) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	hs->nprof = nprof;
	hs->nslots = max_in_flight;
	/* Per host, so two profiles aimed at two receivers each get
	 * max_in_flight; the cache keeps one connection per slot. */
	curl_multi_setopt(hs->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_in_flight);
	curl_multi_setopt(hs->multi, CURLMOPT_MAXCONNECTS, (long)(max_in_flight * nprof));
	for (p = 0; p < nprof; p++) {
		struct profile *pr = &hs->prof[p];

		pr->grpc = o[p].grpc;
		if (o[p].grpc && !hs->h2c_no_reuse)
			hs->h2c_no_reuse = h2c_reuse_broken();
		pr->slots = calloc(max_in_flight, sizeof(*pr->slots));
		if (!pr->slots) {
			ret = -ENOMEM;
			goto err_destroy;
		}
		ret = build_headers(pr, &o[p]);
		if (ret < 0)
			goto err_destroy;
		for (i = 0; i < hs->nslots; i++) {
			ret = setup_easy(pr, &pr->slots[i], &o[p]);
			if (ret < 0)
				goto err_destroy;
		}
	}
	*out = hs;
	return 0;

err_destroy:
	http_send_destroy(hs);
	return ret;
}

unsigned http_send_busy(const struct http_send *hs)
{
	return hs->busy;
}

int http_send_can_start(const struct http_send *hs)
{
	return hs->busy < hs->nslots;
}

int http_send_start(struct http_send *hs, unsigned prof, const char *url, const void *body,
		    size_t len, void *user)
{
	struct profile *pr;
	struct slot *s = NULL;
	CURLMcode mr;
	unsigned i;

	if (prof >= hs->nprof)
		return -EINVAL;
	if (hs->busy >= hs->nslots)
		return -EBUSY;
	pr = &hs->prof[prof];
	for (i = 0; i < hs->nslots; i++) {
		if (!pr->slots[i].busy) {
			s = &pr->slots[i];
			break;
		}
	}
	if (!s)
		return -EBUSY;
	s->body_len = 0;
	s->body_truncated = 0;
	s->content_type[0] = '\0';
	s->retry_after[0] = '\0';
	s->err[0] = '\0';
	clear_grpc(s);
	if (pr->grpc) {
		/* gRPC only exists over HTTP/2: cleartext with prior knowledge
		 * (there is no upgrade dance), or TLS with h2 chosen by ALPN. */
		int tls = strncasecmp(url, "https:", 6) == 0;
		long v = tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
		long fresh = !tls && hs->h2c_no_reuse;

		if (curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, v) != CURLE_OK ||
		    curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, fresh) != CURLE_OK ||
		    curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, fresh) != CURLE_OK) {
			LOGE("http_send: libcurl has no HTTP/2: %s", s->err);
			return -EIO;
		}
	}
	if (curl_easy_setopt(s->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body) != CURLE_OK) {
		LOGE("http_send: cannot set request: %s", s->err);
		return -EIO;
	}
	mr = curl_multi_add_handle(hs->multi, s->easy);
	if (mr != CURLM_OK) {
		LOGE("http_send: curl_multi_add_handle: %s", curl_multi_strerror(mr));
		return -EIO;
	}
	s->busy = 1;
	s->user = user;
	hs->busy++;
	return 0;
}

static void finish(struct http_send *hs, CURLMsg *msg, http_send_done_fn cb, void *arg)
{
	struct http_result res;
	struct slot *s = NULL;
	long http_version = 0;
	double total = 0;
	char *priv = NULL;
	void *user;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
	s = (struct slot *)priv;
	memset(&res, 0, sizeof(res));
	res.transport_err = (int)msg->data.result;
	if (msg->data.result == CURLE_OK) {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &res.status);
	} else {
		snprintf(res.err, sizeof(res.err), "%s",
			 s->err[0] ? s->err : curl_easy_strerror(msg->data.result));
	}
	curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME, &total);
	curl_easy_getinfo(s->easy, CURLINFO_HTTP_VERSION, &http_version);
	res.http2 = http_version == CURL_HTTP_VERSION_2_0;
	res.latency_ms = total * 1000.0;
	res.body = s->body;
	res.body_len = s->body_len;
	res.body_truncated = s->body_truncated;
	snprintf(res.content_type, sizeof(res.content_type), "%s", s->content_type);
	snprintf(res.retry_after, sizeof(res.retry_after), "%s", s->retry_after);
	memcpy(res.grpc_status, s->grpc_status, sizeof(res.grpc_status));
	memcpy(res.grpc_message, s->grpc_message, sizeof(res.grpc_message));
	memcpy(res.grpc_details, s->grpc_details, sizeof(res.grpc_details));
	memcpy(res.grpc_encoding, s->grpc_encoding, sizeof(res.grpc_encoding));

	curl_multi_remove_handle(hs->multi, s->easy);
	user = s->user;
	cb(arg, user, &res);
	s->busy = 0;
	s->user = NULL;
	hs->busy--;
}

int http_send_poll(struct http_send *hs, int timeout_ms, int wake_fd, int *woken,
		   http_send_done_fn cb, void *arg)
{
	struct curl_waitfd wfd = {.fd = wake_fd, .events = CURL_WAIT_POLLIN, .revents = 0};
	int running = 0, left, done = 0, round;
	CURLMsg *msg;
	CURLMcode mr;

	if (woken)
		*woken = 0;
	for (round = 0; round < 2; round++) {
		mr = curl_multi_perform(hs->multi, &running);
		if (mr != CURLM_OK) {
			LOGE("http_send: curl_multi_perform: %s", curl_multi_strerror(mr));
			return -EIO;
		}
		while ((msg = curl_multi_info_read(hs->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			finish(hs, msg, cb, arg);
			done++;
		}
		if (done || round == 1 || timeout_ms <= 0)
			break;
		/* curl_multi_poll also waits when there is nothing to wait
		 * for, which makes it the exporter loop's sleep. */
		mr = curl_multi_poll(hs->multi, wake_fd >= 0 ? &wfd : NULL, wake_fd >= 0 ? 1 : 0,
				     timeout_ms, NULL);
		if (mr != CURLM_OK) {
			LOGE("http_send: curl_multi_poll: %s", curl_multi_strerror(mr));
			return -EIO;
		}
		if (woken && (wfd.revents & CURL_WAIT_POLLIN))
			*woken = 1;
	}
	return done;
}
