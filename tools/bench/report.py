#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# report.py: run.sh's last step. Reads the per-run JSON files in OUT_DIR
# (<case>.<rep>.json from bench_producer, bench_write, bench_lttng,
# bench_spdlog; idle.json, syscalls.json, latency.json, e2e_<zstd|gzip>.<rep>.json),
# prints the table and writes OUT_DIR/results.json: the flat keys of issue 5
# (numbers; ns unless the name says otherwise; -1 where a case did not run)
# and the details under "cases", "collector", "e2e", "host", "method".
# Figures are reported, never judged pass/fail.
#
#   report.py OUT_DIR LOADAVG_AT_START ELAPSED_S [SMOKE]
import glob
import json
import os
import platform
import statistics
import sys

# (case, file stem, key in the file's JSON: None for bench_common's t1/t2a/t2b)
CASES = [
    ("log", "producer", ""),
    ("counter", "metrics", "add_"),
    ("histogram", "metrics", "rec_"),
    ("capture_write", "capture", ""),
    ("tee_write", "tee", ""),
    ("floor", "floor", ""),
    ("floor_tsc", "floor_tsc", ""),
    ("write_syscall", "write", ""),
    ("lttng", "lttng", ""),
    ("spdlog_async_file", "spdlog_file", ""),
    ("spdlog_async_null", "spdlog_null", ""),
]
LABELS = {
    "log": "shmlog_log() (C API)",
    "counter": "shmlog_add() counter",
    "histogram": "shmlog_record() histogram",
    "capture_write": "write(1,64) preloaded, capture",
    "tee_write": "write(1,64) preloaded, tee",
    "floor": "floor: private ring, 1 atomic",
    "floor_tsc": "floor, raw TSC timestamp",
    "write_syscall": "write(2) to /dev/null",
    "lttng": "LTTng-UST tracepoint",
    "spdlog_async_file": "spdlog async, file sink",
    "spdlog_async_null": "spdlog async, null sink",
}
REQUIRED = [
    "log_ns_p50", "log_ns_p99", "counter_ns_p50", "histogram_ns_p50", "capture_write_ns_p50",
    "tee_write_ns_p50", "lttng_ns_p50", "spdlog_async_ns_p50", "write_syscall_ns_p50",
    "log_2thread_scaling", "collector_log_records_per_s", "collector_metric_records_per_s",
    "e2e_lines_per_s_zstd", "e2e_lines_per_s_gzip", "cpu_s_per_million_lines_zstd",
    "cpu_s_per_million_lines_gzip", "collector_idle_cpu_percent", "collector_rss_mib",
    "exporter_rss_mib", "producer_syscalls_per_million",
    # DESIGN.md's latency promise (bench_latency.py), beyond issue 5's keys
    "write_to_ack_ms_p99", "write_to_ack_p99_over_schedule_delay",
]


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def runs_of(out, stem):
    files = sorted(glob.glob(os.path.join(out, "%s.[0-9]*.json" % stem)))
    return [r for r in (load(f) for f in files) if r]


def agg(vals):
    vals = [v for v in vals if v is not None and v >= 0]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "runs": len(vals)}


def med(a):
    return a["median"] if a else -1


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def case_figures(runs, pre):
    """Per run: 1-thread and 2-thread figures of one case, aggregated."""
    per = []
    for r in runs:
        t1, a, b = r.get(pre + "t1"), r.get(pre + "t2a"), r.get(pre + "t2b")
        if not (t1 and a and b):
            continue
        one = t1.get("ok_per_s", 0)
        per.append({
            "t1_p50": t1["med_ns"], "t1_p99": t1["p99_ns"], "t1_min": t1["min_ns"],
            "t1_mrec_s": one / 1e6,
            "t2_p50": (a["med_ns"] + b["med_ns"]) / 2, "t2_p99": max(a["p99_ns"], b["p99_ns"]),
            "t2_mrec_s": (a.get("ok_per_s", 0) + b.get("ok_per_s", 0)) / 1e6,
            "scaling": ((a.get("ok_per_s", 0) + b.get("ok_per_s", 0)) / one) if one else None,
            "calls": sum(x["ok"] + x.get("errors", 0) + x.get("drops", 0) for x in (t1, a, b)),
            "failed": sum(x.get("errors", 0) + x.get("drops", 0) for x in (t1, a, b)),
            "lost": r.get("lost", r.get("discarded", 0)) if not pre else 0,
            "enabled": r.get("enabled", 1),
        })
    if not per:
        return None
    out = {k: agg([p[k] for p in per]) for k in per[0]
           if k not in ("calls", "failed", "lost", "enabled")}
    # LTTng: runs in which the tracepoint was enabled (else it measured nothing).
    out["enabled_runs"] = sum(1 for p in per if p["enabled"])
    out["calls"] = sum(p["calls"] for p in per)
    out["failed_calls"] = sum(p["failed"] for p in per)
    out["lost"] = sum(p["lost"] or 0 for p in per)
    out["runs"] = len(per)
    return out


def drain_figures(runs, key):
    d = [r[key] for r in runs if key in r]
    return {
        "cpu_records_per_s": agg([x["cpu_rec_s"] for x in d]),
        "wall_records_per_s": agg([x["wall_rec_s_med"] for x in d]),
        "records": sum(x["records"] for x in d),
        "drops": sum(x["drops"] + x["errors"] for x in d),
        "poll_timeouts": sum(x["poll_timeouts"] for x in d),
    }


def main():
    out, load0, elapsed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    smoke = len(sys.argv) > 4 and sys.argv[4] == "1"
    cases = {}
    for name, stem, pre in CASES:
        cases[name] = case_figures(runs_of(out, stem), pre)
    prod = runs_of(out, "producer")
    metr = runs_of(out, "metrics")
    collector = {"log": drain_figures(prod, "drain_log"), "metric": drain_figures(metr, "drain")}
    idle = load(os.path.join(out, "idle.json"))
    sysc = load(os.path.join(out, "syscalls.json"))
    lat = load(os.path.join(out, "latency.json"))
    e2e = {z: [r for r in (load(f) for f in sorted(glob.glob(os.path.join(out, "e2e_%s.*.json" % z))))
               if r] for z in ("zstd", "gzip")}
    e2e_agg = {}
    for z, rs in e2e.items():
        e2e_agg[z] = {
            "lines_per_s": agg([r["lines_per_s"] for r in rs]),
            "cpu_s_per_million": agg([r["cpu_s_per_million"] for r in rs]),
            "sink_cpu_percent": agg([r.get("receiver_cpu_percent") for r in rs]),
            "records_in": sum(r["records_in"] for r in rs),
            "received": sum(r["received"] for r in rs),
            "ring_full_retries": sum(r["ring_full_retries"] for r in rs),
            "collector_rss_mib": max([r["collector_rss_mib"] for r in rs], default=-1),
            "exporter_rss_mib": max([r["exporter_rss_mib"] for r in rs], default=-1),
            "runs": len(rs),
        }

    def p50(c):
        return med(cases[c]["t1_p50"]) if cases.get(c) else -1

    flat = {
        "log_ns_p50": p50("log"),
        "log_ns_p99": med(cases["log"]["t1_p99"]) if cases["log"] else -1,
        "counter_ns_p50": p50("counter"),
        "histogram_ns_p50": p50("histogram"),
        "capture_write_ns_p50": p50("capture_write"),
        "tee_write_ns_p50": p50("tee_write"),
        "lttng_ns_p50": p50("lttng"),
        "spdlog_async_ns_p50": p50("spdlog_async_file"),
        "spdlog_async_null_ns_p50": p50("spdlog_async_null"),
        "write_syscall_ns_p50": p50("write_syscall"),
        "floor_ns_p50": p50("floor"),
        "floor_tsc_ns_p50": p50("floor_tsc"),
        "log_2thread_scaling": med(cases["log"]["scaling"]) if cases["log"] else -1,
        "collector_log_records_per_s": med(collector["log"]["cpu_records_per_s"]),
        "collector_metric_records_per_s": med(collector["metric"]["cpu_records_per_s"]),
        "e2e_lines_per_s_zstd": med(e2e_agg["zstd"]["lines_per_s"]),
        "e2e_lines_per_s_gzip": med(e2e_agg["gzip"]["lines_per_s"]),
        "cpu_s_per_million_lines_zstd": med(e2e_agg["zstd"]["cpu_s_per_million"]),
        "cpu_s_per_million_lines_gzip": med(e2e_agg["gzip"]["cpu_s_per_million"]),
        "collector_idle_cpu_percent": (100.0 * idle["cpu_ns"] / idle["wall_ns"]
                                       if idle and idle["wall_ns"] else -1),
        "collector_rss_mib": max(e2e_agg["zstd"]["collector_rss_mib"],
                                 e2e_agg["gzip"]["collector_rss_mib"]),
        "exporter_rss_mib": max(e2e_agg["zstd"]["exporter_rss_mib"],
                                e2e_agg["gzip"]["exporter_rss_mib"]),
        "producer_syscalls_per_million": (sysc["syscalls"] * 1e6 / sysc["records"]
                                          if sysc and sysc.get("records") else -1),
        "write_to_ack_ms_p50": lat["write_to_ack_ms_p50"] if lat else -1,
        "write_to_ack_ms_p99": lat["write_to_ack_ms_p99"] if lat else -1,
        "write_to_ack_p99_over_schedule_delay": lat["p99_over_schedule_delay"] if lat else -1,
    }
    # Each peer's cost over shmlog's (1 thread, medians); the capture
    # write against the write(2) it replaces.
    base = flat["log_ns_p50"]
    ratios = {}
    for c in ("lttng", "spdlog_async_file", "spdlog_async_null", "write_syscall", "floor",
              "floor_tsc"):
        v = p50(c)
        ratios[c + "_over_log"] = v / base if v > 0 and base > 0 else -1
    cw = flat["capture_write_ns_p50"]
    ratios["write_syscall_over_capture_write"] = (flat["write_syscall_ns_p50"] / cw
                                                  if cw > 0 else -1)
    for k, v in ratios.items():
        flat["ratio_" + k] = v
    first = prod[0] if prod else {}
    res = dict(flat)
    res.update({
        "smoke": smoke,
        "host": {"cpu": cpu_model(), "cpus": os.cpu_count(), "kernel": platform.release(),
                 "loadavg_at_start": load0, "tsc_ghz": first.get("tsc_ghz")},
        "method": {
            "repetitions": len(prod),
            "records_per_case": first.get("n"),
            "record": "64-byte message + one int64 (seq)",
            "timing": "TSC around batches of 16 calls; per-record sample = batch ticks / 16; "
                      "p50/p99 over the batches of a run, then median [min .. max] over the "
                      "runs; batches with a failed call excluded; timer overhead "
                      "(%.2f ns/record) not subtracted" % first.get("timer_ns", 0),
            "threads": "N records on 1 thread (CPU 0), then N/2 on each of 2 threads "
                       "(CPUs 0 and 1)",
        },
        "cases": cases,
        "collector": collector,
        "idle": idle,
        "syscalls": sysc,
        "latency": lat,
        "e2e": e2e_agg,
        "e2e_runs": e2e,
        "elapsed_s": elapsed,
    })
    missing = [k for k in REQUIRED if not isinstance(res.get(k), (int, float)) or res[k] < 0]
    res["missing"] = missing
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print_table(res)


def fmt(a, spec="%.1f", full=True):
    if not a:
        return "n/a"
    if not full:
        return spec % a["median"]
    return (spec + " [" + spec + "-" + spec + "]") % (a["median"], a["min"], a["max"])


def print_table(res):
    h, m = res["host"], res["method"]
    w = print
    w("")
    w("shmlog benchmark%s: %s, %s CPUs, kernel %s, load at start %s"
      % (" (SMOKE: tiny counts, figures meaningless)" if res["smoke"] else "",
         h["cpu"], h["cpus"], h["kernel"], h["loadavg_at_start"]))
    w("record: %s; %s runs of %s records per case; %s" % (
        m["record"], m["repetitions"], m["records_per_case"], m["threads"]))
    w("timing: %s" % m["timing"])
    w("")
    w("%-32s %-22s %8s %-22s %8s %7s %8s %6s" % (
        "case (ns per record)", "1 thread p50 [min-max]", "p99", "2 threads p50 [min-max]",
        "p99", "scaling", "lost", "x log"))
    base = res["log_ns_p50"]
    for name, _, _ in CASES:
        c = res["cases"].get(name)
        if not c:
            w("%-32s did not run" % LABELS[name])
            continue
        ratio = med(c["t1_p50"]) / base if base > 0 else -1
        w("%-32s %-22s %8s %-22s %8s %7s %8d %6.2f" % (
            LABELS[name], fmt(c["t1_p50"]), fmt(c["t1_p99"], full=False), fmt(c["t2_p50"]),
            fmt(c["t2_p99"], full=False), fmt(c["scaling"], "%.2f", False),
            c["lost"] + c["failed_calls"], ratio))
    w("lost: records refused (-ENOBUFS), not received by the collector, LTTng discarded "
      "events, spdlog overruns; x log: 1-thread p50 over shmlog_log()'s")
    w("write(2) / capture-mode write(): %.2f x" % res["ratio_write_syscall_over_capture_write"])
    w("")
    col = res["collector"]
    w("collector drain, rings filled first (records per collector CPU-second; wall in [ ]):")
    for k, label in (("log", "log records"), ("metric", "metric records")):
        c = col[k]
        w("  %-16s %s M/s   [wall %s M/s]  %d records, %d dropped" % (
            label,
            fmt({x: y / 1e6 for x, y in c["cpu_records_per_s"].items() if x != "runs"}, "%.2f")
            if c["cpu_records_per_s"] else "n/a",
            fmt({x: y / 1e6 for x, y in c["wall_records_per_s"].items() if x != "runs"},
                "%.2f", False) if c["wall_records_per_s"] else "n/a",
            c["records"], c["drops"]))
    w("collector CPU with 2 attached idle producers: %.3f %% of a core" %
      res["collector_idle_cpu_percent"])
    s = res["syscalls"]
    w("system calls of a producer writing %s records after attach: %s %s (whole process, "
      "attach and exit included: %s)" % (
          s["records"], s["syscalls"],
          json.dumps(s.get("names", {}), sort_keys=True).replace('"', ""), s["process_total"])
      if s else "system calls: n/a")
    w("")
    w("end to end: 2 producer processes -> collector -> exporter -> loopback OTLP/HTTP "
      "null sink (node, no decoding)")
    w("%-6s %-28s %-22s %8s %8s %10s %9s %9s" % (
        "", "lines/s [min-max]", "CPU-s/M lines", "in", "lost", "sink CPU%", "coll RSS",
        "exp RSS"))
    for z, e in res["e2e"].items():
        w("%-6s %-28s %-22s %8d %8d %10s %8.1fM %8.1fM" % (
            z, fmt(e["lines_per_s"], "%.0f"), fmt(e["cpu_s_per_million"], "%.2f"),
            e["records_in"], e["records_in"] - e["received"],
            fmt(e["sink_cpu_percent"], "%.0f", False), e["collector_rss_mib"],
            e["exporter_rss_mib"]))
    w("CPU-s/M lines: collector + exporter CPU-seconds per million lines delivered; RSS: "
      "peak (VmHWM) in MiB")
    lat = res.get("latency")
    w("write to acknowledgment, a line every 10 ms, schedule delay %s ms: p50 %s ms, p99 %s ms "
      "(%s x the delay), max %s ms; %s of %s lines" % (
          lat["schedule_delay_ms"], lat["write_to_ack_ms_p50"], lat["write_to_ack_ms_p99"],
          lat["p99_over_schedule_delay"], lat["write_to_ack_ms_max"], lat["lines_received"],
          lat["lines_written"]) if lat else "write to acknowledgment: n/a")
    if res["missing"]:
        w("MISSING: %s" % ", ".join(res["missing"]))
    w("elapsed: %d s" % res["elapsed_s"])


if __name__ == "__main__":
    main()
