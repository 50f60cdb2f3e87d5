#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_exporter_reload.py: shmlog-exporter reloads its configuration on
SIGHUP without losing or duplicating a request (CTest fault_exporter_reload).

A Python producer (preloaded, stdout captured) writes LINES numbered lines
at a steady pace for the whole run. Receivers: A (plain HTTP, receiver.js;
each answer stalled STALL_S so that requests are in flight at the SIGHUP)
and B (HTTPS with mutual TLS, certificates made by openssl as test_tls.py
makes them). Phases:
  1. the exporter sends to A with headers x-tenant=alpha;
  2. the ini is rewritten for B (endpoint, headers x-tenant=bravo and
     x-phase=b, ca_file, client certificate CN1, key) and the exporter gets
     SIGHUP: the log says "configuration reloaded", exporter.status shows
     B's endpoint, and from then on A gets nothing (its request log is the
     same at the end as when the swap was seen);
  3. a broken ini + SIGHUP: one error line ("not reloaded"), B keeps
     receiving;
  4. the client certificate file is renewed in place (same path, CN2), the
     good ini is restored unchanged + SIGHUP: B's later requests come with
     CN2, never CN1 after the first CN2 (the TLS files are read again);
  5. another protocol and compression: C is an OTLP/gRPC receiver
     (grpc_receiver.js), the ini says protocol = grpc, compression = none,
     headers x-tenant=charlie + SIGHUP: C receives with that metadata, and
     B gets nothing after exporter.status shows C.
Every line arrives exactly once across A, B and C (duplicates: 0; the
exporter lets requests in flight finish on the old transport); A's
requests all carry alpha, B's all bravo; the ACCOUNT line is printed.
"""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import harness as h  # noqa: E402
import test_tls  # noqa: E402  (make_certs, openssl)
import accounting as acct  # noqa: E402

LINES = 11000
PER_TICK = 80  # lines per 0.1 s: ~10 s of writing
STALL_S = 0.8
CN1 = "shmlog-reload-client-1"
CN2 = "shmlog-reload-client-2"

PRODUCER = r"""
import sys, time
n, per = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    sys.stdout.write("reload %06d\n" % i)
    if i % per == per - 1:
        sys.stdout.flush()
        time.sleep(0.1)
sys.stdout.flush()
"""


def client_cert(certs_dir, name, cn):
    """A client certificate signed by test_tls's CA, as name.pem/name.key."""
    test_tls.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                     "/CN=" + cn, cwd=certs_dir)
    test_tls.openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                     "-in", name + ".csr", "-out", name + ".pem", "-extensions", "client",
                     "-notext", "-days", "2", cwd=certs_dir)
    return os.path.join(certs_dir, name + ".pem"), os.path.join(certs_dir, name + ".key")


def start_rx(env, name, extra, script="receiver.js"):
    """Another receiver of env (its own out file); returns (proc, port, out)."""
    out = os.path.join(env.tmp, name, "records.jsonl")
    os.makedirs(os.path.dirname(out))
    port_file = os.path.join(env.tmp, name, "port")
    p = env.spawn("receiver-" + name, ["node", os.path.join(h.HERE, script),
                                       "--port-file", port_file, "--out", out] + extra)
    deadline = time.time() + 15
    while not os.path.exists(port_file) or not open(port_file).read().strip():
        h.check(p.running(), f"receiver {name} exited: {p.log_text()}")
        h.check(time.time() < deadline, f"receiver {name} did not start")
        time.sleep(0.05)
    return p, int(open(port_file).read()), out


def wait_log(proc, pattern, timeout=20, after=0):
    """Waits until proc's log has a line matching pattern past offset after;
    returns (match, end offset)."""
    deadline = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < deadline:
        text = proc.log_text()
        m = rx.search(text, after)
        if m:
            return m, m.end()
        time.sleep(0.1)
    raise h.Fail(f"no log line /{pattern}/ from {proc.name}: {proc.log_text()[-1500:]}")


def test(args):
    env = h.Env(args, "reload", start_daemons=False, plan=f"stall:{STALL_S}*100000",
                ini={"exporter": {"headers": "x-tenant=alpha", "max_in_flight": "4"},
                     "metrics": {"host_metrics": "false"}})
    certs = os.path.join(env.tmp, "certs")
    c = test_tls.make_certs(certs)
    cli_pem, cli_key = client_cert(certs, "cli", CN1)
    rxb, port_b, out_b = start_rx(env, "b", ["--tls-cert", c["server"], "--tls-key",
                                             c["server_key"], "--tls-ca", c["ca"],
                                             "--require-client-cert"])
    rxc, port_c, out_c = start_rx(env, "c", [], script="grpc_receiver.js")
    env.write_ini()
    env.start_collector()
    ex = env.start_exporter()
    want = ["reload %06d" % i for i in range(LINES)]
    prod = env.producer("producer", [sys.executable, "-c", PRODUCER, str(LINES), str(PER_TICK)],
                        service="e2e-reload", stdio="capture")

    # 1. A receives.
    got = env.wait_records(300, timeout=30, settle=0)
    h.check(len(got) >= 300, f"A received only {len(got)} records")

    # 2. Switch to B.
    good = dict(env.ini["exporter"])
    good.update({"endpoint": f"https://127.0.0.1:{port_b}",
                 "headers": "x-tenant=bravo,x-phase=b", "ca_file": c["ca"],
                 "client_cert": cli_pem, "client_key": cli_key})
    env.ini["exporter"] = good
    env.write_ini()
    ex.signal_group(1)  # SIGHUP
    m, off = wait_log(ex, r"SIGHUP: configuration reloaded[^\n]*once the (\d+) in flight")
    in_flight = int(m.group(1))
    h.log(f"SIGHUP with {in_flight} requests in flight at A")
    h.check(in_flight >= 1, "nothing was in flight at the SIGHUP: the test proves too little")
    st = env.wait_status(lambda s: f":{port_b}/" in str(s.get("endpoint", "")), timeout=30)
    h.check(f":{port_b}/" in str(st.get("endpoint", "")),
            f"exporter.status endpoint is {st.get('endpoint')!r}, not B's")
    a_requests_at_swap = len(env.requests())
    a_records_at_swap = len(env.records())
    h.log(f"swap seen: A had {a_requests_at_swap} requests, {a_records_at_swap} records")

    def b_records():
        return env._read_jsonl(out_b)

    def b_requests():
        return env._read_jsonl(out_b + ".requests")

    deadline = time.time() + 30
    while len(b_records()) < 200 and time.time() < deadline:
        env.check_daemons()
        time.sleep(0.1)
    h.check(len(b_records()) >= 200, f"B received only {len(b_records())} records")

    # 3. A broken ini: refused, B keeps receiving.
    with open(env.ini_path, "w") as f:
        f.write("[exporter]\nendpont = http://127.0.0.1:1\n")
    n_b = len(b_records())
    ex.signal_group(1)
    m, off = wait_log(ex, r"[^\n]*SIGHUP: configuration not reloaded[^\n]*", after=off)
    h.log(f"broken ini: {m.group(0).strip()}")
    deadline = time.time() + 30
    while len(b_records()) <= n_b + 100 and time.time() < deadline and prod.running():
        env.check_daemons()
        time.sleep(0.1)
    h.check(len(b_records()) > n_b, "B received nothing after the broken reload")
    env.check_daemons()

    # 4. The client certificate renewed in place, the same good ini again.
    new_pem, new_key = client_cert(certs, "cli2", CN2)
    os.replace(new_pem, cli_pem)
    os.replace(new_key, cli_key)
    env.write_ini()
    ex.signal_group(1)
    _, off = wait_log(ex, r"SIGHUP: configuration reloaded[^\n]*0 keys changed", after=off)
    deadline = time.time() + 30
    while not any(r.get("client_cn") == CN2 for r in b_requests()) and time.time() < deadline:
        time.sleep(0.1)

    # 5. gRPC, no compression, new headers: receiver C.
    h.check(prod.running(), "the producer finished before the gRPC phase: raise LINES")
    env.ini["exporter"] = dict(good)
    env.ini["exporter"].update({"endpoint": f"http://127.0.0.1:{port_c}", "protocol": "grpc",
                                "compression": "none", "headers": "x-tenant=charlie"})
    for k in ("ca_file", "client_cert", "client_key"):
        env.ini["exporter"].pop(k)
    env.write_ini()
    ex.signal_group(1)
    wait_log(ex, r"SIGHUP: configuration reloaded[^\n]*exporter.protocol", after=off)
    st = env.wait_status(lambda s: f":{port_c}/" in str(s.get("endpoint", "")), timeout=30)
    h.check(f":{port_c}/" in str(st.get("endpoint", "")) and st.get("protocol") == "grpc" and
            st.get("compression") == "none", f"exporter.status after the gRPC reload: {st}")
    b_requests_at_swap = len(b_requests())

    prod.wait(60)
    recs_a = env.wait_quiet(quiet=2.0, timeout=30)
    deadline = time.time() + 60
    while True:
        seen = ({r.get("body") for r in env.records()} | {r.get("body") for r in b_records()} |
                {r.get("body") for r in env._read_jsonl(out_c)})
        if len(seen & set(want)) >= LINES or time.time() > deadline:
            break
        env.check_daemons()
        time.sleep(0.2)
    time.sleep(1.0)  # late duplicates
    recs_a, recs_b, recs_c = env.records(), b_records(), env._read_jsonl(out_c)
    reqs_a, reqs_b = env.requests(), b_requests()
    reqs_c = env._read_jsonl(out_c + ".requests")
    h.check(len(reqs_b) == b_requests_at_swap,
            f"B got requests after the gRPC swap: {b_requests_at_swap} -> {len(reqs_b)}")
    h.check(recs_c and reqs_c, f"C (gRPC) received nothing: {len(reqs_c)} calls")
    h.check(all(r.get("hdr", {}).get("x-tenant") == "charlie" and r.get("status") == 0
                and r.get("encoding") in ("", "identity") for r in reqs_c),
            f"a call at C without x-tenant=charlie, not OK or compressed: "
            f"{[(r.get('hdr'), r.get('status'), r.get('encoding')) for r in reqs_c][:3]}")

    h.check(len(reqs_a) == a_requests_at_swap and len(recs_a) == a_records_at_swap,
            f"A got requests after the swap: {a_requests_at_swap} -> {len(reqs_a)} requests, "
            f"{a_records_at_swap} -> {len(recs_a)} records")
    logs_a = [r for r in reqs_a if r.get("path") == "/v1/logs"]
    logs_b = [r for r in reqs_b if r.get("path") == "/v1/logs"]
    h.check(all(r.get("hdr", {}).get("x-tenant") == "alpha" for r in reqs_a),
            "a request at A without x-tenant=alpha")
    h.check(all(r.get("hdr", {}).get("x-tenant") == "bravo" and
                r.get("hdr", {}).get("x-phase") == "b" for r in reqs_b),
            "a request at B without the new headers: %s" %
            [r.get("hdr") for r in reqs_b if r.get("hdr", {}).get("x-tenant") != "bravo"][:2])
    cns = [r.get("client_cn") for r in logs_b]
    h.check(cns and cns[-1] == CN2, f"B's last request came with client CN {cns[-1:]}, not {CN2}")
    first2 = cns.index(CN2)
    h.check(all(cn == CN1 for cn in cns[:first2]) and all(cn == CN2 for cn in cns[first2:]),
            f"client CNs at B out of order: {cns}")
    h.log(f"A: {len(logs_a)} log requests, {len(recs_a)} records; B: {len(logs_b)} log "
          f"requests, {len(recs_b)} records ({first2} with {CN1}, {len(cns) - first2} with "
          f"{CN2}); C (gRPC): {len(reqs_c)} calls, {len(recs_c)} records")
    st = env.status()
    h.check(f":{port_c}/" in str(st.get("endpoint", "")), f"final endpoint {st.get('endpoint')}")
    h.check("were aborted" not in ex.log_text(),
            "a reload aborted requests in flight: " + ex.log_text()[-1500:])
    n_err = ex.log_text().count("configuration not reloaded")
    h.check(n_err == 1, f"{n_err} 'not reloaded' lines, expected 1")
    wanted = set(want)
    pub = acct.Published()
    pub.add_count(len(want), key=lambda r: r.get("body") if r.get("body") in wanted else None)
    a = acct.account(env, pub, "exporter_reload", records=recs_a + recs_b + recs_c)
    acct.print_account(a)
    h.check(not a["problems"], "; ".join(a["problems"]))


if __name__ == "__main__":
    h.main(test)
