#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_restart.py: the daemons killed mid-stream (CTest e2e_restart).

Three paced producers (API, bash, Python) write for about 8 s. Meanwhile
the exporter is SIGKILLed and restarted, then the collector, then both at
once, each time with the same config. Every published line must arrive at
least once (at-least-once delivery: duplicates are allowed and counted).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_API, N_SH, N_PY = 20000, 16000, 10000


def test(args):
    env = h.Env(args, "restart")
    result = os.path.join(env.tmp, "api.result")
    api = env.producer("api", [env.api_producer(), "run", "rs1", str(N_API), "0", "40000", result],
                       service="e2e-rs-api")
    sh = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "rs2", str(N_SH),
                                "0.45"], service="e2e-rs-shell")
    py = env.producer("python", [sys.executable, os.path.join(h.WORKLOADS, "py_workload.py"), "rs3",
                                 str(N_PY), "--pace-ms", "70", "--no-utf8-split"], service="e2e-rs-python")
    t0 = time.time()

    def at(t):
        time.sleep(max(0.0, t - (time.time() - t0)))

    events = []
    at(1.0)
    env.exporter.kill9()
    events.append(f"{time.time() - t0:.1f}s exporter SIGKILL")
    at(2.0)
    env.start_exporter()
    events.append(f"{time.time() - t0:.1f}s exporter restarted")
    at(3.0)
    env.collector.kill9()
    events.append(f"{time.time() - t0:.1f}s collector SIGKILL")
    at(4.0)
    env.start_collector()
    events.append(f"{time.time() - t0:.1f}s collector restarted")
    at(5.5)
    env.collector.kill9()
    env.exporter.kill9()
    events.append(f"{time.time() - t0:.1f}s both SIGKILL")
    at(6.5)
    env.start_collector()
    env.start_exporter()
    events.append(f"{time.time() - t0:.1f}s both restarted")
    h.log("; ".join(events))

    for p in (api, sh, py):
        rc = p.wait(60)
        h.check(rc == 0, f"{p.name} exited with {rc}")
    h.log(f"producers done at {time.time() - t0:.1f}s")
    res = h.read_kv(result)
    h.check(res.get("failed") == 0, f"API producer: failed calls {res}")

    exp_sh = h.expected_shell("rs2", N_SH)
    exp_py = h.expected_python("rs3", N_PY, utf8_split=False)
    exp_io = h.expected_api_stdio("rs1", N_API, 0)
    want = N_API + len(exp_io) + len(exp_sh) + sum(h.nparts(b) for _, b in exp_py)
    recs = env.wait_records(want, timeout=50, settle=2.0)
    # Duplicates may push the count past `want` before the last lines come.
    recs = env.wait_quiet(quiet=2.0, timeout=20)
    seg = env.seg_counters()

    problems = []
    by_pid = {}
    for r in recs:
        by_pid.setdefault(r["pid"], []).append(r)
    figs = {}
    mine = by_pid.get(api.pid, [])
    figs["api"], p = h.check_api("api", [r for r in mine if "log.iostream" not in r["attrs"]],
                                 "rs1", "p", N_API, allow_dups=True)
    problems += p
    figs["api stdio"], p = h.check_captured("api stdio", [r for r in mine if "log.iostream" in r["attrs"]],
                                            [(s, b) for _, s, b in exp_io], allow_dups=True)
    problems += p
    figs["shell"], p = h.check_captured("shell", by_pid.get(sh.pid, []), exp_sh, allow_dups=True,
                                        lenient_stream=True)
    problems += p
    figs["python"], p = h.check_captured("python", by_pid.get(py.pid, []), exp_py, allow_dups=True)
    problems += p
    unknown = [pid for pid in by_pid if pid not in (api.pid, sh.pid, py.pid)]
    if unknown:
        problems.append(f"records of unknown pids {unknown[:5]}")

    missing = sum(f["missing"] for f in figs.values())
    dups = sum(f["dups"] for f in figs.values())
    h.log(f"figures: published {want} records, received {len(recs)}, missing {missing}, "
          f"duplicates {dups}; segment {seg}; exporter {env.status()}")
    for k, f in figs.items():
        h.log(f"  {k}: {f}")
    if problems:
        for p in problems[:30]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
