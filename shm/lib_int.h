/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations of libshmlog.so shared by its files:
 *   lib_hot.h     the inlined start of every record (time, CPU, claim)
 *   lib_attach.c  attaching, producer and thread registration, fork, exit
 *   lib_log.c     record encoding and the public shmlog_log*() calls
 *   lib_stdio.c   capture of fds 1 and 2 (write, writev, stdio streams)
 *   line_split.c  turning byte chunks into line records (pure logic)
 *   multiline.c   grouping lines into traceback records (pure logic)
 *   lib_full.c    what a full ring does to a record (SHMLOG_ON_FULL)
 * Nothing here is exported (the version script exports shmlog_* only).
 */
#ifndef SHM_LIB_INT_H
#define SHM_LIB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "seg.h"

#define LIB_TLS __attribute__((tls_model("initial-exec")))
#define LIB_HIDDEN __attribute__((visibility("hidden")))

enum lib_status {
	LIB_UNTRIED = 0,  /* nothing tried yet */
	LIB_WAITING = 1,  /* no (usable) segment: retry at lib.next_try_ns */
	LIB_ATTACHED = 2, /* mapped and registered */
	LIB_DISABLED = 3  /* OTEL_SDK_DISABLED, bad namespace, or setup error */
};

enum lib_stdio_mode {
	LIB_STDIO_TEE = 0,
	LIB_STDIO_CAPTURE = 1,
	LIB_STDIO_OFF = 2
};

/* One attachment to a segment. Immutable once published through
 * lib.cur (but for producer/pgen/epoch, rewritten only in a fork child,
 * which has a single thread), and never freed: a thread may still be
 * using an old one when a replaced segment is re-attached. */
#define LIB_NO_PRODUCER UINT32_MAX

struct lib_att {
	struct seg seg;
	uint32_t producer; /* producer table index, LIB_NO_PRODUCER in a fork
			    * child until its first record */
	uint32_t pgen;     /* its pe_gen */
	uint32_t epoch;    /* unique per attachment and fork: stale TLS check */
	uint64_t ino;      /* inode of the segment: detect replacement */
	struct lib_att *older; /* a lib.noprod this one superseded */
};

struct lib_state {
	int status;          /* enum lib_status; atomic relaxed/acquire */
	int attach_busy;     /* atomic flag: one thread attaches at a time */
	uint32_t epochs;     /* epochs handed out */
	struct lib_att *cur; /* release store / acquire load */
	uint64_t next_try_ns;
	uint64_t next_check_ns;
	int stdio_mode;      /* enum lib_stdio_mode */
	int debug;
	int exiting;         /* destructor ran: stdio lines are no longer buffered */
	char ns[65];
	uint64_t errors;     /* setup errors (kept for SHMLOG_DEBUG) */
	/* The last segment we mapped but could not register in (producer
	 * table full): while not attached, each refused record is counted
	 * in its sh_drop_noprod. Release store / acquire load; never
	 * unmapped (a thread may be counting through it): the one it
	 * replaces, or the last one when we attach (then NULL), stays
	 * reachable through ->older. */
	struct lib_att *noprod;
};

extern struct lib_state lib LIB_HIDDEN;

/* The calling thread's registration (lib_attach.c writes it; the record
 * path reads it through lib_ready_fast()). */
struct lib_thread {
	int32_t owner;       /* thread table index, -1 none */
	uint32_t epoch;      /* att->epoch when registered */
	struct lib_att *att; /* the attachment owner belongs to */
	int busy;            /* registering: a nested call (signal) must not */
	int32_t mseries;     /* the last series a record was validated for
			      * (lib_metric.c), -1 none; reset with owner */
	uint32_t mkind;      /* that series' instrument kind */
};

extern LIB_TLS __thread struct lib_thread lib_tls LIB_HIDDEN;

/* Nanoseconds of CLOCK_REALTIME (vDSO, no system call). */
uint64_t lib_now_ns(void) LIB_HIDDEN;

/*
 * Makes sure the process is attached and the calling thread has a thread
 * entry. Returns the owner index (>= 0) and *att, or -ENOTCONN (inert),
 * or -ENOSPC (thread table full; counted). errno kept. Cheap when already
 * done (lib_ready_fast() in lib_hot.h inlines that check).
 */
int lib_ready(struct lib_att **att) LIB_HIDDEN;

/* At most once a second from the record path: notices a replaced
 * segment. errno kept. */
void lib_periodic(uint64_t now) LIB_HIDDEN;

/* Prints a diagnostic on fd 2 when SHMLOG_DEBUG=1 (raw syscall, never
 * through the interposed write). */
void lib_debug(const char *fmt, ...) LIB_HIDDEN __attribute__((format(printf, 1, 2)));

/* The real libc write, resolved with dlsym(RTLD_NEXT); never NULL after
 * lib_stdio_init(). */
long lib_real_write(int fd, const void *buf, size_t n) LIB_HIDDEN;

/*
 * Encodes and publishes one log record (lib_log.c). flags: SHM_LOG_F_*;
 * part: index of a split line's part. Returns 0 or -errno as shmlog_log().
 */
struct shmlog_attr;
int lib_emit(int severity, const char *sevtext, size_t sevtext_len, const char *body,
	     size_t body_len, const struct shmlog_attr *attrs, size_t nattrs, uint16_t flags,
	     uint16_t part, const uint8_t *trace_id, const uint8_t *span_id,
	     uint8_t trace_flags) LIB_HIDDEN;

/* lib_emit() with the record's time given: time_ns (CLOCK_REALTIME), or
 * 0 for now. A SHM_LOG_F_PYTB / _JAVATB flag is dropped when the segment
 * lacks SHM_FEAT_LOG_PYTB / _JAVATB. */
int lib_emit_at(int severity, const char *sevtext, size_t sevtext_len, const char *body,
		size_t body_len, const struct shmlog_attr *attrs, size_t nattrs, uint16_t flags,
		uint16_t part, const uint8_t *trace_id, const uint8_t *span_id,
		uint8_t trace_flags, uint64_t time_ns) LIB_HIDDEN;

/* sched_getcpu() for a thread without an rseq area (errno kept), as a
 * ring-index source: 0 when even that fails. */
uint32_t lib_cpu_slow(void) LIB_HIDDEN;
/* A record that lib_ready() refused (owner < 0): -ENOBUFS when the
 * producer table was full (the record is counted in sh_drop_noprod) or
 * there is no thread entry, else -ENOTCONN (inert). */
int lib_refused(int owner) LIB_HIDDEN;

/*
 * The full-ring path of lib_claim() (lib_hot.h): ring (this CPU's) refused
 * n slots; tries the next ring, else counts the drop (ring and producer
 * counters; len bytes). Returns the ring (*pos set), or NULL after
 * counting. Kept out of line: a wait-for-space policy belongs here.
 */
struct shm_ring_hdr *lib_claim_full(struct lib_att *a, uint32_t ring, uint32_t n,
				    uint32_t owner, size_t len, uint64_t *pos) LIB_HIDDEN;

/*
 * The full-ring slow path (lib_full.c, SHMLOG_ON_FULL). lib_full_init()
 * reads the setting once (constructor). lib_full_wait() is called by
 * lib_claim() when both rings it tried were full: with wait:<ms> it waits
 * up to ms for room on ring or the next one and returns the ring claimed
 * (*pos set), counting the wait in the producer entry; NULL when it
 * timed out or the setting is drop (the caller then drops and counts).
 * lib_full_parse() and lib_full_retry() are its logic, for the unit test:
 * parse returns 0 and *wait_ns (0: drop) or -EINVAL; retry calls
 * try_claim until it returns 0 or wait_ns passed on clock_ns, spinning
 * first and then calling nap with growing naps; returns 0 or try_claim's
 * last error, and *waited_ns.
 */
void lib_full_init(const char *spec) LIB_HIDDEN;
struct shm_ring_hdr *lib_full_wait(struct lib_att *a, uint32_t ring, uint32_t n, uint32_t owner,
				   uint64_t *pos) LIB_HIDDEN;
int lib_full_parse(const char *spec, uint64_t *wait_ns) LIB_HIDDEN;
int lib_full_retry(uint64_t wait_ns, int (*try_claim)(void *ctx), void *ctx,
		   uint64_t (*clock_ns)(void), void (*nap)(uint64_t ns),
		   uint64_t *waited_ns) LIB_HIDDEN;

/* Encoded size of attributes (shm_abi.h "records"), or -EMSGSIZE /
 * -EINVAL; and the encoding itself (lib_log.c). */
long lib_attrs_size(const struct shmlog_attr *attrs, size_t nattrs) LIB_HIDDEN;
size_t lib_attrs_put(unsigned char *out, const struct shmlog_attr *attrs, size_t nattrs) LIB_HIDDEN;

/* stdio capture (lib_stdio.c) */
void lib_stdio_init(void) LIB_HIDDEN;
void lib_stdio_flush_all(void) LIB_HIDDEN;
void lib_stdio_atfork_child(void) LIB_HIDDEN;

#endif
