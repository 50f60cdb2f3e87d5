#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_hostile.py (issue 4, item 3): a hostile producer
(workloads/hostile_producer.c) writes random bytes at full speed into ring
slots and control words of every ring, the producer table and the metric
dictionary for about 20 s, while honest producers run: a preloaded bash loop
(workloads/shell_loop.sh), e2e_api_producer (API records and printf lines)
and, in the second half, e2e_metrics_producer.

Asserted, with the build's collector (in build-asan, by ./build.sh test,
the ASan+UBSan one, with the release libshmlog for producers):
  - the collector never crashes (same pid, running, its segment pid the
    same) and never hangs: its heartbeat advances, and honest records keep
    arriving during the attack (never more than STALL_S without one);
  - no garbage is exported: every record of an honest producer's resource
    is one of the bodies it wrote, and no honest body is on any other
    resource (what is there is the hostile's: it may log what it likes in
    its own name; counted); no request carries invalid UTF-8 (receiver.js
    checks strictly);
  - the accounting: honest published = delivered + ring drops (counted by
    the library) + records lost to the attack, where the records lost to
    the attack are at most the growth of the collector's invalid, abandoned
    and refused counts (a garbage control word over an honest record loses
    that record and is counted invalid; the collector cannot tell which
    invalid slot held which record, so this is the exact bound);
  - the invalid counter grew (the attack was seen and refused);
  - the honest metric series are exact (the second half of the attack
    spares control words, so that no honest metric record is lost; the
    dictionary damage and the hostile's metric records naming any series
    go on), and no e2e.* series is on a resource other than the metrics
    producer's and the hostile's own (which may add to any series id).
No ASan report in the collector's log.
"""
import collections
import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import accounting as acct  # noqa: E402

ATTACK_S = 20.0
STALL_S = 5.0
SHELL_N = 12000  # lines of shell_loop.sh, paced: 0.5 s every 1000
API_N = 6000
SERVICE = "fault-honest"
MSERVICE = "fault-honest-metrics"


def extra_args(ap):
    ap.add_argument("--hostile", required=True)
    ap.add_argument("--seed", type=lambda s: int(s, 0), default=None)
    ap.add_argument("--only", default=None, help="attacks of the first half (debugging)")


def seg_words(env):
    """(heartbeat_ns, collector_pid) of the segment header, or (None, None)."""
    try:
        with open(env.seg_path(), "rb") as f:
            hdr = f.read(144)
        return struct.unpack_from("<QI", hdr, 128)
    except (OSError, struct.error):
        return None, None


def run_case(args, label, collector_bin, seed):
    ini = h.metrics_ini("cumulative", 300)
    env = h.Env(args, "hostile-" + label, ini=ini, start_daemons=False)
    try:
        return _run(env, label, collector_bin, seed)
    finally:
        env.close()


def _run(env, label, collector_bin, seed):
    denv = env.daemon_env()
    denv["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:halt_on_error=1"
    denv["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    env.collector = env.spawn("collector", [collector_bin, "-c", env.ini_path], env=denv)
    env.wait_segment()
    env.start_exporter()
    cpid = env.collector.pid
    before = env.seg_counters()

    tag = "hs" + label
    shell = env.producer("shell", ["bash", os.path.join(h.WORKLOADS, "shell_loop.sh"), tag,
                                   str(SHELL_N), "0.5"], service=SERVICE)
    api_res = os.path.join(env.tmp, "api.result")
    api = env.producer("api", [env.api_producer(), "run", tag, str(API_N), "0", "3000", api_res],
                       service=SERVICE)
    hostile_log = os.path.join(env.tmp, "hostile.out")

    def hostile(seconds, only=None):
        e = env.base_env()
        if only:
            e["SHMLOG_HOSTILE_ONLY"] = only
        return env.spawn("hostile", [env.args.hostile, env.ns, str(seconds), hex(seed)], env=e,
                         stdout=open(hostile_log, "ab"), stderr=None)

    h.log(f"{label}: hostile seed {seed:#x}, {ATTACK_S:.0f} s: every attack, then no ctl words")
    hs = [hostile(ATTACK_S / 2, env.args.only)]
    t0 = time.time()
    last_n, last_t, max_gap = 0, t0, 0.0
    last_hb, hb_t, max_hb_gap = None, t0, 0.0
    metrics = None
    m_exit = None
    honest = lambda r: r.get("service") == SERVICE  # noqa: E731
    while time.time() - t0 < ATTACK_S or metrics is None:
        time.sleep(0.25)
        now = time.time()
        if metrics is None and not hs[0].running():
            # The control-word attack is over (it may destroy honest
            # records, metric ones too): the metrics producer starts now.
            hs.append(hostile(ATTACK_S / 2, "record,slots,table,dict"))
            mres = os.path.join(env.tmp, "mp.result")
            metrics = (env.metrics_producer([1, mres], service=MSERVICE), mres)
        if metrics is not None and m_exit is None and metrics[0].popen.poll() is not None:
            m_exit = time.time_ns()
        h.check(env.collector.running(), f"the collector died under attack: "
                f"{env.collector.log_text()[-3000:]}")
        hb, spid = seg_words(env)
        h.check(spid == cpid, f"segment collector pid {spid}, expected {cpid}")
        if hb != last_hb:
            last_hb, hb_t = hb, now
        max_hb_gap = max(max_hb_gap, now - hb_t)
        n = sum(1 for r in env.records() if honest(r))
        if n != last_n:
            last_n, last_t = n, now
        elif shell.running() or api.running():
            max_gap = max(max_gap, now - last_t)
    for p in hs:
        p.wait(30)
    hpids = set()
    with open(hostile_log) as f:
        lines = [line.strip() for line in f]
    h.log(f"{label}: hostile: " + " | ".join(lines))
    for line in lines:
        if line.startswith("hostile pid="):
            hpids.add(int(line.split()[1].split("=")[1]))
    h.check(max_hb_gap <= STALL_S, f"the collector's heartbeat stood still for {max_hb_gap:.1f} s")
    h.check(max_gap <= STALL_S, f"no honest record arrived for {max_gap:.1f} s during the attack")
    h.log(f"{label}: longest wait for an honest record {max_gap:.2f} s, heartbeat {max_hb_gap:.2f} s")

    for p, what in ((shell, "shell_loop.sh"), (api, "e2e_api_producer"), (metrics[0], "metrics")):
        rc = p.wait(60)
        h.check(rc == 0, f"{what} exited with {rc}: {p.log_text()[-500:]}")
        if p is metrics[0] and m_exit is None:
            m_exit = time.time_ns()

    # What the honest producers published.
    pub = [b for _, b in h.expected_shell(tag, SHELL_N)]
    ar = h.read_kv(api_res)
    pub += [h.expected_api_record(tag, "p", i)["body"] for i in range(API_N)]
    pub += [b for who, _, b in h.expected_api_stdio(tag, API_N, 0) if who == "p"]
    want = collections.Counter(pub)
    env.wait_records(len(pub), timeout=40, pred=honest, settle=1.5, stall=8)

    # Metrics: the end state, exported at least 1 s after the producer exited.
    mp = metrics[0]
    mr = h.read_kv(metrics[1])
    expected = {(mp.pid, name, ak): spec for (name, ak), spec in
                h.expected_metrics(1, mr.get("neg_refused", 0) > 0).items()}
    after = m_exit + 1_000_000_000

    def done(pts):
        by = h.metric_series(pts)
        exact = all(not h.final_diffs(h.series_final(by.get(k, []), spec, "cumulative"), spec)
                    for k, spec in expected.items())
        late = all(k in by and int(by[k][-1]["time"]) >= after for k in expected)
        return exact or late
    pts, met = env.wait_metrics(done, timeout=30, settle=1.0)

    h.check(env.collector.running() and env.collector.pid == cpid, "the collector died")
    env.collector.stop()
    rc = env.collector.popen.returncode
    clog = env.collector.log_text()
    h.check("AddressSanitizer" not in clog and "runtime error" not in clog,
            "sanitizer report in the collector's log: " + clog[-4000:])
    h.check(rc == 0, f"the collector exited with {rc} on SIGTERM: {clog[-2000:]}")
    after_c = env.seg_counters() or {}

    # Garbage: every honest record must be one the honest producers wrote.
    recs = env.records()
    problems = []
    bad = [r for r in recs if honest(r) and (r.get("body") or "") not in want]
    if bad:
        problems.append(f"{len(bad)} records on the honest resource that no honest producer "
                        f"wrote, e.g. {[r.get('body', '')[:80] for r in bad[:3]]}")
    # The hostile may log what it likes in its own name (whatever its
    # scribbled entry says); an honest record must never be on its resource.
    own = [r for r in recs if not honest(r)]
    moved = [r for r in own if (r.get("body") or "") in want]
    if moved:
        problems.append(f"{len(moved)} honest records on another resource, e.g. "
                        f"{[(r.get('service'), r.get('pid'), r.get('body')) for r in moved[:3]]}")
    if h.bad_utf8_requests(env):
        problems.append(f"{len(h.bad_utf8_requests(env))} requests carried invalid UTF-8")
    h.log(f"{label}: records on the hostile's own resource: {len(own)}")

    # Metrics exact; nothing under an honest name on another resource.
    by = h.metric_series(pts)
    if not met:
        problems.append("the honest metrics' end state did not arrive within 30 s (neither "
                        "exact nor exported 1 s after the producer's exit)")
    # A metric record whose slots the garbage hit before the drain is lost
    # (counted invalid: the collector cannot tell whose it was), so an
    # honest series may fall short; it must never exceed what was
    # published (garbage added under an honest name) nor lose its point.
    short = []
    for k, spec in sorted(expected.items()):
        fin = h.series_final(by.get(k, []), spec, "cumulative")
        d = h.final_diffs(fin, spec)
        if not d:
            continue
        f = "count" if spec["kind"] == "histogram" else "value"
        if fin is None or fin.get(f) is None or fin[f] > spec[f]:
            problems.append(f"honest metric {k[1]} {k[2]}: {d}")
        else:
            short.append(f"{k[1]} {k[2]}: {d[0]}")
    if short:
        h.log(f"{label}: honest metric series short after slot garbage: {short}")
    # The hostile may add to any series id in its own name: such points are
    # on its own resource (its pid), never on an honest producer's.
    stray = [k for k in by if k[1].startswith("e2e.") and k[0] != mp.pid]
    if [k for k in stray if k[0] not in hpids]:
        problems.append(f"e2e.* series on resources that are not the metrics producer's: "
                        f"{[k for k in stray if k[0] not in hpids][:3]}")
    h.log(f"{label}: e2e.* series on the hostile's own resource: {len(stray)}")
    nexact = sum(1 for k, spec in expected.items()
                 if not h.final_diffs(h.series_final(by.get(k, []), spec, "cumulative"), spec))
    h.log(f"{label}: honest metric series exact: {nexact} of {len(expected)}")

    # Accounting.
    grown = {c: after_c.get(c, 0) - before.get(c, 0) for c in ("invalid", "abandoned")}
    # Refused records (identity check) are the agent's own metric.
    refused = max((p.get("value") or 0 for p in pts if p["name"] == "shmlog.records.refused"),
                  default=0)
    honest_recs = [r for r in recs if honest(r) and (r.get("body") or "") in want]
    # The ring drops of the honest log records: the API producer and the
    # metrics producer retry a refused call, and every refusal is counted
    # in rh_drops, so theirs are not records lost (both count them).
    retried = ar.get("enobufs", 0) + mr.get("enobufs", 0)
    ring_logs = env.seg_counters().get("ring_drops", 0) - retried
    published = acct.Published()
    published.add_bodies(pub)
    base = acct.account(env, published, label, records=honest_recs,
                        counted={"ring": ring_logs, "invalid": 0})
    lost = base["published"] - base["delivered"] - ring_logs
    bound = grown["invalid"] + grown["abandoned"] + refused
    acc = acct.account(env, published, f"hostile-{label}", records=honest_recs,
                       counted={"ring": ring_logs, "invalid": max(lost, 0)})
    acct.print_account(acc)
    h.log(f"{label}: collector counted invalid +{grown['invalid']}, abandoned "
          f"+{grown['abandoned']}, refused {refused}; honest records lost to the attack {lost}; "
          f"refusals retried by the API and metrics producers {retried}")
    h.check(grown["invalid"] > 0, "the collector counted no invalid record: was it attacked?")
    if lost < 0:
        problems.append(f"{-lost} more honest records delivered than published minus drops")
    if lost > bound:
        problems.append(f"{lost} honest records lost beyond the ring drops, more than the "
                        f"{bound} records the collector counted invalid/abandoned/refused")
    if acc["duplicates"]:
        problems.append(f"{acc['duplicates']} duplicate honest records (no daemon was killed)")
    problems += [p for p in acc["problems"] if "duplicate" not in p]
    h.check(not problems, "; ".join(problems))
    return acc


def test(args):
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    collector = os.path.join(os.path.abspath(args.build), "bin", "shmlog-collector")
    # build.sh test runs this in build-asan too, where the collector is
    # the ASan+UBSan one (and the producers use the release libshmlog).
    with open(collector, "rb") as f:
        label = "asan" if b"__asan_init" in f.read() else "release"
    run_case(args, label, collector, seed)


if __name__ == "__main__":
    h.main(test, extra_args)
