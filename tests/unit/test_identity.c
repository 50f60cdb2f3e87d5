/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of core/identity.c: a producer's claimed pid, uid and start
 * time against fixture /proc trees written here (match, forged start
 * time, forged uid, a uid that may not open the segment, group access,
 * zombie, absent pid, garbage files) and against the live /proc (this
 * process, with its true and a false start time; an absent pid).
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_stat.h"
#include "test_help.h"

static char root[] = "/tmp/shmlog-test-identity.XXXXXX";

static void put(uint32_t pid, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u", root, pid);
	(void)mkdir(path, 0700); /* exists from the other file: fine */
	snprintf(path, sizeof(path), "%s/%u/%s", root, pid, name);
	f = fopen(path, "w");
	T_ASSERT(f);
	fputs(text, f);
	fclose(f);
}

/* A stat line whose comm has spaces and parentheses, state st, start. */
static void put_proc(uint32_t pid, char st, unsigned long long start, const char *uids,
		     const char *gids, const char *groups)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "%u (a (b) c) %c 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %llu 1000 10 "
		 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
		 pid, st, start);
	put(pid, "stat", buf);
	snprintf(buf, sizeof(buf),
		 "Name:\ttrainer\nState:\t%c (x)\nTgid:\t%u\nPid:\t%u\nUid:\t%s\nGid:\t%s\n"
		 "FDSize:\t64\nGroups:\t%s\nVmPeak:\t1 kB\n",
		 st, pid, pid, uids, gids, groups);
	put(pid, "status", buf);
}

static int check(uint32_t pid, uint32_t uid, uint64_t start, uint32_t seg_uid, uint32_t seg_gid,
		 uint32_t mode, char *why)
{
	struct identity_claim c = { .pid = pid, .uid = uid, .start_ticks = start };
	struct identity_seg s = { .uid = seg_uid, .gid = seg_gid, .mode = mode };

	why[0] = '\0';
	return identity_check(root, &c, &s, why, 256);
}

static void test_fixture(void)
{
	char why[256];

	put_proc(100, 'S', 5000, "1000\t1000\t1000\t1000", "1000\t1000\t1000\t1000", "27 1000");
	T_EQ_INT(check(100, 1000, 5000, 1000, 1000, 0600, why), IDENTITY_OK);
	T_EQ_STR(why, "");
	/* another start time: a reused pid, or a forged claim */
	T_EQ_INT(check(100, 1000, 4999, 1000, 1000, 0600, why), IDENTITY_FORGED);
	T_ASSERT(strstr(why, "started at tick 5000"));
	/* another uid claimed than the process has */
	T_EQ_INT(check(100, 0, 5000, 1000, 1000, 0600, why), IDENTITY_FORGED);
	T_ASSERT(strstr(why, "runs as uid 1000, not the claimed 0"));
	/* the real process could not have opened a 0600 segment of uid 2000 */
	T_EQ_INT(check(100, 1000, 5000, 2000, 2000, 0600, why), IDENTITY_FORGED);
	T_ASSERT(strstr(why, "may not open the segment"));
	/* ... unless the mode lets its group in (supplementary group 27) */
	T_EQ_INT(check(100, 1000, 5000, 2000, 27, 0660, why), IDENTITY_OK);
	T_EQ_INT(check(100, 1000, 5000, 2000, 28, 0660, why), IDENTITY_FORGED);
	T_EQ_INT(check(100, 1000, 5000, 2000, 28, 0666, why), IDENTITY_OK);
	/* read-only group bits are not enough: producers write */
	T_EQ_INT(check(100, 1000, 5000, 2000, 27, 0640, why), IDENTITY_FORGED);

	/* root may open anything; a setuid process's effective uid counts */
	put_proc(101, 'R', 7, "1000\t0\t0\t0", "1000\t1000\t1000\t1000", "");
	T_EQ_INT(check(101, 1000, 7, 2000, 2000, 0600, why), IDENTITY_OK);

	/* a zombie keeps its identity until reaped */
	put_proc(102, 'Z', 9, "1000\t1000\t1000\t1000", "1000\t1000\t1000\t1000", "");
	T_EQ_INT(check(102, 1000, 9, 1000, 1000, 0600, why), IDENTITY_OK);

	/* not there: exited, or another pid namespace */
	T_EQ_INT(check(4242, 1000, 9, 1000, 1000, 0600, why), IDENTITY_UNSEEN);
	T_ASSERT(strstr(why, "not visible"));
	T_EQ_INT(check(0, 1000, 9, 1000, 1000, 0600, why), IDENTITY_FORGED);

	/* garbage where the files should be: never a pass */
	put(103, "stat", "103 (x) S 1 1 1\n");
	T_EQ_INT(check(103, 1000, 9, 1000, 1000, 0600, why), IDENTITY_FORGED);
	put_proc(104, 'S', 11, "1000\t1000", "1000\t1000\t1000\t1000", "");
	T_EQ_INT(check(104, 1000, 11, 1000, 1000, 0600, why), IDENTITY_FORGED);
	put_proc(105, 'S', 12, "1000\t1000\t1000\t1000", "1000\t1000\t1000\t1000", "27 x");
	T_EQ_INT(check(105, 1000, 12, 1000, 1000, 0600, why), IDENTITY_FORGED);
	put_proc(106, 'S', 13, "99999999999\t1\t1\t1", "1000\t1000\t1000\t1000", "");
	T_EQ_INT(check(106, 1000, 13, 1000, 1000, 0600, why), IDENTITY_FORGED);
	/* a status file without its uid line */
	put(107, "stat", "107 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 14 1 1\n");
	put(107, "status", "Name:\tx\n");
	T_EQ_INT(check(107, 1000, 14, 1000, 1000, 0600, why), IDENTITY_FORGED);
}

static void test_live(void)
{
	struct identity_claim c = { .pid = (uint32_t)getpid(), .uid = (uint32_t)getuid() };
	struct identity_seg s = { .uid = (uint32_t)geteuid(), .gid = (uint32_t)getegid(),
				  .mode = 0600 };
	char why[256], st;

	T_EQ_INT(proc_stat_read("/proc/self/stat", &st, &c.start_ticks), 0);
	T_EQ_INT(identity_check("/proc", &c, &s, why, sizeof(why)), IDENTITY_OK);
	c.start_ticks++;
	T_EQ_INT(identity_check("/proc", &c, &s, why, sizeof(why)), IDENTITY_FORGED);
	c.start_ticks--;
	c.uid++;
	T_EQ_INT(identity_check("/proc", &c, &s, why, sizeof(why)), IDENTITY_FORGED);
	c.uid--;
	c.pid = 0x7ffffff0; /* above any pid_max */
	T_EQ_INT(identity_check("/proc", &c, &s, why, sizeof(why)), IDENTITY_UNSEEN);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	(void)!system(cmd);
}

int main(void)
{
	T_ASSERT(mkdtemp(root));
	atexit(cleanup);
	T_RUN(test_fixture);
	T_RUN(test_live);
	return 0;
}
