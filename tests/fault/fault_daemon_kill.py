#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
fault_daemon_kill.py: the collector and the exporter each SIGKILLed 20
times during a 2,000,000-record run, and restarted (CTest
fault_daemon_kill).

Four `fault_writer fast` processes publish 500,000 records each ("fk TAG I"),
paced to about 30,000 records/s in all, never retrying a record that a
full ring refused (the library drops and counts it). Meanwhile
e2e_metrics_producer processes run one after another (each about 2.7 s,
totals known exactly). The daemons are killed at random intervals of 0.6
to 2.2 s: the collector, the exporter, or both at once, and restarted
after 0.05 to 0.6 s (the collector three times after 2.5 s, so that the
rings fill and records are dropped, counted). Rings are small (16,384
slots) for that reason.

Asserts:
  - every published record delivered at least once, or counted as dropped
    (ring drops from the segment counters, exactly: they also equal the
    producers' own count of refusals plus the metrics producers' retried
    refusals);
  - duplicates bounded: a copy is either a request the exporter sent again
    (same records as an earlier request: at most kills x max_in_flight x
    max_export_batch_size) or a record the restarted collector read again
    because its slot was not yet released (at most kills x the ring
    slots, what the rings can hold); both figures are printed;
  - metrics continue: every series of every metrics producer has one start
    time across the collector restarts and ends at its exact total (points
    the exporter sent twice are removed first, and counted); the agent's
    own cumulative counters never go back within one start time (a
    restarted collector samples them afresh: a reset, new start time);
  - the daemons never exit by themselves.
"""
import collections
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import accounting  # noqa: E402
import faults  # noqa: E402
import harness as h  # noqa: E402

NPROD = 4
PER_PROD = 500_000
PACE_US = 12_000          # per 100 records: about 7,500 records/s per producer
KILLS = 20                # of each daemon
RING_SLOTS = 16384
BATCH = 2048              # [collector] max_export_batch_size
IN_FLIGHT = 4             # [exporter] max_in_flight
LONG_OUTAGES = 3          # collector restarts after 2.5 s (rings fill)


class FkTally(accounting.Tally):
    """Copies per record id in bytearrays (2 M records), and per request a
    signature (count, hash of its ids) to tell the exporter's resends from
    the collector's re-reads."""

    def __init__(self, env, tags):
        super().__init__(env, key=None)
        self.tags = {t: k for k, t in enumerate(tags)}
        self.counts = [bytearray(PER_PROD) for _ in tags]
        self.req_sig = {}  # req -> [n, xor of hash(id)]
        self.dup_ids = set()

    def add(self, rec):
        body = rec.get("body") or ""
        parts = body.split(" ")
        k = self.tags.get(parts[1]) if len(parts) == 3 and parts[0] == "fk" else None
        if k is None or not parts[2].isdigit() or int(parts[2]) >= PER_PROD:
            self.foreign += 1
            if len(self.foreign_sample) < 3:
                self.foreign_sample.append(body[:80])
            return
        i = int(parts[2])
        self.total += 1
        c = self.counts[k]
        if c[i]:
            self.dups += 1
            self.dup_ids.add((k, i))
        else:
            self.delivered += 1
        if c[i] < 255:
            c[i] += 1
        sig = self.req_sig.setdefault(rec["req"], [0, 0])
        sig[0] += 1
        sig[1] ^= hash((k, i, 0x5eed))

    def resent(self):
        """Copies that came in a request identical to an earlier one."""
        seen = collections.Counter((n, x) for n, x in self.req_sig.values())
        return sum((c - 1) * sig[0] for sig, c in seen.items() if c > 1)


def seg_nrings(env):
    """sh_nrings of the segment (shm/ABI.md: u32 at byte 36)."""
    with open(env.seg_path(), "rb") as f:
        hdr = f.read(40)
    return max(1, struct.unpack_from("<I", hdr, 36)[0])


def metrics_check(env, mprods, problems):
    """Series of the metrics producers: dedupe points sent twice, then one
    start time and the exact totals (harness.check_series)."""
    expected = {}
    for pid, mid in mprods:
        for (name, ak), spec in h.expected_metrics(mid).items():
            expected[(pid, name, ak)] = spec

    def dedup(pts):
        seen, out, dups = set(), [], 0
        for p in pts:
            k = h.series_key(p) + (p["time"],)
            if k in seen:
                dups += 1
                continue
            seen.add(k)
            out.append(p)
        return out, dups

    def done(pts):
        by = h.metric_series(dedup(pts)[0])
        return all(not h.final_diffs(h.series_final(by.get(k), spec, "cumulative"), spec)
                   for k, spec in expected.items())

    pts, met = env.wait_metrics(done, timeout=40)
    pts, dups = dedup(pts)
    by = h.metric_series(pts)
    bad = []
    starts = 0
    for k, spec in expected.items():
        p = h.check_series(f"metrics pid {k[0]} {k[1]} {k[2]}", by.get(k, []), spec,
                           "cumulative")
        bad += p
        starts += len({q["start"] for q in by.get(k, [])})
    problems += bad[:20]
    # The agent's own counters (service shmlog) are sampled by the collector
    # from its own and the exporter's totals, which start from zero in a
    # restarted daemon: each restart is a reset with a new start time (OTLP
    # cumulative semantics). Within one start time a counter never goes back.
    back = []
    own = resets = 0
    for k, ps in by.items():
        if not k[1].startswith("shmlog.") or ps[0]["type"] != "sum" or not ps[0].get("monotonic"):
            continue
        own += 1
        runs = collections.defaultdict(list)
        for q in ps:
            runs[q["start"]].append(q.get("value"))
        resets += len(runs) - 1
        for st, vals in runs.items():
            if any(b < a for a, b in zip(vals, vals[1:])):
                back.append(f"{k[1]} {k[2]} (pid {k[0]}) start {st}: {vals[:4]}")
    problems += [f"own counter goes back within one start time: {b}" for b in back[:10]]
    h.log(f"metrics: {len(mprods)} producers, {len(expected)} series checked "
          f"({'all at their totals' if met else 'NOT all at their totals'}), {starts} start "
          f"times, {len(bad)} problems; {dups} points sent twice removed; {own} own counter "
          f"series, {resets} resets at daemon restarts, {len(back)} going back")


def test(args):
    rnd = random.Random(int(os.environ.get("SHMLOG_FAULT_SEED", "0")) or None)
    seed = rnd.randrange(1 << 30)
    rnd.seed(seed)
    h.log(f"seed {seed} (SHMLOG_FAULT_SEED={seed} repeats this schedule)")
    ini = h.metrics_ini("cumulative", 500)
    ini["shm"] = {"ring_slots": str(RING_SLOTS)}
    ini["collector"] = {"max_export_batch_size": str(BATCH)}
    ini["exporter"] = {"max_in_flight": str(IN_FLIGHT), "compression": "none"}
    env = h.Env(args, "fkill", compression="none", ini=ini, receiver_args=("--compact",))
    h.check(os.path.exists(args.fault_writer), f"{args.fault_writer} is missing: build first")
    tags = [f"k{j}" for j in range(NPROD)]
    results = [os.path.join(env.tmp, f"fk{j}.result") for j in range(NPROD)]
    prods = [faults.fast(env, f"fk{j}", tags[j], PER_PROD, PACE_US, results[j], "e2e-fkill")
             for j in range(NPROD)]
    t0 = time.time()

    # The metrics producers, one after another.
    mprods, mresults = [], []
    mcur = None

    def metrics_tick(start_new):
        nonlocal mcur
        if mcur is not None and not mcur[0].running():
            rc = mcur[0].popen.returncode
            h.check(rc == 0, f"metrics producer {mcur[1]} exited {rc}: {mcur[0].log_text()[-300:]}")
            mcur = None
        if mcur is None and start_new:
            mid = len(mprods) + 1
            res = os.path.join(env.tmp, f"m{mid}.result")
            p = env.metrics_producer([mid, res], service="e2e-fkill-m", name=f"m{mid}")
            mprods.append((p.pid, mid))
            mresults.append(res)
            mcur = (p, mid)

    # The kill schedule: 20 of each, some both at once.
    events = []
    kc = ke = 0
    long_left = LONG_OUTAGES
    next_t = 1.0
    log_ev = []
    while kc < KILLS or ke < KILLS:
        now = time.time() - t0
        running = any(p.running() for p in prods)
        metrics_tick(running)
        env.check_daemons()
        if now < next_t:
            time.sleep(0.05)
            continue
        r = rnd.random()
        if kc < KILLS and ke < KILLS and r < 0.2:
            what = "both"
        elif kc < KILLS and (ke >= KILLS or r < 0.6):
            what = "collector"
        else:
            what = "exporter"
        down = rnd.uniform(0.05, 0.6)
        if what != "exporter" and long_left and rnd.random() < 0.25:
            down = 2.5
            long_left -= 1
        if what in ("collector", "both"):
            env.collector.kill9()
            kc += 1
        if what in ("exporter", "both"):
            env.exporter.kill9()
            ke += 1
        time.sleep(down)
        if what in ("collector", "both"):
            env.start_collector()
        if what in ("exporter", "both"):
            env.start_exporter()
        events.append((round(now, 1), what, round(down, 2)))
        log_ev.append(f"{now:.1f}s {what} {down:.2f}s")
        next_t = time.time() - t0 + rnd.uniform(0.6, 2.2)
    h.log(f"{len(events)} kill events, collector {kc}, exporter {ke}, "
          f"both at once {sum(1 for e in events if e[1] == 'both')}, long outages "
          f"{LONG_OUTAGES - long_left}, last at {events[-1][0]}s: " + "; ".join(log_ev))

    for p in prods:
        rc = p.wait(120)
        h.check(rc == 0, f"{p.name} exited with {rc}: {h.read_kv(results[prods.index(p)])}")
    while mcur is not None:
        metrics_tick(False)
        time.sleep(0.05)
    t_prod = time.time() - t0
    res = [h.read_kv(r) for r in results]
    ok = sum(r.get("ok", 0) for r in res)
    refused = sum(r.get("enobufs", 0) for r in res)
    published = ok + refused
    h.check(published == NPROD * PER_PROD and all(r.get("failed") == 0 for r in res),
            f"producer results {res}")
    m_retried = sum(h.read_kv(r).get("enobufs", 0) for r in mresults)
    h.log(f"producers done at {t_prod:.1f}s: published {published}, refused by full rings "
          f"{refused}; metrics producers {len(mprods)}, their retried refusals {m_retried}")

    # Drain: everything not dropped must arrive.
    tally = FkTally(env, tags)
    deadline = time.time() + 60
    last, t_last = -1, time.time()
    while time.time() < deadline:
        tally.update()
        if tally.delivered >= ok:
            break
        if tally.delivered != last:
            last, t_last = tally.delivered, time.time()
        elif time.time() - t_last > 15:
            break
        env.check_daemons()
        time.sleep(0.5)
    env.wait_status(lambda st: st.get("spool_files") == 0, timeout=10)
    time.sleep(1.0)
    tally.update()
    h.log(f"drained at {time.time() - t0:.1f}s: {tally.total} records received, "
          f"{tally.delivered} distinct, {tally.foreign} foreign")

    problems = []
    seg = env.seg_counters()
    pub = accounting.Published()
    pub.add_count(published)
    pub.tally = tally
    a = accounting.account(env, pub, "daemon_kill", allow_dups=True, ring_retried=m_retried)
    accounting.print_account(a)
    problems += a["problems"]  # also: records that no producer wrote (foreign)
    if a["drops"]["ring"] != refused:
        problems.append(f"ring drops in the segment ({seg.get('ring_drops')} - {m_retried} "
                        f"retried = {a['drops']['ring']}) != refusals the producers saw "
                        f"({refused})")
    resent = tally.resent()
    reread = tally.dups - resent
    b_exp = KILLS * IN_FLIGHT * BATCH
    nrings = seg_nrings(env)
    b_col = KILLS * nrings * RING_SLOTS
    h.log(f"duplicates: {tally.dups} copies of {len(tally.dup_ids)} records; in requests sent "
          f"again by a restarted exporter {resent} (bound {KILLS} kills x {IN_FLIGHT} in flight "
          f"x {BATCH} = {b_exp}); read again by a restarted collector {reread} (bound {KILLS} "
          f"kills x {nrings} rings x {RING_SLOTS} slots = {b_col})")
    if resent > b_exp:
        problems.append(f"{resent} records resent by the exporter, above the bound {b_exp}")
    if reread > b_col:
        problems.append(f"{reread} records read again by the collector, above the bound {b_col}")
    h.log(f"segment {seg}; exporter {env.status()}")

    metrics_check(env, mprods, problems)
    env.check_daemons()
    faults.finish(problems)


if __name__ == "__main__":
    h.main(test)
