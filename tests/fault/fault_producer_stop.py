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

The victim, `fault_writer stop-in-claim`, writes 20,000 records flat out
(rings of 4,096 slots: it fills them and drops, counted), then claims the
next one through the ring protocol (ring_write.h, as the library does),
copies half of it and SIGSTOPs itself: stopped while it holds a claim, for
certain (random SIGSTOPs of the library's own loop land inside the short
claim-to-publish window only now and then). The test checks that the
segment shows the collector waiting at that CLAIMED word (the collector's
cursor of that ring, owner the victim's thread) and leaves it stopped 10 s
while two paced writers write, one on the CPU whose ring is held (it
fills, and that writer goes on in the next ring) and one on the other CPU.
Then SIGCONT: the victim copies the rest, publishes, writes 20,000 more
records and exits. Checked:
  - during the stop: the held ring's cursor stays at the claim, no claim
    is abandoned, and the other writers' records keep arriving: before the
    end of the stop the receiver has records of both that were written 2 s
    or more into it (when the held ring is full), including the one on the
    held CPU;
  - after SIGCONT: the held record (turn 20,000, whole) and every other
    record of the victim arrive or are counted as ring drops (it is alive
    all along: its claim is never declared dead, so nothing of it is
    abandoned); the ring moves past the claim;
  - the accounting holds for all three (ACCOUNT line), no duplicates,
    nothing torn or foreign.
"""
import os
import signal
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402
import faults  # noqa: E402

STOP_S = 10.0
BEFORE = 20000  # turns flat out before the held one
AFTER = 20000   # and after it
CTL_CLAIMED = 1


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


def proc_state(pid):
    """The state letter of /proc/PID/stat ("T": stopped), or "" when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return ""


def test(args):
    env = h.Env(args, "fstop", ini={"shm": {"dead_check_ms": "200", "ring_slots": "4096"}})
    cpus = sorted(os.sched_getaffinity(0))
    cpu_a = cpus[0]
    pub = acct.Published()
    problems = []

    victim, vst = faults.writer(env, "stop-in-claim", "sv", (BEFORE, AFTER), cpu=cpu_a)
    deadline = time.time() + 30
    held = []
    while time.time() < deadline and not held:
        s = acct.read_state(vst)
        if s.get("claimed") and proc_state(victim.pid) == "T":
            held = held_claims(env, victim.pid)
        if not victim.running():
            break
        time.sleep(0.01)
    if not held:
        victim.signal_group(signal.SIGCONT)
        raise h.Fail(f"the victim did not stop holding a claim (state {acct.read_state(vst)}, "
                     f"exit {victim.popen.poll()}): {victim.log_text()[-300:]}")
    t_stop = time.time()
    at_stop = acct.read_state(vst)
    ring, cursor = held[0]
    h.log(f"victim stopped holding a claim at ring {ring} position {cursor} "
          f"(state: started {at_stop['started']}, done {at_stop['done']})")

    others = []
    # oa on the CPU whose ring is held (its records must go to the next
    # ring), ob on another one.
    held_cpu = ring if ring in cpus else cpu_a
    other_cpu = next((c for c in cpus if c != held_cpu), held_cpu)
    for tag, c in (("oa", held_cpu), ("ob", other_cpu)):
        p, st = faults.writer(env, "seq", tag, [0, 100000], cpu=c)  # ~1,000 records/s until quit
        others.append((tag, p, st))

    def others_received(since):
        """{tag: records received so far that were written after since}."""
        n = {}
        for r in env.records():
            b = r.get("body") or ""
            for tag, _, _ in others:
                if b.startswith(f"fw {tag} ") and int(r["time"]) >= since * 1e9:
                    n[tag] = n.get(tag, 0) + 1
        return n

    time.sleep(2.0)
    abandoned_early = env.seg_counters().get("abandoned", 0)
    t_mid = time.time()  # the held ring is full by now (4,096 slots)
    while time.time() < t_stop + STOP_S:
        time.sleep(0.1)
    late = others_received(t_mid)
    early = others_received(0)
    seg_stop = env.seg_counters()
    still = held_claims(env, victim.pid)
    cur_end = faults.ring_cursor(env, ring)
    if (ring, cursor) not in still or cur_end != cursor:
        problems.append(f"the stopped writer's claim at ring {ring} position {cursor} was not "
                        f"waited for (cursor now {cur_end}, held {still})")
    if seg_stop.get("abandoned", 0):
        problems.append(f"{seg_stop['abandoned']} claims abandoned while the writer was stopped")
    for tag, _, _ in others:
        if not late.get(tag):
            problems.append(f"writer {tag}: none of its records written from 2 s into the stop "
                            f"arrived before its end ({early.get(tag, 0)} received in all)")

    # Continue: it publishes the held record, writes AFTER more and exits.
    victim.signal_group(signal.SIGCONT)
    rc = victim.wait(20)
    if rc != 0:
        problems.append(f"victim exited with {rc}")
    faults.quit_writers(others, "writer", problems)
    for tag in ("sv", "oa", "ob"):
        pub.add_writer(tag, acct.state_path(env, tag))
    want = sum(pub.done.values())
    env.wait_records(want - env.seg_counters().get("ring_drops", 0), timeout=45, stall=15,
                     settle=1.5, pred=lambda r: (r.get("body") or "").startswith("fw "))
    acc = acct.account(env, pub, "producer_stop")
    acct.print_account(acc)
    problems += acc["problems"]

    got = acct.by_tag(acc)
    held_turn = at_stop["done"]  # the turn it was inside when stopped
    if held_turn not in got.get("sv", ()):
        problems.append(f"the held record (turn {held_turn}) did not arrive after SIGCONT")
    if faults.ring_cursor(env, ring) <= cursor:
        problems.append(f"ring {ring} did not move past the claim after SIGCONT")
    sv_missing = sum(1 for i in range(pub.done["sv"]) if i not in got.get("sv", ()))
    seg = env.seg_counters()
    h.log(f"figures: stop {STOP_S:.0f}s; others' records received before its end {early}, "
          f"of them written from 2 s into it {late}; victim published {pub.done['sv']} (held turn {held_turn}, missing "
          f"{sv_missing}, enobufs {acct.read_state(vst).get('enobufs')}); others published "
          f"{pub.done['oa']}, {pub.done['ob']}; abandoned 2 s in {abandoned_early}; "
          f"segment {seg}")
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test)
