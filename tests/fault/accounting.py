# SPDX-License-Identifier: MIT
"""
accounting.py: the record accounting every fault test prints and asserts
(issue 4, item 1): delivered_unique + dropped_counted == published.

  account(env, published, label, allow_dups=False, records=None, counted=None)
      published: the bodies the honest producers published (a list: a
      multiset). records: the delivered records to count (default: those
      of env.records() whose body is one of published). counted: the drops
      the agent counted, per category (ring, dict, spool, export, invalid);
      a category not given is read from the agent itself: ring from the
      rings' rh_drops, dict from sh_dict_full, spool from
      sh_spool_dropped_records (env.seg_counters()), export from
      exporter.status dropped_records + rejected_records, invalid 0 (a
      test that can attribute invalid records passes them). Returns a dict
      with the figures and ok (the invariant holds; duplicates only with
      allow_dups).
  print_account(acc)
      prints the ACCOUNT line of the conventions.
"""

import collections

CATEGORIES = ("ring", "dict", "spool", "export", "invalid")


def agent_counters(env):
    """The agent's own drop counts, per category (see account())."""
    seg = env.seg_counters()
    st = env.status()
    return {
        "ring": seg.get("ring_drops", 0),
        "dict": seg.get("dict_full", 0),
        "spool": seg.get("spool_dropped_records", 0),
        "export": int(st.get("dropped_records", 0) or 0) + int(st.get("rejected_records", 0) or 0),
        "invalid": 0,
    }


def account(env, published, label, allow_dups=False, records=None, counted=None):
    want = collections.Counter(published)
    if records is None:
        records = [r for r in env.records() if (r.get("body") or "") in want]
    got = collections.Counter(r.get("body") or "" for r in records)
    delivered = sum(min(n, want[b]) for b, n in got.items())
    duplicates = sum(max(0, n - want[b]) for b, n in got.items() if b in want)
    missing = sum((want - got).values())
    drops = agent_counters(env)
    drops.update(counted or {})
    dropped = sum(drops[c] for c in CATEGORIES)
    npub = sum(want.values())
    acc = {"case": label, "published": npub, "delivered": delivered, "dropped_counted": dropped,
           "duplicates": duplicates, "missing": missing}
    acc.update(drops)
    acc["ok"] = delivered + dropped == npub and (allow_dups or duplicates == 0)
    return acc


def print_account(acc):
    print("ACCOUNT %s: published=%d delivered=%d dropped_counted=%d (ring=%d dict=%d spool=%d "
          "export=%d invalid=%d) duplicates=%d missing=%d"
          % (acc["case"], acc["published"], acc["delivered"], acc["dropped_counted"],
             acc["ring"], acc["dict"], acc["spool"], acc["export"], acc["invalid"],
             acc["duplicates"], acc["missing"]), flush=True)
