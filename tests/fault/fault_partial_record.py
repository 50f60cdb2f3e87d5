#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_partial_record.py: a producer that dies holding a partly written
record (CTest fault_partial_record).

`fault_writer partial-exit` and `partial-kill` (workloads/fault_writer.c)
write 50 complete records through the API, then claim an 8-slot record on
their CPU's ring through the ring protocol itself (ring_write.h), copy a
well-formed header and only the first 4 slots of it, and call _exit(0) or
SIGKILL themselves. After each, a next producer on the same CPU (so on the
same ring, behind the claim) writes 1,000 records. Checked, per case:
  - the partial record is never exported (no "fw TAG partial" body; every
    body received is one a producer published);
  - the collector skipped the claim (sh_abandoned one more, the ring's
    cursor past the claim position) and counted nothing invalid;
  - the 50 records before it and all the next producer's records arrived:
    the ring recovered;
  - the accounting holds (ACCOUNT line): the partial record is neither
    published nor dropped; it shows as abandoned.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402
import faults  # noqa: E402

BEFORE = 50
NEXT = 1000


def run(env, argv, tag, cpu):
    p, st = faults.writer(env, argv[0], tag, argv[1:], cpu=cpu)
    rc = p.wait(30)
    return rc, st, p


def test(args):
    env = h.Env(args, "fpartial", ini={"shm": {"dead_check_ms": "200"}})
    cpus = sorted(os.sched_getaffinity(0))
    pub = acct.Published()
    problems = []
    figures = []
    for n, (mode, want_rc) in enumerate((("partial-exit", 0), ("partial-kill", -9))):
        cpu = cpus[n % len(cpus)]
        case = mode.replace("-", "_")
        ptag, ntag = f"p{mode[8]}", f"n{mode[8]}"
        before = env.seg_counters()
        rc, pst, p = run(env, [mode, BEFORE], ptag, cpu)
        s = pub.add_writer(ptag, pst)
        if rc != want_rc or not s.get("claimed"):
            problems.append(f"{mode}: exit status {rc} (expected {want_rc}), claimed "
                            f"{s.get('claimed')}: {p.log_text()[-300:]}")
            continue
        ring, pos = s["claim_ring"], s["claim_pos"]
        rc, nst, p = run(env, ["seq", NEXT], ntag, cpu)
        if rc != 0:
            problems.append(f"{mode}: the next producer exited with {rc}: {p.log_text()[-300:]}")
        pub.add_writer(ntag, nst)
        want = sum(pub.done.values())
        env.wait_records(want, timeout=30, stall=10, settle=1.0,
                         pred=lambda r: (r.get("body") or "").startswith("fw "))
        acc = acct.account(env, pub, case)
        acct.print_account(acc)
        problems += acc["problems"]
        after = env.seg_counters()
        cur = faults.ring_cursor(env, ring)
        aband = after.get("abandoned", 0) - before.get("abandoned", 0)
        inval = after.get("invalid", 0) - before.get("invalid", 0)
        partial = [r["body"][:40] for r in env.records()
                   if (r.get("body") or "").startswith(f"fw {ptag} partial")]
        if partial:
            problems.append(f"{mode}: the partial record was exported: {partial[:2]}")
        if aband != 1:
            problems.append(f"{mode}: {aband} claims abandoned, expected exactly 1")
        if inval:
            problems.append(f"{mode}: {inval} records counted invalid")
        if cur <= pos:
            problems.append(f"{mode}: ring {ring} cursor {cur} not past the claim at {pos}")
        got = acct.by_tag(acc)
        for tag, n_want in ((ptag, BEFORE), (ntag, NEXT)):
            if pub.done[tag] != n_want or len(got.get(tag, ())) != n_want:
                problems.append(f"{mode}: {tag} published {pub.done[tag]}, received "
                                f"{len(got.get(tag, ()))}, expected {n_want}")
        figures.append(f"{mode}: claim ring {ring} position {pos}, cursor now {cur}, abandoned "
                       f"+{aband}, invalid +{inval}, before {len(got.get(ptag, ()))}/{BEFORE}, "
                       f"next {len(got.get(ntag, ()))}/{NEXT}")
    h.log("figures: " + "; ".join(figures) + f"; segment {env.seg_counters()}")
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test)
