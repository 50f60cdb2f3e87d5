#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
test_audit.py: audit events and the producer identity check (CTest
e2e_audit), everything decoded by receiver.js (OpenTelemetry JS):
- a preloaded producer attaches and exits: shmlog.producer.attached
  (verified) and .detached with its pid, uid, executable and slot, INFO,
  under the agent's own resource;
- forged producers (workloads/forge_producer.c writes the producer table
  by hand) claiming the receiver's pid with a false start time, or with a
  false uid, are refused once each (WARN, with the reason) and none of
  their records arrive; a pid /proc does not show is accepted unverified
  (its records arrive) while [collector] unverifiable_producers = accept;
- garbage records in a ring give shmlog.records.invalid events whose
  counts add up to exactly what was written, at most one per ring per
  [collector] audit_interval_ms;
- SIGHUP reloads the file: shmlog.config.reloaded (result ok, the keys
  changed; a header value never shows), the new unverifiable_producers =
  refuse applies at once; a broken file gives result error with the
  parser's line, and the collector keeps running on the old configuration;
- a receiver answering 401 then 403 gives shmlog.exporter.auth_failed
  events (delivered once it answers 200 again) counting both, with the
  endpoint redacted (no userinfo);
- the self metrics count the refused records and producers exactly.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

N_FORGED = 20
N_GARBAGE = 50
N_GARBAGE2 = 10
N_VALID = 5
INTERVAL_MS = 1000


def start_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return int(s[s.rindex(")") + 2:].split()[19])


def absent_pid():
    for pid in range(4194000, 3000000, -1):
        if not os.path.exists(f"/proc/{pid}"):
            return pid
    raise h.Fail("no free pid found")


def events(env, name, pred=None):
    return [r for r in env.records()
            if r["attrs"].get("event.name") == name and (pred is None or pred(r))]


def wait_events(env, name, pred=None, n=1, timeout=30):
    deadline = time.time() + timeout
    while True:
        got = events(env, name, pred)
        if len(got) >= n:
            return got
        env.check_daemons()
        h.check(time.time() < deadline,
                f"{n} {name} event(s) not received in {timeout}s (got {len(got)})")
        time.sleep(0.1)


def check_agent_event(r, name, sev):
    h.check(r["service"] == "shmlog" and set(r["resource"]) == {"service.name", "host.name"},
            f"{name}: not under the agent's own resource: {r['resource']}")
    h.check(r["sev"] == sev and r["sevText"] == ("INFO" if sev == 9 else "WARN"),
            f"{name}: severity {r['sev']} {r['sevText']!r}, expected {sev}")
    h.check(isinstance(r["body"], str) and r["body"], f"{name}: no body")


def forge(env, args, name="forge"):
    p = env.spawn(name, [env.args.forge_producer] + [str(a) for a in args])
    rc = p.wait(30)
    h.check(rc == 0, f"forge_producer {args[0]} failed ({rc}): {p.log_text()}")
    return p


def blocked_producer(env, name, line):
    """A preloaded python that prints line and waits for its stdin to close."""
    penv = env.producer_env(service="e2e-audit")
    return env.spawn(name, [sys.executable, "-c",
                            f"import sys; print({line!r}, flush=True); sys.stdin.read()"],
                     env=penv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)


def finish(p):
    p.popen.stdin.close()
    h.check(p.wait(15) == 0, f"{p.name} failed")


def sighup(env):
    os.kill(env.collector.pid, signal.SIGHUP)


def test(args):
    env = h.Env(args, "audit", start_daemons=False,
                ini={"collector": {"audit_events": "true",
                                   "audit_interval_ms": str(INTERVAL_MS)},
                     "metrics": {"export_interval_ms": "500", "host_metrics": "false"}})
    port = env.port
    # userinfo in the endpoint: it must never appear in an event
    env.ini["exporter"]["endpoint"] = f"http://audituser:auditpw@127.0.0.1:{port}"
    env.write_ini()
    env.start_collector()
    env.start_exporter()
    uid = os.getuid()

    # 1. attached and detached
    p = blocked_producer(env, "attach", "audit-hello")
    att = wait_events(env, "shmlog.producer.attached", lambda r: r["attrs"]["process.pid"] == p.pid)
    h.check(len(att) == 1, f"{len(att)} attached events for pid {p.pid}")
    a = att[0]
    check_agent_event(a, "attached", 9)
    at = a["attrs"]
    h.check(at["process.real_user.id"] == uid, f"attached: uid {at['process.real_user.id']}")
    h.check(at["shmlog.producer.verified"] is True, f"attached: not verified: {at}")
    h.check(str(at["process.executable.name"]).startswith("python"), f"attached: exe {at}")
    h.check(isinstance(at["shmlog.producer.slot"], int), f"attached: slot {at}")
    h.check(str(p.pid) in a["body"], f"attached: body {a['body']!r}")
    env.wait_records(1, timeout=20, settle=0, pred=lambda r: r["body"] == "audit-hello")
    finish(p)
    det = wait_events(env, "shmlog.producer.detached", lambda r: r["attrs"]["process.pid"] == p.pid)
    check_agent_event(det[0], "detached", 9)
    h.check(det[0]["attrs"]["shmlog.producer.slot"] == at["shmlog.producer.slot"],
            f"detached: slot {det[0]['attrs']} vs attached {at}")
    h.log(f"attached/detached: pid {p.pid} slot {at['shmlog.producer.slot']}")

    # 2. forged identities: the receiver's pid with a false start time, or
    # with a false uid; then a pid that /proc does not show (accepted)
    rx = env.receiver.pid
    st = start_ticks(rx)
    forge(env, ["forge", env.ns, rx, uid, st + 1, N_FORGED, "forgedstart"])
    forge(env, ["forge", env.ns, rx, uid + 1, st, N_FORGED, "forgeduid"])
    ghost = absent_pid()
    forge(env, ["forge", env.ns, ghost, uid, 12345, N_FORGED, "ghostok"])
    ref = wait_events(env, "shmlog.producer.refused", n=2,
                      pred=lambda r: r["attrs"]["process.pid"] == rx)
    reasons = {r["attrs"]["process.executable.name"]: r["attrs"].get("shmlog.reason", "")
               for r in ref}
    for r in ref:
        check_agent_event(r, "refused", 13)
        h.check(r["attrs"]["shmlog.producer.verified"] is False, f"refused: {r['attrs']}")
    h.check("started at tick" in reasons.get("forgedstart", ""), f"reasons: {reasons}")
    h.check("runs as uid" in reasons.get("forgeduid", ""), f"reasons: {reasons}")
    got = env.wait_records(N_FORGED, timeout=30, settle=0,
                           pred=lambda r: r["body"].startswith("ghostok "))
    h.check(len(got) >= N_FORGED, f"unverified producer: {len(got)} of {N_FORGED} records")
    gatt = events(env, "shmlog.producer.attached", lambda r: r["attrs"]["process.pid"] == ghost)
    h.check(len(gatt) == 1 and gatt[0]["attrs"]["shmlog.producer.verified"] is False
            and "not visible" in gatt[0]["attrs"].get("shmlog.reason", ""),
            f"unverified producer's attached event: {gatt}")
    h.log(f"refused: {reasons}")

    # 3. garbage records: invalid events with exact counts, rate-limited.
    # A second burst right after the first event must wait for the
    # interval, and comes as one event with its own count.
    def wait_invalid(want):
        deadline = time.time() + 30
        while True:
            inv = events(env, "shmlog.records.invalid")
            total = sum(r["attrs"]["shmlog.records.count"] for r in inv)
            if total >= want or time.time() > deadline:
                return inv, total
            time.sleep(0.2)

    forge(env, ["garbage", env.ns, N_GARBAGE, N_VALID], name="garbage")
    env.wait_records(N_VALID, timeout=30, settle=0, pred=lambda r: r["body"].startswith("valid "))
    inv, total = wait_invalid(N_GARBAGE)
    h.check(total == N_GARBAGE, f"invalid events count {total} records, {N_GARBAGE} were written")
    for _ in range(3):
        forge(env, ["garbage", env.ns, N_GARBAGE2, 0], name="garbage")
    inv, total = wait_invalid(N_GARBAGE + 3 * N_GARBAGE2)
    h.check(total == N_GARBAGE + 3 * N_GARBAGE2,
            f"invalid events count {total} records, {N_GARBAGE + 3 * N_GARBAGE2} were written")
    h.check(len(inv) >= 2, f"the bursts after the first event came in it: {len(inv)} events")
    by_ring = {}
    for r in inv:
        check_agent_event(r, "invalid", 13)
        by_ring.setdefault(r["attrs"]["shmlog.ring"], []).append(int(r["observed"]))
    for ring, ts in by_ring.items():
        ts.sort()
        for a_, b_ in zip(ts, ts[1:]):
            h.check(b_ - a_ >= (INTERVAL_MS - 100) * 1000000,
                    f"ring {ring}: two invalid events {(b_ - a_) / 1e6:.0f} ms apart")
    h.log(f"invalid: {len(inv)} events, counts {[r['attrs']['shmlog.records.count'] for r in inv]}")

    # 4. SIGHUP: a good file, then a broken one
    env.ini["log"]["level"] = "debug"
    env.ini["collector"]["unverifiable_producers"] = "refuse"
    env.ini["exporter"]["headers"] = "api-key=SECRETVALUE42"
    env.write_ini()
    sighup(env)
    rel = wait_events(env, "shmlog.config.reloaded",
                      lambda r: r["attrs"]["shmlog.config.result"] == "ok")
    check_agent_event(rel[0], "reloaded", 9)
    ra = rel[0]["attrs"]
    h.check(ra["shmlog.config.file"] == env.ini_path, f"reloaded: {ra}")
    h.check(set(ra["shmlog.config.changed"].split(",")) ==
            {"log.level", "collector.unverifiable_producers"}, f"reloaded: changed {ra}")
    h.check(ra["shmlog.config.restart_required"] == "", f"reloaded: {ra}")
    ghost2 = absent_pid()
    forge(env, ["forge", env.ns, ghost2, uid, 12345, N_FORGED, "ghostrefused"])
    ref2 = wait_events(env, "shmlog.producer.refused",
                       lambda r: r["attrs"]["process.pid"] == ghost2)
    h.check("not visible" in ref2[0]["attrs"].get("shmlog.reason", ""), f"refused: {ref2}")

    env.write_ini(extra_lines=["nonsense_key = 3"])
    sighup(env)
    bad = wait_events(env, "shmlog.config.reloaded",
                      lambda r: r["attrs"]["shmlog.config.result"] == "error")
    check_agent_event(bad[0], "reload error", 13)
    msg = bad[0]["attrs"].get("error.message", "")
    h.check("unknown key 'nonsense_key'" in msg and msg.startswith(env.ini_path), f"error: {msg!r}")
    env.check_daemons()
    clog = env.collector.log_text()
    errs = [ln for ln in clog.splitlines() if "nonsense_key" in ln and ": error: " in ln]
    h.check(len(errs) == 1 and "keeping the running configuration" in errs[0],
            f"collector log about the bad file: {errs}")
    h.check(": debug: " in clog, "log.level = debug was not applied live")
    # still running, on the old configuration (debug level, refuse stays)
    p = blocked_producer(env, "after", "after-bad-reload")
    env.wait_records(1, timeout=20, settle=0, pred=lambda r: r["body"] == "after-bad-reload")
    finish(p)
    h.check("SECRETVALUE42" not in clog, "a header value in the collector's log")
    h.log(f"reloaded: {ra['shmlog.config.changed']}; error: {msg}")

    # 5. authentication failures: a 401, then (once its event arrived) a
    # 403; each step's plan is one answer, so the event reporting it goes
    # out after the plan is spent and is answered 200
    auth = []
    for i, code in enumerate((401, 403)):
        env.set_plan(str(code))
        p = blocked_producer(env, f"probe{i}", f"auth-probe-{i}")
        st_ = env.wait_status(lambda s: s.get("auth_failures", 0) >= i + 1, timeout=30)
        finish(p)
        h.check(st_.get("auth_failures") == i + 1 and st_.get("last_auth_status") == code,
                f"exporter.status after the {code}: {st_}")
        auth = wait_events(env, "shmlog.exporter.auth_failed", n=i + 1)
    h.check(len(auth) == 2, f"{len(auth)} auth_failed events, expected 2: {auth}")
    for r, code in zip(auth, (401, 403)):
        check_agent_event(r, "auth_failed", 13)
        at = r["attrs"]
        h.check(at["http.response.status_code"] == code and
                at["shmlog.exporter.auth_failures"] == 1, f"auth_failed: {at}")
        h.check(at["url.full"].startswith(f"http://127.0.0.1:{port}/"), f"auth_failed: {at}")
    h.check(auth[1]["attrs"]["shmlog.exporter.auth_failures.total"] == 2, f"auth_failed: {auth}")
    h.check("auditpw" not in json.dumps(env.records()), "the endpoint's password was exported")
    h.log(f"auth_failed: {len(auth)} events, codes "
          f"{[r['attrs']['http.response.status_code'] for r in auth]}")

    # 6. nothing of the refused producers arrived; counted exactly
    want_refused = 3 * N_FORGED

    def figure(pts, name):
        vals = [pt["value"] for pt in pts if pt["name"] == name and pt["service"] == "shmlog"]
        return max(vals) if vals else None

    pts, ok = env.wait_metrics(lambda pts: figure(pts, "shmlog.records.refused") == want_refused
                               and figure(pts, "shmlog.producers.refused") == 3, timeout=30)
    h.check(ok, f"self metrics: records.refused {figure(pts, 'shmlog.records.refused')} "
                f"(want {want_refused}), producers.refused "
                f"{figure(pts, 'shmlog.producers.refused')} (want 3)")
    recs = env.records()
    leaked = [r for r in recs if r["body"].startswith(("forgedstart", "forgeduid", "ghostrefused"))]
    h.check(not leaked, f"{len(leaked)} records of refused producers arrived: {leaked[:3]}")
    for tag in ("forgedstart", "forgeduid"):
        n = len(events(env, "shmlog.producer.refused",
                       lambda r: r["attrs"]["process.executable.name"] == tag))
        h.check(n == 1, f"{n} refused events for {tag}")
    h.log(f"figures: records {len(recs)}, refused records {want_refused} (metric), "
          f"refused producers 3, leaked 0")


def extra(ap):
    ap.add_argument("--forge-producer", required=True)


if __name__ == "__main__":
    h.main(test, extra)
