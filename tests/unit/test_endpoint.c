/* SPDX-License-Identifier: MIT */
/*
 * exporter/endpoint.c: the OTLP endpoint URL rules with the
 * specification's own examples, and URL redaction.
 */
#include <errno.h>

#include "endpoint.h"
#include "test_help.h"

static void expect_url(const char *base, const char *per, const char *path, const char *want)
{
	char out[256];

	T_EQ_INT(endpoint_url(base, per, path, out, sizeof(out)), 0);
	T_EQ_STR(out, want);
}

static void test_base(void)
{
	/* spec example 1: base gets v1/<signal> */
	expect_url("http://collector:4318", NULL, "v1/logs", "http://collector:4318/v1/logs");
	expect_url("http://collector:4318", "", "v1/metrics", "http://collector:4318/v1/metrics");
	expect_url("http://collector:4318/", NULL, "v1/logs", "http://collector:4318/v1/logs");
	/* spec example 3: a base path is kept, v1/logs appended below it */
	expect_url("http://collector:4318/mycollector/", NULL, "v1/logs",
		   "http://collector:4318/mycollector/v1/logs");
	expect_url("http://collector:4318/mycollector", NULL, "v1/logs",
		   "http://collector:4318/mycollector/v1/logs");
	expect_url("https://otlp.example.com", NULL, "v1/logs", "https://otlp.example.com/v1/logs");
	/* metrics the same way; exactly one '/' between base and v1/<signal> */
	expect_url("http://collector:4318/mycollector/", "", "v1/metrics",
		   "http://collector:4318/mycollector/v1/metrics");
	expect_url("https://otlp-gateway.example/otlp", NULL, "v1/metrics",
		   "https://otlp-gateway.example/otlp/v1/metrics");
	/* nothing else is rewritten: no default port added, case kept */
	expect_url("HTTP://Collector", NULL, "v1/logs", "HTTP://Collector/v1/logs");
}

static void test_per_signal(void)
{
	/* used verbatim */
	expect_url("http://ignored:4318", "https://collector.example.com/v1/metrics/", "v1/metrics",
		   "https://collector.example.com/v1/metrics/");
	expect_url(NULL, "http://collector:4318/custom/path", "v1/logs",
		   "http://collector:4318/custom/path");
	/* spec: empty path becomes "/", nothing else */
	expect_url(NULL, "http://collector:4318", "v1/logs", "http://collector:4318/");
	expect_url(NULL, "http://h:1?x=1", "v1/logs", "http://h:1/?x=1");
	expect_url(NULL, "https://h#frag", "v1/metrics", "https://h/#frag");
	/* a per-signal URL is never given the signal path, even a bare "/" */
	expect_url("http://base:4318", "http://m:4318/", "v1/metrics", "http://m:4318/");
	expect_url(NULL, "https://user:pw@h:443", "v1/logs", "https://user:pw@h:443/");
}

static void test_errors(void)
{
	char small[16];

	T_EQ_INT(endpoint_url("", "", "v1/logs", small, sizeof(small)), -EINVAL);
	T_EQ_INT(endpoint_url(NULL, NULL, "v1/logs", small, sizeof(small)), -EINVAL);
	T_EQ_INT(endpoint_url("http://collector:4318", NULL, "v1/logs", small, sizeof(small)),
		 -ENAMETOOLONG);
	T_EQ_INT(endpoint_url(NULL, "http://collector:4318", "v1/logs", small, sizeof(small)),
		 -ENAMETOOLONG);
}

static void test_redact(void)
{
	char out[128];

	endpoint_redact("https://user:secret@h:443/p?api-key=x#frag", out, sizeof(out));
	T_EQ_STR(out, "https://h:443/p");
	endpoint_redact("http://h:4318/v1/logs", out, sizeof(out));
	T_EQ_STR(out, "http://h:4318/v1/logs");
	endpoint_redact("http://a@b@h/x", out, sizeof(out));
	T_EQ_STR(out, "http://h/x");
	endpoint_redact("http://h/p@q", out, sizeof(out));
	T_EQ_STR(out, "http://h/p@q");
	endpoint_redact("http://key@h", out, sizeof(out));
	T_EQ_STR(out, "http://h");
	endpoint_redact("http://h:4318/v1/logs", out, 8);
	T_EQ_STR(out, "http://");
}

int main(void)
{
	T_RUN(test_base);
	T_RUN(test_per_signal);
	T_RUN(test_errors);
	T_RUN(test_redact);
	return 0;
}
