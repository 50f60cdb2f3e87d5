/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/producers.c: the resource built from a producer
 * entry (precedence of configuration, detected and process attributes;
 * OTEL_SERVICE_NAME over service.name; unknown_service:<exe>), entries
 * treated as untrusted (no terminating NUL, invalid UTF-8, a generation
 * or state that does not match), and owner liveness from /proc.
 */
#include "producers.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "proc_stat.h"
#include "test_help.h"

static char ns[64];
static struct seg seg;

static void cleanup(void)
{
	(void)seg_unlink(ns);
}

static const Opentelemetry__Proto__Common__V1__AnyValue *
attr(const Opentelemetry__Proto__Resource__V1__Resource *r, const char *key)
{
	for (size_t i = 0; i < r->n_attributes; i++)
		if (strcmp(r->attributes[i]->key, key) == 0)
			return r->attributes[i]->value;
	return NULL;
}

static Opentelemetry__Proto__Resource__V1__Resource *decode(const struct resource *res)
{
	Opentelemetry__Proto__Resource__V1__Resource *r =
		opentelemetry__proto__resource__v1__resource__unpack(NULL, res->enc.len, res->enc.p);
	T_ASSERT(r);
	return r;
}

static void fill(struct shm_producer *pe, uint32_t pid, const char *svc, const char *attrs)
{
	memset(pe, 0, sizeof(*pe));
	pe->pe_pid = pid;
	pe->pe_start_ticks = 12345;
	strcpy(pe->pe_exe, "trainer");
	strcpy(pe->pe_cmdline, "trainer --epochs 3");
	if (svc)
		strcpy(pe->pe_service, svc);
	if (attrs)
		strcpy(pe->pe_res_attrs, attrs);
	pe->pe_claim = SHM_PE_CLAIM(pid, SHM_PE_READY);
}

static void test_precedence(void)
{
	static struct shmlog_config cfg;
	struct producers p;
	struct resource *res;
	Opentelemetry__Proto__Resource__V1__Resource *r;

	strcpy(cfg.res_attributes, "region=eu,team=ops,host.name=cfg-host");
	strcpy(cfg.res_host_name, "node-7");
	T_EQ_INT(producers_init(&p, &seg, &cfg), 0);
	fill(seg_producer(&seg, 3), 4242, "svc-env",
	     "team=ml%2Cai,service.name=from-attrs,deployment.environment.name=prod");
	res = producers_get(&p, 3, 0);
	T_ASSERT(res);
	T_EQ_STR(res->service, "svc-env");
	r = decode(res);
	T_EQ_STR(attr(r, "service.name")->string_value, "svc-env"); /* OTEL_SERVICE_NAME wins */
	T_EQ_STR(attr(r, "team")->string_value, "ml,ai");            /* process over config */
	T_EQ_STR(attr(r, "region")->string_value, "eu");
	T_EQ_STR(attr(r, "deployment.environment.name")->string_value, "prod");
	T_EQ_STR(attr(r, "host.name")->string_value, "node-7");       /* detected over config */
	T_EQ_INT(attr(r, "process.pid")->int_value, 4242);
	T_EQ_STR(attr(r, "process.executable.name")->string_value, "trainer");
	T_EQ_STR(attr(r, "process.command_line")->string_value, "trainer --epochs 3");
	T_ASSERT(attr(r, "service.instance.id"));
	T_ASSERT(!attr(r, "container.id"));
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
	/* cached: same object */
	T_ASSERT(producers_get(&p, 3, 0) == res);
	/* another generation is another producer: refused */
	T_ASSERT(!producers_get(&p, 3, 1));
	producers_fini(&p);
}

static void test_defaults_and_bad_attrs(void)
{
	static struct shmlog_config cfg;
	struct producers p;
	struct resource *res;
	Opentelemetry__Proto__Resource__V1__Resource *r;

	T_EQ_INT(producers_init(&p, &seg, &cfg), 0);
	/* a bad escape: the whole variable is discarded */
	fill(seg_producer(&seg, 4), 77, NULL, "a=1,b=%zz,service.name=nope");
	res = producers_get(&p, 4, 0);
	T_ASSERT(res);
	r = decode(res);
	T_EQ_STR(attr(r, "service.name")->string_value, "unknown_service:trainer");
	T_ASSERT(!attr(r, "a"));
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
	/* service.name from the attributes when OTEL_SERVICE_NAME is unset */
	fill(seg_producer(&seg, 5), 78, NULL, "service.name=from-attrs");
	res = producers_get(&p, 5, 0);
	T_EQ_STR(res->service, "from-attrs");
	producers_fini(&p);
}

static void test_hostile_entry(void)
{
	static struct shmlog_config cfg;
	struct shm_producer *pe = seg_producer(&seg, 6);
	struct producers p;
	struct resource *res;
	Opentelemetry__Proto__Resource__V1__Resource *r;

	T_EQ_INT(producers_init(&p, &seg, &cfg), 0);
	fill(pe, 79, NULL, NULL);
	memset(pe->pe_exe, 'x', sizeof(pe->pe_exe));          /* no NUL */
	memset(pe->pe_service, 0xff, sizeof(pe->pe_service)); /* invalid UTF-8, no NUL */
	memset(pe->pe_cmdline, 'c', sizeof(pe->pe_cmdline));
	memset(pe->pe_res_attrs, '=', sizeof(pe->pe_res_attrs));
	res = producers_get(&p, 6, 0);
	T_ASSERT(res);
	r = decode(res); /* protobuf-c checks UTF-8 of string fields */
	T_EQ_INT(strlen(attr(r, "process.executable.name")->string_value), 63);
	T_EQ_STR(attr(r, "service.name")->string_value,
		 "unknown_service:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	opentelemetry__proto__resource__v1__resource__free_unpacked(r, NULL);
	/* pid in the claim word differs from the entry: refused */
	fill(seg_producer(&seg, 7), 80, NULL, NULL);
	seg_producer(&seg, 7)->pe_claim = SHM_PE_CLAIM(81, SHM_PE_READY);
	T_ASSERT(!producers_get(&p, 7, 0));
	/* not READY, out of range: refused */
	fill(seg_producer(&seg, 8), 82, NULL, NULL);
	seg_producer(&seg, 8)->pe_claim = SHM_PE_CLAIM(82, SHM_PE_FILLING);
	T_ASSERT(!producers_get(&p, 8, 0));
	T_ASSERT(!producers_get(&p, 100000, 0));
	producers_fini(&p);
}

static void test_owner_alive(void)
{
	static struct shmlog_config cfg;
	struct shm_thread *te = seg_thread(&seg, 5);
	struct producers p;
	pid_t pid;

	T_EQ_INT(producers_init(&p, &seg, &cfg), 0);
	te->te_tid = (uint32_t)getpid();
	te->te_ready = 0; /* start time not yet written: tid alone */
	T_EQ_INT(producers_owner_alive(&p, 5), 1);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	te->te_tid = (uint32_t)pid; /* reaped: gone */
	T_EQ_INT(producers_owner_alive(&p, 5), 0);
	te->te_tid = (uint32_t)getpid();
	te->te_start_ticks = 1; /* a reused tid: another start time */
	te->te_ready = 1;
	T_EQ_INT(producers_owner_alive(&p, 5), 0);
	te->te_tid = 0; /* freed entry */
	T_EQ_INT(producers_owner_alive(&p, 5), 0);
	T_EQ_INT(producers_owner_alive(&p, 1u << 30), 0); /* out of range */
	producers_fini(&p);
}

/* The identity check (identity.c) as producers_get() applies it: a true
 * claim is accepted, a false start time or uid refused (and remembered:
 * producers_refused()), an absent pid accepted or refused as configured. */
static void test_identity(void)
{
	static struct shmlog_config cfg;
	struct producers p;
	struct shm_producer *pe;
	uint64_t start;
	char st;

	cfg.coll_verify_producers = 1;
	strcpy(cfg.coll_unverifiable, "accept");
	T_EQ_INT(proc_stat_read("/proc/self/stat", &st, &start), 0);
	T_EQ_INT(producers_init(&p, &seg, &cfg), 0);
	pe = seg_producer(&seg, 9);
	fill(pe, (uint32_t)getpid(), NULL, NULL);
	pe->pe_uid = (uint32_t)getuid();
	pe->pe_start_ticks = start;
	T_ASSERT(producers_get(&p, 9, 0));
	T_EQ_INT(p.seen[9].verdict, PV_OK);
	T_EQ_INT(producers_refused(&p, 9, 0), 0);

	pe = seg_producer(&seg, 10);
	fill(pe, (uint32_t)getpid(), NULL, NULL);
	pe->pe_uid = (uint32_t)getuid();
	pe->pe_start_ticks = start + 1; /* not when this pid started */
	T_ASSERT(!producers_get(&p, 10, 0));
	T_EQ_INT(producers_refused(&p, 10, 0), 1);
	T_EQ_INT(producers_refused(&p, 10, 1), 0); /* another generation: not yet seen */
	T_ASSERT(!producers_get(&p, 10, 0));       /* still refused, counted once */
	T_EQ_INT(p.refused_producers, 1);

	pe = seg_producer(&seg, 11);
	fill(pe, (uint32_t)getpid(), NULL, NULL);
	pe->pe_uid = (uint32_t)getuid() + 1; /* not our uid */
	pe->pe_start_ticks = start;
	T_ASSERT(!producers_get(&p, 11, 0));
	T_EQ_INT(p.refused_producers, 2);

	pe = seg_producer(&seg, 12);
	fill(pe, 0x7ffffff0, NULL, NULL); /* no such pid: unverifiable */
	strcpy(pe->pe_exe, "ev\033[2Jil");
	T_ASSERT(producers_get(&p, 12, 0));
	T_EQ_INT(p.seen[12].verdict, PV_UNVERIFIED);
	T_EQ_STR(p.seen[12].exe, "ev?[2Jil"); /* no escape reaches our log or events */
	producers_fini(&p);

	strcpy(cfg.coll_unverifiable, "refuse");
	T_EQ_INT(producers_init(&p, &seg, &cfg), 0);
	T_ASSERT(!producers_get(&p, 12, 0));
	T_EQ_INT(producers_refused(&p, 12, 0), 1);
	producers_fini(&p);
}

int main(void)
{
	struct seg_geometry g = { .nrings = 1, .ring_slots = 1024, .max_producers = 16,
				  .max_threads = 64, .dead_check_ms = 1000,
				  .max_instruments = 32, .max_series = 128 };
	int reused;

	snprintf(ns, sizeof(ns), "test-producers-%d", (int)getpid());
	atexit(cleanup);
	T_EQ_INT(seg_create(&seg, ns, &g, 0600, &reused), 0);
	T_RUN(test_precedence);
	T_RUN(test_defaults_and_bad_attrs);
	T_RUN(test_hostile_entry);
	T_RUN(test_owner_alive);
	T_RUN(test_identity);
	seg_detach(&seg);
	return 0;
}
