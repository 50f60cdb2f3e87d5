/* SPDX-License-Identifier: MIT */
/*
 * Metric aggregation and OTLP encoding (see metrics_agg.h). Field
 * numbers, from proto/opentelemetry/proto/metrics/v1/metrics.proto:
 *   ExportMetricsServiceRequest { resource_metrics = 1 }
 *   ResourceMetrics { resource = 1, scope_metrics = 2 }
 *   ScopeMetrics { scope = 1, metrics = 2 }
 *   Metric { name = 1, description = 2, unit = 3, gauge = 5, sum = 7,
 *            histogram = 9 }
 *   Gauge { data_points = 1 }
 *   Sum { data_points = 1, aggregation_temporality = 2, is_monotonic = 3 }
 *   Histogram { data_points = 1, aggregation_temporality = 2 }
 *   NumberDataPoint { attributes = 7, start_time_unix_nano = 2 (fixed64),
 *            time_unix_nano = 3 (fixed64), as_double = 4 }
 *   HistogramDataPoint { attributes = 9, start = 2, time = 3,
 *            count = 4 (fixed64), sum = 5, bucket_counts = 6 (packed
 *            fixed64), explicit_bounds = 7 (packed double), min = 11,
 *            max = 12 }
 *   AggregationTemporality: DELTA = 1, CUMULATIVE = 2
 */
#include "metrics_agg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "crc32c.h"
#include "hostmetrics.h"
#include "log.h"
#include "shm_atomic.h"
#include "utf8.h"

#define TEMP_DELTA 1
#define TEMP_CUMULATIVE 2
#define GROUP_PROCESS 0
#define GROUP_SERVICE 1
#define GROUP_HOST 2
#define OVERFLOW_BIT (1ull << 62) /* cell key: the overflow point of an instrument */
#define SAMPLE_BIT (1ull << 61)   /* cell key: a sampled (collector-side) series */

/* A validated copy of a dictionary instrument, or of a sampled one. */
struct minst {
	int state; /* 0 unknown, 1 valid, -1 refused */
	uint32_t kind; /* SHM_INST_* */
	uint32_t nbounds;
	char name[96];
	char unit[32];
	char desc[112];
	double bounds[SHM_INST_MAX_BOUNDS];
};

/* A validated copy of a dictionary series. */
struct mseries {
	int state;
	uint32_t inst;
	uint16_t len;
	uint8_t nattrs;
	unsigned char attrs[240];
};

struct mgroup {
	uint64_t key;
	char name[128];   /* service.name of a per-service group */
	struct pbuf res;  /* Resource message fields */
	uint32_t idx, pgen, pid;
	int process;      /* a producer process: forgotten when it is gone */
	int gone;
	struct mgroup *next;
};

struct mcell {
	uint64_t skey;         /* series id, or OVERFLOW_BIT | inst, or SAMPLE_BIT | n */
	struct mgroup *g;
	const struct minst *in;
	const unsigned char *attrs; /* checked block (series) or NULL */
	uint16_t attrs_len;
	uint8_t nattrs;
	struct pbuf kv;        /* sampled series: encoded attributes (field 7) */
	struct shm_cell *st;   /* the numbers: in the segment for series fed by
				* records, so that a restarted collector goes on
				* with them; owned (malloc) for sampled ones */
	int owned;
};

struct ckey {
	uint64_t skey;
	uint64_t gkey;
	uint32_t cell; /* index + 1; 0 = empty */
};

/*
 * The cell the last record of a series from a resource went to, so that
 * the next one (the common case: a series written in a loop) skips the
 * dictionary, group and table lookups. Entries are valid while epoch is
 * the table's: forget_gone(), which moves cells and frees groups, bumps
 * it. Only cells of the series itself are remembered, never an overflow
 * point (each record that falls there is counted).
 */
#define MCACHE_NR 256 /* a power of two */
struct mcache {
	uint64_t series1; /* series id + 1; 0: empty */
	const struct resource *res;
	uint32_t ridx, rgen; /* res->idx, res->gen when remembered */
	uint32_t cell;       /* index in cells */
	uint32_t epoch;
	const struct minst *in;
};

struct metrics {
	struct seg *seg;
	struct producers *prod;
	uint32_t next_cell;     /* where to look for a free segment cell */
	const struct shmlog_config *cfg;
	int grouping;
	int temp_pref; /* 0 cumulative, 1 delta, 2 lowmemory */
	uint32_t limit;
	char host[256];
	struct minst *inst;     /* by instrument id */
	struct mseries *series; /* by series id */
	struct minst *sinst;    /* sampled instruments, by name */
	uint32_t nsinst, capsinst;
	struct mgroup *groups;
	struct mcell *cells;
	uint32_t ncells, capcells;
	struct ckey *tab;       /* open addressing, captab a power of two */
	uint32_t captab;
	uint64_t overflows;
	uint32_t epoch;         /* of the cells' places (struct mcache) */
	struct mcache cache[MCACHE_NR];
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x7f4a7c159e3779b9ull + (a << 6) + (a >> 2));

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static void restore(struct metrics *m);

int metrics_create(struct metrics **out, struct seg *seg, struct producers *prod,
		   const struct shmlog_config *cfg, const char *host)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->seg = seg;
	m->prod = prod;
	m->cfg = cfg;
	m->grouping = strcmp(cfg->met_grouping, "service") == 0 ? GROUP_SERVICE :
		      strcmp(cfg->met_grouping, "host") == 0	  ? GROUP_HOST :
								    GROUP_PROCESS;
	m->temp_pref = strcmp(cfg->met_temporality, "delta") == 0     ? 1 :
		       strcmp(cfg->met_temporality, "lowmemory") == 0 ? 2 :
									0;
	m->limit = cfg->met_cardinality_limit ? cfg->met_cardinality_limit : 2000;
	snprintf(m->host, sizeof(m->host), "%s", host);
	m->inst = calloc(seg->max_instruments, sizeof(*m->inst));
	m->series = calloc(seg->max_series, sizeof(*m->series));
	m->captab = 1024;
	m->tab = calloc(m->captab, sizeof(*m->tab));
	if (!m->inst || !m->series || !m->tab) {
		metrics_destroy(m);
		return -ENOMEM;
	}
	restore(m);
	*out = m;
	return 0;
}

/* Forgets a cell; with drop, its numbers too (a segment cell is freed). */
static void cell_fini(struct mcell *c, int drop)
{
	if (c->owned)
		free(c->st);
	else if (drop && c->st)
		memset(c->st, 0, sizeof(*c->st));
	c->st = NULL;
	pbuf_fini(&c->kv);
}

void metrics_destroy(struct metrics *m)
{
	struct mgroup *g, *next;

	if (!m)
		return;
	for (uint32_t i = 0; i < m->ncells; i++)
		cell_fini(&m->cells[i], 0); /* segment cells outlive us */
	for (g = m->groups; g; g = next) {
		next = g->next;
		pbuf_fini(&g->res);
		free(g);
	}
	free(m->cells);
	free(m->tab);
	free(m->inst);
	free(m->series);
	free(m->sinst);
	free(m);
}

uint64_t metrics_overflows(const struct metrics *m)
{
	return m->overflows;
}

/* Copies a dictionary string into a NUL-terminated, valid UTF-8 prefix. */
static void take(char *dst, size_t cap, const char *src, size_t srcsz)
{
	size_t n = strnlen(src, srcsz < cap ? srcsz : cap - 1);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	n = utf8_valid_prefix((const unsigned char *)dst, n);
	dst[n] = '\0';
}

static const struct minst *get_inst(struct metrics *m, uint32_t id)
{
	static struct shm_instrument copy;
	struct minst *in;
	struct shm_instrument *e;

	if (id >= m->seg->max_instruments)
		return NULL;
	in = &m->inst[id];
	if (in->state)
		return in->state > 0 ? in : NULL;
	e = seg_instrument(m->seg, id);
	/* Pairs with the producer's release of READY in shmlog_instrument(). */
	if (SHM_DICT_STATE(shm_load_acquire(&e->in_claim)) != SHM_DICT_READY)
		return NULL; /* not yet: look again next time */
	memcpy(&copy, e, sizeof(copy));
	in->state = -1;
	if (copy.in_kind < SHM_INST_COUNTER || copy.in_kind > SHM_INST_HISTOGRAM ||
	    copy.in_nbounds > SHM_INST_MAX_BOUNDS ||
	    (copy.in_kind != SHM_INST_HISTOGRAM && copy.in_nbounds))
		return NULL;
	for (uint32_t i = 0; i < copy.in_nbounds; i++)
		if (!isfinite(copy.in_bounds[i]) ||
		    (i && !(copy.in_bounds[i] > copy.in_bounds[i - 1])))
			return NULL;
	take(in->name, sizeof(in->name), copy.in_name, sizeof(copy.in_name));
	if (!in->name[0])
		return NULL;
	take(in->unit, sizeof(in->unit), copy.in_unit, sizeof(copy.in_unit));
	take(in->desc, sizeof(in->desc), copy.in_desc, sizeof(copy.in_desc));
	in->kind = copy.in_kind;
	in->nbounds = copy.in_nbounds;
	memcpy(in->bounds, copy.in_bounds, sizeof(in->bounds));
	in->state = 1;
	return in;
}

static const struct mseries *get_series(struct metrics *m, uint32_t id)
{
	static struct shm_series copy;
	struct mseries *se;
	struct shm_series *e;

	if (id >= m->seg->max_series)
		return NULL;
	se = &m->series[id];
	if (se->state)
		return se->state > 0 ? se : NULL;
	e = seg_series(m->seg, id);
	/* Pairs with the producer's release of READY in shmlog_series(). */
	if (SHM_DICT_STATE(shm_load_acquire(&e->se_claim)) != SHM_DICT_READY)
		return NULL;
	memcpy(&copy, e, sizeof(copy));
	se->state = -1;
	if (copy.se_attrs_len > sizeof(copy.se_attrs) ||
	    attrs_check(copy.se_attrs, copy.se_attrs_len, copy.se_nattrs) ||
	    !get_inst(m, copy.se_instrument))
		return NULL;
	se->inst = copy.se_instrument;
	se->len = copy.se_attrs_len;
	se->nattrs = copy.se_nattrs;
	memcpy(se->attrs, copy.se_attrs, copy.se_attrs_len);
	se->state = 1;
	return se;
}

static struct mgroup *get_group(struct metrics *m, struct resource *res)
{
	struct mgroup *g;
	uint64_t key;

	switch (m->grouping) {
	case GROUP_SERVICE:
		key = (1ull << 62) | crc32c(0, res->service, strlen(res->service));
		break;
	case GROUP_HOST:
		key = 2ull << 62;
		break;
	default:
		key = ((uint64_t)res->idx << 32) | (uint16_t)res->gen;
		break;
	}
	for (g = m->groups; g; g = g->next)
		if (g->key == key)
			return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = key;
	pbuf_init(&g->res);
	if (m->grouping == GROUP_PROCESS) {
		pbuf_put(&g->res, res->enc.p, res->enc.len);
		g->process = 1;
		g->idx = res->idx;
		g->pgen = res->gen;
		g->pid = res->pid;
	} else {
		pb_kv_str(&g->res, 1, "host.name", 9, m->host, strlen(m->host));
		if (m->grouping == GROUP_SERVICE) {
			pb_kv_str(&g->res, 1, "service.name", 12, res->service,
				  strlen(res->service));
			snprintf(g->name, sizeof(g->name), "%.127s", res->service);
		}
	}
	if (g->res.oom) {
		pbuf_fini(&g->res);
		free(g);
		return NULL;
	}
	g->next = m->groups;
	m->groups = g;
	return g;
}

static int tab_grow(struct metrics *m);

static struct ckey *tab_find(struct metrics *m, uint64_t skey, uint64_t gkey)
{
	uint32_t mask = m->captab - 1, i = (uint32_t)mix(skey, gkey) & mask;

	while (m->tab[i].cell) {
		if (m->tab[i].skey == skey && m->tab[i].gkey == gkey)
			return &m->tab[i];
		i = (i + 1) & mask;
	}
	return &m->tab[i]; /* the empty slot where it would go */
}

static int tab_grow(struct metrics *m)
{
	struct ckey *old = m->tab;
	uint32_t oldcap = m->captab;

	m->tab = calloc((size_t)oldcap * 2, sizeof(*m->tab));
	if (!m->tab) {
		m->tab = old;
		return -ENOMEM;
	}
	m->captab = oldcap * 2;
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i].cell)
			*tab_find(m, old[i].skey, old[i].gkey) = old[i];
	free(old);
	return 0;
}

/* Attribute sets of instrument inst in group g, the overflow point not
 * counted (for the cardinality limit). */
static uint32_t cells_of(struct metrics *m, const struct minst *in, const struct mgroup *g)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->ncells; i++)
		if (m->cells[i].in == in && m->cells[i].g == g &&
		    !(m->cells[i].skey & OVERFLOW_BIT))
			n++;
	return n;
}

/* A free cell of the segment, or NULL when all are in use. */
static struct shm_cell *seg_cell_alloc(struct metrics *m)
{
	for (uint32_t n = 0; n < m->seg->max_cells; n++) {
		uint32_t i = (m->next_cell + n) % m->seg->max_cells;
		struct shm_cell *st = seg_cell(m->seg, i);

		if (st->ce_skey == 0) {
			m->next_cell = i + 1;
			return st;
		}
	}
	return NULL;
}

/* Indexes cell state st (already filled) under (skey, g). */
static struct mcell *index_cell(struct metrics *m, uint64_t skey, struct mgroup *g,
				const struct minst *in, struct shm_cell *st, int owned)
{
	struct mcell *c;
	struct ckey *k;

	if ((m->ncells + 1) * 2 > m->captab && tab_grow(m))
		return NULL;
	if (m->ncells == m->capcells) {
		uint32_t cap = m->capcells ? m->capcells * 2 : 256;
		struct mcell *nc = realloc(m->cells, cap * sizeof(*nc));
		if (!nc)
			return NULL;
		m->cells = nc;
		m->capcells = cap;
	}
	c = &m->cells[m->ncells];
	memset(c, 0, sizeof(*c));
	c->skey = skey;
	c->g = g;
	c->in = in;
	c->st = st;
	c->owned = owned;
	pbuf_init(&c->kv);
	k = tab_find(m, skey, g->key);
	k->skey = skey;
	k->gkey = g->key;
	k->cell = ++m->ncells;
	return c;
}

/* A new cell: in the segment for series fed by records (sampled = 0),
 * owned for sampled ones. */
static struct mcell *new_cell(struct metrics *m, uint64_t skey, struct mgroup *g,
			      const struct minst *in, uint64_t t, int sampled)
{
	struct shm_cell *st = sampled ? calloc(1, sizeof(*st)) : seg_cell_alloc(m);
	struct mcell *c;

	if (!st)
		return NULL;
	memset(st, 0, sizeof(*st));
	st->ce_gkey = g->key;
	st->ce_inst = (uint32_t)(in - (sampled ? m->sinst : m->inst));
	st->ce_kind = in->kind;
	st->ce_nbuckets = in->kind == SHM_INST_HISTOGRAM ? in->nbounds + 1 : 0;
	st->ce_pid = g->pid;
	memcpy(st->ce_group, g->name, sizeof(st->ce_group));
	st->ce_start_ns = t;
	st->ce_min = st->ce_imin = INFINITY;
	st->ce_max = st->ce_imax = -INFINITY;
	c = index_cell(m, skey, g, in, st, sampled);
	if (!c) {
		if (sampled)
			free(st);
		return NULL;
	}
	/* Last: the cell is in use (and found again after a restart) only
	 * once complete. */
	st->ce_skey = skey + 1;
	return c;
}

static void apply(struct mcell *c, const struct minst *in, double v, uint64_t t)
{
	c->st->ce_count++;
	if (t > c->st->ce_last_ns || c->st->ce_count == 1) {
		c->st->ce_last_ns = t;
		c->st->ce_last = v;
	}
	switch (in->kind) {
	case SHM_INST_COUNTER:
	case SHM_INST_UPDOWN:
		c->st->ce_sum += v;
		break;
	case SHM_INST_GAUGE:
		break;
	default: {
		uint32_t b = 0;

		while (b < in->nbounds && v > in->bounds[b])
			b++; /* bucket b holds (bounds[b-1], bounds[b]] */
		c->st->ce_buckets[b]++;
		c->st->ce_sum += v;
		if (v < c->st->ce_min)
			c->st->ce_min = v;
		if (v > c->st->ce_max)
			c->st->ce_max = v;
		if (v < c->st->ce_imin)
			c->st->ce_imin = v;
		if (v > c->st->ce_imax)
			c->st->ce_imax = v;
		break;
	}
	}
}

/* metrics_add() for a record the cache does not know: the dictionary,
 * group and table lookups (and the cell made, when new). Kept out of
 * line so that the cached case stays small. */
static __attribute__((noinline)) int add_lookup(struct metrics *m, struct resource *res,
						const struct shm_rec_hdr *rh,
						const struct shm_metric *mtp, struct mcache *mc)
{
	struct shm_metric mt = *mtp;
	const struct mseries *se;
	const struct minst *in;
	struct mgroup *g;
	struct ckey *k;
	struct mcell *c;
	uint64_t skey;

	se = get_series(m, mt.mt_series);
	if (!se)
		return -EBADMSG;
	in = get_inst(m, se->inst);
	if (!in || mt.mt_kind != in->kind || !isfinite(mt.mt_value) ||
	    (in->kind == SHM_INST_COUNTER && mt.mt_value < 0))
		return -EBADMSG;
	g = get_group(m, res);
	if (!g)
		return -ENOMEM;
	skey = mt.mt_series;
	k = tab_find(m, skey, g->key);
	if (k->cell) {
		c = &m->cells[k->cell - 1];
	} else {
		/* A new attribute set: within the limit, its own point; else
		 * the instrument's overflow point. The specification (metrics
		 * SDK, cardinality limits) guarantees no overflow while there
		 * are at most `limit` distinct non-overflow sets. */
		if (cells_of(m, in, g) >= m->limit) {
			skey = OVERFLOW_BIT | se->inst;
			k = tab_find(m, skey, g->key);
		}
		if (k->cell) {
			c = &m->cells[k->cell - 1];
		} else {
			c = new_cell(m, skey, g, in, rh->rec_time_ns, 0);
			if (!c)
				return -ENOMEM;
			if (!(skey & OVERFLOW_BIT)) {
				c->attrs = se->attrs;
				c->attrs_len = se->len;
				c->nattrs = se->nattrs;
			}
		}
		if (skey & OVERFLOW_BIT)
			m->overflows++;
	}
	if (!(skey & OVERFLOW_BIT)) {
		mc->series1 = (uint64_t)mt.mt_series + 1;
		mc->res = res;
		mc->ridx = res->idx;
		mc->rgen = res->gen;
		mc->cell = (uint32_t)(c - m->cells);
		mc->epoch = m->epoch;
		mc->in = in;
	}
	apply(c, in, mt.mt_value, rh->rec_time_ns);
	return 0;
}

int metrics_add(struct metrics *m, struct resource *res, const unsigned char *rec,
		uint32_t rec_len)
{
	const struct shm_rec_hdr *rh = (const void *)rec;
	const struct minst *in;
	struct shm_metric mt;
	struct mcache *mc;

	if (rec_len != sizeof(*rh) + sizeof(mt))
		return -EBADMSG;
	memcpy(&mt, rec + sizeof(*rh), sizeof(mt));
	mc = &m->cache[mt.mt_series & (MCACHE_NR - 1)];
	if (mc->series1 != (uint64_t)mt.mt_series + 1 || mc->res != res || mc->ridx != res->idx ||
	    mc->rgen != res->gen || mc->epoch != m->epoch)
		return add_lookup(m, res, rh, &mt, mc);
	in = mc->in; /* the series and instrument checked out when remembered */
	if (mt.mt_kind != in->kind || !isfinite(mt.mt_value) ||
	    (in->kind == SHM_INST_COUNTER && mt.mt_value < 0))
		return -EBADMSG;
	apply(&m->cells[mc->cell], in, mt.mt_value, rh->rec_time_ns);
	return 0;
}

static const struct minst *sample_inst(struct metrics *m, const char *name, const char *unit,
				       const char *desc, int kind, const double *bounds,
				       uint32_t nbounds)
{
	struct minst *in;

	for (uint32_t i = 0; i < m->nsinst; i++)
		if (strcmp(m->sinst[i].name, name) == 0)
			return &m->sinst[i];
	if (m->nsinst == m->capsinst) {
		/* Cells point into this array: allocate once, generously. */
		if (m->sinst)
			return NULL;
		m->capsinst = 256;
		m->sinst = calloc(m->capsinst, sizeof(*m->sinst));
		if (!m->sinst)
			return NULL;
	}
	in = &m->sinst[m->nsinst++];
	in->state = 1;
	in->kind = kind == HM_GAUGE ? SHM_INST_GAUGE :
		   kind == HM_COUNTER ? SHM_INST_COUNTER :
		   kind == HM_UPDOWN ? SHM_INST_UPDOWN : SHM_INST_HISTOGRAM;
	if (nbounds > SHM_INST_MAX_BOUNDS)
		nbounds = SHM_INST_MAX_BOUNDS;
	in->nbounds = in->kind == SHM_INST_HISTOGRAM ? nbounds : 0;
	if (in->nbounds)
		memcpy(in->bounds, bounds, nbounds * sizeof(double));
	snprintf(in->name, sizeof(in->name), "%s", name);
	snprintf(in->unit, sizeof(in->unit), "%s", unit ? unit : "");
	snprintf(in->desc, sizeof(in->desc), "%s", desc ? desc : "");
	return in;
}

static struct mgroup *agent_group(struct metrics *m)
{
	struct mgroup *g;
	const uint64_t key = 3ull << 62;

	for (g = m->groups; g; g = g->next)
		if (g->key == key)
			return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = key;
	pbuf_init(&g->res);
	pb_kv_str(&g->res, 1, "service.name", 12, m->cfg->service_name,
		  strlen(m->cfg->service_name));
	pb_kv_str(&g->res, 1, "host.name", 9, m->host, strlen(m->host));
	g->next = m->groups;
	m->groups = g;
	return g;
}

void metrics_sample(struct metrics *m, const char *name, const char *unit, const char *desc,
		    int kind, double value, uint32_t pid, const char *const *keys,
		    const char *const *vals, int nattrs, uint64_t now_ns)
{
	const struct minst *in = sample_inst(m, name, unit, desc, kind, NULL, 0);
	struct mgroup *g = NULL;
	struct pbuf kv;
	struct mcell *c;
	struct ckey *k;
	uint64_t skey;

	if (!in || !isfinite(value))
		return;
	if (pid && m->grouping == GROUP_PROCESS)
		for (g = m->groups; g; g = g->next)
			if (g->process && g->pid == pid && !g->gone)
				break;
	if (!g)
		g = agent_group(m);
	if (!g)
		return;
	pbuf_init(&kv);
	for (int i = 0; i < nattrs; i++)
		pb_kv_str(&kv, 7, keys[i], strlen(keys[i]), vals[i], strlen(vals[i]));
	if (pid && g->key == (3ull << 62)) {
		/* No producer group for it: keep it apart by its pid. */
		pb_kv_int(&kv, 7, "process.pid", 11, pid);
	}
	skey = SAMPLE_BIT | ((uint64_t)crc32c(crc32c(0, in->name, strlen(in->name)), kv.p, kv.len)
			     << 16) | (pid & 0xffff);
	k = tab_find(m, skey, g->key);
	if (k->cell) {
		c = &m->cells[k->cell - 1];
		pbuf_fini(&kv);
	} else {
		c = new_cell(m, skey, g, in, now_ns, 1);
		if (!c) {
			pbuf_fini(&kv);
			return;
		}
		c->kv = kv;
	}
	/* Sampled counters and up-down counters are totals already; a
	 * counter that went back (its source restarted) starts anew. */
	if (in->kind == SHM_INST_COUNTER && value < c->st->ce_sum) {
		c->st->ce_prev_sum = 0;
		c->st->ce_start_ns = now_ns;
		c->st->ce_last_export_ns = 0;
	}
	c->st->ce_count++;
	c->st->ce_last = value;
	c->st->ce_last_ns = now_ns;
	if (in->kind != SHM_INST_GAUGE)
		c->st->ce_sum = value;
}

void metrics_sample_histogram(struct metrics *m, const char *name, const char *unit,
			      const char *desc, const double *bounds, uint32_t nbounds,
			      const uint64_t *buckets, uint64_t count, double sum, uint64_t now_ns)
{
	const struct minst *in = sample_inst(m, name, unit, desc, HM_KIND_NR, bounds, nbounds);
	struct mgroup *g = agent_group(m);
	uint64_t skey;
	struct ckey *k;
	struct mcell *c;

	if (!in || !g || in->kind != SHM_INST_HISTOGRAM || in->nbounds != nbounds)
		return;
	skey = SAMPLE_BIT | ((uint64_t)crc32c(0, in->name, strlen(in->name)) << 16);
	k = tab_find(m, skey, g->key);
	c = k->cell ? &m->cells[k->cell - 1] : new_cell(m, skey, g, in, now_ns, 1);
	if (!c)
		return;
	/* Totals, not increments: taken as they are. Totals that went back
	 * (the exporter restarted) start a new series. */
	if (count < c->st->ce_count) {
		memset(c->st->ce_prev_buckets, 0, (nbounds + 1) * sizeof(uint64_t));
		c->st->ce_prev_count = 0;
		c->st->ce_prev_sum = 0;
		c->st->ce_start_ns = now_ns;
		c->st->ce_last_export_ns = 0;
	}
	memcpy(c->st->ce_buckets, buckets, (nbounds + 1) * sizeof(uint64_t));
	c->st->ce_count = count;
	c->st->ce_sum = sum;
	c->st->ce_last_ns = now_ns;
}

/* Whether group g's producer entry is gone (freed or reused). */
static int group_gone(struct metrics *m, struct mgroup *g)
{
	struct shm_producer *pe;
	uint64_t claim;

	if (!g->process || g->idx >= m->seg->max_producers)
		return 0;
	pe = seg_producer(m->seg, g->idx);
	/* Pairs with the release stores of pe_claim (producer or GC). */
	claim = shm_load_acquire(&pe->pe_claim);
	return SHM_PE_CLAIM_STATE(claim) != SHM_PE_READY || SHM_PE_CLAIM_PID(claim) != g->pid ||
	       (uint16_t)shm_load_relaxed(&pe->pe_gen) != (uint16_t)g->pgen;
}

static int temporality(const struct metrics *m, uint32_t kind)
{
	if (kind == SHM_INST_UPDOWN || m->temp_pref == 0)
		return TEMP_CUMULATIVE;
	return TEMP_DELTA; /* counters and histograms under delta and lowmemory */
}

static void point_attrs(struct pbuf *o, const struct mcell *c, uint32_t field)
{
	if (c->skey & OVERFLOW_BIT)
		pb_kv_bool(o, field, "otel.metric.overflow", 20, 1);
	else if (c->attrs)
		attrs_encode(o, field, c->attrs, c->nattrs);
	else if (c->kv.len && field == 7)
		pbuf_put(o, c->kv.p, c->kv.len);
}

static void put_double(struct pbuf *o, uint32_t field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, 8);
	pb_fixed64(o, field, bits);
}

/* Encodes cell c's point, if it has one to give; returns 1 if written. */
static int encode_point(struct metrics *m, struct pbuf *o, struct mcell *c, uint64_t now)
{
	const struct minst *in = c->in;
	int temp = temporality(m, in->kind);
	uint64_t start = temp == TEMP_DELTA && c->st->ce_last_export_ns ? c->st->ce_last_export_ns : c->st->ce_start_ns;
	size_t dp;

	if (c->st->ce_count == 0 || (temp == TEMP_DELTA && in->kind != SHM_INST_GAUGE &&
			      c->st->ce_count == c->st->ce_prev_count))
		return 0;
	/* A series starts at its first record's time, taken by the producer;
	 * one written after this turn's clock reading would otherwise have
	 * start > time, which OTLP forbids. */
	if (now < start)
		now = start;
	if (in->kind == SHM_INST_HISTOGRAM) {
		uint32_t nb = in->nbounds + 1;
		uint64_t cnt = temp == TEMP_DELTA ? c->st->ce_count - c->st->ce_prev_count : c->st->ce_count;
		double sum = temp == TEMP_DELTA ? c->st->ce_sum - c->st->ce_prev_sum : c->st->ce_sum;
		double mn = temp == TEMP_DELTA ? c->st->ce_imin : c->st->ce_min;
		double mx = temp == TEMP_DELTA ? c->st->ce_imax : c->st->ce_max;

		dp = pb_open(o, 1);
		point_attrs(o, c, 9);
		pb_fixed64(o, 2, start);
		pb_fixed64(o, 3, now);
		pb_fixed64(o, 4, cnt);
		put_double(o, 5, sum);
		pb_tag(o, 6, PB_LEN);
		pb_varint(o, (uint64_t)nb * 8);
		for (uint32_t i = 0; i < nb; i++) {
			uint64_t v = temp == TEMP_DELTA ? c->st->ce_buckets[i] - c->st->ce_prev_buckets[i] :
							   c->st->ce_buckets[i];
			pbuf_put(o, &v, 8);
		}
		if (in->nbounds) {
			pb_tag(o, 7, PB_LEN);
			pb_varint(o, (uint64_t)in->nbounds * 8);
			pbuf_put(o, in->bounds, (size_t)in->nbounds * 8);
		}
		if (isfinite(mn) && isfinite(mx)) {
			put_double(o, 11, mn);
			put_double(o, 12, mx);
		}
		pb_close(o, dp);
		if (temp == TEMP_DELTA) {
			memcpy(c->st->ce_prev_buckets, c->st->ce_buckets, (size_t)nb * 8);
			c->st->ce_imin = INFINITY;
			c->st->ce_imax = -INFINITY;
		}
	} else {
		double v = in->kind == SHM_INST_GAUGE ? c->st->ce_last :
			   temp == TEMP_DELTA	     ? c->st->ce_sum - c->st->ce_prev_sum :
						       c->st->ce_sum;

		dp = pb_open(o, 1);
		point_attrs(o, c, 7);
		if (in->kind != SHM_INST_GAUGE)
			pb_fixed64(o, 2, start);
		pb_fixed64(o, 3, now);
		put_double(o, 4, v);
		pb_close(o, dp);
	}
	c->st->ce_prev_count = c->st->ce_count;
	c->st->ce_prev_sum = c->st->ce_sum;
	c->st->ce_last_export_ns = now;
	return 1;
}

static int cell_cmp(const void *a, const void *b)
{
	const struct mcell *x = *(const struct mcell *const *)a, *y = *(const struct mcell *const *)b;

	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	if (x->in != y->in)
		return x->in < y->in ? -1 : 1;
	return x->skey < y->skey ? -1 : x->skey > y->skey;
}

/* Drops the cells of gone groups, and the groups. */
static void forget_gone(struct metrics *m)
{
	struct mgroup **pg = &m->groups;
	uint32_t w = 0;

	m->epoch++; /* cells move, groups go: forget what the cache holds */
	for (uint32_t i = 0; i < m->ncells; i++) {
		if (m->cells[i].g->gone) {
			cell_fini(&m->cells[i], 1);
			continue;
		}
		m->cells[w++] = m->cells[i];
	}
	if (w == m->ncells)
		return;
	m->ncells = w;
	memset(m->tab, 0, (size_t)m->captab * sizeof(*m->tab));
	for (uint32_t i = 0; i < m->ncells; i++) {
		struct ckey *k = tab_find(m, m->cells[i].skey, m->cells[i].g->key);
		k->skey = m->cells[i].skey;
		k->gkey = m->cells[i].g->key;
		k->cell = i + 1;
	}
	while (*pg) {
		struct mgroup *g = *pg;
		if (g->gone) {
			*pg = g->next;
			pbuf_fini(&g->res);
			free(g);
		} else {
			pg = &g->next;
		}
	}
}

int metrics_encode(struct metrics *m, struct pbuf *out, uint64_t now_ns, uint32_t *npoints)
{
	struct mcell **order;
	uint32_t n = 0, inst_points = 0, group_points = 0;
	size_t rm = 0, sm = 0, mt = 0, data = 0, rm_len = 0, mt_len = 0;

	*npoints = 0;
	for (struct mgroup *g = m->groups; g; g = g->next)
		g->gone = group_gone(m, g);
	if (m->ncells == 0)
		return 0;
	order = malloc(m->ncells * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->ncells; i++)
		order[i] = &m->cells[i];
	qsort(order, m->ncells, sizeof(*order), cell_cmp);
	for (uint32_t i = 0; i < m->ncells; i++) {
		struct mcell *c = order[i];
		const struct minst *in = c->in;
		int new_group = i == 0 || order[i - 1]->g != c->g;
		int new_inst = new_group || order[i - 1]->in != in;
		int last_inst = i + 1 == m->ncells || order[i + 1]->g != c->g ||
				order[i + 1]->in != in;
		int last_group = i + 1 == m->ncells || order[i + 1]->g != c->g;

		if (new_group) {
			size_t sc;

			rm_len = out->len;
			group_points = 0;
			rm = pb_open(out, 1); /* ResourceMetrics */
			pb_bytes(out, 1, c->g->res.p, c->g->res.len);
			sm = pb_open(out, 2); /* ScopeMetrics */
			sc = pb_open(out, 1);
			pb_str(out, 1, "shmlog");
			pb_str(out, 2, SHMLOG_VERSION);
			pb_close(out, sc);
		}
		if (new_inst) {
			int kind = in->kind;

			mt_len = out->len;
			inst_points = 0;
			mt = pb_open(out, 2); /* Metric */
			pb_str(out, 1, in->name);
			if (in->desc[0])
				pb_str(out, 2, in->desc);
			if (in->unit[0])
				pb_str(out, 3, in->unit);
			data = pb_open(out, kind == SHM_INST_GAUGE ? 5 :
					    kind == SHM_INST_HISTOGRAM ? 9 : 7);
		}
		if (encode_point(m, out, c, now_ns)) {
			n++;
			inst_points++;
			group_points++;
		}
		/* No empty envelopes (OTLP: senders should not send them). */
		if (last_inst && !inst_points) {
			out->len = mt_len;
		} else if (last_inst) {
			if (in->kind != SHM_INST_GAUGE)
				pb_uint(out, 2, (uint64_t)temporality(m, in->kind));
			if (in->kind == SHM_INST_COUNTER)
				pb_uint(out, 3, 1);
			pb_close(out, data);
			pb_close(out, mt);
		}
		if (last_group && !group_points) {
			out->len = rm_len;
		} else if (last_group) {
			pb_close(out, sm);
			pb_close(out, rm);
		}
	}
	free(order);
	forget_gone(m);
	*npoints = n;
	return out->oom ? -ENOMEM : 0;
}

/* A group for a cell found in the segment at start: the producer's
 * resource when it still runs, else a minimal one (the cell is exported
 * once more, then forgotten). */
static struct mgroup *restore_group(struct metrics *m, const struct shm_cell *st)
{
	uint64_t key = st->ce_gkey;
	struct mgroup *g;

	for (g = m->groups; g; g = g->next)
		if (g->key == key)
			return g;
	if (m->grouping == GROUP_PROCESS && (key >> 62) == 0) {
		struct resource *res = producers_get(m->prod, (uint32_t)(key >> 32), (uint16_t)key);
		if (res && res->pid == st->ce_pid)
			return get_group(m, res);
	}
	if ((m->grouping == GROUP_SERVICE && (key >> 62) != 1) ||
	    (m->grouping == GROUP_HOST && key != (2ull << 62)) ||
	    (m->grouping == GROUP_PROCESS && (key >> 62) != 0))
		return NULL; /* grouped another way before: not continued */
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = key;
	pbuf_init(&g->res);
	pb_kv_str(&g->res, 1, "host.name", 9, m->host, strlen(m->host));
	if (m->grouping == GROUP_SERVICE) {
		memcpy(g->name, st->ce_group, sizeof(g->name));
		g->name[sizeof(g->name) - 1] = '\0';
		g->name[utf8_valid_prefix((const unsigned char *)g->name, strlen(g->name))] = '\0';
		pb_kv_str(&g->res, 1, "service.name", 12, g->name, strlen(g->name));
	} else if (m->grouping == GROUP_PROCESS) {
		pb_kv_int(&g->res, 1, "process.pid", 11, st->ce_pid);
		g->process = 1;
		g->idx = (uint32_t)(key >> 32);
		g->pgen = (uint16_t)key;
		g->pid = st->ce_pid;
	}
	g->next = m->groups;
	m->groups = g;
	return g;
}

/* Takes up the cells a previous collector left in the segment. A cell
 * that does not check out (another grouping, a series that is no longer
 * in the dictionary, numbers out of shape) is freed. */
static void restore(struct metrics *m)
{
	uint32_t kept = 0, dropped = 0;

	for (uint32_t i = 0; i < m->seg->max_cells; i++) {
		struct shm_cell *st = seg_cell(m->seg, i);
		const struct minst *in = NULL;
		const struct mseries *se = NULL;
		struct mgroup *g;
		struct mcell *c;
		uint64_t skey;

		if (st->ce_skey == 0)
			continue;
		skey = st->ce_skey - 1;
		if (skey & OVERFLOW_BIT) {
			in = get_inst(m, (uint32_t)(skey & 0xffffffffu));
		} else if (skey < m->seg->max_series) {
			se = get_series(m, (uint32_t)skey);
			in = se ? get_inst(m, se->inst) : NULL;
		}
		g = in ? restore_group(m, st) : NULL;
		if (!in || !g || st->ce_kind != in->kind ||
		    st->ce_nbuckets != (in->kind == SHM_INST_HISTOGRAM ? in->nbounds + 1 : 0) ||
		    tab_find(m, skey, g->key)->cell) {
			memset(st, 0, sizeof(*st));
			dropped++;
			continue;
		}
		c = index_cell(m, skey, g, in, st, 0);
		if (!c)
			break;
		if (se) {
			c->attrs = se->attrs;
			c->attrs_len = se->len;
			c->nattrs = se->nattrs;
		}
		kept++;
	}
	if (kept || dropped)
		LOGI("metrics: continuing %u aggregation cells from the segment (%u discarded)", kept,
		     dropped);
}
