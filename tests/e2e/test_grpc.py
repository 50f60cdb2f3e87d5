#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_grpc.py: OTLP/gRPC end to end against a real gRPC server (CTest
e2e_grpc): grpc_receiver.js, @grpc/grpc-js serving LogsService/Export and
MetricsService/Export, requests decoded by the OpenTelemetry JS packages.

  gzip      protocol = grpc, compression gzip: a preloaded shell loop, a
            Python program and e2e_api_producer (and its fork()ed child)
            write logs while two e2e_metrics_producer processes write
            metrics: every log line arrives exactly once with its body,
            resource and stream (0 missing), every metric series has its
            exact totals. Each call carried te: trailers, content-type
            application/grpc, grpc-encoding gzip, grpc-accept-encoding,
            grpc-timeout from timeout_ms, the configured header as
            metadata. Then, one burst of lines per phase (max_in_flight 1):
              "14*2"      UNAVAILABLE twice: retried, then delivered once
              "8:2"       RESOURCE_EXHAUSTED with RetryInfo 2 s: retried
                          no sooner than 2 s later, delivered
              "8"         RESOURCE_EXHAUSTED without RetryInfo: dropped,
                          dropped_requests/dropped_records count it
              "3", "3"    INVALID_ARGUMENT twice: both dropped and counted,
                          the reason (grpc-message percent-decoded) logged
                          once
              "partial:5" OK with partial success: rejected_records +5
            exporter.status: protocol grpc, last_grpc_status 0 at the end.
  none      compression none: logs and metrics arrive intact
            (grpc-encoding identity). shmlog-exporter --test over gRPC:
            exit 0, "gRPC OK (0)", the Hello record arrives; against an
            UNAUTHENTICATED answer: exit 1, the status and server message.
  zstd      grpc-js has no zstd codec and answers UNIMPLEMENTED: the
            exporter drops the requests and counts every record
            (dropped_records), last_grpc_status 12 (also in shmtop --json),
            logged once.
  zstd-raw  the same zstd requests to node's own http2 server
            (--raw-http2), where fzstd decompresses and the OTLP root
            decodes: logs and metrics arrive intact, grpc-encoding zstd.
  proxy     grpc_receiver.js --raw-http2 (node's http2 module where a
            proxy would stand): HTTP 503 without grpc-status twice, then a
            trailers-only UNAVAILABLE with RetryInfo 1 s: retried (the last
            no sooner than 1 s), delivered; HTTP 404 without grpc-status:
            UNIMPLEMENTED, dropped, counted, logged; an OK whose answer
            message is gzip-compressed with a partial success of 4:
            rejected_records +4.
  tls       https:// endpoint: HTTP/2 negotiated by ALPN, the server's
            certificate checked against ca_file (grpc-js
            ServerCredentials.createSsl): three bursts, every line
            delivered, all calls on one kept-alive connection.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import test_tls  # noqa: E402  (make_certs)

# shell lines, python ops, api parent records, api child records
SCALE = (4000, 4000, 1500, 500)
BURST = 200
NMETRICS = 2
TIMEOUT_MS = 4000
HDR_NAME, HDR_VALUE = "x-e2e-key", "e2e-secret-value"


def burst(env, tag, n=BURST):
    p = env.producer(tag, ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), tag, str(n)],
                     service=f"e2e-grpc-{tag}")
    h.check(p.wait(30) == 0, f"producer {tag} failed")
    return p


def logs_calls(env, after=0):
    return [q for q in env.requests() if q["n"] > after and q["path"].endswith("LogsService/Export")]


def last_n(env):
    reqs = env.requests()
    return reqs[-1]["n"] if reqs else 0


def check_burst(env, tag, pid, timeout=30):
    exp = h.expected_shell(tag, BURST)
    recs = env.wait_records(len(exp), timeout=timeout, pred=lambda r: r["pid"] == pid, settle=1.0)
    fig, problems = h.check_captured(tag, recs, exp, lenient_stream=True)
    h.log(f"  {tag}: {fig}")
    if problems:
        for p in problems[:10]:
            h.log("  problem: " + p)
        raise h.Fail(f"{tag}: {len(problems)} problems")
    return fig


def check_transport(label, calls, encoding):
    problems = []
    for q in calls:
        t = q.get("transport", {})
        want = {"te": "trailers", "content-type": "application/grpc", "grpc-encoding": encoding,
                "grpc-timeout": f"{TIMEOUT_MS}m"}
        bad = {k: t.get(k) for k, v in want.items() if t.get(k) != v}
        if bad or "gzip" not in t.get("grpc-accept-encoding", ""):
            problems.append(f"{label}: call {q['n']} transport headers {t}, wrong: {bad}")
        if q.get("hdr", {}).get(HDR_NAME) != HDR_VALUE:
            problems.append(f"{label}: call {q['n']} lacks the configured header {HDR_NAME}")
        if not str(q.get("hdr", {}).get("user-agent", "")).startswith("shmlog-exporter/"):
            problems.append(f"{label}: call {q['n']} user-agent {q.get('hdr', {}).get('user-agent')}")
    return problems[:5]


def metrics_check(env, label, procs, t_exit):
    """Exact totals per series (cumulative) for the metrics producers."""
    expected, pid_of = {}, {}
    for i, (p, res) in procs.items():
        r = h.read_kv(res)
        pid_of[p.pid] = i
        for (name, ak), spec in h.expected_metrics(i, r.get("neg_refused", 0) > 0).items():
            expected[(p.pid, name, ak)] = spec
    after = t_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series(pts)
        return all(k in by and int(by[k][-1]["time"]) >= after for k in expected)

    pts, met = env.wait_metrics(done, timeout=30)
    problems = [] if met else [f"{label}: metrics end state not reached in 30 s"]
    by = h.metric_series(pts)
    export_times = {int(p["time"]) for p in pts}
    for k, spec in expected.items():
        problems += h.check_series(f"{label} producer {pid_of[k[0]]} {k[1]} {k[2]}", by.get(k, []),
                                   spec, "cumulative", export_times)
    mcalls = [q for q in env.requests() if q["path"].endswith("MetricsService/Export")]
    h.log(f"  {label} metrics: {len(pts)} points in {len(mcalls)} MetricsService calls, "
          f"{len(expected)} series expected, {sum(1 for k in expected if k in by)} received")
    return problems, mcalls


def start_metrics(env, ids):
    procs = {}
    for i in ids:
        res = os.path.join(env.tmp, f"mp{i}.result")
        procs[i] = (env.metrics_producer([i, res], service="e2e-grpc-metrics", name=f"metrics{i}"),
                    res)
    return procs


def wait_metrics_producers(procs):
    for i, (p, _) in procs.items():
        h.check(p.wait(60) == 0, f"e2e_metrics_producer {i} failed: {p.log_text()[-500:]}")
    return time.time_ns()


def case_gzip(args, figures):
    ini = h.metrics_ini("cumulative", 300)
    ini["exporter"] = {"max_in_flight": "1", "timeout_ms": str(TIMEOUT_MS),
                       "retry_initial_ms": "200", "retry_max_ms": "2000",
                       "headers": f"{HDR_NAME}={HDR_VALUE}"}
    env = h.Env(args, "grpc-gzip", compression="gzip", ini=ini, grpc=True)
    n_sh, n_py, n_api, m_api = SCALE
    result = os.path.join(env.tmp, "api.result")
    mprocs = start_metrics(env, range(1, NMETRICS + 1))
    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "sh1",
                                str(n_sh)], service="e2e-shell")
    py = env.producer("python", [sys.executable, os.path.join(h.WORKLOADS, "py_workload.py"),
                                 "py1", str(n_py)], service="e2e-python")
    api = env.producer("api", [env.api_producer(), "run", "api1", str(n_api), str(m_api), "0",
                               result], service="e2e-api")
    for p in (sh, py, api):
        h.check(p.wait(90) == 0, f"producer {p.name} failed")
    t_exit = wait_metrics_producers(mprocs)
    cres = h.read_kv(result + ".child")
    child_pid = cres.get("pid")
    exp_sh = h.expected_shell("sh1", n_sh)
    exp_py = h.expected_python("py1", n_py)
    exp_api_io = h.expected_api_stdio("api1", n_api, m_api)
    want = (sum(h.nparts(b) for _, b in exp_sh + exp_py) + n_api + m_api + len(exp_api_io))
    recs = env.wait_records(want, timeout=75, settle=1.5)

    problems, figs = [], {}
    by_pid = {}
    for r in recs:
        by_pid.setdefault(r["pid"], []).append(r)
    f, p = h.check_captured("shell", by_pid.get(sh.pid, []), exp_sh)
    figs["shell"] = f
    problems += p + h.check_resource("shell", by_pid.get(sh.pid, []), "e2e-shell", sh.pid,
                                     exe="bash", cmd_has="sh1")
    f, p = h.check_captured("python", by_pid.get(py.pid, []), exp_py)
    figs["python"] = f
    problems += p
    for who, pid, n in (("p", api.pid, n_api), ("c", child_pid, m_api)):
        mine = by_pid.get(pid, [])
        f, p = h.check_api(f"api {who}", [r for r in mine if "log.iostream" not in r["attrs"]],
                           "api1", who, n)
        figs[f"api {who}"] = f
        problems += p
        f, p = h.check_captured(f"api {who} stdio", [r for r in mine if "log.iostream" in r["attrs"]],
                                [(s, b) for w, s, b in exp_api_io if w == who])
        figs[f"api {who} stdio"] = f
        problems += p
    others = [pid for pid in by_pid if pid not in (sh.pid, py.pid, api.pid, child_pid)]
    if others:
        problems.append(f"records from unexpected pids {others}")
    mp, mcalls = metrics_check(env, "gzip", mprocs, t_exit)
    problems += mp
    calls = logs_calls(env)
    problems += check_transport("gzip logs", calls, "gzip")
    problems += check_transport("gzip metrics", mcalls, "gzip")
    if any(q["status"] != 0 for q in calls + mcalls):
        problems.append(f"calls answered non-OK without a plan: "
                        f"{[q['status'] for q in calls + mcalls if q['status'] != 0][:5]}")
    if h.bad_utf8_requests(env):
        problems.append("calls carried invalid UTF-8")
    missing = sum(f.get("missing", 0) for f in figs.values())
    extra = sum(f.get("unexpected", 0) + f.get("dups", 0) for f in figs.values())
    figures.append(f"gzip: {want} records expected, {len(recs)} received in {len(calls)} "
                   f"LogsService calls, missing {missing}, unexpected/duplicate {extra}; "
                   f"{len(mcalls)} MetricsService calls")
    h.log(figures[-1])
    for k, f in figs.items():
        h.log(f"  {k}: {f}")
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"gzip: {len(problems)} problems")

    # Phases: each a plan, then a burst of lines.
    st0 = env.status()
    n0 = last_n(env)
    env.set_plan("14*2")
    p = burst(env, "unavail")
    check_burst(env, "unavail", p.pid)
    c = logs_calls(env, n0)
    h.check([q["status"] for q in c[:3]] == [14, 14, 0],
            f"UNAVAILABLE phase: statuses {[q['status'] for q in c]}")
    h.check(c[0]["records"] == c[1]["records"] == c[2]["records"],
            f"UNAVAILABLE phase: the retries carry other records {[q['records'] for q in c[:3]]}")
    st = env.status()
    figures.append(f"UNAVAILABLE*2: statuses {[q['status'] for q in c]}, retries "
                   f"+{st['retries'] - st0['retries']}")
    h.check(st["retries"] - st0["retries"] >= 2, f"retries did not grow by 2: {st}")

    n0 = last_n(env)
    env.set_plan("8:2")
    p = burst(env, "throttle")
    check_burst(env, "throttle", p.pid)
    c = logs_calls(env, n0)
    h.check([q["status"] for q in c[:2]] == [8, 0], f"RetryInfo phase: {[q['status'] for q in c]}")
    gap = c[1]["t_ms"] - c[0]["t_resp_ms"]
    figures.append(f"RESOURCE_EXHAUSTED + RetryInfo 2 s: retried after {gap} ms")
    h.check(gap >= 1900, f"retry {gap} ms after RetryInfo retry_delay 2 s (back-off alone is "
                         f"<= 300 ms here)")

    for plan, tag in (("8", "exhausted"), ("3", "invalid1"), ("3", "invalid2")):
        st0 = env.status()
        n0 = last_n(env)
        env.set_plan(plan)
        p = burst(env, tag)
        st = env.wait_status(lambda s: s.get("dropped_requests", 0) > st0.get("dropped_requests", 0))
        exp = h.expected_shell(tag, BURST)
        recs = env.wait_records(len(exp), timeout=10, pred=lambda r, pid=p.pid: r["pid"] == pid,
                                settle=1.0)
        st = env.status()
        c = logs_calls(env, n0)
        refused = [q for q in c if q["status"] == int(plan)]
        h.check(len(refused) == 1, f"{tag}: {len(refused)} calls answered {plan} "
                                   f"(a permanent error was retried?): {[q['status'] for q in c]}")
        rej = [r for r in env.rejected() if r["pid"] == p.pid]
        d_req = st["dropped_requests"] - st0["dropped_requests"]
        d_rec = st["dropped_records"] - st0["dropped_records"]
        figures.append(f"{plan} ({tag}): dropped_requests +{d_req}, dropped_records +{d_rec}, "
                       f"rejected at the receiver {len(rej)}, delivered {len(recs)} of {len(exp)}")
        h.check(d_req == 1 and d_rec == refused[0]["records"] == len(rej),
                f"{tag}: drop not counted right: {figures[-1]}")
        h.check(len(recs) + len(rej) == len(exp), f"{tag}: delivered + dropped != published")
    log = env.exporter.log_text()
    n_invalid = sum(1 for line in log.splitlines() if "dropped" in line and "INVALID_ARGUMENT" in line)
    h.check(n_invalid == 1, f"INVALID_ARGUMENT drops logged {n_invalid} times (want once)")
    h.check("planned 3: a message to percent-encode (100%)" in log,
            "the exporter log lacks the percent-decoded grpc-message")
    h.check("RESOURCE_EXHAUSTED" in log, "the RESOURCE_EXHAUSTED drop is not logged")

    st0 = env.status()
    env.set_plan("partial:5")
    p = burst(env, "partial")
    check_burst(env, "partial", p.pid)
    st = env.wait_status(lambda s: s["rejected_records"] - st0["rejected_records"] >= 5)
    figures.append(f"partial:5: rejected_records +{st['rejected_records'] - st0['rejected_records']}")
    h.check(st["rejected_records"] - st0["rejected_records"] == 5, f"partial success: {st}")
    h.check(st.get("protocol") == "grpc" and st.get("last_grpc_status") == 0,
            f"exporter.status protocol/last_grpc_status: {st}")
    env.close()


def case_none(args, figures):
    ini = h.metrics_ini("cumulative", 300)
    ini["exporter"] = {"timeout_ms": str(TIMEOUT_MS), "headers": f"{HDR_NAME}={HDR_VALUE}"}
    env = h.Env(args, "grpc-none", compression="none", ini=ini, grpc=True)
    mprocs = start_metrics(env, [3])
    p = burst(env, "none")
    t_exit = wait_metrics_producers(mprocs)
    fig = check_burst(env, "none", p.pid)
    problems, mcalls = metrics_check(env, "none", mprocs, t_exit)
    calls = logs_calls(env)
    problems += check_transport("none logs", calls, "identity")
    problems += check_transport("none metrics", mcalls, "identity")
    figures.append(f"none: {fig}, {len(calls)} LogsService and {len(mcalls)} MetricsService calls")

    # --test: one record through the same gRPC transport, and what it prints.
    def selftest():
        r = subprocess.run([env.bin("shmlog-exporter"), "-c", env.ini_path, "--test"],
                           env=env.base_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=30)
        return r.returncode, r.stdout.decode(errors="replace")

    rc, out = selftest()
    hello = env.wait_records(1, timeout=10, pred=lambda r: r["body"] == "Hello from shmlog",
                             settle=0)
    post = [line for line in out.splitlines() if line.startswith("POST ")]
    figures.append(f"--test: rc {rc}, {post[:1]}; {len(hello)} 'Hello from shmlog' record(s) "
                   f"received")
    if rc != 0 or "gRPC OK (0)" not in out or len(hello) != 1:
        problems.append(f"--test over grpc: rc {rc}, output {out!r}, {len(hello)} records")
    env.set_plan("16")
    rc, out = selftest()
    figures.append(f"--test against UNAUTHENTICATED: rc {rc}, {out.strip().splitlines()[-2:]}")
    if rc != 1 or "gRPC UNAUTHENTICATED (16)" not in out or "server: planned 16" not in out:
        problems.append(f"--test against UNAUTHENTICATED: rc {rc}, output {out!r}")
    if problems:
        for q in problems[:20]:
            h.log("  problem: " + q)
        raise h.Fail(f"none: {len(problems)} problems")
    env.close()


def case_proxy(args, figures):
    """grpc_receiver.js --raw-http2: HTTP statuses without grpc-status, a
    trailers-only RetryInfo, a gzip-compressed answer message."""
    env = h.Env(args, "grpc-proxy", compression="gzip", grpc=True, receiver_args=["--raw-http2"],
                ini={"exporter": {"max_in_flight": "1", "retry_initial_ms": "200",
                                  "retry_max_ms": "2000"}, "metrics": {"host_metrics": "false"}})
    n0 = last_n(env)
    env.set_plan("http:503*2,14:1")
    p = burst(env, "proxy503")
    check_burst(env, "proxy503", p.pid)
    c = logs_calls(env, n0)
    h.check([q["status"] for q in c[:4]] == ["http:503", "http:503", 14, 0],
            f"proxy: statuses {[q['status'] for q in c]}")
    gap = c[3]["t_ms"] - c[2]["t_resp_ms"]
    figures.append(f"raw HTTP/2 503 (no grpc-status) x2, then trailers-only UNAVAILABLE + RetryInfo "
                   f"1 s: statuses {[q['status'] for q in c]}, last retry after {gap} ms")
    h.check(gap >= 950, f"proxy: retry {gap} ms after RetryInfo 1 s")

    st0 = env.status()
    n0 = last_n(env)
    env.set_plan("http:404")
    p = burst(env, "proxy404")
    st = env.wait_status(lambda s: s.get("dropped_requests", 0) > st0.get("dropped_requests", 0))
    time.sleep(1.0)
    st = env.status()
    c = logs_calls(env, n0)
    d_rec = st["dropped_records"] - st0["dropped_records"]
    figures.append(f"raw HTTP/2 404: statuses {[q['status'] for q in c]}, dropped_records +{d_rec}, "
                   f"last_http_status {st['last_http_status']}, last_grpc_status "
                   f"{st['last_grpc_status']}")
    h.check([q["status"] for q in c] == ["http:404"] and d_rec == c[0]["records"],
            f"proxy: 404 not dropped once: {figures[-1]}")
    h.check(st["last_http_status"] == 404 and st["last_grpc_status"] == 12, f"proxy: {st}")
    log = env.exporter.log_text()
    h.check("UNIMPLEMENTED" in log and "HTTP 404, no grpc-status" in log,
            "proxy: the 404 drop is not logged as UNIMPLEMENTED from HTTP 404")

    st0 = env.status()
    env.set_plan("gzip-partial:4")
    p = burst(env, "proxygz")
    check_burst(env, "proxygz", p.pid)
    st = env.wait_status(lambda s: s["rejected_records"] - st0["rejected_records"] >= 4)
    d = st["rejected_records"] - st0["rejected_records"]
    figures.append(f"gzip-compressed answer with partial success 4: rejected_records +{d}")
    h.check(d == 4, f"proxy: compressed partial success not counted: {st}")
    env.close()


def case_zstd(args, figures):
    env = h.Env(args, "grpc-zstd", compression="zstd", grpc=True,
                ini={"metrics": {"host_metrics": "false"}})
    p = burst(env, "zstd")
    n = len(h.expected_shell("zstd", BURST))
    st = env.wait_status(lambda s: s.get("dropped_records", 0) >= n, timeout=20)
    time.sleep(1.0)
    st = env.status()
    recs = [r for r in env.records() if r["pid"] == p.pid]
    log = env.exporter.log_text()
    n_logged = sum(1 for line in log.splitlines() if "dropped" in line and "UNIMPLEMENTED" in line)
    figures.append(f"zstd: UNIMPLEMENTED from grpc-js; dropped_requests {st.get('dropped_requests')}"
                   f", dropped_records {st.get('dropped_records')} of {n}, delivered {len(recs)}, "
                   f"retries {st.get('retries')}, logged {n_logged}x")
    h.check(st.get("dropped_records", 0) >= n and not recs, f"zstd: {figures[-1]}")
    h.check(st.get("last_grpc_status") == 12, f"zstd: last_grpc_status {st}")
    h.check(st.get("retries") == 0, f"zstd: UNIMPLEMENTED was retried: {st}")
    h.check(n_logged == 1, f"zstd: drop logged {n_logged} times (want once)")
    h.check('unsupported encoding "zstd"' in st.get("last_error", ""), f"zstd: last_error {st}")
    # shmtop shows it too.
    r = subprocess.run([env.bin("shmtop"), "-c", env.ini_path, "--json"], env=env.base_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    top = json.loads(r.stdout.decode(errors="replace") or "{}") if r.returncode == 0 else {}
    ex = top.get("exporter") or {}
    figures.append(f"  shmtop --json exporter: protocol {ex.get('protocol')!r}, last_grpc_status "
                   f"{ex.get('last_grpc_status')}")
    h.check(ex.get("protocol") == "grpc" and ex.get("last_grpc_status") == 12,
            f"zstd: shmtop (rc {r.returncode}): {r.stdout[-400:]!r}")
    env.close()


def case_zstd_raw(args, figures):
    """zstd end to end: node's http2 server (--raw-http2) takes what
    grpc-js cannot; fzstd decompresses, the OTLP root decodes."""
    ini = h.metrics_ini("cumulative", 300)
    ini["exporter"] = {"timeout_ms": str(TIMEOUT_MS), "headers": f"{HDR_NAME}={HDR_VALUE}"}
    env = h.Env(args, "grpc-zstd-raw", compression="zstd", ini=ini, grpc=True,
                receiver_args=["--raw-http2"])
    mprocs = start_metrics(env, [4])
    p = burst(env, "zraw")
    t_exit = wait_metrics_producers(mprocs)
    fig = check_burst(env, "zraw", p.pid)
    mproblems, mcalls = metrics_check(env, "zstd-raw", mprocs, t_exit)
    h.check(not mproblems and mcalls, f"zstd-raw metrics: {mproblems[:5] or 'no metrics calls'}")
    calls = logs_calls(env)
    problems = check_transport("zstd-raw", calls, "zstd")
    h.check(calls and not problems, f"zstd-raw: {problems or 'no logs calls'}")
    figures.append(f"zstd through raw HTTP/2 (fzstd + OTLP root): {fig}; {len(calls)} logs calls, "
                   f"grpc-encoding zstd")
    env.close()


def case_tls(args, figures):
    cert_dir = tempfile.mkdtemp(prefix="shmlog-e2e-grpc-certs-")
    try:
        try:
            certs = test_tls.make_certs(os.path.join(cert_dir, "c"))
        except h.Skip as e:
            figures.append(f"tls: not run ({e})")
            return
        tls_run(args, figures, certs)
    finally:
        shutil.rmtree(cert_dir, ignore_errors=True)


def tls_run(args, figures, certs):
    env = h.Env(args, "grpc-tls", compression="gzip", grpc=True, start_daemons=False,
                ini={"exporter": {"ca_file": certs["ca"]}, "metrics": {"host_metrics": "false"}},
                receiver_args=["--tls-cert", certs["server"], "--tls-key", certs["server_key"]])
    h.check(env.ini["exporter"]["endpoint"].startswith("https://"), "tls: endpoint not https")
    env.write_ini()
    env.start_collector()
    env.start_exporter()
    figs = []
    for tag in ("tls1", "tls2", "tls3"):
        p = burst(env, tag)
        figs.append(check_burst(env, tag, p.pid))
    st = env.status()
    calls = logs_calls(env)
    peers = {q["peer"] for q in calls}
    figures.append(f"tls (ALPN h2, ca_file): {sum(f['records'] for f in figs)} records, missing "
                   f"{sum(f['missing'] for f in figs)}, {len(calls)} LogsService calls over "
                   f"{len(peers)} connection(s); endpoint {st.get('endpoint')}")
    h.check(st.get("last_grpc_status") == 0, f"tls: {st}")
    # Over TLS the HTTP/2 connection is kept and reused between calls.
    h.check(len(calls) >= 3 and len(peers) == 1, f"tls: calls from {peers}")
    env.close()


def test(args):
    figures = []
    case_gzip(args, figures)
    case_none(args, figures)
    case_proxy(args, figures)
    case_zstd(args, figures)
    case_zstd_raw(args, figures)
    case_tls(args, figures)
    h.log("figures:")
    for f in figures:
        h.log("  " + f)


if __name__ == "__main__":
    h.main(test)
