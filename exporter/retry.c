/* SPDX-License-Identifier: MIT */
/*
 * Retry classification, back-off and Retry-After parsing for the exporter.
 * The retryable set follows the OTLP specification ("OTLP/HTTP Throttling"
 * and "Failures"): only 429, 502, 503 and 504 are retried, plus requests
 * that got no response at all; every other 4xx/5xx is permanent. The
 * OpenTelemetry Collector's otlphttp exporter uses the same set.
 */
#include "retry.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int retry_is_retryable(long http_status)
{
	switch (http_status) {
	case 0:	  /* no response: connection refused, reset, timeout */
	case 429: /* Too Many Requests */
	case 502: /* Bad Gateway */
	case 503: /* Service Unavailable */
	case 504: /* Gateway Timeout */
		return 1;
	default:
		return 0;
	}
}

uint32_t retry_backoff_ms(const struct retry_policy *p, unsigned attempt, uint32_t rnd)
{
	uint64_t interval = p->initial_ms;
	uint64_t lo, span, d;
	unsigned i;

	if (attempt == 0)
		attempt = 1;
	for (i = 1; i < attempt && interval < p->max_ms; i++)
		interval *= 2;
	if (interval > p->max_ms)
		interval = p->max_ms;
	/* Jitter keeps many exporters that failed together from retrying
	 * together: uniform in [interval/2, interval*3/2]. */
	lo = interval / 2;
	span = interval + 1;
	d = lo + (uint64_t)rnd % span;
	if (d > p->max_ms)
		d = p->max_ms;
	return (uint32_t)d;
}

static int parse_date(const char *s, time_t *out)
{
	/* IMF-fixdate first (the only form senders may generate), then the
	 * two obsolete forms recipients must accept (RFC 9110 5.6.7). */
	static const char *const fmts[] = {
	    "%a, %d %b %Y %H:%M:%S GMT",
	    "%A, %d-%b-%y %H:%M:%S GMT",
	    "%a %b %e %H:%M:%S %Y",
	};
	unsigned i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (!end)
			continue;
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end)
			continue;
		*out = timegm(&tm);
		if (*out == (time_t)-1)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

int retry_after_parse(const char *value, time_t now, uint32_t *ms)
{
	char buf[128];
	size_t len;
	time_t when;
	const char *p;
	uint64_t secs = 0;

	if (!value)
		return -EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r' ||
		       value[len - 1] == '\n'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, value, len);
	buf[len] = '\0';

	if (isdigit((unsigned char)buf[0])) {
		for (p = buf; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			/* Saturate instead of overflowing: anything this big is
			 * capped below anyway. */
			if (secs < RETRY_AFTER_MAX_MS)
				secs = secs * 10 + (uint64_t)(*p - '0');
		}
		secs *= 1000;
		*ms = secs > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : (uint32_t)secs;
		return 0;
	}

	if (parse_date(buf, &when) < 0)
		return -EINVAL;
	if (when <= now) {
		*ms = 0;
		return 0;
	}
	if ((uint64_t)(when - now) >= RETRY_AFTER_MAX_MS / 1000) {
		*ms = RETRY_AFTER_MAX_MS;
		return 0;
	}
	*ms = (uint32_t)(when - now) * 1000;
	return 0;
}
