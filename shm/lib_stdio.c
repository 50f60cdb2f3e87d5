/* SPDX-License-Identifier: MIT */
/*
 * libshmlog.so, preloaded: what a program writes to fds 1 and 2 becomes
 * log records, one per line (line_split.c), log.iostream = stdout|stderr.
 *
 * Paths covered: write(2) and writev(2) on fds 1 and 2 (coreutils, Python,
 * Node, Go's libc-less binaries excepted), and the C stdio streams stdout
 * and stderr. glibc's stdio writes through an internal alias of write
 * that no preload can interpose, so at start-up stdout and stderr are
 * replaced by fopencookie() streams with the same buffering (line-buffered
 * on a terminal, else fully buffered with the descriptor's block size;
 * stderr unbuffered) whose write function captures and then writes to the
 * same descriptor; fileno() answers 1 and 2 for them.
 *
 * The stream of a write is the one its descriptor refers to, not its
 * number: dup, dup2, dup3, fcntl(F_DUPFD*) and close are followed, so
 * `echo x >&2` in bash (which dup2()s fd 2 onto fd 1 around the builtin)
 * is stderr, and a saved copy of fd 1 is still stdout. Whatever else is
 * put on fd 1 or 2 (a pipe in a forked subshell, a file) is that stream.
 *
 * Modes (SHMLOG_STDIO): tee (default) writes the original bytes, so the
 * output is byte-identical with and without the library; capture keeps
 * them from the descriptor (no system call at all); off does nothing.
 * Bytes are captured whether or not a collector is attached; without one
 * the records are simply not kept.
 *
 * Lines then go through multiline.c (SHMLOG_MULTILINE: python, the
 * default; java; python,java; off), per stream: a Python traceback or a
 * Java stack trace becomes one record, severity ERROR, flagged
 * SHM_LOG_F_PYTB or _JAVATB so that the collector derives exception.*
 * from it. A held group goes out at the first line that does not
 * continue it, at exit and _exit, and, once a Python one looks complete,
 * at the next write to the other stream and at fork (in the parent).
 */
#include "lib_int.h"
#include "line_split.h"
#include "multiline.h"
#include "shmlog.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shm_abi.h"
#include "shm_atomic.h"

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*fileno_fn)(FILE *);
typedef void (*exit_fn)(int);

static write_fn real_write;
static writev_fn real_writev;
static fileno_fn real_fileno;
static exit_fn real__exit;

struct stream {
	int fd;
	uint16_t flag;    /* SHM_LOG_F_STDOUT or SHM_LOG_F_STDERR */
	int lock;         /* atomic: 0 free, 1 held */
	int ml_done;      /* atomic relaxed: multiline_complete(&ml), for the
			   * other stream's writers and fork to read unlocked */
	int idle;         /* atomic relaxed, stored under lock: 1 when ls and ml
			   * hold nothing (stream_settle()), so that a write of one
			   * whole line may skip the lock (capture()) */
	struct line_split ls;
	struct multiline ml;
	char buf[SHMLOG_BODY_MAX];
	char mlbuf[SHMLOG_BODY_MAX];
	FILE *cookie;     /* our replacement stdio stream */
};

static struct stream streams[2] = {
	{ .fd = 1, .flag = SHM_LOG_F_STDOUT },
	{ .fd = 2, .flag = SHM_LOG_F_STDERR },
};
static int capturing; /* set once init succeeded */

/* Which original stream each descriptor refers to: 0 none, 1 stdout,
 * 2 stderr. Relaxed byte accesses: a race between two dup2()s on one
 * descriptor is the program's own. */
#define FDMAP_MAX 1024
static uint8_t fdmap[FDMAP_MAX] = { [1] = 1, [2] = 2 };
static void flush_lines(void);
static LIB_TLS __thread int in_capture; /* re-entrancy: signal handler or our own write */

static void resolve(void)
{
	if (!real_write)
		real_write = (write_fn)dlsym(RTLD_NEXT, "write");
	if (!real_writev)
		real_writev = (writev_fn)dlsym(RTLD_NEXT, "writev");
	if (!real_fileno)
		real_fileno = (fileno_fn)dlsym(RTLD_NEXT, "fileno");
	if (!real__exit)
		real__exit = (exit_fn)dlsym(RTLD_NEXT, "_exit");
}

long lib_real_write(int fd, const void *buf, size_t n)
{
	if (!real_write)
		return syscall(SYS_write, fd, buf, n);
	return real_write(fd, buf, n);
}

static void emit_line(void *ctx, const char *line, size_t len, int more, uint16_t part)
{
	struct stream *s = ctx;
	uint16_t flags = s->flag;
	const char *word = NULL;
	size_t wlen = 0;
	int sev = 0;

	if (more || part)
		flags |= SHM_LOG_F_PART | (more ? SHM_LOG_F_MORE : 0);
	if (part == 0)
		sev = line_severity(line, len, &word, &wlen);
	(void)lib_emit(sev, word, wlen, line, len, NULL, 0, flags, part, NULL, NULL, 0);
}

/* A record from the multiline stage: a plain line, or a traceback. A
 * traceback is ERROR: it reports an exception that was not handled
 * where it was raised (uncaught, or printed by a handler). */
static void emit_rec(void *ctx, const struct multiline_rec *r)
{
	struct stream *s = ctx;
	struct shmlog_attr cut[2];
	uint16_t flags = s->flag | (r->group == MULTILINE_JAVA ? SHM_LOG_F_JAVATB : SHM_LOG_F_PYTB);
	size_t ncut = 0;

	if (!r->group) {
		emit_line(s, r->body, r->len, r->more, r->part);
		return;
	}
	if (r->cut_bytes) {
		flags |= SHM_LOG_F_TRUNCATED;
		cut[0] = SHMLOG_INT("shmlog.multiline.cut_lines", (int64_t)r->cut_lines);
		cut[1] = SHMLOG_INT("shmlog.multiline.cut_bytes", (int64_t)r->cut_bytes);
		ncut = 2;
	}
	(void)lib_emit_at(SHMLOG_SEV_ERROR, "ERROR", 5, r->body, r->len, cut, ncut, flags, 0, NULL,
			  NULL, 0, r->time_ns);
}

/* line_split's output goes through the multiline stage. */
static void split_line(void *ctx, const char *line, size_t len, int more, uint16_t part)
{
	struct stream *s = ctx;

	if (multiline_passes(&s->ml, len))
		emit_line(s, line, len, more, part);
	else
		multiline_line(&s->ml, line, len, more, part, emit_rec, s);
}

/* After s's state changed (caller holds s->lock): whether it now holds
 * nothing at all, for capture()'s unlocked path. */
static void stream_settle(struct stream *s)
{
	shm_store_relaxed(&s->idle, s->ls.len == 0 && s->ls.part == 0 && !multiline_holding(&s->ml));
}

/* Emits what stream s holds: its partial line, then its group. Caller
 * holds s->lock. */
static void flush_stream(struct stream *s)
{
	line_split_flush(&s->ls, split_line, s);
	multiline_flush(&s->ml, emit_rec, s);
	shm_store_relaxed(&s->ml_done, 0);
	stream_settle(s);
}

/* A complete traceback held by stream s goes out now (a write to the
 * other stream, or a fork): only if s is free this instant, never
 * waiting, so that two streams never wait for each other. */
static void flush_complete(struct stream *s)
{
	int expect = 0;

	if (!shm_cas(&s->lock, &expect, 1))
		return;
	if (multiline_complete(&s->ml))
		multiline_flush(&s->ml, emit_rec, s);
	shm_store_relaxed(&s->ml_done, 0);
	stream_settle(s);
	shm_store_release(&s->lock, 0); /* pairs with the CAS above */
}

/* The length of the one line that p[0..n) is (without its newline and a
 * carriage return before it, as line_split does), or -1 when it is not
 * exactly one whole line that would pass the multiline stage untouched. */
static long one_line(const struct stream *s, const char *p, size_t n)
{
	size_t len;

	if (n == 0 || p[n - 1] != '\n' || n - 1 > s->ls.cap || memchr(p, '\n', n - 1))
		return -1;
	len = n - 1;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return multiline_passes_idle(&s->ml, len) ? (long)len : -1;
}

/* Feeds bytes written to stream s into its line splitter. */
static void capture(struct stream *s, const char *p, size_t n)
{
	int expect = 0, spins = 0;

	if (in_capture)
		return; /* nested (signal handler): the bytes still reach the fd */
	in_capture = 1;
	/* The other stream's finished traceback does not wait for its own
	 * stream's next write: one relaxed load when there is none. */
	if (shm_load_relaxed(&streams[s == &streams[0]].ml_done))
		flush_complete(&streams[s == &streams[0]]);
	/* One whole line while the stream holds nothing: out at once, without
	 * the lock, so that threads writing lines do not queue on it. A writer
	 * holding the lock meanwhile has not emitted its bytes yet: this line
	 * goes out as if written just before them, as it could have been. */
	if (shm_load_relaxed(&s->idle) && !lib.exiting) {
		long len = one_line(s, p, n);

		if (len >= 0) {
			emit_line(s, p, (size_t)len, 0, 0);
			in_capture = 0;
			return;
		}
	}
	while (!shm_cas(&s->lock, &expect, 1)) {
		expect = 0;
		if (++spins > 100000) {
			/* Held by a thread that is stopped or was interrupted:
			 * don't wait; record these bytes as they are. */
			emit_line(s, p, n && p[n - 1] == '\n' ? n - 1 : n, 0, 0);
			in_capture = 0;
			return;
		}
	}
	line_split_feed(&s->ls, p, n, split_line, s);
	if (lib.exiting)
		flush_stream(s);
	else if (multiline_holding(&s->ml) || shm_load_relaxed(&s->ml_done))
		shm_store_relaxed(&s->ml_done, multiline_complete(&s->ml));
	stream_settle(s);
	shm_store_release(&s->lock, 0); /* pairs with the CAS above */
	in_capture = 0;
}

static struct stream *stream_of(int fd)
{
	uint8_t m;

	if (!capturing || fd < 0 || fd >= FDMAP_MAX)
		return NULL;
	m = shm_load_relaxed(&fdmap[fd]);
	return m ? &streams[m - 1] : NULL;
}

/* dup2(from, to): to now refers to what from refers to. A descriptor that
 * is neither stream put on 1 or 2 (a pipe or file in a subshell, bash's
 * `cmd > file`) becomes that stream, as it would for a program exec'd
 * there. */
static void fd_copy(int from, int to)
{
	uint8_t m = from >= 0 && from < FDMAP_MAX ? shm_load_relaxed(&fdmap[from]) : 0;

	if (to < 0 || to >= FDMAP_MAX)
		return;
	if (!m && (to == 1 || to == 2))
		m = (uint8_t)to;
	shm_store_relaxed(&fdmap[to], m);
}

/* Writes all of buf to fd with the real write, as the original would
 * have, retrying short writes and EINTR. */
static ssize_t write_all(int fd, const char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = real_write(fd, buf + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

__attribute__((visibility("default"))) ssize_t write(int fd, const void *buf, size_t n)
{
	struct stream *s = stream_of(fd);

	if (!real_write)
		resolve();
	if (!s || in_capture)
		return real_write(fd, buf, n);
	if (lib.stdio_mode == LIB_STDIO_CAPTURE) {
		capture(s, buf, n);
		return (ssize_t)n;
	}
	/* tee: the descriptor decides how much was written; capture that. */
	ssize_t w = real_write(fd, buf, n);
	if (w > 0) {
		int saved = errno;
		capture(s, buf, (size_t)w);
		errno = saved;
	}
	return w;
}

__attribute__((visibility("default"))) ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct stream *s = stream_of(fd);
	ssize_t w, left;
	int saved;

	if (!real_writev)
		resolve();
	if (!s || in_capture)
		return real_writev(fd, iov, cnt);
	if (lib.stdio_mode == LIB_STDIO_CAPTURE) {
		w = 0;
		for (int i = 0; i < cnt; i++) {
			capture(s, iov[i].iov_base, iov[i].iov_len);
			w += (ssize_t)iov[i].iov_len;
		}
		return w;
	}
	w = real_writev(fd, iov, cnt);
	saved = errno;
	left = w;
	for (int i = 0; i < cnt && left > 0; i++) {
		size_t take = iov[i].iov_len < (size_t)left ? iov[i].iov_len : (size_t)left;
		capture(s, iov[i].iov_base, take);
		left -= (ssize_t)take;
	}
	errno = saved;
	return w;
}

static ssize_t cookie_write(void *c, const char *buf, size_t n)
{
	int fd = ((struct stream *)c)->fd;
	struct stream *s = stream_of(fd); /* where fd points now */

	if (s && lib.stdio_mode == LIB_STDIO_CAPTURE) {
		capture(s, buf, n);
		return (ssize_t)n;
	}
	ssize_t w = write_all(fd, buf, n);
	if (w > 0 && s) {
		int saved = errno;
		capture(s, buf, (size_t)w);
		errno = saved;
	}
	return w;
}

__attribute__((visibility("default"))) int fileno(FILE *f)
{
	if (!real_fileno)
		resolve();
	if (f && capturing) {
		if (f == streams[0].cookie)
			return 1;
		if (f == streams[1].cookie)
			return 2;
	}
	return real_fileno(f);
}

typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*close_fn)(int);
typedef int (*fcntl_fn)(int, int, ...);

__attribute__((visibility("default"))) int dup(int fd)
{
	static dup_fn real;
	int ret;

	if (!real)
		real = (dup_fn)dlsym(RTLD_NEXT, "dup");
	ret = real(fd);
	if (ret >= 0)
		fd_copy(fd, ret);
	return ret;
}

__attribute__((visibility("default"))) int dup2(int fd, int to)
{
	static dup2_fn real;
	int ret;

	if (!real)
		real = (dup2_fn)dlsym(RTLD_NEXT, "dup2");
	ret = real(fd, to);
	if (ret >= 0)
		fd_copy(fd, ret);
	return ret;
}

__attribute__((visibility("default"))) int dup3(int fd, int to, int flags)
{
	static dup3_fn real;
	int ret;

	if (!real)
		real = (dup3_fn)dlsym(RTLD_NEXT, "dup3");
	ret = real(fd, to, flags);
	if (ret >= 0)
		fd_copy(fd, ret);
	return ret;
}

__attribute__((visibility("default"))) int close(int fd)
{
	static close_fn real;
	int ret;

	if (!real)
		real = (close_fn)dlsym(RTLD_NEXT, "close");
	ret = real(fd);
	/* 1 and 2 keep their stream: whatever is opened there next is the
	 * program's new stdout or stderr. */
	if (fd > 2 && fd < FDMAP_MAX && (ret == 0 || errno == EBADF))
		shm_store_relaxed(&fdmap[fd], 0);
	return ret;
}

/* fcntl's third argument is an int or a pointer; passing it on as a
 * pointer-sized value is what the kernel ABI expects for every command. */
static int fcntl_common(const char *name, fcntl_fn *real, int fd, int cmd, void *arg)
{
	int ret;

	if (!*real)
		*real = (fcntl_fn)dlsym(RTLD_NEXT, name);
	ret = (*real)(fd, cmd, arg);
	if (ret >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fd_copy(fd, ret);
	return ret;
}

__attribute__((visibility("default"))) int fcntl(int fd, int cmd, ...)
{
	static fcntl_fn real;
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common("fcntl", &real, fd, cmd, arg);
}

__attribute__((visibility("default"))) int fcntl64(int fd, int cmd, ...)
{
	static fcntl_fn real;
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common("fcntl64", &real, fd, cmd, arg);
}

/* _exit and _Exit skip destructors: keep the partial lines anyway. */
__attribute__((visibility("default"), noreturn)) void _exit(int status)
{
	if (!real__exit)
		resolve();
	flush_lines(); /* no stdio here: _exit must stay async-signal-safe */
	real__exit(status);
	__builtin_unreachable();
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status)
{
	_exit(status);
}

/* Replaces stdio stream *fp by a cookie stream on s, keeping the original
 * buffering so that output is flushed at the same points. */
static void replace_stream(FILE **fp, struct stream *s)
{
	cookie_io_functions_t io = { .write = cookie_write };
	struct stat st;
	FILE *f;
	size_t bufsz = BUFSIZ;
	int mode;

	if (s->fd == 2) {
		mode = _IONBF;
	} else if (isatty(s->fd)) {
		mode = _IOLBF;
	} else {
		mode = _IOFBF;
		if (fstat(s->fd, &st) == 0 && st.st_blksize > 0)
			bufsz = (size_t)st.st_blksize;
	}
	f = fopencookie(s, "w", io);
	if (!f)
		return;
	if (setvbuf(f, NULL, mode, mode == _IONBF ? 0 : bufsz) != 0) {
		fclose(f);
		return;
	}
	fflush(*fp); /* anything already buffered in the original goes first */
	s->cookie = f;
	*fp = f;
}

/* Before fork, in the parent: a complete traceback goes out now (the
 * child forgets what its parent held). */
static void atfork_prepare(void)
{
	if (!capturing || in_capture)
		return;
	for (int i = 0; i < 2; i++)
		if (shm_load_relaxed(&streams[i].ml_done))
			flush_complete(&streams[i]);
}

void lib_stdio_init(void)
{
	const char *ml = getenv("SHMLOG_MULTILINE");
	int mode;

	resolve();
	if (lib.stdio_mode == LIB_STDIO_OFF || !real_write || !real_writev || !real_fileno)
		return;
	mode = multiline_parse_mode(ml);
	if (mode < 0) {
		lib_debug("SHMLOG_MULTILINE=%s unknown: using python", ml);
		mode = MULTILINE_PYTHON;
	}
	for (int i = 0; i < 2; i++) {
		line_split_init(&streams[i].ls, streams[i].buf, sizeof(streams[i].buf));
		multiline_init(&streams[i].ml, mode, streams[i].mlbuf, sizeof(streams[i].mlbuf),
			       lib_now_ns);
		streams[i].idle = 1;
	}
	(void)pthread_atfork(atfork_prepare, NULL, NULL); /* ENOMEM: groups wait for exit */
	capturing = 1;
	replace_stream(&stdout, &streams[0]);
	replace_stream(&stderr, &streams[1]);
}

static void flush_lines(void)
{
	if (!capturing)
		return;
	for (int i = 0; i < 2; i++) {
		struct stream *s = &streams[i];
		int expect = 0;

		if (in_capture || !shm_cas(&s->lock, &expect, 1))
			continue;
		flush_stream(s);
		shm_store_release(&s->lock, 0);
	}
}

void lib_stdio_flush_all(void)
{
	if (!capturing)
		return;
	if (streams[0].cookie)
		fflush(streams[0].cookie);
	if (streams[1].cookie)
		fflush(streams[1].cookie);
	flush_lines();
}

void lib_stdio_atfork_child(void)
{
	/* Held partial lines were written by the parent: they are its. */
	for (int i = 0; i < 2; i++) {
		streams[i].lock = 0;
		streams[i].ml_done = 0;
		line_split_reset(&streams[i].ls);
		multiline_reset(&streams[i].ml);
		streams[i].idle = 1;
	}
	in_capture = 0;
}
