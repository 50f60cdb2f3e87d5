#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# report.py: run.sh's last step. Reads the per-run JSON files in OUT_DIR
# (producer.<r>.json, metrics.<r>.json, syscalls.json, e2e_receiver.json,
# e2e_null.json),
# prints the table and writes OUT_DIR/results.json. Figures are reported
# with DESIGN.md's promise beside them, never judged pass/fail.
#
#   report.py OUT_DIR LOADAVG_AT_START ELAPSED_S
import glob
import json
import os
import platform
import statistics
import sys


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def agg(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def per_run(p):
    t1, a, b = p["t1"], p["t2a"], p["t2b"]
    return {
        "t1_med_ns": t1["med_ns"],
        "t1_p99_ns": t1["p99_ns"],
        "t1_mrec_s": t1["ok_per_s"] / 1e6,
        "t2_med_ns": (a["med_ns"] + b["med_ns"]) / 2,
        "t2_p99_ns": max(a["p99_ns"], b["p99_ns"]),
        "t2_mrec_s_per_thread": (a["ok_per_s"] + b["ok_per_s"]) / 2e6,
        "scaling": p["scaling"],
        "write_ns": p["write"]["med_ns"],
        "write_p99_ns": p["write"]["p99_ns"],
        "fprintf_ns": p["fprintf"]["med_ns"],
        "fprintf_p99_ns": p["fprintf"]["p99_ns"],
        "write_over_shmlog": p["write"]["med_ns"] / t1["med_ns"],
        "fprintf_over_shmlog": p["fprintf"]["med_ns"] / t1["med_ns"],
    }


def metrics_run(m):
    out = {}
    for op in ("add", "rec"):
        t1, a, b = m[op + "_t1"], m[op + "_t2a"], m[op + "_t2b"]
        out[op + "_t1_med_ns"] = t1["med_ns"]
        out[op + "_t1_p99_ns"] = t1["p99_ns"]
        out[op + "_t2_med_ns"] = (a["med_ns"] + b["med_ns"]) / 2
        out[op + "_t2_p99_ns"] = max(a["p99_ns"], b["p99_ns"])
    d = m["drain"]
    out["drain_wall_mrec_s"] = d["wall_rec_s_med"] / 1e6 if d["wall_rec_s_med"] > 0 else None
    out["drain_cpu_mrec_s"] = d["cpu_rec_s"] / 1e6 if d["cpu_rec_s"] > 0 else None
    out["drain_cpu_ticks_mrec_s"] = (d["cpu_ticks_rec_s"] / 1e6
                                     if d["cpu_ticks_rec_s"] > 0 else None)
    return out


def main():
    out, load0, elapsed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    runs = [load(f) for f in sorted(glob.glob(os.path.join(out, "producer.*.json")))]
    runs = [r for r in runs if r]
    per = [per_run(r) for r in runs]
    keys = per[0].keys() if per else []
    producer = {k: agg([p[k] for p in per]) for k in keys}
    drops = {
        "t1": sum(r["t1"]["drops"] for r in runs),
        "t2": sum(r["t2a"]["drops"] + r["t2b"]["drops"] for r in runs),
        "errors": sum(r[t]["errors"] for r in runs for t in ("t1", "t2a", "t2b")),
        "calls": sum(r[t]["ok"] + r[t]["drops"] + r[t]["errors"]
                     for r in runs for t in ("t1", "t2a", "t2b")),
    }
    mruns = [load(f) for f in sorted(glob.glob(os.path.join(out, "metrics.*.json")))]
    mruns = [r for r in mruns if r]
    mper = [metrics_run(r) for r in mruns]
    mkeys = mper[0].keys() if mper else []
    metrics = {k: agg([p[k] for p in mper]) for k in mkeys}
    mfirst = mruns[0] if mruns else {}
    mdrops = {
        "calls": sum(r[t]["ok"] + r[t]["drops"] + r[t]["errors"] for r in mruns
                     for t in ("add_t1", "add_t2a", "add_t2b", "rec_t1", "rec_t2a", "rec_t2b")),
        "drops": sum(r[t]["drops"] for r in mruns
                     for t in ("add_t1", "add_t2a", "add_t2b", "rec_t1", "rec_t2a", "rec_t2b")),
        "errors": sum(r[t]["errors"] for r in mruns
                      for t in ("add_t1", "add_t2a", "add_t2b", "rec_t1", "rec_t2a", "rec_t2b")),
        "drain_drops": sum(r["drain"]["drops"] + r["drain"]["errors"] for r in mruns),
        "drain_poll_timeouts": sum(r["drain"]["poll_timeouts"] for r in mruns),
    }
    sysc = load(os.path.join(out, "syscalls.json"))
    e2e = {s: load(os.path.join(out, "e2e_%s.json" % s)) for s in ("receiver", "null")}
    first = runs[0] if runs else {}
    res = {
        "host": {"cpu": cpu_model(), "cpus": os.cpu_count(), "kernel": platform.release(),
                 "loadavg_at_start": load0, "tsc_ghz": first.get("tsc_ghz")},
        "method": {
            "repetitions": len(runs),
            "records_per_thread": first.get("n"),
            "record": "64-byte body + one int64 attribute (shmlog_log, severity INFO)",
            "timing": "TSC (lfence;rdtsc .. rdtscp;lfence) around batches of %s calls; "
                      "per-record sample = batch ticks / %s; median and p99 over the "
                      "batches; batches with a failed call excluded; timer overhead "
                      "(%.2f ns/record) not subtracted"
                      % (first.get("batch"), first.get("batch"), first.get("timer_ns", 0)),
            "bursts": "%s records per burst (half a ring of %s slots, %s rings); the "
                      "wait for the collector between bursts is not timed; one untimed "
                      "warm-up lap" % (first.get("burst"), first.get("ring_slots"),
                                       first.get("nrings")),
            "threads": "1 thread on CPU 0; 2 threads on CPUs 0 and 1 "
                       "(pthread_setaffinity_np); the collector shares these CPUs",
            "peers": "write(2) of the formatted line to /dev/null; fprintf to a FILE* "
                     "on /dev/null; LTTng-UST and spdlog are measured in issue 5",
        },
        "metrics_method": {
            "repetitions": len(mruns),
            "calls_per_thread": mfirst.get("n"),
            "calls": "counter: shmlog_add(series, 1.0) on one series of a counter "
                     "registered once; histogram: shmlog_record(series, v), default "
                     "bounds, v cycling over one value per bucket (16 buckets)",
            "timing": "as for shmlog_log: TSC around batches of %s calls, median and "
                      "p99 over the batches; %s calls per burst (half a ring: a metric "
                      "record is 1 slot); between bursts, untimed, the program waits "
                      "for the rings to be read, writes one log record so that the "
                      "collector flushes and releases them, and waits for the release"
                      % (mfirst.get("batch"), mfirst.get("burst")),
            "drain": "collector stopped (SIGSTOP); %s metric records written (%s per "
                     "ring, 2 threads pinned to CPUs 0 and 1, one ring each, alternately "
                     "counter and histogram); SIGCONT; wall = until sh_records_in has "
                     "grown by that many (polled every ~5 us through a read-only mapping: "
                     "the poll and the collector's wake-up after SIGCONT are included); "
                     "CPU = sum of the collector's threads' schedstat run time over the "
                     "same window (also utime+stime from /proc/<pid>/stat, clock ticks); "
                     "%s cycles per run after one of warm-up; wall: median of the cycles, "
                     "CPU: total records / total CPU time"
                     % (mfirst.get("drain", {}).get("records_per_cycle"),
                        (mfirst.get("drain", {}).get("records_per_cycle") or 0) // 2,
                        mfirst.get("drain", {}).get("cycles")),
        },
        "producer": producer,
        "producer_runs": per,
        "metrics": metrics,
        "metrics_runs": mper,
        "metrics_drops": mdrops,
        "drops": drops,
        "syscalls_1m_records": sysc,
        "e2e": e2e,
        "elapsed_s": elapsed,
    }
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print_table(res)


def fmt(a, spec="%.1f"):
    if a is None:
        return "n/a"
    return (spec + "  [" + spec + " .. " + spec + "]") % (a["median"], a["min"], a["max"])


def print_table(res):
    p, m, h = res["producer"], res["method"], res["host"]
    w = print
    w("")
    w("shmlog benchmark: %s, %s CPUs, kernel %s, load at start %s"
      % (h["cpu"], h["cpus"], h["kernel"], h["loadavg_at_start"]))
    w("record: %s" % m["record"])
    w("timing: %s" % m["timing"])
    w("        %s; %s" % (m["bursts"], m["threads"]))
    w("%d runs of %s records per thread: median [min .. max]" % (m["repetitions"],
                                                                  m["records_per_thread"]))
    w("")
    rows = [
        ("shmlog_log, 1 thread: ns/record median", "t1_med_ns", "%.1f", "<= 20"),
        ("shmlog_log, 1 thread: ns/record p99", "t1_p99_ns", "%.1f", "<= 60"),
        ("shmlog_log, 1 thread: M records/s", "t1_mrec_s", "%.2f", ""),
        ("shmlog_log, 2 threads: ns/record median", "t2_med_ns", "%.1f", "<= 20"),
        ("shmlog_log, 2 threads: ns/record p99", "t2_p99_ns", "%.1f", "<= 60"),
        ("shmlog_log, 2 threads: M records/s per thread", "t2_mrec_s_per_thread", "%.2f", ""),
        ("2-thread scaling (total records/s vs 1 thread)", "scaling", "%.2f", ">= 1.8"),
        ("peer write(2) /dev/null: ns/call median", "write_ns", "%.1f", ""),
        ("peer write(2) /dev/null: ns/call p99", "write_p99_ns", "%.1f", ""),
        ("peer fprintf /dev/null: ns/call median", "fprintf_ns", "%.1f", ""),
        ("peer fprintf /dev/null: ns/call p99", "fprintf_p99_ns", "%.1f", ""),
        ("write(2) / shmlog_log (x cheaper)", "write_over_shmlog", "%.2f", ""),
        ("fprintf / shmlog_log (x cheaper)", "fprintf_over_shmlog", "%.2f", ""),
    ]
    w("%-48s %-30s %s" % ("figure", "median  [min .. max]", "DESIGN.md"))
    for label, key, spec, goal in rows:
        w("%-48s %-30s %s" % (label, fmt(p.get(key), spec), goal))
    d = res["drops"]
    w("%-48s %-30s %s" % ("drops (-ENOBUFS), all runs: 1 thread / 2 threads",
                          "%d / %d of %d calls" % (d["t1"], d["t2"], d["calls"]), "0"))
    if d["errors"]:
        w("%-48s %d" % ("other errors", d["errors"]))
    s = res["syscalls_1m_records"]
    w("%-48s %-30s %s" % ("system calls while writing 1,000,000 records",
                          ("%d (%d drops)" % (s["syscalls"], s["producer"]["drops"])) if s
                          else "skipped (no strace)", "0"))
    w("peers LTTng-UST and spdlog: measured in issue 5, not in this run")
    mm = res["metrics_method"]
    mt = res["metrics"]
    w("")
    w("metrics: %d runs of %s calls per thread: median [min .. max]"
      % (mm["repetitions"], mm["calls_per_thread"]))
    w("calls:  %s" % mm["calls"])
    w("timing: %s" % mm["timing"])
    w("drain:  %s" % mm["drain"])
    mrows = [
        ("counter add, 1 thread: ns/call median", "add_t1_med_ns", "%.1f", "<= 10"),
        ("counter add, 1 thread: ns/call p99", "add_t1_p99_ns", "%.1f", ""),
        ("counter add, 2 threads: ns/call median", "add_t2_med_ns", "%.1f", "<= 10"),
        ("counter add, 2 threads: ns/call p99", "add_t2_p99_ns", "%.1f", ""),
        ("histogram record, 1 thread: ns/call median", "rec_t1_med_ns", "%.1f", ""),
        ("histogram record, 1 thread: ns/call p99", "rec_t1_p99_ns", "%.1f", ""),
        ("histogram record, 2 threads: ns/call median", "rec_t2_med_ns", "%.1f", ""),
        ("histogram record, 2 threads: ns/call p99", "rec_t2_p99_ns", "%.1f", ""),
        ("collector drain, wall: M metric records/s", "drain_wall_mrec_s", "%.1f", ">= 20"),
        ("collector drain: M metric records/CPU-s", "drain_cpu_mrec_s", "%.1f", ">= 20"),
        ("  same, from /proc stat utime+stime (ticks)", "drain_cpu_ticks_mrec_s", "%.1f", ""),
    ]
    w("%-48s %-30s %s" % ("figure", "median  [min .. max]", "DESIGN.md"))
    for label, key, spec, goal in mrows:
        w("%-48s %-30s %s" % (label, fmt(mt.get(key), spec), goal))
    md = res["metrics_drops"]
    w("%-48s %-30s %s" % ("metric drops (-ENOBUFS) / errors, all runs",
                          "%d / %d of %d calls" % (md["drops"], md["errors"], md["calls"]),
                          "0"))
    if md["drain_drops"] or md["drain_poll_timeouts"]:
        w("%-48s %d drops, %d cycles not fully read in %s s"
          % ("drain cycles", md["drain_drops"], md["drain_poll_timeouts"], 10))
    w("")
    w("end to end: 2 producer processes x %s records, collector + exporter (zstd), loopback"
      % (next((e["k"] for e in res["e2e"].values() if e), "?")))
    w("%-13s %10s %9s %9s %6s %7s %8s %8s %10s %9s" % (
        "sink", "lines/s", "in", "out", "lost", "retry*", "coll CPU", "exp CPU",
        "CPU-s/M**", "sink CPU"))
    for name, e in res["e2e"].items():
        if not e:
            w("%-13s failed" % name)
            continue
        label = {"receiver": "receiver.js", "null": "null sink", "file": "files"}.get(e["sink"], e["sink"])
        lost = e["records_in"] - e["received"]
        w("%-13s %10.0f %9d %9d %6d %7d %7.2fs %7.2fs %10.2f %8.2fs" % (
            label, e["lines_per_s"] or 0, e["records_in"], e["received"], lost,
            e["ring_full_retries"], e["collector_cpu_s"], e["exporter_cpu_s"],
            e["cpu_s_per_million"] or 0, e["receiver_cpu_s"]))
        if e.get("exporter_dropped") or e.get("exporter_rejected") or e.get("collector_hung"):
            w("    exporter dropped %d, rejected %d; collector hung on SIGTERM: %s"
              % (e["exporter_dropped"], e["exporter_rejected"], bool(e["collector_hung"])))
    w("DESIGN.md: >= 1,000,000 lines/s, nothing lost, <= 0.5 CPU-s per million (zstd)")
    w("lines/s: first write to the last acknowledged request (includes the collector's")
    w("  schedule_delay_ms for the last partial batch); producers keep each ring at most")
    w("  half full. * calls refused with -ENOBUFS and retried. ** collector + exporter")
    w("  CPU-seconds per million lines delivered.")
    w("elapsed: %d s" % res["elapsed_s"])


if __name__ == "__main__":
    main()
