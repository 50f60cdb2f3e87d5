#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_retry.py: the exporter against a receiver that refuses, throttles,
rejects, resets and stalls (CTest e2e_retry). One request in flight
(max_in_flight = 1) so that each retry is the next request. Phases, each a
new receiver plan and a burst of lines from a fresh bash producer:
  1 "503,429:2"  every line once; the retry after the 429 comes >= 2 s
                 after that answer (Retry-After in seconds)
  2 "400"        that request is not retried and its records are not
                 delivered; exporter.status: dropped_requests >= 1 and
                 dropped_records grows by that request's record count
  3 "503:date"   Retry-After as an HTTP-date: the retry waits >= 2 s
  4 "partial:2"  delivered, not retried; rejected_records grows by 2
  5 "reset"      connection dropped without an answer: retried, once
  6 "stall:4"    no answer within timeout_ms: retried, delivered once
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

BURST = 200


def logs_requests(env, after):
    return [q for q in env.requests()
            if q["n"] > after and str(q.get("path", "")).split("?")[0].endswith("/v1/logs")]


def last_n(env):
    reqs = env.requests()
    return reqs[-1]["n"] if reqs else 0


def burst(env, tag):
    p = env.producer(tag, ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), tag, str(BURST)],
                     service=f"e2e-retry-{tag}")
    h.check(p.wait(30) == 0, f"producer {tag} failed")
    return p


def wait_phase(env, tag, pid, timeout=20, allow_missing=False):
    exp = h.expected_shell(tag, BURST)
    recs = env.wait_records(len(exp), timeout=timeout, pred=lambda r: r["pid"] == pid, settle=1.0)
    if allow_missing:
        return recs, exp
    fig, problems = h.check_captured(tag, recs, exp, lenient_stream=True)
    h.log(f"phase {tag}: {fig}")
    if problems:
        for p in problems[:10]:
            h.log("  problem: " + p)
        raise h.Fail(f"phase {tag}: {len(problems)} problems")
    return recs, exp


def gap_after(reqs, status):
    """(request answered with status, next request, gap in ms)."""
    for k, q in enumerate(reqs):
        if q["status"] == status and k + 1 < len(reqs):
            nxt = reqs[k + 1]
            return q, nxt, nxt["t_ms"] - q.get("t_resp_ms", q["t_ms"])
    return None, None, None


def test(args):
    env = h.Env(args, "retry", ini={"exporter": {"max_in_flight": "1", "retry_initial_ms": "200",
                                                 "retry_max_ms": "5000", "timeout_ms": "1500"}})
    figures = []

    # 1: 503, then 429 with Retry-After: 2.
    n0 = last_n(env)
    env.set_plan("503,429:2")
    p = burst(env, "p1")
    wait_phase(env, "p1", p.pid)
    reqs = logs_requests(env, n0)
    h.check([q["status"] for q in reqs[:3]] == [503, 429, 200],
            f"phase 1 statuses {[q['status'] for q in reqs]}")
    h.check(reqs[0]["records"] == reqs[1]["records"] == reqs[2]["records"],
            f"phase 1: the retries carry other records: {[q['records'] for q in reqs[:3]]}")
    _, _, g503 = gap_after(reqs, 503)
    q429, _, g429 = gap_after(reqs, 429)
    figures.append(f"after 503: {g503} ms, after 429 (Retry-After 2): {g429} ms")
    h.check(g429 >= 2000, f"retry {g429} ms after a 429 with Retry-After: 2 (want >= 2000)")

    # 2: a permanent error.
    st0 = env.status()
    n0 = last_n(env)
    env.set_plan("400")
    p = burst(env, "p2")
    st = env.wait_status(lambda s: s.get("dropped_requests", 0) > st0.get("dropped_requests", 0))
    time.sleep(2.0)  # a wrong retry would show up now
    st = env.status()
    recs, exp = wait_phase(env, "p2", p.pid, timeout=5, allow_missing=True)
    reqs = logs_requests(env, n0)
    r400 = [q for q in reqs if q["status"] == 400]
    h.check(len(r400) == 1, f"phase 2: {len(r400)} requests answered 400: {[q['status'] for q in reqs]}")
    rej = [r for r in env.rejected() if r["pid"] == p.pid and r["status"] == 400]
    h.check(len(rej) == r400[0]["records"], f"phase 2: {len(rej)} rejected records logged, "
            f"request had {r400[0]['records']}")
    rej_bodies = {r["body"] for r in rej}
    delivered = [r for r in recs if r["body"] in rej_bodies]
    h.check(not delivered, f"phase 2: {len(delivered)} records of the 400 request were delivered")
    h.check(len(recs) + len(rej) == len(exp),
            f"phase 2: {len(recs)} delivered + {len(rej)} rejected != {len(exp)} published")
    d_req = st.get("dropped_requests", 0) - st0.get("dropped_requests", 0)
    d_rec = st.get("dropped_records", 0) - st0.get("dropped_records", 0)
    figures.append(f"400: request of {len(rej)} records, dropped_requests +{d_req}, "
                   f"dropped_records +{d_rec}")
    h.check(d_req >= 1, f"exporter.status dropped_requests +{d_req} after a 400 ({st})")
    h.check(d_rec == len(rej), f"exporter.status dropped_records +{d_rec}, the 400 request had "
            f"{len(rej)} records ({st})")

    # 3: Retry-After as an HTTP-date.
    n0 = last_n(env)
    env.set_plan("503:date")
    p = burst(env, "p3")
    wait_phase(env, "p3", p.pid)
    reqs = logs_requests(env, n0)
    q, _, g = gap_after(reqs, 503)
    h.check(q is not None, f"phase 3: no 503 then retry: {[x['status'] for x in reqs]}")
    figures.append(f"after 503 with Retry-After {q.get('retry_after')!r}: {g} ms")
    h.check(g >= 1950, f"retry {g} ms after a 503 with an HTTP-date Retry-After >= 2 s ahead")

    # 4: partial success.
    st0 = env.status()
    n0 = last_n(env)
    env.set_plan("partial:2")
    p = burst(env, "p4")
    wait_phase(env, "p4", p.pid)
    st = env.wait_status(lambda s: s.get("rejected_records", 0) - st0.get("rejected_records", 0) >= 2)
    reqs = logs_requests(env, n0)
    h.check(sum(1 for x in reqs if x.get("plan") == "partial") == 1,
            f"phase 4: partial success retried? {[x.get('plan') for x in reqs]}")
    d = st.get("rejected_records", 0) - st0.get("rejected_records", 0)
    figures.append(f"partial:2: rejected_records +{d}")
    h.check(d == 2, f"exporter.status rejected_records +{d} after partial_success rejected 2 ({st})")

    # 5: connection reset without an answer.
    n0 = last_n(env)
    env.set_plan("reset")
    p = burst(env, "p5")
    wait_phase(env, "p5", p.pid)
    reqs = logs_requests(env, n0)
    figures.append(f"reset: statuses {[x['status'] for x in reqs]}")

    # 6: an answer that never comes in time.
    n0 = last_n(env)
    env.set_plan("stall:4")
    p = burst(env, "p6")
    wait_phase(env, "p6", p.pid, timeout=25)
    reqs = logs_requests(env, n0)
    figures.append(f"stall: statuses {[x['status'] for x in reqs]}")

    bad = h.bad_utf8_requests(env)
    h.check(not bad, f"{len(bad)} requests with invalid UTF-8")
    h.log("figures: " + "; ".join(figures) + f"; exporter {env.status()}")


if __name__ == "__main__":
    h.main(test)
