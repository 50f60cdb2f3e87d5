#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_multiline.py: Python tracebacks written to stderr by unmodified
programs under LD_PRELOAD arrive as ONE record each (CTest e2e_multiline),
decoded by the OpenTelemetry JS packages (receiver.js):
  uncaught    an uncaught exception: the traceback is one record whose body
              is what Python printed (stderr of the run, as tee mode lets
              it through), severity ERROR, exception.type / .message /
              .stacktrace; the lines around it one record each;
  chained     an uncaught exception raised while handling another one
              ("During handling of the above exception ..."): the whole
              chain is one record, exception.* of the last exception;
  printexc    traceback.print_exc() four times and going on: an explicit
              cause chain, an exception group (Python 3.11), and
              logging.exception() (its message line stays its own record);
              each traceback's body equals traceback.format_exc() as the
              program saw it;
  capture     uncaught under SHMLOG_STDIO=capture: nothing on stderr, the
              same record arrives;
  off         printexc under SHMLOG_MULTILINE=off: one record per line, no
              exception.* attribute;
  crossfd     print_exc(), then a line on stdout, then the program sleeps
              and is SIGKILLed once the traceback arrived: the write to the
              other stream sent the held traceback (without it, it would be
              lost with the process);
  fork        print_exc(), then os.fork() (the child exits at once with
              os._exit), then the parent sleeps and is SIGKILLed: the fork
              sent the traceback, once, from the parent only;
  java        (when javac and java are installed) SHMLOG_MULTILINE=java: a
              JVM's printStackTrace() with a cause and its uncaught
              handler's trace are one record each, body as printed,
              exception.type / .message of the thrown exception.
Also: tee output is byte-identical to a run without the library.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

UNCAUGHT = r'''
import sys
print("out start", flush=True)
print("err start", file=sys.stderr, flush=True)
def parse(v):
    return int(v)
def load(v):
    return parse(v) * 2
load("not a number")
'''

CHAINED = r'''
import sys
print("out start", flush=True)
print("err start", file=sys.stderr, flush=True)
def lookup(cfg):
    return cfg["missing"]
try:
    lookup({})
except KeyError:
    raise ValueError("boom: no config")
'''

PRINTEXC = r'''
import json, logging, sys, traceback
seen = {}
print("out before", flush=True)
print("err before", file=sys.stderr)
def inner():
    return 1 / 0
try:
    inner()
except ZeroDivisionError:
    traceback.print_exc()
    seen["zde"] = traceback.format_exc()
print("out after 1", flush=True)
print("err after 1", file=sys.stderr)
try:
    try:
        {}["k"]
    except KeyError as e:
        raise RuntimeError("wrapped: k") from e
except RuntimeError:
    traceback.print_exc()
    seen["cause"] = traceback.format_exc()
print("err after 2", file=sys.stderr)
try:
    raise ExceptionGroup("eg", [ValueError(1), TypeError("t")])
except ExceptionGroup:
    traceback.print_exc()
    seen["eg"] = traceback.format_exc()
logging.basicConfig(stream=sys.stderr)
try:
    int("x")
except ValueError:
    logging.exception("conversion failed")
    seen["log"] = traceback.format_exc()
print("err last", file=sys.stderr)
print("out last", flush=True)
with open(sys.argv[1], "w") as f:
    json.dump(seen, f)
'''


HELD = r'''
import os, sys, time, traceback
try:
    raise LookupError("held " + sys.argv[1])
except LookupError:
    traceback.print_exc()
if sys.argv[1] == "crossfd":
    print("out marker", flush=True)
else:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
time.sleep(120)
'''


JAVA = r'''
public class Traces {
    static void inner() { throw new IllegalStateException("inner state"); }
    static void outer() {
        try { inner(); } catch (IllegalStateException e) {
            throw new RuntimeException("outer failed", e);
        }
    }
    public static void main(String[] args) {
        System.out.println("out start");
        System.err.println("err start");
        try { outer(); } catch (RuntimeException e) { e.printStackTrace(); }
        System.err.println("err middle");
        outer();
    }
}
'''


def java_case(env, problems, figures):
    javac, java = shutil.which("javac"), shutil.which("java")
    if not javac or not java:
        figures.append("java: skipped (no javac/java)")
        return
    d = os.path.join(env.tmp, "java")
    os.makedirs(d)
    with open(os.path.join(d, "Traces.java"), "w") as f:
        f.write(JAVA)
    subprocess.run([javac, "-d", d, os.path.join(d, "Traces.java")], check=True, timeout=60,
                   env=env.base_env())
    err_path = os.path.join(env.tmp, "java.err")
    with open(err_path, "wb") as fe:
        p = env.producer("java", [java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                                  "-cp", d, "Traces"], service="e2e-ml-java",
                         extra_env={"SHMLOG_MULTILINE": "java"}, stderr=fe)
        rc = p.wait(60)
    h.check(rc == 1, f"java exited with {rc}")
    with open(err_path) as f:
        text = f.read()
    h.check(text.startswith("err start\njava.lang.RuntimeException: outer failed\n"),
            f"java stderr: {text[:80]!r}")
    first, _, rest = text[len("err start\n"):].partition("err middle\n")
    tb1, tb2 = first.rstrip("\n"), rest.rstrip("\n")
    h.check("Caused by: java.lang.IllegalStateException" in tb1 and "\tat " in tb2,
            "java: unexpected traces")
    env.wait_records(4, timeout=30, pred=lambda r: r["pid"] == p.pid and
                     r["attrs"].get("log.iostream") == "stderr", settle=1.0)
    err = stream_recs(env.records(), p.pid, "stderr")
    if check_seq("java stderr", err, ["err start", None, "err middle", None], problems):
        check_tb("java printStackTrace", err[1], tb1, "java.lang.RuntimeException",
                 "outer failed", problems)
        check_tb("java uncaught", err[3], tb2, "java.lang.RuntimeException", "outer failed",
                 problems)
        if not tb2.startswith('Exception in thread "main" '):
            problems.append(f"java uncaught: {tb2[:60]!r}")
    figures.append(f"java: {len(err)} stderr records for {text.count(chr(10))} lines")


def write_prog(env, name, text):
    path = os.path.join(env.tmp, name + ".py")
    with open(path, "w") as f:
        f.write(text)
    return path


def run(env, name, prog, want_rc, stdio="tee", multiline=None, preload=True, side=None):
    out_path = os.path.join(env.tmp, f"{name}.out")
    err_path = os.path.join(env.tmp, f"{name}.err")
    argv = [sys.executable, prog] + ([side] if side else [])
    extra = {"SHMLOG_MULTILINE": multiline} if multiline else None
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        if preload:
            p = env.producer(name, argv, service=f"e2e-ml-{name}", stdio=stdio,
                             extra_env=extra, stdout=fo, stderr=fe)
        else:
            p = env.spawn(name, argv, env=env.base_env(), stdout=fo, stderr=fe)
        rc = p.wait(60)
    h.check(rc == want_rc, f"{name} exited with {rc}, expected {want_rc}")
    with open(out_path, "rb") as f1, open(err_path, "rb") as f2:
        return p, f1.read().decode(), f2.read().decode()


def stream_recs(recs, pid, stream):
    got = [r for r in recs if r["pid"] == pid and r["attrs"].get("log.iostream") == stream]
    return sorted(got, key=lambda r: int(r["time"]))  # stable: arrival order on ties


def check_tb(label, rec, body, etype, emsg, problems):
    """A traceback record: body, severity, exception.* attributes."""
    a = rec["attrs"]
    if rec["body"] != body:
        problems.append(f"{label}: body differs from what Python printed:\n"
                        f"      got  {rec['body']!r}\n      want {body!r}")
    if rec["sev"] != 17 or rec["sevText"] != "ERROR":
        problems.append(f"{label}: severity {rec['sev']} {rec['sevText']!r}, want 17 'ERROR'")
    if a.get("exception.type") != etype:
        problems.append(f"{label}: exception.type {a.get('exception.type')!r}, want {etype!r}")
    if a.get("exception.message") != emsg:
        problems.append(f"{label}: exception.message {a.get('exception.message')!r}, "
                        f"want {emsg!r}")
    if a.get("exception.stacktrace") != body:
        problems.append(f"{label}: exception.stacktrace is not the traceback")
    if "shmlog.truncated" in a:
        problems.append(f"{label}: marked truncated")


def check_seq(label, recs, want, problems):
    """recs' bodies are exactly want (None: a traceback checked elsewhere)."""
    bodies = [r["body"] for r in recs]
    if len(bodies) != len(want):
        problems.append(f"{label}: {len(bodies)} records, want {len(want)}: "
                        f"{[b[:40] for b in bodies]!r}")
        return False
    for i, (b, w) in enumerate(zip(bodies, want)):
        if w is not None and b != w:
            problems.append(f"{label}: record {i} is {b[:60]!r}, want {w[:60]!r}")
        if w is not None and "exception.type" in recs[i]["attrs"]:
            problems.append(f"{label}: plain line {i} has exception.type")
    return True


def test(args):
    env = h.Env(args, "multiline")
    problems, figures = [], []
    progs = {n: write_prog(env, n, t) for n, t in
             (("uncaught", UNCAUGHT), ("chained", CHAINED), ("printexc", PRINTEXC),
              ("held", HELD))}

    # Reference runs without the library: tee must not change a byte.
    ref = {}
    for n, rc in (("uncaught", 1), ("printexc", 0)):
        _, o, e = run(env, n + "-ref", progs[n], rc, preload=False,
                      side=os.path.join(env.tmp, n + "-ref.json") if n == "printexc" else None)
        ref[n] = (o, e)

    side = os.path.join(env.tmp, "printexc.json")
    pu, out_u, err_u = run(env, "uncaught", progs["uncaught"], 1)
    pc, out_c, err_c = run(env, "chained", progs["chained"], 1)
    pp, out_p, err_p = run(env, "printexc", progs["printexc"], 0, side=side)
    pk, out_k, err_k = run(env, "capture", progs["uncaught"], 1, stdio="capture")
    poff, out_o, err_o = run(env, "off", progs["printexc"], 0, multiline="off",
                             side=os.path.join(env.tmp, "off.json"))
    with open(side) as f:
        seen = json.load(f)

    for n, o, e in (("uncaught", out_u, err_u), ("printexc", out_p, err_p)):
        if (o, e) != ref[n]:
            problems.append(f"{n}: tee output differs from the run without the library")
    if out_k or err_k:
        problems.append(f"capture: {len(out_k)}/{len(err_k)} bytes on stdout/stderr, want none")

    # What Python printed, from the tee runs' stderr.
    h.check(err_u.startswith("err start\nTraceback (most recent call last):\n"),
            f"uncaught stderr: {err_u[:80]!r}")
    tb_u = err_u[len("err start\n"):].rstrip("\n")
    h.check(err_c.startswith("err start\nTraceback (most recent call last):\n"),
            f"chained stderr: {err_c[:80]!r}")
    tb_c = err_c[len("err start\n"):].rstrip("\n")
    h.check("During handling of the above exception" in tb_c, "chained: no chain printed")
    h.check(tb_u.count("\n") >= 6 and tb_c.count("\n") >= 8, "tracebacks too short")

    want = {
        pu.pid: 2 + 1, pc.pid: 2 + 1, pk.pid: 2 + 1,
        pp.pid: 9 + 3,
        poff.pid: err_o.count("\n") + out_o.count("\n"),
    }
    pids = set(want)
    env.wait_records(sum(want.values()), timeout=45, pred=lambda r: r["pid"] in pids,
                     settle=1.5)
    recs = env.records()

    for label, p, tb, etype, emsg, text in (
            ("uncaught", pu, tb_u, "ValueError", "invalid literal for int() with base 10: "
                                                 "'not a number'", err_u),
            ("chained", pc, tb_c, "ValueError", "boom: no config", err_c),
            ("capture", pk, tb_u, "ValueError", "invalid literal for int() with base 10: "
                                                "'not a number'", err_u)):
        err = stream_recs(recs, p.pid, "stderr")
        out = stream_recs(recs, p.pid, "stdout")
        check_seq(f"{label} stdout", out, ["out start"], problems)
        if check_seq(f"{label} stderr", err, ["err start", None], problems):
            check_tb(f"{label} traceback", err[1], tb, etype, emsg, problems)
        figures.append(f"{label}: {len(err)} stderr records for {text.count(chr(10))} lines, "
                       f"{len(out)} stdout")

    err = stream_recs(recs, pp.pid, "stderr")
    out = stream_recs(recs, pp.pid, "stdout")
    check_seq("printexc stdout", out, ["out before", "out after 1", "out last"], problems)
    tbs = {k: v.rstrip("\n") for k, v in seen.items()}
    if check_seq("printexc stderr", err, ["err before", None, "err after 1", None, "err after 2",
                                          None, "ERROR:root:conversion failed", None,
                                          "err last"], problems):
        check_tb("print_exc", err[1], tbs["zde"], "ZeroDivisionError", "division by zero",
                 problems)
        check_tb("print_exc cause chain", err[3], tbs["cause"], "RuntimeError", "wrapped: k",
                 problems)
        check_tb("print_exc exception group", err[5], tbs["eg"], "ExceptionGroup",
                 "eg (2 sub-exceptions)", problems)
        check_tb("logging.exception", err[7], tbs["log"], "ValueError",
                 "invalid literal for int() with base 10: 'x'", problems)
        if err[6]["sev"] != 17:
            problems.append(f"logging.exception message line: severity {err[6]['sev']}")
        if "The above exception was the direct cause" not in err[3]["body"]:
            problems.append("print_exc cause chain: the chain is not in one record")
    figures.append(f"printexc: {len(err)} stderr records for {err_p.count(chr(10))} lines, "
                   f"4 tracebacks")

    # SHMLOG_MULTILINE=off: every line its own record.
    err = stream_recs(recs, poff.pid, "stderr")
    lines = err_o.split("\n")[:-1]
    check_seq("off stderr", err, lines, problems)
    figures.append(f"off: {len(err)} stderr records for {len(lines)} lines")

    # Held tracebacks sent by a write to the other stream, and by fork:
    # each program sleeps after it and is killed once the record is in.
    for mode in ("crossfd", "fork"):
        err_path = os.path.join(env.tmp, f"held-{mode}.err")
        with open(err_path, "wb") as fe:
            p = env.producer(f"held-{mode}", [sys.executable, progs["held"], mode],
                             service=f"e2e-ml-{mode}", stderr=fe)

        def is_tb(r, pid=p.pid):
            return r["pid"] == pid and "exception.type" in r["attrs"]
        got = env.wait_records(1, timeout=20, pred=is_tb, settle=0.5)
        p.kill9()
        with open(err_path) as f:
            tb = f.read().rstrip("\n")
        if len(got) != 1:
            problems.append(f"{mode}: {len(got)} traceback records from the sleeping "
                            f"process, want 1")
        else:
            check_tb(mode, got[0], tb, "LookupError", f"held {mode}", problems)
        others = [r for r in env.records() if r["body"] == tb and r["pid"] != p.pid]
        if others:
            problems.append(f"{mode}: the traceback also came from pid {others[0]['pid']}")
        figures.append(f"{mode}: {len(got)} traceback record before the kill")

    java_case(env, problems, figures)

    h.log("figures: " + "; ".join(figures))
    if problems:
        for p in problems[:30]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
