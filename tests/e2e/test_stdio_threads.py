#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_stdio_threads.py: threads writing whole lines at once to one stream
(CTest e2e_stdio_threads). e2e_api_producer lines: T threads, thread k
writing N lines with one write() each to stdout (k even) or stderr (k odd),
in capture and in tee mode. A whole line written while the stream holds
nothing skips the stream's lock (shm/lib_stdio.c capture()), so these
writers race each other and the locked path. Every line must arrive exactly
once with its exact body and its stream, and each thread's lines in the
order it wrote them (timestamps); in tee mode the bytes on fd 1 and 2 are
the lines themselves, each whole. The writers go flat out, faster than one
collector drains: SHMLOG_ON_FULL=wait makes them wait for room instead of
dropping (and counting) lines.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

T = 4
N = 10000
ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+" \
        "abcdefghijklmnopqrstuvwxyz"


def body(tag, k, i):
    """As line_thread() in workloads/api_producer.c."""
    pad = 20 + (i * 7 + k) % 64
    return f"tl {tag} {k} {i:06d} {ALPHA[:pad]}"


def check_run(label, tag, recs, problems, figures):
    want = {}
    for k in range(T):
        stream = "stderr" if k % 2 else "stdout"
        for i in range(N):
            want[body(tag, k, i)] = (k, i, stream)
    seen = {}
    bad_body, bad_stream = [], []
    for r in recs:
        w = want.get(r["body"])
        if w is None:
            bad_body.append(r["body"][:80])
            continue
        if r["attrs"].get("log.iostream") != w[2]:
            bad_stream.append((r["body"][:40], r["attrs"].get("log.iostream"), w[2]))
        seen.setdefault(r["body"], []).append(int(r["time"]))
    missing = [b for b in want if b not in seen]
    dups = sum(len(v) - 1 for v in seen.values())
    out_of_order = 0
    for k in range(T):
        times = [seen[body(tag, k, i)][0] for i in range(N) if body(tag, k, i) in seen]
        out_of_order += sum(1 for a, b in zip(times, times[1:]) if b < a)
    figures.append(f"{label}: {len(want) - len(missing)}/{len(want)} lines, {dups} duplicates, "
                   f"{len(bad_body)} foreign or garbled, {out_of_order} out of order")
    if missing:
        problems.append(f"{label}: {len(missing)} lines missing, e.g. {missing[0]!r}")
    if dups:
        problems.append(f"{label}: {dups} duplicates")
    if bad_body:
        problems.append(f"{label}: {len(bad_body)} records that are no line written, e.g. "
                        f"{bad_body[0]!r}")
    if bad_stream:
        problems.append(f"{label}: {len(bad_stream)} lines with the wrong log.iostream, e.g. "
                        f"{bad_stream[0]}")
    if out_of_order:
        problems.append(f"{label}: {out_of_order} lines stamped before the thread's previous one")


def test(args):
    env = h.Env(args, "stdio-threads")
    problems, figures, runs = [], [], []
    for mode in ("capture", "tee"):
        tag = f"{mode}{os.getpid()}"
        out_path = os.path.join(env.tmp, f"{mode}.out")
        err_path = os.path.join(env.tmp, f"{mode}.err")
        with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
            p = env.producer(f"lines-{mode}", [env.api_producer(), "lines", tag, str(T), str(N)],
                             service=f"e2e-threads-{mode}", stdio=mode, stdout=fo, stderr=fe,
                             extra_env={"SHMLOG_ON_FULL": "wait:10000"})
            rc = p.wait(90)
        h.check(rc == 0, f"lines-{mode} exited with {rc}")
        with open(out_path, "rb") as f1, open(err_path, "rb") as f2:
            out, err = f1.read().decode(), f2.read().decode()
        if mode == "capture":
            if out or err:
                problems.append(f"capture: {len(out) + len(err)} bytes on fd 1 and 2, expected none")
        else:
            for name, text, ks in (("stdout", out, range(0, T, 2)), ("stderr", err, range(1, T, 2))):
                want = sorted(body(tag, k, i) for k in ks for i in range(N))
                if sorted(text.split("\n")[:-1]) != want:
                    problems.append(f"tee: {name} does not hold exactly the lines written")
        runs.append((mode, tag, p.pid))
    pids = {pid for _, _, pid in runs}
    # Long enough for a loaded machine (CTest runs tests in parallel): an
    # exporter request that timed out is sent again after its back-off.
    env.wait_records(len(runs) * T * N, timeout=100, pred=lambda r: r["pid"] in pids, settle=1.5)
    recs = env.records()
    for mode, tag, pid in runs:
        check_run(mode, tag, [r for r in recs if r["pid"] == pid], problems, figures)
    if problems:
        # What the agent counted, to tell lines dropped (and counted) from
        # lines still on their way.
        st = env.status()
        figures.append(f"segment {env.seg_counters()}; exporter " + str(
            {k: st.get(k) for k in ("sent_records", "retries", "dropped_records",
                                    "rejected_records")}))
    h.report(figures, problems)


if __name__ == "__main__":
    h.main(test)
