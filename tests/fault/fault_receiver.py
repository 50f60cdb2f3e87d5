#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_receiver.py: the exporter against a receiver that is down for a
minute, throttles, drops connections, stalls, refuses and trims (CTest
fault_receiver_outage, fault_receiver_errors; --case picks one). One
request in flight (max_in_flight = 1), so the requests the receiver logs
are one request's attempts, in order. Each phase prints its ACCOUNT line
and asserts delivered + dropped_counted == published, no duplicates.

outage   "503@60": 503 to everything for 60 s while three bursts are
         written; the spool piles up (files counted while it is down); the
         gaps between attempts follow the back-off of README/conf
         (retry_initial_ms * 2^(k-1), capped at retry_max_ms, jittered into
         [interval/2, interval*3/2] and capped again): never shorter than
         interval/2, never longer than the cap (plus scheduling slack),
         growing; then everything is delivered once. Then the retry budget
         (retry_max_elapsed_ms, the only one the config has: no attempt
         limit) with a restarted exporter: "503@8" with a 2.5 s budget
         drops the requests that cannot get through in time, counted
         (exporter.status dropped_records), logged once.
errors   429 with Retry-After 3 (honoured: >= 3 s where the back-off would
         be 0.25 s), connection resets (retried, delivered once), a 30 s
         stall (the attempt ends at timeout_ms = 4 s and is retried, well
         before the stall would end; the stalled attempt is not delivered,
         so no duplicate), 400 and 413 (dropped, counted, one log line per
         status for two drops each; the 413 line names max_batch_bytes: a
         413 is not split), partial success (rejected counted, the rest
         accepted).
"""
import glob
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import faults  # noqa: E402
from accounting import Published, settle  # noqa: E402

INITIAL_MS = 250
MAX_MS = 4000
TIMEOUT_MS = 4000
# A retry may come later than its back-off on a loaded 2-core machine (the
# loop wakes on time, the scheduler may not); never earlier.
SLACK_MS = 2500


def last_n(env):
    reqs = env.requests()
    return reqs[-1]["n"] if reqs else 0


def logs_requests(env, after):
    return [q for q in env.requests()
            if q["n"] > after and str(q.get("path", "")).split("?")[0].endswith("/v1/logs")]


def burst(env, pub, tag, n):
    return faults.burst(env, pub, tag, n, f"fault-rx-{tag}")


def spool_files(env):
    return len(glob.glob(os.path.join(env.spool, "logs", "*.pb")))


def backoff_window(k):
    """[lo, hi] of the delay before retry k (1 = first), README's rule."""
    interval = min(INITIAL_MS * 2 ** (k - 1), MAX_MS)
    return interval // 2, min(interval * 3 // 2, MAX_MS)


def drop_lines(env, code):
    return [ln for ln in env.exporter.log_text().splitlines()
            if "exporter: dropped" in ln and f"HTTP {code} " in ln]


def base_ini(**exporter):
    ex = {"max_in_flight": "1", "retry_initial_ms": str(INITIAL_MS),
          "retry_max_ms": str(MAX_MS), "timeout_ms": str(TIMEOUT_MS)}
    ex.update({k: str(v) for k, v in exporter.items()})
    return {"exporter": ex,
            "collector": {"max_export_batch_size": "100", "schedule_delay_ms": "200"},
            # No metric requests: the counters then speak of logs only.
            "metrics": {"host_metrics": "false", "export_interval_ms": "3600000"}}


def case_outage(args):
    env = h.Env(args, "fault-outage", ini=base_ini())
    figures = []

    pub = Published(env)
    n0 = last_n(env)
    env.set_plan("503@60")
    t0 = time.time()
    most_files = 0
    for k in range(3):
        burst(env, pub, f"o{k}", 400)
        until = t0 + 20 * (k + 1)
        while time.time() < min(until, t0 + 55):
            most_files = max(most_files, spool_files(env))
            env.check_daemons()
            time.sleep(0.5)
    figures.append(f"spool held up to {most_files} log requests during the outage")
    # 1200 lines in batches of at most 100: at least 12 requests; one is
    # in flight, the rest wait in the spool.
    h.check(most_files >= 10, f"only {most_files} files piled up in the spool during the outage")
    acc = settle(env, pub, "outage-503-60s", timeout=40)
    h.check(acc["dropped_counted"] == 0, f"outage: {acc['drops']} dropped with no retry budget")

    reqs = logs_requests(env, n0)
    r503 = [q for q in reqs if q["status"] == 503]
    h.check(len(r503) >= 10, f"only {len(r503)} attempts answered 503 in 60 s")
    first = r503[0]
    h.check(all(q["records"] == first["records"] for q in r503),
            "the attempts during the outage carried different requests "
            f"({sorted({q['records'] for q in r503})} records)")
    gaps = []
    for k in range(len(r503)):
        nxt = reqs[reqs.index(r503[k]) + 1]
        gaps.append(nxt["t_ms"] - r503[k]["t_resp_ms"])
    figures.append(f"{len(r503)} attempts answered 503; gaps (ms) {gaps}")
    for k, g in enumerate(gaps, start=1):
        lo, hi = backoff_window(k)
        h.check(g >= lo - 20, f"retry {k} came {g} ms after the 503, back-off minimum {lo} ms")
        h.check(g <= hi + SLACK_MS, f"retry {k} came {g} ms after the 503, back-off maximum "
                f"{hi} ms (+{SLACK_MS} slack)")
    h.check(max(gaps) <= MAX_MS + SLACK_MS, f"a gap of {max(gaps)} ms beyond the cap {MAX_MS}")
    h.check(sum(gaps[:3]) < sum(gaps[-3:]), f"back-off does not grow: {gaps}")
    capped = gaps[5:]
    h.check(len(capped) >= 3 and min(capped) >= MAX_MS // 2 - 20,
            f"capped gaps below interval/2: {capped}")
    # Jitter: at the cap a delay is 4000 ms only half the time, else in
    # [2000, 4000): all of a dozen capped gaps >= 3.8 s means none.
    h.check(min(capped) < MAX_MS * 95 // 100, f"no jitter at the cap: {capped}")
    h.check(reqs[reqs.index(r503[-1]) + 1]["status"] == 200, "the outage did not end in a 200")

    # The retry budget: 2.5 s per request, a receiver down for 8 s.
    env.exporter.stop()
    env.ini["exporter"]["retry_max_elapsed_ms"] = "2500"
    env.write_ini()
    env.start_exporter()
    env.wait_status(lambda s: s.get("pid") == env.exporter.pid, timeout=10)
    pub = Published(env)
    env.set_plan("503@8")
    burst(env, pub, "b0", 300)
    time.sleep(4)
    burst(env, pub, "b1", 300)
    acc = settle(env, pub, "retry-budget-2.5s", timeout=40)
    st = env.status()
    h.check(acc["drops"]["export"] > 0, "nothing was dropped by a 2.5 s retry budget in an 8 s "
            f"outage ({st})")
    h.check(acc["delivered"] > 0, "nothing was delivered after the outage")
    h.check(acc["drops"]["export"] == st.get("dropped_records"), f"export drops are not "
            f"exporter.status dropped_records: {acc['drops']} {st}")
    gave_up = [ln for ln in env.exporter.log_text().splitlines() if "gave up after" in ln]
    h.check(len(gave_up) == 1, f"{len(gave_up)} log lines for {st.get('dropped_requests')} "
            f"requests that ran out of retry budget: {gave_up[:3]}")
    figures.append(f"budget: dropped_requests={st.get('dropped_requests')} "
                   f"dropped_records={st.get('dropped_records')}; log: ...{gave_up[0][gave_up[0].find('gave up'):][:90]}")
    h.log("figures: " + "; ".join(figures))


def gap_after(reqs, pred):
    """(request matching pred, the next request, gap from its answer in ms)."""
    for k, q in enumerate(reqs):
        if pred(q) and k + 1 < len(reqs):
            nxt = reqs[k + 1]
            return q, nxt, nxt["t_ms"] - q.get("t_resp_ms", q["t_ms"])
    return None, None, None


def case_errors(args):
    env = h.Env(args, "fault-errors", ini=base_ini())
    figures = []

    # 429 with Retry-After: 3, twice: the back-off would be 250 and 500 ms.
    pub = Published(env)
    n0 = last_n(env)
    env.set_plan("429:3*2")
    burst(env, pub, "t429", 200)
    settle(env, pub, "429-retry-after-3")
    reqs = logs_requests(env, n0)
    st429 = [q for q in reqs if q["status"] == 429]
    h.check(len(st429) == 2, f"429 phase: {[q['status'] for q in reqs]}")
    g = [reqs[reqs.index(q) + 1]["t_ms"] - q["t_resp_ms"] for q in st429]
    figures.append(f"after 429 + Retry-After: 3: {g} ms")
    h.check(min(g) >= 2980, f"a retry {min(g)} ms after a 429 with Retry-After: 3")

    # Connection resets: no answer at all, retried with back-off.
    pub = Published(env)
    n0 = last_n(env)
    env.set_plan("reset*3")
    burst(env, pub, "treset", 200)
    settle(env, pub, "reset-x3")
    reqs = logs_requests(env, n0)
    figures.append(f"resets: {[q['status'] for q in reqs][:6]}")
    h.check([q["status"] for q in reqs[:4]] == ["reset"] * 3 + [200],
            f"reset phase: {[q['status'] for q in reqs]}")

    # A 30 s stall: the attempt times out after timeout_ms, then a retry.
    pub = Published(env)
    n0 = last_n(env)
    env.set_plan("stall:30")
    burst(env, pub, "tstall", 200)
    settle(env, pub, "stall-30s", timeout=40)
    reqs = logs_requests(env, n0)
    q, nxt, _ = gap_after(reqs, lambda x: x.get("plan") == "stall")
    h.check(q is not None, f"stall phase: {[x.get('plan') for x in reqs]}")
    took = nxt["t_ms"] - q["t_ms"]
    figures.append(f"stall: retry {took} ms after the stalled attempt arrived "
                   f"(timeout_ms {TIMEOUT_MS}); stalled attempt ended {q['status']}")
    h.check(took >= TIMEOUT_MS - 50, f"retried {took} ms into a stall, timeout is {TIMEOUT_MS}")
    h.check(took < 30000, f"the stalled attempt was not timed out ({took} ms)")
    h.check(q["status"] == "aborted", f"the stalled attempt ended {q['status']!r}, not aborted")

    # 400 and 413: permanent, dropped and counted; one log line per status.
    for code in (400, 413):
        pub = Published(env)
        n0 = last_n(env)
        st0 = env.status()
        env.set_plan(f"{code}*2")
        burst(env, pub, f"t{code}", 300)
        acc = settle(env, pub, f"http-{code}-x2")
        st = env.status()
        reqs = logs_requests(env, n0)
        refused = [x for x in reqs if x["status"] == code]
        h.check(len(refused) == 2, f"{code}: {len(refused)} requests answered {code}, "
                f"want 2 (retried?): {[x['status'] for x in reqs]}")
        d_req = st.get("dropped_requests", 0) - st0.get("dropped_requests", 0)
        h.check(d_req == 2, f"{code}: dropped_requests +{d_req}")
        h.check(acc["drops"]["export"] == sum(x["records"] for x in refused),
                f"{code}: dropped_records +{acc['drops']['export']}, the refused requests had "
                f"{sum(x['records'] for x in refused)}")
        lines = drop_lines(env, code)
        figures.append(f"{code}: 2 requests, {acc['drops']['export']} records dropped, "
                       f"{len(lines)} log line")
        h.check(len(lines) == 1, f"{code}: {len(lines)} log lines for 2 drops: {lines}")
        if code == 413:
            # Not split (OTLP: permanent); the line says how to fit.
            h.check("max_batch_bytes" in lines[0], f"413 line gives no hint: {lines[0]}")

    # Partial success: the receiver keeps all but 7; the exporter counts 7.
    pub = Published(env)
    n0 = last_n(env)
    env.set_plan("partial:7")
    burst(env, pub, "tpartial", 200)
    pub.receiver_rejected = 7
    acc = settle(env, pub, "partial-success-7")
    reqs = logs_requests(env, n0)
    h.check(sum(1 for x in reqs if x.get("plan") == "partial") == 1, "partial success retried")
    h.check(acc["drops"]["export"] == 7, f"rejected_records +{acc['drops']['export']}, want 7")
    wl = [ln for ln in env.exporter.log_text().splitlines() if "partial success" in ln]
    h.check(len(wl) == 1 and "7 log records rejected" in wl[0], f"partial success log: {wl}")

    bad = h.bad_utf8_requests(env)
    h.check(not bad, f"{len(bad)} requests with invalid UTF-8")
    h.log("figures: " + "; ".join(figures) + f"; exporter {env.status()}")


def test(args):
    {"outage": case_outage, "errors": case_errors}[args.case](args)


if __name__ == "__main__":
    def extra(ap):
        ap.add_argument("--case", required=True, choices=("outage", "errors"))

    h.main(test, extra_args=extra)
