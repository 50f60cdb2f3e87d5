#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_secrets.py: secrets never leave the agent except in the requests that
need them (CTest fault_secrets).

Secrets, each a random token: a generic header value ([exporter] headers),
a per-signal one (logs_headers), OTEL_EXPORTER_OTLP_HEADERS,
OTEL_EXPORTER_OTLP_METRICS_HEADERS, OTEL_HEADER_<name>, the password in
the endpoint's userinfo, and the contents of the client key file (a TLS
key that does not parse: its text is the secret). They are searched for in:
  - --print-config and --help-config of both daemons, a bad file (exit 2)
    and a bad override, both daemons running at log level debug;
  - a receiver that answers 401 (dropped, logged once) and then 200, with
    audit events on: the collector's shmlog.exporter.auth_failed event and
    every other record the receiver decoded;
  - exporter.status, shmtop --once and --json, shmtop's screen in tmux;
  - SIGHUP reloads of the exporter, good (headers changed) and bad;
  - `shmlog-exporter --test` against an HTTPS receiver with the bad key
    (a TLS error) and against the 401 receiver.
The exporter must still send the headers (the receiver sees them), and a
producer's lines arrive (ACCOUNT line: the 401 drops are counted).
"""
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import test_tls  # noqa: E402
import accounting as acct  # noqa: E402

LINES = 50


def tok(k):
    return f"SeCrEt{k}x{secrets.token_hex(6)}"


def run(env, argv, extra_env=None, timeout=30):
    e = env.base_env()
    e.update(extra_env or {})
    r = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def test(args):
    sec = {name: tok(name) for name in ("gen", "logs", "envh", "envm", "hdrvar", "pass",
                                        "keyfile", "reload")}
    env = h.Env(args, "secrets", start_daemons=False, plan="401*2",
                ini={"collector": {"audit_events": "true", "audit_interval_ms": "200"},
                     "metrics": {"host_metrics": "false", "export_interval_ms": "500"},
                     "log": {"level": "debug"}})
    port = env.port
    ex_ini = env.ini["exporter"]
    ex_ini["endpoint"] = f"http://shmlog:{sec['pass']}@127.0.0.1:{port}"
    ex_ini["headers"] = f"x-api-key={sec['gen']}"
    ex_ini["logs_headers"] = f"x-logs-key={sec['logs']}"
    env.write_ini()
    sec_env = {"OTEL_EXPORTER_OTLP_HEADERS": f"x-env-key={sec['envh']}",
               "OTEL_EXPORTER_OTLP_METRICS_HEADERS": f"x-metrics-key={sec['envm']}",
               "OTEL_HEADER_x_token": sec["hdrvar"]}
    outputs = []  # (label, text)

    # 1. One-shot outputs of both daemons.
    for d in ("shmlog-collector", "shmlog-exporter"):
        for label, argv in (("--print-config", ["-c", env.ini_path, "--print-config"]),
                            ("--help-config", ["-c", env.ini_path, "--help-config"]),
                            ("bad override", ["-c", env.ini_path,
                                              f"--exporter.headers=x-o={sec['gen']}",
                                              "--exporter.compression=lz4"])):
            rc, out = run(env, [env.bin(d)] + argv, sec_env)
            outputs.append((f"{d} {label}", out))
        bad = os.path.join(env.tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write(f"[exporter]\nheaders = x-api-key={sec['gen']}\n"
                    f"endpoint = http://u:{sec['pass']}@h:1\nendpont = {sec['gen']}\n")
        rc, out = run(env, [env.bin(d), "-c", bad], sec_env)
        h.check(rc == 2, f"{d} with a bad file: exit {rc}")
        outputs.append((f"{d} bad file", out))

    # 2. Running: 401 twice (dropped, counted), then 200.
    env.start_collector()
    env.start_exporter(extra_env=sec_env)
    # A first producer meets the two 401s (its records are dropped and
    # counted); the accounted one writes after them.
    warm = env.producer("warm", ["bash", "-c", "echo warm 1; echo warm 2"], service="e2e-warm")
    warm.wait(30)
    st = env.wait_status(lambda s: int(s.get("dropped_requests", 0) or 0) >= 2, timeout=40)
    h.check(int(st.get("auth_failures", 0) or 0) >= 2, f"no 401 counted: {st}")
    pub = acct.Published(env)  # the 401s' drops so far are not this case's
    want = [f"secret line {i:04d}" for i in range(LINES)]
    wanted = set(want)
    pub.add_count(LINES, key=lambda r: r.get("body") if r.get("body") in wanted
                  else acct.IGNORE)
    script = "for ((i = 0; i < %d; i++)); do printf 'secret line %%04d\\n' $i; done" % LINES
    prod = env.producer("shell", ["bash", "-c", script], service="e2e-secrets", stdio="capture")
    prod.wait(30)
    env.wait_records(LINES, timeout=30, pred=lambda r: r.get("service") == "e2e-secrets",
                     settle=0)
    # The auth_failed audit event arrives once the receiver accepts again.
    deadline = time.time() + 40
    while time.time() < deadline:
        if any("auth_failed" in str(r) for r in env.records()):
            break
        env.check_daemons()
        time.sleep(0.2)
    recs = env.records()
    h.check(any("auth_failed" in str(r) for r in recs), "no shmlog.exporter.auth_failed event")
    hdrs = [q.get("hdr", {}) for q in env.requests()]
    logs_hdrs = [q.get("hdr", {}) for q in env.requests() if q.get("path") == "/v1/logs"]
    h.check(any(x.get("x-api-key") == sec["gen"] and x.get("x-logs-key") == sec["logs"] and
                x.get("x-env-key") == sec["envh"] and x.get("x-token") == sec["hdrvar"]
                for x in logs_hdrs), f"headers not sent: {sorted(hdrs[0]) if hdrs else []}")

    # 3. exporter.status and shmtop.
    with open(env.status_path()) as f:
        outputs.append(("exporter.status", f.read()))
    shmtop = env.bin("shmtop")
    for label, argv in (("shmtop --once", ["--once"]), ("shmtop --json", ["--json"])):
        rc, out = run(env, [shmtop, "-c", env.ini_path] + argv)
        h.check(rc == 0, f"{label}: exit {rc}: {out[-300:]}")
        outputs.append((label, out))
    if shutil.which("tmux"):
        sock = "secrets-" + env.ns
        tenv = env.base_env()
        tenv.pop("TMUX", None)

        def tmux(*a):
            return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null"] + list(a), env=tenv,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  timeout=30).stdout
        try:
            tmux("new-session", "-d", "-s", "main", "-x", "200", "-y", "60",
                 f"{shmtop} -c {env.ini_path} -d 1")
            scr = ""
            deadline = time.time() + 20
            while time.time() < deadline and "exporter" not in scr.lower():
                time.sleep(0.3)
                scr = tmux("capture-pane", "-p", "-t", "main")
            h.check("exporter" in scr.lower(), f"shmtop screen: {scr[:500]!r}")
            outputs.append(("shmtop screen", scr))
        finally:
            tmux("kill-server")
    else:
        h.log("tmux missing: shmtop's screen not checked")

    # 4. Reloads: headers changed (a new secret), then a bad file with secrets.
    ex_ini["headers"] = f"x-api-key={sec['reload']}"
    env.write_ini()
    env.exporter.signal_group(1)
    h.check(env.wait_status(lambda s: True) is not None, "status")
    deadline = time.time() + 20
    while "configuration reloaded" not in env.exporter.log_text() and time.time() < deadline:
        time.sleep(0.1)
    with open(env.ini_path, "a") as f:
        f.write(f"\n[exporter]\nbogus = {sec['reload']}\n")
    env.exporter.signal_group(1)
    while "not reloaded" not in env.exporter.log_text() and time.time() < deadline:
        time.sleep(0.1)
    h.check("not reloaded" in env.exporter.log_text(), "no reload error line")
    env.write_ini()

    # 5. --test: 401 from the receiver, then a TLS error with the bad key.
    env.set_plan("401")
    rc, out = run(env, [env.bin("shmlog-exporter"), "-c", env.ini_path, "--test"], sec_env)
    h.check(rc != 0 and "401" in out, f"--test against 401: exit {rc}: {out[-400:]}")
    outputs.append(("--test 401", out))
    certs = test_tls.make_certs(os.path.join(env.tmp, "certs"))
    badkey = os.path.join(env.tmp, "bad.key")
    with open(badkey, "w") as f:
        f.write(f"-----BEGIN PRIVATE KEY-----\n{sec['keyfile']}\n-----END PRIVATE KEY-----\n")
    rx_out = os.path.join(env.tmp, "tls", "records.jsonl")
    os.makedirs(os.path.dirname(rx_out))
    pf = os.path.join(env.tmp, "tls", "port")
    env.spawn("receiver-tls", ["node", os.path.join(h.HERE, "receiver.js"), "--port-file", pf,
                               "--out", rx_out, "--tls-cert", certs["server"], "--tls-key",
                               certs["server_key"], "--tls-ca", certs["ca"],
                               "--require-client-cert"])
    deadline = time.time() + 15
    while not (os.path.exists(pf) and open(pf).read().strip()) and time.time() < deadline:
        time.sleep(0.05)
    tport = int(open(pf).read())
    rc, out = run(env, [env.bin("shmlog-exporter"), "-c", env.ini_path, "--test",
                        f"--exporter.endpoint=https://shmlog:{sec['pass']}@127.0.0.1:{tport}",
                        f"--exporter.ca_file={certs['ca']}",
                        f"--exporter.client_cert={certs['client']}",
                        f"--exporter.client_key={badkey}"], sec_env)
    h.check(rc != 0, f"--test with a bad key: exit {rc}: {out[-400:]}")
    outputs.append(("--test TLS error", out))

    # 6. Stop; the daemons' logs; the receiver's decoded records.
    a = acct.account(env, pub, "secrets_after_401")
    acct.print_account(a)
    h.check(not a["problems"], "; ".join(a["problems"]))
    env.stop_daemons()
    outputs.append(("collector log", env.collector.log_text()))
    outputs.append(("exporter log", env.exporter.log_text()))
    outputs.append(("receiver records (audit events)", "\n".join(str(r) for r in env.records())))
    problems = []
    for label, text in outputs:
        for name, s in sec.items():
            if s in text:
                lines = [ln for ln in text.splitlines() if s in ln][:2]
                problems.append(f"{label}: secret '{name}' printed: {lines}")
    h.log(f"figures: {len(outputs)} outputs searched for {len(sec)} secrets; "
          f"{len(env.requests())} requests, {pub.base['export']} records dropped on 401, "
          f"{a['delivered']} lines delivered after")
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} leaks")


if __name__ == "__main__":
    h.main(test)
