#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_metrics.py: the metrics path end to end (CTest e2e_metrics_cumulative,
e2e_metrics_delta; --temporality cumulative|delta|lowmemory).

Eight e2e_metrics_producer processes (workloads/metrics_producer.c, IDs 1-8)
write counters, an up-down counter, a gauge and a histogram at once for
about 2.7 s; the collector exports every 300 ms ([metrics]
export_interval_ms), grouping=process. After they exit and the exports
after their exit arrived, for every (pid, instrument, attributes):
  cumulative: the last point equals the exact totals (value; count, sum,
    min, max, bucket counts), temporality 2, is_monotonic right, a start
    time constant across the points of a series and <= time, values never
    going back;
  delta/lowmemory: counter and histogram points are DELTA (1) and add up
    exactly to the totals (values, counts, sums, each bucket; min of the
    mins, max of the maxes) over intervals that do not overlap; the
    up-down counter stays CUMULATIVE (2) with the exact last value;
and gauges carry the last value. Units, descriptions, asDouble values,
default bounds and the producer's resource (service.name, process.pid) are
checked on every point. The expected totals come from
harness.expected_metrics(), the same formulas as the C workload.
"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

NPROD = 8
INTERVAL_MS = 300
SERVICE = "e2e-metrics"


def extra_args(ap):
    ap.add_argument("--temporality", default="cumulative",
                    choices=["cumulative", "delta", "lowmemory"])


def test(args):
    pref = args.temporality
    env = h.Env(args, "metrics-" + pref, ini=h.metrics_ini(pref, INTERVAL_MS))
    procs = {}
    for i in range(1, NPROD + 1):
        res = os.path.join(env.tmp, f"mp{i}.result")
        procs[i] = (env.metrics_producer([i, res], service=SERVICE, name=f"metrics{i}"), res)
    t0 = time.time()
    for i, (p, _) in procs.items():
        rc = p.wait(60)
        h.check(rc == 0, f"e2e_metrics_producer {i} exited with {rc}: {p.log_text()[-800:]}")
    t_exit = time.time_ns()
    h.log(f"producers ran {time.time() - t0:.1f}s")

    results = {i: h.read_kv(res) for i, (_, res) in procs.items()}
    expected = {}
    pid_of = {}
    for i, (p, _) in procs.items():
        pid_of[p.pid] = i
        neg = results[i].get("neg_refused", 0) > 0
        for (name, ak), spec in h.expected_metrics(i, neg).items():
            expected[(p.pid, name, ak)] = spec

    # Done: cumulative: every series has a point exported at least 1 s after
    # the producers exited (the rings are drained by then); delta: the
    # deltas add up (then 1.5 s more, to see late or duplicate deltas).
    after = t_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series(pts)
        if h.expected_temporality("counter", pref) == 2:
            return all(k in by and int(by[k][-1]["time"]) >= after for k in expected)
        return all(not h.final_diffs(h.series_final(by.get(k, []), spec, pref), spec)
                   for k, spec in expected.items())

    delta = h.expected_temporality("counter", pref) == 1
    pts, met = env.wait_metrics(done, timeout=30, settle=1.5 if delta else 0.0)
    env.check_daemons()

    problems = []
    negs = {i: r.get("neg_refused") for i, r in results.items() if r.get("neg_refused")}
    if negs:
        problems.append(f"shmlog_record refused negative histogram values (-EINVAL), per producer "
                        f"{negs} (left out of the expected totals)")
    if not met:
        problems.append("the end state did not arrive within 30 s after the producers exited "
                        + ("(no point exported 1 s after exit for every series)" if not delta
                           else "(the deltas do not add up to the totals)"))
    by = h.metric_series(pts)
    export_times = {int(p["time"]) for p in pts}
    for k, spec in sorted(expected.items(), key=lambda kv: (pid_of[kv[0][0]], kv[0][1], kv[0][2])):
        pid, name, ak = k
        problems += h.check_series(f"producer {pid_of[pid]} {name} {ak}", by.get(k, []), spec, pref,
                                   export_times)

    # Resource: grouping=process, the producer's own resource.
    for pid, i in pid_of.items():
        mine = [p for p in pts if p["pid"] == pid]
        problems += h.check_resource(f"producer {i} metrics", mine, SERVICE, pid,
                                     exe="e2e_metrics_producer")
    unexpected = collections.Counter()
    foreign = collections.Counter()
    for k, v in by.items():
        if k in expected:
            continue
        if k[1].startswith("e2e."):
            unexpected[f"pid {k[0]} {k[1]} {k[2]}"] += len(v)
        else:  # the agent's own metrics (on its resource or a producer's)
            foreign[f"{'producer' if k[0] in pid_of else v[0]['service']} {k[1]}"] += len(v)
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected series, e.g. {list(unexpected.items())[:5]}")
    dups = h.dup_points(pts)
    if dups:
        problems.append(f"{len(dups)} series with more than one point in one request, e.g. "
                        f"{list(dups.items())[:3]}")
    mreqs = [q for q in env.requests() if q["path"].split("?")[0].endswith("/v1/metrics")]
    bad = [q for q in mreqs if q.get("status") != 200 or q.get("empty_metrics")]
    if bad:
        problems.append(f"{len(bad)} metrics requests refused or with empty metrics, e.g. {bad[:2]}")
    if h.bad_utf8_requests(env):
        problems.append("requests carried invalid UTF-8")

    # Figures.
    totals = collections.defaultdict(float)
    hist = {"count": 0, "buckets": None}
    for k, spec in expected.items():
        f = h.series_final(by.get(k, []), spec, pref)
        if not f:
            continue
        if spec["kind"] == "histogram":
            hist["count"] += f.get("count") or 0
            b = f.get("buckets") or []
            hist["buckets"] = b if hist["buckets"] is None else [x + y for x, y in zip(hist["buckets"], b)]
        elif isinstance(f.get("value"), (int, float)):
            totals[spec["name"] + " " + h.attrs_key(spec["attrs"])] += f["value"]
    want = collections.defaultdict(float)
    for spec in expected.values():
        if spec["kind"] != "histogram":
            want[spec["name"] + " " + h.attrs_key(spec["attrs"])] += spec["value"]
    h.log(f"figures ({pref}): {len(pts)} points in {len(mreqs)} metrics requests, "
          f"{len(by)} series ({len(expected)} expected), points per series "
          f"{min((len(by.get(k, [])) for k in expected), default=0)}.."
          f"{max((len(by.get(k, [])) for k in expected), default=0)}; producers' ENOBUFS retries "
          f"{sum(r.get('enobufs', 0) for r in results.values())}, negative histogram values "
          f"refused {sum(r.get('neg_refused', 0) for r in results.values())}")
    scopes = sorted({(p["scope"], p.get("scopeVersion", "")) for p in pts})
    h.log(f"  scopes {scopes}; other series (points) {dict(foreign)}")
    for name in sorted(want):
        h.log(f"  total {name}: received {totals.get(name)}, expected {want[name]}")
    h.log(f"  e2e.latency all producers: count {hist['count']} (expected {NPROD * h.MP_STEPS}), "
          f"buckets {hist['buckets']}")
    if problems:
        for p in problems[:60]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test, extra_args)
