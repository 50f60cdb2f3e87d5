# SPDX-License-Identifier: MIT
"""
accounting.py: the record accounting every fault test prints and asserts
(tests/fault/, issue 4).

    ACCOUNT <case>: published=N delivered=N dropped_counted=N
        (ring=N dict=N spool=N export=N invalid=N) duplicates=N missing=N

published   records the test's producers handed to the library (calls that
            returned 0, plus those refused with -ENOBUFS: a refused record
            is published and dropped);
delivered   distinct records the receiver accepted (receiver.js decodes
            with the OpenTelemetry JS packages), by key(record) -- by
            default (pid, time, body), the same record sent twice is one;
dropped     what the agent itself counted as lost: ring = ring-full drops
            (segment ring counters, minus refusals the producer retried and
            so are not lost), dict = metric registrations refused,
            spool = records deleted by the spool budget, export = records
            the exporter dropped (permanent errors) or the backend rejected
            (partial success), invalid = records that failed validation;
missing     published - delivered - dropped: must be 0, and delivered never
            exceeds published;
duplicates  copies beyond the first; must be 0 unless allow_dups (a daemon
            was killed with requests in flight).

account() reads the segment and exporter.status itself, so call it before
Env.close(). It reads the receiver's file directly, streaming, so that it
copes with millions of records (receiver.js --compact).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness as h  # noqa: E402


def default_key(rec):
    return (rec.get("pid"), rec.get("time"), rec.get("body"))


class Tally:
    """The receiver's accepted log records, read incrementally
    (update()): copies maps key(record) -> number of copies, for every
    record whose key is not None; delivered = distinct keys, dups = copies
    beyond the first, total = records counted. Subclass it and override
    add() for a more compact store."""

    def __init__(self, env, key=default_key):
        self.env = env
        self.key = key
        self.off = 0
        self.copies = {}
        self.delivered = 0
        self.dups = 0
        self.total = 0

    def add(self, rec):
        k = self.key(rec)
        if k is None:
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


def account(env, published, label, allow_dups=False, key=default_key, ring_retried=0,
            tally=None):
    """Counts published against delivered + counted drops for Env env and
    prints the ACCOUNT line. ring_retried: ring-full refusals that the
    producers retried (not lost; e.g. metrics_producer's enobufs=).
    tally: a Tally to reuse (updated here). Returns a dict with the
    figures and "problems" (a list; empty when the account balances)."""
    seg = env.seg_counters()
    st = env.status()
    if tally is None:
        tally = Tally(env, key)
    tally.update()
    delivered = tally.delivered
    dups = tally.dups
    drop = {
        "ring": max(0, seg.get("ring_drops", 0) - ring_retried),
        "dict": seg.get("dict_full", 0),
        "spool": seg.get("spool_dropped_records", 0),
        "export": int(st.get("dropped_records", 0) or 0) + int(st.get("rejected_records", 0) or 0),
        "invalid": seg.get("invalid", 0),
    }
    dropped = sum(drop.values())
    a = {"case": label, "published": published, "delivered": delivered,
         "dropped_counted": dropped, "duplicates": dups,
         "missing": published - delivered - dropped, "problems": []}
    a.update(drop)
    if not seg:
        a["problems"].append(f"{label}: no segment to read the drop counters from")
    if delivered + dropped != published:
        a["problems"].append(f"{label}: delivered {delivered} + dropped {dropped} != "
                             f"published {published}")
    if dups and not allow_dups:
        a["problems"].append(f"{label}: {dups} duplicate records")
    print_account(a)
    return a


def print_account(a):
    """Prints the ACCOUNT line of an account() result."""
    h.log(f"ACCOUNT {a['case']}: published={a['published']} delivered={a['delivered']} "
          f"dropped_counted={a['dropped_counted']} (ring={a['ring']} dict={a['dict']} "
          f"spool={a['spool']} export={a['export']} invalid={a['invalid']}) "
          f"duplicates={a['duplicates']} missing={a['missing']}")
