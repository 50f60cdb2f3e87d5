/* SPDX-License-Identifier: MIT */
/*
 * Reading /proc/<id>/stat: a process's or thread's state and start time
 * (field 22, clock ticks since boot), which with the id names it uniquely
 * (a reused pid has another start time). Used by libshmlog (its own
 * identity at registration), the collector (is a writer still alive?) and
 * shmtop. Plain system calls, no allocation, no stdio.
 */
#ifndef SHM_PROC_STAT_H
#define SHM_PROC_STAT_H

#include <stdint.h>

/* Reads path (a /proc stat file). Returns 0 with *state (the state
 * letter) and *start_ticks, -ENOENT when it does not exist, -EPROTO when
 * it does not parse, or another -errno. */
int proc_stat_read(const char *path, char *state, uint64_t *start_ticks);

/*
 * Whether process or thread id runs (or is stopped): its stat file
 * exists, it is not a zombie, and, when start_ticks is not 0, it started
 * then. 1 alive, 0 gone. A stat file that cannot be read for another
 * reason (EACCES) counts as alive: waiting is safe, skipping is not.
 */
int proc_alive(uint32_t id, uint64_t start_ticks);

#endif
