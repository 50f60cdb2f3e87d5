#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_metrics_more.py: metrics across a collector restart, per-service
grouping, and the agent's own metrics (CTest e2e_metrics_restart).

1. Two e2e_metrics_producer processes write for about 2.7 s; after 1 s the
   collector is SIGKILLed and started again. The aggregates live in the
   segment and each ring remembers which metric records it applied, so
   every series still ends at its exact total, with one start time
   across the restart.
2. grouping = service: three producers of one service.name are one
   resource whose counters are the sums of theirs.
3. The agent's own metrics arrive under its own resource (service.name
   shmlog): records read, dictionary use.
4. A producer that writes only metrics, three times what the rings hold,
   finishes (its slots are released with no log flush) and its counter
   ends at the exact total.
"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def restart_phase(args, problems):
    env = h.Env(args, "metrics-restart", ini=h.metrics_ini("cumulative", 300))
    procs = {}
    for i in (1, 2):
        procs[i] = env.metrics_producer([i], service="e2e-mrestart", name=f"m{i}")
    time.sleep(1.0)
    env.collector.kill9()
    time.sleep(0.3)
    env.start_collector()
    for i, p in procs.items():
        h.check(p.wait(60) == 0, f"producer {i} failed: {p.log_text()[-500:]}")
    t_exit = time.time_ns()
    expected = {}
    for i, p in procs.items():
        for (name, ak), spec in h.expected_metrics(i).items():
            expected[(p.pid, name, ak)] = spec
    after = t_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series(pts)
        return all(k in by and int(by[k][-1]["time"]) >= after for k in expected)

    pts, met = env.wait_metrics(done, timeout=30)
    if not met:
        problems.append("restart: the end state did not arrive within 30 s")
    by = h.metric_series(pts)
    starts = 0
    for k, spec in expected.items():
        problems += h.check_series(f"restart {k[1]} {k[2]}", by.get(k, []), spec, "cumulative")
        starts += len({p["start"] for p in by.get(k, []) if p.get("start")})
    h.log(f"restart: {len(expected)} series checked across a collector SIGKILL, "
          f"{len(pts)} points, {starts} distinct start times")
    env.close()


def service_phase(args, problems):
    env = h.Env(args, "metrics-service",
                ini=h.metrics_ini("cumulative", 300, grouping="service"))
    procs = [env.metrics_producer([i], service="e2e-msvc", name=f"s{i}") for i in (1, 2, 3)]
    for p in procs:
        h.check(p.wait(60) == 0, f"producer failed: {p.log_text()[-500:]}")
    t_exit = time.time_ns()
    want = {}
    for i in (1, 2, 3):
        for (name, ak), spec in h.expected_metrics(i).items():
            if spec["kind"] == "counter":
                want[(name, ak)] = want.get((name, ak), 0.0) + spec["value"]

    def last_points(pts):
        last = {}
        for p in pts:
            if p["service"] != "e2e-msvc" or not p["name"].startswith("e2e."):
                continue
            k = (p["name"], h.attrs_key(p["attrs"]))
            if k not in last or int(p["time"]) >= int(last[k]["time"]):
                last[k] = p
        return last

    def done(pts):
        last = last_points(pts)
        return all(k in last and int(last[k]["time"]) >= t_exit + 1_000_000_000 for k in want)

    pts, met = env.wait_metrics(done, timeout=30)
    if not met:
        problems.append("service grouping: the end state did not arrive within 30 s")
    last = last_points(pts)
    for k, v in want.items():
        got = last.get(k, {}).get("value")
        if got != v:
            problems.append(f"service grouping: {k} = {got}, expected {v} (3 processes summed)")
    pids = {p["pid"] for p in pts if p["service"] == "e2e-msvc"}
    if pids != {None}:
        problems.append(f"service grouping: process.pid on the merged resource: {pids}")
    # the agent's own metrics, under its own resource
    own = collections.defaultdict(list)
    for p in pts:
        if p["service"] == "shmlog" and p["name"].startswith("shmlog."):
            own[p["name"]].append(p)
    read = max((p.get("value") or 0 for p in own.get("shmlog.records.read", [])), default=0)
    insts = max((p.get("value") or 0 for p in own.get("shmlog.dictionary.instruments", [])),
                default=0)
    series = max((p.get("value") or 0 for p in own.get("shmlog.dictionary.series", [])),
                 default=0)
    for name in ("shmlog.records.read", "shmlog.records.dropped", "shmlog.records.invalid",
                 "shmlog.dictionary.instruments", "shmlog.dictionary.series",
                 "shmlog.spool.bytes", "shmlog.metric.overflow"):
        if name not in own:
            problems.append(f"own metrics: {name} missing")
    if read < 3000:
        problems.append(f"own metrics: shmlog.records.read = {read}, expected the thousands written")
    # 3 counters, an up-down counter, a gauge, a histogram; 2 attribute
    # sets per counter, one gauge series per producer (3), 1 + 1 others
    if insts != 6 or series != 11:
        problems.append(f"own metrics: dictionary instruments {insts}, series {series}, "
                        "expected 6 and 11")
    h.log(f"service grouping: {len(want)} counters summed over 3 processes; own metrics: "
          f"{len(own)} names, records read {read}, instruments {insts}, series {series}")
    env.close()


FLOOD = 400000


def flood_phase(args, problems):
    env = h.Env(args, "metrics-flood", ini=h.metrics_ini("cumulative", 300))
    p = env.metrics_producer(["flood", FLOOD], service="e2e-flood", name="flood")
    rc = p.wait(60)
    if rc != 0:
        problems.append(f"flood: the metrics-only producer failed ({rc}): {p.log_text()[-300:]}")
        env.close()
        return

    def done(pts):
        return any(q["name"] == "e2e.flood" and q.get("value") == FLOOD for q in pts)

    pts, met = env.wait_metrics(done, timeout=30)
    last = max((q.get("value") or 0 for q in pts if q["name"] == "e2e.flood"), default=0)
    if not met:
        problems.append(f"flood: e2e.flood ended at {last}, expected {FLOOD}")
    h.log(f"flood: {FLOOD} metric-only records through rings of 2 x 65536 slots, final {last}")
    env.close()


def test(args):
    problems = []
    restart_phase(args, problems)
    service_phase(args, problems)
    flood_phase(args, problems)
    if problems:
        for p in problems[:20]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
