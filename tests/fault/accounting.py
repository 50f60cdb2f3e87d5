# SPDX-License-Identifier: MIT
"""
accounting.py: the record accounting of the fault suite (tests/fault/,
issue 4): the invariant every fault test checks,

    delivered_unique + dropped_counted == published

and the one line each test prints per case:

    ACCOUNT <case>: published=N delivered=N dropped_counted=N (ring=N dict=N
    spool=N export=N invalid=N) duplicates=N missing=N [extra=N ...]

Definitions (tests/fault/README.md says the same):
  published        records the test's producers handed to the library and
                   the library accepted or counted as dropped: a call that
                   returned 0 or -ENOBUFS (ring full, producer table full).
                   A call refused otherwise (-ENOTCONN: no collector) is not
                   published. A producer SIGKILLed inside a call published
                   that turn's record exactly when it arrived; a record
                   claimed but never finished is neither published nor
                   dropped: the collector counts it as abandoned
                   (sh_abandoned, an extra field).
  delivered        distinct published records the receiver decoded in a 2xx
                   answer (receiver.js, the OpenTelemetry JS packages), less
                   what the receiver said it rejected in a partial success
                   (Published.receiver_rejected).
  dropped_counted  what the agent itself counted as lost (agent_drops()):
                   ring = the rings' rh_drops (ring full) + sh_drop_noprod
                   (producer table full), minus ring_retried (refusals a
                   producer retried: not lost); dict = sh_dict_full; spool
                   = sh_spool_dropped_records; export = exporter.status
                   dropped_records + rejected_records; invalid = sh_invalid.
                   Global to the segment and spool: published must cover
                   every producer of the Env, or the Published takes a
                   baseline (Published(env)) and the figures are deltas.
  duplicates       copies beyond the first; a problem unless allow_dups (a
                   daemon was killed with requests in flight).
  missing          published - delivered - dropped_counted (0 when it holds).

Three ways of knowing what was published, one Published per case:
  add_writer(tag, state, killed=False), add_known(tag, n)
        fault_writer "fw TAG I ..." bodies (workloads/fault_writer.c, its
        state file; or any producer that wrote fw_body(tag, 0 .. n-1)).
        Records are keyed (tag, i); every received record must be one of
        them: a torn, partial or foreign body, or a turn beyond what its
        producer published, is a problem.
  add(pid, body), add_shell(pid, tag, n)
        known (pid, body) pairs (unique); records that are not among them
        (earlier cases in the same Env) are ignored.
  add_bodies(list)  a list of distinct bodies (add_count keyed by body)
  add_count(n, key=default_key)
        a count (e.g. fault_writer fast's ok + enobufs) and a key function
        rec -> hashable (default (pid, time, body)), or None for a record
        that is not ours (counted as foreign: a problem), or IGNORE for a
        record of another case of the same Env (not counted).
Published(env) snapshots the drop counters now: account() reports deltas.

API:
  pub = Published([env])                  # env: a baseline (deltas)
  pub.add_writer(...) / add(...) / add_count(...)
  acc = account(env, pub, "case", allow_dups=False, ring_retried=0,
                records=None, counted=None)  # records: several receivers;
                                             # counted: drops attributed by the test
  print_account(acc)                      # the ACCOUNT line
  problems += acc["problems"]             # [] when everything held
  settle(env, pub, "case", timeout)       # waits, accounts, prints, fails
acc holds case, published, delivered, dropped_counted, drops (by cause),
duplicates, missing, foreign, extra (printed after missing: abandoned,
...), problems, and tally: the Tally that read the receiver's records
(copies: key -> count) -- reused by the next account() of the same
Published, so large runs are read incrementally. by_tag(acc) gives the
turns received per fault_writer tag. A test with its own compact store
subclasses Tally (override add()) and passes it as Published.tally.
"""
import collections
import json
import os
import re
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness as h  # noqa: E402

FW_MAGIC = 0x31574654  # workloads/fault_writer.c
FW_STATE = struct.Struct("<IIII QQQQQ II QII")  # first 80 bytes of struct fw_state
_FW_RE = re.compile(r"fw (\S+) (\d+) ([a-z]*)")


def fw_body(tag, i):
    """The body fault_writer writes at turn i (fw_line())."""
    plen = (i * 37) % 600
    return f"fw {tag} {i} " + "".join(chr(ord("a") + (i + k) % 26) for k in range(plen))


def read_state(path):
    """A fault_writer state file as a dict (empty when it is not valid yet)."""
    try:
        with open(path, "rb") as f:
            b = f.read(128)
    except FileNotFoundError:
        return {}
    if len(b) < FW_STATE.size:
        return {}
    (magic, pid, attached, quit_, started, done, ok, enobufs, refused, finished, last_err,
     claim_pos, claim_ring, claimed) = FW_STATE.unpack_from(b, 0)
    if magic != FW_MAGIC:
        return {}
    return dict(pid=pid, attached=attached, quit=quit_, started=started, done=done, ok=ok,
                enobufs=enobufs, refused=refused, finished=finished, last_err=last_err,
                claim_pos=claim_pos, claim_ring=claim_ring, claimed=claimed)


def set_quit(path):
    """Tells a running fault_writer to finish (quit word at byte 12)."""
    with open(path, "r+b") as f:
        f.seek(12)
        f.write(struct.pack("<I", 1))


def state_path(env, tag):
    """Where a fault_writer of this tag keeps its state file."""
    return os.path.join(env.tmp, f"fw-{tag}.state")


def default_key(rec):
    return (rec.get("pid"), rec.get("time"), rec.get("body"))


FOREIGN = object()  # a key function's answer for a record that is not ours
IGNORE = object()   # add_count key: a record of another case (not counted)


class Tally:
    """The receiver's accepted log records (env.out), read incrementally
    by update(): copies maps key(record) -> number of copies; a key of
    None is ignored, FOREIGN counted in foreign (first bodies kept in
    foreign_sample). delivered = distinct keys, dups = copies beyond the
    first, total = records counted. Subclass it and override add() for a
    more compact store (then keep delivered, dups, total, foreign)."""

    def __init__(self, env, key=default_key):
        self.env = env
        self.key = key
        self.off = 0
        self.copies = {}
        self.delivered = 0
        self.dups = 0
        self.total = 0
        self.foreign = 0
        self.foreign_sample = []

    def add(self, rec):
        k = self.key(rec)
        if k is None:
            return
        if k is FOREIGN:
            self.foreign += 1
            if len(self.foreign_sample) < 3:
                self.foreign_sample.append((rec.get("body") or "")[:80])
            return
        self.total += 1
        n = self.copies.get(k, 0)
        self.copies[k] = n + 1
        if n:
            self.dups += 1
        else:
            self.delivered += 1

    def update(self):
        try:
            with open(self.env.out, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self
        end = data.rfind(b"\n")
        if end < 0:
            return self
        for line in data[:end].split(b"\n"):
            if line:
                self.add(json.loads(line))
        self.off += end + 1
        return self


class Published:
    """What the producers of one case published (see the module's
    docstring for the three ways); Published(env) takes a counter
    baseline. Use one way per Published."""

    def __init__(self, env=None):
        self.done = {}       # fw tag -> turns whose call returned (all published)
        self.inflight = {}   # fw tag -> the turn a killed writer died in
        self.refused = {}    # fw tag -> turns refused (not published; 0 normally)
        self.bodies = collections.Counter()  # (pid, body) -> times written
        self.count = 0       # add_count()
        self.count_key = None
        self.receiver_rejected = 0
        self.tally = None
        self.base = agent_drops(env)[0] if env is not None else None

    # fault_writer tags
    def add_writer(self, tag, state_path, killed=False):
        """Adds a writer from its state file; killed: SIGKILLed, so a turn
        in flight (started > done) may or may not have been published.
        Returns the state."""
        st = read_state(state_path)
        done = st.get("done", 0)
        self.done[tag] = done
        self.refused[tag] = st.get("refused", 0)
        if killed and st.get("started", 0) > done:
            self.inflight[tag] = done
        return st

    def add_known(self, tag, n):
        """A producer that ran to its end and wrote fw_body(tag, 0 .. n-1)."""
        self.done[tag] = n
        self.refused[tag] = 0

    def match(self, body):
        """(tag, i) of a well-formed fw body of a known tag, else None."""
        m = _FW_RE.fullmatch(body or "")
        if not m or m.group(1) not in self.done:
            return None
        i = int(m.group(2))
        if body != fw_body(m.group(1), i):
            return None
        return m.group(1), i

    # known (pid, body) pairs
    def add(self, pid, body):
        self.bodies[(pid, body)] += 1

    def add_shell(self, pid, tag, n):
        """What tests/e2e/workloads/shell_loop.sh TAG N wrote (harness.py's
        expected_shell)."""
        for _stream, body in h.expected_shell(tag, n):
            self.add(pid, body)

    # a multiset of bodies (any producer)
    def add_bodies(self, bodies):
        """Bodies the producers wrote, each once (a record is keyed by its
        body; others are not ours)."""
        wanted = set(bodies)
        self.add_count(len(bodies), key=lambda r: r.get("body") if r.get("body") in wanted
                       else None)

    # a count and a key function
    def add_count(self, n, key=default_key):
        self.count += n
        self.count_key = key

    def key(self, rec):
        """The Tally key of a received record under this Published's way."""
        if self.done:
            return self.match(rec.get("body")) or FOREIGN
        if self.bodies:
            k = (rec.get("pid"), rec.get("body"))
            return k if k in self.bodies else None
        if self.count_key is not None:
            k = self.count_key(rec)
            return None if k is IGNORE else FOREIGN if k is None else k
        return None


def agent_drops(env):
    """The agent's own loss counters now, by cause (segment counters incl.
    drop_noprod, exporter.status); returns (drops, segment counters)."""
    seg = env.seg_counters()
    st = env.status()
    d = {"ring": seg.get("ring_drops", 0) + seg.get("drop_noprod", 0),
         "dict": seg.get("dict_full", 0),
         "spool": seg.get("spool_dropped_records", 0),
         "export": int(st.get("dropped_records", 0) or 0) + int(st.get("rejected_records", 0) or 0),
         "invalid": seg.get("invalid", 0)}
    return d, seg


def account(env, published, label, allow_dups=False, ring_retried=0, records=None,
            counted=None):
    """Counts published, delivered and dropped for label (call it before
    Env.close()); returns the figures as a dict with "problems": empty when
    the invariant holds, no foreign or torn record and nothing beyond what
    was published arrived, and, unless allow_dups, nothing arrived twice.
    ring_retried: ring-full refusals the producers retried (not lost).
    records: the delivered records, when they are not (only) env's
    receiver's (a test with several receivers, or only some producers'
    records); read afresh each call. counted: drops by cause that replace
    what the agent's counters say (a test that attributes them itself,
    e.g. the ring drops of the producers it accounts for)."""
    drops, seg = agent_drops(env)
    if published.base is not None:
        drops = {k: v - published.base.get(k, 0) for k, v in drops.items()}
    drops["ring"] = max(0, drops["ring"] - ring_retried)
    drops.update(counted or {})
    if records is not None:
        tally = Tally(env, published.key)
        for r in records:
            tally.add(r)
    else:
        if published.tally is None:
            published.tally = Tally(env, published.key)
        tally = published.tally.update()
    beyond = []
    inflight_delivered = 0
    if published.done:
        for (tag, i) in tally.copies:
            if i < published.done[tag]:
                continue
            if published.inflight.get(tag) == i:
                inflight_delivered += 1
            else:
                beyond.append((tag, i))
        total = (sum(published.done.values()) - sum(published.refused.values())
                 + inflight_delivered)
    else:
        total = sum(published.bodies.values()) + published.count
    delivered = tally.delivered - len(beyond) - published.receiver_rejected
    dropped = sum(drops.values())
    acc = {"case": label, "published": total, "delivered": delivered,
           "dropped_counted": dropped, "drops": drops, "duplicates": tally.dups,
           "missing": total - delivered - dropped, "foreign": tally.foreign,
           "extra": {}, "tally": tally, "problems": []}
    if published.done:
        acc["extra"]["abandoned"] = seg.get("abandoned", 0)
        acc["inflight"] = len(published.inflight)
        acc["inflight_delivered"] = inflight_delivered
    p = acc["problems"]
    if not seg:
        p.append(f"{label}: no segment to read the drop counters from")
    if delivered + dropped != total:
        p.append(f"{label}: delivered {delivered} + dropped_counted {dropped} != published "
                 f"{total} ({acc['missing']} missing; {drops})")
    if tally.foreign:
        p.append(f"{label}: {tally.foreign} records that no producer published (torn, partial "
                 f"or foreign), e.g. {tally.foreign_sample}")
    if beyond:
        p.append(f"{label}: {len(beyond)} records beyond what their producer published, "
                 f"e.g. {sorted(beyond)[:3]}")
    if tally.dups and not allow_dups:
        p.append(f"{label}: {tally.dups} duplicate records")
    return acc


def print_account(acc):
    """Prints the ACCOUNT line of account()'s result (extra fields last)."""
    d = acc["drops"]
    extra = "".join(f" {k}={v}" for k, v in acc.get("extra", {}).items())
    h.log(f"ACCOUNT {acc['case']}: published={acc['published']} delivered={acc['delivered']} "
          f"dropped_counted={acc['dropped_counted']} (ring={d['ring']} dict={d['dict']} "
          f"spool={d['spool']} export={d['export']} invalid={d['invalid']}) "
          f"duplicates={acc['duplicates']} missing={acc['missing']}{extra}")


def settle(env, published, label, timeout=60, allow_dups=False, pause=1.0, fail=True):
    """Waits until every published record is delivered or counted as
    dropped (or timeout), then pause seconds more for late duplicates;
    prints the ACCOUNT line, fails the test on a problem (unless not
    fail: the caller adds acc["problems"] to its own), returns acc."""
    deadline = time.time() + timeout
    while True:
        acc = account(env, published, label, allow_dups)
        if acc["delivered"] + acc["dropped_counted"] >= acc["published"] or time.time() > deadline:
            break
        env.check_daemons()
        time.sleep(0.2)
    time.sleep(pause)
    acc = account(env, published, label, allow_dups)
    print_account(acc)
    if fail and acc["problems"]:
        raise h.Fail("; ".join(acc["problems"]))
    return acc


def by_tag(acc):
    """{tag: set of turns} received, from a fault_writer account."""
    got = {}
    for tag, i in acc["tally"].copies:
        got.setdefault(tag, set()).add(i)
    return got
