#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_producer_kill.py: 1,000 producers SIGKILLed at random points while
two steady producers write (CTest fault_producer_kill).

Every victim is a fault_writer (workloads/fault_writer.c) writing flat out,
alternately API records and captured write(1) lines of 1 to 11 slots, at
most 120 turns (0.3 ms of sleep after each 100), pinned to one CPU or the other. It is SIGKILLed at a random
point: a tenth of them 0-3 ms after the start (before or while attaching
and registering), the rest once its state file says it began a random turn
(mid-record or between records; a few once it is done). Two steady
fault_writers, one per CPU, write paced all along. Then:
  - the accounting holds: delivered + counted drops == published, where a
    victim published every turn below its `done` counter, and the turn it
    died in only if it arrived (accounting.py);
  - every record received is exactly one a producer wrote (nothing torn,
    partial or foreign), at most once;
  - every record of the steady producers arrived; each victim's records
    have no gap;
  - no more claims were abandoned than victims died inside a call;
  - afterwards a fresh producer on each CPU gets all its records through
    (no ring is wedged by a dead writer's claim).
"""
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402
import faults  # noqa: E402

KILLS = 1000
VICTIM_TURNS = 120


def extra_args(ap):
    ap.add_argument("--kills", type=int, default=KILLS)


def writer(env, tag, argv_tail, cpu=None, name=None):
    return faults.writer(env, "seq", tag, argv_tail, cpu=cpu, name=name,
                         service="fault-" + (name or tag).rstrip("0123456789"))


def wait_state(st, pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = acct.read_state(st)
        if s and pred(s):
            return s
        time.sleep(0.0002)
    return acct.read_state(st)


def test(args):
    env = h.Env(args, "fkill", ini={"shm": {"dead_check_ms": "200"}})
    cpus = sorted(os.sched_getaffinity(0))
    pub = acct.Published()
    problems = []

    steady = []
    for k, c in enumerate(cpus[:2]):
        p, st = writer(env, f"st{k}", [0, 200000], cpu=c, name=f"steady{k}")
        steady.append((f"st{k}", p, st))
    for tag, p, st in steady:
        s = wait_state(st, lambda s: s["attached"], 15)
        h.check(s.get("attached"), f"steady writer {tag} did not attach: {p.log_text()}")

    rnd = random.Random(os.getpid())
    victims = []  # (tag, state path)
    when = {"start": 0, "turn": 0, "done": 0}
    t0 = time.time()
    for k in range(args.kills):
        tag = f"v{k}"
        p, st = writer(env, tag, [VICTIM_TURNS, 300, "hold"], cpu=cpus[k % len(cpus)], name="victim")
        if rnd.random() < 0.1:
            time.sleep(rnd.uniform(0.0, 0.003))
            when["start"] += 1
        else:
            target = rnd.randrange(VICTIM_TURNS + 10)
            s = wait_state(st, lambda s: s["started"] > target or s["finished"], 10)
            when["done" if s.get("finished") else "turn"] += 1
        p.kill9()
        env.procs.remove(p)
        victims.append((tag, st))
        if k % 100 == 99:
            env.check_daemons()
    h.log(f"{args.kills} producers killed in {time.time() - t0:.1f}s: {when['start']} at start, "
          f"{when['turn']} while writing, {when['done']} after their last turn")

    faults.quit_writers(steady, "steady writer", problems)

    # A fresh producer per CPU: no ring may stay wedged by a dead claim.
    fresh = []
    for c in cpus:
        p, st = writer(env, f"fr{c}", [2000], cpu=c, name=f"fresh{c}")
        fresh.append((f"fr{c}", p, st))
    for tag, p, st in fresh:
        try:
            rc = p.wait(30)
            if rc != 0:
                problems.append(f"fresh writer {tag} exited with {rc}: {p.log_text()[-300:]}")
        except h.Fail:
            problems.append(f"fresh writer {tag} (pinned to a CPU) still running after 30 s")
            p.kill9()

    inflight_at_kill = 0
    never_attached = 0
    for tag, st in victims:
        s = pub.add_writer(tag, st, killed=True)
        if not s.get("attached"):
            never_attached += 1
        if s.get("started", 0) > s.get("done", 0):
            inflight_at_kill += 1
    for tag, p, st in steady + fresh:
        pub.add_writer(tag, st)
    want = sum(pub.done.values()) - sum(pub.refused.values())
    env.wait_records(want, timeout=60, stall=15, settle=1.5,
                     pred=lambda r: (r.get("body") or "").startswith("fw "))
    acc = acct.account(env, pub, "producer_kill")
    acct.print_account(acc)
    problems += acc["problems"]

    # Per producer: the steady and fresh ones lose nothing, the victims'
    # records have no gap below what they published.
    got = acct.by_tag(acc)
    steady_missing = fresh_missing = victim_gaps = 0
    for tag, p, st in steady:
        steady_missing += sum(1 for i in range(pub.done[tag]) if i not in got.get(tag, ()))
    for tag, p, st in fresh:
        fresh_missing += sum(1 for i in range(pub.done[tag]) if i not in got.get(tag, ()))
    for tag, st in victims:
        victim_gaps += sum(1 for i in range(pub.done[tag]) if i not in got.get(tag, ()))
    if steady_missing:
        problems.append(f"{steady_missing} records of the steady producers missing")
    if fresh_missing:
        problems.append(f"fresh producers after the kills: {fresh_missing} records missing "
                        f"(a ring wedged?)")
    if victim_gaps:
        problems.append(f"{victim_gaps} records missing inside the sequences of killed producers")
    undelivered_inflight = acc["inflight"] - acc["inflight_delivered"]
    abandoned = acc["extra"]["abandoned"]
    if abandoned > undelivered_inflight:
        problems.append(f"{abandoned} claims abandoned, but only {undelivered_inflight} "
                        f"victims died inside a call whose record did not arrive")
    if sum(pub.refused.values()):
        problems.append(f"{sum(pub.refused.values())} calls refused (not -ENOBUFS)")

    h.log(f"figures: {args.kills} victims ({never_attached} killed before attaching, "
          f"{inflight_at_kill} inside a call, {acc['inflight_delivered']} of those records "
          f"arrived, {abandoned} claims abandoned); victim records published "
          f"{sum(pub.done[t] for t, _ in victims)}; steady "
          f"{[pub.done[t] for t, _, _ in steady]} missing {steady_missing}; fresh "
          f"{[pub.done[t] for t, _, _ in fresh]} missing {fresh_missing}; victim gaps "
          f"{victim_gaps}; segment {env.seg_counters()}; exporter sent_records "
          f"{env.status().get('sent_records')}")
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test, extra_args)
