/* SPDX-License-Identifier: MIT */
/*
 * libshmlog.so: encoding log records (shm_abi.h "records") straight into
 * a claimed run of ring slots, and the public shmlog_log*() calls. The
 * record path (lib_hot.h): one TSC read, one CPU-number read (the rseq
 * area), one compare-and-swap, the copies straight into the slots, one
 * release store. No system call, no lock, no allocation; errno preserved.
 */
#include "lib_int.h"
#include "shmlog.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib_hot.h"
#include "ring_write.h"
#include "shm_atomic.h"

/* Size of the encoded attributes, or -EMSGSIZE / -EINVAL. */
long lib_attrs_size(const struct shmlog_attr *attrs, size_t nattrs)
{
	size_t total = 0;

	if (nattrs > 255)
		return -EMSGSIZE;
	for (size_t i = 0; i < nattrs; i++) {
		const struct shmlog_attr *a = &attrs[i];
		size_t klen = a->key ? strlen(a->key) : 0;
		size_t vlen;

		if (klen == 0 || klen > 255)
			return -EINVAL;
		switch (a->type) {
		case SHMLOG_ATTR_STR:
			vlen = a->v.s ? strlen(a->v.s) : 0;
			if (vlen > 65535)
				return -EMSGSIZE;
			break;
		case SHMLOG_ATTR_INT:
		case SHMLOG_ATTR_DOUBLE:
			vlen = 8;
			break;
		case SHMLOG_ATTR_BOOL:
			vlen = 1;
			break;
		default:
			return -EINVAL;
		}
		total += 4 + klen + vlen;
	}
	return total > SHMLOG_ATTRS_MAX ? -EMSGSIZE : (long)total;
}

size_t lib_attrs_put(unsigned char *out, const struct shmlog_attr *attrs, size_t nattrs)
{
	unsigned char *p = out;

	for (size_t i = 0; i < nattrs; i++) {
		const struct shmlog_attr *a = &attrs[i];
		size_t klen = strlen(a->key);
		size_t vlen = a->type == SHMLOG_ATTR_STR ? (a->v.s ? strlen(a->v.s) : 0) :
			      a->type == SHMLOG_ATTR_BOOL ? 1 : 8;
		uint16_t v16 = (uint16_t)vlen;

		p[0] = (unsigned char)a->type;
		p[1] = (unsigned char)klen;
		memcpy(p + 2, &v16, 2);
		memcpy(p + 4, a->key, klen);
		p += 4 + klen;
		if (a->type == SHMLOG_ATTR_STR) {
			memcpy(p, a->v.s ? a->v.s : "", vlen);
		} else if (a->type == SHMLOG_ATTR_BOOL) {
			p[0] = a->v.b ? 1 : 0;
		} else {
			memcpy(p, &a->v, 8); /* int64 or double, native order */
		}
		p += vlen;
	}
	return (size_t)(p - out);
}

uint32_t lib_cpu_slow(void)
{
	int saved = errno, cpu = sched_getcpu(); /* vDSO: no system call */

	errno = saved;
	return cpu >= 0 ? (uint32_t)cpu : 0;
}

int lib_refused(int owner)
{
	if (owner == -ENOTCONN) {
		/* A collector is there but its producer table was full: at
		 * attach (lib.noprod), or at a fork child's first record (the
		 * inherited attachment has no producer). Count the record. */
		struct lib_att *np;

		if (shm_load_acquire(&lib.status) == LIB_ATTACHED) { /* as in lib_ready() */
			np = shm_load_acquire(&lib.cur);
			if (shm_load_acquire(&np->producer) != LIB_NO_PRODUCER)
				np = NULL; /* refused for another reason */
		} else {
			np = shm_load_acquire(&lib.noprod); /* pairs with try_attach() */
		}
		if (np) {
			shm_add_relaxed(&np->seg.hdr->sh_drop_noprod, 1);
			return -ENOBUFS;
		}
	}
	return owner == -ENOSPC ? -ENOBUFS : -ENOTCONN;
}

struct shm_ring_hdr *lib_claim_full(struct lib_att *a, uint32_t ring, uint32_t n,
				    uint32_t owner, size_t len, uint64_t *pos)
{
	struct shm_ring_hdr *r = seg_ring(&a->seg, ring);
	int ret = -ENOBUFS;

	if (a->seg.nrings > 1) {
		/* This CPU's ring is full (or held by a stopped writer): try
		 * the next one before dropping. */
		r = seg_ring(&a->seg, (ring + 1) % a->seg.nrings);
		ret = ring_claim(&a->seg, r, n, owner, pos);
	}
	if (ret) {
		/* SHMLOG_ON_FULL=wait:ms: the slow path may still find room. */
		struct shm_ring_hdr *w = lib_full_wait(a, ring, n, owner, pos);

		if (w)
			return w;
		shm_add_relaxed(&r->rh_drops, 1);
		shm_add_relaxed(&r->rh_drop_bytes, len);
		shm_add_relaxed(&seg_producer(&a->seg, a->producer)->pe_drops, 1);
		return NULL;
	}
	return r;
}

/* Attributes whose key and value lengths the first pass remembers for
 * the second (more are measured again). */
#define ATTRS_FAST 16

/* Attributes of at most this many encoded bytes are encoded on the stack
 * while the first pass measures them, and copied into the slots in one
 * piece (most records: a few short attributes). */
#define ATTRS_STAGE 256

/* memcpy for the short pieces of a record (keys, small bodies): a few
 * overlapping fixed-size moves the compiler inlines, instead of a call
 * that costs more than the copy. */
static inline __attribute__((always_inline)) void copy_small(unsigned char *d, const void *src,
							     size_t n)
{
	const unsigned char *s = src;

	if (n > 64) {
		memcpy(d, s, n);
	} else if (n >= 32) {
		memcpy(d, s, 32);
		memcpy(d + n - 32, s + n - 32, 32);
	} else if (n >= 16) {
		memcpy(d, s, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

/* Where the record's bytes go: straight through lin when the claimed
 * slots do not wrap, else through ring_copy(). */
struct rec_out {
	unsigned char *lin;
	const struct seg *s;
	struct shm_ring_hdr *r;
	uint64_t pos;
};

/* A piece of a size known at compile time (headers, fixed values). */
static inline __attribute__((always_inline)) void put(const struct rec_out *o, size_t off,
						       const void *src, size_t len)
{
	if (LIB_LIKELY(o->lin != NULL))
		memcpy(o->lin + off, src, len);
	else
		ring_copy(o->s, o->r, o->pos, off, src, len);
}

/* A piece of a length known only at run time (body, key, strings). */
static inline __attribute__((always_inline)) void put_var(const struct rec_out *o, size_t off,
							   const void *src, size_t len)
{
	if (LIB_LIKELY(o->lin != NULL))
		copy_small(o->lin + off, src, len);
	else
		ring_copy(o->s, o->r, o->pos, off, src, len);
}

/* Lengths of attribute at's key and value (0 and *klen, *vlen), or
 * -EINVAL / -EMSGSIZE as lib_attrs_size(). */
static inline __attribute__((always_inline)) int attr_lens(const struct shmlog_attr *at,
							   size_t *klen, size_t *vlen)
{
	*vlen = 0;
	*klen = at->key ? strlen(at->key) : 0;
	if (LIB_UNLIKELY(*klen == 0 || *klen > 255))
		return -EINVAL;
	switch (at->type) {
	case SHMLOG_ATTR_INT:
	case SHMLOG_ATTR_DOUBLE:
		*vlen = 8;
		return 0;
	case SHMLOG_ATTR_STR:
		*vlen = at->v.s ? strlen(at->v.s) : 0;
		return *vlen > 65535 ? -EMSGSIZE : 0;
	case SHMLOG_ATTR_BOOL:
		*vlen = 1;
		return 0;
	default:
		return -EINVAL;
	}
}

/* Writes attribute at (lengths from attr_lens()) at byte off. */
static inline __attribute__((always_inline)) void put_attr(const struct rec_out *o, size_t off,
							   const struct shmlog_attr *at,
							   size_t klen, size_t vlen)
{
	uint16_t v16 = (uint16_t)vlen;
	unsigned char h[4], b;

	h[0] = (unsigned char)at->type;
	h[1] = (unsigned char)klen;
	memcpy(h + 2, &v16, 2); /* native order */
	put(o, off, h, 4);
	put_var(o, off + 4, at->key, klen);
	switch (at->type) {
	case SHMLOG_ATTR_STR:
		if (vlen)
			put_var(o, off + 4 + klen, at->v.s, vlen);
		break;
	case SHMLOG_ATTR_BOOL:
		b = at->v.b ? 1 : 0;
		put(o, off + 4 + klen, &b, 1);
		break;
	default:
		put(o, off + 4 + klen, &at->v, 8); /* int64 or double, native order */
		break;
	}
}

/* Encodes attribute at (lengths from attr_lens()) at d, as put_attr(). */
static inline __attribute__((always_inline)) void stage_attr(unsigned char *d,
							     const struct shmlog_attr *at,
							     size_t klen, size_t vlen)
{
	uint16_t v16 = (uint16_t)vlen;

	d[0] = (unsigned char)at->type;
	d[1] = (unsigned char)klen;
	memcpy(d + 2, &v16, 2); /* native order */
	copy_small(d + 4, at->key, klen);
	d += 4 + klen;
	switch (at->type) {
	case SHMLOG_ATTR_STR:
		if (vlen)
			copy_small(d, at->v.s, vlen);
		break;
	case SHMLOG_ATTR_BOOL:
		d[0] = at->v.b ? 1 : 0;
		break;
	default:
		memcpy(d, &at->v, 8); /* int64 or double, native order */
		break;
	}
}

/* The record path of lib_emit(), lib_emit_at() and the public calls,
 * inlined into each so that none pays a call for another. Attributes are
 * measured (and checked) in a first pass, then written straight into the
 * claimed slots. errno: nothing on the common path sets it, and the rare
 * paths (attach, sched_getcpu, the wake-up's futex) keep it themselves. */
static inline __attribute__((always_inline)) int
emit(int severity, const char *sevtext, size_t sevtext_len, const char *body, size_t body_len,
     const struct shmlog_attr *attrs, size_t nattrs, uint16_t flags, uint16_t part,
     const uint8_t *trace_id, const uint8_t *span_id, uint8_t trace_flags, uint64_t time_ns)
{
	uint16_t klens[ATTRS_FAST], vlens[ATTRS_FAST];
	unsigned char abuf[ATTRS_STAGE];
	int staged = 1;
	struct shm_rec_hdr rh;
	struct shm_log_hdr lh;
	struct rec_out o;
	struct lib_att *a;
	uint64_t now;
	size_t len, off, alen = 0;
	uint32_t n;
	int owner;

	owner = lib_begin(&a, &now);
	if (LIB_UNLIKELY(owner < 0))
		return owner;
	if (time_ns)
		now = time_ns;
	/* An older collector rejects flags it does not know (sh_features is
	 * immutable once the segment is READY: a plain read). */
	if (LIB_UNLIKELY(flags & (SHM_LOG_F_PYTB | SHM_LOG_F_JAVATB))) {
		if ((flags & SHM_LOG_F_PYTB) && !(a->seg.hdr->sh_features & SHM_FEAT_LOG_PYTB))
			flags &= (uint16_t)~SHM_LOG_F_PYTB;
		if ((flags & SHM_LOG_F_JAVATB) && !(a->seg.hdr->sh_features & SHM_FEAT_LOG_JAVATB))
			flags &= (uint16_t)~SHM_LOG_F_JAVATB;
	}
	if (nattrs) {
		if (LIB_UNLIKELY(nattrs > 255))
			return -EMSGSIZE;
		for (size_t i = 0; i < nattrs; i++) {
			size_t klen, vlen;
			int ret = attr_lens(&attrs[i], &klen, &vlen);

			if (LIB_UNLIKELY(ret))
				return ret;
			if (i < ATTRS_FAST) {
				klens[i] = (uint16_t)klen;
				vlens[i] = (uint16_t)vlen;
			}
			if (staged && alen + 4 + klen + vlen <= ATTRS_STAGE)
				stage_attr(abuf + alen, &attrs[i], klen, vlen);
			else
				staged = 0;
			alen += 4 + klen + vlen;
		}
		if (LIB_UNLIKELY(alen > SHMLOG_ATTRS_MAX))
			return -EMSGSIZE;
	}
	if (LIB_UNLIKELY(body_len > SHMLOG_BODY_MAX)) {
		body_len = SHMLOG_BODY_MAX;
		flags |= SHM_LOG_F_TRUNCATED;
	}
	if (LIB_UNLIKELY(sevtext_len > SHMLOG_SEVTEXT_MAX))
		sevtext_len = SHMLOG_SEVTEXT_MAX;
	if (trace_id || span_id)
		flags |= SHM_LOG_F_TRACE;
	len = sizeof(rh) + sizeof(lh) + ((flags & SHM_LOG_F_TRACE) ? sizeof(struct shm_log_trace) : 0) +
	      body_len + sevtext_len + alen;
	n = (uint32_t)((len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE);

	o.r = lib_claim(a, n, (uint32_t)owner, len, &o.pos);
	if (LIB_UNLIKELY(!o.r))
		return -ENOBUFS;
	o.s = &a->seg;
	o.lin = lib_rec_ptr(&a->seg, o.r, o.pos, n);

	rh.rec_type = SHM_REC_LOG;
	rh.rec_severity = (uint8_t)severity;
	rh.rec_flags = flags;
	rh.rec_len = (uint32_t)len;
	rh.rec_producer = (uint16_t)a->producer;
	rh.rec_pgen = (uint16_t)a->pgen;
	rh.rec_reserved = 0;
	rh.rec_time_ns = now;
	lh.lg_body_len = (uint16_t)body_len;
	lh.lg_sevtext_len = (uint8_t)sevtext_len;
	lh.lg_nattrs = (uint8_t)nattrs;
	lh.lg_attrs_len = (uint16_t)alen;
	lh.lg_part = part;
	put(&o, 0, &rh, sizeof(rh));
	put(&o, sizeof(rh), &lh, sizeof(lh));
	off = sizeof(rh) + sizeof(lh);
	if (LIB_UNLIKELY(flags & SHM_LOG_F_TRACE)) {
		struct shm_log_trace lt;

		memset(&lt, 0, sizeof(lt));
		if (trace_id)
			memcpy(lt.lt_trace_id, trace_id, 16);
		if (span_id)
			memcpy(lt.lt_span_id, span_id, 8);
		lt.lt_flags = trace_flags;
		put(&o, off, &lt, sizeof(lt));
		off += sizeof(lt);
	}
	put_var(&o, off, body, body_len);
	off += body_len;
	if (sevtext_len) {
		put_var(&o, off, sevtext, sevtext_len);
		off += sevtext_len;
	}
	if (LIB_LIKELY(staged)) {
		put_var(&o, off, abuf, alen);
		nattrs = 0; /* written */
	}
	for (size_t i = 0; i < nattrs; i++) {
		size_t klen, vlen;

		if (LIB_LIKELY(i < ATTRS_FAST)) {
			klen = klens[i];
			vlen = vlens[i];
		} else {
			(void)attr_lens(&attrs[i], &klen, &vlen); /* checked above */
		}
		put_attr(&o, off, &attrs[i], klen, vlen);
		off += 4 + klen + vlen;
	}
	ring_publish(&a->seg, o.r, o.pos, n, (uint32_t)owner);
	ring_maybe_wake(&a->seg, o.r, o.pos, n);
	return 0;
}

int lib_emit(int severity, const char *sevtext, size_t sevtext_len, const char *body,
	     size_t body_len, const struct shmlog_attr *attrs, size_t nattrs, uint16_t flags,
	     uint16_t part, const uint8_t *trace_id, const uint8_t *span_id, uint8_t trace_flags)
{
	return emit(severity, sevtext, sevtext_len, body, body_len, attrs, nattrs, flags, part,
		    trace_id, span_id, trace_flags, 0);
}

int lib_emit_at(int severity, const char *sevtext, size_t sevtext_len, const char *body,
		size_t body_len, const struct shmlog_attr *attrs, size_t nattrs, uint16_t flags,
		uint16_t part, const uint8_t *trace_id, const uint8_t *span_id,
		uint8_t trace_flags, uint64_t time_ns)
{
	return emit(severity, sevtext, sevtext_len, body, body_len, attrs, nattrs, flags, part,
		    trace_id, span_id, trace_flags, time_ns);
}

__attribute__((visibility("default"))) int shmlog_log_span(int severity,
							  const char *severity_text,
							  const char *body, size_t body_len,
							  const struct shmlog_attr *attrs,
							  size_t nattrs, const uint8_t trace_id[16],
							  const uint8_t span_id[8], uint8_t trace_flags)
{
	if (severity < 0 || severity > 24 || (!body && body_len) || (!attrs && nattrs))
		return -EINVAL;
	return emit(severity, severity_text, severity_text ? strlen(severity_text) : 0,
		    body ? body : "", body_len, attrs, nattrs, 0, 0, trace_id, span_id, trace_flags, 0);
}

__attribute__((visibility("default"))) int shmlog_log(int severity, const char *severity_text,
						     const char *body, size_t body_len,
						     const struct shmlog_attr *attrs,
						     size_t nattrs)
{
	if (LIB_UNLIKELY(severity < 0 || severity > 24 || (!body && body_len) ||
			 (!attrs && nattrs)))
		return -EINVAL;
	return emit(severity, severity_text, severity_text ? strlen(severity_text) : 0,
		    body ? body : "", body_len, attrs, nattrs, 0, 0, NULL, NULL, 0, 0);
}

__attribute__((visibility("default"))) int shmlog_logf(int severity, const char *fmt, ...)
{
	char buf[SHMLOG_BODY_MAX + 1];
	va_list ap;
	int n, saved = errno;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	errno = saved;
	if (n < 0)
		return -EINVAL;
	return shmlog_log(severity, NULL, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1,
			  NULL, 0);
}

__attribute__((visibility("default"))) int shmlog_flush(void)
{
	int saved = errno;

	lib_stdio_flush_all();
	errno = saved;
	return 0;
}

__attribute__((visibility("default"))) int shmlog_attached(void)
{
	struct lib_att *a;

	return lib_ready(&a) >= 0;
}
