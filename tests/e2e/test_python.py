#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_python.py: the Python package (python/shmlog, ctypes over
libshmlog.so) end to end (CTest e2e_python).

workloads/py_api.py runs WITHOUT LD_PRELOAD, with SHMLOG_LIBRARY naming the
build's libshmlog.so and python/ on PYTHONPATH; a second run imports the
package from `pip install --no-build-isolation --no-deps --target DIR
./python`. Through the receiver, for each run:
  - every logging record once: severity number and text, body (non-ASCII
    too), code.file.path / code.line.number (the line of the call, found by
    its "# @NAME" marker in py_api.py) / code.function.name, logger.name,
    thread.*, exception.type/message/stacktrace (the raising functions in
    it; a 300-frame traceback (ping/pong) cut to fit the 8 KiB attribute budget, its
    head and end kept), code.stacktrace with stack_info, extra= fields with
    their types (an int beyond 2^53 arrives exact, so as an int), trace
    context from otelTraceID/otelSpanID and from a current span,
    service.name from OTEL_SERVICE_NAME, nothing else from the process;
  - the metric points (cumulative export): counters, up-down counter,
    gauge, histograms (explicit and default bounds) exact per series,
    units and descriptions, and no other series.
The collector's dictionary holds 16 instruments: py_api.py --limits then
gets ValueError for a name the others registered with another kind (the
library's -EEXIST) and exactly one RuntimeWarning when the dictionary is
full (-ENOSPC), and goes on. The example of README.md's "Python" section runs as it is written and its
record and point arrive. Before all that, the same program with no
collector (an unused namespace) and with SHMLOG_LIBRARY naming a missing
file: exit 0, no output at all.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SERVICE = "e2e-python"
WORKLOAD = os.path.join(h.WORKLOADS, "py_api.py")
NRECORDS = 12


def markers():
    lines = {}
    with open(WORKLOAD, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            m = re.search(r"# @(\w+)\s*$", line)
            if m:
                lines[m.group(1)] = i
    return lines


def attrs_size(attrs):
    n = 0
    for k, v in attrs.items():
        n += 4 + len(k.encode())
        if isinstance(v, bool):
            n += 1
        elif isinstance(v, (int, float)):
            n += 8
        else:
            n += len(str(v).encode())
    return n


def expected_records(tag):
    """{name: (body, sev, sevText, function, attrs subset)}."""
    big = str(2 ** 70)
    return {
        "info": (f"py {tag} info", 9, "INFO", "logs",
                 {"user": "ana", "step": 42, "ratio": 0.25, "ok": True,
                  "id64": str(2 ** 53 + 1), "big": big, "obj": "[1, 'x']"}),
        "warning": (f"py {tag} warning", 13, "WARNING", "logs", {}),
        "exception": (f"py {tag} request failed", 17, "ERROR", "handle_request",
                      {"exception.type": "ValueError", "exception.message": "bad value 7"}),
        "unicode": (f"py {tag} ünïcödé ✓ 日本語", 17, "ERROR", "logs", {"città": "Zürich ✓"}),
        "debug": (f"py {tag} debug", 5, "DEBUG", "logs", {}),
        "critical": (f"py {tag} critical", 21, "CRITICAL", "logs", {}),
        "level25": (f"py {tag} level25", 11, "Level 25", "logs", {}),
        "huge": (f"py {tag} huge", 9, "INFO", "logs", {"n": -1}),
        "deep": (f"py {tag} deep", 17, "ERROR", "deep_error",
                 {"exception.type": "RuntimeError",
                  "exception.message": f"py {tag} bottom reached"}),
        "stack": (f"py {tag} stack", 9, "INFO", "logs", {}),
        "traced": (f"py {tag} traced", 9, "INFO", "logs", {}),
        "span": (f"py {tag} in span", 9, "INFO", "logs", {}),
    }


def check_records(label, recs, tag, pid, lines):
    problems = []
    exp = expected_records(tag)
    by_body = {}
    for r in recs:
        by_body.setdefault(r["body"], []).append(r)
    bodies = {e[0] for e in exp.values()}
    odd = [r["body"] for r in recs if r["body"] not in bodies]
    if odd:
        problems.append(f"{label}: unexpected records {odd[:3]}")
    for name, (body, sev, text, fn, want) in exp.items():
        rs = by_body.get(body, [])
        if len(rs) != 1:
            problems.append(f"{label} {name}: {len(rs)} records with body {body!r}")
            continue
        r = rs[0]
        a = r["attrs"]
        d = []
        if r["sev"] != sev or r["sevText"] != text:
            d.append(f"severity {r['sev']}/{r['sevText']!r}, expected {sev}/{text!r}")
        if r["service"] != SERVICE or r["pid"] != pid:
            d.append(f"resource service.name {r['service']!r} pid {r['pid']}")
        for k, v in (("code.file.path", WORKLOAD), ("code.line.number", lines[name]),
                     ("code.function.name", fn), ("logger.name", "e2e.pyapi"),
                     ("thread.name", "MainThread")):
            if a.get(k) != v:
                d.append(f"{k} {a.get(k)!r}, expected {v!r}")
        if not isinstance(a.get("thread.id"), (int, str)) or not a.get("thread.id"):
            d.append(f"thread.id {a.get('thread.id')!r}")
        for k, v in want.items():
            if a.get(k) != v or type(a.get(k)) is not type(v):
                d.append(f"attribute {k} {a.get(k)!r}, expected {v!r}")
        if "log.iostream" in a or any(k.startswith("otel") for k in a):
            d.append(f"unexpected attributes {sorted(a)}")
        if attrs_size(a) > 8192:
            d.append(f"attributes take {attrs_size(a)} bytes > 8192")
        st = a.get("exception.stacktrace", "")
        if name == "exception":
            for s in ("Traceback (most recent call last):", "in handle_request", "in fail_deep",
                      "ValueError: bad value 7"):
                if s not in st:
                    d.append(f"exception.stacktrace lacks {s!r}: {st[:300]!r}")
        elif name == "deep":
            if not (st.startswith("Traceback (most recent call last):") and "bytes cut" in st
                    and "in ping" in st and "in pong" in st
                    and st.endswith(f"RuntimeError: py {tag} bottom reached")
                    and len(st.encode()) > 4000):
                d.append(f"cut stack trace ({len(st)} chars) malformed: "
                         f"{st[:120]!r} ... {st[-120:]!r}")
        elif st:
            d.append("exception.stacktrace without an exception")
        if name == "huge":
            blob = a.get("blob", "")
            if not (isinstance(blob, str) and 0 < len(blob) < 8192 and set(blob) == {"x"}):
                d.append(f"blob of {len(blob)} chars")
        if name == "stack":
            cs = a.get("code.stacktrace", "")
            if not (cs.startswith("Stack (most recent call last):") and "in logs" in cs
                    and "in main" in cs):
                d.append(f"code.stacktrace {cs[:200]!r}")
        tr = {"traced": ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
              "span": ("%032x" % 0x1234, "%016x" % 0x42)}.get(name, ("", ""))
        if (r["traceId"], r["spanId"]) != tr or (tr[0] and r["flags"] & 0xFF != 1):
            d.append(f"trace {r['traceId']}/{r['spanId']} flags {r['flags']}, expected {tr}")
        if d:
            problems.append(f"{label} {name}: " + "; ".join(d))
    return problems


def expected_metrics():
    """{(name, attrs_key): spec} of py_api.py's metrics()."""
    e = {}

    def put(name, attrs, kind, unit, desc, **v):
        e[(name, h.attrs_key(attrs))] = dict(name=name, attrs=attrs, kind=kind, unit=unit,
                                            description=desc, **v)
    req = ("py.requests", "counter", "{request}", "Requests handled")
    put(req[0], {"route": "a"}, *req[1:], value=1000.0)
    put(req[0], {"route": "b"}, *req[1:], value=2000.0)
    put(req[0], {"shard": 3, "hot": True, "ratio": 0.5}, *req[1:], value=50.0)
    put(req[0], {}, *req[1:], value=4.0)
    put(req[0], {"route": "c"}, *req[1:], value=20000.0)
    put(req[0], {"route": "['a', 'list']"}, *req[1:], value=1.0)
    put("py.queue", {}, "updown", "{item}", "Queue length", value=200.0)
    put("py.temperature", {"room": "lab"}, "gauge", "Cel", "Temperature", value=32.25)
    put("py.temperature", {}, "gauge", "Cel", "Temperature", value=-3.5)
    put("py.latency", {"route": "a"}, "histogram", "ms", "Latency",
        **h.hist_of([(i % 20) * 7.5 for i in range(200)], [1.0, 10.0, 100.0]))
    put("py.size", {}, "histogram", "By", "Sizes", **h.hist_of([0, 3, 5, 6, 99.5, 20000]))
    return e


def readme_example(src):
    """The first indented block of README.md's "## Python" section."""
    with open(os.path.join(src, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Python\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    h.check(m, "README.md has no '## Python' section")
    block = re.search(r"((?:^    \S.*\n)+)", m.group(1), re.M)
    h.check(block, "README.md's Python section has no example")
    return "\n".join(line[4:] for line in block.group(1).splitlines()) + "\n"


def run_env(env, pythonpath, extra=None):
    e = env.producer_env(SERVICE, stdio=None, preload=False,
                         extra={"PYTHONPATH": pythonpath, "SHMLOG_LIBRARY": env.lib(),
                                "PYTHONDONTWRITEBYTECODE": "1"})
    if extra:
        e.update(extra)
    return e


def run_plain(env, name, tag, penv):
    """Runs py_api.py to the end; returns (proc, result dict)."""
    res = os.path.join(env.tmp, f"{name}.json")
    p = env.spawn(name, [sys.executable, WORKLOAD, tag, res], env=penv)
    rc = p.wait(30)
    h.check(rc == 0, f"{name}: py_api.py exited with {rc}: {p.log_text()[-2000:]}")
    h.check(p.log_text() == "", f"{name}: py_api.py printed {p.log_text()[:500]!r}")
    with open(res) as f:
        return p, json.load(f)


def pip_install(env):
    """pip install --no-build-isolation --no-deps --target DIR ./python;
    returns DIR."""
    target = os.path.join(env.tmp, "site")
    t0 = time.time()
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--no-index", "--disable-pip-version-check", "--quiet",
                        "--target", target, os.path.join(env.src, "python")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                       env=dict(env.base_env(), PIP_ROOT_USER_ACTION="ignore",
                                PYTHONDONTWRITEBYTECODE="1"))
    h.check(r.returncode == 0, f"pip install ./python failed: {r.stdout.decode()[-2000:]}")
    h.check(os.path.exists(os.path.join(target, "shmlog", "__init__.py")),
            f"pip install ./python left no shmlog package in {target}")
    h.log(f"pip install --target: {time.time() - t0:.1f}s")
    return target


def test(args):
    env = h.Env(args, "python", ini=h.metrics_ini("cumulative", 300,
                                                   shm={"max_instruments": 16}))
    lines = markers()
    pkg = os.path.join(env.src, "python")
    problems = []

    # 1. Without a collector (nobody serves this namespace), then without the library.
    t0 = time.time()
    _, nc = run_plain(env, "nocollector", "nc", run_env(
        env, pkg, {"SHMLOG_NAMESPACE": env.ns + "-none"}))
    h.log(f"no collector: {time.time() - t0:.2f}s, {nc}")
    h.check(nc["available"] and not nc["attached"], f"no collector: {nc}")
    _, nl = run_plain(env, "nolib", "nl", run_env(
        env, pkg, {"SHMLOG_LIBRARY": os.path.join(env.tmp, "missing", "libshmlog.so")}))
    h.log(f"no library: {nl}")
    h.check(not nl["available"] and not nl["attached"], f"no library: {nl}")
    for r in (nc, nl):
        h.check(r["conflict"].startswith("shmlog: instrument 'py.temperature' is already")
                and r["same_object"] and r["bad_bounds"] == "refused", f"registration: {r}")
    h.check(not any(r["body"].startswith(("py nc ", "py nl ")) for r in env.records()),
            "records of the runs without a collector or library arrived")

    # 2. With the collector: python/ on PYTHONPATH, then the pip-installed copy.
    site = pip_install(env)
    runs = []
    exited = {}  # pid: when it had exited
    for tag, path in (("src", pkg), ("pip", site)):
        p, res = run_plain(env, f"py-{tag}", tag, run_env(env, path))
        h.log(f"{tag}: {res}")
        h.check(res["available"] and res["attached"] and res["dropped"] == 0,
                f"{tag}: attached/dropped: {res}")
        h.check(res["conflict"].startswith("shmlog: instrument 'py.temperature' is already")
                and res["same_object"] and res["bad_bounds"] == "refused",
                f"{tag}: registration: {res}")
        runs.append((tag, p))
        exited[p.pid] = time.time_ns()

    # 3. README.md's example (before the dictionary is filled).
    expected = {}
    ex = os.path.join(env.tmp, "readme_example.py")
    with open(ex, "w") as f:
        f.write(readme_example(env.src))
    rp = env.spawn("py-readme", [sys.executable, ex], env=run_env(env, pkg))
    rc = rp.wait(30)
    exited[rp.pid] = time.time_ns()
    h.check(rc == 0 and rp.log_text() == "",
            f"README example: exit {rc}, output {rp.log_text()[-1000:]!r}")
    recs = env.wait_records(1, timeout=20, pred=lambda r: r["pid"] == rp.pid, settle=0)
    want = {"step": 42, "loss": 0.25, "logger.name": "train"}
    if (len(recs) != 1 or recs[0]["body"] != "checkpoint saved" or recs[0]["sev"] != 9
            or any(recs[0]["attrs"].get(k) != v for k, v in want.items())):
        problems.append(f"README example: records {recs}")
    expected[(rp.pid, "train.samples", h.attrs_key({"split": "train"}))] = dict(
        name="train.samples", attrs={"split": "train"}, kind="counter", unit="{sample}",
        description="samples seen", value=64.0)

    # 4. A full dictionary, a conflict with another process's instrument.
    res_path = os.path.join(env.tmp, "limits.json")
    lp = env.spawn("py-limits", [sys.executable, WORKLOAD, "--limits", res_path],
                   env=run_env(env, pkg))
    rc = lp.wait(30)
    h.check(rc == 0, f"py_api.py --limits exited with {rc}: {lp.log_text()[-2000:]}")
    with open(res_path) as f:
        res = json.load(f)
    h.log(f"limits: {res}")
    full = [w for w in res["warnings"] if "metric dictionary is full" in w]
    if not res["eexist"].startswith("shmlog: instrument 'py.temperature' is already"):
        problems.append(f"limits: other kind in another process: {res['eexist']!r}")
    if len(full) != 1 or len(res["warnings"]) != 1:
        problems.append(f"limits: warnings {res['warnings']}, expected one 'dictionary full'")

    for tag, p in runs:
        recs = env.wait_records(NRECORDS, timeout=20,
                                pred=lambda r, p=p: r["pid"] == p.pid, settle=0.5)
        problems += check_records(tag, recs, tag, p.pid, lines)

    for tag, p in runs:
        for (name, ak), spec in expected_metrics().items():
            expected[(p.pid, name, ak)] = spec

    def done(pts):  # every series has a point exported 1 s after its process exited
        by = h.metric_series(pts)
        return all(k in by and int(by[k][-1]["time"]) >= exited[k[0]] + 1_000_000_000
                   for k in expected)

    pts, met = env.wait_metrics(done, timeout=20)
    if not met:
        problems.append("not every series had a point exported 1 s after its process exited")
    runs.append(("readme", rp))
    pids = {p.pid for _, p in runs}
    by = h.metric_series([q for q in pts if q["pid"] in pids])
    for k, spec in expected.items():
        problems += h.check_series(f"pid {k[0]} {k[1]} {k[2]}", by.get(k, []), spec,
                                   "cumulative")
    # the collector's own per-producer figure: nothing dropped
    for tag, p in runs:
        d = by.get((p.pid, "shmlog.producer.records.dropped", "{}"), [])
        if d and d[-1].get("value") != 0:
            problems.append(f"{tag}: shmlog.producer.records.dropped = {d[-1].get('value')}")
    extra = sorted({(k[1], k[2]) for k in by
                    if k not in expected and not k[1].startswith("shmlog.")})
    if extra:
        problems.append(f"unexpected series: {extra}")
    bad_svc = {q["service"] for q in pts if q["pid"] in pids} - {SERVICE}
    if bad_svc:
        problems.append(f"metric points with service.name {bad_svc}")
    env.check_daemons()
    if problems:
        for pr in problems:
            h.log("  " + pr)
        raise h.Fail(f"{len(problems)} problems")
    h.log(f"{2 * NRECORDS} records and {len(expected)} series exact")


if __name__ == "__main__":
    h.main(test)
