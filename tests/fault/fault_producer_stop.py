#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_producer_stop.py: a producer SIGSTOPped for 10 s while it holds a
claimed slot, then SIGCONTed (CTest fault_producer_stop).

What shm/ABI.md promises: a stopped writer is alive (its /proc state is
`T`), so its claim is never declared dead and never skipped; its ring waits
for it (RING.md L2: it "may hold up its ring meanwhile, and other writers
then use another CPU's ring or drop and count"), and once it continues it
publishes the held record and everything after it, nothing overwritten.

The victim, a fault_writer writing flat out (rings of 4,096 slots: it
fills them and drops, counted), is let run for a few random milliseconds
at a time and SIGSTOPped, until the segment shows the collector waiting at
a CLAIMED control word whose owner is the victim's thread (the collector's
cursor of that ring); then it stays stopped 10 s while two paced writers
write, one on the CPU whose ring is held (it fills, and that writer goes
on in the next ring) and one on the other CPU. Checked:
  - during the stop: the held ring's cursor stays at the claim, no claim
    is abandoned, and the other writers' records keep arriving (more
    records received at the end of the stop than 2 s into it, from both,
    including the one on the held CPU);
  - after SIGCONT: the held record (the turn the victim was inside) and
    every other record of the victim arrive; the ring moves past the claim;
  - the accounting holds for all three (ACCOUNT line), no duplicates,
    nothing torn or foreign.
"""
import os
import random
import signal
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402

STOP_S = 10.0
CTL_CLAIMED = 1


def extra_args(ap):
    ap.add_argument("--fault-writer", required=True)


def writer(env, tag, argv_tail, cpu):
    st = acct.state_path(env, tag)
    p = env.producer(tag, [env.args.fault_writer, "seq", tag, st] + [str(a) for a in argv_tail],
                     service="fault-" + tag, stdio="capture", cpu=cpu)
    return p, st


def held_claims(env, pid):
    """[(ring, cursor)] of the rings whose collector cursor sits on a
    CLAIMED word owned by a thread of process pid (shm/ABI.md layout)."""
    out = []
    with open(env.seg_path(), "rb") as f:
        hdr = f.read(4096)
        nrings, slots, _, max_threads = struct.unpack_from("<IIII", hdr, 36)
        thr_off, ring_off, stride = struct.unpack_from("<QQQ", hdr, 64)
        for k in range(min(nrings, 4096)):
            base = ring_off + k * stride
            f.seek(base + 136)
            cursor, = struct.unpack("<Q", f.read(8))
            f.seek(base + 256 + 8 * (cursor & (slots - 1)))
            w, = struct.unpack("<Q", f.read(8))
            lap = ((cursor >> (slots.bit_length() - 1)) + 1) & 0xFFFFFFFF
            if (w >> 32) != lap or (w >> 30) & 3 != CTL_CLAIMED:
                continue
            owner = w & 0xFFFFF
            if owner >= max_threads:
                continue
            f.seek(thr_off + 32 * owner)
            tid, tpid = struct.unpack("<II", f.read(8))
            if tpid == pid:
                out.append((k, cursor))
    return out


def ring_cursor(env, k):
    with open(env.seg_path(), "rb") as f:
        hdr = f.read(96)
        ring_off, stride = struct.unpack_from("<QQ", hdr, 72)
        f.seek(ring_off + k * stride + 136)
        return struct.unpack("<Q", f.read(8))[0]


def test(args):
    env = h.Env(args, "fstop", ini={"shm": {"dead_check_ms": "200", "ring_slots": "4096"}})
    cpus = sorted(os.sched_getaffinity(0))
    cpu_a = cpus[0]
    pub = acct.Published()
    problems = []
    rnd = random.Random(os.getpid())

    victim, vst = writer(env, "sv", [0, 0], cpu_a)
    s = None
    deadline = time.time() + 15
    while time.time() < deadline:
        s = acct.read_state(vst)
        if s.get("attached"):
            break
        time.sleep(0.01)
    h.check(s and s.get("attached"), f"victim did not attach: {victim.log_text()}")

    # Let it run a few ms at a time until it is stopped holding a claim.
    held = []
    tries = 0
    victim.signal_group(signal.SIGSTOP)
    while tries < 300 and not held:
        tries += 1
        victim.signal_group(signal.SIGCONT)
        time.sleep(rnd.uniform(0.0005, 0.004))
        victim.signal_group(signal.SIGSTOP)
        time.sleep(0.03)  # the collector drains up to the claim
        held = held_claims(env, victim.pid)
    if not held:
        victim.signal_group(signal.SIGCONT)
        raise h.Fail(f"the victim never stopped holding a claim in {tries} tries")
    t_stop = time.time()
    at_stop = acct.read_state(vst)
    ring, cursor = held[0]
    h.log(f"victim stopped holding a claim at ring {ring} position {cursor} after {tries} tries "
          f"(state: started {at_stop['started']}, done {at_stop['done']})")

    others = []
    # oa on the CPU whose ring is held (its records must go to the next
    # ring), ob on another one.
    held_cpu = ring if ring in cpus else cpu_a
    other_cpu = next((c for c in cpus if c != held_cpu), held_cpu)
    for tag, c in (("oa", held_cpu), ("ob", other_cpu)):
        p, st = writer(env, tag, [0, 100000], c)  # ~1,000 records/s until quit
        others.append((tag, p, st))

    def others_received():
        n = {}
        for r in env.records():
            b = r.get("body") or ""
            for tag, _, _ in others:
                if b.startswith(f"fw {tag} "):
                    n[tag] = n.get(tag, 0) + 1
        return n

    time.sleep(2.0)
    early = others_received()
    abandoned_early = env.seg_counters().get("abandoned", 0)
    while time.time() < t_stop + STOP_S:
        time.sleep(0.1)
    late = others_received()
    seg_stop = env.seg_counters()
    still = held_claims(env, victim.pid)
    cur_end = ring_cursor(env, ring)
    if (ring, cursor) not in still or cur_end != cursor:
        problems.append(f"the stopped writer's claim at ring {ring} position {cursor} was not "
                        f"waited for (cursor now {cur_end}, held {still})")
    if seg_stop.get("abandoned", 0):
        problems.append(f"{seg_stop['abandoned']} claims abandoned while the writer was stopped")
    for tag, _, _ in others:
        if late.get(tag, 0) <= early.get(tag, 0):
            problems.append(f"writer {tag}: no record arrived between 2 s and {STOP_S:.0f} s into "
                            f"the stop ({early.get(tag, 0)} -> {late.get(tag, 0)})")

    # Continue: it finishes the held record, then its turn, and quits.
    acct.set_quit(vst)
    victim.signal_group(signal.SIGCONT)
    rc = victim.wait(20)
    if rc != 0:
        problems.append(f"victim exited with {rc}")
    for tag, p, st in others:
        acct.set_quit(st)
    for tag, p, st in others:
        rc = p.wait(20)
        if rc != 0:
            problems.append(f"writer {tag} exited with {rc}")
    for tag in ("sv", "oa", "ob"):
        pub.add_writer(tag, acct.state_path(env, tag))
    want = sum(pub.done.values())
    env.wait_records(want - env.seg_counters().get("ring_drops", 0), timeout=45, stall=15,
                     settle=1.5, pred=lambda r: (r.get("body") or "").startswith("fw "))
    acc = acct.account(env, pub, "producer_stop")
    acct.print_account(acc)
    problems += acc["problems"]

    got = {}
    for r in env.records():
        k = pub.match(r.get("body"))
        if k:
            got.setdefault(k[0], set()).add(k[1])
    held_turn = at_stop["done"]  # the turn it was inside when stopped
    if held_turn not in got.get("sv", ()):
        problems.append(f"the held record (turn {held_turn}) did not arrive after SIGCONT")
    if ring_cursor(env, ring) <= cursor:
        problems.append(f"ring {ring} did not move past the claim after SIGCONT")
    sv_missing = sum(1 for i in range(pub.done["sv"]) if i not in got.get("sv", ()))
    seg = env.seg_counters()
    h.log(f"figures: stop {STOP_S:.0f}s; others received 2 s into the stop {early}, at its end "
          f"{late}; victim published {pub.done['sv']} (held turn {held_turn}, missing "
          f"{sv_missing}, enobufs {acct.read_state(vst).get('enobufs')}); others published "
          f"{pub.done['oa']}, {pub.done['ob']}; abandoned 2 s in {abandoned_early}; "
          f"segment {seg}")
    if problems:
        for p in problems[:30]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test, extra_args)
