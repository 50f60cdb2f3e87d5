# SPDX-License-Identifier: MIT
"""
accounting.py: the invariant every fault test checks,

    delivered_unique + dropped_counted == published

and the line it prints per case (one line):

    ACCOUNT <case>: published=N delivered=N dropped_counted=N (ring=N dict=N
    spool=N export=N invalid=N) duplicates=N missing=N

  published        the records the test's workloads wrote in this case, as
                   (pid, body) pairs (Published(env), made BEFORE the case
                   starts, so that it also snapshots the agent's counters;
                   add(pid, body) or add_shell(pid, tag, n) per producer)
  delivered        those records the receiver decoded in a 2xx request
                   (receiver.js, the OpenTelemetry JS packages), each once,
                   less the records the receiver said it rejected in a
                   partial success (Published.receiver_rejected, set by the
                   test from the requests log); extra copies are duplicates
  dropped_counted  what the agent counted as lost during the case (counter
                   deltas): ring = sum of rh_drops (ring full), dict =
                   sh_dict_full, spool = sh_spool_dropped_records (budget
                   or full disk), export = exporter.status dropped_records
                   + rejected_records, invalid = sh_invalid
The counters cover the whole segment and spool (metrics too), so a test
keeps other record sources quiet (no metrics export) during a case.
"""
import collections


class Published:
    """Records written in one case, and the counters when it began."""

    def __init__(self, env):
        self.bodies = collections.Counter()  # (pid, body) -> times written
        self.receiver_rejected = 0
        self.base = agent_drops(env)

    def add(self, pid, body):
        self.bodies[(pid, body)] += 1

    def add_shell(self, pid, tag, n):
        """What tests/e2e/workloads/shell_loop.sh TAG N wrote (harness.py's
        expected_shell)."""
        import harness
        for _stream, body in harness.expected_shell(tag, n):
            self.add(pid, body)


def agent_drops(env):
    """The agent's loss counters now, by cause."""
    seg = env.seg_counters()
    st = env.status()
    return {"ring": seg.get("ring_drops", 0), "dict": seg.get("dict_full", 0),
            "spool": seg.get("spool_dropped_records", 0),
            "export": int(st.get("dropped_records", 0) or 0)
            + int(st.get("rejected_records", 0) or 0),
            "invalid": seg.get("invalid", 0)}


def account(env, published, label, allow_dups=False):
    """Figures of one case as a dict, with "problems": empty when
    delivered + dropped_counted == published exactly and, unless allow_dups,
    nothing arrived twice. (pid, body) must be unique within published."""
    seen = collections.Counter()
    for r in env.records():
        k = (r.get("pid"), r.get("body"))
        if k in published.bodies:
            seen[k] += 1
    now = agent_drops(env)
    drops = {k: now[k] - published.base.get(k, 0) for k in now}
    total = sum(published.bodies.values())
    delivered = len(seen) - published.receiver_rejected
    dups = sum(n - 1 for n in seen.values())
    dropped = sum(drops.values())
    acc = {"case": label, "published": total, "delivered": delivered,
           "dropped_counted": dropped, "drops": drops, "duplicates": dups,
           "missing": total - len(seen), "problems": []}
    if delivered + dropped != total:
        acc["problems"].append(f"{label}: delivered {delivered} + dropped_counted {dropped} "
                               f"!= published {total} ({drops})")
    if dups and not allow_dups:
        acc["problems"].append(f"{label}: {dups} duplicates")
    return acc


def print_account(acc):
    d = acc["drops"]
    print(f"ACCOUNT {acc['case']}: published={acc['published']} delivered={acc['delivered']} "
          f"dropped_counted={acc['dropped_counted']} (ring={d['ring']} dict={d['dict']} "
          f"spool={d['spool']} export={d['export']} invalid={d['invalid']}) "
          f"duplicates={acc['duplicates']} missing={acc['missing']}", flush=True)
