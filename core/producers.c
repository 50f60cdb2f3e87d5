/* SPDX-License-Identifier: MIT */
/*
 * Producer and thread tables, collector side (see producers.h). Every
 * entry is copied out of shared memory before it is looked at, and every
 * string in the copy is bounded by its array, whatever the producer wrote.
 *
 * Resource attributes, lowest precedence first: [resource] attributes of
 * the configuration; detected host.name, process.pid,
 * process.executable.name, process.command_line, container.id,
 * service.instance.id; the process's OTEL_RESOURCE_ATTRIBUTES; its
 * OTEL_SERVICE_NAME (else service.name from those attributes, else
 * "unknown_service:<executable>").
 */
#include "producers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "shm_atomic.h"
#include "utf8.h"

#define MAX_KV 64
#define KEY_MAX 128
#define VAL_MAX 512

struct kv {
	char key[KEY_MAX];
	char val[VAL_MAX];
	int64_t ival;
	int is_int;
};

struct kvset {
	struct kv kv[MAX_KV];
	int n;
};

static void kv_set(struct kvset *s, const char *key, size_t klen, const char *val, size_t vlen,
		   int is_int, int64_t ival)
{
	struct kv *e = NULL;

	if (klen == 0 || klen >= KEY_MAX)
		return;
	if (vlen >= VAL_MAX)
		vlen = VAL_MAX - 1;
	for (int i = 0; i < s->n; i++)
		if (strlen(s->kv[i].key) == klen && memcmp(s->kv[i].key, key, klen) == 0)
			e = &s->kv[i];
	if (!e) {
		if (s->n == MAX_KV)
			return;
		e = &s->kv[s->n++];
	}
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	memcpy(e->val, val, vlen);
	e->val[vlen] = '\0';
	e->is_int = is_int;
	e->ival = ival;
}

static const char *kv_get(const struct kvset *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return s->kv[i].val;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes and trims src[0..n) into dst (cap bytes); -EINVAL on a
 * bad escape. */
static int pct_decode(char *dst, size_t cap, const char *src, size_t n, size_t *out)
{
	size_t o = 0;

	while (n > 0 && (src[0] == ' ' || src[0] == '\t')) {
		src++;
		n--;
	}
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -EINVAL;
		dst[o++] = c;
	}
	dst[o] = '\0';
	*out = o;
	return 0;
}

/* Parses "k=v,k=v" into s (all or nothing). */
static int parse_pairs(struct kvset *s, const char *str, size_t n)
{
	struct kvset tmp;
	size_t i = 0;

	tmp.n = 0;
	while (i < n) {
		size_t end = i, eq = (size_t)-1, klen, vlen;
		char key[KEY_MAX], val[VAL_MAX];

		while (end < n && str[end] != ',') {
			if (str[end] == '=' && eq == (size_t)-1)
				eq = end;
			end++;
		}
		if (end > i) {
			if (eq == (size_t)-1)
				return -EINVAL;
			if (pct_decode(key, sizeof(key), str + i, eq - i, &klen) || klen == 0 ||
			    pct_decode(val, sizeof(val), str + eq + 1, end - eq - 1, &vlen))
				return -EINVAL;
			kv_set(&tmp, key, klen, val, vlen, 0, 0);
		}
		i = end + 1;
	}
	for (int k = 0; k < tmp.n; k++)
		kv_set(s, tmp.kv[k].key, strlen(tmp.kv[k].key), tmp.kv[k].val,
		       strlen(tmp.kv[k].val), 0, 0);
	return tmp.n;
}

int resource_attrs_parse(struct pbuf *b, const char *s, size_t n,
			 int (*skip)(const char *key, size_t klen, void *ctx), void *ctx)
{
	static struct kvset set;
	int ret;

	set.n = 0;
	ret = parse_pairs(&set, s, n);
	if (ret < 0)
		return ret;
	for (int i = 0; i < set.n; i++) {
		size_t klen = strlen(set.kv[i].key);
		if (skip && skip(set.kv[i].key, klen, ctx))
			continue;
		pb_kv_str(b, 1, set.kv[i].key, klen, set.kv[i].val, strlen(set.kv[i].val));
	}
	return set.n;
}

int producers_init(struct producers *p, struct seg *seg, const struct shmlog_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->seg = seg;
	p->cfg = cfg;
	if (cfg->res_host_name[0])
		snprintf(p->host, sizeof(p->host), "%s", cfg->res_host_name);
	else if (gethostname(p->host, sizeof(p->host) - 1) != 0)
		strcpy(p->host, "localhost");
	p->cur = calloc(seg->max_producers, sizeof(*p->cur));
	p->dying = calloc(seg->max_producers, 1);
	p->snap = calloc((size_t)seg->max_producers * seg->nrings, sizeof(*p->snap));
	if (!p->cur || !p->dying || !p->snap) {
		producers_fini(p);
		return -ENOMEM;
	}
	return 0;
}

static void resource_free(struct resource *r)
{
	if (!r)
		return;
	pbuf_fini(&r->enc);
	pbuf_fini(&r->recs);
	free(r->ix);
	free(r);
}

void resource_release(struct resource *r)
{
	if (r && r->retired && !r->pending)
		resource_free(r);
}

void producers_fini(struct producers *p)
{
	if (p->cur)
		for (uint32_t i = 0; i < p->seg->max_producers; i++)
			if (p->cur[i] && !p->cur[i]->pending)
				resource_free(p->cur[i]);
	free(p->cur);
	free(p->dying);
	free(p->snap);
	memset(p, 0, sizeof(*p));
}

/* Copies a fixed char array of shared memory into a NUL-terminated local
 * string, valid UTF-8 only up to its first invalid byte. */
static void take_str(char *dst, size_t cap, const char *src, size_t srcsz)
{
	size_t n = strnlen(src, srcsz);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	n = utf8_valid_prefix((const unsigned char *)dst, n);
	dst[n] = '\0';
}

static struct resource *resource_build(struct producers *p, uint32_t idx,
				       const struct shm_producer *pe)
{
	static struct kvset set;
	struct resource *r = calloc(1, sizeof(*r));
	char exe[64], cmd[368], svc[128], cont[80], attrs[320], buf[160];
	const char *name;
	uint32_t h;

	if (!r)
		return NULL;
	take_str(exe, sizeof(exe), pe->pe_exe, sizeof(pe->pe_exe));
	take_str(cmd, sizeof(cmd), pe->pe_cmdline, sizeof(pe->pe_cmdline));
	take_str(svc, sizeof(svc), pe->pe_service, sizeof(pe->pe_service));
	take_str(cont, sizeof(cont), pe->pe_container, sizeof(pe->pe_container));
	take_str(attrs, sizeof(attrs), pe->pe_res_attrs, sizeof(pe->pe_res_attrs));
	r->idx = idx;
	r->gen = pe->pe_gen;
	r->pid = pe->pe_pid;
	r->start_ticks = pe->pe_start_ticks;
	snprintf(r->exe, sizeof(r->exe), "%s", exe);

	set.n = 0;
	if (p->cfg->res_attributes[0] &&
	    parse_pairs(&set, p->cfg->res_attributes, strlen(p->cfg->res_attributes)) < 0)
		LOGW("resource: [resource] attributes do not parse; ignored");
	kv_set(&set, "host.name", 9, p->host, strlen(p->host), 0, 0);
	kv_set(&set, "process.pid", 11, "", 0, 1, r->pid);
	if (exe[0])
		kv_set(&set, "process.executable.name", 23, exe, strlen(exe), 0, 0);
	if (cmd[0])
		kv_set(&set, "process.command_line", 20, cmd, strlen(cmd), 0, 0);
	if (cont[0])
		kv_set(&set, "container.id", 12, cont, strlen(cont), 0, 0);
	/* A stable id per process instance: host, pid and start time. */
	h = crc32c(0, p->host, strlen(p->host));
	snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-8%03x-%012llx", h, r->pid & 0xffff,
		 (unsigned)((r->pid >> 16) & 0xfff), (unsigned)(r->start_ticks >> 48) & 0xfff,
		 (unsigned long long)(r->start_ticks & 0xffffffffffffull));
	kv_set(&set, "service.instance.id", 19, buf, strlen(buf), 0, 0);
	if (attrs[0] && parse_pairs(&set, attrs, strlen(attrs)) < 0)
		LOGW("resource: pid %u: OTEL_RESOURCE_ATTRIBUTES does not parse; ignored", r->pid);
	if (svc[0]) {
		kv_set(&set, "service.name", 12, svc, strlen(svc), 0, 0);
	} else if (!kv_get(&set, "service.name")) {
		snprintf(buf, sizeof(buf), "unknown_service:%s", exe[0] ? exe : "unknown");
		kv_set(&set, "service.name", 12, buf, strlen(buf), 0, 0);
	}
	name = kv_get(&set, "service.name");
	snprintf(r->service, sizeof(r->service), "%s", name ? name : "");
	pbuf_init(&r->enc);
	pbuf_init(&r->recs);
	for (int i = 0; i < set.n; i++) {
		const struct kv *e = &set.kv[i];
		if (e->is_int)
			pb_kv_int(&r->enc, 1, e->key, strlen(e->key), e->ival);
		else
			pb_kv_str(&r->enc, 1, e->key, strlen(e->key), e->val, strlen(e->val));
	}
	if (r->enc.oom) {
		resource_free(r);
		return NULL;
	}
	return r;
}

struct resource *producers_get(struct producers *p, uint32_t idx, uint16_t pgen)
{
	static struct shm_producer copy;
	struct shm_producer *pe;
	struct resource *r;
	uint64_t claim;

	if (idx >= p->seg->max_producers)
		return NULL;
	r = p->cur[idx];
	if (r && (uint16_t)r->gen == pgen)
		return r;
	pe = seg_producer(p->seg, idx);
	/* Pairs with the producer's release store of READY in
	 * register_producer(): the entry's fields are complete. */
	claim = shm_load_acquire(&pe->pe_claim);
	if (SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY)
		return NULL;
	memcpy(&copy, pe, sizeof(copy));
	if ((uint16_t)copy.pe_gen != pgen || copy.pe_pid != SHM_PE_CLAIM_PID(claim))
		return NULL;
	r = resource_build(p, idx, &copy);
	if (!r)
		return NULL;
	if (p->cur[idx]) {
		p->cur[idx]->retired = 1;
		resource_release(p->cur[idx]);
	}
	p->cur[idx] = r;
	LOGD("producers: %u is pid %u (%s)", idx, r->pid, r->service);
	return r;
}

/* /proc/<id>/stat: 1 alive, 0 dead (absent, zombie, or another start). */
static int proc_alive(uint32_t id, uint64_t start_ticks)
{
	char path[64], buf[1024];
	ssize_t n;
	char *p;
	int fd, field = 2;

	if (id == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/stat", id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT || errno == ESRCH ? 0 : 1; /* unsure: alive */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 1;
	if (p[2] == 'Z' || p[2] == 'X' || p[2] == 'x')
		return 0;
	if (!start_ticks)
		return 1;
	while (*p && field < 22) {
		if (*p == ' ')
			field++;
		p++;
	}
	return strtoull(p, NULL, 10) == start_ticks;
}

int producers_owner_alive(struct producers *p, uint32_t owner)
{
	struct shm_thread *te;
	uint32_t tid;
	uint64_t start;

	if (owner >= p->seg->max_threads)
		return 0;
	te = seg_thread(p->seg, owner);
	tid = shm_load_acquire(&te->te_tid);
	if (tid == 0)
		return 0; /* freed: its owner exited */
	/* Pairs with the writer's release of te_ready: start ticks valid. */
	start = shm_load_acquire(&te->te_ready) ? shm_load_relaxed(&te->te_start_ticks) : 0;
	return proc_alive(tid, start);
}

void producers_gc(struct producers *p, const uint64_t *cursors, const uint64_t *heads,
		  int (*claimed_by)(void *ctx, uint8_t *owners), void *ctx)
{
	uint32_t nthr = p->seg->max_threads, nr = p->seg->nrings, live = 0;
	uint8_t *dead = calloc(nthr, 1);
	int any = 0;

	if (!dead)
		return;
	/* Threads: dead ones are freed unless a claim of theirs is pending. */
	for (uint32_t i = 0; i < nthr; i++) {
		struct shm_thread *te = seg_thread(p->seg, i);
		if (shm_load_relaxed(&te->te_tid) == 0)
			continue;
		if (!producers_owner_alive(p, i)) {
			dead[i] = 1;
			any = 1;
		}
	}
	if (any) {
		claimed_by(ctx, dead); /* clears dead[o] for owners with a pending claim */
		for (uint32_t i = 0; i < nthr; i++) {
			struct shm_thread *te = seg_thread(p->seg, i);
			if (!dead[i])
				continue;
			shm_store_relaxed(&te->te_ready, 0);
			shm_store_release(&te->te_tid, 0); /* writers CAS from 0 */
			p->freed_threads++;
		}
	}
	free(dead);

	/* Producers: a dead process's entry is freed once every ring has
	 * been read past the head it had when the death was seen. */
	for (uint32_t i = 0; i < p->seg->max_producers; i++) {
		struct shm_producer *pe = seg_producer(p->seg, i);
		uint64_t claim = shm_load_acquire(&pe->pe_claim);
		uint32_t st = SHM_PE_CLAIM_STATE(claim);
		int done = 1;

		if (claim == 0) {
			p->dying[i] = 0;
			continue;
		}
		if (!p->dying[i]) {
			uint64_t start = st == SHM_PE_READY ? shm_load_relaxed(&pe->pe_start_ticks) : 0;
			if (proc_alive(SHM_PE_CLAIM_PID(claim), start)) {
				live++;
				continue;
			}
			p->dying[i] = 1;
			for (uint32_t k = 0; k < nr; k++)
				p->snap[(size_t)i * nr + k] = heads[k];
			continue;
		}
		for (uint32_t k = 0; k < nr; k++)
			if (cursors[k] < p->snap[(size_t)i * nr + k])
				done = 0;
		if (!done)
			continue;
		shm_store_relaxed(&pe->pe_gen, shm_load_relaxed(&pe->pe_gen) + 1);
		shm_store_release(&pe->pe_claim, 0); /* producers CAS from 0 */
		p->dying[i] = 0;
		p->freed_producers++;
		if (p->cur[i]) {
			p->cur[i]->retired = 1;
			resource_release(p->cur[i]);
			p->cur[i] = NULL;
		}
	}
	p->live = live;
}
