#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_json.py: OTLP/HTTP JSON end to end (CTest e2e_json).

[exporter] protocol = http/json, once per compression (gzip, zstd, none;
--compressions), each run with its own daemons: a bash loop
(workloads/shell_loop.sh, multi-byte UTF-8, CRLF), a Python program
(workloads/py_workload.py: split lines, invalid bytes that must arrive as
U+FFFD), e2e_api_producer and its fork()ed child (trace and span ids,
attributes of every type), a line of characters JSON must escape, and two
e2e_metrics_producer processes (IDs 1, 2; cumulative, exact totals from
harness.expected_metrics). Checks, per run:
  * every request: Content-Type application/json, the Content-Encoding of
    the run, answered 200, decoded by the OpenTelemetry JS packages;
  * the JSON as sent follows the OTLP/JSON mapping (receiver.js jsonShape:
    hex ids of 32/16 characters, 64-bit integers as decimal strings, enums
    and 32-bit integers as numbers, lowerCamelCase keys) -- and the checked
    fields were actually there (ids, int64 strings, enums);
  * every log line exactly once and intact (as test_logs.py checks it), the
    API records with their trace/span ids, no invalid UTF-8 in any body;
  * every metric series exact (values, histogram buckets, min, max).
Last, e2e_api_producer runs once more with protocol = http/protobuf, and
the receiver must see the same hex trace/span ids for the same records.
"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_SH, N_PY, N_API, M_API = 2000, 2000, 600, 200
METRIC_IDS = (1, 2)
INTERVAL_MS = 300

# Characters a JSON encoder must escape (or may pass through): quotes,
# backslash, tab, C0 controls, ESC, DEL, U+2028/U+2029, 4-byte UTF-8.
ESCAPES = [
    'esc "double" \'single\' back\\slash /slash',
    "esc tab\there\tand there",
    "esc ctl \x01\x02\x1f \x1b[31mred\x1b[0m \x7f del",
    "esc u2028 \u2028 u2029 \u2029 end",
    "esc emoji \U0001F389 clef \U0001D11E nbsp \u00a0 bom \ufeff",
    "esc html <script>&amp;</script> \\u0041 not an escape",
]
ESC_PROG = ("import sys\n"
            "for l in sys.argv[1:]:\n"
            "    sys.stdout.buffer.write(l.encode('utf-8') + b'\\n')\n")


def extra_args(ap):
    ap.add_argument("--compressions", default="gzip,zstd,none")


def json_ini(compression, protocol="http/json"):
    ini = h.metrics_ini("cumulative", INTERVAL_MS)
    ini["exporter"] = {"protocol": protocol, "compression": compression}
    return ini


def check_requests(env, comp, problems):
    """Content-Type, Content-Encoding, status and the JSON mapping of every
    request. Returns figures."""
    reqs = env.requests()
    want_enc = {"gzip": {"gzip"}, "zstd": {"zstd"}, "none": {"", "identity"}}[comp]
    seen = collections.Counter()
    by_sig = collections.Counter()
    for q in reqs:
        sig = q["path"].split("?")[0].rsplit("/", 1)[-1]
        by_sig[sig] += 1
        if q.get("ctype") != "application/json":
            problems.append(f"{comp}: request {q['n']} {q['path']} has Content-Type "
                            f"{q.get('ctype')!r}, expected application/json")
        if q.get("encoding") not in want_enc:
            problems.append(f"{comp}: request {q['n']} has Content-Encoding {q.get('encoding')!r}, "
                            f"expected {sorted(want_enc)}")
        if q.get("status") != 200:
            problems.append(f"{comp}: request {q['n']} {q['path']} answered {q.get('status')} "
                            f"({q.get('why', '')})")
        js = q.get("json")
        if js is None:
            if q.get("ctype") == "application/json":
                problems.append(f"{comp}: request {q['n']} was not checked as JSON ({q.get('why')})")
            continue
        if js["n_problems"]:
            problems.append(f"{comp}: request {q['n']} {q['path']}: {js['n_problems']} OTLP/JSON "
                            f"mapping violations, e.g. {js['problems'][:4]}")
        for k, v in js["seen"].items():
            seen[(sig, k)] += v
    for sig in ("logs", "metrics"):
        if not by_sig[sig]:
            problems.append(f"{comp}: no {sig} request arrived")
            continue
        for k in ("int64", "enum") + (("id",) if sig == "logs" else ()):
            if not seen[(sig, k)]:
                problems.append(f"{comp}: no {k} field in any {sig} request: the JSON checks "
                                f"checked nothing")
    bad = h.bad_utf8_requests(env)
    if bad:
        problems.append(f"{comp}: {len(bad)} requests carried invalid UTF-8")
    return {"requests": dict(by_sig), "fields checked": {f"{a}.{b}": n for (a, b), n in
                                                          sorted(seen.items())}}


def check_metrics(env, procs, results, t_exit, problems, comp):
    expected = {}
    pid_of = {}
    for i, p in procs.items():
        pid_of[p.pid] = i
        for (name, ak), spec in h.expected_metrics(i, results[i].get("neg_refused", 0) > 0).items():
            expected[(p.pid, name, ak)] = spec
    after = t_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series(pts)
        return all(k in by and int(by[k][-1]["time"]) >= after for k in expected)

    pts, met = env.wait_metrics(done, timeout=20)
    if not met:
        problems.append(f"{comp}: metrics: no point exported 1 s after the producers exited "
                        f"for every series within 20 s")
    by = h.metric_series(pts)
    export_times = {int(p["time"]) for p in pts}
    for k, spec in sorted(expected.items(), key=lambda kv: (pid_of[kv[0][0]], kv[0][1], kv[0][2])):
        problems += [f"{comp}: {p}" for p in h.check_series(
            f"metrics producer {pid_of[k[0]]} {k[1]} {k[2]}", by.get(k, []), spec, "cumulative",
            export_times)]
    for pid, i in pid_of.items():
        problems += [f"{comp}: {p}" for p in h.check_resource(
            f"metrics producer {i}", [p for p in pts if p["pid"] == pid], "e2e-metrics", pid,
            exe="e2e_metrics_producer")]
    unexpected = [k for k in by if k not in expected and k[1].startswith("e2e.")]
    if unexpected:
        problems.append(f"{comp}: {len(unexpected)} unexpected e2e series, e.g. {unexpected[:3]}")
    dups = h.dup_points(pts)
    if dups:
        problems.append(f"{comp}: {len(dups)} series with two points in one request")
    return {"points": len(pts), "series": len(expected),
            "counter total": sum(spec["value"] for spec in expected.values()
                                 if spec["kind"] == "counter")}


def run_json(args, comp):
    env = h.Env(args, "json-" + comp, compression=comp, ini=json_ini(comp))
    result = os.path.join(env.tmp, "api.result")
    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "sh1",
                                str(N_SH)], service="e2e-shell")
    py = env.producer("python", [sys.executable, os.path.join(h.WORKLOADS, "py_workload.py"),
                                 "py1", str(N_PY)], service="e2e-python")
    api = env.producer("api", [env.api_producer(), "run", "api1", str(N_API), str(M_API), "0",
                               result], service="e2e-api")
    esc = env.producer("escapes", [sys.executable, "-c", ESC_PROG] + ESCAPES, service="e2e-esc")
    mps = {}
    mres = {}
    for i in METRIC_IDS:
        mres[i] = os.path.join(env.tmp, f"mp{i}.result")
        mps[i] = env.metrics_producer([i, mres[i]], name=f"metrics{i}")
    for p in [sh, py, api, esc] + list(mps.values()):
        rc = p.wait(60)
        h.check(rc == 0, f"{comp}: producer {p.name} exited with {rc}: {p.log_text()[-500:]}")
    t_exit = time.time_ns()
    pres, cres = h.read_kv(result), h.read_kv(result + ".child")
    h.check(pres.get("failed") == 0 and cres.get("failed") == 0,
            f"{comp}: API calls failed: parent {pres}, child {cres}")
    child_pid = cres.get("pid")

    exp_sh = h.expected_shell("sh1", N_SH)
    exp_py = h.expected_python("py1", N_PY)
    exp_io = h.expected_api_stdio("api1", N_API, M_API)
    exp_esc = [("stdout", e) for e in ESCAPES]
    want = (sum(h.nparts(b) for _, b in exp_sh + exp_py) + N_API + M_API + len(exp_io) +
            len(exp_esc))
    recs = env.wait_records(want, timeout=40, settle=1.0, stall=15)

    problems = []
    by_pid = collections.defaultdict(list)
    for r in recs:
        by_pid[r["pid"]].append(r)
    known = {sh.pid, py.pid, api.pid, child_pid, esc.pid}
    for pid in set(by_pid) - known:
        problems.append(f"{comp}: {len(by_pid[pid])} records from unknown pid {pid}, e.g. "
                        f"{by_pid[pid][0]['body']!r}")
    figs = {}
    for label, proc, exp, service in (("shell", sh, exp_sh, "e2e-shell"),
                                      ("python", py, exp_py, "e2e-python"),
                                      ("escapes", esc, exp_esc, "e2e-esc")):
        f, p = h.check_captured(label, by_pid.get(proc.pid, []), exp)
        figs[label] = f
        problems += [f"{comp}: {x}" for x in p]
        problems += [f"{comp}: {x}" for x in h.check_resource(label, by_pid.get(proc.pid, []),
                                                               service, proc.pid)]
    ids = {}
    for who, pid, n in (("p", api.pid, N_API), ("c", child_pid, M_API)):
        mine = by_pid.get(pid, [])
        api_recs = [r for r in mine if "log.iostream" not in r["attrs"]]
        f, p = h.check_api(f"api {who}", api_recs, "api1", who, n)
        figs[f"api {who}"] = f
        problems += [f"{comp}: {x}" for x in p]
        f, p = h.check_captured(f"api {who} stdio", [r for r in mine if "log.iostream" in r["attrs"]],
                                [(s, b) for w, s, b in exp_io if w == who])
        figs[f"api {who} stdio"] = f
        problems += [f"{comp}: {x}" for x in p]
        for r in api_recs:
            ids[r["body"]] = (r["traceId"], r["spanId"], r.get("flags", 0))
    with_ids = sum(1 for t, s, _ in ids.values() if t)
    if not with_ids:
        problems.append(f"{comp}: no API record carried a trace id")
    fake = [r["body"] for r in recs
            if "\ufffd" in (r["body"] or "") and not r["body"].startswith("py py1")]
    if fake:
        problems.append(f"{comp}: U+FFFD in records that had valid UTF-8, e.g. {fake[:2]}")
    if env.rejected():
        problems.append(f"{comp}: {len(env.rejected())} records refused by the receiver")

    mfig = check_metrics(env, mps, {i: h.read_kv(r) for i, r in mres.items()}, t_exit, problems,
                         comp)
    rfig = check_requests(env, comp, problems)
    st = env.status()
    env.check_daemons()
    if st.get("dropped_requests"):
        problems.append(f"{comp}: exporter dropped {st.get('dropped_requests')} requests: "
                        f"{st.get('last_error')}")
    missing = sum(f.get("missing", 0) for f in figs.values())
    extra = sum(f.get("unexpected", 0) + f.get("dups", 0) for f in figs.values())
    h.log(f"{comp}: {len(recs)} records ({want} expected), missing {missing}, "
          f"unexpected/duplicate {extra}, API records with trace ids {with_ids}; metrics {mfig}; "
          f"{rfig}; exporter sent {st.get('sent_requests')} requests, "
          f"{st.get('sent_records')} records")
    env.close()
    return problems, ids


def run_protobuf_ids(args):
    """The API records once more over http/protobuf: {body: (traceId, spanId, flags)}."""
    env = h.Env(args, "json-pb-ids", compression="gzip", ini=json_ini("gzip", "http/protobuf"))
    result = os.path.join(env.tmp, "api.result")
    api = env.producer("api", [env.api_producer(), "run", "api1", str(N_API), str(M_API), "0",
                               result], service="e2e-api")
    h.check(api.wait(60) == 0, "protobuf run: e2e_api_producer failed")
    n = N_API + M_API
    recs = env.wait_records(n, timeout=30, pred=lambda r: "log.iostream" not in r["attrs"],
                            settle=0.5, stall=10)
    ctypes = {q.get("ctype") for q in env.requests()}
    h.check(ctypes == {"application/x-protobuf"}, f"protobuf run: Content-Types {ctypes}")
    env.close()
    return {r["body"]: (r["traceId"], r["spanId"], r.get("flags", 0)) for r in recs}


def test(args):
    problems = []
    ids_by = {}
    for comp in [c.strip() for c in args.compressions.split(",") if c.strip()]:
        p, ids_by[comp] = run_json(args, comp)
        problems += p
    pb = run_protobuf_ids(args)
    for comp, ids in ids_by.items():
        diff = [(b, ids.get(b), pb.get(b)) for b in sorted(set(ids) | set(pb)) if ids.get(b) != pb.get(b)]
        if diff:
            problems.append(f"{comp}: {len(diff)} API records whose (traceId, spanId, flags) differ "
                            f"between http/json and http/protobuf, e.g. {diff[:3]}")
    h.log(f"protobuf run: {len(pb)} API records, "
          f"{sum(1 for t, _, _ in pb.values() if t)} with trace ids, same ids as JSON: "
          f"{not any('differ between' in p for p in problems)}")
    if problems:
        for p in problems[:60]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test, extra_args)
