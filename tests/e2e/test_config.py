#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_config.py: configuration errors and secrets (CTest e2e_config_errors).

For shmlog-collector and shmlog-exporter: a bad key, a bad value, an unknown
section, a bad environment variable (OTEL_EXPORTER_OTLP_COMPRESSION=lz4)
and a bad --section.key override each stop the daemon at start with exit
status 2 and exactly one line on stderr, naming the file and line for file
errors ("bad.ini:3: unknown key 'endpont' in [exporter]"), the variable or
the option otherwise (also a bad per-signal variable or key, and the
exponential histogram aggregation, which is refused); the collector creates no segment. Header values are
secrets: they appear in no output of either daemon -- with --print-config,
in error messages, and while running at log level debug -- yet the exporter
sends them.
"""
import os
import re
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

DAEMONS = ("shmlog-collector", "shmlog-exporter")


def run_daemon(env, daemon, argv_tail, extra_env=None, timeout=10):
    e = env.base_env()
    e.update(extra_env or {})
    p = env.spawn(daemon, [env.bin(daemon)] + argv_tail, env=e, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    try:
        out, err = p.popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill9()
        out, err = p.popen.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return p.popen.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def write(env, name, lines):
    path = os.path.join(env.tmp, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test(args):
    env = h.Env(args, "config", start_daemons=False)
    ns_lines = ["[shm]", f"namespace = {env.ns}", "[spool]", f"dir = {env.spool}"]  # lines 1-4
    good = write(env, "good.ini", ns_lines + ["[exporter]", f"endpoint = http://127.0.0.1:{env.port}"])
    cases = [
        # (label, argv tail, env, file regex, words the line must contain)
        ("bad key", ["-c", write(env, "bad-key.ini", ns_lines + ["[exporter]", "endpont = http://x"])],
         {}, r"bad-key\.ini:6:", ["endpont"]),
        ("bad value", ["-c", write(env, "bad-value.ini", ns_lines + ["max_bytes = lots"])],
         {}, r"bad-value\.ini:5:", ["max_bytes", "lots"]),
        ("bad number", ["-c", write(env, "bad-number.ini",
                                    ns_lines + ["[collector]", "schedule_delay_ms = soon"])],
         {}, r"bad-number\.ini:6:", ["schedule_delay_ms", "soon"]),
        ("unknown section", ["-c", write(env, "bad-section.ini", ns_lines + ["[bogus]", "x = 1"])],
         {}, r"bad-section\.ini:[56]:", ["bogus"]),
        ("bad env", ["-c", good], {"OTEL_EXPORTER_OTLP_COMPRESSION": "lz4"}, None,
         ["OTEL_EXPORTER_OTLP_COMPRESSION", "lz4"]),
        ("bad override", ["-c", good, "--exporter.compression=lz4"], {}, None,
         ["exporter.compression", "lz4"]),
        ("bad override key", ["-c", good, "--exporter.endpont=http://x"], {}, None, ["endpont"]),
        ("bad per-signal env", ["-c", good], {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "10s"}, None,
         ["OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "10s", "integer"]),
        ("exponential histograms", ["-c", good],
         {"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION":
          "base2_exponential_bucket_histogram"}, None,
         ["OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "explicit_bucket_histogram"]),
        ("bad per-signal key", ["-c", write(env, "bad-signal.ini", ns_lines + [
            "[exporter]", "logs_protocol = thrift"])], {}, r"bad-signal\.ini:6:",
         ["logs_protocol", "thrift"]),
    ]
    problems = []
    n = 0
    for daemon in DAEMONS:
        for label, tail, extra, file_re, words in cases:
            n += 1
            rc, out, err = run_daemon(env, daemon, tail, extra)
            lines = [ln for ln in err.splitlines() if ln.strip()]
            what = f"{daemon} {label}"
            if rc is None:
                problems.append(f"{what}: still running after 10 s (stderr {err[-200:]!r})")
                continue
            if rc != 2:
                problems.append(f"{what}: exit status {rc}, expected 2 (stderr {err[-200:]!r})")
            if len(lines) != 1:
                problems.append(f"{what}: {len(lines)} stderr lines, expected 1: {lines[:4]}")
            line = lines[0] if lines else ""
            if file_re and not re.search(file_re, line):
                problems.append(f"{what}: {line!r} does not name the file and line ({file_re})")
            for w in words:
                if w not in line:
                    problems.append(f"{what}: {line!r} does not mention {w!r}")
            if os.path.exists(env.seg_path()):
                problems.append(f"{what}: a segment was created")
                os.unlink(env.seg_path())
        rc, out, err = run_daemon(env, daemon, ["-c", os.path.join(env.tmp, "missing.ini")])
        n += 1
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if rc in (0, None) or len(lines) != 1 or "missing.ini" not in (lines or [""])[0]:
            problems.append(f"{daemon} missing file: status {rc}, stderr {lines[:3]}")

    # Secrets.
    sec = {k: f"SeCrEt{k}-{secrets.token_hex(8)}" for k in range(1, 10)}
    sec_ini = write(env, "secret.ini", ns_lines + [
        "[exporter]", f"endpoint = http://127.0.0.1:{env.port}",
        f"headers = x-api-key={sec[1]},x-other={sec[2]}", "compression = gzip"])
    sec_env = {"OTEL_EXPORTER_OTLP_HEADERS": f"x-env-key={sec[3]}", "OTEL_HEADER_X_TOKEN": sec[4],
               "OTEL_EXPORTER_OTLP_LOGS_HEADERS": f"x-logs-key={sec[8]}",
               "OTEL_EXPORTER_OTLP_METRICS_HEADERS": f"x-metrics-key={sec[9]}"}
    outputs = []
    for daemon in DAEMONS:
        rc, out, err = run_daemon(env, daemon, ["-c", sec_ini, "--print-config"], sec_env)
        outputs.append((f"{daemon} --print-config", out + err))
        n += 1
        if rc != 0:
            problems.append(f"{daemon} --print-config: exit status {rc}: {err[-200:]!r}")
        # An error in a file with headers, and in an override carrying one.
        bad = write(env, "secret-bad.ini", ns_lines + [
            "[exporter]", f"headers = x-api-key={sec[5]}", "endpont = x", f"headers = {sec[6]}"])
        rc, out, err = run_daemon(env, daemon, ["-c", bad], sec_env)
        outputs.append((f"{daemon} bad file with headers", out + err))
        rc, out, err = run_daemon(env, daemon, ["-c", sec_ini, f"--exporter.headers=x-k={sec[7]}",
                                                "--exporter.compression=lz4"], sec_env)
        outputs.append((f"{daemon} bad override with headers", out + err))
        n += 2

    # Running, at log level debug, with a producer sending a few lines.
    e = env.base_env()
    e.update(sec_env)
    logs = {}
    for daemon in DAEMONS:
        logs[daemon] = os.path.join(env.tmp, f"{daemon}-run.log")
    with open(logs["shmlog-collector"], "wb") as lc, open(logs["shmlog-exporter"], "wb") as le:
        env.collector = env.spawn("collector", [env.bin("shmlog-collector"), "-c", sec_ini,
                                                "--log.level=debug"], env=e, stdout=lc, stderr=lc)
        env.wait_segment()
        env.exporter = env.spawn("exporter", [env.bin("shmlog-exporter"), "-c", sec_ini,
                                              "--log.level=debug"], env=e, stdout=le, stderr=le)
    p = env.producer("secret-producer", ["bash", "-c", "for i in 1 2 3; do echo secret test $i; done"],
                     service="e2e-secret")
    p.wait(20)
    recs = env.wait_records(3, timeout=20, pred=lambda r: r["service"] == "e2e-secret", settle=0.5)
    env.stop_daemons()
    for daemon in DAEMONS:
        with open(logs[daemon], "rb") as f:
            outputs.append((f"{daemon} running at debug", f.read().decode("utf-8", "replace")))
    if len(recs) < 3:
        problems.append(f"with headers configured, {len(recs)} of 3 records arrived")
    hdrs = [q.get("hdr", {}) for q in env.requests()]
    sent = any(x.get("x-api-key") == sec[1] for x in hdrs)
    if hdrs and not sent:
        problems.append(f"the exporter did not send header x-api-key (request headers: "
                        f"{sorted(hdrs[0])})")
    for label, text in outputs:
        for k, s in sec.items():
            if s in text:
                problems.append(f"{label}: secret {k} printed: "
                                f"{[ln for ln in text.splitlines() if s in ln][:2]}")
    h.log(f"figures: {n} daemon runs, {len(outputs)} outputs searched for {len(sec)} secrets, "
          f"{len(recs)} records with headers")
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
