#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
accounting_selftest.py: accounting.py against a fake Env (a records file
and counters set by hand), no daemons (CTest fault_accounting_selftest).
Each check is a way a fault test must fail: a torn or foreign body, a turn
beyond what was published, a duplicate, a lost record the agent did not
count, a baseline not subtracted, a partial success; and that records are
read incrementally (a half-written last line waits). Exit 0 or 1.
"""
import io
import json
import os
import re
import sys
import tempfile
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import accounting as acct  # noqa: E402


class FakeEnv:
    def __init__(self, tmp):
        self.out = os.path.join(tmp, "records.jsonl")
        open(self.out, "w").close()
        self.seg = {"ring_drops": 0, "drop_noprod": 0, "dict_full": 0,
                    "spool_dropped_records": 0, "invalid": 0, "abandoned": 0}
        self.st = {"dropped_records": 0, "rejected_records": 0}

    def seg_counters(self):
        return dict(self.seg)

    def status(self):
        return dict(self.st)

    def send(self, *recs, partial=None):
        with open(self.out, "a") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")
            if partial:
                f.write(partial)

    def records(self):
        raise AssertionError("accounting must read env.out through its Tally")


FAILS = []


def expect(what, cond):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def fw(tag, i, pid=1):
    return {"pid": pid, "time": str(i), "body": acct.fw_body(tag, i)}


def main():
    tmp = tempfile.mkdtemp(prefix="shmlog-acct-")
    # fault_writer tags
    env = FakeEnv(tmp)
    pub = acct.Published()
    pub.add_known("a", 4)
    env.send(fw("a", 0), fw("a", 1), fw("a", 2))
    a = acct.account(env, pub, "fw")
    expect("one record lost and not counted is a problem", a["problems"] and a["missing"] == 1)
    env.seg["ring_drops"] = 1
    a = acct.account(env, pub, "fw")
    expect("a lost record counted as a ring drop balances", not a["problems"]
           and (a["published"], a["delivered"], a["dropped_counted"]) == (4, 3, 1))
    env.seg["ring_drops"], env.seg["drop_noprod"] = 0, 1
    expect("sh_drop_noprod counts as a ring drop", not acct.account(env, pub, "fw")["problems"])
    env.send({"pid": 1, "time": "9", "body": acct.fw_body("a", 1)[:-1] + "?"})
    a = acct.account(env, pub, "fw")
    expect("a torn body is a problem", a["foreign"] == 1 and a["problems"])
    env2 = FakeEnv(tmp + "/")
    env2.out = os.path.join(tmp, "r2.jsonl")
    open(env2.out, "w").close()
    pub = acct.Published()
    pub.add_known("a", 2)
    env2.send(fw("a", 0), fw("a", 1), fw("a", 2))
    a = acct.account(env2, pub, "fw")
    expect("a turn beyond what was published is a problem",
           any("beyond" in p for p in a["problems"]))
    pub = acct.Published()
    pub.add_known("a", 3)
    pub.inflight["a"] = 3
    env2.send(fw("a", 3))
    a = acct.account(env2, pub, "fw")
    expect("the turn a killed writer died in counts once it arrived",
           not a["problems"] and a["published"] == 4 and a["inflight_delivered"] == 1)
    env2.send(fw("a", 0))
    expect("a duplicate is a problem", acct.account(env2, pub, "fw")["problems"])
    expect("unless allow_dups", not acct.account(env2, pub, "fw", allow_dups=True)["problems"])

    # (pid, body) pairs with a baseline
    env = FakeEnv(tmp)
    env.out = os.path.join(tmp, "r3.jsonl")
    open(env.out, "w").close()
    env.seg["spool_dropped_records"] = 5
    env.send({"pid": 7, "body": "earlier case"})
    pub = acct.Published(env)
    pub.add(8, "x")
    pub.add(8, "y")
    env.send({"pid": 8, "body": "x"}, {"pid": 9, "body": "y"})
    env.seg["spool_dropped_records"] = 6
    a = acct.account(env, pub, "pairs")
    expect("the baseline is subtracted and others' records ignored",
           not a["problems"] and a["dropped_counted"] == 1 and a["delivered"] == 1)
    env.send({"pid": 8, "body": "y"})
    env.st["rejected_records"] = 1
    pub.receiver_rejected = 1
    a = acct.account(env, pub, "pairs")
    expect("a partial success with a drop counted too many is a problem", a["problems"])
    env.seg["spool_dropped_records"] = 5
    expect("and balances when the rejected records are the only drop", not acct.account(env, pub, "pairs")["problems"])

    # a count and a key function, incremental reading
    env = FakeEnv(tmp)
    env.out = os.path.join(tmp, "r4.jsonl")
    open(env.out, "w").close()
    pub = acct.Published()
    pub.add_count(3, key=lambda r: r["body"] if r["body"].startswith("fk ") else None)
    env.send({"body": "fk 0"}, {"body": "fk 1"}, partial='{"body": "fk')
    a = acct.account(env, pub, "count")
    expect("a half-written line is not read", a["delivered"] == 2)
    env.send(partial=' 2"}\n')
    env.seg["ring_drops"] = 2
    a = acct.account(env, pub, "count", ring_retried=2)
    expect("the rest of it is, once complete; retried refusals are not drops",
           not a["problems"] and a["delivered"] == 3)
    env.send({"body": "something else"})
    a = acct.account(env, pub, "count", ring_retried=2)
    expect("a record the key does not know is foreign", a["foreign"] == 1 and a["problems"])
    buf = io.StringIO()
    with redirect_stdout(buf):
        acct.print_account(acct.account(env, pub, "count case", ring_retried=2))
    line = buf.getvalue().strip()
    expect("the ACCOUNT line: " + line, re.fullmatch(
        r"ACCOUNT count case: published=3 delivered=3 dropped_counted=0 \(ring=0 dict=0 "
        r"spool=0 export=0 invalid=0\) duplicates=0 missing=0", line) is not None)
    print(f"{len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
