#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# check_results.py: bench_smoke's check of OUT_DIR/results.json. Exits 1
# unless every case of the benchmark produced its figures (each per-record
# case ran with 1 and 2 threads and every call was timed or counted) and
# every key issue 5 lists is a number (not -1, the mark of a case that did
# not run). Never judges a figure: no timing is asserted.
#
#   check_results.py OUT_DIR
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import CASES, REQUIRED  # noqa: E402


def main():
    path = os.path.join(sys.argv[1], "results.json")
    with open(path) as f:
        res = json.load(f)
    bad = []
    for k in REQUIRED:
        v = res.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            bad.append("key %s: %r" % (k, v))
    for name, _, _ in CASES:
        c = res["cases"].get(name)
        if not c:
            bad.append("case %s did not run" % name)
            continue
        for fig in ("t1_p50", "t1_p99", "t2_p50", "t2_p99"):
            if not c.get(fig) or c[fig]["median"] <= 0:
                bad.append("case %s: no %s" % (name, fig))
        if c["calls"] <= 0:
            bad.append("case %s: no calls" % name)
        if c.get("enabled_runs", c["runs"]) != c["runs"]:
            bad.append("case %s: the tracepoint was not enabled (no session)" % name)
    for z in ("zstd", "gzip"):
        e = res["e2e"][z]
        if e["runs"] < 1 or e["received"] <= 0:
            bad.append("end to end %s: nothing received" % z)
    s = res.get("syscalls")
    if not s or s.get("records", 0) <= 0:
        bad.append("system-call run missing")
    for b in bad:
        print("bench_smoke: " + b)
    if bad:
        return 1
    print("bench_smoke: %d cases, %d keys, end to end %d + %d lines received: all present"
          % (len(CASES), len(REQUIRED), res["e2e"]["zstd"]["received"],
             res["e2e"]["gzip"]["received"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
