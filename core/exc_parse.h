/* SPDX-License-Identifier: MIT */
/*
 * The exception a Python traceback or a Java stack trace names, read from
 * a log record's body (a record the producer flagged SHM_LOG_F_PYTB or
 * SHM_LOG_F_JAVATB, see shm/multiline.c):
 * where its type and message are, for the semconv attributes
 * exception.type and exception.message. The body comes from shared
 * memory: any bytes, bounded by the caller; nothing is read outside it.
 * Collector thread (log_batch.c); pure logic, no allocation.
 */
#ifndef CORE_EXC_PARSE_H
#define CORE_EXC_PARSE_H

#include <stddef.h>

/* Longest exception.type taken; a longer or odd-looking "type" is not one
 * (the whole exception line is then the message). */
#define EXC_PARSE_TYPE_MAX 256

/* Offsets into the body; a length of 0 means absent. */
struct exc_info {
	size_t type_off, type_len;
	size_t msg_off, msg_len;
};

/*
 * Finds the exception line of the last exception in body[0, len): in a
 * traceback ("Traceback (most recent call last):" ...) the first line
 * after it that is neither indented nor empty; in an exception group
 * ("  + Exception Group Traceback ...") the first "  | X" line whose X is
 * not a space. A chain's parts are told apart by their openers; the last
 * part that has an exception line wins (the exception that was raised
 * last). The line "mod.Type: message" gives both; "Type" alone gives the
 * type; a line whose part before ": " is not a dotted name gives only
 * the message (the whole line).
 * Returns 0 with *out set, or -ENOENT when there is no exception line
 * (then *out is all zero).
 */
int exc_parse_python(const unsigned char *body, size_t len, struct exc_info *out);

/*
 * The same for a Java stack trace: its first line is the thrown
 * exception (Throwable.toString(), "pkg.Name: message" or "pkg.Name"),
 * after 'Exception in thread "T" ' when the uncaught handler printed it;
 * the "Caused by:" lines below name its causes and are not taken. The
 * line is split as for Python. Returns 0 with *out set, or -ENOENT (an
 * empty first line; *out all zero).
 */
int exc_parse_java(const unsigned char *body, size_t len, struct exc_info *out);

#endif
