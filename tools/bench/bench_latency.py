#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
bench_latency.py: the latency half of `./build.sh bench` (DESIGN.md: p99
from write to acknowledgment <= 2 x the schedule delay). Starts, through
tests/e2e/harness.py, the collector and the exporter with the shipped
defaults for batching (collector.schedule_delay_ms = 1000, or --delay-ms)
and the loopback receiver (tests/e2e/receiver.js, which decodes every
request with the OpenTelemetry JS packages and logs when it answered each);
a preloaded bash loop writes one line every 10 ms for --seconds seconds.
Per line: latency = the receiver's answer to the request that carried it
(t_resp_ms) minus the line's timestamp (the write, taken by libshmlog).
Prints one JSON object on stdout: lines written and received, p50, p99 and
max in ms, the schedule delay and p99 / delay. A benchmark: nothing is
judged; exit 1 only when it could not measure.

  tools/bench/bench_latency.py --build BUILD_DIR --src SRC [--seconds S] [--delay-ms MS]
"""
import json
import os
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import harness as h  # noqa: E402


def extra_args(ap):
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--delay-ms", type=int, default=1000)
    ap.add_argument("--json-out", default="-")


def pct(sorted_v, q):
    return sorted_v[min(len(sorted_v) - 1, int(q * len(sorted_v)))]


def bench(args):
    env = h.Env(args, "latency", compression="zstd",
                ini={"collector": {"schedule_delay_ms": str(args.delay_ms)},
                     "exporter": {"retry_initial_ms": "1000", "retry_max_ms": "30000"}})
    n = max(1, int(args.seconds * 100))
    tag = f"lat{os.getpid()}"
    script = f'for ((i = 0; i < {n}; i++)); do echo "{tag} $i"; sleep 0.01; done'
    p = env.producer("latency-loop", ["bash", "-c", script], service="bench-latency",
                     stdio="capture")
    h.check(p.wait(args.seconds * 3 + 30) == 0, "the latency loop failed")
    env.wait_records(n, timeout=args.delay_ms / 1000 * 4 + 30,
                     pred=lambda r: r["body"].startswith(tag + " "), settle=0.5)
    answered = {q["n"]: q.get("t_resp_ms") for q in env.requests() if q.get("status") == 200}
    lat = []
    for r in env.records():
        if not r["body"].startswith(tag + " ") or answered.get(r.get("req")) is None:
            continue
        lat.append(answered[r["req"]] - int(r["time"]) / 1e6)
    h.check(lat, "no line arrived")
    lat.sort()
    res = {
        "lines_written": n,
        "lines_received": len(lat),
        "schedule_delay_ms": args.delay_ms,
        "write_to_ack_ms_p50": round(pct(lat, 0.50), 1),
        "write_to_ack_ms_p99": round(pct(lat, 0.99), 1),
        "write_to_ack_ms_max": round(lat[-1], 1),
    }
    res["p99_over_schedule_delay"] = round(res["write_to_ack_ms_p99"] / args.delay_ms, 3)
    out = json.dumps(res)
    if args.json_out == "-":
        print(out)
    else:
        with open(args.json_out, "w") as f:
            f.write(out + "\n")
    h.log("latency: " + out)


if __name__ == "__main__":
    h.main(bench, extra_args)
