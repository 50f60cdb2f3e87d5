/* SPDX-License-Identifier: MIT */
/*
 * io_uring event loop (see loop.h). Submission and completion use
 * liburing's helpers; io_uring_submit_and_wait_timeout() gives the
 * drain tick without a timer file descriptor.
 */
#include "loop.h"

#include <errno.h>
#include <string.h>

int loop_init(struct loop *l, unsigned entries)
{
	memset(l, 0, sizeof(*l));
	return io_uring_queue_init(entries, &l->ring, 0);
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
