#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_stale_segment.py: a stale /dev/shm/shmlog-<namespace> left before the
collector starts (CTest fault_stale_segment).

Four cases, each with its own namespace:
  other-abi       a header with our magic and ABI major 2, READY, 1 MiB
  bad-magic       1 MiB of junk
  truncated       a real segment (its collector SIGKILLed) cut to 8 KiB
  never-finished  a real segment whose state went back to INIT (a collector
                  that died while creating it)
and a fifth: a valid segment of another geometry (the configuration's
ring_slots changed) with a producer writing into it while no collector
runs: kept in its geometry, nothing lost, until a start finds it idle.
For the four: shmtop --once and --json exit 1 with one line that names the
problem; a producer started before the collector stays inert (the library
refuses the segment and retries once a second); the collector replaces the
segment and says so in one line of its log (shm/seg.h); a producer started
after it and the one started before both attach, and every record of both
arrives exactly once; then shmtop --json reads the new segment.
"""
import json
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import accounting  # noqa: E402
import faults  # noqa: E402
import harness as h  # noqa: E402

N = 4000

# case -> (what shmtop says, what the collector's log says)
CASES = {
    "other-abi": ("has ABI 2.0; this shmtop reads ABI 1.x", "ABI 2.0 (this collector: 1."),
    "bad-magic": ("is not a valid shmlog segment", "bad magic 0x4b4e554a"),
    "truncated": ("is not a valid shmlog segment", "corrupt or truncated (8192 bytes"),
    "never-finished": ("is still being set up by the collector", "never finished (state 0)"),
}


def make_stale(env, case):
    path = env.seg_path()
    if case == "other-abi":
        b = bytearray(1 << 20)
        struct.pack_into("<IHHII", b, 0, h.SEG_MAGIC, 2, 0, 4096, 0x01020304)  # ABI.md
        struct.pack_into("<I", b, 32, h.SEG_READY)
        with open(path, "wb") as f:
            f.write(b)
    elif case == "bad-magic":
        with open(path, "wb") as f:
            f.write(b"JUNK" * (1 << 18))
    else:
        env.start_collector()
        env.collector.kill9()
        if case == "truncated":
            os.truncate(path, 8192)
        else:
            with open(path, "r+b") as f:
                f.seek(32)
                f.write(struct.pack("<I", 0))  # SHM_SEG_INIT


def shmtop(env, *opts):
    p = subprocess.run([env.bin("shmtop"), "-n", env.ns] + list(opts), capture_output=True,
                       text=True, timeout=20, env=env.base_env())
    return p.returncode, (p.stdout + p.stderr).strip()


def run_case(args, case, problems):
    want_top, want_log = CASES[case]
    env = h.Env(args, "stale-" + case, start_daemons=False)
    h.check(os.path.exists(args.fault_writer), f"{args.fault_writer} is missing: build first")
    make_stale(env, case)
    rc, out = shmtop(env, "--once")
    rcj, outj = shmtop(env, "--json")
    if rc != 1 or want_top not in out or len(out.splitlines()) != 1:
        problems.append(f"{case}: shmtop --once before the collector: rc {rc}, {out[:300]!r}; "
                        f"expected rc 1 and one line with {want_top!r}")
    if rcj != 1 or want_top not in outj:
        problems.append(f"{case}: shmtop --json before the collector: rc {rcj}, {outj[:300]!r}")
    res_a = os.path.join(env.tmp, "a.result")
    res_b = os.path.join(env.tmp, "b.result")
    a = faults.fast(env, "before", "a", N, 3000, res_a, "e2e-stale",
                    extra_env={"SHMLOG_DEBUG": "1"}, stderr=None)
    time.sleep(1.5)  # the library has tried and refused the stale one
    early = h.read_kv(res_a)
    ino = os.stat(env.seg_path()).st_ino
    env.start_collector()
    # Wait for the new segment (a stale one may look READY already).
    deadline = time.time() + 10
    while os.stat(env.seg_path()).st_ino == ino:
        env.check_daemons()
        h.check(time.time() < deadline, f"{case}: the collector did not replace the segment")
        time.sleep(0.02)
    env.wait_segment()
    env.start_exporter()
    b = faults.fast(env, "after", "b", N, 3000, res_b, "e2e-stale")
    for p in (a, b):
        rc = p.wait(60)
        if rc != 0:
            problems.append(f"{case}: producer {p.name} exited {rc}")
    ra, rb = h.read_kv(res_a), h.read_kv(res_b)
    published = sum(r.get("ok", 0) + r.get("enobufs", 0) for r in (ra, rb))
    pub = accounting.Published()
    pub.add_count(published)
    acc = accounting.settle(env, pub, "stale_segment " + case, timeout=30, pause=0.5,
                            fail=False)
    tally = acc["tally"]
    problems += acc["problems"]
    if published != 2 * N:
        problems.append(f"{case}: producers published {published} records, expected {2 * N}: "
                        f"{ra} {rb}")
    pids = {k[0] for k in tally.copies}
    if pids != {a.pid, b.pid}:
        problems.append(f"{case}: records from pids {sorted(pids, key=str)}, expected "
                        f"{a.pid} (before) and {b.pid} (after)")
    if early:
        problems.append(f"{case}: the producer started before published into the stale "
                        f"segment: {early}")
    lines = [ln for ln in env.collector.log_text().splitlines() if "stale segment" in ln]
    if len(lines) != 1 or want_log not in lines[0]:
        problems.append(f"{case}: collector log lines about the stale segment {lines}, "
                        f"expected one with {want_log!r}")
    dbg = [ln for ln in a.log_text().splitlines() if "another ABI or corrupt" in ln]
    if case != "never-finished" and not dbg:
        problems.append(f"{case}: the producer started before never said (SHMLOG_DEBUG=1) that "
                        f"it refused the stale segment: {a.log_text()[-300:]!r}")
    rc, out = shmtop(env, "--json")
    try:
        snap = json.loads(out) if rc == 0 else None
    except ValueError:
        snap = None
    if snap is None:
        problems.append(f"{case}: shmtop --json after the collector: rc {rc}, {out[:300]!r}")
    h.log(f"{case}: shmtop said {outj!r} (rc {rcj}); collector: "
          f"{lines[0].split('collector: ', 1)[-1] if lines else None!r}; producer before "
          f"{ra.get('ok')} ok, after {rb.get('ok')} ok; shmtop after: rc {rc}")
    env.close()


def geometry_case(args, problems):
    """A valid segment of another geometry (ring_slots changed in the
    configuration) with a producer writing into it while its collector is
    down: the new collector goes on in the old geometry (replacing it would
    lose the records in its rings and those the producer writes until it
    notices), says so in one line, and every record arrives; a later start
    that finds it idle applies the configured geometry."""
    env = h.Env(args, "stale-geometry", ini={"shm": {"ring_slots": "16384"}})
    res = os.path.join(env.tmp, "g.result")
    p = faults.fast(env, "geom", "g", 5 * N, 20000, res, "e2e-stale")
    time.sleep(1.0)
    env.collector.kill9()
    time.sleep(0.8)
    env.ini["shm"]["ring_slots"] = "65536"
    env.write_ini()
    env.start_collector()
    rc = p.wait(60)
    if rc != 0:
        problems.append(f"geometry: producer exited {rc}")
    r = h.read_kv(res)
    published = r.get("ok", 0) + r.get("enobufs", 0)
    pub = accounting.Published()
    pub.add_count(published)
    acc = accounting.settle(env, pub, "stale_segment other-geometry", timeout=30,
                            allow_dups=True, pause=0.5, fail=False)
    problems += acc["problems"]
    kept = [ln for ln in env.collector.log_text().splitlines() if "own geometry" in ln]
    if len(kept) != 1 or "rings of 16384 slots" not in kept[0]:
        problems.append(f"geometry: collector lines about keeping the segment {kept}")
    # idle now: a restart applies the configured geometry
    env.collector.stop()
    ino = os.stat(env.seg_path()).st_ino
    env.start_collector()
    deadline = time.time() + 10
    def inode():
        # None while the collector has unlinked the old segment and not yet
        # created the new one (seen once: the stat raced that moment).
        try:
            return os.stat(env.seg_path()).st_ino
        except FileNotFoundError:
            return None

    while inode() in (ino, None) and time.time() < deadline:
        env.check_daemons()
        time.sleep(0.02)
    env.wait_segment()
    rc, out = shmtop(env, "--json")
    slots = json.loads(out).get("segment", {}).get("ring_slots") if rc == 0 else None
    repl = [ln for ln in env.collector.log_text().splitlines() if "stale segment" in ln]
    if len(repl) != 1 or "other geometry" not in repl[0] or slots != 65536:
        problems.append(f"geometry: idle restart: {repl}, shmtop slots {slots}; collector: "
                        f"{env.collector.log_text()[-600:]!r}")
    h.log(f"other-geometry: {kept[0].split('collector: ', 1)[-1] if kept else None!r}; "
          f"idle restart: {repl[0].split('collector: ', 1)[-1] if repl else None!r}, "
          f"shmtop slots {slots}")
    env.close()


def test(args):
    problems = []
    for case in CASES:
        run_case(args, case, problems)
    geometry_case(args, problems)
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test)
