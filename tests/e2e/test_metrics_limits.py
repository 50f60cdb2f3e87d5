#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_metrics_limits.py: the limits of the metrics path (CTest
e2e_metrics_limits). One collector with [shm] max_instruments = 16 (the
minimum), [metrics] cardinality_limit = 5, cumulative, export every 300 ms:

  * e2e_metrics_producer 3 (the regular workload, 6 instruments) runs
    throughout; its totals must still be exact at the end.
  * `check`: the same name with another kind (or unit, or bounds) is
    refused with -EEXIST, bad arguments with -EINVAL, a series used with
    the wrong call with -EINVAL; the instrument that was registered keeps
    working (e2e.check.c {k=v} = 7, e2e.check.g = 2.5 arrive).
  * `fill`: registers counters until -ENOSPC; nothing crashes, the
    refusals are counted in the segment (sh_dict_full = 3), an existing
    name is still found, the instruments registered before the refusal
    deliver their points (e2e.fill.K = 2(K+1)), the refused ones none.
  * `card 8 40`: one counter with 8 attribute sets {k=J} (+= J+1, 40
    rounds). Per the metrics SDK specification ("Cardinality limits", as
    changed by opentelemetry-specification PR #3912, 2024): overflow must
    not happen while at most `limit` distinct non-overflow attribute sets
    are used, so the export has exactly LIMIT regular points plus one
    point {otel.metric.overflow=true} holding the sum of the sets that did
    not fit; the same regular sets in every export (cumulative); every
    value accounted for (total = 40 * 36); sh_overflow counts the
    measurements put in the overflow series.
"""
import collections
import errno
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

LIMIT = 5
NSETS = 8
ROUNDS = 40
MAX_INSTRUMENTS = 16
RUN_ID = 3
# Regular (non-overflow) points of an instrument with more than LIMIT sets:
# the current specification admits LIMIT; before PR #3912 it was LIMIT - 1.
REGULAR_WANTED = LIMIT


def test(args):
    env = h.Env(args, "metrics-limits",
                ini=h.metrics_ini("cumulative", 300, shm={"max_instruments": MAX_INSTRUMENTS},
                                  cardinality_limit=LIMIT))
    problems = []
    result = os.path.join(env.tmp, "run.result")
    run = env.metrics_producer([RUN_ID, result], name="run")
    # Its 6 instruments first: wait for one of its points (at most 10 s).
    _, seen = env.wait_metrics(lambda pts: any(p["pid"] == run.pid for p in pts), timeout=10)
    if not seen:
        problems.append("no point of the running producer within 10 s of its start")

    chk = env.metrics_producer(["check"], name="check")
    rc = chk.wait(30)
    exited = {chk.pid: time.time_ns()}
    out = chk.log_text()
    fails = [line for line in out.splitlines() if not line.startswith("ok ")]
    h.log("check mode: %d checks, %d not ok" % (out.count("\n"), len(fails)))
    if rc != 0 or fails:
        problems.append(f"check mode exited {rc}: " + " | ".join(fails[:20]))

    card = env.metrics_producer(["card", NSETS, ROUNDS], name="card")
    rc = card.wait(30)
    exited[card.pid] = time.time_ns()
    if rc != 0:
        problems.append(f"card mode exited {rc}: {card.log_text()[-500:]}")

    fill = env.metrics_producer(["fill"], name="fill")
    rc = fill.wait(30)
    exited[fill.pid] = time.time_ns()
    fout = fill.log_text()
    fk = {}
    for line in fout.splitlines():
        if "=" in line and not line.startswith("FAIL"):
            k, v = line.split("=", 1)
            try:
                fk[k.strip()] = int(v)
            except ValueError:
                pass
    h.log(f"fill mode: exit {rc}, {fk}")
    nreg = fk.get("registered", -1)
    if rc != 0 or fk.get("first_refusal") != -errno.ENOSPC:
        problems.append(f"fill mode: registering instruments never got -ENOSPC (exit {rc}, "
                        f"first refusal {fk.get('first_refusal')}): {fout[-400:]!r}")
    if "FAIL" in fout:
        problems.append("fill mode: " + " | ".join(x for x in fout.splitlines() if "FAIL" in x))
    # 6 (run) + 3 (check: e2e.check.c, .h, .g) + 1 (card) registered before.
    if not 1 <= nreg <= MAX_INSTRUMENTS - 10:
        problems.append(f"fill mode registered {nreg} instruments, expected 1..{MAX_INSTRUMENTS - 10}"
                        f" (max_instruments {MAX_INSTRUMENTS}, 10 in use)")
    if fk.get("lookup0") != fk.get("id0"):
        problems.append(f"dictionary full: looking up the existing e2e.fill.0 gave {fk.get('lookup0')}, "
                        f"its id is {fk.get('id0')}")
    if fk.get("series_after_full") != fk.get("sid0"):
        problems.append(f"dictionary full: the existing series of e2e.fill.0 gave "
                        f"{fk.get('series_after_full')}, its id is {fk.get('sid0')}")

    rc = run.wait(30)
    if rc != 0:
        problems.append(f"producer {RUN_ID} exited {rc}: {run.log_text()[-500:]}")
    t_exit = exited[run.pid] = time.time_ns()
    env.check_daemons()
    res = h.read_kv(result)

    expected = {}
    for (name, ak), spec in h.expected_metrics(RUN_ID, res.get("neg_refused", 0) > 0).items():
        expected[(run.pid, name, ak)] = spec
    for (name, attrs, v) in (("e2e.check.c", {"k": "v"}, 7.0), ("e2e.check.g", {}, 2.5)):
        expected[(chk.pid, name, h.attrs_key(attrs))] = dict(
            name=name, attrs=attrs, kind="counter" if name.endswith(".c") else "gauge",
            unit="1" if name.endswith(".c") else "",
            description="check counter" if name.endswith(".c") else "", value=v)
    for k in range(max(nreg, 0)):
        expected[(fill.pid, f"e2e.fill.{k}", "{}")] = dict(
            name=f"e2e.fill.{k}", attrs={}, kind="counter", unit="", description="",
            value=2.0 * (k + 1))
    # A series is complete once a point exported 1 s after its producer
    # exited arrived (its ring drained by then).
    def after(pid):
        return exited[pid] + 1_000_000_000

    def card_pts(pts):
        return [p for p in pts if p["pid"] == card.pid and p["name"] == "e2e.card"]

    def done(pts):
        by = h.metric_series(pts)
        if not all(k in by and int(by[k][-1]["time"]) >= after(k[0]) for k in expected):
            return False
        return any(int(p["time"]) >= after(card.pid) for p in card_pts(pts))

    pts, met = env.wait_metrics(done, timeout=30)
    seg = env.seg_counters()
    env.check_daemons()
    by = h.metric_series(pts)
    if not met:
        late = [f"{k[1]} {k[2]} (pid {k[0]}, last point "
                f"{(int(by[k][-1]['time']) - exited[k[0]]) / 1e9:+.1f}s after its exit)"
                if k in by else f"{k[1]} (none)"
                for k in expected if k not in by or int(by[k][-1]["time"]) < after(k[0])]
        if not any(int(p["time"]) >= after(card.pid) for p in card_pts(pts)):
            late.append("e2e.card")
        problems.append(f"within 30 s, {len(late)} series had no point exported 1 s after their "
                        f"producer exited: {late[:8]}")
    for k, spec in sorted(expected.items()):
        problems += h.check_series(f"pid {k[0]} {k[1]} {k[2]}", by.get(k, []), spec, "cumulative")
    refused = [p for p in pts if p["name"].startswith("e2e.fill.") and
               (p["pid"] != fill.pid or (p["pid"], p["name"], "{}") not in expected)]
    if refused:
        problems.append(f"{len(refused)} points of instruments that were refused or not expected: "
                        f"{sorted({p['name'] for p in refused})[:5]}")
    if seg:
        if seg.get("dict_full") != 3:
            problems.append(f"segment sh_dict_full = {seg.get('dict_full')}, expected 3 (fill mode's "
                            f"refusals)")
        if seg.get("max_instruments") != MAX_INSTRUMENTS:
            problems.append(f"segment sh_max_instruments = {seg.get('max_instruments')}, expected "
                            f"{MAX_INSTRUMENTS}")
    else:
        problems.append("segment header unreadable at the end")

    # Cardinality.
    cp = card_pts(pts)
    final = {}
    for k, v in h.metric_series(cp).items():
        final[k[2]] = v[-1]
    ov_key = h.attrs_key(h.OVERFLOW_ATTRS)
    regular = {}
    for ak, p in final.items():
        if ak == ov_key:
            continue
        j = p["attrs"].get("k")
        if set(p["attrs"]) != {"k"} or not isinstance(j, int) or not 0 <= j < NSETS:
            problems.append(f"e2e.card: unexpected attributes {p['attrs']}")
            continue
        regular[j] = p
    total_want = ROUNDS * sum(range(1, NSETS + 1))
    got_total = sum(p.get("value") or 0 for p in final.values())
    h.log(f"cardinality: {len(regular)} regular sets {sorted(regular)} + "
          f"{'1 overflow point' if ov_key in final else 'no overflow point'}; values "
          f"{ {j: regular[j].get('value') for j in sorted(regular)} }, overflow "
          f"{final.get(ov_key, {}).get('value')}; total {got_total} (expected {total_want}); "
          f"segment {seg}")
    if len(regular) != REGULAR_WANTED:
        why = (" (the pre-2024 rule, limit - 1 regular sets; the current specification admits "
               "`limit` non-overflow sets before overflowing)" if len(regular) == LIMIT - 1 else "")
        problems.append(f"e2e.card: {len(regular)} regular attribute sets with cardinality_limit "
                        f"{LIMIT} and {NSETS} sets used, expected {REGULAR_WANTED}{why}")
    if ov_key not in final:
        problems.append(f"e2e.card: no overflow point {h.OVERFLOW_ATTRS}")
    for j, p in regular.items():
        if p.get("value") != float(ROUNDS * (j + 1)):
            problems.append(f"e2e.card {{k={j}}}: value {p.get('value')}, expected {ROUNDS * (j + 1)}")
    if ov_key in final:
        ov_want = float(sum(ROUNDS * (j + 1) for j in range(NSETS) if j not in regular))
        if final[ov_key].get("value") != ov_want:
            problems.append(f"e2e.card overflow: value {final[ov_key].get('value')}, expected {ov_want} "
                            f"(the sets {sorted(set(range(NSETS)) - set(regular))})")
        for p in cp:
            if p["attrs"] == h.OVERFLOW_ATTRS and (p["type"] != "sum" or not p.get("monotonic")):
                problems.append("e2e.card overflow point is not a monotonic sum")
                break
    if got_total != float(total_want):
        problems.append(f"e2e.card: all points add up to {got_total}, expected {total_want}")
    per_req = collections.Counter(p["req"] for p in cp)
    if per_req and max(per_req.values()) > LIMIT + 1:
        problems.append(f"e2e.card: up to {max(per_req.values())} points in one export, the limit "
                        f"allows {LIMIT} + 1 overflow")
    ever = {p["attrs"].get("k") for p in cp if p["attrs"] != h.OVERFLOW_ATTRS}
    if len(ever) > len(regular):
        problems.append(f"e2e.card: the regular sets changed across exports: {sorted(ever, key=str)}, "
                        f"at the end {sorted(regular)}")
    if seg and ov_key in final:
        ov_meas = ROUNDS * (NSETS - len(regular))
        if seg.get("overflow") != ov_meas:
            problems.append(f"segment sh_overflow = {seg.get('overflow')}, expected {ov_meas} "
                            f"(measurements of the {NSETS - len(regular)} sets that did not fit)")

    h.log(f"figures: {len(pts)} points, {len(by)} series; fill registered {nreg}; "
          f"producer {RUN_ID} ENOBUFS retries {res.get('enobufs')}")
    if problems:
        for p in problems[:60]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
