# SPDX-License-Identifier: MIT
"""
accounting.py: the fault suite's accounting invariant (issue 4, item 1).

    delivered_unique + dropped_counted == published

published  what the producers wrote: a count, or the collection of the
           record bodies they wrote (then missing names what never came)
delivered  records the receivers decoded (env.records(), plus any extra
           receivers' records the test passes in `records`), keyed by body
dropped    what the agent itself counted as lost, read where it counts
           exactly: the segment header and rings (ring full, dictionary
           full, spool budget, invalid records) and exporter.status
           (records of requests dropped as permanent export errors)

A test whose earlier phase dropped other records on purpose takes
counters(env) before the producers it accounts for start and passes it as
base: only what was counted since then is theirs.

Duplicates are allowed only where a test killed a daemon with requests in
flight (allow_dups=True). Read the counters while the segment still exists
(before env.close()).
"""
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness as h  # noqa: E402


_DROPS = ("ring", "dict", "spool", "export", "invalid")


def counters(env):
    """The agent's drop counters now: {ring, dict, spool, export, invalid}."""
    seg = env.seg_counters()
    st = env.status()
    return {"ring": seg.get("ring_drops", 0), "dict": seg.get("dict_full", 0),
            "spool": seg.get("spool_dropped_records", 0),
            "export": int(st.get("dropped_records", 0) or 0), "invalid": seg.get("invalid", 0)}


def account(env, published, label, allow_dups=False, records=None, key=None, base=None):
    """Counts, prints the ACCOUNT line and asserts the invariant (h.Fail).
    records: the delivered records (default env.records()); key(rec) -> the
    identity of a record (default its body); base: counters(env) taken before
    the accounted producers started. Returns the figures as a dict."""
    recs = env.records() if records is None else records
    key = key or (lambda r: r.get("body"))
    counts = collections.Counter(key(r) for r in recs)
    if isinstance(published, int):
        want, n_pub = None, published
    else:
        want = set(published)
        n_pub = len(want)
        counts = collections.Counter({k: v for k, v in counts.items() if k in want})
    now = counters(env)
    a = {k: now[k] - (base or {}).get(k, 0) for k in _DROPS}
    a.update({"published": n_pub, "delivered": len(counts),
              "duplicates": sum(v - 1 for v in counts.values() if v > 1)})
    a["dropped_counted"] = sum(a[k] for k in _DROPS)
    if want is not None:
        a["missing"] = len(want - set(counts))
    else:
        a["missing"] = max(0, n_pub - a["delivered"] - a["dropped_counted"])
    print_account(label, a)
    h.check(a["delivered"] + a["dropped_counted"] == n_pub,
            f"{label}: delivered {a['delivered']} + dropped {a['dropped_counted']} != "
            f"published {n_pub}")
    h.check(allow_dups or a["duplicates"] == 0, f"{label}: {a['duplicates']} duplicates")
    return a


def print_account(label, a):
    """The suite's one-line accounting format."""
    h.log(f"ACCOUNT {label}: published={a['published']} delivered={a['delivered']} "
          f"dropped_counted={a['dropped_counted']} (ring={a['ring']} dict={a['dict']} "
          f"spool={a['spool']} export={a['export']} invalid={a['invalid']}) "
          f"duplicates={a['duplicates']} missing={a['missing']}")
