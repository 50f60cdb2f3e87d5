/* SPDX-License-Identifier: MIT */
/*
 * /proc/<id>/stat parsing (see proc_stat.h). The command name (field 2)
 * may hold spaces and parentheses, so fields are counted after the last
 * ')'.
 */
#include "proc_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_stat_read(const char *path, char *state, uint64_t *start_ticks)
{
	char buf[1024];
	ssize_t n;
	char *p;
	int fd, field = 3;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ESRCH ? -ENOENT : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n == 0 ? -ENOENT : -errno; /* an exited task reads empty */
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EPROTO;
	*state = p[2];
	p += 2; /* at field 3 */
	while (*p && field < 22) {
		if (*p == ' ')
			field++;
		p++;
	}
	if (field != 22 || *p < '0' || *p > '9')
		return -EPROTO;
	*start_ticks = strtoull(p, NULL, 10);
	return 0;
}

int proc_alive(uint32_t id, uint64_t start_ticks)
{
	char path[48], state;
	uint64_t start;
	int ret;

	if (id == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/stat", id);
	ret = proc_stat_read(path, &state, &start);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return 1;
	if (state == 'Z' || state == 'X' || state == 'x')
		return 0; /* exited: it will never write again */
	return !start_ticks || start == start_ticks;
}
