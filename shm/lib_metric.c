/* SPDX-License-Identifier: MIT */
/*
 * libshmlog.so: metric instruments and series in the segment's dictionary
 * (shm_abi.h "metric dictionary"), and the hot path that carries a series
 * id and a value through the rings as a one-slot record.
 *
 * Registration probes an open-addressing table and takes a free entry
 * with one compare-and-swap that names the entry's hash; a concurrent
 * registration of the same name waits (briefly) for the entry to be
 * READY before comparing. Entries are never freed, so ids stay valid for
 * the segment's life. The hot path (lib_hot.h) reads the series and
 * instrument entry (two loads), then claims, fills and publishes one
 * slot: no system call, no lock, no allocation.
 */
#include "lib_int.h"
#include "shmlog.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <string.h>

#include "lib_hot.h"
#include "ring_write.h"
#include "shm_atomic.h"

static const double default_bounds[] = { 0,    5,    10,   25,   50,   75,    100,  250,
					  500,  750,  1000, 2500, 5000, 7500, 10000 };

/* Spins while another process fills an entry: a fill is a few hundred
 * stores; one that takes this long was interrupted (or its writer died). */
#define FILL_WAIT_SPINS 100000

static uint32_t fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;

	memcpy(dst, src ? src : "", n);
	memset(dst + n, 0, cap - n);
}

/* Waits for a FILLING entry to become READY; returns its final word. */
static uint64_t wait_ready(const uint64_t *claim, uint64_t w)
{
	for (int i = 0; i < FILL_WAIT_SPINS && SHM_DICT_STATE(w) == SHM_DICT_FILLING; i++) {
		if (i > 100)
			sched_yield(); /* registration only: never on the hot path */
		/* Pairs with the release store of READY by the filler. */
		w = shm_load_acquire(claim);
	}
	return w;
}

static int same_instrument(const struct shm_instrument *e, const char *name, const char *unit,
			   int kind, const double *bounds, size_t nbounds)
{
	char u[sizeof(e->in_unit)];

	copy_field(u, sizeof(u), unit);
	if (e->in_kind != (uint32_t)kind || strncmp(e->in_unit, u, sizeof(u)) != 0)
		return 0;
	if (kind == SHMLOG_HISTOGRAM &&
	    (e->in_nbounds != nbounds || memcmp(e->in_bounds, bounds, nbounds * sizeof(double))))
		return 0;
	(void)name;
	return 1;
}

__attribute__((visibility("default"))) int shmlog_instrument(const char *name, const char *unit,
							    const char *description, int kind,
							    const double *bounds, size_t nbounds)
{
	struct lib_att *a;
	size_t nlen = name ? strlen(name) : 0;
	uint32_t h, n;
	int saved = errno, ret = -ENOSPC;

	if (nlen == 0 || nlen > SHMLOG_NAME_MAX || kind < SHMLOG_COUNTER ||
	    kind > SHMLOG_HISTOGRAM || (unit && strlen(unit) > SHMLOG_UNIT_MAX))
		return -EINVAL;
	if (kind != SHMLOG_HISTOGRAM) {
		bounds = NULL;
		nbounds = 0;
	} else if (!bounds) {
		bounds = default_bounds;
		nbounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
	} else {
		if (nbounds > SHMLOG_MAX_BOUNDS)
			return -EINVAL;
		for (size_t i = 0; i < nbounds; i++)
			if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
				return -EINVAL;
	}
	if (lib_ready(&a) < 0) {
		errno = saved;
		return -ENOTCONN;
	}
	n = a->seg.max_instruments;
	h = fnv1a(2166136261u, name, nlen);
	for (uint32_t probe = 0; probe < n; probe++) {
		uint32_t i = (h + probe) % n;
		struct shm_instrument *e = seg_instrument(&a->seg, i);
		uint64_t w = shm_load_acquire(&e->in_claim), expect = 0;

		if (w == 0) {
			if (shm_cas(&e->in_claim, &expect, SHM_DICT_CLAIM(h, SHM_DICT_FILLING))) {
				e->in_kind = (uint32_t)kind;
				e->in_nbounds = (uint32_t)nbounds;
				copy_field(e->in_name, sizeof(e->in_name), name);
				copy_field(e->in_unit, sizeof(e->in_unit), unit);
				copy_field(e->in_desc, sizeof(e->in_desc), description);
				if (nbounds)
					memcpy(e->in_bounds, bounds, nbounds * sizeof(double));
				/* Publishes the entry; pairs with the acquire loads
				 * of in_claim here and in the collector. */
				shm_store_release(&e->in_claim, SHM_DICT_CLAIM(h, SHM_DICT_READY));
				ret = (int)i;
				goto out;
			}
			w = expect; /* somebody took it: look at what they put */
		}
		if (SHM_DICT_HASH(w) != h)
			continue;
		w = wait_ready(&e->in_claim, w);
		if (SHM_DICT_STATE(w) != SHM_DICT_READY) {
			ret = -EAGAIN;
			goto out;
		}
		if (strncmp(e->in_name, name, sizeof(e->in_name)) != 0)
			continue;
		ret = same_instrument(e, name, unit, kind, bounds, nbounds) ? (int)i : -EEXIST;
		goto out;
	}
	shm_add_relaxed(&a->seg.hdr->sh_dict_full, 1);
out:
	errno = saved;
	return ret;
}

static int attr_cmp(const struct shmlog_attr *x, const struct shmlog_attr *y)
{
	return strcmp(x->key, y->key);
}

__attribute__((visibility("default"))) int shmlog_series(int instrument,
							const struct shmlog_attr *attrs,
							size_t nattrs)
{
	struct shmlog_attr sorted[64];
	unsigned char buf[sizeof(((struct shm_series *)0)->se_attrs)];
	struct shm_instrument *ie;
	struct lib_att *a;
	long size;
	size_t len;
	uint32_t h, n;
	int saved = errno, ret = -ENOSPC;

	if (nattrs > 64 || (nattrs && !attrs) || instrument < 0)
		return -EINVAL;
	if (lib_ready(&a) < 0) {
		errno = saved;
		return -ENOTCONN;
	}
	if ((uint32_t)instrument >= a->seg.max_instruments)
		return -EINVAL;
	ie = seg_instrument(&a->seg, (uint32_t)instrument);
	/* Pairs with the release of READY in shmlog_instrument(). */
	if (SHM_DICT_STATE(shm_load_acquire(&ie->in_claim)) != SHM_DICT_READY)
		return -EINVAL;
	size = lib_attrs_size(attrs, nattrs);
	if (size < 0)
		return (int)size;
	if ((size_t)size > SHMLOG_SERIES_ATTRS_MAX)
		return -EMSGSIZE;
	/* Sorted by key (insertion sort: a handful of attributes), so that
	 * the same set in any order is the same series. */
	for (size_t i = 0; i < nattrs; i++) {
		size_t j = i;
		while (j > 0 && attr_cmp(&sorted[j - 1], &attrs[i]) > 0) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = attrs[i];
	}
	len = lib_attrs_put(buf, sorted, nattrs);
	n = a->seg.max_series;
	h = fnv1a(fnv1a(2166136261u, &instrument, sizeof(instrument)), buf, len);
	for (uint32_t probe = 0; probe < n; probe++) {
		uint32_t i = (h + probe) % n;
		struct shm_series *e = seg_series(&a->seg, i);
		uint64_t w = shm_load_acquire(&e->se_claim), expect = 0;

		if (w == 0) {
			if (shm_cas(&e->se_claim, &expect, SHM_DICT_CLAIM(h, SHM_DICT_FILLING))) {
				e->se_instrument = (uint32_t)instrument;
				e->se_attrs_len = (uint16_t)len;
				e->se_nattrs = (uint8_t)nattrs;
				memcpy(e->se_attrs, buf, len);
				/* Publishes the entry; pairs with acquire loads
				 * of se_claim here, in metric_emit() and in the
				 * collector. */
				shm_store_release(&e->se_claim, SHM_DICT_CLAIM(h, SHM_DICT_READY));
				ret = (int)i;
				goto out;
			}
			w = expect;
		}
		if (SHM_DICT_HASH(w) != h)
			continue;
		w = wait_ready(&e->se_claim, w);
		if (SHM_DICT_STATE(w) != SHM_DICT_READY) {
			ret = -EAGAIN;
			goto out;
		}
		if (e->se_instrument == (uint32_t)instrument && e->se_attrs_len == len &&
		    memcmp(e->se_attrs, buf, len) == 0) {
			ret = (int)i;
			goto out;
		}
	}
	shm_add_relaxed(&a->seg.hdr->sh_dict_full, 1);
out:
	errno = saved;
	return ret;
}

/* The hot path: one record of one slot carrying (series, kind, value).
 * A one-slot record never wraps: it is written straight into its slot.
 * errno: as emit() in lib_log.c. */
static inline __attribute__((always_inline)) int metric_emit(int series, int op_kind, double v)
{
	struct shm_rec_hdr rh;
	struct shm_metric mt;
	struct shm_ring_hdr *r;
	struct shm_series *se;
	struct lib_att *a;
	uint64_t pos, now = 0; /* set by lib_begin(); gcc cannot see it */
	uint32_t inst, kind;
	int owner;

	owner = lib_begin(&a, &now);
	if (LIB_UNLIKELY(owner < 0))
		return owner;
	if (LIB_LIKELY(series == lib_tls.mseries)) {
		/* Validated by this thread on this attachment before: a READY
		 * series entry never changes (lib_tls.mseries is reset with
		 * the owner, whenever the attachment changes). */
		kind = lib_tls.mkind;
	} else {
		if (LIB_UNLIKELY(series < 0 || (uint32_t)series >= a->seg.max_series))
			return -EINVAL;
		se = seg_series(&a->seg, (uint32_t)series);
		/* Pairs with the release of READY in shmlog_series(). */
		if (LIB_UNLIKELY(SHM_DICT_STATE(shm_load_acquire(&se->se_claim)) != SHM_DICT_READY))
			return -EINVAL;
		inst = shm_load_relaxed(&se->se_instrument);
		if (LIB_UNLIKELY(inst >= a->seg.max_instruments))
			return -EINVAL;
		kind = shm_load_relaxed(&seg_instrument(&a->seg, inst)->in_kind);
		lib_tls.mseries = series;
		lib_tls.mkind = kind;
	}
	if (op_kind == SHMLOG_COUNTER) {
		if (LIB_UNLIKELY(kind == SHMLOG_COUNTER ? !(v >= 0) : kind != SHMLOG_UPDOWN_COUNTER))
			return -EINVAL;
	} else if (LIB_UNLIKELY(kind != (uint32_t)op_kind)) {
		return -EINVAL;
	}
	if (LIB_UNLIKELY(!isfinite(v)))
		return -EINVAL;

	r = lib_claim(a, 1, (uint32_t)owner, sizeof(rh) + sizeof(mt), &pos);
	if (LIB_UNLIKELY(!r))
		return -ENOBUFS;
	memset(&rh, 0, sizeof(rh));
	rh.rec_type = SHM_REC_METRIC;
	rh.rec_len = sizeof(rh) + sizeof(mt);
	rh.rec_producer = (uint16_t)a->producer;
	rh.rec_pgen = (uint16_t)a->pgen;
	rh.rec_time_ns = now;
	mt.mt_series = (uint32_t)series;
	mt.mt_kind = kind;
	mt.mt_value = v;
	{
		unsigned char *p = lib_rec_ptr(&a->seg, r, pos, 1);

		memcpy(p, &rh, sizeof(rh));
		memcpy(p + sizeof(rh), &mt, sizeof(mt));
	}
	ring_publish(&a->seg, r, pos, 1, (uint32_t)owner);
	ring_maybe_wake(&a->seg, r, pos, 1);
	return 0;
}

__attribute__((visibility("default"))) int shmlog_add(int series, double value)
{
	return metric_emit(series, SHMLOG_COUNTER, value);
}

__attribute__((visibility("default"))) int shmlog_set(int series, double value)
{
	return metric_emit(series, SHMLOG_GAUGE, value);
}

__attribute__((visibility("default"))) int shmlog_record(int series, double value)
{
	return metric_emit(series, SHMLOG_HISTOGRAM, value);
}
