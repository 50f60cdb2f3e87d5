/* SPDX-License-Identifier: MIT */
/*
 * io_uring event loop (see loop.h). Submission and completion use
 * liburing's helpers; io_uring_submit_and_wait_timeout() gives the
 * drain tick without a timer file descriptor.
 */
#include "loop.h"

#include <errno.h>
#include <string.h>

/* Not in Debian 12's liburing 2.3 headers: the opcode and the flag of
 * the futex2 interface (Linux 6.7), from the kernel's UAPI. */
#define LOOP_OP_FUTEX_WAIT 51
#define LOOP_FUTEX2_SIZE_U32 0x02
#define LOOP_FUTEX_MATCH_ANY 0xffffffffull

int loop_init(struct loop *l, unsigned entries)
{
	struct io_uring_probe *probe;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = io_uring_queue_init(entries, &l->ring, 0);
	if (ret)
		return ret;
	probe = io_uring_get_probe_ring(&l->ring);
	if (probe) {
		l->has_futex = probe->last_op >= LOOP_OP_FUTEX_WAIT &&
			       io_uring_opcode_supported(probe, LOOP_OP_FUTEX_WAIT);
		io_uring_free_probe(probe);
	}
	return 0;
}

int loop_futex_wait(struct loop *l, struct loop_op *op, uint32_t *word, uint32_t val)
{
	struct io_uring_sqe *sqe;

	if (!l->has_futex)
		return -EOPNOTSUPP;
	sqe = loop_sqe(l, op);
	if (!sqe)
		return -EBUSY;
	/* What liburing 2.5's io_uring_prep_futex_wait() fills in: fd holds
	 * the futex2 flags, addr the word, off the expected value, addr3 the
	 * wake mask; no FUTEX2_PRIVATE, the word is shared with producers. */
	io_uring_prep_rw(LOOP_OP_FUTEX_WAIT, sqe, LOOP_FUTEX2_SIZE_U32, word, 0, val);
	sqe->rw_flags = 0;
	sqe->addr3 = LOOP_FUTEX_MATCH_ANY;
	return 0;
}

void loop_fini(struct loop *l)
{
	if (l->ring.ring_fd > 0)
		io_uring_queue_exit(&l->ring);
	memset(l, 0, sizeof(*l));
}

struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		(void)io_uring_submit(&l->ring); /* make room; errors surface in CQEs */
		sqe = io_uring_get_sqe(&l->ring);
		if (!sqe)
			return NULL;
	}
	io_uring_sqe_set_data(sqe, op);
	l->inflight++;
	return sqe;
}

int loop_run_once(struct loop *l, uint64_t timeout_ns)
{
	struct __kernel_timespec ts = {
		.tv_sec = (long long)(timeout_ns / 1000000000ull),
		.tv_nsec = (long long)(timeout_ns % 1000000000ull),
	};
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int ret;

	ret = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY)
		return ret;
	io_uring_for_each_cqe(&l->ring, head, cqe) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);

		n++;
		l->inflight--;
		if (op && op->fn)
			op->fn(op->arg, cqe->res);
	}
	io_uring_cq_advance(&l->ring, n);
	return (int)n;
}
