/* SPDX-License-Identifier: MIT */
/*
 * libshmlog.so: attaching to the collector's segment and registering the
 * process (producer table) and each writing thread (thread table).
 * Lazy and thread-safe: the constructor tries once; later calls retry at
 * most once a second (one clock read per record otherwise). fork()
 * children register as new producers; a thread frees its entry at exit.
 * Never prints (except with SHMLOG_DEBUG=1), never exits, keeps errno.
 * Read lib_log.c next.
 */
#include "lib_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "proc_stat.h"
#include "shm_atomic.h"

struct lib_state lib LIB_HIDDEN;

LIB_TLS __thread struct lib_thread lib_tls = { .owner = -1, .mseries = -1 };
static pthread_key_t thread_key;
static int thread_key_ok;

#define RETRY_NS 1000000000ull
#define CHECK_NS 500000000ull  /* replaced-segment check, when the heartbeat is stale */
#define STALE_NS 1000000000ull  /* the collector beats at least every 50 ms */

uint64_t lib_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void lib_debug(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, saved = errno;

	if (!lib.debug)
		return;
	n = snprintf(buf, sizeof(buf), "shmlog[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)syscall(SYS_write, 2, buf, (size_t)n); /* diagnostics only */
	errno = saved;
}

/* Reads a small /proc file into buf (NUL-terminated); returns bytes. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	while ((size_t)total < cap - 1) {
		n = read(fd, buf + total, cap - 1 - total);
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Start time of a /proc stat file, 0 if unknown. */
static uint64_t stat_start_ticks(const char *path)
{
	uint64_t start;
	char state;

	return proc_stat_read(path, &state, &start) == 0 ? start : 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	memset(dst + n, 0, cap - n);
}

/* A 64-hex-digit container id in /proc/self/cgroup (docker, containerd,
 * podman, kubepods paths), or empty. */
static void container_id(char *out, size_t cap)
{
	char buf[4096];
	size_t run = 0;

	out[0] = '\0';
	if (read_small("/proc/self/cgroup", buf, sizeof(buf)) <= 0)
		return;
	for (char *p = buf; *p; p++) {
		int hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
		run = hex ? run + 1 : 0;
		if (run == 64 && !((p[1] >= '0' && p[1] <= '9') || (p[1] >= 'a' && p[1] <= 'f'))) {
			if (cap > 64) {
				memcpy(out, p - 63, 64);
				out[64] = '\0';
			}
			return;
		}
	}
}

static void fill_producer(struct shm_producer *pe)
{
	char buf[4096], path[4096];
	ssize_t n, i;
	const char *base;

	pe->pe_pid = (uint32_t)getpid();
	pe->pe_uid = (uint32_t)getuid();
	pe->pe_ppid = (uint32_t)getppid();
	pe->pe_start_ticks = stat_start_ticks("/proc/self/stat");
	pe->pe_attach_ns = lib_now_ns();
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	base = strrchr(path, '/');
	copy_str(pe->pe_exe, sizeof(pe->pe_exe), base ? base + 1 : path);
	n = read_small("/proc/self/cmdline", buf, sizeof(buf));
	for (i = 0; i < n - 1; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	copy_str(pe->pe_cmdline, sizeof(pe->pe_cmdline), n > 0 ? buf : "");
	copy_str(pe->pe_service, sizeof(pe->pe_service), getenv("OTEL_SERVICE_NAME"));
	copy_str(pe->pe_res_attrs, sizeof(pe->pe_res_attrs), getenv("OTEL_RESOURCE_ATTRIBUTES"));
	container_id(buf, sizeof(buf));
	copy_str(pe->pe_container, sizeof(pe->pe_container), buf);
}

/* Takes a free producer entry: the CAS names our pid in the same
 * instruction, so a producer that dies while filling is recognisable. */
static int register_producer(struct lib_att *a)
{
	uint32_t pid = (uint32_t)getpid();

	for (uint32_t i = 0; i < a->seg.max_producers; i++) {
		struct shm_producer *pe = seg_producer(&a->seg, i);
		uint64_t expect = 0;

		if (shm_load_relaxed(&pe->pe_claim) != 0)
			continue;
		if (!shm_cas(&pe->pe_claim, &expect, SHM_PE_CLAIM(pid, SHM_PE_FILLING)))
			continue;
		a->pgen = shm_load_relaxed(&pe->pe_gen);
		fill_producer(pe);
		/* Publishes the entry; pairs with the collector's acquire load
		 * of pe_claim in producers_scan(). */
		shm_store_release(&pe->pe_claim, SHM_PE_CLAIM(pid, SHM_PE_READY));
		a->producer = i;
		return 0;
	}
	return -ENOSPC;
}

static uint64_t seg_inode(const char *name)
{
	struct stat st;
	uint64_t ino = 0;
	int fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);

	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0)
		ino = st.st_ino;
	close(fd);
	return ino;
}

/* Called with attach_busy held. */
static void try_attach(uint64_t now)
{
	struct lib_att *a = calloc(1, sizeof(*a));
	int ret;

	if (!a) {
		lib.next_try_ns = now + RETRY_NS;
		return;
	}
	ret = seg_attach(&a->seg, lib.ns, 1);
	if (ret) {
		if (ret == -EPROTO)
			lib_debug("segment %s of another ABI or corrupt: staying inert", lib.ns);
		goto err_free;
	}
	a->ino = seg_inode(a->seg.name);
	if (register_producer(a)) {
		struct lib_att *np = shm_load_acquire(&lib.noprod); /* pairs with the stores below */

		lib_debug("producer table full in %s", lib.ns);
		if (np && np->ino == a->ino)
			goto err_detach; /* counting in that mapping already */
		/* Keep this mapping to count what we refuse (lib_begin()). The
		 * one of a replaced segment stays mapped: see lib.noprod. */
		a->older = np;
		shm_store_release(&lib.noprod, a);
		goto err_wait;
	}
	a->epoch = ++lib.epochs;
	a->older = shm_load_relaxed(&lib.noprod); /* we are its only writer (attach_busy) */
	shm_store_relaxed(&lib.next_check_ns, now + CHECK_NS);
	lib_debug("attached to %s as producer %u", lib.ns, a->producer);
	/* Pairs with the acquire loads in lib_ready(): the attachment is
	 * complete before another thread can see it. The old one, if any,
	 * stays mapped: a thread may be writing through it right now. */
	shm_store_release(&lib.cur, a);
	shm_store_release(&lib.status, LIB_ATTACHED);
	shm_store_release(&lib.noprod, NULL); /* after: no refusal goes uncounted */
	return;

err_detach:
	seg_detach(&a->seg);
err_free:
	free(a);
err_wait:
	lib.next_try_ns = now + RETRY_NS;
	if (shm_load_relaxed(&lib.status) != LIB_ATTACHED)
		shm_store_release(&lib.status, LIB_WAITING);
}

static int register_thread(struct lib_att *a)
{
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	char path[64];

	for (uint32_t i = 0; i < a->seg.max_threads; i++) {
		struct shm_thread *te = seg_thread(&a->seg, i);
		uint32_t expect = 0;

		if (shm_load_relaxed(&te->te_tid) != 0)
			continue;
		if (!shm_cas(&te->te_tid, &expect, tid))
			continue;
		te->te_pid = (uint32_t)getpid();
		snprintf(path, sizeof(path), "/proc/self/task/%u/stat", tid);
		te->te_start_ticks = stat_start_ticks(path);
		te->te_producer = a->producer;
		te->te_pgen = a->pgen;
		/* Pairs with the collector's acquire of te_ready. */
		shm_store_release(&te->te_ready, 1);
		lib_tls.owner = (int32_t)i;
		lib_tls.epoch = a->epoch;
		lib_tls.att = a;
		lib_tls.mseries = -1;
		if (thread_key_ok)
			(void)pthread_setspecific(thread_key, &lib_tls); /* for the destructor */
		return (int)i;
	}
	return -ENOSPC;
}

/* Thread exit: free our entry. A thread that exits normally is never
 * inside a record, so no claim of ours can be pending. */
static void thread_exit(void *arg)
{
	struct lib_thread *t = arg;
	struct lib_att *a = t->att;

	if (t->owner >= 0 && a && t->epoch == a->epoch &&
	    (uint32_t)t->owner < a->seg.max_threads) {
		struct shm_thread *te = seg_thread(&a->seg, (uint32_t)t->owner);
		shm_store_relaxed(&te->te_ready, 0);
		shm_store_release(&te->te_tid, 0);
	}
	t->owner = -1;
}

static int ready(struct lib_att **att)
{
	int st = shm_load_acquire(&lib.status); /* pairs with try_attach() */
	struct lib_att *a;
	int ret;

	if (st == LIB_ATTACHED) {
		a = shm_load_acquire(&lib.cur); /* pairs with try_attach() */
		if (lib_tls.owner >= 0 && lib_tls.att == a && lib_tls.epoch == a->epoch) {
			*att = a;
			return lib_tls.owner;
		}
	}
	if (st == LIB_DISABLED || lib_tls.busy)
		return -ENOTCONN; /* busy: a signal handler interrupted our setup */
	lib_tls.busy = 1;
	if (st != LIB_ATTACHED) {
		uint64_t now = lib_now_ns();
		int expect = 0;

		if ((st == LIB_UNTRIED || now >= lib.next_try_ns) &&
		    shm_cas(&lib.attach_busy, &expect, 1)) {
			if (shm_load_relaxed(&lib.status) != LIB_ATTACHED)
				try_attach(now);
			shm_store_release(&lib.attach_busy, 0);
		}
		if (shm_load_acquire(&lib.status) != LIB_ATTACHED) {
			lib_tls.busy = 0;
			return -ENOTCONN;
		}
	}
	a = shm_load_acquire(&lib.cur); /* pairs with try_attach() */
	if (shm_load_acquire(&a->producer) == LIB_NO_PRODUCER) {
		/* A fork child's first record: one thread registers it. */
		int expect = 0, ok = 0;

		if (shm_cas(&lib.attach_busy, &expect, 1)) {
			ok = a->producer != LIB_NO_PRODUCER || register_producer(a) == 0;
			shm_store_release(&lib.attach_busy, 0);
		}
		if (!ok) {
			lib_tls.busy = 0;
			return -ENOTCONN;
		}
	}
	ret = register_thread(a);
	lib_tls.busy = 0;
	if (ret < 0) {
		struct shm_producer *pe = seg_producer(&a->seg, a->producer);
		shm_add_relaxed(&pe->pe_drop_nothr, 1);
		return ret;
	}
	*att = a;
	return ret;
}

int lib_ready(struct lib_att **att)
{
	int saved = errno, ret = ready(att);

	errno = saved; /* the record path does not keep errno itself */
	return ret;
}

static void periodic(uint64_t now)
{
	struct lib_att *a;
	uint64_t hb;
	int expect = 0;

	if (now < shm_load_relaxed(&lib.next_check_ns) || !shm_cas(&lib.attach_busy, &expect, 1))
		return;
	a = shm_load_acquire(&lib.cur);
	if (a && now >= lib.next_check_ns) {
		/* relaxed: only a hint of when to look again, read unlocked */
		shm_store_relaxed(&lib.next_check_ns, now + CHECK_NS);
		/* The collector stopped beating and the name now points to
		 * another segment: attach to the new one. */
		hb = shm_load_relaxed(&a->seg.hdr->sh_heartbeat_ns);
		if (hb + STALE_NS < now && seg_inode(a->seg.name) != a->ino) {
			lib_debug("segment %s was replaced: re-attaching", lib.ns);
			try_attach(now);
		}
	}
	shm_store_release(&lib.attach_busy, 0);
}

void lib_periodic(uint64_t now)
{
	int saved = errno;

	periodic(now);
	errno = saved;
}

static void atfork_child(void)
{
	/* The child is a new producer; its only thread must register anew,
	 * and the parent's thread entries are not ours. */
	struct lib_att *a = lib.cur;

	/* The child is a new producer, registered at its first record (a
	 * child that only execs never takes an entry); its only thread must
	 * register anew, and the parent's thread entries are not ours. */
	lib_tls.owner = -1;
	lib_tls.busy = 0;
	lib_tls.mseries = -1;
	lib.attach_busy = 0;
	if (a) {
		a->epoch = ++lib.epochs;
		a->producer = LIB_NO_PRODUCER;
	}
	lib_stdio_atfork_child();
}

__attribute__((constructor)) static void lib_init(void)
{
	const char *ns = getenv("SHMLOG_NAMESPACE");
	const char *dbg = getenv("SHMLOG_DEBUG");
	const char *off = getenv("OTEL_SDK_DISABLED");
	const char *mode = getenv("SHMLOG_STDIO");
	int saved = errno;

	lib.debug = dbg && strcmp(dbg, "1") == 0;
	copy_str(lib.ns, sizeof(lib.ns), ns && *ns ? ns : "default");
	lib.stdio_mode = LIB_STDIO_TEE;
	if (mode && strcmp(mode, "capture") == 0)
		lib.stdio_mode = LIB_STDIO_CAPTURE;
	else if (mode && strcmp(mode, "off") == 0)
		lib.stdio_mode = LIB_STDIO_OFF;
	else if (mode && *mode && strcmp(mode, "tee") != 0)
		lib_debug("SHMLOG_STDIO=%s unknown: using tee", mode);
	lib_full_init(getenv("SHMLOG_ON_FULL"));
	if (off && strcasecmp(off, "true") == 0) {
		lib.status = LIB_DISABLED;
		lib.stdio_mode = LIB_STDIO_OFF;
	} else {
		char name[80];
		if (seg_name(name, sizeof(name), lib.ns)) {
			lib_debug("SHMLOG_NAMESPACE '%s' invalid: staying inert", lib.ns);
			lib.status = LIB_DISABLED;
		}
	}
	thread_key_ok = pthread_key_create(&thread_key, thread_exit) == 0;
	(void)pthread_atfork(NULL, NULL, atfork_child);
	lib_stdio_init();
	if (lib.status == LIB_UNTRIED) {
		struct lib_att *a;
		(void)lib_ready(&a);
	}
	errno = saved;
}

__attribute__((destructor)) static void lib_fini(void)
{
	int saved = errno;

	lib_stdio_flush_all();
	lib.exiting = 1;
	errno = saved;
}
