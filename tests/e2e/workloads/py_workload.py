#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
py_workload.py TAG COUNT [--pace-ms MS] [--no-utf8-split]: an end-to-end workload written the
way Python programs write: print() to stdout (block-buffered, so lines reach
write() in 8 KiB chunks cut anywhere) and to stderr, the logging module
("WARNING:root:..."), lines of 16384 bytes and longer (split by the agent),
multi-byte UTF-8 (also across the split point, in all three alignments of a
3-byte character), invalid bytes through sys.stdout.buffer, CRLF, empty lines,
and a last line without a newline on each stream.

The tests import expected(tag, count): the (stream, body) pairs the agent
must export, in order; ops() below drives both, so they cannot drift.
"""
import logging
import sys
import time

BAD_RAW = b"bad \xff\xfe|\x80|\xc3(|\xc0\xaf|\xed\xa0\x80 end"
BAD_TEXT = "bad \ufffd\ufffd|\ufffd|\ufffd(|\ufffd\ufffd|\ufffd\ufffd\ufffd end"


def ops(tag, count, utf8_split=True):
    """Yields (kind, stream, text) with text the body the agent exports.
    utf8_split=False: no multi-byte character at a split point (for tests
    about delivery rather than formatting)."""
    for i in range(count):
        p = f"py {tag} {i:06d}"
        k = i % 20
        if k == 0:
            yield ("log-warning", "stderr", f"WARNING:root:{p}")
        elif k == 1:
            yield ("log-error", "stderr", f"ERROR:root:{p}")
        elif k == 2:
            yield ("print", "stdout", f"INFO {p} started")
        elif k == 3:
            yield ("print", "stderr", f"{p} to stderr")
        elif k == 4:
            yield ("print", "stdout", f"DEBUG:root:{p}")
        elif k == 5:
            yield ("crlf", "stdout", f"{p} crlf")
        elif k == 6:
            yield ("log-critical", "stderr", f"CRITICAL:root:{p}")
        elif k == 7:
            yield ("print", "stdout", f"{p} ünïcödé ✓ 日本語 🎉")
        elif k == 8:
            yield ("print", "stdout", "")
        elif i % 500 == 9:
            yield ("bad", "stdout", f"{p} {BAD_TEXT}")
        elif not utf8_split and i % 1000 in (13, 15, 16):
            yield ("print", "stdout", f"{p} ascii-long " + "e" * 21000)
        elif i % 1000 == 10:
            yield ("print", "stdout", (f"{p} long20k " + "x" * 20480)[:20480])
        elif i % 1000 == 11:
            yield ("print", "stdout", (f"{p} exact16384 " + "y" * 16384)[:16384])
        elif i % 1000 == 12:
            yield ("print", "stderr", (f"{p} just-over " + "z" * 16385)[:16385])
        elif i % 1000 == 13:
            yield ("print", "stdout", f"{p} euro " + "€" * 7000)
        elif i % 1000 in (15, 16):
            # The other two alignments of a 3-byte character at the split.
            yield ("print", "stdout", f"{p} euro{'+' * (i % 1000 - 14)} " + "€" * 7000)
        elif i % 1000 == 14:
            yield ("print", "stdout", f"{p} forty-k " + "0123456789" * 4000)
        else:
            yield ("print", "stdout", f"{p} plain " + "abcdefghij"[: i % 11] * (i % 13))


def expected(tag, count, utf8_split=True):
    out = [(s, t) for _, s, t in ops(tag, count, utf8_split)]
    out.append(("stdout", f"py {tag} last-no-newline"))
    out.append(("stderr", f"py {tag} stderr-last-no-newline"))
    return out


def main():
    tag, count = sys.argv[1], int(sys.argv[2])
    opts = sys.argv[3:]
    pace = float(opts[opts.index("--pace-ms") + 1]) / 1000 if "--pace-ms" in opts else 0
    utf8_split = "--no-utf8-split" not in opts
    for n, (kind, stream, text) in enumerate(ops(tag, count, utf8_split)):
        f = sys.stdout if stream == "stdout" else sys.stderr
        if kind == "print":
            print(text, file=f)
        elif kind == "crlf":
            print(text, end="\r\n", file=f)
        elif kind == "log-warning":
            logging.warning(text[len("WARNING:root:"):])
        elif kind == "log-error":
            logging.error(text[len("ERROR:root:"):])
        elif kind == "log-critical":
            logging.critical(text[len("CRITICAL:root:"):])
        elif kind == "bad":
            sys.stdout.flush()
            sys.stdout.buffer.write(text[: -len(BAD_TEXT)].encode() + BAD_RAW + b"\n")
        if pace and n % 100 == 99:
            sys.stdout.flush()
            time.sleep(pace)
    sys.stderr.write(f"py {tag} stderr-last-no-newline")
    sys.stderr.flush()
    sys.stdout.write(f"py {tag} last-no-newline")


if __name__ == "__main__":
    main()
