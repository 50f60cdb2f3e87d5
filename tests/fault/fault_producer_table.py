#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_producer_table.py: a producer that finds the producer table full
(CTest fault_producer_table).

Many short-lived producers at once (a build farm's shell pipelines, a
burst of workers killed and restarted) can take every entry of the
producer table ([shm] max_producers). A process that finds none stays
unattached and retries once a second; until ABI 1.2 its records were lost
without any counter (in capture mode its output went nowhere). Now every
record it refuses while a collector is there is counted in the segment's
sh_drop_noprod (shmlog.records.dropped.unregistered; an API call gets
-ENOBUFS) and the collector logs the full table once.

With max_producers = 16: 16 fault_writers take every entry and wait; a
preloaded bash (capture mode) prints 200 lines "fw nb0 I ...": none can be
kept, exactly 200 are counted. Then the 16 exit, their entries are freed,
and a second bash's 200 lines all arrive. Accounting: the first bash's 200
lines are the ring cause's 200 drops.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402
import faults  # noqa: E402

TABLE = 16
LINES = 200
HOLD_TURNS = 100


def bash_lines(env, tag):
    """A preloaded bash printing LINES bodies fw_body(tag, i), one write each."""
    path = os.path.join(env.tmp, tag + ".txt")
    with open(path, "w") as f:
        for i in range(LINES):
            f.write(acct.fw_body(tag, i) + "\n")
    p = env.producer(tag, ["bash", "-c", 'while IFS= read -r l; do printf "%s\\n" "$l"; done < "$1"',
                           "bash", path], service="fault-" + tag, stdio="capture")
    rc = p.wait(30)
    h.check(rc == 0, f"bash {tag} exited with {rc}")


def test(args):
    env = h.Env(args, "ftable", ini={"shm": {"max_producers": str(TABLE), "dead_check_ms": "200"}})
    pub = acct.Published()
    problems = []
    holders = []
    for k in range(TABLE):
        tag = f"h{k}"
        p, st = faults.writer(env, "seq", tag, (HOLD_TURNS, 0, "hold"), service="fault-holder")
        holders.append((tag, p, st))
    deadline = time.time() + 20
    while time.time() < deadline:
        n = sum(1 for _, _, st in holders if acct.read_state(st).get("finished"))
        if n == TABLE:
            break
        time.sleep(0.05)
    h.check(n == TABLE, f"only {n} of {TABLE} holders attached and wrote")

    bash_lines(env, "nb0")  # the table is full: counted, not kept
    time.sleep(1.5)  # the collector logs it at its next once-a-second turn
    seg_full = env.seg_counters()
    faults.quit_writers(holders, "holder", problems)
    for tag, p, st in holders:
        pub.add_writer(tag, st)
    pub.add_known("nb0", LINES)
    # Their entries are freed within a few dead checks; then a new one fits.
    deadline = time.time() + 20
    while time.time() < deadline:
        recs = env.records()
        if sum(1 for r in recs if (r.get("body") or "").startswith("fw h")) >= TABLE * HOLD_TURNS:
            break
        time.sleep(0.1)
    time.sleep(2.0)
    bash_lines(env, "nb1")
    pub.add_known("nb1", LINES)
    want = TABLE * HOLD_TURNS + LINES
    env.wait_records(want, timeout=30, stall=10, settle=1.0,
                     pred=lambda r: (r.get("body") or "").startswith("fw "))
    acc = acct.account(env, pub, "producer_table_full")
    acct.print_account(acc)
    problems += acc["problems"]
    seg = env.seg_counters()
    if seg_full.get("drop_noprod") != LINES:
        problems.append(f"sh_drop_noprod {seg_full.get('drop_noprod')} with the table full, "
                        f"expected {LINES}")
    got = sum(1 for r in env.records() if (r.get("body") or "").startswith("fw nb1 "))
    if got != LINES:
        problems.append(f"after the table freed up: {got} of {LINES} lines arrived")
    log = env.collector.log_text()
    if "producer table full" not in log:
        problems.append("the collector did not log the full producer table")
    h.log(f"figures: table {TABLE}, refused lines counted {seg_full.get('drop_noprod')} of "
          f"{LINES}, later lines received {got} of {LINES}; segment {seg}")
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test)
