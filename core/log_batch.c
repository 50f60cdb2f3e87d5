/* SPDX-License-Identifier: MIT */
/*
 * Log batching and OTLP encoding (see log_batch.h). Field numbers, from
 * proto/opentelemetry/proto/logs/v1/logs.proto and the collector service:
 *   ExportLogsServiceRequest { resource_logs = 1 }
 *   ResourceLogs { resource = 1, scope_logs = 2 }
 *   Resource { attributes = 1 }
 *   ScopeLogs { scope = 1, log_records = 2 }
 *   InstrumentationScope { name = 1, version = 2 }
 *   LogRecord { time_unix_nano = 1 (fixed64), severity_number = 2,
 *     severity_text = 3, body = 5 (AnyValue), attributes = 6,
 *     flags = 8 (fixed32), trace_id = 9, span_id = 10,
 *     observed_time_unix_nano = 11 (fixed64) }
 * Every string from a producer goes through utf8_put() or utf8_append().
 */
#include "log_batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attrs.h"
#include "exc_parse.h"
#include "utf8.h"

void log_batch_init(struct log_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void log_batch_fini(struct log_batch *b)
{
	struct pbuf tmp;
	uint32_t n;

	/* Discard: encode into a scratch buffer to reuse the emptying path. */
	pbuf_init(&tmp);
	(void)log_batch_encode(b, &tmp, &n);
	pbuf_fini(&tmp);
}

static const char *const iostream[] = { "stdout", "stderr" };

/*
 * Room one LogRecord may take (log_batch_add() makes it once and then
 * writes unchecked): its two timestamps, severity, the strings (text
 * bytes may triple as U+FFFD), the four flag attributes with their keys
 * and values (log.iostream, shmlog.line.part/last, shmlog.truncated,
 * under 40 bytes of key and value each), the trace context and the
 * producer's attributes. The exception attributes are written apart.
 */
#define LB_REC_MAX(text, attrs_len, nattrs)                                              \
	(2 * (1 + 8) + 2 * PB_VARINT_MAX + 4 * PB_VARINT_MAX + 3 * (size_t)(text) +        \
	 4 * (PB_KV_MAX_OVERHEAD + 40) + (1 + 4) + 2 * (2 + 16) +                          \
	 ATTRS_ENCODED_MAX(attrs_len, nattrs))

/* An attribute whose value is producer bytes (made valid UTF-8). */
static void kv_str_sanitized(struct pbuf *b, const char *key, size_t klen,
			     const unsigned char *v, size_t vlen)
{
	size_t vs = utf8_sanitized_len(v, vlen);
	size_t any = 1 + pb_varint_size(vs) + vs;
	size_t kv = 1 + pb_varint_size(klen) + klen + 1 + pb_varint_size(any) + any;

	pb_tag(b, 6, PB_LEN);
	pb_varint(b, kv);
	pb_bytes(b, 1, key, klen);
	pb_tag(b, 2, PB_LEN);
	pb_varint(b, any);
	pb_tag(b, 1, PB_LEN);
	pb_varint(b, vs);
	utf8_append(b, v, vlen);
}

/* The semconv exception attributes of a traceback record (SHM_LOG_F_PYTB
 * or _JAVATB): type and message from its exception line, the stack trace
 * = the body. */
static void exception_attrs(struct pbuf *b, const unsigned char *body, size_t len, int java)
{
	struct exc_info e;
	int ret = java ? exc_parse_java(body, len, &e) : exc_parse_python(body, len, &e);

	if (ret == 0) {
		if (e.type_len)
			kv_str_sanitized(b, "exception.type", 14, body + e.type_off, e.type_len);
		if (e.msg_len)
			kv_str_sanitized(b, "exception.message", 17, body + e.msg_off, e.msg_len);
	}
	kv_str_sanitized(b, "exception.stacktrace", 20, body, len);
}

/* Room for one more index entry in r. 0 or -ENOMEM. */
static int grow_ix(struct resource *r)
{
	if (r->nix == r->capix) {
		uint32_t cap = r->capix ? r->capix * 2 : 256;
		struct rec_ix *ix = realloc(r->ix, cap * sizeof(*ix));
		if (!ix)
			return -ENOMEM;
		r->ix = ix;
		r->capix = cap;
	}
	return 0;
}

/* Indexes the record appended to r->recs from offset start, or takes it
 * back if an allocation failed meanwhile. */
static int commit(struct log_batch *b, struct resource *r, size_t start, uint64_t time_ns,
		  uint64_t mono_ns)
{
	if (r->recs.oom) {
		r->recs.len = start;
		r->recs.oom = 0;
		return -ENOMEM;
	}
	/* Records mostly arrive in time order: the sort at encoding is
	 * skipped unless one did not. */
	if (r->nix && time_ns < r->ix[r->nix - 1].time_ns)
		r->unsorted = 1;
	r->ix[r->nix].time_ns = time_ns;
	r->ix[r->nix].off = (uint32_t)start;
	r->ix[r->nix].len = (uint32_t)(r->recs.len - start);
	r->nix++;
	if (!r->pending) {
		r->pending = 1;
		r->next_pending = b->pending;
		b->pending = r;
	}
	if (b->records == 0)
		b->first_ns = mono_ns;
	b->records++;
	b->bytes += r->recs.len - start;
	return 0;
}

int log_batch_add(struct log_batch *b, struct resource *r, const unsigned char *rec,
		  uint32_t rec_len, uint64_t observed_ns, uint64_t mono_ns)
{
	const struct shm_rec_hdr *rh = (const void *)rec;
	struct shm_log_hdr lh;
	const unsigned char *body, *sevtext, *attrs, *trace = NULL;
	size_t off = sizeof(*rh) + sizeof(lh), before;
	unsigned char *d;
	uint16_t flags = rh->rec_flags;

	if (rec_len < off || rh->rec_severity > 24 || (flags & ~SHM_LOG_F_ALL) ||
	    (flags & (SHM_LOG_F_STDOUT | SHM_LOG_F_STDERR)) ==
		    (SHM_LOG_F_STDOUT | SHM_LOG_F_STDERR) ||
	    (flags & (SHM_LOG_F_PYTB | SHM_LOG_F_JAVATB)) == (SHM_LOG_F_PYTB | SHM_LOG_F_JAVATB))
		return -EBADMSG;
	memcpy(&lh, rec + sizeof(*rh), sizeof(lh));
	if (flags & SHM_LOG_F_TRACE) {
		trace = rec + off;
		off += sizeof(struct shm_log_trace);
	}
	if (lh.lg_body_len > 16384 || lh.lg_sevtext_len > 32 ||
	    off + lh.lg_body_len + lh.lg_sevtext_len + lh.lg_attrs_len != rec_len)
		return -EBADMSG;
	body = rec + off;
	sevtext = body + lh.lg_body_len;
	attrs = sevtext + lh.lg_sevtext_len;
	if (attrs_check(attrs, lh.lg_attrs_len, lh.lg_nattrs))
		return -EBADMSG;

	if (grow_ix(r))
		return -ENOMEM;
	/* Room for the whole LogRecord once, then unchecked writes. */
	if (pbuf_room(&r->recs, LB_REC_MAX(lh.lg_body_len + lh.lg_sevtext_len, lh.lg_attrs_len,
					   lh.lg_nattrs))) {
		r->recs.oom = 0; /* nothing written: the next record may fit */
		return -ENOMEM;
	}
	before = r->recs.len;
	d = r->recs.p + before;
	d = pb_raw_fixed64(d, 1, rh->rec_time_ns);
	d = pb_raw_fixed64(d, 11, observed_ns);
	if (rh->rec_severity)
		d = pb_raw_uint(d, 2, rh->rec_severity);
	if (lh.lg_sevtext_len) {
		d = pb_raw_len(d, 3, utf8_sanitized_len(sevtext, lh.lg_sevtext_len));
		d = utf8_put(d, sevtext, lh.lg_sevtext_len);
	}
	{
		/* Valid UTF-8 (nearly every body) is one scan and one copy;
		 * anything else is sized and cleaned by the slower pair. */
		int valid = utf8_valid_prefix(body, lh.lg_body_len) == lh.lg_body_len;
		size_t s = valid ? lh.lg_body_len : utf8_sanitized_len(body, lh.lg_body_len);

		d = pb_raw_len(d, 5, 1 + pb_varint_size(s) + s);
		d = pb_raw_len(d, 1, s);
		if (valid) {
			memcpy(d, body, s);
			d += s;
		} else {
			d = utf8_put(d, body, lh.lg_body_len);
		}
	}
	if (flags & (SHM_LOG_F_STDOUT | SHM_LOG_F_STDERR)) {
		const char *v = iostream[(flags & SHM_LOG_F_STDERR) ? 1 : 0];
		d = pb_raw_kv_str(d, 6, "log.iostream", 12, v, 6);
	}
	if (flags & SHM_LOG_F_PART) {
		d = pb_raw_kv_int(d, 6, "shmlog.line.part", 16, lh.lg_part);
		if (!(flags & SHM_LOG_F_MORE))
			d = pb_raw_kv_bool(d, 6, "shmlog.line.last", 16, 1);
	}
	if (flags & SHM_LOG_F_TRUNCATED)
		d = pb_raw_kv_bool(d, 6, "shmlog.truncated", 16, 1);
	if (flags & (SHM_LOG_F_PYTB | SHM_LOG_F_JAVATB)) {
		/* Rare and bulkier (the body again): the checked writers,
		 * then room for the rest once more. */
		r->recs.len = (size_t)(d - r->recs.p);
		exception_attrs(&r->recs, body, lh.lg_body_len, !!(flags & SHM_LOG_F_JAVATB));
		if (pbuf_room(&r->recs, LB_REC_MAX(0, lh.lg_attrs_len, lh.lg_nattrs)))
			return commit(b, r, before, rh->rec_time_ns, mono_ns); /* takes it back */
		d = r->recs.p + r->recs.len;
	}
	d = attrs_encode_raw(d, 6, attrs, lh.lg_nattrs);
	if (trace) {
		const struct shm_log_trace *lt = (const void *)trace;
		static const uint8_t zero[16];

		if (lt->lt_flags)
			d = pb_raw_fixed32(d, 8, lt->lt_flags);
		if (memcmp(lt->lt_trace_id, zero, 16) != 0)
			d = pb_raw_bytes(d, 9, lt->lt_trace_id, 16);
		if (memcmp(lt->lt_span_id, zero, 8) != 0)
			d = pb_raw_bytes(d, 10, lt->lt_span_id, 8);
	}
	r->recs.len = (size_t)(d - r->recs.p);
	return commit(b, r, before, rh->rec_time_ns, mono_ns);
}

int log_batch_append(struct log_batch *b, struct resource *r, const unsigned char *rec,
		     size_t len, uint64_t time_ns, uint64_t mono_ns)
{
	size_t before = r->recs.len;

	if (grow_ix(r))
		return -ENOMEM;
	pbuf_put(&r->recs, rec, len);
	return commit(b, r, before, time_ns, mono_ns);
}

/* Time order, then arrival order (offsets grow with arrival). */
static int ix_cmp(const void *a, const void *b)
{
	const struct rec_ix *x = a, *y = b;

	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Sorts ix[0..n) into ix_cmp order. The records arrive as a few runs in
 * time order (one per ring drained, each in its writers' order), so a
 * stable merge of neighbouring runs, pass after pass, is a few linear
 * passes; stable keeps equal times in arrival order, as ix_cmp's
 * tie-break on the offset does. qsort() when out of memory.
 */
static void sort_ix(struct rec_ix *ix, uint32_t n)
{
	struct rec_ix *tmp = malloc((size_t)n * sizeof(*tmp)), *a = ix, *o = tmp, *t;
	uint32_t runs;

	if (!tmp) {
		qsort(ix, n, sizeof(*ix), ix_cmp);
		return;
	}
	do {
		uint32_t i = 0;

		runs = 0;
		while (i < n) {
			uint32_t m = i + 1, e, x, y, k = i;

			while (m < n && a[m - 1].time_ns <= a[m].time_ns)
				m++;
			e = m < n ? m + 1 : m;
			while (e < n && a[e - 1].time_ns <= a[e].time_ns)
				e++;
			for (x = i, y = m; x < m && y < e;)
				o[k++] = a[y].time_ns < a[x].time_ns ? a[y++] : a[x++];
			while (x < m)
				o[k++] = a[x++];
			while (y < e)
				o[k++] = a[y++];
			runs++;
			i = e;
		}
		t = a;
		a = o;
		o = t;
	} while (runs > 1);
	if (a != ix)
		memcpy(ix, a, (size_t)n * sizeof(*ix));
	free(tmp);
}

int log_batch_encode(struct log_batch *b, struct pbuf *out, uint32_t *nrecords)
{
	struct resource *r, *next;
	uint32_t n = 0;

	for (r = b->pending; r; r = next) {
		size_t rl, sl, sc;

		next = r->next_pending;
		if (r->unsorted) /* else already in ix_cmp order: arrival = offset order */
			sort_ix(r->ix, r->nix);
		r->unsorted = 0;
		/* Room for all of this resource's part at once (its fixed
		 * fields under 64 bytes, a tag and a length per record): no
		 * growth, and no check per record below. */
		(void)pbuf_room(out, 64 + r->enc.len + sizeof(SHMLOG_VERSION) + r->recs.len +
					     (size_t)r->nix * (1 + 5));
		rl = pb_open(out, 1); /* ResourceLogs */
		pb_bytes(out, 1, r->enc.p, r->enc.len);
		sl = pb_open(out, 2); /* ScopeLogs */
		sc = pb_open(out, 1); /* InstrumentationScope */
		pb_str(out, 1, "shmlog");
		pb_str(out, 2, SHMLOG_VERSION);
		pb_close(out, sc);
		if (!out->oom) {
			unsigned char *d = out->p + out->len;

			for (uint32_t i = 0; i < r->nix; i++)
				d = pb_raw_bytes(d, 2, r->recs.p + r->ix[i].off, r->ix[i].len);
			out->len = (size_t)(d - out->p);
		}
		pb_close(out, sl);
		pb_close(out, rl);
		n += r->nix;
		r->nix = 0;
		pbuf_reset(&r->recs);
		r->pending = 0;
		r->next_pending = NULL;
		resource_release(r);
	}
	b->pending = NULL;
	b->records = 0;
	b->bytes = 0;
	*nrecords = n;
	return out->oom ? -ENOMEM : 0;
}
