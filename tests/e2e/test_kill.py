#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_kill.py: producers SIGKILLed mid-write (CTest e2e_kill_producer).

200 times in a row a small producer (e2e_api_producer loop: an API record
and a write(1) line per turn, flat out, at most 600 turns) is started on
one CPU or the other and SIGKILLed after a random 0.5-5 ms (at registration,
mid-record, between records), while two steady producers (the API
producer, paced, and the Python workload, paced) write known sets. Then:
  - every record of the steady producers arrived, exactly once;
  - every record received from a killed producer is well formed: its body
    is exactly what the victim writes for that sequence number (nothing
    torn, partial or foreign), its attributes match, and the sequence
    numbers received from one victim have no gap (what was published
    before the kill is not lost) and no duplicate;
  - afterwards a fresh producer on each CPU gets all its lines through (no
    ring is wedged by a dead writer's claim).
"""
import collections
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

KILLS = 200
VICTIM_TURNS = 600  # ~1-2 ms flat out: most kills land while it writes


def victim_line(tag, i):
    plen = (i * 7) % 200
    return f"kl {tag} {i} " + "".join(chr(ord("a") + (i + k) % 26) for k in range(plen))


def test(args):
    env = h.Env(args, "kill", ini={"shm": {"dead_check_ms": "200"}})
    cpus = sorted(os.sched_getaffinity(0))
    result = os.path.join(env.tmp, "steady.result")

    steady_api = env.producer("steady-api", [env.api_producer(), "run", "st1", "20000", "0", "40000",
                                             result], service="e2e-steady-api")
    steady_py = env.producer("steady-py", [sys.executable, os.path.join(h.WORKLOADS, "py_workload.py"),
                                           "st2", "8000", "--pace-ms", "60",
                                           "--no-utf8-split"], service="e2e-steady-py")

    victims = {}  # pid -> tag
    rnd = random.Random(os.getpid())
    t0 = time.time()
    for k in range(KILLS):
        tag = f"v{k}"
        p = env.producer(tag, [env.api_producer(), "loop", tag, str(VICTIM_TURNS)],
                         service="e2e-victim", cpu=cpus[k % len(cpus)])
        time.sleep(rnd.uniform(0.0005, 0.005))
        p.kill9()
        victims[p.pid] = tag
        env.procs.remove(p)
    h.log(f"{KILLS} producers killed in {time.time() - t0:.1f}s")
    env.check_daemons()

    problems = []
    deadline = time.time() + 30  # they need about 8 s
    for p in (steady_api, steady_py):
        try:
            rc = p.wait(max(1.0, deadline - time.time()))
            if rc != 0:
                problems.append(f"{p.name} exited with {rc}")
        except h.Fail:
            problems.append(f"{p.name} still running 30 s after the kills (blocked on a full, "
                            f"wedged ring?): progress {h.read_kv(result) if p is steady_api else '?'}, "
                            f"segment {env.seg_counters()}")
            p.kill9()
    sres = h.read_kv(result)
    if sres.get("failed"):
        problems.append(f"steady API producer: failed calls {sres}")

    # A fresh producer per CPU: no ring may stay wedged.
    fresh = []
    for c in cpus:
        fresh.append(env.producer(f"fresh{c}", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"),
                                                f"fresh{c}", "500"], service="e2e-fresh", cpu=c))
    for p in fresh:
        try:
            rc = p.wait(20)
            if rc != 0:
                problems.append(f"{p.name} exited with {rc}")
        except h.Fail:
            problems.append(f"{p.name} (pinned to a CPU) still running after 20 s")
            p.kill9()

    exp_api_io = h.expected_api_stdio("st1", 20000, 0)
    exp_py = h.expected_python("st2", 8000, utf8_split=False)
    exp_fresh = {p.pid: h.expected_shell(f"fresh{c}", 500) for p, c in zip(fresh, cpus)}
    want = (20000 + len(exp_api_io) + sum(h.nparts(b) for _, b in exp_py) +
            sum(len(v) for v in exp_fresh.values()))
    recs = env.wait_records(want, timeout=20 if problems else 45,
                            pred=lambda r: r["service"] in ("e2e-steady-api", "e2e-steady-py",
                                                            "e2e-fresh"), settle=1.5)
    allrecs = env.records()
    seg = env.seg_counters()
    by_pid = collections.defaultdict(list)
    for r in allrecs:
        by_pid[r["pid"]].append(r)

    api_recs = [r for r in by_pid[steady_api.pid] if "log.iostream" not in r["attrs"]]
    io_recs = [r for r in by_pid[steady_api.pid] if "log.iostream" in r["attrs"]]
    f1, p = h.check_api("steady api", api_recs, "st1", "p", 20000)
    problems += p
    f2, p = h.check_captured("steady api stdio", io_recs, [(s, b) for _, s, b in exp_api_io])
    problems += p
    f3, p = h.check_captured("steady python", by_pid[steady_py.pid], exp_py)
    problems += p
    fresh_missing = 0
    for pid, exp in exp_fresh.items():
        f, p = h.check_captured(f"fresh pid {pid}", by_pid[pid], exp, lenient_stream=True)
        fresh_missing += f["missing"]
        problems += p

    # Victims: well formed, no gaps, no duplicates.
    vrecs = 0
    malformed = []
    gaps = 0
    dups = 0
    for pid, tag in victims.items():
        seen = {"stdout": collections.Counter(), "api": collections.Counter()}
        for r in by_pid.pop(pid, []):
            vrecs += 1
            body = r["body"] or ""
            if r["service"] != "e2e-victim":
                malformed.append(("service", r["service"], body[:60]))
                continue
            s = h.stream_of(r)
            if s == "stdout":
                m = re.fullmatch(r"kl (\S+) (\d+) ([a-z]*)", body)
                if not m or m.group(1) != tag or body != victim_line(tag, int(m.group(2))):
                    malformed.append(("stdout", body[:80]))
                    continue
                seen["stdout"][int(m.group(2))] += 1
            elif s == "api":
                m = re.fullmatch(r"api (\S+) (kl \S+ (\d+) [a-z]*) (\d{6,})", body)
                if (not m or m.group(1) != tag or int(m.group(3)) != int(m.group(4)) or
                        m.group(2) != victim_line(tag, int(m.group(3)))):
                    malformed.append(("api", body[:80]))
                    continue
                i = int(m.group(3))
                if i % 3 != 2 and (r["attrs"].get("e2e.i") != i or r["attrs"].get("e2e.tag") != tag
                                   or r["attrs"].get("e2e.who") != m.group(2)):
                    malformed.append(("api attrs", body[:60], r["attrs"]))
                    continue
                seen["api"][i] += 1
            else:
                malformed.append(("stream", s, body[:60]))
        for s, c in seen.items():
            if c:
                top = max(c)
                gaps += sum(1 for i in range(top) if i not in c)
                dups += sum(v - 1 for v in c.values())
    for pid, rs in by_pid.items():
        if pid not in (steady_api.pid, steady_py.pid) and pid not in exp_fresh:
            problems.append(f"{len(rs)} records of unknown pid {pid}: {rs[0]['body'][:60]!r}")
    if malformed:
        problems.append(f"{len(malformed)} malformed records from killed producers, e.g. {malformed[:3]}")
    if gaps:
        why = ("the rings dropped %d records (full)" % seg.get("ring_drops", 0)
               if seg.get("ring_drops") else "no drop counted: lost silently")
        problems.append(f"{gaps} records missing inside the sequences of killed producers "
                        f"(written before the kill; {why})")
    if dups:
        problems.append(f"{dups} duplicate records from killed producers")
    if fresh_missing:
        problems.append(f"fresh producers after the kills: {fresh_missing} lines missing "
                        f"(a ring wedged?)")

    h.log(f"figures: {KILLS} victims, {vrecs} victim records received (malformed {len(malformed)}, "
          f"gaps {gaps}, duplicates {dups}); steady api {f1}, stdio {f2}, python {f3}; "
          f"fresh missing {fresh_missing}; segment {seg}; exporter {env.status()}")
    if problems:
        for p in problems[:30]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
