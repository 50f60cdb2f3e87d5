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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "crc32c.h"
#include "identity.h"
#include "log.h"
#include "proc_stat.h"
#include "shm_atomic.h"
#include "text_clean.h"
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

/* Parses a "k=v,k=v" list (OTEL_RESOURCE_ATTRIBUTES syntax) into s: all
 * or nothing, as the specification asks of a list that does not decode. */
static int parse_pairs(struct kvset *s, const char *str)
{
	static struct kvset tmp;
	char key[KEY_MAX], val[VAL_MAX];
	const char *cur = str;
	int ret;

	tmp.n = 0;
	while ((ret = config_kv_next(&cur, key, sizeof(key), val, sizeof(val))) == 1)
		kv_set(&tmp, key, strlen(key), val, strlen(val), 0, 0);
	if (ret < 0)
		return ret;
	for (int k = 0; k < tmp.n; k++)
		kv_set(s, tmp.kv[k].key, strlen(tmp.kv[k].key), tmp.kv[k].val,
		       strlen(tmp.kv[k].val), 0, 0);
	return tmp.n;
}

/* Who may open the segment: its owner and mode, as shm_open() checks
 * them. Without the file (tests), what seg_create() makes: ours, 0600. */
static void segment_owner(struct producers *p)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm%s", p->seg->name);
	if (p->seg->name[0] && stat(path, &st) == 0) {
		p->seg_uid = st.st_uid;
		p->seg_gid = st.st_gid;
		p->seg_mode = st.st_mode & 07777;
	} else {
		p->seg_uid = geteuid();
		p->seg_gid = getegid();
		p->seg_mode = 0600;
	}
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
	p->seen = calloc(seg->max_producers, sizeof(*p->seen));
	p->proc_root = "/proc";
	segment_owner(p);
	if (!p->cur || !p->dying || !p->snap || !p->seen) {
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
	free(p->seen);
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
	    parse_pairs(&set, p->cfg->res_attributes) < 0)
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
	if (attrs[0] && parse_pairs(&set, attrs) < 0)
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

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * First look at generation pe->pe_gen of entry idx (a private copy):
 * checks the claimed identity, records the verdict and emits the
 * attached or refused event. Returns the verdict.
 */
static int look_at(struct producers *p, uint32_t idx, const struct shm_producer *pe)
{
	struct producer_seen *sn = &p->seen[idx];
	struct identity_claim claim = {
		.pid = pe->pe_pid, .uid = pe->pe_uid, .start_ticks = pe->pe_start_ticks
	};
	struct identity_seg sid = { .uid = p->seg_uid, .gid = p->seg_gid, .mode = p->seg_mode };
	char reason[256] = "";
	int v = IDENTITY_OK;

	sn->gen = pe->pe_gen;
	sn->pid = pe->pe_pid;
	sn->uid = pe->pe_uid;
	/* For our log and the events: no control characters from the entry. */
	text_clean(sn->exe, sizeof(sn->exe), pe->pe_exe, sizeof(pe->pe_exe));
	if (p->cfg->coll_verify_producers)
		v = identity_check(p->proc_root, &claim, &sid, reason, sizeof(reason));
	if (v == IDENTITY_OK)
		sn->verdict = PV_OK;
	else if (v == IDENTITY_UNSEEN && strcmp(p->cfg->coll_unverifiable, "refuse") != 0)
		sn->verdict = PV_UNVERIFIED;
	else
		sn->verdict = PV_REFUSED;
	if (sn->verdict == PV_REFUSED) {
		p->refused_producers++;
		LOGW("producers: slot %u refused: pid %u (%s) uid %u: %s", idx, sn->pid, sn->exe,
		     sn->uid, reason);
	}
	if (p->audit)
		audit_producer(p->audit, sn->verdict == PV_REFUSED ? AUDIT_REFUSED : AUDIT_ATTACHED,
			       idx, sn->pid, sn->uid, sn->exe, reason, sn->verdict == PV_OK,
			       clock_ns(CLOCK_REALTIME), clock_ns(CLOCK_MONOTONIC));
	return sn->verdict;
}

int producers_refused(const struct producers *p, uint32_t idx, uint16_t pgen)
{
	return idx < p->seg->max_producers && p->seen[idx].verdict == PV_REFUSED &&
	       (uint16_t)p->seen[idx].gen == pgen;
}

struct resource *producers_get_slow(struct producers *p, uint32_t idx, uint16_t pgen)
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
	if (producers_refused(p, idx, pgen))
		return NULL;
	pe = seg_producer(p->seg, idx);
	/* Pairs with the producer's release store of READY in
	 * register_producer(): the entry's fields are complete. */
	claim = shm_load_acquire(&pe->pe_claim);
	if (SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY)
		return NULL;
	memcpy(&copy, pe, sizeof(copy));
	if ((uint16_t)copy.pe_gen != pgen || copy.pe_pid != SHM_PE_CLAIM_PID(claim))
		return NULL;
	if ((p->seen[idx].verdict == PV_NONE || p->seen[idx].gen != copy.pe_gen) &&
	    look_at(p, idx, &copy) == PV_REFUSED)
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
		if (st == SHM_PE_READY && !p->dying[i]) {
			static struct shm_producer copy;

			/* Pairs with the producer's release of READY (above). */
			memcpy(&copy, pe, sizeof(copy));
			if (copy.pe_pid == SHM_PE_CLAIM_PID(claim) &&
			    (p->seen[i].verdict == PV_NONE || p->seen[i].gen != copy.pe_gen))
				(void)look_at(p, i, &copy); /* the verdict is kept in seen[i] */
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
		if (p->audit && p->seen[i].verdict != PV_NONE && p->seen[i].verdict != PV_REFUSED &&
		    p->seen[i].gen == shm_load_relaxed(&pe->pe_gen))
			audit_producer(p->audit, AUDIT_DETACHED, i, p->seen[i].pid, p->seen[i].uid,
				       p->seen[i].exe, NULL, p->seen[i].verdict == PV_OK,
				       clock_ns(CLOCK_REALTIME), clock_ns(CLOCK_MONOTONIC));
		/* seen[i] stays: records of the old generation still read
		 * after this count as refused if it was; the next owner's
		 * generation is looked at afresh. */
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
