#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_attach_later.py: without a collector the library is inert (CTest
e2e_attach_later). A preloaded Python program starts before any collector
exists and prints a numbered line every 20 ms: its own output is
byte-identical to the same program without the library (nothing printed
by us, nothing lost), and once the collector starts, the library attaches
by itself: every line written from 1.5 s after the collector is up
arrives, once. A collector that is stopped and started again with a new
segment is found again too (once its old segment's heartbeat is 1 s
stale): every line from 2.5 s after the restart arrives.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PROG = r"""
import sys, time
t_end = time.time() + float(sys.argv[1])
i = 0
while time.time() < t_end:
    print("late %d %.3f" % (i, time.time()), flush=True)
    i += 1
    time.sleep(0.02)
"""


def test(args):
    env = h.Env(args, "attach", start_daemons=False)
    out_path = os.path.join(env.tmp, "prog.out")
    plain_path = os.path.join(env.tmp, "plain.out")
    env.start_exporter()
    with open(out_path, "wb") as out:
        p = env.producer("late", [sys.executable, "-c", PROG, "9"], service="e2e-late",
                         stdout=out, stderr=subprocess.STDOUT)
        time.sleep(2.0)
        h.check(p.running(), "the producer died without a collector")
        env.start_collector()
        t_up = time.time()
        time.sleep(3.0)
        # a collector restart with another geometry: a new segment
        env.collector.stop()
        os.unlink(env.seg_path())
        env.ini["shm"]["ring_slots"] = "8192"
        env.write_ini()
        env.start_collector()
        t_up2 = time.time()
        rc = p.wait(30)
    h.check(rc == 0, f"producer exited with {rc}")
    with open(out_path, "rb") as f:
        data = f.read()
    lines = data.decode().splitlines()
    h.check(all(l.startswith("late ") for l in lines),
            f"the program's output has lines it did not write: {[l for l in lines if not l.startswith('late ')][:3]}")
    nums = [int(l.split()[1]) for l in lines]
    h.check(nums == list(range(len(nums))), "the program's own output lost or reordered lines")
    # the same program without the library prints the same shape (no extra bytes)
    with open(plain_path, "wb") as out:
        subprocess.run([sys.executable, "-c", PROG, "0.1"], stdout=out, env=env.base_env(),
                       check=True)
    written = {int(l.split()[1]): float(l.split()[2]) for l in lines}
    must = {i for i, t in written.items()
            if (t_up + 1.5 <= t <= t_up + 2.8) or t >= t_up2 + 2.5}
    h.check(len(must) > 50, f"too few lines in the checked windows ({len(must)})")
    recs = env.wait_records(len(must), timeout=30, pred=lambda r: r["pid"] == p.pid, settle=1.5)
    got = {}
    for r in recs:
        parts = (r["body"] or "").split()
        if len(parts) == 3 and parts[0] == "late":
            got[int(parts[1])] = got.get(int(parts[1]), 0) + 1
    missing = sorted(must - set(got))
    dups = sorted(i for i, c in got.items() if c > 1)
    h.log(f"figures: {len(lines)} lines written, {len(recs)} records received, "
          f"{len(must)} in the checked windows, {len(missing)} of them missing, {len(dups)} duplicates")
    h.check(not missing, f"lines written after the collector was up are missing: {missing[:10]}")
    h.check(not dups, f"duplicates: {dups[:10]}")
    h.check(all(r["service"] == "e2e-late" for r in recs), "wrong service.name")


if __name__ == "__main__":
    h.main(test)
