#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_stdio.py: SHMLOG_STDIO modes (CTest e2e_stdio). For the Python and
the bash workloads:
  tee (default, and set explicitly): stdout and stderr byte-identical to a
      run without LD_PRELOAD, and the lines arrive;
  capture: nothing at all on fd 1 and 2, and the lines arrive;
  off: byte-identical output, and no record arrives.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N = 3000


def run_capture(env, name, argv, service, stdio, preload=True):
    out_path = os.path.join(env.tmp, f"{name}.out")
    err_path = os.path.join(env.tmp, f"{name}.err")
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        if preload:
            p = env.producer(name, argv, service=service, stdio=stdio, stdout=fo, stderr=fe)
        else:
            p = env.spawn(name, argv, env=env.base_env(), stdout=fo, stderr=fe)
        rc = p.wait(60)
    h.check(rc == 0, f"{name} exited with {rc}")
    with open(out_path, "rb") as f1, open(err_path, "rb") as f2:
        return p, f1.read(), f2.read()


def run_pipe(env, name, argv, service, stdio):
    """The same through pipes (Python buffers differently for pipes/files)."""
    e = env.producer_env(service, stdio)
    p = env.spawn(name, argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.popen.communicate(timeout=60)
    h.check(p.popen.returncode == 0, f"{name} exited with {p.popen.returncode}")
    return p, out, err


def test(args):
    env = h.Env(args, "stdio")
    workloads = {
        "py": ([sys.executable, os.path.join(h.WORKLOADS, "py_workload.py"), "io", str(N)],
               h.expected_python("io", N)),
        "sh": (["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), "io", str(N)],
               h.expected_shell("io", N)),
    }
    problems = []
    figures = []
    arrive = []  # (label, pid, expected)
    off_pids = []
    for wl, (argv, exp) in workloads.items():
        _, ref_out, ref_err = run_capture(env, f"{wl}-ref", argv, None, None, preload=False)
        for mode in ("default", "tee", "capture", "off"):
            stdio = None if mode == "default" else mode
            p, out, err = run_capture(env, f"{wl}-{mode}", argv, f"e2e-{wl}-{mode}", stdio)
            if mode == "capture":
                if out or err:
                    problems.append(f"{wl} capture: {len(out)} bytes on stdout, {len(err)} on "
                                    f"stderr, expected none (first: {(out or err)[:80]!r})")
            else:
                for what, a, b in (("stdout", out, ref_out), ("stderr", err, ref_err)):
                    if a != b:
                        k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
                                 min(len(a), len(b)))
                        problems.append(f"{wl} {mode}: {what} differs from the run without the "
                                        f"library ({len(a)} vs {len(b)} bytes, first difference "
                                        f"at byte {k}: {a[k:k + 40]!r} vs {b[k:k + 40]!r})")
            if mode == "off":
                off_pids.append(p.pid)
            else:
                arrive.append((f"{wl} {mode}", p.pid, exp))
        # Pipes too, in tee mode.
        p, out, err = run_pipe(env, f"{wl}-pipe", argv, f"e2e-{wl}-pipe", "tee")
        if out != ref_out or err != ref_err:
            problems.append(f"{wl} tee through pipes: output differs from the run without the "
                            f"library ({len(out)}/{len(err)} vs {len(ref_out)}/{len(ref_err)} bytes)")
        arrive.append((f"{wl} pipe", p.pid, exp))
        figures.append(f"{wl}: {len(ref_out)} bytes stdout, {len(ref_err)} bytes stderr")

    want = sum(sum(h.nparts(b) for _, b in exp) for _, _, exp in arrive)
    pids = {pid for _, pid, _ in arrive}
    env.wait_records(want, timeout=45, pred=lambda r: r["pid"] in pids, settle=1.5)
    recs = env.records()
    for label, pid, exp in arrive:
        f, p = h.check_captured(label, [r for r in recs if r["pid"] == pid], exp)
        figures.append(f"{label}: {f['lines']}/{f['published']} lines")
        problems += p
    off = [r for r in recs if r["pid"] in off_pids]
    if off:
        problems.append(f"SHMLOG_STDIO=off: {len(off)} records arrived, e.g. {off[0]['body'][:60]!r}")
    h.report(figures, problems, limit=30)


if __name__ == "__main__":
    h.main(test)
