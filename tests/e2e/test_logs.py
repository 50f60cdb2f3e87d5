#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_logs.py: every log path end to end (CTest e2e_logs_all_paths,
e2e_logs_zstd, e2e_logs_none).

Four producers write at once: a bash loop (workloads/shell_loop.sh), a
Python program (workloads/py_workload.py), e2e_api_producer through the API
and printf, and its fork()ed child; a fifth, tiny one has no
OTEL_SERVICE_NAME. Every line must arrive exactly once with its exact body
(CRLF, empty lines, split lines, U+FFFD for invalid bytes), the right
service.name, process.pid and log.iostream, the severity of its level word,
and timestamps in publish order per process and stream. --scale full writes
about 100,000 lines, small about 20,000.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SCALES = {
    # shell lines, python ops, api parent records, api child records
    "full": (40000, 40000, 15000, 5000),
    "small": (8000, 8000, 3000, 1000),
}


def extra_args(ap):
    ap.add_argument("--compression", default="gzip")
    ap.add_argument("--scale", default="full", choices=sorted(SCALES))


def test(args):
    n_sh, n_py, n_api, m_api = SCALES[args.scale]
    env = h.Env(args, "logs-" + args.compression, compression=args.compression)
    res_attrs = f"e2e.run={env.ns},deployment.environment.name=e2e"
    result = os.path.join(env.tmp, "api.result")

    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "sh1",
                                str(n_sh)], service="e2e-shell")
    py = env.producer("python", [sys.executable, os.path.join(h.WORKLOADS, "py_workload.py"),
                                 "py1", str(n_py)], service="e2e-python",
                      extra_env={"OTEL_RESOURCE_ATTRIBUTES": res_attrs})
    api = env.producer("api", [env.api_producer(), "run", "api1", str(n_api), str(m_api), "0",
                               result], service="e2e-api")
    anon = env.producer("anon", ["bash", "-c", "echo 'anon line one'; echo 'INFO anon line two' >&2"])
    for p in (sh, py, api, anon):
        rc = p.wait(90)
        h.check(rc == 0, f"producer {p.name} exited with {rc}")
    pres = h.read_kv(result)
    cres = h.read_kv(result + ".child")
    h.check(pres.get("failed") == 0 and cres.get("failed") == 0,
            f"API calls failed: parent {pres}, child {cres}")
    child_pid = cres.get("pid")
    h.check(isinstance(child_pid, int) and child_pid != api.pid, f"child pid {child_pid}")

    exp_sh = h.expected_shell("sh1", n_sh)
    exp_py = h.expected_python("py1", n_py)
    exp_api_io = h.expected_api_stdio("api1", n_api, m_api)
    exp_anon = [("stdout", "anon line one"), ("stderr", "INFO anon line two")]
    published_lines = len(exp_sh) + len(exp_py) + n_api + m_api + len(exp_api_io) + 2
    want_records = (sum(h.nparts(b) for _, b in exp_sh + exp_py) + n_api + m_api +
                    len(exp_api_io) + 2)
    h.log(f"published: {published_lines} lines ({want_records} records expected), "
          f"api ENOBUFS retries: parent {pres.get('enobufs')}, child {cres.get('enobufs')}")

    recs = env.wait_records(want_records, timeout=75, settle=1.5)
    seg = env.seg_counters()
    st = env.status()

    problems = []
    by_pid = {}
    for r in recs:
        by_pid.setdefault(r["pid"], []).append(r)
    pids = {sh.pid: "shell", py.pid: "python", api.pid: "api parent", child_pid: "api child",
            anon.pid: "anon"}
    for pid in by_pid:
        if pid not in pids:
            problems.append(f"{len(by_pid[pid])} records from unknown pid {pid}, e.g. "
                            f"{by_pid[pid][0]['body']!r} service {by_pid[pid][0]['service']!r}")

    figs = {}
    f, p = h.check_captured("shell", by_pid.get(sh.pid, []), exp_sh)
    figs["shell"] = f
    problems += p + h.check_resource("shell", by_pid.get(sh.pid, []), "e2e-shell", sh.pid,
                                     exe="bash", cmd_has="sh1")
    f, p = h.check_captured("python", by_pid.get(py.pid, []), exp_py)
    figs["python"] = f
    problems += p + h.check_resource("python", by_pid.get(py.pid, []), "e2e-python", py.pid,
                                     exe="python*", cmd_has="py1",
                                     extra={"e2e.run": env.ns,
                                            "deployment.environment.name": "e2e"})
    f, p = h.check_captured("anon", by_pid.get(anon.pid, []), exp_anon)
    figs["anon"] = f
    problems += p + h.check_resource("anon", by_pid.get(anon.pid, []), "unknown_service:bash",
                                     anon.pid, exe="bash")

    for who, pid, n in (("p", api.pid, n_api), ("c", child_pid, m_api)):
        label = "api parent" if who == "p" else "api child"
        mine = by_pid.get(pid, [])
        api_recs = [r for r in mine if "log.iostream" not in r["attrs"]]
        io_recs = [r for r in mine if "log.iostream" in r["attrs"]]
        f, p = h.check_api(label, api_recs, "api1", who, n)
        figs[label] = f
        problems += p
        f, p = h.check_captured(label + " stdio", io_recs,
                                [(s, b) for w, s, b in exp_api_io if w == who])
        figs[label + " stdio"] = f
        problems += p + h.check_resource(label, mine, "e2e-api", pid, exe="e2e_api_producer",
                                         cmd_has="api1")

    enc = {r["encoding"] for r in recs}
    want_enc = {"gzip": {"gzip"}, "zstd": {"zstd"}, "none": {"", "identity"}}[args.compression]
    if not enc <= want_enc:
        problems.append(f"Content-Encoding {sorted(enc)}, expected {sorted(want_enc)}")
    bad = h.bad_utf8_requests(env)
    if bad:
        problems.append(f"{len(bad)} requests carried invalid UTF-8 in protobuf strings")

    missing = sum(f.get("missing", 0) for f in figs.values())
    extra = sum(f.get("unexpected", 0) + f.get("dups", 0) for f in figs.values())
    h.log(f"figures: published {published_lines} lines, received {len(recs)} records, "
          f"missing {missing}, unexpected/duplicate {extra}; segment {seg}; exporter {st}")
    for k, f in figs.items():
        h.log(f"  {k}: {f}")
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test, extra_args)
