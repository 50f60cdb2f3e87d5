#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_otel_env.py: the OpenTelemetry per-signal variables end to end (CTest
e2e_otel_env).

Phase 1. Logs and metrics go to two different loopback receivers, chosen
only by OTEL_EXPORTER_OTLP_LOGS_ENDPOINT (a path, used as given) and
OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (no path: posted to "/"), while the file
and OTEL_EXPORTER_OTLP_ENDPOINT name a dead port. Logs: http/protobuf +
zstd; metrics: http/json + no compression (the generic variables say
http/json + gzip: the per-signal ones win). Headers: a generic list, one
OTEL_HEADER_<name>, and a per-signal list each, with one name in all three.
The daemons run with OTEL_SDK_DISABLED=true, which they note and ignore.
Checks, decoded by the OpenTelemetry JS packages (receiver.js):
  * the logs receiver got only logs requests, on /custom/logs, protobuf,
    zstd, with the generic and logs headers (the logs value of the shared
    name, percent-decoded) and none of the metrics ones; every line of the
    workload exactly once;
  * the metrics receiver got only metrics requests, on /, JSON,
    uncompressed, with the metrics headers; exact totals per series;
  * exporter.status names both endpoints, protocols and compressions;
  * --test with the same environment reaches both receivers (a log record
    at one, an empty metrics request at the other) and prints both URLs.
Phase 2. The precedence rules through --test (one request per signal):
a per-signal key in the file loses to a generic variable, which loses to
a per-signal key on the command line.
Phase 3. Two transports at once: logs by OTLP/gRPC to grpc_receiver.js
(OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc and _LOGS_ENDPOINT only), metrics by
the file's http/protobuf to receiver.js; both intact.
"""
import os
import subprocess
import time
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_LINES = 400
INTERVAL_MS = 300
METRIC_ID = 3


def header_problems(label, reqs, want, absent):
    problems = []
    for q in reqs:
        hdr = q.get("hdr", {})
        for k, v in want.items():
            if hdr.get(k) != v:
                problems.append(f"{label}: request {q['n']} header {k} = {hdr.get(k)!r}, "
                                f"expected {v!r}")
        for k in absent:
            if k in hdr:
                problems.append(f"{label}: request {q['n']} carries {k} (another signal's)")
        if problems:
            break  # one request is enough to show it
    return problems


def run_test(env, argv_tail, extra_env):
    e = env.base_env()
    e.update(extra_env)
    p = env.spawn("exporter-test", [env.bin("shmlog-exporter"), "-c", env.ini_path, "--test"]
                  + argv_tail, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = p.popen.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill9()
        out, _ = p.popen.communicate()
        return None, out.decode("utf-8", "replace")
    return p.popen.returncode, out.decode("utf-8", "replace")


def exact_metrics(envm, mp, mres, t_exit, label, problems):
    """Waits at envm for every series of metrics producer mp (METRIC_ID) to
    have a point after it exited; adds a problem per inexact series.
    Returns mp's points."""
    results = h.read_kv(mres)
    expected = {(mp.pid, name, ak): spec for (name, ak), spec in
                h.expected_metrics(METRIC_ID, int(results.get("neg_refused", 0)) > 0).items()}
    after = t_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series([p for p in pts if p["pid"] == mp.pid])
        return all(k in by and int(by[k][-1]["time"]) >= after for k in expected)

    pts, met = envm.wait_metrics(done, timeout=25)
    if not met:
        problems.append(f"{label}: not every series had a point after the producer exited")
    mine = [p for p in pts if p["pid"] == mp.pid]
    by = h.metric_series(mine)
    export_times = {int(p["time"]) for p in mine}
    for k, spec in sorted(expected.items()):
        problems += h.check_series(f"{label} {k[1]} {k[2]}", by.get(k, []), spec, "cumulative",
                                   export_times)
    return mine, expected


def phase1(args, problems, figures):
    ini = h.metrics_ini("cumulative", INTERVAL_MS)
    env = h.Env(args, "otelenv", ini=ini, start_daemons=False,
                receiver_args=["--logs-path", "/custom/logs"])
    envm = h.Env(args, "otelenv-m", start_daemons=False, receiver_args=["--metrics-path", "/"])
    env.ini["exporter"]["endpoint"] = "http://127.0.0.1:1"  # dead: must not be used
    env.write_ini()
    logs_url = f"http://127.0.0.1:{env.port}/custom/logs"
    metrics_url = f"http://127.0.0.1:{envm.port}"
    otel = {
        "OTEL_SDK_DISABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:2",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-common=c,x-shared=generic",
        "OTEL_HEADER_x_from_var": "hv",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": logs_url,
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "zstd",
        "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-logs-only=L%20v,x-shared=logs",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": metrics_url,
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "none",
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-metrics-only=M,x-shared=metrics",
        "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "7000",
    }
    e = env.base_env()
    e.update(otel)
    env.collector = env.spawn("collector", [env.bin("shmlog-collector"), "-c", env.ini_path],
                              env=e)
    env.wait_segment()
    env.start_exporter(extra_env=otel)

    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "oe1",
                                str(N_LINES)], service="e2e-otelenv")
    mres = os.path.join(env.tmp, "mp.result")
    mp = env.metrics_producer([METRIC_ID, mres])
    sh.wait(60)
    mp.wait(60)
    t_exit = time.time_ns()
    expected_lines = h.expected_shell("oe1", N_LINES)
    recs = env.wait_records(len(expected_lines), timeout=40,
                            pred=lambda r: r["service"] == "e2e-otelenv", settle=1.0)
    figs, probs = h.check_captured("shell", recs, expected_lines)
    problems += probs

    mine, expected = exact_metrics(envm, mp, mres, t_exit, "metrics", problems)
    if env.metrics():
        problems.append(f"the logs receiver decoded {len(env.metrics())} metric points")
    if envm.records():
        problems.append(f"the metrics receiver decoded {len(envm.records())} log records")

    lreq, mreq = env.requests(), envm.requests()
    for q in lreq:
        if q["path"] != "/custom/logs" or q["ctype"] != "application/x-protobuf" or \
                q["encoding"] != "zstd" or q["status"] != 200:
            problems.append(f"logs receiver: request {q['n']} {q['path']} {q['ctype']} "
                            f"{q['encoding']!r} answered {q['status']}")
            break
    for q in mreq:
        if q["path"] != "/" or q["ctype"] != "application/json" or \
                q["encoding"] not in ("", "identity") or q["status"] != 200:
            problems.append(f"metrics receiver: request {q['n']} {q['path']} {q['ctype']} "
                            f"{q['encoding']!r} answered {q['status']}")
            break
        if q.get("json", {}).get("n_problems"):
            problems.append(f"metrics receiver: request {q['n']}: OTLP/JSON mapping "
                            f"violations {q['json']['problems'][:3]}")
            break
    if not lreq or not mreq:
        problems.append(f"requests: {len(lreq)} at the logs receiver, {len(mreq)} at the "
                        f"metrics receiver")
    problems += header_problems("logs receiver", lreq,
                                {"x-common": "c", "x-from-var": "hv", "x-logs-only": "L v",
                                 "x-shared": "logs"}, ["x-metrics-only"])
    problems += header_problems("metrics receiver", mreq,
                                {"x-common": "c", "x-from-var": "hv", "x-metrics-only": "M",
                                 "x-shared": "metrics"}, ["x-logs-only"])

    st = env.wait_status(lambda s: s.get("sent_requests", 0) > 0)
    want_st = {"endpoint": logs_url, "protocol": "http/protobuf", "compression": "zstd",
               "metrics_endpoint": metrics_url + "/", "metrics_protocol": "http/json",
               "metrics_compression": "none"}
    for k, v in want_st.items():
        if st.get(k) != v:
            problems.append(f"exporter.status {k} = {st.get(k)!r}, expected {v!r}")
    for d in (env.collector, env.exporter):
        if "OTEL_SDK_DISABLED is set" not in d.log_text():
            problems.append(f"{d.name} did not say that it ignores OTEL_SDK_DISABLED")
    env.stop_daemons()

    # --test with the same environment: one request per receiver.
    n_l, n_m = len(env.requests()), len(envm.requests())
    rc, out = run_test(env, [], otel)
    if rc != 0:
        problems.append(f"--test: exit status {rc}: {out[-600:]!r}")
    t_ms = env.ini["exporter"]["timeout_ms"]
    for want in (f"logs: {logs_url} (http/protobuf, zstd, timeout {t_ms} ms, 4 headers)",
                 f"metrics: {metrics_url}/ (http/json, none, timeout 7000 ms, 4 headers)",
                 f"POST {logs_url}: HTTP 200", f"POST {metrics_url}/: HTTP 200"):
        if want not in out:
            problems.append(f"--test output lacks {want!r}: {out!r}")
    hello = env.wait_records(1, timeout=10, pred=lambda r: r["body"] == "Hello from shmlog",
                             settle=0)
    new_m = envm.requests()[n_m:]
    if len(hello) != 1 or len(env.requests()) != n_l + 1:
        problems.append(f"--test: {len(hello)} hello records, "
                        f"{len(env.requests()) - n_l} new logs requests")
    if len(new_m) != 1 or new_m[0]["status"] != 200 or new_m[0]["ctype"] != "application/json":
        problems.append(f"--test: new metrics requests {new_m}")
    figures.update({"log records": len(recs), "expected lines": len(expected_lines),
                    "logs requests": len(lreq), "metrics requests": len(mreq),
                    "metric points": len(mine), "series": len(expected)})
    env.close()
    envm.close()


def phase2(args, problems, figures):
    """The layering of sources through --test, which sends one request per
    signal and prints where it went."""
    env = h.Env(args, "otelenv-p", start_daemons=False)
    envb = h.Env(args, "otelenv-pb", start_daemons=False)
    a_logs = f"http://127.0.0.1:{env.port}/v1/logs"
    b_base = f"http://127.0.0.1:{envb.port}"
    env.ini["exporter"]["logs_endpoint"] = a_logs
    env.write_ini()
    cases = [
        # (label, argv tail, env, where logs must go)
        ("per-signal key in the file beats the generic key in the file", [], {}, a_logs),
        ("a generic variable beats a per-signal key in the file", [],
         {"OTEL_EXPORTER_OTLP_ENDPOINT": b_base}, b_base + "/v1/logs"),
        ("a per-signal variable beats a generic variable", [],
         {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
          "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": b_base + "/x"}, b_base + "/x"),
        ("a per-signal option beats a generic variable", [f"--exporter.logs_endpoint={a_logs}"],
         {"OTEL_EXPORTER_OTLP_ENDPOINT": b_base}, a_logs),
        ("a generic option beats a per-signal variable", [f"--exporter.endpoint={b_base}"],
         {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": a_logs}, b_base + "/v1/logs"),
    ]
    n = 0
    for label, tail, extra, want in cases:
        rc, out = run_test(env, tail, extra)
        n += 1
        line = [ln for ln in out.splitlines() if ln.startswith("POST ")][:1]
        if not line or not line[0].startswith(f"POST {want}: HTTP "):
            problems.append(f"{label}: logs went to {line}, expected {want}: {out[-300:]!r}")
    # Where the requests really arrived: receiver B got exactly the logs
    # requests of cases 2, 3 and 5 (paths /v1/logs, /x, /v1/logs).
    got_b = [q["path"] for q in envb.requests() if q["path"] != "/v1/metrics"]
    if got_b != ["/v1/logs", "/x", "/v1/logs"]:
        problems.append(f"receiver B got logs requests at {got_b}, expected "
                        f"['/v1/logs', '/x', '/v1/logs']")
    figures["precedence cases"] = n
    env.close()
    envb.close()


def phase3(args, problems, figures):
    """Two transports at once: logs by OTLP/gRPC (grpc-js decodes them)
    chosen only by OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, metrics by the generic
    http/protobuf to another receiver."""
    ini = h.metrics_ini("cumulative", INTERVAL_MS)
    env = h.Env(args, "otelenv-g", ini=ini, start_daemons=False, grpc=True)
    envm = h.Env(args, "otelenv-gm", start_daemons=False)
    env.ini["exporter"]["protocol"] = "http/protobuf"
    env.ini["exporter"]["endpoint"] = f"http://127.0.0.1:{envm.port}"
    env.write_ini()
    otel = {"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"http://127.0.0.1:{env.port}"}
    env.start_collector()
    env.start_exporter(extra_env=otel)
    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "oe3",
                                str(N_LINES)], service="e2e-otelenv-g")
    mres = os.path.join(env.tmp, "mp.result")
    mp = env.metrics_producer([METRIC_ID, mres])
    sh.wait(60)
    mp.wait(60)
    t_exit = time.time_ns()
    expected_lines = h.expected_shell("oe3", N_LINES)
    recs = env.wait_records(len(expected_lines), timeout=40,
                            pred=lambda r: r["service"] == "e2e-otelenv-g", settle=1.0)
    figs, probs = h.check_captured("grpc logs", recs, expected_lines)
    problems += probs
    exact_metrics(envm, mp, mres, t_exit, "http metrics", problems)
    lreq, mreq = env.requests(), envm.requests()
    if not lreq or any(not q["path"].endswith("LogsService/Export") for q in lreq):
        problems.append(f"grpc receiver: calls {[q['path'] for q in lreq][:5]}")
    if not mreq or any(q["path"] != "/v1/metrics" or q["ctype"] != "application/x-protobuf"
                       for q in mreq):
        problems.append(f"http receiver: requests {[(q['path'], q['ctype']) for q in mreq][:5]}")
    st = env.wait_status(lambda s: s.get("sent_requests", 0) > 0)
    if st.get("protocol") != "grpc" or st.get("metrics_protocol") != "http/protobuf":
        problems.append(f"exporter.status protocols {st.get('protocol')!r}, "
                        f"{st.get('metrics_protocol')!r}")
    figures.update({"grpc log records": len(recs), "grpc calls": len(lreq),
                    "http metrics requests": len(mreq)})
    env.close()
    envm.close()


def test(args):
    problems, figures = [], {}
    phase1(args, problems, figures)
    phase2(args, problems, figures)
    phase3(args, problems, figures)
    h.log(f"figures: {figures}")
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
