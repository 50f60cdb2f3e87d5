/* SPDX-License-Identifier: MIT */
/*
 * libshmlog.so: encoding log records (shm_abi.h "records") straight into
 * a claimed run of ring slots, and the public shmlog_log*() calls. The
 * record path: one clock read, one CPU-number read (rseq area through
 * sched_getcpu), one compare-and-swap, the copies, one release store.
 * No system call, no lock, no allocation; errno preserved.
 */
#include "lib_int.h"
#include "shmlog.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

int lib_begin(struct lib_att **a, uint64_t *now)
{
	int owner;

	*now = lib_now_ns();
	owner = lib_ready(a);
	if (owner < 0)
		return owner == -ENOSPC ? -ENOBUFS : -ENOTCONN;
	if (*now >= shm_load_relaxed(&lib.next_check_ns))
		lib_periodic(*now);
	return owner;
}

struct shm_ring_hdr *lib_claim(struct lib_att *a, uint32_t n, uint32_t owner, size_t len,
			       uint64_t *pos)
{
	int cpu = sched_getcpu(); /* rseq area or vDSO: no system call */
	uint32_t ring = cpu >= 0 ? (uint32_t)cpu % a->seg.nrings : 0;
	struct shm_ring_hdr *r = seg_ring(&a->seg, ring);
	int ret = ring_claim(&a->seg, r, n, owner, pos);

	if (ret && a->seg.nrings > 1) {
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

/* The record path of lib_emit() and lib_emit_at(), inlined into both so
 * that neither pays a call for the other. */
static inline __attribute__((always_inline)) int
emit(int severity, const char *sevtext, size_t sevtext_len, const char *body, size_t body_len,
     const struct shmlog_attr *attrs, size_t nattrs, uint16_t flags, uint16_t part,
     const uint8_t *trace_id, const uint8_t *span_id, uint8_t trace_flags, uint64_t time_ns)
{
	unsigned char attrbuf[SHMLOG_ATTRS_MAX];
	struct shm_rec_hdr rh;
	struct shm_log_hdr lh;
	struct shm_ring_hdr *r;
	struct lib_att *a;
	uint64_t pos, now;
	size_t len, off, alen = 0;
	uint32_t n;
	long asz = 0;
	int owner, saved = errno;

	owner = lib_begin(&a, &now);
	if (owner < 0) {
		errno = saved;
		return owner;
	}
	if (time_ns)
		now = time_ns;
	/* An older collector rejects flags it does not know (sh_features is
	 * immutable once the segment is READY: a plain read). */
	if ((flags & SHM_LOG_F_PYTB) && !(a->seg.hdr->sh_features & SHM_FEAT_LOG_PYTB))
		flags &= (uint16_t)~SHM_LOG_F_PYTB;
	if ((flags & SHM_LOG_F_JAVATB) && !(a->seg.hdr->sh_features & SHM_FEAT_LOG_JAVATB))
		flags &= (uint16_t)~SHM_LOG_F_JAVATB;
	if (nattrs) {
		asz = lib_attrs_size(attrs, nattrs);
		if (asz < 0) {
			errno = saved;
			return (int)asz;
		}
		alen = lib_attrs_put(attrbuf, attrs, nattrs);
	}
	if (body_len > SHMLOG_BODY_MAX) {
		body_len = SHMLOG_BODY_MAX;
		flags |= SHM_LOG_F_TRUNCATED;
	}
	if (sevtext_len > SHMLOG_SEVTEXT_MAX)
		sevtext_len = SHMLOG_SEVTEXT_MAX;
	if (trace_id || span_id)
		flags |= SHM_LOG_F_TRACE;
	len = sizeof(rh) + sizeof(lh) + ((flags & SHM_LOG_F_TRACE) ? sizeof(struct shm_log_trace) : 0) +
	      body_len + sevtext_len + alen;
	n = (uint32_t)((len + SHM_ABI_SLOT_SIZE - 1) / SHM_ABI_SLOT_SIZE);

	r = lib_claim(a, n, (uint32_t)owner, len, &pos);
	if (!r) {
		errno = saved;
		return -ENOBUFS;
	}

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
	ring_copy(&a->seg, r, pos, 0, &rh, sizeof(rh));
	off = sizeof(rh);
	ring_copy(&a->seg, r, pos, off, &lh, sizeof(lh));
	off += sizeof(lh);
	if (flags & SHM_LOG_F_TRACE) {
		struct shm_log_trace lt;

		memset(&lt, 0, sizeof(lt));
		if (trace_id)
			memcpy(lt.lt_trace_id, trace_id, 16);
		if (span_id)
			memcpy(lt.lt_span_id, span_id, 8);
		lt.lt_flags = trace_flags;
		ring_copy(&a->seg, r, pos, off, &lt, sizeof(lt));
		off += sizeof(lt);
	}
	if (body_len) {
		ring_copy(&a->seg, r, pos, off, body, body_len);
		off += body_len;
	}
	if (sevtext_len) {
		ring_copy(&a->seg, r, pos, off, sevtext, sevtext_len);
		off += sevtext_len;
	}
	if (alen)
		ring_copy(&a->seg, r, pos, off, attrbuf, alen);
	ring_publish(&a->seg, r, pos, n, (uint32_t)owner);
	ring_maybe_wake(&a->seg, r, pos, n);
	errno = saved;
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
	return lib_emit(severity, severity_text, severity_text ? strlen(severity_text) : 0,
			body ? body : "", body_len, attrs, nattrs, 0, 0, trace_id, span_id,
			trace_flags);
}

__attribute__((visibility("default"))) int shmlog_log(int severity, const char *severity_text,
						     const char *body, size_t body_len,
						     const struct shmlog_attr *attrs,
						     size_t nattrs)
{
	return shmlog_log_span(severity, severity_text, body, body_len, attrs, nattrs, NULL,
			       NULL, 0);
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
