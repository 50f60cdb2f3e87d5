/* SPDX-License-Identifier: MIT */
/*
 * Is a producer entry's claimed identity real? A process that can write
 * the segment can write any producer entry, so the pid, uid and start
 * time it claims are compared with what /proc says about that pid, and
 * with who may open the segment at all (its owner, group and mode).
 * Collector thread only (producers.c calls it once per new entry); no
 * allocation, plain system calls. README "Trust model" has the policy.
 */
#ifndef CORE_IDENTITY_H
#define CORE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

enum identity_verdict {
	IDENTITY_OK = 0,   /* /proc agrees, and that process may open the segment */
	IDENTITY_UNSEEN,   /* /proc/<pid> not visible: exited, or another pid namespace */
	IDENTITY_FORGED,   /* /proc disagrees, or that process could not have attached */
	IDENTITY_VERDICT_NR /* count sentinel */
};

struct identity_claim {
	uint32_t pid;
	uint32_t uid;         /* getuid() of the producer */
	uint64_t start_ticks; /* /proc/<pid>/stat field 22 */
};

/* Who may open the segment: fstat() of it. */
struct identity_seg {
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;
};

/*
 * Checks claim against <proc_root>/<pid>/stat and <proc_root>/<pid>/status
 * (proc_root: "/proc", or a fixture tree in tests). The process must
 * exist (a zombie still counts: it keeps its identity until reaped), have
 * started at claim->start_ticks, have real uid claim->uid, and its
 * effective uid / groups must be allowed to read and write a file of
 * seg's owner and mode (root always is). Writes a short reason
 * (NUL-terminated, no secrets) into reason for any verdict but
 * IDENTITY_OK. Returns an enum identity_verdict; never fails otherwise.
 */
int identity_check(const char *proc_root, const struct identity_claim *claim,
		   const struct identity_seg *seg, char *reason, size_t reasonlen);

#endif
