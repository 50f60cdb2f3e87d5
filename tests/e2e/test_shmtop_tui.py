#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_shmtop_tui.py: shmtop's interactive view (CTest e2e_shmtop_tui), driven
in a detached tmux session on its own socket (160x50) and read back with
capture-pane. Skips (77) only when tmux is missing.
  1. shmtop started before the collector shows that the segment is absent,
     then that a segment has another ABI (both versions named), and keeps
     retrying; once the collector is up it shows the namespace and the
     collector's pid.
  2. Two preloaded producers: perl (e2e-slow) first writes a burst into a
     4096-slot ring, dropping records, then one line every 0.25 s; python
     (e2e-fast) writes a few thousand lines a second. Both rows show with
     their pids, exe names, services and non-zero rates; ring rows show a
     fill bar; the exporter's endpoint is shown without its password.
  3. Sorted by rate (r) the fast producer comes first; by drops (d) the
     slow one; + and - change the interval shown in the header; h shows
     the help; a resized window is redrawn to its new size.
  4. q exits with status 0 and the pane shows the shell again (the
     alternate screen is gone); SIGTERM does the same for a second run.
The tmux server is killed in a finally block; the harness stops the rest.
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ROW_RE = re.compile(r"^\s*(\d+) (\S+)\s+([0-9.]+|-)\s+(\d+)\s+(\S+)\s+(\S+)")
RING_RE = re.compile(r"^\s*\d+ \[[#.]{20}\]\s+[0-9.]+%\s+\d+/\d+")
PROMPT = "shmtop-test$ "
SECRET = "s3cretpw"

SLOW_PL = r"""
$| = 1;
for my $i (1 .. 1000000) { print "burst $i\n"; }
open(my $f, ">", $ARGV[0]) or die; close($f);
while (1) { print "slow line\n"; select(undef, undef, undef, 0.25); }
"""

FAST_PY = r"""
import time
i = 0
while True:
    for _ in range(20):
        print("fast line", i, flush=True)
        i += 1
    time.sleep(0.005)
"""


class Tmux:
    def __init__(self, sock, env):
        self.sock = sock
        self.env = env

    def run(self, *argv, check=True):
        r = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(argv),
                           env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30)
        if check and r.returncode != 0:
            raise h.Fail(f"tmux {' '.join(argv)}: {r.returncode} {r.stderr.strip()}")
        return r.stdout

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "main")

    def keys(self, *keys):
        self.run("send-keys", "-t", "main", *keys)

    def kill(self):
        self.run("kill-server", check=False)


def wait_screen(tm, pred, what, timeout=30):
    deadline = time.time() + timeout
    scr = ""
    while time.time() < deadline:
        scr = tm.screen()
        if pred(scr):
            return scr
        time.sleep(0.2)
    raise h.Fail(f"screen never showed {what} in {timeout}s; last screen:\n{scr}")


def producer_rows(scr):
    """pid -> (state, rate or None, drops, exe, service), in screen order."""
    rows, on = [], False
    for line in scr.splitlines():
        if re.match(r"^\s*PID STATE", line):
            on = True
            continue
        if on:
            m = ROW_RE.match(line)
            if not m:
                break
            rate = None if m.group(3) == "-" else float(m.group(3))
            rows.append((int(m.group(1)), m.group(2), rate, int(m.group(4)), m.group(5),
                         m.group(6)))
    return rows


def order(scr, pids):
    return [r[0] for r in producer_rows(scr) if r[0] in pids]


EXIT_RE = re.compile(r"^SHMTOP-EXIT=(\d+)\s*$", re.M)


def shell_children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def test(args):
    if not shutil.which("tmux"):
        raise h.Skip("tmux is not installed")
    perl = shutil.which("perl")
    h.check(perl is not None, "perl is missing (Debian's perl-base is essential)")
    env = h.Env(args, "shmtop_tui", receiver=False, start_daemons=False,
                ini={"shm": {"ring_slots": "4096"},
                     "exporter": {"endpoint": f"http://shmtop:{SECRET}@127.0.0.1:9/"}})
    shmtop = os.path.join(env.build, "bin", "shmtop")
    h.check(os.path.exists(shmtop), f"{shmtop} is missing: build the project first")
    cmd = f"{shmtop} -c {env.ini_path} -d 1; echo SHMTOP-EXIT=$?"
    tenv = env.base_env()
    tenv.pop("TMUX", None)
    tm = Tmux("shmtop-" + env.ns, tenv)
    figures = {}
    try:
        tm.run("new-session", "-d", "-s", "main", "-x", "160", "-y", "50", "sh")
        wait_screen(tm, lambda s: s.strip() != "", "the shell's first prompt")
        tm.keys(f"PS1='{PROMPT}'", "Enter")  # dash takes no PS1 from the environment
        tm.keys("clear", "Enter")
        wait_screen(tm, lambda s: s.strip() == PROMPT.strip(), "the shell prompt")

        # 1. No segment yet: a message, retried.
        tm.keys(cmd, "Enter")
        wait_screen(tm, lambda s: f"no collector on namespace '{env.ns}'" in s and
                    "retrying every 1.0 s" in s, "the no-collector message")
        # A (ready) segment of another ABI major: named, and retried too.
        hdr = bytearray(4096)
        struct.pack_into("<IHH", hdr, 0, h.SEG_MAGIC, 9, 3)
        struct.pack_into("<I", hdr, 32, h.SEG_READY)
        with open(env.seg_path(), "wb") as f:
            f.write(hdr)
        wait_screen(tm, lambda s: "has ABI 9.3; this shmtop reads ABI 1.x" in s and
                    "retrying every 1.0 s" in s, "the other-ABI message")
        os.unlink(env.seg_path())
        env.start_collector()
        env.start_exporter()
        coll = env.collector.popen.pid
        scr = wait_screen(tm, lambda s: f"shmtop  namespace '{env.ns}'" in s and
                          re.search(rf"collector  pid {coll} running", s) is not None,
                          "the namespace and the collector's pid")

        # 2. Producers: the slow one drops in its burst, then both write.
        marker = os.path.join(env.tmp, "burst-done")
        cpus = sorted(os.sched_getaffinity(0))
        slow = env.producer("slow", [perl, "-e", SLOW_PL, marker], service="e2e-slow",
                            stdio="capture", cpu=cpus[0])
        deadline = time.time() + 60
        while not os.path.exists(marker):
            h.check(slow.running(), "the perl producer exited")
            h.check(time.time() < deadline, "the perl burst did not finish in 60 s")
            time.sleep(0.1)
        fast = env.producer("fast", [sys.executable, "-c", FAST_PY], service="e2e-fast",
                            cpu=cpus[-1])
        py_exe = os.path.basename(os.path.realpath(sys.executable))[:16]
        pl_exe = os.path.basename(os.path.realpath(perl))[:16]
        pids = {slow.pid, fast.pid}

        def both_rated(s):
            rows = {r[0]: r for r in producer_rows(s)}
            return all(p in rows and rows[p][2] and rows[p][2] > 0 for p in pids)

        scr = wait_screen(tm, both_rated, "both producers with non-zero rates", timeout=60)
        rows = {r[0]: r for r in producer_rows(scr)}
        rs, rf = rows[slow.pid], rows[fast.pid]
        figures.update(slow_rate=rs[2], slow_drops=rs[3], fast_rate=rf[2], fast_drops=rf[3])
        h.check(rs[4] == pl_exe and rs[5] == "e2e-slow", f"slow row: {rs}")
        h.check(rf[4] == py_exe and rf[5] == "e2e-fast", f"fast row: {rf}")
        h.check(rs[3] > 0, f"the burst dropped nothing in a 4096-slot ring: {rs}")
        h.check(any(RING_RE.match(l) for l in scr.splitlines()), "no ring row:\n" + scr)
        h.check("RINGS " in scr and "REC/S" in scr, "no ring table:\n" + scr)
        h.check("127.0.0.1:9" in scr and SECRET not in scr,
                "exporter endpoint not shown, or shown with its password:\n" + scr)
        h.check("sort: rate" in scr, "default order is not by rate")

        # 3. Orders, interval, help, resize.
        def fast_first(s):
            rows = {r[0]: r for r in producer_rows(s)}
            return ("sort: rate" in s and order(s, pids) == [fast.pid, slow.pid] and
                    all(p in rows and rows[p][2] is not None for p in pids))
        scr = wait_screen(tm, fast_first, "the fast producer first by rate")
        rows = {r[0]: r for r in producer_rows(scr)}
        h.check(rows[fast.pid][2] > rows[slow.pid][2], f"rates: {rows}")
        tm.keys("d")
        scr = wait_screen(tm, lambda s: "sort: drops" in s and
                          order(s, pids) == [slow.pid, fast.pid], "the slow producer first by drops")
        rows = {r[0]: r for r in producer_rows(scr)}
        h.check(rows[slow.pid][3] > rows[fast.pid][3], f"drops: {rows}")
        tm.keys("r")
        wait_screen(tm, fast_first, "the fast producer first again by rate")
        h.check("refresh 1.0 s" in scr, "-d 1 not shown as the interval")
        tm.keys("+")
        wait_screen(tm, lambda s: "refresh 2.0 s" in s.splitlines()[0], "interval 2.0 s after +")
        tm.keys("-")
        tm.keys("-")
        wait_screen(tm, lambda s: "refresh 0.5 s" in s.splitlines()[0], "interval 0.5 s after - -")
        tm.keys("h")
        wait_screen(tm, lambda s: "Keys" in s and "sort producers by record rate" in s, "help")
        tm.keys("x")
        wait_screen(tm, lambda s: "PRODUCERS" in s, "the view again after help")
        tm.run("resize-window", "-t", "main", "-x", "100", "-y", "30")

        def resized(s):
            lines = s.rstrip("\n").split("\n")
            return (len(lines) == 30 and lines[-1].startswith(" q quit") and
                    all(len(l) <= 100 for l in lines))
        wait_screen(tm, resized, "a redraw at 100x30")
        tm.run("resize-window", "-t", "main", "-x", "160", "-y", "50")
        wait_screen(tm, lambda s: len(s.rstrip("\n").split("\n")) == 50 and
                    s.rstrip("\n").split("\n")[-1].startswith(" q quit"), "a redraw at 160x50")

        # 4. q: status 0, the shell again, the view gone.
        tm.keys("q")
        scr = wait_screen(tm, lambda s: EXIT_RE.search(s), "shmtop's exit status after q")
        h.check(EXIT_RE.search(scr).group(1) == "0", "q did not exit with 0:\n" + scr)
        h.check("PRODUCERS" not in scr and scr.rstrip().endswith(PROMPT.strip()),
                "the pane does not show the shell again after q:\n" + scr)
        figures["q_exit"] = 0

        tm.keys("clear", "Enter")
        tm.keys(cmd, "Enter")
        wait_screen(tm, lambda s: "PRODUCERS" in s, "the second run's view")
        shell = int(tm.run("display-message", "-p", "-t", "main", "#{pane_pid}").strip())
        kids = shell_children(shell)
        h.check(len(kids) == 1, f"shmtop's pid under the pane's shell: {kids}")
        os.kill(kids[0], signal.SIGTERM)
        scr = wait_screen(tm, lambda s: EXIT_RE.search(s), "shmtop's exit status after SIGTERM")
        h.check(EXIT_RE.search(scr).group(1) == "0" and "PRODUCERS" not in scr,
                "SIGTERM did not end shmtop cleanly:\n" + scr)
        figures["sigterm_exit"] = 0
        env.check_daemons()
        h.log("figures: " + " ".join(f"{k}={v}" for k, v in figures.items()))
    finally:
        tm.kill()


if __name__ == "__main__":
    h.main(test)
