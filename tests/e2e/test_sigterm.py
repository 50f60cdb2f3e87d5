#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_sigterm.py: SIGTERM drains and flushes (CTest e2e_sigterm). With a
schedule delay of a minute, a producer's 5,000 lines sit in the
collector's batch and rings, not yet in the spool; SIGTERM must put every
one of them into the spool before the collector exits (status 0), and the
exporter then delivers them all, exactly once.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N = 5000


def test(args):
    env = h.Env(args, "sigterm", ini={"collector": {"schedule_delay_ms": "60000"}})
    p = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "st", str(N)],
                     service="e2e-sigterm")
    h.check(p.wait(30) == 0, "producer failed")
    time.sleep(1.0)
    before = env.seg_counters()
    spooled_before = before.get("records_spooled", 0)
    h.check(len(env.records()) == 0, "records were delivered before the schedule delay")
    h.check(spooled_before == 0, f"records spooled before SIGTERM: {spooled_before}")
    t0 = time.time()
    rc = env.collector.stop(grace=15)
    env.collector = None  # stopped on purpose: no longer watched
    h.check(rc == 0, f"collector exited with {rc} after SIGTERM")
    after = env.seg_counters()
    h.log(f"collector stopped in {time.time() - t0:.2f}s; segment {after}")
    want = N + 3  # the loop's lines, an empty line, a DEBUG line, a last line without newline
    h.check(after.get("records_spooled") == want,
            f"spooled {after.get('records_spooled')} of {want} records at SIGTERM")
    recs = env.wait_records(want, timeout=30, pred=lambda r: r["pid"] == p.pid, settle=1.0)
    fig, problems = h.check_captured("sigterm", recs, h.expected_shell("st", N))
    h.log(f"figures: {fig}")
    if problems:
        for pr in problems[:10]:
            h.log("  problem: " + pr)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
