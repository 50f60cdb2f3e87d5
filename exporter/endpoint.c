/* SPDX-License-Identifier: MIT */
/*
 * Endpoint URL construction and redaction; see endpoint.h for the rules.
 * Nothing but the path is ever changed: scheme, host, port, query stay as
 * the operator wrote them (the specification forbids other rewriting).
 */
#include "endpoint.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Start of the authority ("host:port") part, after "scheme://". */
static const char *authority(const char *url)
{
	const char *p = strstr(url, "://");

	return p ? p + 3 : url;
}

int endpoint_url(const char *base, const char *per_signal, const char *sig_path, char *out,
		 size_t outlen)
{
	const char *auth, *end;
	size_t len;
	int n;

	if (per_signal && *per_signal) {
		auth = authority(per_signal);
		end = auth + strcspn(auth, "/?#");
		if (*end == '/') {
			n = snprintf(out, outlen, "%s", per_signal);
		} else {
			/* Empty path: the only change the spec allows. */
			n = snprintf(out, outlen, "%.*s/%s", (int)(end - per_signal), per_signal,
				     end);
		}
		return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
	}
	if (!base || !*base)
		return -EINVAL;
	len = strlen(base);
	n = snprintf(out, outlen, "%s%s%s", base, base[len - 1] == '/' ? "" : "/", sig_path);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int endpoint_grpc_url(const char *target, const char *method, char *out, size_t outlen)
{
	const char *auth, *end;
	size_t slen;
	int n;

	if (!target)
		return -EINVAL;
	auth = authority(target);
	slen = auth == target ? 0 : (size_t)(auth - 3 - target);
	if (!((slen == 4 && strncasecmp(target, "http", 4) == 0) ||
	      (slen == 5 && strncasecmp(target, "https", 5) == 0)))
		return -EINVAL;
	end = auth + strcspn(auth, "/?#");
	if (end == auth)
		return -EINVAL;
	n = snprintf(out, outlen, "%.*s/%s", (int)(end - target), target, method);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

void endpoint_redact(const char *url, char *out, size_t outlen)
{
	const char *auth = authority(url);
	const char *host_end = auth + strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', (size_t)(host_end - auth));
	const char *host = auth;
	size_t prefix = (size_t)(auth - url);
	size_t rest;

	if (outlen == 0)
		return;
	/* The last '@' of the authority ends the userinfo. */
	while (at) {
		host = at + 1;
		at = memchr(host, '@', (size_t)(host_end - host));
	}
	rest = strcspn(host, "?#");
	snprintf(out, outlen, "%.*s%.*s", (int)prefix, url, (int)rest, host);
}
