# SPDX-License-Identifier: MIT
"""
harness.py: what every end-to-end test uses (Python 3 standard library only).

An Env owns one run of the whole agent: a unique namespace
("e2e-<pid>-<hex>"), a temporary directory with the spool and the receiver's
files, an ini file, the loopback OTLP receiver (receiver.js; grpc_receiver.js
with Env(grpc=True)), the collector and the exporter. It starts producers with LD_PRELOAD=libshmlog.so, waits for
records at the receiver, reads exporter.status, and stops every process it
started (SIGTERM, then SIGKILL after a grace period; whole process groups,
so forked children too) and removes the temporary directory and
/dev/shm/shmlog-<namespace> when it is closed -- also on failure, on an
exception, on SIGTERM/SIGINT and at its own deadline (SIGALRM), which is set
below the CTest TIMEOUT. Children also get PR_SET_PDEATHSIG so that a
harness killed outright takes them along.

A test is a function run by main(): exit 0 pass, 1 fail, 77 skip (skipped
only when tests/e2e/node_modules is missing). Command line of every test:
  --build DIR   the CMake build directory (bin/, lib/)
  --src DIR     the source root
  --deadline S  stop and fail after S seconds (default 110)
  --lib-dir DIR where the producers' libshmlog.so is (default BUILD/lib; also
                SHMLOG_E2E_LIB_DIR): the ASan+UBSan build runs its own
                daemons and shmtop but preloads the release build's library,
                since a preloaded ASan library cannot start (the ASan runtime
                must come first in the initial library list)
Set SHMLOG_E2E_KEEP=1 to keep the temporary directory for a look.

Sanitizers: every process gets ASAN_OPTIONS / UBSAN_OPTIONS that stop it at
the first report (the caller's values are appended, so they win), and
close() reads the log file of every process it started for AddressSanitizer,
LeakSanitizer and UBSan reports: any report fails the test (main() exits 1
even when the test function passed).

Read next: test_logs.py (the fullest user), receiver.js.
"""

import argparse
import atexit
import collections
import ctypes
import json
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(HERE, "workloads")
BODY_MAX = 16384  # SHMLOG_BODY_MAX

SEG_MAGIC = 0x4C4D4853  # SHM_ABI_MAGIC, shm/shm_abi.h
SEG_READY = 1  # SHM_SEG_READY, at byte 32

LEVELS = {"DEBUG": 5, "INFO": 9, "WARN": 13, "WARNING": 13, "ERROR": 17,
          "CRITICAL": 21, "FATAL": 21}
_LEVEL_RE = re.compile(r"^(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)(?=[: ]|$)")


class Fail(Exception):
    """An assertion of the contract failed."""


class Skip(Exception):
    """The test cannot run here (npm packages missing)."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def expected_severity(body):
    """(severityNumber, severityText) the agent gives a captured line, for
    the obvious forms "LEVEL:..." and "LEVEL ..." the tests write."""
    m = _LEVEL_RE.match(body)
    if not m:
        return 0, ""
    return LEVELS[m.group(1)], m.group(1)


def log(msg):
    print(msg, flush=True)


# --- process helpers --------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _child_setup(cpu=None):
    def fn():
        os.setsid()  # own process group: we kill the whole group
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
    return fn


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Proc:
    """A process we started, in its own process group."""

    def __init__(self, name, popen, log_path=None):
        self.name = name
        self.popen = popen
        self.pid = popen.pid
        self.log_path = log_path

    def running(self):
        return self.popen.poll() is None

    def signal_group(self, sig):
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill9(self):
        """SIGKILL the process (and its group), reap it."""
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.kill()
        except ProcessLookupError:
            pass
        self.popen.wait()

    def stop(self, grace=5.0):
        """SIGTERM, wait up to grace seconds, then SIGKILL. Returns the exit
        status (negative: signal)."""
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"harness: {self.name} (pid {self.pid}) ignored SIGTERM for {grace}s: SIGKILL")
                self.kill9()
        # Whatever it forked is in its group: take it along.
        self.signal_group(signal.SIGKILL)
        return self.popen.returncode

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"{self.name} (pid {self.pid}) did not finish within {timeout}s")

    def log_text(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


# --- the environment ----------------------------------------------------------

_ENVS = []
# Sanitizer reports found in process logs by Env.close() (main() fails on any).
SANITIZER_REPORTS = []
_SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                "AddressSanitizer:DEADLYSIGNAL", "SUMMARY: UndefinedBehaviorSanitizer")
SAN_ASAN = "halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=66"
SAN_UBSAN = "halt_on_error=1:print_stacktrace=1:exitcode=66"


def _cleanup_all():
    for e in list(_ENVS):
        e.close()


atexit.register(_cleanup_all)


class Env:
    def __init__(self, args, name, compression="gzip", plan=None, ini=None,
                 start_daemons=True, receiver=True, receiver_args=(), grpc=False):
        self.args = args
        self.name = name
        self.build = os.path.abspath(args.build)
        self.src = os.path.abspath(args.src)
        self.ns = "e2e-%d-%s" % (os.getpid(), "%08x" % random.getrandbits(32))
        self.tmp = tempfile.mkdtemp(prefix="shmlog-e2e-%s-" % name)
        self.spool = os.path.join(self.tmp, "spool")
        self.out = os.path.join(self.tmp, "rx", "records.jsonl")
        os.makedirs(os.path.dirname(self.out))
        self.ini_path = os.path.join(self.tmp, "shmlog.ini")
        self.compression = compression
        self.procs = []
        self.port = None
        self.control_port = None
        self.scheme = "http"
        # grpc: grpc_receiver.js (OTLP/gRPC, @grpc/grpc-js) and protocol = grpc.
        self.grpc = grpc
        self.receiver = None
        self.collector = None
        self.exporter = None
        self.closed = False
        self._rec_cache = {}
        self.ini = {
            "shm": {"namespace": self.ns, "dead_check_ms": "500"},
            "spool": {"dir": self.spool},
            # Audit events (the agent's own log records) are off unless a
            # test asks for them (test_audit.py): the other tests count
            # every record as a producer's. The identity check stays on.
            "collector": {"schedule_delay_ms": "200", "audit_events": "false"},
            "exporter": {"compression": compression, "retry_initial_ms": "200",
                         "retry_max_ms": "2000",
                         # A request that times out is sent again (a
                         # duplicate): long enough for a receiver on a
                         # loaded machine, longer for sanitized daemons.
                         "timeout_ms": "30000" if self.sanitized() else "20000"},
            "log": {"level": "info"},
        }
        for sec, kv in (ini or {}).items():
            self.ini.setdefault(sec, {}).update(kv)
        _ENVS.append(self)
        for p in (self.bin("shmlog-collector"), self.bin("shmlog-exporter"), self.lib()):
            check(os.path.exists(p), f"{p} is missing: build the project first")
        if receiver:
            self.start_receiver(plan, receiver_args)
        self.write_ini()
        if start_daemons:
            self.start_collector()
            self.start_exporter()

    def sanitized(self):
        """True when the daemons are an ASan (or TSan) build."""
        try:
            with open(self.bin("shmlog-exporter"), "rb") as f:
                data = f.read()
        except OSError:
            return False
        return b"libasan.so" in data or b"__asan_init" in data or b"libtsan.so" in data

    # paths
    def bin(self, name):
        return os.path.join(self.build, "bin", name)

    def lib(self):
        lib_dir = getattr(self.args, "lib_dir", None) or os.path.join(self.build, "lib")
        return os.path.join(os.path.abspath(lib_dir), "libshmlog.so")

    def seg_path(self):
        return "/dev/shm/shmlog-" + self.ns

    def status_path(self):
        return os.path.join(self.spool, "exporter.status")

    # configuration
    def write_ini(self, path=None, extra_lines=()):
        lines = []
        for sec, kv in self.ini.items():
            lines.append(f"[{sec}]")
            for k, v in kv.items():
                lines.append(f"{k} = {v}")
            lines.append("")
        lines.extend(extra_lines)
        with open(path or self.ini_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path or self.ini_path

    def base_env(self):
        """A clean environment: none of the caller's OTEL_* or SHMLOG_*."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OTEL_", "SHMLOG_", "LD_PRELOAD", "PYTHONUNBUFFERED"))}
        env["LC_ALL"] = "C.UTF-8"
        # Only sanitized binaries read these (see the opening comment).
        for var, mine in (("ASAN_OPTIONS", SAN_ASAN), ("UBSAN_OPTIONS", SAN_UBSAN)):
            env[var] = mine + (":" + os.environ[var] if os.environ.get(var) else "")
        return env

    def spawn(self, name, argv, env=None, stdout=None, stderr=None, stdin=subprocess.DEVNULL,
              cpu=None, log_file=True):
        """Starts argv; stdout/stderr default to a log file in the temp dir."""
        log_path = None
        fo = fe = None
        if stdout is None or stderr is None:
            log_path = os.path.join(self.tmp, "%s-%d.log" % (name, len(self.procs)))
            lf = open(log_path, "ab")
            fo = lf if stdout is None else stdout
            fe = lf if stderr is None else stderr
        else:
            fo, fe = stdout, stderr
        p = subprocess.Popen(argv, env=env if env is not None else self.base_env(), stdout=fo,
                             stderr=fe, stdin=stdin, preexec_fn=_child_setup(cpu),
                             close_fds=True)
        if log_path:
            lf.close()
        pr = Proc(name, p, log_path)
        self.procs.append(pr)
        return pr

    # the receiver and the daemons
    def start_receiver(self, plan=None, extra=()):
        nm = os.path.join(HERE, "node_modules", "@opentelemetry", "otlp-transformer")
        if not os.path.isdir(nm) or (self.grpc and not os.path.isdir(
                os.path.join(HERE, "node_modules", "@grpc", "grpc-js"))):
            raise Skip("tests/e2e/node_modules missing (run ./build.sh test or npm ci in tests/e2e)")
        port_file = os.path.join(self.tmp, "rx", "port")
        script = "grpc_receiver.js" if self.grpc else "receiver.js"
        argv = ["node", os.path.join(HERE, script), "--port-file", port_file, "--out", self.out]
        if plan:
            argv += ["--plan", plan]
        argv += list(extra)
        self.receiver = self.spawn("receiver", argv)
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if not self.receiver.running():
                raise Fail(f"{script} exited at start: " + self.receiver.log_text())
            check(time.time() < deadline, f"{script} did not start in 15 s")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        if self.grpc:
            # Its plan is changed through a plain HTTP control port.
            with open(port_file + ".control") as f:
                self.control_port = int(f.read())
            self.ini["exporter"]["protocol"] = "grpc"
        # --tls-cert serves HTTPS / gRPC over TLS (test_tls.py, test_grpc.py).
        self.scheme = "https" if "--tls-cert" in extra else "http"
        self.ini["exporter"]["endpoint"] = f"{self.scheme}://127.0.0.1:{self.port}"

    def daemon_env(self):
        return self.base_env()

    def start_collector(self, wait=True):
        self.collector = self.spawn("collector", [self.bin("shmlog-collector"), "-c", self.ini_path],
                                    env=self.daemon_env())
        if wait:
            self.wait_segment()
        return self.collector

    def start_exporter(self, extra_env=None):
        """Starts shmlog-exporter; extra_env adds variables (OTEL_EXPORTER_OTLP_*)
        to its environment. Its log is self.exporter.log_text()."""
        env = self.daemon_env()
        if extra_env:
            env.update(extra_env)
        self.exporter = self.spawn("exporter", [self.bin("shmlog-exporter"), "-c", self.ini_path],
                                   env=env)
        return self.exporter

    def wait_segment(self, timeout=10):
        """Waits until the collector's segment is READY (magic, sh_state)."""
        deadline = time.time() + timeout
        while True:
            try:
                with open(self.seg_path(), "rb") as f:
                    hdr = f.read(36)
                if len(hdr) == 36:
                    magic, = struct.unpack_from("<I", hdr, 0)
                    state, = struct.unpack_from("<I", hdr, 32)
                    if magic == SEG_MAGIC and state == SEG_READY:
                        return
            except FileNotFoundError:
                pass
            if self.collector is not None and not self.collector.running():
                raise Fail("shmlog-collector exited at start (status %s): %s"
                           % (self.collector.popen.returncode, self.collector.log_text()[-2000:]))
            check(time.time() < deadline, f"segment {self.seg_path()} not ready in {timeout}s")
            time.sleep(0.02)

    def check_daemons(self):
        for d in (self.collector, self.exporter):
            if d is not None and not d.running():
                raise Fail("%s exited (status %s): %s" % (d.name, d.popen.returncode,
                                                          d.log_text()[-2000:]))

    # producers
    def producer_env(self, service=None, stdio="tee", preload=True, extra=None):
        env = self.base_env()
        env["SHMLOG_NAMESPACE"] = self.ns
        if stdio is not None:
            env["SHMLOG_STDIO"] = stdio
        if preload:
            env["LD_PRELOAD"] = self.lib()
        if service is not None:
            env["OTEL_SERVICE_NAME"] = service
        if extra:
            env.update(extra)
        return env

    def producer(self, name, argv, service=None, stdio="tee", preload=True, extra_env=None,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cpu=None):
        env = self.producer_env(service, stdio, preload, extra_env)
        return self.spawn(name, argv, env=env, stdout=stdout, stderr=stderr, cpu=cpu)

    def api_producer(self):
        return self.args.api_producer

    # what arrived
    def _read_jsonl(self, path):
        """Complete lines of a JSON-lines file, read incrementally."""
        off, items = self._rec_cache.get(path, (0, []))
        try:
            with open(path, "rb") as f:
                f.seek(off)
                data = f.read()
        except FileNotFoundError:
            return items
        end = data.rfind(b"\n")
        if end >= 0:
            for line in data[:end].split(b"\n"):
                if line:
                    items.append(json.loads(line))
            off += end + 1
        self._rec_cache[path] = (off, items)
        return items

    def records(self):
        return self._read_jsonl(self.out)

    def rejected(self):
        return self._read_jsonl(self.out + ".rejected")

    def requests(self):
        return self._read_jsonl(self.out + ".requests")

    def metrics(self):
        """Metric data points received (receiver.js --metrics-out, one dict
        per point: pid, service, resource, name, unit, description, type,
        monotonic, temporality, attrs, start, time, value | count, sum, min,
        max, bounds, buckets)."""
        return self._read_jsonl(self.out + ".metrics")

    def wait_metrics(self, pred, timeout=30, settle=0.0, quiet=None):
        """Waits until pred(points) is true, then settle seconds more (to see
        late or duplicate points). Gives up after timeout, or after quiet
        seconds without a new point. Returns (points, met)."""
        deadline = time.time() + timeout
        last_n, last_t = -1, time.time()
        while True:
            pts = self.metrics()
            if pred(pts):
                break
            if len(pts) != last_n:
                last_n, last_t = len(pts), time.time()
            if time.time() > deadline or (quiet and time.time() - last_t > quiet):
                log(f"harness: metrics condition not met after "
                    f"{time.time() - deadline + timeout:.0f}s ({len(pts)} points)")
                return pts, False
            self.check_daemons()
            time.sleep(0.1)
        if settle:
            time.sleep(settle)
        return self.metrics(), True

    def metrics_producer(self, argv, service="e2e-metrics", name="metrics"):
        """Starts workloads/metrics_producer.c (e2e_metrics_producer) with
        argv; its stdout and stderr go to a file in the temp dir (read it
        with Proc.log_text())."""
        exe = self.args.metrics_producer
        check(os.path.exists(exe), f"{exe} is missing: build the project first")
        env = self.producer_env(service, "tee", True, None)
        return self.spawn(name, [exe] + [str(a) for a in argv], env=env)

    def wait_records(self, n, timeout=60, pred=None, settle=1.0, stall=None):
        """Waits until n records (matching pred) arrived, then settle seconds
        more (to see duplicates). Gives up after timeout, or after stall
        seconds without a new record. Returns the matching records."""
        deadline = time.time() + timeout
        last_n, last_t = -1, time.time()
        while True:
            recs = self.records()
            got = recs if pred is None else [r for r in recs if pred(r)]
            if len(got) >= n:
                break
            if len(recs) != last_n:
                last_n, last_t = len(recs), time.time()
            if time.time() > deadline or (stall and time.time() - last_t > stall):
                log(f"harness: gave up after {time.time() - deadline + timeout:.0f}s with "
                    f"{len(got)} of {n} records")
                return got
            self.check_daemons()
            time.sleep(0.1)
        if settle:
            time.sleep(settle)
            recs = self.records()
            got = recs if pred is None else [r for r in recs if pred(r)]
        return got

    def wait_quiet(self, quiet=1.5, timeout=60):
        """Waits until no new record arrived for `quiet` seconds."""
        deadline = time.time() + timeout
        last = len(self.records())
        t_last = time.time()
        while time.time() < deadline:
            time.sleep(0.1)
            n = len(self.records())
            if n != last:
                last, t_last = n, time.time()
            elif time.time() - t_last >= quiet:
                break
        return self.records()

    def status(self):
        """exporter.status as a dict (ints where they parse)."""
        st = {}
        try:
            with open(self.status_path()) as f:
                for line in f:
                    line = line.strip()
                    if "=" in line and not line.startswith("#"):
                        k, v = line.split("=", 1)
                        k, v = k.strip(), v.strip()
                        try:
                            st[k] = int(v)
                        except ValueError:
                            st[k] = v
        except FileNotFoundError:
            pass
        return st

    def wait_status(self, pred, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.status()
            if pred(st):
                return st
            time.sleep(0.1)
        return self.status()

    def set_plan(self, plan):
        """Replaces the receiver's response plan (see receiver.js,
        grpc_receiver.js)."""
        import ssl
        import urllib.request
        if self.grpc:
            url, ctx = f"http://127.0.0.1:{self.control_port}/_control/plan", None
        else:
            url = f"{self.scheme}://127.0.0.1:{self.port}/_control/plan"
            ctx = ssl._create_unverified_context() if self.scheme == "https" else None
        req = urllib.request.Request(url, data=plan.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
            check(r.status == 204, f"receiver refused plan {plan!r}")

    def seg_counters(self):
        """Counters of the segment header and rings (shm/shm_abi.h), or {}
        when the segment is gone: records_in, invalid, abandoned,
        spool_dropped_records, dict_full (metric registrations refused,
        dictionary full), overflow (measurements put in overflow series),
        drop_noprod (records refused, producer table full; ABI 1.2),
        max_instruments, max_series, ring_drops."""
        try:
            with open(self.seg_path(), "rb") as f:
                hdr = f.read(4096)
                if len(hdr) < 4096 or struct.unpack_from("<I", hdr, 0)[0] != SEG_MAGIC:
                    return {}
                nrings, = struct.unpack_from("<I", hdr, 36)
                ring_off, stride = struct.unpack_from("<QQ", hdr, 72)
                c = {
                    "records_in": struct.unpack_from("<Q", hdr, 144)[0],
                    "records_spooled": struct.unpack_from("<Q", hdr, 152)[0],
                    "invalid": struct.unpack_from("<Q", hdr, 160)[0],
                    "abandoned": struct.unpack_from("<Q", hdr, 168)[0],
                    "spool_dropped_records": struct.unpack_from("<Q", hdr, 200)[0],
                    "dict_full": struct.unpack_from("<Q", hdr, 216)[0],
                    "overflow": struct.unpack_from("<Q", hdr, 224)[0],
                    "drop_noprod": struct.unpack_from("<Q", hdr, 232)[0],
                    "max_instruments": struct.unpack_from("<I", hdr, 104)[0],
                    "max_series": struct.unpack_from("<I", hdr, 108)[0],
                    "ring_drops": 0,
                }
                for k in range(min(nrings, 4096)):
                    f.seek(ring_off + k * stride)
                    rh = f.read(192)
                    if len(rh) == 192:
                        c["ring_drops"] += struct.unpack_from("<Q", rh, 72)[0]
                return c
        except (FileNotFoundError, struct.error, OSError):
            return {}

    # teardown
    def _scan_sanitizer_reports(self):
        """Appends to SANITIZER_REPORTS what a sanitizer printed into the log
        of a process we started (daemons, shmtop, producers)."""
        for p in self.procs:
            text = p.log_text()
            hits = [m for m in _SAN_MARKERS if m in text]
            if not hits:
                continue
            i = min(text.find(m) for m in hits)
            excerpt = text[max(0, i - 200):i + 3000]
            SANITIZER_REPORTS.append(f"{p.name} (pid {p.pid}): {excerpt}")
            log(f"harness: SANITIZER REPORT in {p.name} (pid {p.pid}, {p.log_path}):\n{excerpt}")

    def stop_daemons(self):
        for d in (self.collector, self.exporter):
            if d is not None:
                d.stop()

    def close(self):
        if self.closed:
            return
        self.closed = True
        # Producers first, then the collector (it flushes), exporter, receiver.
        order = [p for p in self.procs if p not in (self.collector, self.exporter, self.receiver)]
        order += [p for p in (self.collector, self.exporter, self.receiver) if p is not None]
        for p in order:
            try:
                p.stop(grace=5.0)
            except Exception as e:  # keep cleaning up whatever happens
                log(f"harness: stopping {p.name}: {e}")
        for p in self.procs:
            p.signal_group(signal.SIGKILL)
        self._scan_sanitizer_reports()
        try:
            os.unlink(self.seg_path())
        except FileNotFoundError:
            pass
        except OSError as e:
            log(f"harness: cannot remove {self.seg_path()}: {e}")
        if os.environ.get("SHMLOG_E2E_KEEP"):
            log(f"harness: kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if self in _ENVS:
            _ENVS.remove(self)


# --- what the workloads write (workloads/) ---------------------------------

def expected_shell(tag, n):
    """(stream, body) of workloads/shell_loop.sh TAG N, in order."""
    out = []
    for i in range(n):
        id_ = f"{i:06d}"
        k = i % 10
        if k == 0:
            out.append(("stderr", f"ERROR sh {tag} {id_} disk on fire"))
        elif k == 3:
            out.append(("stdout", f"WARNING:root:sh {tag} {id_}"))
        elif k == 5:
            out.append(("stdout", f"INFO sh {tag} {id_} ok"))
        elif k == 7:
            out.append(("stdout", f"sh {tag} {id_} crlf"))
        elif k == 8:
            out.append(("stderr", f"sh {tag} {id_} to stderr ünïcödé ✓"))
        else:
            out.append(("stdout", f"sh {tag} {id_} plain line ünïcödé ✓ 日本語"))
    out.append(("stdout", ""))
    out.append(("stderr", f"DEBUG: sh {tag} done"))
    out.append(("stdout", f"sh {tag} last-no-newline"))
    return out


def expected_python(tag, n, utf8_split=True):
    sys.path.insert(0, WORKLOADS)
    import py_workload
    return py_workload.expected(tag, n, utf8_split)


API_SEV = [(9, "INFO"), (13, "WARN"), (17, "ERROR"), (5, "DEBUG"), (21, "FATAL")]


def expected_api_record(tag, who, i):
    """The API record i of workloads/api_producer.c: dict with body, sev,
    sevText (None: not checked), attrs, traceId, spanId."""
    kind = i % 3
    sev, text = API_SEV[i % 5]
    e = {"body": f"api {tag} {who} {i:06d}", "sev": sev, "sevText": text if kind != 2 else None,
         "attrs": {}, "traceId": "", "spanId": ""}
    if kind != 2:
        e["attrs"] = {"e2e.tag": tag, "e2e.i": i, "e2e.half": i / 2.0, "e2e.even": i % 2 == 0,
                      "e2e.who": who}
        if i % 7 == 0:
            e["attrs"]["e2e.long"] = "L" * 300 + str(i)
    if kind == 0:
        e["traceId"] = "e2e0" + "00" * 6 + f"{i:016x}"
        e["spanId"] = f"{i + 1:016x}"
    return e


def expected_api_stdio(tag, n, m):
    """(who, stream, body) of the printf lines of api_producer run."""
    out = []
    for i in range(n):
        if i % 10 == 0:
            out.append(("p", "stdout", f"api {tag} pout {i:06d}"))
        if i % 50 == 0:
            out.append(("p", "stderr", f"ERROR api {tag} perr {i:06d}"))
    for i in range(m):
        if i % 2 == 0:
            out.append(("c", "stdout", f"api {tag} cout {i:06d}"))
    return out


def read_kv(path):
    d = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    d[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    except FileNotFoundError:
        pass
    return d


def nparts(body):
    n = len(body.encode("utf-8"))
    return max(1, -(-n // BODY_MAX))


# --- analysis helpers -----------------------------------------------------------

def stream_of(rec):
    return rec["attrs"].get("log.iostream", "api")


def reassemble(recs):
    """Joins split lines. recs: records of ONE producer and stream. Returns
    (lines, problems): lines as (body, first_record), in timestamp order."""
    problems = collections.Counter()
    keyed = []
    for i, r in enumerate(recs):
        part = r["attrs"].get("shmlog.line.part")
        keyed.append((int(r["time"]), part if isinstance(part, int) else -1, i, r))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    lines = []
    cur = None
    for _, part, _, r in keyed:
        body = r["body"] if r["body"] is not None else ""
        last = r["attrs"].get("shmlog.line.last")
        if len(body.encode("utf-8")) > BODY_MAX:
            problems[f"records longer than {BODY_MAX} bytes"] += 1
        if part != -1 and ((last is not True and body.endswith("\ufffd")) or
                           (part > 0 and body.startswith("\ufffd"))):
            problems["split parts cut inside a UTF-8 character (U+FFFD at the cut)"] += 1
        if part == -1:
            if last is not None:
                problems["shmlog.line.last on an unsplit record"] += 1
            if cur is not None:
                problems["split lines interrupted by another record"] += 1
                cur = None
            lines.append((body, r))
            continue
        if part == 0:
            if cur is not None:
                problems["split lines restarted before their last part"] += 1
            cur = ([body], r)
        elif cur is None or part != len(cur[0]):
            problems["parts out of sequence"] += 1
            cur = None
            continue
        else:
            cur[0].append(body)
        if last is True:
            lines.append(("".join(cur[0]), cur[1]))
            cur = None
        elif last is not None:
            problems[f"shmlog.line.last = {last!r}"] += 1
    if cur is not None:
        problems["split line without a last part"] += 1
    return lines, [f"{n} {what}" for what, n in problems.items()]


def compare_lines(label, got, expected, max_show=5):
    """Multiset comparison of bodies. Returns (missing, extra, dups) counts
    and raises nothing; prints the first differences."""
    cg = collections.Counter(got)
    ce = collections.Counter(expected)
    missing = ce - cg
    extra = cg - ce
    nmiss = sum(missing.values())
    nextra = sum(extra.values())
    if nmiss or nextra:
        log(f"  {label}: {nmiss} missing, {nextra} unexpected")
        for b, n in list(missing.items())[:max_show]:
            log(f"    missing x{n}: {b[:120]!r}{'...' if len(b) > 120 else ''} ({len(b)} chars)")
        for b, n in list(extra.items())[:max_show]:
            log(f"    unexpected x{n}: {b[:120]!r}{'...' if len(b) > 120 else ''} ({len(b)} chars)")
    return nmiss, nextra


# --- running a test ---------------------------------------------------------------

def parse_args(extra=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--api-producer", default=None)
    ap.add_argument("--metrics-producer", default=None)
    # The fault suite's workload, all its modes (tests/fault/fault.cmake
    # builds tests/fault/workloads/fault_writer.c).
    ap.add_argument("--fault-writer", default=None)
    ap.add_argument("--deadline", type=float, default=110)
    ap.add_argument("--lib-dir", default=os.environ.get("SHMLOG_E2E_LIB_DIR") or None)
    if extra:
        extra(ap)
    args = ap.parse_args()
    if args.api_producer is None:
        args.api_producer = os.path.join(args.build, "tests", "e2e", "e2e_api_producer")
    if args.metrics_producer is None:
        args.metrics_producer = os.path.join(args.build, "tests", "e2e", "e2e_metrics_producer")
    if args.fault_writer is None:
        args.fault_writer = os.path.join(args.build, "tests", "fault", "fault_writer")
    return args


class _Deadline(Exception):
    pass


def main(test_fn, extra_args=None):
    """Runs test_fn(args) and exits 0 (pass), 1 (fail) or 77 (skip)."""
    args = parse_args(extra_args)

    def on_alarm(sig, frm):
        raise _Deadline(f"test deadline of {args.deadline:.0f}s reached")

    def on_term(sig, frm):
        raise _Deadline(f"signal {sig}")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.setitimer(signal.ITIMER_REAL, args.deadline)
    rc = 1
    t0 = time.time()
    try:
        test_fn(args)
        rc = 0
    except Skip as e:
        log(f"SKIP: {e}")
        rc = 77
    except Fail as e:
        log(f"FAIL: {e}")
    except _Deadline as e:
        log(f"FAIL: {e}")
    except Exception:
        import traceback
        traceback.print_exc()
        log("FAIL: exception")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _cleanup_all()
    if SANITIZER_REPORTS and rc in (0, 77):
        log(f"FAIL: {len(SANITIZER_REPORTS)} sanitizer report(s), see above")
        rc = 1
    if rc == 0:
        log(f"PASS ({time.time() - t0:.1f}s)")
    sys.stdout.flush()
    os._exit(rc)


def report(figures, problems, limit=20):
    """A test's last step: logs its figures, then its first problems and
    fails when there are any."""
    log("figures: " + "; ".join(figures))
    if problems:
        for p in problems[:limit]:
            log("  problem: " + p)
        raise Fail(f"{len(problems)} problems")


def check_captured(label, recs, expected, allow_dups=False, lenient_stream=False):
    """Checks the captured stdio records of ONE process against expected
    (stream, body) pairs in publish order: every line once (or at least
    once with allow_dups), split parts well formed, severity from the level
    word, timestamps non-decreasing per stream. lenient_stream: a whole
    line that arrived with the other log.iostream counts as delivered (for
    tests about delivery, so that a stream bug does not hide the rest); the
    count is in figures["wrong_stream"]. Returns (figures, problems)."""
    problems = []
    fig = {"published": len(expected), "records": len(recs), "lines": 0, "missing": 0,
           "unexpected": 0, "dups": 0}
    if lenient_stream:
        want = {"stdout": {b for s, b in expected if s == "stdout"},
                "stderr": {b for s, b in expected if s == "stderr"}}
        fixed = []
        fig["wrong_stream"] = 0
        for r in recs:
            s = stream_of(r)
            o = {"stdout": "stderr", "stderr": "stdout"}.get(s)
            if (o and "shmlog.line.part" not in r["attrs"] and r["body"] not in want[s]
                    and r["body"] in want[o]):
                r = dict(r, attrs=dict(r["attrs"], **{"log.iostream": o}))
                fig["wrong_stream"] += 1
            fixed.append(r)
        recs = fixed
    if allow_dups:
        # A replayed record is the same record again: same time, body, attributes.
        uniq = {}
        for r in recs:
            uniq.setdefault((r["time"], r["body"], json.dumps(r["attrs"], sort_keys=True)), r)
        fig["dups"] = len(recs) - len(uniq)
        recs = list(uniq.values())
    by_stream = collections.defaultdict(list)
    for r in recs:
        by_stream[stream_of(r)].append(r)
    for s in by_stream:
        if s not in ("stdout", "stderr"):
            problems.append(f"{label}: {len(by_stream[s])} records with log.iostream={s!r}")
    got_by = {}
    for stream in ("stdout", "stderr"):
        exp = [b for s, b in expected if s == stream]
        lines, probs = reassemble(by_stream.get(stream, []))
        problems += [f"{label} {stream}: {p}" for p in probs[:5]]
        got = [b for b, _ in lines]
        got_by[stream] = got
        fig["lines"] += len(got)
        if allow_dups:
            sg, se = set(got), set(exp)
            miss, extra = compare_lines(f"{label} {stream}", list(sg), list(se))
            fig["dups"] += len(got) - len(sg) - (len(exp) - len(se))  # same line, other time
        else:
            miss, extra = compare_lines(f"{label} {stream}", got, exp)
        fig["missing"] += miss
        fig["unexpected"] += extra
        if miss:
            problems.append(f"{label} {stream}: {miss} of {len(exp)} lines missing")
        if extra:
            problems.append(f"{label} {stream}: {extra} unexpected lines (duplicates or altered)")
        bad_sev = []
        first_time = {}
        for body, r in lines:
            es, et = expected_severity(body)
            if r["sev"] != es or (es and r["sevText"] != et):
                bad_sev.append((body[:60], r["sev"], r["sevText"], es, et))
            t = int(r["time"])
            first_time.setdefault(body, t)
        if bad_sev:
            problems.append(f"{label} {stream}: {len(bad_sev)} lines with the wrong severity, "
                            f"e.g. (body, sev, text, expected sev, text) {bad_sev[:3]}")
        counts = collections.Counter(exp)
        prev, prev_body, disorder = 0, None, 0
        for body in exp:
            if counts[body] != 1 or body not in first_time:
                continue
            t = first_time[body]
            if t < prev:
                if disorder == 0:
                    problems.append(f"{label} {stream}: timestamps go back: {prev_body[:50]!r} at "
                                    f"{prev} then {body[:50]!r} at {t}")
                disorder += 1
            prev, prev_body = t, body
        if disorder > 1:
            problems.append(f"{label} {stream}: {disorder} lines out of timestamp order")
    for a, b in (("stderr", "stdout"), ("stdout", "stderr")):
        ea = collections.Counter(x for s, x in expected if s == a)
        eb = collections.Counter(x for s, x in expected if s == b)
        moved = (ea - collections.Counter(got_by[a])) & (collections.Counter(got_by[b]) - eb)
        if moved:
            problems.insert(0, f"{label}: {sum(moved.values())} lines written to {a} arrived with "
                            f"log.iostream={b}, e.g. {list(moved)[:2]}")
    return fig, problems


def check_resource(label, recs, service, pid, exe=None, cmd_has=None, extra=None):
    """Resource attributes of the records of one process. Returns problems."""
    import socket
    problems = []
    seen = set()
    for r in recs:
        res = r["resource"]
        key = json.dumps(res, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        if r["service"] != service:
            problems.append(f"{label}: service.name {r['service']!r}, expected {service!r}")
        if r["pid"] != pid:
            problems.append(f"{label}: process.pid {r['pid']!r}, expected {pid}")
        if exe is not None and not (res.get("process.executable.name") == exe or
                                    (exe.endswith("*") and
                                     str(res.get("process.executable.name", "")).startswith(exe[:-1]))):
            problems.append(f"{label}: process.executable.name "
                            f"{res.get('process.executable.name')!r}, expected {exe!r}")
        if cmd_has is not None and cmd_has not in str(res.get("process.command_line", "")):
            problems.append(f"{label}: process.command_line {res.get('process.command_line')!r} "
                            f"lacks {cmd_has!r}")
        if res.get("host.name") != socket.gethostname():
            problems.append(f"{label}: host.name {res.get('host.name')!r}, "
                            f"expected {socket.gethostname()!r}")
        if not res.get("service.instance.id"):
            problems.append(f"{label}: no service.instance.id")
        for k, v in (extra or {}).items():
            if res.get(k) != v:
                problems.append(f"{label}: resource {k} = {res.get(k)!r}, expected {v!r}")
    if len(seen) > 1:
        problems.append(f"{label}: {len(seen)} different resources for one process")
    return problems


def check_api(label, recs, tag, who, n, allow_dups=False):
    """Checks the API records "api TAG WHO i" for i < n: body, severity,
    attributes, trace context, no log.iostream, order. Returns (figures,
    problems)."""
    problems = []
    got = collections.defaultdict(list)
    bad = []
    for r in recs:
        m = re.fullmatch(r"api (\S+) (\S+) (\d{6,})", r["body"] or "")
        if not m or m.group(1) != tag or m.group(2) != who:
            bad.append(r["body"])
            continue
        got[int(m.group(3))].append(r)
    fig = {"published": n, "records": len(recs), "missing": 0, "dups": 0, "unexpected": len(bad)}
    if bad:
        problems.append(f"{label}: {len(bad)} records with unexpected bodies, e.g. {bad[:3]}")
    wrong = []
    prev_t = 0
    disorder = 0
    for i in range(n):
        rs = got.pop(i, [])
        if not rs:
            fig["missing"] += 1
            continue
        if len(rs) > 1:
            fig["dups"] += len(rs) - 1
        e = expected_api_record(tag, who, i)
        r = rs[0]
        diffs = []
        if r["sev"] != e["sev"]:
            diffs.append(f"sev {r['sev']} != {e['sev']}")
        if e["sevText"] is not None and r["sevText"] != e["sevText"]:
            diffs.append(f"sevText {r['sevText']!r} != {e['sevText']!r}")
        attrs = dict(r["attrs"])
        if "log.iostream" in attrs:
            diffs.append("has log.iostream")
        for k, v in e["attrs"].items():
            if attrs.get(k) != v:
                diffs.append(f"attr {k} {attrs.get(k)!r} != {v!r}")
        if r["traceId"] != e["traceId"] or r["spanId"] != e["spanId"]:
            diffs.append(f"trace {r['traceId']}/{r['spanId']} != {e['traceId']}/{e['spanId']}")
        if e["traceId"] and r.get("flags", 0) & 0xFF != 1:
            diffs.append(f"flags {r.get('flags')} != 1")
        if diffs:
            wrong.append((i, diffs))
        t = int(r["time"])
        if t < prev_t:
            disorder += 1
        prev_t = t
    if got:
        fig["unexpected"] += sum(len(v) for v in got.values())
        problems.append(f"{label}: records with ids beyond {n}: {sorted(got)[:5]}")
    if fig["missing"]:
        problems.append(f"{label}: {fig['missing']} of {n} API records missing")
    if fig["dups"] and not allow_dups:
        problems.append(f"{label}: {fig['dups']} duplicate API records")
    if wrong:
        problems.append(f"{label}: {len(wrong)} API records differ, e.g. {wrong[:3]}")
    if disorder:
        problems.append(f"{label}: {disorder} API records with a timestamp before the previous one")
    return fig, problems


def bad_utf8_requests(env):
    return [q for q in env.requests() if q.get("bad_utf8")]


# --- metrics (workloads/metrics_producer.c, receiver.js --metrics-out) ----------

# OpenTelemetry's default explicit bucket bounds (shmlog.h: NULL bounds).
DEFAULT_BOUNDS = [0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0,
                  5000.0, 7500.0, 10000.0]
# STEPS and HIST_VALUES of metrics_producer.c: keep in step.
MP_STEPS = 1000
MP_HIST_VALUES = [-3, 0, 0.5, 5, 7.25, 10, 24, 25, 60, 100, 333, 750, 999.5, 1000, 4000, 7500,
                  10000, 10000.5, 20000]
OTLP_TYPE = {"counter": "sum", "updown": "sum", "gauge": "gauge", "histogram": "histogram"}
OVERFLOW_ATTRS = {"otel.metric.overflow": True}


def metrics_ini(temporality="cumulative", interval_ms=300, shm=None, **metrics):
    """ini sections for a metrics test: [metrics] with host metrics off."""
    m = {"export_interval_ms": str(interval_ms), "temporality": temporality,
         "grouping": "process", "host_metrics": "false"}
    m.update({k: str(v) for k, v in metrics.items()})
    ini = {"metrics": m}
    if shm:
        ini["shm"] = {k: str(v) for k, v in shm.items()}
    return ini


def attrs_key(attrs):
    return json.dumps(attrs, sort_keys=True)


def series_key(p):
    """(pid, name, attributes) of a data point: one series of one producer."""
    return (p["pid"], p["name"], attrs_key(p["attrs"]))


def metric_series(points):
    """{series_key: [points in time order]}."""
    by = collections.defaultdict(list)
    for p in points:
        by[series_key(p)].append(p)
    for v in by.values():
        v.sort(key=lambda p: (int(p["time"]), p["req"]))
    return by


def bucket_of(v, bounds):
    """OTLP explicit buckets: bucket i holds (bounds[i-1], bounds[i]]."""
    for i, b in enumerate(bounds):
        if v <= b:
            return i
    return len(bounds)


def hist_of(values, bounds=DEFAULT_BOUNDS):
    b = [0] * (len(bounds) + 1)
    for v in values:
        b[bucket_of(v, bounds)] += 1
    return {"count": len(values), "sum": float(math.fsum(values)),
            "min": float(min(values)) if values else None,
            "max": float(max(values)) if values else None, "buckets": b, "bounds": list(bounds)}


def expected_metrics(mid, neg_refused=False):
    """{(name, attrs_key): spec} that `e2e_metrics_producer ID` leaves behind
    (same formulas as metrics_producer.c). spec: name, attrs, kind (counter,
    updown, gauge, histogram), unit, description, and value or count, sum,
    min, max, buckets, bounds. neg_refused: the library refused the negative
    histogram values (-EINVAL), so they are not in the totals."""
    n = MP_STEPS
    e = {}

    def put(name, attrs, kind, unit, desc, **v):
        e[(name, attrs_key(attrs))] = dict(name=name, attrs=attrs, kind=kind, unit=unit,
                                           description=desc, **v)
    ra, rb = {"route": "a"}, {"route": "b"}
    put("e2e.requests", ra, "counter", "{request}", "Requests handled", value=float((mid + 1) * n))
    put("e2e.requests", rb, "counter", "{request}", "Requests handled", value=2.0 * n)
    put("e2e.bytes", ra, "counter", "By", "Bytes sent",
        value=float(sum(1000 * mid + i for i in range(n))))
    put("e2e.bytes", rb, "counter", "By", "Bytes sent", value=0.25 * n)
    put("e2e.errors", ra, "counter", "", "", value=float(mid * len(range(0, n, 10))))
    put("e2e.errors", rb, "counter", "", "", value=float(len(range(0, n, 100))))
    put("e2e.queue", {}, "updown", "{item}", "Queue length", value=float(3 * n - mid))
    put("e2e.temperature", {"producer": mid}, "gauge", "Cel", "Temperature", value=-40.5 + mid)
    vals = [MP_HIST_VALUES[(7 * i + mid) % 19] for i in range(n)]
    if neg_refused:
        vals = [v for v in vals if v >= 0]
    put("e2e.latency", {}, "histogram", "ms", "Latency", **hist_of(vals))
    return e


def expected_temporality(kind, pref):
    """OTLP AggregationTemporality (1 delta, 2 cumulative) of a synchronous
    instrument under a temporality preference (OTLP exporter spec table);
    None for gauges."""
    if kind == "gauge":
        return None
    if kind == "updown":
        return 2
    return 1 if pref in ("delta", "lowmemory") else 2


def _merge_hist(pts):
    m = {"count": 0, "sum": 0.0, "min": None, "max": None, "buckets": None}
    sums = []
    for p in pts:
        m["count"] += p.get("count") or 0
        sums.append(p.get("sum") or 0.0)
        for f, fn in (("min", min), ("max", max)):
            if p.get(f) is not None:
                m[f] = p[f] if m[f] is None else fn(m[f], p[f])
        b = p.get("buckets") or []
        if m["buckets"] is None:
            m["buckets"] = list(b)
        elif len(b) == len(m["buckets"]):
            m["buckets"] = [x + y for x, y in zip(m["buckets"], b)]
        else:
            m["buckets"] = ["bucket counts of different lengths"]
    m["sum"] = float(math.fsum(sums))
    return m


def series_final(pts, spec, pref):
    """What the points of one series say the end state is: the last point
    (cumulative, gauges) or the sum of the deltas. A dict like spec's."""
    if not pts:
        return None
    kind = spec["kind"]
    if expected_temporality(kind, pref) == 1:
        if kind == "histogram":
            return _merge_hist(pts)
        return {"value": float(math.fsum(p["value"] for p in pts
                                         if isinstance(p.get("value"), (int, float))))}
    last = pts[-1]
    if kind == "histogram":
        return {f: last.get(f) for f in ("count", "sum", "min", "max", "buckets")}
    return {"value": last.get("value")}


def final_diffs(final, spec):
    """Fields where final differs from spec (exact comparison)."""
    if final is None:
        return ["no data point"]
    fields = ("count", "sum", "min", "max", "buckets") if spec["kind"] == "histogram" else ("value",)
    return [f"{f} {final.get(f)!r}, expected {spec[f]!r}" for f in fields if final.get(f) != spec[f]]


def check_series(label, pts, spec, pref, export_times=None):
    """Checks the points of ONE series of one producer against spec under the
    temporality preference pref: type, unit, description, monotonic,
    temporality, asDouble, bounds, bucket counts adding up to count, start
    and time (cumulative: constant start <= time, values never going back;
    delta: intervals that do not overlap, non-negative counter deltas), and
    the end state (last point, or the deltas added up) exactly.
    export_times: the time_unix_nano values of all exports; a delta point
    after a series' first must start at one of them (the previous export).
    Returns a list of problems."""
    kind = spec["kind"]
    want_type = OTLP_TYPE[kind]
    want_temp = expected_temporality(kind, pref)
    if not pts:
        return [f"{label}: no data point"]
    problems = []
    meta = collections.Counter()
    for p in pts:
        if p["type"] != want_type:
            meta[f"type {p['type']!r}, expected {want_type!r}"] += 1
        if p["unit"] != spec["unit"]:
            meta[f"unit {p['unit']!r}, expected {spec['unit']!r}"] += 1
        if p["description"] != spec["description"]:
            meta[f"description {p['description']!r}, expected {spec['description']!r}"] += 1
        if want_type == "sum" and p.get("monotonic") != (kind == "counter"):
            meta[f"is_monotonic {p.get('monotonic')}, expected {kind == 'counter'}"] += 1
        if want_temp is not None and p.get("temporality") != want_temp:
            meta[f"aggregation_temporality {p.get('temporality')}, expected {want_temp}"] += 1
        if want_type in ("sum", "gauge") and p.get("valueType") != "double":
            meta[f"value as {p.get('valueType')}, expected asDouble"] += 1
        if want_type == "histogram":
            if p.get("bounds") != spec["bounds"]:
                meta[f"explicit_bounds {p.get('bounds')}, expected {spec['bounds']}"] += 1
            b = p.get("buckets") or []
            if len(b) != len(spec["bounds"]) + 1:
                meta[f"{len(b)} bucket counts, expected {len(spec['bounds']) + 1}"] += 1
            elif sum(b) != p.get("count"):
                meta["bucket counts that do not add up to count"] += 1
            if p.get("count") and (p.get("min") is None or p.get("max") is None):
                meta["no min/max"] += 1
        st, t = int(p["start"]), int(p["time"])
        if t <= 0:
            meta["time_unix_nano 0"] += 1
        if want_type != "gauge" and not 0 < st <= t:
            meta["start_time_unix_nano not in (0, time_unix_nano]"] += 1
    problems += [f"{label}: {n} of {len(pts)} points with {what}" for what, n in meta.items()]
    times = [int(p["time"]) for p in pts]
    same = sum(1 for a, b in zip(times, times[1:]) if a == b)
    if same:
        problems.append(f"{label}: {same} points with the time of the point before (duplicates?)")
    if want_temp == 2:
        starts = sorted({p["start"] for p in pts})
        if len(starts) > 1:
            problems.append(f"{label}: start_time_unix_nano changes across cumulative points: "
                            f"{len(starts)} values, e.g. {starts[:3]}")
        if kind == "counter":
            vals = [p.get("value") for p in pts]
            if any(isinstance(a, (int, float)) and isinstance(b, (int, float)) and b < a
                   for a, b in zip(vals, vals[1:])):
                problems.append(f"{label}: cumulative counter goes back: {vals[:12]}")
        if kind == "histogram":
            cs = [p.get("count") or 0 for p in pts]
            bs = [p.get("buckets") or [] for p in pts]
            if any(b < a for a, b in zip(cs, cs[1:])) or any(
                    len(x) == len(y) and any(v < u for u, v in zip(x, y)) for x, y in zip(bs, bs[1:])):
                problems.append(f"{label}: cumulative histogram counts go back: {cs[:12]}")
    elif want_temp == 1:
        overlap = sum(1 for a, b in zip(pts, pts[1:]) if int(b["start"]) < int(a["time"]))
        if overlap:
            problems.append(f"{label}: {overlap} delta points start before the previous one ended")
        if export_times is not None:
            odd = [p["start"] for p in pts[1:] if int(p["start"]) not in export_times]
            if odd:
                problems.append(f"{label}: {len(odd)} delta points whose start is no export's "
                                f"time, e.g. {odd[:2]}")
        if kind == "counter":
            neg = [p.get("value") for p in pts if isinstance(p.get("value"), (int, float))
                   and p["value"] < 0]
            if neg:
                problems.append(f"{label}: negative deltas of a monotonic counter: {neg[:5]}")
    d = final_diffs(series_final(pts, spec, pref), spec)
    if d:
        how = "sum of the deltas" if want_temp == 1 else "last point"
        problems.append(f"{label}: {how} ({len(pts)} points): " + "; ".join(d))
    return problems


def dup_points(points):
    """(req, series) pairs that occur more than once in one request."""
    c = collections.Counter((p["req"],) + series_key(p) for p in points)
    return {k: n for k, n in c.items() if n > 1}
