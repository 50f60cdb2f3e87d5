#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_backpressure.py (issue 4, item 7): what a producer does when its
rings are full, SHMLOG_ON_FULL=drop (the default) or wait:<ms>. The
collector is stopped with SIGSTOP (so nothing is released and the rings
fill) while workloads/bp_producer.c logs N records through shmlog_log()
without ever retrying; then SIGCONT.

  drop      the producer finishes all N calls while the collector is still
            stopped (it never waits), the refused calls are exactly the
            ring drops and its own count of -ENOBUFS, no wait is counted,
            and after SIGCONT everything else arrives:
            published == delivered + dropped.
  wait:200  the producer cannot finish while the collector is stopped (a
            full ring holds each call up to 200 ms, so at most the rings'
            capacity plus one record per 200 ms of the stop get through),
            waits are counted in its producer entry (pe_full_waits,
            pe_full_wait_ms: shmtop --json shows them), far fewer records
            are dropped than with drop, and after SIGCONT everything not
            counted as dropped arrives: published == delivered + dropped.
The rings are small ([shm] ring_slots = 4096, 2 rings) so that they fill
quickly; the producer is pinned to CPU 0.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402

N = 30000
SLOTS = 4096
STOP_S = 3.0


def extra_args(ap):
    ap.add_argument("--bp-producer", required=True)


def producer_entry(env, pid):
    """(pe_drops, pe_full_waits, pe_full_wait_ms) of pid's producer entry."""
    with open(env.seg_path(), "rb") as f:
        hdr = f.read(4096)
        nprod, = struct.unpack_from("<I", hdr, 44)
        prod_off, = struct.unpack_from("<Q", hdr, 56)
        for i in range(min(nprod, 65536)):
            f.seek(prod_off + i * 1024)
            e = f.read(64)
            if len(e) == 64 and struct.unpack_from("<I", e, 12)[0] == pid:
                drops, = struct.unpack_from("<Q", e, 32)
                waits, wait_ms = struct.unpack_from("<II", e, 56)
                return drops, waits, wait_ms
    return None


def run_case(args, mode):
    ini = h.metrics_ini("cumulative", 300, shm={"ring_slots": SLOTS})
    env = h.Env(args, "bp-" + mode.replace(":", ""), ini=ini)
    try:
        return _run(env, mode)
    finally:
        # A collector left stopped would not stop on SIGTERM.
        if env.collector is not None:
            env.collector.signal_group(signal.SIGCONT)
        env.close()


def _run(env, mode):
    tag = "bp" + mode.replace(":", "")
    ready = os.path.join(env.tmp, "ready")
    go = os.path.join(env.tmp, "go")
    res = os.path.join(env.tmp, "result")
    extra = {} if mode == "drop" else {"SHMLOG_ON_FULL": mode}
    p = env.producer("bp", [env.args.bp_producer, tag, str(N), ready, go, res], extra_env=extra,
                     stdout=None, stderr=None, cpu=0)
    deadline = time.time() + 20
    while not os.path.exists(ready):
        h.check(p.running(), f"fault_bp_producer exited at start: {p.log_text()[-500:]}")
        h.check(time.time() < deadline, "fault_bp_producer did not attach in 20 s")
        time.sleep(0.02)
    env.wait_records(1, timeout=20, settle=0)  # its probe record went through
    env.collector.signal_group(signal.SIGSTOP)
    with open(go, "w") as f:
        f.write("go\n")
    t0 = time.time()
    finished_stopped = False
    while time.time() - t0 < STOP_S:
        if not p.running():
            finished_stopped = True
            break
        time.sleep(0.05)
    if mode == "drop":
        rc = p.wait(60)  # must not need the collector
        finished_stopped = True
    entry = producer_entry(env, p.pid)
    shmtop = None
    if p.running():
        out = subprocess.run([env.bin("shmtop"), "--json", "-n", env.ns], capture_output=True,
                             text=True, timeout=20)
        if out.returncode == 0:
            shmtop = next((q for q in json.loads(out.stdout).get("producers", [])
                           if q.get("pid") == p.pid), None)
    env.collector.signal_group(signal.SIGCONT)
    rc = p.wait(90)
    h.check(rc == 0, f"fault_bp_producer exited with {rc}: {p.log_text()[-500:]}")
    r = h.read_kv(res)
    pub = [f"bp {tag} start"] + [f"bp {tag} {i:07d}" for i in range(N)]
    env.wait_records(r.get("ok", 0) + 1, timeout=40, settle=1.0, stall=10)
    env.check_daemons()
    published = acct.Published()
    published.add_bodies(pub)
    acc = acct.account(env, published, f"backpressure-{mode}")
    acct.print_account(acc)
    h.log(f"{mode}: calls ok={r.get('ok')} enobufs={r.get('enobufs')}; producer entry "
          f"(drops, waits, wait_ms) while the collector was stopped: {entry}; shmtop: "
          f"{shmtop and {k: shmtop.get(k) for k in ('drops', 'full_waits', 'full_wait_ms')}}; "
          f"finished while stopped: {finished_stopped}")
    problems = []
    problems += acc["problems"]
    if acc["drops"]["ring"] != r.get("enobufs"):
        problems.append(f"ring drops {acc['drops']['ring']} != the producer's -ENOBUFS "
                        f"{r.get('enobufs')}")
    if mode == "drop":
        if not finished_stopped:
            problems.append("with drop, the producer did not finish while the collector was "
                            "stopped")
        if acc["drops"]["ring"] == 0:
            problems.append("no drop although the collector was stopped: the rings never filled")
        if entry is not None and entry[1] != 0:
            problems.append(f"{entry[1]} waits counted with drop")
    else:
        if finished_stopped:
            problems.append(f"with {mode}, the producer finished while the collector was stopped")
        if entry is None or entry[1] == 0 or entry[2] == 0:
            problems.append(f"no wait counted in the producer entry: {entry}")
        if shmtop is None or not shmtop.get("full_waits"):
            problems.append(f"shmtop --json shows no full_waits: {shmtop}")
        # The collector's own metrics, per producer (core/self_metrics.c;
        # this producer is the only one of the namespace).
        pts, met = env.wait_metrics(lambda pts: any(
            q["name"] == "shmlog.producer.full.waits" and (q.get("value") or 0) > 0
            for q in pts), timeout=15)
        wt = [q.get("value") for q in pts if q["name"] == "shmlog.producer.full.wait_time"]
        h.log(f"{mode}: shmlog.producer.full.waits seen: {met}; full.wait_time last: "
              f"{wt[-1] if wt else None} ms")
        if not met or not wt or not wt[-1]:
            problems.append("no shmlog.producer.full.waits / wait_time > 0 at the receiver")
    h.check(not problems, "; ".join(problems))
    return acc


def test(args):
    drop = run_case(args, "drop")
    wait = run_case(args, "wait:200")
    h.log(f"dropped: drop {drop['drops']['ring']}, wait:200 {wait['drops']['ring']}")
    h.check(wait["drops"]["ring"] < drop["drops"]["ring"],
            f"wait:200 dropped {wait['drops']['ring']} records, drop {drop['drops']['ring']}: not fewer")


if __name__ == "__main__":
    h.main(test, extra_args)
