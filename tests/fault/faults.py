# SPDX-License-Identifier: MIT
"""
faults.py: small helpers the fault scripts share (the accounting itself is
accounting.py): starting workloads/fault_writer.c in its modes, a shell
burst, a ring's collector cursor, and the end of a test.

  writer(env, mode, tag, args, cpu=None, name=None, service=None)
      fault_writer MODE TAG STATE ARGS... (seq, partial-*, stop-in-claim),
      preloaded in capture mode; returns (proc, state path).
  fast(env, name, tag, n, pace_us, result, service, **kw)
      fault_writer fast TAG N PACE_US RESULT (the bulk "fk" records).
  burst(env, pub, tag, n, service, timeout=30)
      tests/e2e/workloads/shell_loop.sh TAG N to its end, added to pub.
  quit_writers(writers, what, problems, timeout=20)
      sets quit in each (tag, proc, state) and waits for all to exit 0.
  ring_cursor(env, k)  the collector's cursor of ring k (shm/ABI.md).
  finish(problems)     logs the problems and fails the test if any.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import accounting as acct  # noqa: E402
import harness as h  # noqa: E402


def writer(env, mode, tag, args=(), cpu=None, name=None, service=None):
    st = acct.state_path(env, tag)
    p = env.producer(name or tag, [env.args.fault_writer, mode, tag, st] + [str(a) for a in args],
                     service=service or "fault-" + tag, stdio="capture", cpu=cpu)
    return p, st


def quit_writers(writers, what, problems, timeout=20):
    for tag, p, st in writers:
        acct.set_quit(st)
    for tag, p, st in writers:
        rc = p.wait(timeout)
        if rc != 0:
            problems.append(f"{what} {tag} exited with {rc}: {p.log_text()[-300:]}")


def fast(env, name, tag, n, pace_us, result, service, **kw):
    kw.setdefault("stdio", "off")
    return env.producer(name, [env.args.fault_writer, "fast", tag, str(n), str(pace_us), result],
                        service=service, **kw)


def burst(env, pub, tag, n, service, timeout=30):
    p = env.producer(tag, ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), tag, str(n)],
                     service=service)
    h.check(p.wait(timeout) == 0, f"producer {tag} failed")
    pub.add_shell(p.pid, tag, n)
    return p


def ring_cursor(env, k):
    with open(env.seg_path(), "rb") as f:
        hdr = f.read(96)
        ring_off, stride = struct.unpack_from("<QQ", hdr, 72)
        f.seek(ring_off + k * stride + 136)
        return struct.unpack("<Q", f.read(8))[0]


def finish(problems):
    if problems:
        for p in problems[:30]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")
