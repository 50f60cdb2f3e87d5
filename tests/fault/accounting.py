# SPDX-License-Identifier: MIT
"""
accounting.py: the invariant every fault test checks,

    delivered_unique + dropped_counted == published

and the one line each test prints per case:

    ACCOUNT <case>: published=N delivered=N dropped_counted=N (ring=N dict=N
    spool=N export=N invalid=N) duplicates=N missing=N abandoned=N

Definitions (tests/fault/README.md says the same):
  published   records a producer's call completed: for workloads/fault_writer.c
              every turn below its `done` counter (the call returned: the
              record is in a ring, or was dropped and counted by the
              library), plus, for a producer SIGKILLed inside a call, that
              turn's record exactly when it arrived. A record whose slots
              were claimed but never published (the writer died) is not
              published and not dropped: the collector counts it in
              `abandoned` (sh_abandoned), shown beside the rest.
  delivered   records the receiver decoded (the OpenTelemetry JS packages in
              receiver.js), unique by their body; the rest are duplicates.
  dropped_counted  what the agent counted as lost: ring (dropped by the
              producer: the rings' rh_drops, ring full, and sh_drop_noprod,
              producer table full; both are -ENOBUFS to an API call), dict
              (sh_dict_full: metric registrations refused), spool
              (sh_spool_dropped_records), export (exporter.status
              dropped_records + rejected_records), invalid (sh_invalid).
The counters are global to the test's segment and spool, so `published`
must name every record of every producer of the Env.

Use:
    pub = Published()
    pub.add_writer(tag, state)        # a fault_writer's state file, after it stopped
    acc = account(env, pub, "kill")   # reads env.records(), counters, status
    print_account(acc)                # the ACCOUNT line
    problems += acc["problems"]
"""
import collections
import os
import re
import struct

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


class Published:
    """What the producers published: turns per fault_writer tag (or per
    tag of any producer that wrote fw_body(tag, 0 .. n - 1): add_known)."""

    def __init__(self):
        self.done = {}       # tag -> turns whose call returned (all published)
        self.inflight = {}   # tag -> the turn a killed writer died in
        self.refused = {}    # tag -> turns refused (not published; 0 normally)

    def add_writer(self, tag, state_path, killed=False):
        """Adds a writer from its state file; killed: SIGKILLed, so a turn
        in flight (started > done) may or may not have been published."""
        st = read_state(state_path)
        done = st.get("done", 0)
        self.done[tag] = done
        self.refused[tag] = st.get("refused", 0)
        if killed and st.get("started", 0) > done:
            self.inflight[tag] = done
        return st

    def add_known(self, tag, n):
        """A producer that ran to its end and wrote turns 0 .. n - 1."""
        self.done[tag] = n
        self.refused[tag] = 0

    def match(self, body):
        """(tag, i) of a well-formed body of ours, else None."""
        m = _FW_RE.fullmatch(body or "")
        if not m or m.group(1) not in self.done:
            return None
        i = int(m.group(2))
        if body != fw_body(m.group(1), i):
            return None
        return m.group(1), i


def agent_drops(env):
    """The agent's own loss counters, by cause (segment and exporter.status)."""
    seg = env.seg_counters()
    st = env.status()
    d = {"ring": seg.get("ring_drops", 0) + seg.get("drop_noprod", 0),
         "dict": seg.get("dict_full", 0),
         "spool": seg.get("spool_dropped_records", 0),
         "export": int(st.get("dropped_records", 0) or 0) + int(st.get("rejected_records", 0) or 0),
         "invalid": seg.get("invalid", 0)}
    return d, seg


def account(env, published, label, allow_dups=False):
    """Counts published, delivered and dropped for label; returns a dict
    with the figures and "problems" (empty when the invariant holds, no
    foreign or torn record arrived, nothing arrived beyond what was
    published, and, unless allow_dups, nothing arrived twice)."""
    recs = env.records()
    seen = collections.Counter()
    foreign = []
    for r in recs:
        k = published.match(r.get("body"))
        if k is None:
            foreign.append((r.get("body") or "")[:80])
            continue
        seen[k] += 1
    beyond = []
    inflight_delivered = 0
    for (tag, i) in seen:
        if i < published.done[tag]:
            continue
        if published.inflight.get(tag) == i:
            inflight_delivered += 1
        else:
            beyond.append((tag, i))
    total = sum(published.done.values()) - sum(published.refused.values()) + inflight_delivered
    delivered = len(seen) - len(beyond)
    dups = sum(n - 1 for n in seen.values())
    drops, seg = agent_drops(env)
    dropped = sum(drops.values())
    missing = total - delivered
    acc = {"case": label, "published": total, "delivered": delivered, "dropped_counted": dropped,
           "drops": drops, "duplicates": dups, "missing": missing,
           "abandoned": seg.get("abandoned", 0), "inflight": len(published.inflight),
           "inflight_delivered": inflight_delivered, "foreign": len(foreign), "problems": []}
    p = acc["problems"]
    if delivered + dropped != total:
        p.append(f"{label}: delivered {delivered} + dropped_counted {dropped} != published "
                 f"{total} ({missing} missing)")
    if foreign:
        p.append(f"{label}: {len(foreign)} records that no producer published (torn, partial or "
                 f"foreign), e.g. {foreign[:3]}")
    if beyond:
        p.append(f"{label}: {len(beyond)} records beyond what their producer published, "
                 f"e.g. {sorted(beyond)[:3]}")
    if dups and not allow_dups:
        p.append(f"{label}: {dups} duplicate records")
    return acc


def print_account(acc):
    """Prints the ACCOUNT line of account()'s result."""
    d = acc["drops"]
    print(f"ACCOUNT {acc['case']}: published={acc['published']} delivered={acc['delivered']} "
          f"dropped_counted={acc['dropped_counted']} (ring={d['ring']} dict={d['dict']} "
          f"spool={d['spool']} export={d['export']} invalid={d['invalid']}) "
          f"duplicates={acc['duplicates']} missing={acc['missing']} "
          f"abandoned={acc['abandoned']}", flush=True)


def state_path(env, tag):
    return os.path.join(env.tmp, f"fw-{tag}.state")
