#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_tls.py: OTLP/HTTP over TLS end to end (CTest e2e_tls).

The test makes its certificates with the openssl command in its temporary
directory: a CA, a server certificate for 127.0.0.1 / localhost signed by
it (subjectAltName IP:127.0.0.1), a client certificate for mutual TLS, an
expired server certificate (same CA) and a server certificate of another
CA. receiver.js serves HTTPS with them (--tls-cert/--tls-key, and for mTLS
--tls-ca --require-client-cert). Every case has its own receiver,
collector, exporter and spool, all running at once; each writes CASE_LINES
lines from a shell loop.

Delivered (every line exactly once, and for mTLS the receiver saw our
client certificate):
  ca        [exporter] ca_file
  mtls      ca_file, client_cert, client_key; the server requires a client
            certificate
  mtls-env  the same from OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE
            and _CLIENT_KEY, no ini keys
  insecure  insecure = true, a server certificate of another CA
Refused (nothing delivered, the exporter keeps running and retrying:
exporter.status retries grows, last_error names the TLS problem, the
records stay in the spool; its log has one line per distinct error, not
one per retry):
  nocert    mTLS server, no client certificate (the server refuses the
            handshake: receiver.js logs it in OUT.tls)
  expired   an expired server certificate
  wrong-ca  a server certificate of another CA
Fixed: nocert and wrong-ca restart their exporter with the right
configuration (client certificate; the other CA's ca_file): everything that
was spooled is delivered.
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CASE_LINES = 300
FAIL_FOR_S = 7.0  # how long the refused cases fail before they are checked
CLIENT_CN = "shmlog-e2e-client"

CA_CNF = """\
[ca]
default_ca = e2e
[e2e]
database = {db}/index
new_certs_dir = {db}
serial = {db}/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[server]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
"""


def openssl(*argv, cwd):
    r = subprocess.run(["openssl"] + list(argv), cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    h.check(r.returncode == 0, f"openssl {' '.join(argv[:2])} failed: "
                               f"{r.stdout.decode(errors='replace')[-800:]}")


def make_certs(d):
    """Certificates in d; returns {name: path}."""
    if not shutil.which("openssl"):
        raise h.Skip("the openssl command is missing")
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def ca(name, cn):
        db = os.path.join(d, name + ".db")
        os.makedirs(db)
        open(os.path.join(db, "index"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(d, name + ".cnf"), "w") as f:
            f.write(CA_CNF.format(db=db))
        openssl("req", "-x509", *ec, "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
                "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)

    def leaf(name, cn, ca_name, ext, dates=("-days", "2")):
        openssl("req", "-new", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn, cwd=d)
        openssl("ca", "-batch", "-config", ca_name + ".cnf", "-cert", ca_name + ".pem",
                "-keyfile", ca_name + ".key", "-in", name + ".csr", "-out", name + ".pem",
                "-extensions", ext, "-notext", *dates, cwd=d)

    ca("ca", "shmlog e2e CA")
    ca("ca2", "shmlog e2e other CA")
    leaf("server", "127.0.0.1", "ca", "server")
    leaf("client", CLIENT_CN, "ca", "client")
    leaf("expired", "127.0.0.1", "ca", "server",
         ("-startdate", "20200101000000Z", "-enddate", "20200102000000Z"))
    leaf("other", "127.0.0.1", "ca2", "server")
    paths = {n: os.path.join(d, n + ".pem") for n in
             ("ca", "ca2", "server", "client", "expired", "other")}
    paths.update({n + "_key": os.path.join(d, n + ".key") for n in
                  ("server", "client", "expired", "other")})
    return paths


def rx_args(c, cert, mtls=False):
    a = ["--tls-cert", c[cert], "--tls-key", c[cert + "_key"]]
    if mtls:
        a += ["--tls-ca", c["ca"], "--require-client-cert"]
    return a


def bodies(case):
    return [f"tls {case} {i:06d} ünïcödé ✓" for i in range(CASE_LINES)]


def start_case(args, certs, case, rx, exporter_ini=None, exporter_env=None):
    ini = {"exporter": dict(exporter_ini or {}), "metrics": {"host_metrics": "false"}}
    env = h.Env(args, "tls-" + case, compression="gzip", ini=ini, start_daemons=False,
                receiver_args=rx)
    h.check(env.ini["exporter"]["endpoint"].startswith("https://127.0.0.1:"),
            f"{case}: endpoint {env.ini['exporter']['endpoint']}")
    env.write_ini()
    env.start_collector()
    env.start_exporter(extra_env=exporter_env)
    # Builtins only: a $(seq) child would be captured too (its stdout is a pipe).
    script = "for ((i = 0; i < %d; i++)); do printf 'tls %s %%06d ünïcödé ✓\\n' $i; done" % (
        CASE_LINES, case)
    env.case = case
    env.workload = env.producer("shell", ["bash", "-c", script], service="e2e-tls-" + case)
    return env


def check_delivered(env, problems, want_cn=None, timeout=30):
    case = env.case
    want = bodies(case)
    recs = env.wait_records(len(want), timeout=timeout, settle=0.5, stall=15)
    got = collections.Counter(r["body"] for r in recs)
    missing = [b for b in want if not got[b]]
    dups = sum(n - 1 for n in got.values() if n > 1)
    extra = [b for b in got if b not in set(want)]
    if missing or dups or extra:
        problems.append(f"{case}: {len(recs)} records, {len(missing)} of {len(want)} lines missing, "
                        f"{dups} duplicates, {len(extra)} unexpected; exporter status "
                        f"{env.status()}; log: {env.exporter.log_text()[-600:]}")
    reqs = env.requests()
    if want_cn is not None:
        cns = {q.get("client_cn") for q in reqs}
        if cns != {want_cn}:
            problems.append(f"{case}: client certificates seen by the server: {cns}, "
                            f"expected {{{want_cn!r}}}")
    bad = [q for q in reqs if q.get("status") != 200]
    if bad:
        problems.append(f"{case}: {len(bad)} requests not answered 200, e.g. {bad[:2]}")
    return len(recs)


def error_lines(text, pattern):
    return [ln for ln in text.splitlines() if re.search(pattern, ln)]


def check_refused(env, problems, err_re, t_start):
    """Nothing delivered, the exporter alive and retrying, the TLS error in
    last_error and in exactly one log line per distinct error."""
    case = env.case
    st1 = env.wait_status(lambda s: s.get("retries", 0) >= 3, timeout=10)
    time.sleep(max(0.0, FAIL_FOR_S - (time.time() - t_start)))
    # Back-off is at most retry_max_ms (2 s); exporter.status is written
    # about once a second.
    r1 = st1.get("retries", 0)
    st2 = env.wait_status(lambda s: s.get("retries", 0) > r1, timeout=6)
    if not env.exporter.running():
        problems.append(f"{case}: the exporter exited ({env.exporter.popen.returncode}): "
                        f"{env.exporter.log_text()[-600:]}")
        return
    if env.records() or any(q.get("status") == 200 for q in env.requests()):
        problems.append(f"{case}: {len(env.records())} records delivered, expected none")
    r2 = st2.get("retries", 0)
    if not (r1 >= 3 and r2 > r1):
        problems.append(f"{case}: exporter.status retries {r1} then {r2}: not retrying")
    err = str(st2.get("last_error", ""))
    if not re.search(err_re, err, re.I):
        problems.append(f"{case}: exporter.status last_error {err!r} does not match {err_re!r}")
    if not st2.get("spool_files"):
        problems.append(f"{case}: spool_files = {st2.get('spool_files')}: the records should "
                        f"stay in the spool")
    if st2.get("dropped_records"):
        problems.append(f"{case}: {st2.get('dropped_records')} records dropped")
    text = env.exporter.log_text()
    lines = error_lines(text, err_re)
    distinct = collections.Counter(re.sub(r"\d+", "N", ln.split(": ", 1)[-1]) for ln in lines)
    if not lines:
        problems.append(f"{case}: no log line names the TLS error ({err_re!r}); log: {text[-600:]}")
    elif len(lines) != len(distinct):
        problems.append(f"{case}: {len(lines)} log lines for {len(distinct)} distinct TLS errors "
                        f"after {r2} retries (one per distinct error expected): {lines[:6]}")
    h.log(f"  {case}: retries {r1} -> {r2}, last_error {err!r}, spool_files "
          f"{st2.get('spool_files')}, {len(lines)} log lines naming the error, e.g. "
          f"{lines[:1]}")


def test(args):
    certs = make_certs(os.path.join(tempfile.mkdtemp(prefix="shmlog-e2e-tls-certs-"), "c"))
    cert_dir = os.path.dirname(os.path.dirname(certs["ca"]))
    try:
        run(args, certs)
    finally:
        if not os.environ.get("SHMLOG_E2E_KEEP"):
            shutil.rmtree(cert_dir, ignore_errors=True)


def run(args, c):
    t0 = time.time()
    mtls_ini = {"ca_file": c["ca"], "client_cert": c["client"], "client_key": c["client_key"]}
    good = [
        start_case(args, c, "ca", rx_args(c, "server"), {"ca_file": c["ca"]}),
        start_case(args, c, "mtls", rx_args(c, "server", mtls=True), mtls_ini),
        start_case(args, c, "mtls-env", rx_args(c, "server", mtls=True), None,
                   {"OTEL_EXPORTER_OTLP_CERTIFICATE": c["ca"],
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": c["client"],
                    "OTEL_EXPORTER_OTLP_CLIENT_KEY": c["client_key"]}),
        start_case(args, c, "insecure", rx_args(c, "other"), {"insecure": "true"}),
    ]
    t_bad = time.time()
    nocert = start_case(args, c, "nocert", rx_args(c, "server", mtls=True), {"ca_file": c["ca"]})
    expired = start_case(args, c, "expired", rx_args(c, "expired"), {"ca_file": c["ca"]})
    wrongca = start_case(args, c, "wrong-ca", rx_args(c, "other"), {"ca_file": c["ca"]})
    for env in good + [nocert, expired, wrongca]:
        h.check(env.workload.wait(30) == 0, f"{env.case}: workload failed")

    problems = []
    cn = {"mtls": CLIENT_CN, "mtls-env": CLIENT_CN, "ca": None, "insecure": None}
    for env in good:
        n = check_delivered(env, problems, want_cn=cn[env.case])
        h.log(f"  {env.case}: {n} records delivered over https; exporter {env.status().get('protocol')}"
              f" sent_records {env.status().get('sent_records')}")

    check_refused(nocert, problems, r"certificate required|alert|handshake|SSL|reset", t_bad)
    tls_refusals = nocert._read_jsonl(nocert.out + ".tls")
    if not tls_refusals:
        problems.append("nocert: the server logged no refused handshake")
    else:
        h.log(f"  nocert: the server refused {len(tls_refusals)} handshakes, e.g. "
              f"{tls_refusals[0]['code']} {tls_refusals[0]['message'][:80]!r}")
    check_refused(expired, problems, r"certificate has expired", t_bad)
    check_refused(wrongca, problems, r"local issuer|self.signed|unable to get|verify", t_bad)

    # Fixed configurations: everything that was spooled is delivered.
    for env, fix in ((nocert, {"client_cert": c["client"], "client_key": c["client_key"]}),
                     (wrongca, {"ca_file": c["ca2"]})):
        env.exporter.stop()
        env.ini["exporter"].update(fix)
        env.write_ini()
        env.start_exporter()
        check_delivered(env, problems, want_cn=CLIENT_CN if env.case == "nocert" else None)
        st = env.wait_status(lambda s: s.get("sent_records", 0) >= CASE_LINES
                             and s.get("spool_files") == 0, timeout=5)
        if not (st.get("sent_records", 0) >= CASE_LINES and st.get("spool_files") == 0):
            problems.append(f"{env.case}: after the fix exporter.status says sent_records "
                            f"{st.get('sent_records')}, spool_files {st.get('spool_files')}")
        h.log(f"  {env.case}: fixed ({', '.join(fix)}), delivered; exporter "
              f"{ {k: env.status().get(k) for k in ('sent_records', 'spool_files', 'last_error')} }")
    for env in good + [nocert, expired, wrongca]:
        env.check_daemons()
        env.close()
    h.log(f"figures: {len(good) + 3} cases in {time.time() - t0:.1f}s")
    if problems:
        for p in problems[:40]:
            h.log("  problem: " + p)
        raise h.Fail(f"{len(problems)} problems")


if __name__ == "__main__":
    h.main(test)
