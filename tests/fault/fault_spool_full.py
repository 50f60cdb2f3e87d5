#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_spool_full.py: the spool cannot take more (CTest fault_spool_full).
The receiver is down (stopped: connections refused; on the tmpfs, 503 to
everything) while a producer writes; each
phase prints its ACCOUNT line and asserts delivered + dropped_counted ==
published exactly, no duplicates, once the receiver is back.

budget   [spool] max_bytes = 1m (the smallest the parser takes): the collector keeps running, drops the
         OLDEST requests (the newest lines all arrive; what is missing is
         older than anything delivered after the exporter's claimed
         requests) and counts their records (sh_spool_dropped_records).
         Files the exporter is sending are never dropped (they are claimed:
         no record is both counted as dropped and delivered).
disk     the spool on a 2 MiB tmpfs the test mounts (skipped with a clear
         line when the sandbox refuses mount), budget 1g, so only ENOSPC
         stops writes:
           full-oldest  a filler file leaves 256 KiB: writes fail with
                        ENOSPC, the oldest requests make room, counted;
           full-empty   the receiver up, the filler takes every byte and
                        the spool is empty: writes fail, are retried every
                        second (one log line, not one per attempt; the
                        collector does not spin: its CPU time while stuck
                        is measured), nothing is lost, and everything
                        arrives once the filler is removed.
         The collector's stop line and its shmlog.spool.errors /
         shmlog.spool.records.dropped{signal=logs} metrics (flushed at
         SIGTERM) report the write errors and drops it counted.
Exit 77 only if nothing could be tested (not the case: budget always runs).
"""
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import faults  # noqa: E402
from accounting import Published, account, settle as settle_acc  # noqa: E402

BUDGET_LINES = 20000


def ini(**spool):
    return {"exporter": {"max_in_flight": "2", "retry_initial_ms": "200", "retry_max_ms": "1000",
                         "timeout_ms": "4000"},
            "collector": {"max_export_batch_size": "100", "schedule_delay_ms": "200"},
            "spool": {k: str(v) for k, v in spool.items()},
            # No metric requests: the spool counters then speak of logs only.
            "metrics": {"host_metrics": "false", "export_interval_ms": "3600000"}}


def burst(env, pub, tag, n):
    return faults.burst(env, pub, tag, n, f"fault-spool-{tag}", timeout=60)


def settle(env, pub, label, timeout=60):
    return settle_acc(env, pub, label, timeout, pause=1.5)


def wait_for(cond, timeout, what, env):
    deadline = time.time() + timeout
    while not cond():
        env.check_daemons()
        h.check(time.time() < deadline, f"{what} within {timeout} s")
        time.sleep(0.2)


def oldest_dropped(env, pid, tag, n, label):
    """The newest lines all arrived; the missing ones are older than the
    newest delivered line. Returns (missing, first missing, last missing)."""
    got = {r["body"] for r in env.records() if r.get("pid") == pid}
    exp = [b for _s, b in h.expected_shell(tag, n)]
    missing = [i for i, b in enumerate(exp) if b not in got]
    h.check(missing, f"{label}: nothing was dropped, the phase tested nothing")
    tail = exp[-200:]
    h.check(all(b in got for b in tail), f"{label}: the newest 200 lines did not all arrive")
    return len(missing), missing[0], missing[-1]


def collector_stop_figures(env):
    rc = env.collector.stop()
    h.check(rc == 0, f"collector exit status {rc}")
    m = re.search(r"spool: (\d+) write errors, (\d+) requests \((\d+) records\) dropped",
                  env.collector.log_text())
    h.check(m, "the collector's stop line has no spool figures: "
            + env.collector.log_text()[-500:])
    return tuple(int(x) for x in m.groups())


def agent_metric(env, name, **attrs):
    """The last value of one of the agent's own metrics at the receiver,
    waiting up to 15 s for it (after the collector's SIGTERM flush: not
    wait_metrics(), which fails once the collector has exited)."""
    def pts():
        return [q for q in env.metrics() if q.get("name") == name
                and all((q.get("attrs") or {}).get(k) == v for k, v in attrs.items())]
    deadline = time.time() + 15
    while not pts() and time.time() < deadline:
        time.sleep(0.2)
    got = pts()
    h.check(got, f"no {name}{attrs} point arrived")
    return got[-1].get("value")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase_budget(args, figures):
    env = h.Env(args, "fault-spool-budget", ini=ini(max_bytes="1m"))
    # The receiver down: connections refused until it comes back on its port.
    port = env.port
    env.receiver.stop()
    os.unlink(os.path.join(env.tmp, "rx", "port"))
    pub = Published(env)
    p = burst(env, pub, "bud", BUDGET_LINES)
    wait_for(lambda: env.seg_counters().get("spool_dropped_records", 0) > 0, 30,
             "the spool budget dropped nothing", env)
    time.sleep(2)  # the collector spools the rest
    env.check_daemons()
    st = env.status()
    h.check(st.get("last_http_status") == -1, f"the exporter saw no connection error: {st}")
    env.start_receiver(extra=("--port", str(port)))
    acc = settle(env, pub, "spool-budget-1m")
    h.check(acc["drops"]["spool"] > 0, "spool budget: nothing dropped")
    nmiss, first, last = oldest_dropped(env, p.pid, "bud", BUDGET_LINES, "budget")
    errors, dfiles, drecs = collector_stop_figures(env)
    h.check(drecs == acc["drops"]["spool"], f"stop line says {drecs} records dropped, the "
            f"segment {acc['drops']['spool']}")
    # The agent's own metric, flushed at SIGTERM and sent by the exporter.
    val = agent_metric(env, "shmlog.spool.records.dropped", signal="logs")
    h.check(val == drecs, f"shmlog.spool.records.dropped{{signal=logs}} = {val}, "
            f"dropped {drecs}")
    figures.append(f"budget: {dfiles} requests / {drecs} records dropped (lines {first}..{last} "
                   f"of {BUDGET_LINES + 3} missing, {nmiss}), {errors} write errors, metric "
                   f"shmlog.spool.records.dropped{{signal=logs}} = {val}")
    env.close()


def mount_tmpfs(path, size):
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stderr or r.stdout).strip()


def fill(path, leave):
    """Writes a filler file until only `leave` bytes are free."""
    st = os.statvfs(os.path.dirname(path))
    free = st.f_bavail * st.f_frsize
    want = max(0, free - leave)
    with open(path, "ab") as f:
        try:
            while want > 0:
                k = min(want, 1 << 16)
                f.write(b"\0" * k)
                want -= k
            f.flush()
        except OSError:
            pass  # full: what we wanted anyway
    return os.statvfs(os.path.dirname(path)).f_bavail * st.f_frsize


def phase_disk(args, figures, mnt):
    env = h.Env(args, "fault-spool-disk", ini=ini(max_bytes="1g"), start_daemons=False)
    spool = os.path.join(mnt, "spool")
    env.spool = spool
    env.ini["spool"]["dir"] = spool
    env.write_ini()
    env.start_collector()
    env.start_exporter()
    filler = os.path.join(mnt, "filler")

    # full-oldest: 256 KiB left, receiver down.
    env.set_plan("503@3600")
    left = fill(filler, 256 << 10)
    pub = Published(env)
    p = burst(env, pub, "full", 4000)
    wait_for(lambda: env.seg_counters().get("spool_dropped_records", 0) > 0, 30,
             "nothing dropped on a full disk", env)
    time.sleep(3)
    env.check_daemons()
    os.unlink(filler)
    env.set_plan("")
    acc = settle(env, pub, "disk-full-oldest")
    h.check(acc["drops"]["spool"] > 0, "full disk: nothing dropped")
    nmiss, first, last = oldest_dropped(env, p.pid, "full", 4000, "full disk")
    figures.append(f"full disk ({left >> 10} KiB free): {acc['drops']['spool']} records dropped "
                   f"(lines {first}..{last} missing, {nmiss})")

    # full-empty: nothing in the spool to drop; retried until space returns.
    wait_for(lambda: not os.listdir(os.path.join(spool, "logs")), 20, "the spool did not empty",
             env)
    fill(filler, 0)
    pub = Published(env)
    log0 = len(env.collector.log_text())
    p = burst(env, pub, "stuck", 300)
    time.sleep(1.5)
    c0, t0 = cpu_s(env.collector.pid), time.time()
    time.sleep(4)
    c1, t1 = cpu_s(env.collector.pid), time.time()
    stuck = account(env, pub, "disk-full-empty-stuck")
    h.check(stuck["delivered"] < stuck["published"], f"delivered {stuck['delivered']} of "
            f"{stuck['published']} with a full disk: the disk was not full")
    new_log = env.collector.log_text()[log0:]
    fails = [ln for ln in new_log.splitlines() if "failed: No space left on device" in ln]
    h.check(len(fails) == 1, f"{len(fails)} log lines for the failing writes: {fails[:3]}")
    cpu = c1 - c0
    figures.append(f"stuck on a full disk: collector {cpu:.2f} CPU-s in {t1 - t0:.1f} s, "
                   f"{len(fails)} log line, {stuck['delivered']} of {stuck['published']} "
                   f"delivered while stuck")
    h.check(cpu < 0.25 * (t1 - t0), f"the collector spent {cpu:.2f} CPU-s in {t1 - t0:.1f} s "
            "while the disk was full: spinning")
    os.unlink(filler)
    acc = settle(env, pub, "disk-full-empty")
    h.check(acc["dropped_counted"] == 0, f"dropped {acc['drops']} with an empty spool")
    errors, dfiles, drecs = collector_stop_figures(env)
    h.check(errors >= 2, f"{errors} write errors counted, the disk was full twice")
    val = agent_metric(env, "shmlog.spool.errors")
    h.check(val == errors, f"shmlog.spool.errors = {val}, the stop line says {errors}")
    figures.append(f"collector stop line: {errors} write errors (shmlog.spool.errors {val}), "
                   f"{dfiles} requests / {drecs} records dropped")
    env.close()


def test(args):
    figures = []
    phase_budget(args, figures)
    mnt = tempfile.mkdtemp(prefix="shmlog-fault-fs-")
    mounted = False
    try:
        ok, why = mount_tmpfs(mnt, "2m")
        if not ok:
            h.log(f"SKIP part: cannot mount a tmpfs here ({why}); the full-disk phases did not run")
        else:
            mounted = True
            phase_disk(args, figures, mnt)
    finally:
        for e in list(h._ENVS):
            e.close()  # before the unmount: its daemons use the spool there
        if mounted:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        try:
            os.rmdir(mnt)
        except OSError as e:
            h.log(f"cannot remove {mnt}: {e}")
    h.log("figures: " + "; ".join(figures))


if __name__ == "__main__":
    h.main(test)
