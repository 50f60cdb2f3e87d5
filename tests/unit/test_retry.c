/* SPDX-License-Identifier: MIT */
/*
 * exporter/retry.c: which HTTP outcomes are retried (OTLP: 429, 502, 503,
 * 504 and no response), the back-off bounds and jitter range, and
 * Retry-After in both forms (delta-seconds, HTTP-date), including past
 * dates, garbage and huge values.
 */
#include <errno.h>
#include <time.h>

#include "retry.h"
#include "test_help.h"

static void test_classify(void)
{
	static const long yes[] = {0, 429, 502, 503, 504};
	static const long no[] = {200, 204, 400, 401, 403, 404, 408, 413, 500, 501, 505, 599};
	unsigned i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		T_EQ_INT(retry_is_retryable(yes[i]), 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		T_EQ_INT(retry_is_retryable(no[i]), 0);
}

static time_t date(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void test_retry_after_seconds(void)
{
	uint32_t ms = 12345;

	T_EQ_INT(retry_after_parse("120", 0, &ms), 0);
	T_EQ_INT(ms, 120000);
	T_EQ_INT(retry_after_parse("  5 \r\n", 0, &ms), 0);
	T_EQ_INT(ms, 5000);
	T_EQ_INT(retry_after_parse("0", 0, &ms), 0);
	T_EQ_INT(ms, 0);
	T_EQ_INT(retry_after_parse("1", 0, &ms), 0);
	T_EQ_INT(ms, 1000);
	/* Huge values saturate at the cap instead of overflowing. */
	T_EQ_INT(retry_after_parse("99999999999999999999999999", 0, &ms), 0);
	T_EQ_INT(ms, RETRY_AFTER_MAX_MS);
	T_EQ_INT(retry_after_parse("4294967296", 0, &ms), 0);
	T_EQ_INT(ms, RETRY_AFTER_MAX_MS);
	T_EQ_INT(retry_after_parse("301", 0, &ms), 0);
	T_EQ_INT(ms, RETRY_AFTER_MAX_MS);
}

static void test_retry_after_garbage(void)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "abc",
	    "-5",
	    "1.5",
	    "5s",
	    "0x10",
	    "Mon, 99 Foo 2024 00:00:00 GMT",
	    "Mon, 01 Jan 2024 00:00:30 GMT trailing",
	    "Mon, 01 Jan 2024 00:00:30",
	    "\x01\x02\xff",
	};
	uint32_t ms;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_EQ_INT(retry_after_parse(bad[i], 0, &ms), -EINVAL);
	T_EQ_INT(retry_after_parse(NULL, 0, &ms), -EINVAL);
}

static void test_retry_after_date(void)
{
	time_t now = date(2024, 1, 1, 0, 0, 0);
	uint32_t ms = 1;

	/* IMF-fixdate */
	T_EQ_INT(retry_after_parse("Mon, 01 Jan 2024 00:00:30 GMT", now, &ms), 0);
	T_EQ_INT(ms, 30000);
	/* obsolete RFC 850 and asctime forms */
	T_EQ_INT(retry_after_parse("Monday, 01-Jan-24 00:00:10 GMT", now, &ms), 0);
	T_EQ_INT(ms, 10000);
	T_EQ_INT(retry_after_parse("Mon Jan  1 00:00:20 2024", now, &ms), 0);
	T_EQ_INT(ms, 20000);
	/* past: retry now */
	ms = 1;
	T_EQ_INT(retry_after_parse("Sun, 31 Dec 2023 23:00:00 GMT", now, &ms), 0);
	T_EQ_INT(ms, 0);
	T_EQ_INT(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", now, &ms), 0);
	T_EQ_INT(ms, 0);
	/* far future: capped */
	T_EQ_INT(retry_after_parse("Fri, 01 Jan 2100 00:00:00 GMT", now, &ms), 0);
	T_EQ_INT(ms, RETRY_AFTER_MAX_MS);
	/* exactly now */
	T_EQ_INT(retry_after_parse("Mon, 01 Jan 2024 00:00:00 GMT", now, &ms), 0);
	T_EQ_INT(ms, 0);
}

static void test_backoff_bounds(void)
{
	struct retry_policy p = {.initial_ms = 1000, .max_ms = 30000, .max_elapsed_ms = 0};
	static const uint32_t rnds[] = {0, 1, 7, 999, 1000, 1001, 123456789, 0xffffffffu};
	unsigned a, i;

	for (a = 0; a < 40; a++) {
		uint64_t base = 1000;
		unsigned k;

		for (k = 1; k < (a ? a : 1) && base < 30000; k++)
			base *= 2;
		if (base > 30000)
			base = 30000;
		for (i = 0; i < sizeof(rnds) / sizeof(rnds[0]); i++) {
			uint32_t d = retry_backoff_ms(&p, a, rnds[i]);
			uint64_t hi = base * 3 / 2 > 30000 ? 30000 : base * 3 / 2;

			T_ASSERT(d >= base / 2);
			T_ASSERT(d <= hi);
		}
	}
	/* Jitter spans the whole range [base/2, base*3/2]. */
	T_EQ_INT(retry_backoff_ms(&p, 1, 0), 500);
	T_EQ_INT(retry_backoff_ms(&p, 1, 1000), 1500);
	T_EQ_INT(retry_backoff_ms(&p, 2, 0), 1000);
	T_EQ_INT(retry_backoff_ms(&p, 2, 2000), 3000);
	/* Grows exponentially, stops at max. */
	T_EQ_INT(retry_backoff_ms(&p, 5, 8000), 16000 / 2 + 8000);
	T_EQ_INT(retry_backoff_ms(&p, 1000000, 0xffffffffu) <= 30000, 1);
	T_EQ_INT(retry_backoff_ms(&p, 1000000, 0), 15000);
	/* Degenerate policies. */
	p.initial_ms = 0;
	T_EQ_INT(retry_backoff_ms(&p, 3, 12345), 0);
	p.initial_ms = 50000;
	T_EQ_INT(retry_backoff_ms(&p, 1, 0xffffffffu) <= 30000, 1);
}

static void test_backoff_spread(void)
{
	struct retry_policy p = {.initial_ms = 100, .max_ms = 10000, .max_elapsed_ms = 0};
	uint32_t lo = UINT32_MAX, hi = 0, x = 2463534242u;
	unsigned i;

	for (i = 0; i < 10000; i++) {
		uint32_t d;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d = retry_backoff_ms(&p, 1, x);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	T_ASSERT(lo >= 50 && lo <= 55);
	T_ASSERT(hi <= 150 && hi >= 145);
}

int main(void)
{
	T_RUN(test_classify);
	T_RUN(test_retry_after_seconds);
	T_RUN(test_retry_after_garbage);
	T_RUN(test_retry_after_date);
	T_RUN(test_backoff_bounds);
	T_RUN(test_backoff_spread);
	return 0;
}
