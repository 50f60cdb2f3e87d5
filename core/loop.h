/* SPDX-License-Identifier: MIT */
/*
 * The collector's event loop: one thread, one io_uring. Everything that
 * waits goes through it: signals (signalfd reads), spool writes, fsyncs
 * and renames, and the drain tick (the wait's timeout). Nothing outside
 * loop.c knows about SQEs beyond filling the one loop_sqe() hands out.
 * API in the spirit of redis' ae: create, submit, run-once, destroy.
 */
#ifndef CORE_LOOP_H
#define CORE_LOOP_H

#include <liburing.h>
#include <stdint.h>

/* Completion callback: res is the CQE result (>= 0, or -errno). */
typedef void (*loop_fn)(void *arg, int res);

struct loop_op {
	loop_fn fn;
	void *arg;
};

struct loop {
	struct io_uring ring;
	unsigned inflight;
	int has_futex; /* the kernel takes IORING_OP_FUTEX_WAIT (Linux 6.7+) */
};

/* 0 or -errno (io_uring_queue_init's). */
int loop_init(struct loop *l, unsigned entries);
void loop_fini(struct loop *l);

/*
 * An SQE whose completion calls op->fn(op->arg, res); op must stay valid
 * until then. op may be NULL (completion ignored). Submits and retries
 * once when the submission queue is full; NULL only if that fails too.
 */
struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op);

/*
 * Queues a wait on a 32-bit futex word in shared memory (not private)
 * while it holds val; op->fn gets 0 when woken, -EAGAIN when the word
 * no longer held val. -EOPNOTSUPP when the kernel lacks futex waits in
 * io_uring (the caller then polls), -EBUSY without a free SQE.
 */
int loop_futex_wait(struct loop *l, struct loop_op *op, uint32_t *word, uint32_t val);

/*
 * Submits what is queued, waits up to timeout_ns for a completion, then
 * dispatches every available completion. Returns the number dispatched,
 * or -errno (not -ETIME/-EINTR, which count as 0).
 */
int loop_run_once(struct loop *l, uint64_t timeout_ns);

#endif
