/* SPDX-License-Identifier: MIT */
/*
 * Unit test of core/hostmetrics/: the cgroup v2 and v1 paths through the
 * fixture trees in tests/fixtures/hostmetrics/ (copied to a mkdtemp
 * directory so counters can be advanced between two samples), with and
 * without limits, under naming = semconv and modal; garbage files; the
 * NVML path through the fake_nvml stand-in library; a missing NVML; and a
 * smoke run against this machine's real /proc and /sys/fs/cgroup.
 * Usage: test_hostmetrics <fixture dir> <fake_nvml.so>
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hostmetrics.h"
#include "log.h"
#include "test_help.h"

#define MAX_RECS 256

struct rec {
	char name[64];
	char unit[16];
	int kind;
	double value;
	uint32_t pid;
	int nattrs;
	char keys[HM_MAX_ATTRS][32];
	char vals[HM_MAX_ATTRS][64];
};

struct recs {
	struct rec r[MAX_RECS];
	int n;
};

static const char *fixtures;
static const char *fake_nvml;
static char tmpdir[PATH_MAX];
static struct recs out;

static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	T_ASSERT(n >= 0 && (size_t)n < len);
}

static void collect(void *ctx, const struct hm_point *p)
{
	struct recs *rs = ctx;
	struct rec *r;
	int i;

	T_ASSERT(rs->n < MAX_RECS);
	T_ASSERT(p->name && p->unit && p->desc && p->desc[0]);
	T_ASSERT(p->kind >= 0 && p->kind < HM_KIND_NR);
	T_ASSERT(p->nattrs >= 0 && p->nattrs <= HM_MAX_ATTRS);
	T_ASSERT(isfinite(p->value));
	r = &rs->r[rs->n++];
	xsnprintf(r->name, sizeof(r->name), "%s", p->name);
	xsnprintf(r->unit, sizeof(r->unit), "%s", p->unit);
	r->kind = p->kind;
	r->value = p->value;
	r->pid = p->pid;
	r->nattrs = p->nattrs;
	for (i = 0; i < p->nattrs; i++) {
		xsnprintf(r->keys[i], sizeof(r->keys[i]), "%s", p->attrs[i].key);
		xsnprintf(r->vals[i], sizeof(r->vals[i]), "%s", p->attrs[i].value);
	}
}

/* ---- temp copies of the fixture trees --------------------------------- */

static void copy_tree(const char *src, const char *dst)
{
	char s[PATH_MAX], d[PATH_MAX], buf[4096];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *dir;
	int in, o;

	T_ASSERT(mkdir(dst, 0700) == 0);
	dir = opendir(src);
	T_ASSERT(dir);
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		xsnprintf(s, sizeof(s), "%s/%s", src, de->d_name);
		xsnprintf(d, sizeof(d), "%s/%s", dst, de->d_name);
		T_ASSERT(stat(s, &st) == 0);
		if (S_ISDIR(st.st_mode)) {
			copy_tree(s, d);
			continue;
		}
		in = open(s, O_RDONLY);
		T_ASSERT(in >= 0);
		o = open(d, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		T_ASSERT(o >= 0);
		while ((n = read(in, buf, sizeof(buf))) > 0)
			T_ASSERT(write(o, buf, (size_t)n) == n);
		T_ASSERT(n == 0);
		close(in);
		close(o);
	}
	closedir(dir);
}

static void remove_tree(const char *path)
{
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *dir;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	dir = opendir(path);
	T_ASSERT(dir);
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		xsnprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		remove_tree(p);
	}
	closedir(dir);
	rmdir(path);
}

/* Copies fixture <name> to <tmpdir>/<name> (replacing an older copy). */
static void fixture(const char *name, char *root, size_t len)
{
	char src[PATH_MAX];

	xsnprintf(src, sizeof(src), "%s/%s", fixtures, name);
	xsnprintf(root, len, "%s/%s", tmpdir, name);
	remove_tree(root);
	copy_tree(src, root);
}

static void put_file(const char *root, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_file(const char *root, const char *rel, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;

	xsnprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	T_ASSERT(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	T_ASSERT(fclose(f) == 0);
}

/* ---- configs and lookups ---------------------------------------------- */

static void make_cfg(struct shmlog_config *cfg, const char *root, const char *naming,
		     const char *nvml)
{
	char err[256];

	T_EQ_INT(config_load(cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	xsnprintf(cfg->met_naming, sizeof(cfg->met_naming), "%s", naming);
	xsnprintf(cfg->met_proc_root, sizeof(cfg->met_proc_root), "%s/proc", root);
	xsnprintf(cfg->met_cgroup_root, sizeof(cfg->met_cgroup_root), "%s/cgroup", root);
	xsnprintf(cfg->met_nvml_library, sizeof(cfg->met_nvml_library), "%s", nvml);
	xsnprintf(cfg->met_container_id, sizeof(cfg->met_container_id), "ta-01HXYZ");
	xsnprintf(cfg->met_environment_name, sizeof(cfg->met_environment_name), "main");
	xsnprintf(cfg->met_workspace_name, sizeof(cfg->met_workspace_name), "acme");
}

static const char *attr(const struct rec *r, const char *key)
{
	int i;

	for (i = 0; i < r->nattrs; i++) {
		if (!strcmp(r->keys[i], key))
			return r->vals[i];
	}
	return NULL;
}

/* The one point named name with that pid (and, if akey, attribute akey = aval). */
static const struct rec *find(const char *name, uint32_t pid, const char *akey, const char *aval)
{
	const struct rec *hit = NULL;
	const char *v;
	int i;

	for (i = 0; i < out.n; i++) {
		if (strcmp(out.r[i].name, name) || out.r[i].pid != pid)
			continue;
		if (akey && (!(v = attr(&out.r[i], akey)) || strcmp(v, aval)))
			continue;
		if (hit) {
			fprintf(stderr, "duplicate point %s\n", name);
			exit(1);
		}
		hit = &out.r[i];
	}
	return hit;
}

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

/* Asserts point name (pid) exists with unit, kind and value. */
static const struct rec *expect(const char *name, uint32_t pid, const char *unit, int kind,
				double value)
{
	const struct rec *r = find(name, pid, NULL, NULL);

	if (!r) {
		fprintf(stderr, "missing point %s pid %u\n", name, pid);
		exit(1);
	}
	T_EQ_STR(r->unit, unit);
	T_EQ_INT(r->kind, kind);
	if (!near(r->value, value)) {
		fprintf(stderr, "%s: value %.12g, expected %.12g\n", name, r->value, value);
		exit(1);
	}
	return r;
}

static void expect_modal_attrs(const struct rec *r, int extra)
{
	T_EQ_INT(r->nattrs, 3 + extra);
	T_EQ_STR(attr(r, "container_id"), "ta-01HXYZ");
	T_EQ_STR(attr(r, "environment_name"), "main");
	T_EQ_STR(attr(r, "workspace_name"), "acme");
}

static void sample(struct hostmetrics *h, uint64_t mono_ns, uint32_t pid)
{
	out.n = 0;
	hostmetrics_sample(h, mono_ns, &pid, 1, collect, &out);
}

#define SEC 1000000000ull
#define GIB (1024.0 * 1024.0 * 1024.0)
#define MIB (1024.0 * 1024.0)

/* ---- cgroup v2 -------------------------------------------------------- */

static void v2_run(const char *naming, int limits)
{
	double tck = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	int modal = !strcmp(naming, "modal");
	double ncpu = limits ? 2.0 : 4.0, mem = limits ? 2 * GIB : 8 * GIB;
	const char *cg = "cgroup/user.slice/app.scope";
	struct shmlog_config cfg;
	struct hostmetrics *h;
	char root[PATH_MAX], f[64];
	const struct rec *r;

	fixture("v2", root, sizeof(root));
	if (!limits) {
		xsnprintf(f, sizeof(f), "%s/cpu.max", cg);
		put_file(root, f, "max 100000\n");
		xsnprintf(f, sizeof(f), "%s/memory.max", cg);
		put_file(root, f, "max\n");
	}
	make_cfg(&cfg, root, naming, "/nonexistent/libnvidia-ml.so.1");
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);

	sample(h, 1 * SEC, 4242);
	if (!modal) {
		T_EQ_INT(out.n, 7);
		expect("container.cpu.time", 0, "s", HM_COUNTER, 1.0);
		expect("container.memory.usage", 0, "By", HM_UPDOWN, 1 * GIB);
		r = expect("container.memory.working_set", 0, "By", HM_UPDOWN, 768 * MIB);
		T_EQ_INT(r->nattrs, 0);
		expect("container.memory.limit_utilization", 0, "1", HM_GAUGE, 768 * MIB / mem);
	} else {
		T_EQ_INT(out.n, 5);
		expect_modal_attrs(expect("modal.memory.usage", 0, "By", HM_GAUGE, 768 * MIB), 0);
		expect_modal_attrs(
		    expect("modal.memory.utilization", 0, "1", HM_GAUGE, 768 * MIB / mem), 0);
	}
	r = expect("process.cpu.time", 4242, "s", HM_COUNTER, 150 / tck);
	T_EQ_INT(r->nattrs, 0);
	expect("process.memory.usage", 4242, "By", HM_UPDOWN, 2560 * page);
	expect("process.memory.utilization", 4242, "1", HM_GAUGE, 2560 * page / mem);
	T_ASSERT(!find("process.cpu.utilization", 4242, NULL, NULL));

	/* 2 s later: the container used 2 CPU-seconds, the process 1. */
	xsnprintf(f, sizeof(f), "%s/cpu.stat", cg);
	put_file(root, f, "usage_usec 3000000\nuser_usec 2000000\n");
	put_file(root, "proc/4242/stat",
		 "4242 (my prog) (x)) S 1 4242 4242 0 -1 4194560 500 0 0 0 %.0f %.0f 0 0 20 0 "
		 "1 0 123456 10485760 2560\n",
		 100 + tck * 0.5, 50 + tck * 0.5);
	sample(h, 3 * SEC, 4242);
	if (!modal) {
		T_EQ_INT(out.n, 10);
		expect("container.cpu.time", 0, "s", HM_COUNTER, 3.0);
		expect("container.cpu.usage", 0, "{cpu}", HM_GAUGE, 1.0);
		expect("container.cpu.limit_utilization", 0, "1", HM_GAUGE, 1.0 / ncpu);
	} else {
		T_EQ_INT(out.n, 7);
		expect_modal_attrs(
		    expect("modal.cpu.utilization", 0, "1", HM_GAUGE, 1.0 / ncpu), 0);
	}
	expect("process.cpu.time", 4242, "s", HM_COUNTER, 150 / tck + 1.0);
	expect("process.cpu.utilization", 4242, "1", HM_GAUGE, 1.0 / (2.0 * ncpu));

	/* A reused pid (other starttime) starts over: no rate. */
	put_file(root, "proc/4242/stat",
		 "4242 (new) S 1 4242 4242 0 -1 4194560 500 0 0 0 5 5 0 0 20 0 1 0 999999 1 1\n");
	sample(h, 4 * SEC, 4242);
	expect("process.cpu.time", 4242, "s", HM_COUNTER, 10 / tck);
	T_ASSERT(!find("process.cpu.utilization", 4242, NULL, NULL));
	/* A vanished process: no process series, nothing else lost. */
	sample(h, 5 * SEC, 5555);
	T_ASSERT(!find("process.memory.usage", 5555, NULL, NULL));
	T_EQ_INT(out.n, modal ? 3 : 6);
	hostmetrics_destroy(h);
}

static void test_v2_semconv_limits(void)
{
	v2_run("semconv", 1);
}

static void test_v2_semconv_host(void)
{
	v2_run("semconv", 0);
}

static void test_v2_modal_limits(void)
{
	v2_run("modal", 1);
}

static void test_v2_modal_host(void)
{
	v2_run("modal", 0);
}

/* ---- cgroup v1 -------------------------------------------------------- */

static void v1_run(const char *naming, int limits)
{
	double tck = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	int modal = !strcmp(naming, "modal");
	/* Fixture: quota 0.5 CPU (host 8), no memory limit (host 16 GiB). */
	double ncpu = limits ? 0.5 : 8.0, mem = limits ? 1 * GIB : 16 * GIB;
	const char *memdir = "cgroup/memory/process_api/abc";
	struct shmlog_config cfg;
	struct hostmetrics *h;
	char root[PATH_MAX], f[96];

	fixture("v1", root, sizeof(root));
	if (limits) {
		xsnprintf(f, sizeof(f), "%s/memory.limit_in_bytes", memdir);
		put_file(root, f, "1073741824\n");
	} else {
		put_file(root, "cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	}
	make_cfg(&cfg, root, naming, "/nonexistent/libnvidia-ml.so.1");
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);

	sample(h, 10 * SEC, 4242);
	if (!modal) {
		T_EQ_INT(out.n, 7);
		expect("container.cpu.time", 0, "s", HM_COUNTER, 5.0);
		expect("container.memory.usage", 0, "By", HM_UPDOWN, 512 * MIB);
		/* total_inactive_file (128 MiB) wins over inactive_file (1 KiB). */
		expect("container.memory.working_set", 0, "By", HM_UPDOWN, 384 * MIB);
		expect("container.memory.limit_utilization", 0, "1", HM_GAUGE, 384 * MIB / mem);
	} else {
		T_EQ_INT(out.n, 5);
		expect_modal_attrs(expect("modal.memory.usage", 0, "By", HM_GAUGE, 384 * MIB), 0);
		expect_modal_attrs(
		    expect("modal.memory.utilization", 0, "1", HM_GAUGE, 384 * MIB / mem), 0);
	}
	expect("process.cpu.time", 4242, "s", HM_COUNTER, 1500 / tck);
	expect("process.memory.utilization", 4242, "1", HM_GAUGE, 5120 * page / mem);

	put_file(root, "cgroup/cpu,cpuacct/cpuacct.usage", "6000000000\n");
	put_file(root, "proc/4242/stat",
		 "4242 (worker) R 1 4242 4242 0 -1 4194560 500 0 0 0 %.0f 500 0 0 20 0 4 0 777 "
		 "10485760 5120\n",
		 1000 + tck * 0.25);
	sample(h, 12 * SEC, 4242);
	if (!modal) {
		T_EQ_INT(out.n, 10);
		expect("container.cpu.usage", 0, "{cpu}", HM_GAUGE, 0.5);
		expect("container.cpu.limit_utilization", 0, "1", HM_GAUGE, 0.5 / ncpu);
	} else {
		T_EQ_INT(out.n, 7);
		expect_modal_attrs(
		    expect("modal.cpu.utilization", 0, "1", HM_GAUGE, 0.5 / ncpu), 0);
	}
	expect("process.cpu.utilization", 4242, "1", HM_GAUGE, 0.25 / (2.0 * ncpu));

	/* The cgroup counter going back (a new cgroup): no rate this time. */
	put_file(root, "cgroup/cpu,cpuacct/cpuacct.usage", "1000\n");
	sample(h, 14 * SEC, 4242);
	T_ASSERT(!find(modal ? "modal.cpu.utilization" : "container.cpu.usage", 0, NULL, NULL));
	hostmetrics_destroy(h);
}

static void test_v1_semconv_host(void)
{
	v1_run("semconv", 0);
}

static void test_v1_semconv_limits(void)
{
	v1_run("semconv", 1);
}

static void test_v1_modal_host(void)
{
	v1_run("modal", 0);
}

static void test_v1_modal_limits(void)
{
	v1_run("modal", 1);
}

/* Empty modal attributes are left out. */
static void test_modal_empty_attrs(void)
{
	struct shmlog_config cfg;
	struct hostmetrics *h;
	char root[PATH_MAX];
	const struct rec *r;

	fixture("v2", root, sizeof(root));
	make_cfg(&cfg, root, "modal", "/nonexistent/libnvidia-ml.so.1");
	cfg.met_environment_name[0] = '\0';
	cfg.met_workspace_name[0] = '\0';
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);
	sample(h, SEC, 4242);
	r = find("modal.memory.usage", 0, NULL, NULL);
	T_ASSERT(r);
	T_EQ_INT(r->nattrs, 1);
	T_EQ_STR(attr(r, "container_id"), "ta-01HXYZ");
	hostmetrics_destroy(h);
}

/* ---- hostile files ---------------------------------------------------- */

static void test_garbage(void)
{
	static const uint32_t pids[] = {4242, 77, 78, 0, 99999};
	struct shmlog_config cfg;
	struct hostmetrics *h;
	char root[PATH_MAX];
	int i;

	fixture("garbage", root, sizeof(root));
	make_cfg(&cfg, root, "semconv", "/nonexistent/libnvidia-ml.so.1");
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);
	for (i = 0; i < 3; i++) {
		out.n = 0;
		hostmetrics_sample(h, (uint64_t)(i + 1) * SEC, pids, 5, collect, &out);
		T_EQ_INT(out.n, 0);
	}
	/* Missing files everywhere: a root with nothing in it. */
	hostmetrics_destroy(h);
	xsnprintf(cfg.met_proc_root, sizeof(cfg.met_proc_root), "%s/nothing", tmpdir);
	xsnprintf(cfg.met_cgroup_root, sizeof(cfg.met_cgroup_root), "%s/nothing", tmpdir);
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);
	out.n = 0;
	hostmetrics_sample(h, SEC, pids, 5, collect, &out);
	hostmetrics_sample(h, 2 * SEC, NULL, 0, collect, &out);
	T_EQ_INT(out.n, 0);
	hostmetrics_destroy(h);
	hostmetrics_destroy(NULL);
}

/* ---- NVML ------------------------------------------------------------- */

static void gpu_run(const char *naming)
{
	static const char *uuid[2] = {"GPU-fake-0", "GPU-fake-1"};
	static const double util[2] = {0.37, 0.80};
	static const double used[2] = {4 * GIB, 60 * GIB}, total[2] = {16 * GIB, 80 * GIB};
	int modal = !strcmp(naming, "modal");
	struct shmlog_config cfg;
	struct hostmetrics *h;
	char root[PATH_MAX], idx[4];
	const struct rec *r;
	int i;

	fixture("v2", root, sizeof(root));
	make_cfg(&cfg, root, naming, fake_nvml);
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);
	/* GPU readings are rates already: present from the first sample. */
	sample(h, SEC, 0);
	for (i = 0; i < 2; i++) {
		xsnprintf(idx, sizeof(idx), "%d", i);
		if (!modal) {
			r = find("hw.gpu.utilization", 0, "hw.id", uuid[i]);
			T_ASSERT(r && r->kind == HM_GAUGE && !strcmp(r->unit, "1"));
			T_ASSERT(near(r->value, util[i]));
			T_EQ_INT(r->nattrs, 2);
			T_EQ_STR(attr(r, "hw.gpu.task"), "general");
			r = find("hw.gpu.memory.utilization", 0, "hw.id", uuid[i]);
			T_ASSERT(r && r->kind == HM_GAUGE && !strcmp(r->unit, "1"));
			T_ASSERT(near(r->value, used[i] / total[i]));
			T_EQ_INT(r->nattrs, 1);
			r = find("hw.gpu.memory.usage", 0, "hw.id", uuid[i]);
			T_ASSERT(r && r->kind == HM_UPDOWN && !strcmp(r->unit, "By"));
			T_ASSERT(near(r->value, used[i]));
			r = find("hw.gpu.memory.limit", 0, "hw.id", uuid[i]);
			T_ASSERT(r && r->kind == HM_UPDOWN && !strcmp(r->unit, "By"));
			T_ASSERT(near(r->value, total[i]));
		} else {
			r = find("modal.gpu.compute.utilization", 0, "gpu_index", idx);
			T_ASSERT(r && r->kind == HM_GAUGE && !strcmp(r->unit, "1"));
			T_ASSERT(near(r->value, util[i]));
			expect_modal_attrs(r, 1);
			r = find("modal.gpu.memory.utilization", 0, "gpu_index", idx);
			T_ASSERT(r && r->kind == HM_GAUGE && !strcmp(r->unit, "1"));
			T_ASSERT(near(r->value, used[i] / total[i]));
			expect_modal_attrs(r, 1);
			r = find("modal.gpu.memory.usage", 0, "gpu_index", idx);
			T_ASSERT(r && r->kind == HM_GAUGE && !strcmp(r->unit, "By"));
			T_ASSERT(near(r->value, used[i]));
			expect_modal_attrs(r, 1);
		}
	}
	/* 4 container + 4 x 2 GPU (semconv), 2 container + 3 x 2 GPU (modal). */
	T_EQ_INT(out.n, modal ? 8 : 12);
	hostmetrics_destroy(h);
}

static void gpu_count(const char *nvml, int *n)
{
	struct shmlog_config cfg;
	struct hostmetrics *h;
	char root[PATH_MAX];
	int i;

	fixture("v2", root, sizeof(root));
	make_cfg(&cfg, root, "semconv", nvml);
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);
	sample(h, SEC, 0);
	*n = 0;
	for (i = 0; i < out.n; i++)
		*n += !strncmp(out.r[i].name, "hw.gpu.", 7);
	T_EQ_INT(out.n - *n, 4); /* the container series are unaffected */
	hostmetrics_destroy(h);
}

static void test_gpu(void)
{
	int *inits, *shutdowns, n;
	void *dl;

	/* Holding the library open keeps the instance hostmetrics loads, so
	 * its counters show whether init and shutdown were paired. */
	dl = dlopen(fake_nvml, RTLD_NOW | RTLD_LOCAL);
	T_ASSERT(dl);
	inits = dlsym(dl, "fake_nvml_inits");
	shutdowns = dlsym(dl, "fake_nvml_shutdowns");
	T_ASSERT(inits && shutdowns);
	gpu_run("semconv");
	gpu_run("modal");
	T_EQ_INT(*inits, 2);
	T_EQ_INT(*shutdowns, 2);

	gpu_count("/nonexistent/libnvidia-ml.so.1", &n);
	T_EQ_INT(n, 0);
	setenv("FAKE_NVML_DEVICES", "0", 1);
	gpu_count(fake_nvml, &n);
	T_EQ_INT(n, 0);
	unsetenv("FAKE_NVML_DEVICES");
	setenv("FAKE_NVML_INIT_FAIL", "1", 1);
	gpu_count(fake_nvml, &n);
	T_EQ_INT(n, 0);
	unsetenv("FAKE_NVML_INIT_FAIL");
	/* A library without NVML's symbols (libc here). */
	gpu_count("libc.so.6", &n);
	T_EQ_INT(n, 0);
	T_EQ_INT(*inits, 3);
	T_EQ_INT(*shutdowns, 3);
	dlclose(dl);
}

/* ---- this machine ----------------------------------------------------- */

static void test_real_machine(void)
{
	struct shmlog_config cfg;
	struct hostmetrics *h;
	struct timespec ts;
	uint32_t pid = (uint32_t)getpid();
	uint64_t t0, t1;
	char err[256];
	int i;

	T_EQ_INT(config_load(&cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	T_EQ_INT(hostmetrics_create(&h, &cfg), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
	sample(h, t0, pid);
	usleep(100000);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
	sample(h, t1, pid);
	for (i = 0; i < out.n; i++)
		fprintf(stderr, "  real: %s = %.6g %s%s%s\n", out.r[i].name, out.r[i].value,
			out.r[i].unit, out.r[i].nattrs ? " " : "",
			out.r[i].nattrs ? out.r[i].vals[0] : "");
	/* procfs is always there; the cgroup layout depends on the machine. */
	T_ASSERT(find("process.memory.usage", pid, NULL, NULL));
	T_ASSERT(find("process.cpu.utilization", pid, NULL, NULL));
	if (!find("container.memory.usage", 0, NULL, NULL))
		fprintf(stderr, "  real: no container memory series on this machine\n");
	hostmetrics_destroy(h);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s <fixture dir> <fake_nvml.so>\n", argv[0]);
		return 1;
	}
	fixtures = argv[1];
	fake_nvml = argv[2];
	log_init("test_hostmetrics");
	xsnprintf(tmpdir, sizeof(tmpdir), "%s/test_hostmetrics.XXXXXX",
		  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	T_ASSERT(mkdtemp(tmpdir));

	T_RUN(test_v2_semconv_limits);
	T_RUN(test_v2_semconv_host);
	T_RUN(test_v2_modal_limits);
	T_RUN(test_v2_modal_host);
	T_RUN(test_v1_semconv_host);
	T_RUN(test_v1_semconv_limits);
	T_RUN(test_v1_modal_host);
	T_RUN(test_v1_modal_limits);
	T_RUN(test_modal_empty_attrs);
	T_RUN(test_garbage);
	T_RUN(test_gpu);
	T_RUN(test_real_machine);

	remove_tree(tmpdir);
	return 0;
}
