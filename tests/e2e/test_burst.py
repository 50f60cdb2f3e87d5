#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_burst.py: bursts that fill the rings (CTest e2e_burst), default ring
size. One producer (e2e_api_producer burst) writes flat out, an API record
and a captured stdout line per turn:
  1. 15,000 turns (about 30,000 records, within a ring's 65,536 slots):
     every record arrives, once;
  2. 100,000 turns (more than a ring holds while the collector drains):
     every API record arrives (the producer retries on -ENOBUFS), and every
     captured line either arrives or is counted as dropped in the rings'
     rh_drops -- loss is never silent;
  3. afterwards a fresh producer's lines arrive (nothing wedged).
"""
import collections
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def victim_line(tag, i):
    plen = (i * 7) % 200
    return f"kl {tag} {i} " + "".join(chr(ord("a") + (i + k) % 26) for k in range(plen))


def burst(env, tag, n, problems, timeout):
    drops0 = env.seg_counters().get("ring_drops", 0)
    t0 = time.time()
    p = env.producer(tag, [env.api_producer(), "burst", tag, str(n)], service=f"e2e-{tag}", cpu=0)
    blocked = False
    try:
        rc = p.wait(timeout)
        if rc != 0:
            problems.append(f"{tag}: producer exited with {rc}")
    except h.Fail:
        seg1 = env.seg_counters()
        time.sleep(3)
        seg2 = env.seg_counters()
        problems.append(f"{tag}: producer still writing after {timeout}s (it retries -ENOBUFS on "
                        f"a full ring); collector records_in {seg1.get('records_in')} -> "
                        f"{seg2.get('records_in')} in 3 s, ring drops {seg2.get('ring_drops')}: "
                        f"{'the collector stopped draining' if seg1 == seg2 else 'slow drain'}")
        p.kill9()
        blocked = True
    t_write = time.time() - t0
    recs = env.wait_records(2 * n, timeout=timeout, pred=lambda r: r["pid"] == p.pid, settle=1.0,
                            stall=8)
    drops = env.seg_counters().get("ring_drops", drops0) - drops0
    api, lines = collections.Counter(), collections.Counter()
    bad = []
    for r in recs:
        b = r["body"] or ""
        if h.stream_of(r) == "stdout":
            m = re.fullmatch(r"kl (\S+) (\d+) [a-z]*", b)
            if m and m.group(1) == tag and b == victim_line(tag, int(m.group(2))):
                lines[int(m.group(2))] += 1
                continue
        elif h.stream_of(r) == "api":
            m = re.fullmatch(r"api (\S+) (kl \S+ (\d+) [a-z]*) (\d{6,})", b)
            if m and m.group(1) == tag and m.group(2) == victim_line(tag, int(m.group(3))):
                api[int(m.group(3))] += 1
                continue
        bad.append(b[:60])
    api_missing = n - len(api)
    line_missing = n - len(lines)
    dups = sum(v - 1 for v in api.values()) + sum(v - 1 for v in lines.values())
    fig = (f"{tag}: {n} turns written in {t_write:.1f}s; received {len(api)} API records "
           f"({api_missing} missing), {len(lines)} lines ({line_missing} missing), ring drops "
           f"counted {drops}, duplicates {dups}, malformed {len(bad)}")
    if bad:
        problems.append(f"{tag}: {len(bad)} malformed records, e.g. {bad[:3]}")
    if api_missing and not blocked:
        problems.append(f"{tag}: {api_missing} API records missing (the producer got 0 for them)")
    if dups:
        problems.append(f"{tag}: {dups} duplicates")
    return fig, (0 if blocked else line_missing), drops


def test(args):
    env = h.Env(args, "burst")
    problems = []
    figs = []
    fig, line_missing, drops = burst(env, "b1", 15000, problems, 30)
    figs.append(fig)
    if line_missing:
        problems.append(f"b1: {line_missing} captured lines missing from a burst that fits in a "
                        f"ring ({drops} ring drops counted)")
    if not problems:
        fig, line_missing, drops = burst(env, "b2", 100000, problems, 40)
        figs.append(fig)
        if line_missing > drops:
            problems.append(f"b2: {line_missing} captured lines missing but only {drops} drops "
                            f"counted: {line_missing - drops} lost silently")
    f = env.producer("fresh", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "fresh", "300"],
                     service="e2e-fresh", cpu=0)
    f.wait(20)
    recs = env.wait_records(303, timeout=15, pred=lambda r: r["pid"] == f.pid, settle=0.5, stall=8)
    fg, p = h.check_captured("fresh", recs, h.expected_shell("fresh", 300), lenient_stream=True)
    problems += p
    figs.append(f"fresh producer after the bursts: {fg['lines']}/{fg['published']} lines")
    h.report(figs + [f"segment {env.seg_counters()}"], problems)


if __name__ == "__main__":
    h.main(test)
