#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_spool_corrupt.py: bad files among good ones in the spool (CTest
fault_spool_corrupt).

The collector alone (no exporter) spools the records of three
`fault_writer fast` processes, in many small requests, and is stopped. Then,
with no daemon running, bad files are placed among the good ones, each
named just after a good file so that it is read in the middle of the
stream (core/common/spool_file.h has the format):
  truncated       a good file cut in half; another cut inside the header
  flipped         a good file with bytes of the payload flipped
  wrong-crc       a good file whose payload CRC is wrong (header CRC right)
  huge-length     a header whose length field says 1 TiB (header CRC right)
  zero-length     an empty file
  foreign         "<seq>.pb" that is a text file
  not-otlp        a valid header and CRCs around bytes that are no protobuf
  other-signal    a valid metrics spool file in the logs directory
and two files the exporter must leave alone: logs/README.txt (not a
request name) and a directory named like a request. The exporter and the
collector are started again: each bad file is moved to quarantine/ and
counted (exporter.status quarantined_files, the self metric
shmlog.exporter.requests{outcome=quarantined}, one log line each), every
good record is delivered exactly once, and the exporter never exits.
Twice: with protocol http/protobuf (payloads sent as they are, after
request_body_check()) and http/json (payloads decoded and re-encoded).
"""
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import accounting  # noqa: E402
import faults  # noqa: E402
import harness as h  # noqa: E402

NPROD = 3
PER_PROD = 6000
HDR = 32


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def header(signal, records, payload_len, payload_crc):
    """A spool header (core/common/spool_file.h) with a correct header CRC."""
    raw = b"SHMLSPL1" + struct.pack("<HHIQI", 1, signal, records, payload_len, payload_crc)
    return raw + struct.pack("<I", crc32c(raw))


def run(args, protocol, problems):
    label = "spool_corrupt " + protocol
    env = h.Env(args, "spoolbad", start_daemons=False,
                ini={"collector": {"max_export_batch_size": "500"},
                     "exporter": {"protocol": protocol}})
    h.check(os.path.exists(args.fault_writer), f"{args.fault_writer} is missing: build first")
    env.start_collector()
    tags = [f"s{j}" for j in range(NPROD)]
    results = [os.path.join(env.tmp, f"{t}.result") for t in tags]
    prods = [faults.fast(env, t, t, PER_PROD, 2000, results[j], "e2e-spoolbad")
             for j, t in enumerate(tags)]
    for p in prods:
        h.check(p.wait(60) == 0, f"{p.name} failed")
    res = [h.read_kv(r) for r in results]
    ok = sum(r.get("ok", 0) for r in res)
    published = ok + sum(r.get("enobufs", 0) for r in res)
    h.check(published == NPROD * PER_PROD, f"producer results {res}")
    rc = env.collector.stop(grace=10)
    h.check(rc == 0, f"collector exited {rc} at SIGTERM: {env.collector.log_text()[-500:]}")
    logs = os.path.join(env.spool, "logs")
    good = sorted(n for n in os.listdir(logs) if n.endswith(".pb"))
    h.check(len(good) >= 12, f"only {len(good)} spool files: need more for the bad ones")

    def read(n):
        with open(os.path.join(logs, n), "rb") as f:
            return f.read()

    def seq_after(i):
        return "%020d.pb" % (int(good[i][:-3]) + 1)

    img = read(good[1])
    sig, nrec, plen, pcrc = struct.unpack_from("<HIQI", img, 10)
    payload = img[HDR:]
    h.check(sig == 1 and plen == len(payload) and crc32c(payload) == pcrc,
            "a good spool file does not look as spool_file.h says")
    flipped = bytearray(img)
    for off in (HDR + 3, HDR + len(payload) // 2, len(img) - 1):
        flipped[off] ^= 0x5A
    junk = bytes((i * 37 + 11) & 0xFF for i in range(300)) + b"\xff" * 20
    bad = {
        "truncated": img[: len(img) // 2],
        "truncated-header": img[:20],
        "flipped": bytes(flipped),
        "wrong-crc": header(1, nrec, plen, pcrc ^ 1) + payload,
        "huge-length": header(1, nrec, 1 << 40, pcrc) + payload,
        "zero-length": b"",
        "foreign": b"this is not a spool file\n" * 10,
        "not-otlp": header(1, 7, len(junk), crc32c(junk)) + junk,
        "other-signal": header(2, nrec, plen, pcrc) + payload,
    }
    placed = {}
    for i, (what, data) in enumerate(bad.items()):
        name = seq_after(1 + i)
        with open(os.path.join(logs, name), "wb") as f:
            f.write(data)
        placed[name] = what
    with open(os.path.join(logs, "README.txt"), "w") as f:
        f.write("an operator's note: not a request\n")
    os.mkdir(os.path.join(logs, seq_after(len(good) - 1)))
    h.log(f"{len(good)} good spool files ({published} records), {len(placed)} bad ones placed "
          f"among them: " + ", ".join(f"{w}={n}" for n, w in placed.items()))

    env.ini["metrics"] = {"export_interval_ms": "300", "host_metrics": "false"}
    env.write_ini()
    env.start_exporter()
    env.start_collector()
    pub = accounting.Published()
    pub.add_count(published)
    tally = pub.tally = accounting.Tally(env)
    deadline = time.time() + 40
    while time.time() < deadline:
        env.check_daemons()
        if tally.update().delivered >= ok and not any(
                n.endswith(".pb") and os.path.isfile(os.path.join(logs, n))
                for n in os.listdir(logs)):
            break
        time.sleep(0.2)
    st = env.wait_status(lambda s: s.get("quarantined_files", 0) >= len(placed), timeout=10)

    def quarantined_metric(pts):
        return any(p["name"] == "shmlog.exporter.requests" and
                   p["attrs"].get("outcome") == "quarantined" and p.get("value") == len(placed)
                   for p in pts)

    pts, met_q = env.wait_metrics(quarantined_metric, timeout=15)
    time.sleep(1.0)
    st = env.status()
    env.check_daemons()
    n0 = len(problems)
    a = accounting.account(env, pub, label)
    accounting.print_account(a)
    problems += a["problems"]
    qdir = os.path.join(env.spool, "quarantine")
    q = sorted(os.listdir(qdir)) if os.path.isdir(qdir) else []
    want_q = sorted(f"logs-{n}" for n in placed)
    if q != want_q:
        problems.append(f"quarantine/ holds {q}, expected {want_q}")
    for n in placed:
        qp = os.path.join(qdir, f"logs-{n}")
        if os.path.exists(qp):
            with open(qp, "rb") as f:
                if f.read() != bad[placed[n]]:
                    problems.append(f"quarantined {placed[n]} file was altered")
    if st.get("quarantined_files") != len(placed):
        problems.append(f"exporter.status quarantined_files={st.get('quarantined_files')}, "
                        f"expected {len(placed)}")
    if not met_q:
        problems.append("self metric shmlog.exporter.requests{outcome=quarantined} never "
                        f"reached {len(placed)}")
    left = sorted(os.listdir(logs))
    if left != sorted(["README.txt", seq_after(len(good) - 1)]):
        problems.append(f"logs/ after the run: {left}")
    lines = [ln for ln in env.exporter.log_text().splitlines() if "moved to" in ln]
    if len(lines) != len(placed):
        problems.append(f"{len(lines)} quarantine lines in the exporter's log, expected "
                        f"{len(placed)}")
    h.log(f"QUARANTINE {label}: placed={len(placed)} quarantined_files="
          f"{st.get('quarantined_files')} in_dir={len(q)} self_metric={'yes' if met_q else 'no'} "
          f"log_lines={len(lines)} sent_requests={st.get('sent_requests')} "
          f"sent_records={st.get('sent_records')}")
    for ln in lines[:len(placed)]:
        h.log("  exporter: " + ln[-160:])
    problems[n0:] = [f"{protocol}: {p}" for p in problems[n0:]]
    env.close()


def test(args):
    problems = []
    for protocol in ("http/protobuf", "http/json"):
        run(args, protocol, problems)
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test)
