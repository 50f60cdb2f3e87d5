#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_conf_examples.py: the backend examples in conf/ work as shipped (CTest
e2e_conf_examples).

Every conf/*.ini but shmlog.ini must have an entry in EXAMPLES below (a new
example without a test fails). For each:
  1. both daemons load it unchanged with --print-config (exit 0), its
     placeholder secret replaced from the environment the way the
     example's comment tells operators to (OTEL_HEADER_<name> in the
     exporter's environment file): the secret is never printed;
  2. the real collector and exporter run with it, only namespace, spool,
     intervals and the endpoint overridden on the command line (pointing at
     a loopback receiver.js), a shell workload and e2e_metrics_producer
     writing; the receiver (OpenTelemetry JS packages) must see the
     vendor's headers -- api-key (New Relic), dd-api-key + dd-protocol on
     logs + dd-otel-metric-config on metrics (Datadog), Authorization Basic
     (Grafana Cloud), x-honeycomb-team + x-honeycomb-dataset on metrics
     (Honeycomb) -- with the secret from the environment, not the
     placeholder; the example's compression; every log line once; and
     metrics with the example's temporality (delta for Datadog and New
     Relic), exact totals per series.
"""
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_LINES = 50
METRIC_ID = 2
DD_CONFIG = '{"histograms":{"mode":"distributions","send_aggregation_metrics":true}}'

# file: (secret variables, headers of every request, logs-only headers,
#        metrics-only headers, Content-Encoding, temporality preference)
EXAMPLES = {
    "otel-collector.ini": ({}, {}, {}, {}, "zstd", "cumulative"),
    "newrelic.ini": ({"OTEL_HEADER_api_key": "nr-license-0123"},
                     {"api-key": "nr-license-0123"}, {}, {}, "zstd", "delta"),
    "datadog.ini": ({"OTEL_HEADER_dd_api_key": "dd-key-4567"},
                    {"dd-api-key": "dd-key-4567"}, {"dd-protocol": "otlp"},
                    {"dd-otel-metric-config": DD_CONFIG}, "gzip", "delta"),
    "grafana-cloud.ini": ({"OTEL_HEADER_Authorization": "Basic MTIzNDU2OmdsY190b2tlbg=="},
                          {"authorization": "Basic MTIzNDU2OmdsY190b2tlbg=="}, {}, {},
                          "gzip", "cumulative"),
    "honeycomb.ini": ({"OTEL_HEADER_x_honeycomb_team": "hc-ingest-89ab"},
                      {"x-honeycomb-team": "hc-ingest-89ab"}, {},
                      {"x-honeycomb-dataset": "shmlog-metrics"}, "gzip", "cumulative"),
}


def load_check(env, path, secrets, problems):
    e = env.base_env()
    e.update(secrets)
    for daemon in ("shmlog-collector", "shmlog-exporter"):
        p = env.spawn(daemon, [env.bin(daemon), "-c", path, "--print-config"], env=e,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out, _ = p.popen.communicate(timeout=20)
        out = out.decode("utf-8", "replace")
        name = os.path.basename(path)
        if p.popen.returncode != 0:
            problems.append(f"{name}: {daemon} --print-config exit {p.popen.returncode}: "
                            f"{out[-300:]!r}")
        for s in secrets.values():
            if s in out:
                problems.append(f"{name}: {daemon} --print-config printed the secret")
        if "[exporter] endpoint = " not in out:
            problems.append(f"{name}: {daemon} --print-config printed no endpoint")


def hdr_check(label, reqs, want, absent, problems):
    for q in reqs:
        hdr = q.get("hdr", {})
        bad = {k: hdr.get(k) for k, v in want.items() if hdr.get(k) != v}
        extra = [k for k in absent if k in hdr]
        if bad or extra:
            problems.append(f"{label}: request {q['n']} {q['path']}: headers {bad} differ from "
                            f"{ {k: want[k] for k in bad} }, unexpected {extra}")
            return
        if any("YOUR_" in str(v) for v in hdr.values()):
            problems.append(f"{label}: request {q['n']} still carries a placeholder")
            return


def run_example(args, name, spec, problems, figures):
    secrets, common, logs_only, metrics_only, enc, pref = spec
    path = os.path.join(args.src, "conf", name)
    env = h.Env(args, "conf-" + name.split(".")[0], start_daemons=False)
    load_check(env, path, secrets, problems)
    over = [f"--shm.namespace={env.ns}", f"--spool.dir={env.spool}",
            f"--exporter.endpoint=http://127.0.0.1:{env.port}",
            "--collector.schedule_delay_ms=200", "--metrics.export_interval_ms=300",
            "--metrics.host_metrics=false", "--exporter.retry_initial_ms=200",
            "--shm.dead_check_ms=500"]
    e = env.base_env()
    e.update(secrets)
    env.collector = env.spawn("collector", [env.bin("shmlog-collector"), "-c", path] + over, env=e)
    env.wait_segment()
    env.exporter = env.spawn("exporter", [env.bin("shmlog-exporter"), "-c", path] + over, env=e)
    tag = "cx" + name.split(".")[0].replace("-", "")
    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), tag,
                                str(N_LINES)], service="e2e-conf")
    mres = os.path.join(env.tmp, "mp.result")
    mp = env.metrics_producer([METRIC_ID, mres])
    sh.wait(60)
    mp.wait(60)
    t_exit = time.time_ns()
    want_lines = h.expected_shell(tag, N_LINES)
    recs = env.wait_records(len(want_lines), timeout=30, pred=lambda r: r["service"] == "e2e-conf",
                            settle=0.5)
    _, probs = h.check_captured(f"{name} shell", recs, want_lines)
    problems += probs

    res = h.read_kv(mres)
    expected = {(mp.pid, n, ak): s for (n, ak), s in
                h.expected_metrics(METRIC_ID, int(res.get("neg_refused", 0)) > 0).items()}
    after = t_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series([p for p in pts if p["pid"] == mp.pid])
        if pref == "delta":  # a delta series may have no point in a quiet interval
            return all(k in by for k in expected) and any(int(p["time"]) >= after for p in pts)
        return all(k in by and int(by[k][-1]["time"]) >= after for k in expected)

    pts, met = env.wait_metrics(done, timeout=25, settle=1.0 if pref == "delta" else 0)
    if not met:
        problems.append(f"{name}: metrics incomplete after the producer exited")
    mine = [p for p in pts if p["pid"] == mp.pid]
    by = h.metric_series(mine)
    export_times = {int(p["time"]) for p in pts}
    for k, s in sorted(expected.items()):
        problems += [f"{name}: {p}" for p in h.check_series(
            f"{k[1]} {k[2]}", by.get(k, []), s, pref, export_times)]
    temps = {p.get("temporality") for p in mine if p["name"] == "e2e.requests"}
    if temps != {1 if pref == "delta" else 2}:
        problems.append(f"{name}: e2e.requests temporality {temps}, expected {pref}")

    reqs = env.requests()
    lreq = [q for q in reqs if q["path"] == "/v1/logs"]
    mreq = [q for q in reqs if q["path"] == "/v1/metrics"]
    if not lreq or not mreq or len(lreq) + len(mreq) != len(reqs):
        problems.append(f"{name}: requests at {sorted({q['path'] for q in reqs})}, "
                        f"{len(lreq)} logs, {len(mreq)} metrics")
    for q in reqs:
        if q["status"] != 200 or q["encoding"] != enc or q["ctype"] != "application/x-protobuf":
            problems.append(f"{name}: request {q['n']}: status {q['status']}, encoding "
                            f"{q['encoding']!r} (expected {enc}), {q['ctype']}")
            break
    hdr_check(f"{name} logs", lreq, dict(common, **logs_only), list(metrics_only), problems)
    hdr_check(f"{name} metrics", mreq, dict(common, **metrics_only), list(logs_only), problems)
    figures[name] = {"records": len(recs), "logs requests": len(lreq),
                     "metrics requests": len(mreq), "points": len(mine),
                     "temporality": pref, "encoding": enc}
    env.close()


def test(args):
    problems, figures = [], {}
    shipped = sorted(os.path.basename(p) for p in glob.glob(os.path.join(args.src, "conf", "*.ini"))
                     if not p.endswith("/shmlog.ini"))
    missing = [n for n in shipped if n not in EXAMPLES]
    gone = [n for n in EXAMPLES if n not in shipped]
    if missing or gone:
        problems.append(f"conf/ examples without a test: {missing}; tested but gone: {gone}")
    for name in shipped:
        if name in EXAMPLES:
            run_example(args, name, EXAMPLES[name], problems, figures)
    h.log("figures: " + json.dumps(figures))
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
