#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
py_api.py TAG RESULT_JSON | --limits RESULT_JSON: the shmlog Python package (python/shmlog, found
on PYTHONPATH) used as an application would, without LD_PRELOAD:
logging through shmlog.Handler and the four instruments. Prints nothing.

The lines the test checks carry a marker comment "# @NAME" (test_python.py
finds their numbers in this file). RESULT_JSON: what the program saw
(attached, dropped, the registration conflict refused, ns per measurement).
The metric values are spelled out in test_python.py, independently.
--limits (against a collector with [shm] max_instruments = 16, after a
normal run): an instrument registered by the other process with another
kind (ValueError from the library's -EEXIST), then instruments until the
dictionary is full (-ENOSPC: one RuntimeWarning, no-op instruments).
"""
import json
import logging
import sys
import time
import types
import warnings

import shmlog

log = logging.getLogger("e2e.pyapi")


def fail_deep(n):
    raise ValueError(f"bad value {n}")


def handle_request(tag):
    try:
        fail_deep(7)
    except ValueError:
        log.exception("py %s request failed", tag)  # @exception


def ping(n, tag):
    if n == 0:
        raise RuntimeError(f"py {tag} bottom reached")
    pong(n - 1, tag)


def pong(n, tag):  # two functions: traceback prints every frame (no "repeated N times")
    ping(n - 1, tag)


def deep_error(tag):
    try:
        ping(300, tag)
    except RuntimeError:
        log.error("py %s deep", tag, exc_info=True)  # @deep


class Unprintable:
    def __str__(self):
        raise RuntimeError("no str")


def logs(tag):
    extra = {"user": "ana", "step": 42, "ratio": 0.25, "ok": True, "id64": 2 ** 53 + 1,
             "big": 2 ** 70, "obj": [1, "x"]}
    log.info("py %s info", tag, extra=extra)  # @info
    log.warning("py %s warning", tag, extra={"bad": Unprintable()})  # @warning
    handle_request(tag)
    log.error("py %s ünïcödé ✓ 日本語", tag, extra={"città": "Zürich ✓"})  # @unicode
    log.debug("py %s debug", tag)  # @debug
    log.critical("py %s critical", tag)  # @critical
    log.log(25, "py %s level25", tag)  # @level25
    log.info("py %s huge", tag, extra={"blob": "x" * 100000, "n": -1})  # @huge
    deep_error(tag)
    log.info("py %s stack", tag, stack_info=True)  # @stack
    otel = {"otelTraceID": "0af7651916cd43dd8448eb211c80319c", "otelSpanID": "b7ad6b7169203331",
            "otelTraceSampled": True}
    log.info("py %s traced", tag, extra=otel)  # @traced
    # A program that uses OpenTelemetry tracing: the current span's ids.
    ot = types.ModuleType("opentelemetry.trace")
    ctx = types.SimpleNamespace(is_valid=True, trace_id=0x1234, span_id=0x42, trace_flags=1)
    ot.get_current_span = lambda: types.SimpleNamespace(get_span_context=lambda: ctx)
    sys.modules["opentelemetry.trace"] = ot
    log.info("py %s in span", tag)  # @span
    del sys.modules["opentelemetry.trace"]


def metrics(res):
    req = shmlog.counter("py.requests", "{request}", "Requests handled")
    for i in range(1000):
        req.add(1, {"route": "a"})
        req.add(2, {"route": "b"})
        if i % 10 == 0:
            req.add(0.5, {"shard": 3, "hot": True, "ratio": 0.5})
    req.add(4)
    t0 = time.perf_counter_ns()
    n = 20000
    for _ in range(n):
        req.add(1, {"route": "c"})
    res["ns_per_add"] = (time.perf_counter_ns() - t0) // n
    q = shmlog.updown_counter("py.queue", "{item}", "Queue length")
    for i in range(100):
        q.add(5)
        q.add(-3)
    temp = shmlog.gauge("py.temperature", "Cel", "Temperature")
    for i in range(50):
        temp.set(20.0 + i / 4, {"room": "lab"})
    temp.set(-3.5)
    lat = shmlog.histogram("py.latency", "ms", "Latency", bounds=[1, 10, 100])
    for i in range(200):
        lat.record((i % 20) * 7.5, {"route": "a"})
    size = shmlog.histogram("py.size", "By", "Sizes")
    for v in (0, 3, 5, 6, 99.5, 20000):
        size.record(v)
    # the same name again: the same object; another kind: ValueError
    res["same_object"] = shmlog.counter("py.requests", "{request}") is req
    try:
        shmlog.counter("py.temperature", "Cel")
        res["conflict"] = "accepted"
    except ValueError as e:
        res["conflict"] = str(e)
    try:
        shmlog.histogram("py.bad", bounds=[5, 1])
        res["bad_bounds"] = "accepted"
    except ValueError:
        res["bad_bounds"] = "refused"
    # never raise on measurements
    req.add("not a number", {"route": "a"})
    req.add(1, {"route": ["a", "list"]})


def limits(result):
    res = {}
    try:
        shmlog.counter("py.temperature", "Cel")
        res["eexist"] = "accepted"
    except ValueError as e:
        res["eexist"] = str(e)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        for i in range(30):
            c = shmlog.counter(f"py.fill.{i}")
            c.add(1, {"i": i})
        res["warnings"] = [str(x.message) for x in w]
    res["dropped"] = shmlog.dropped()
    with open(result, "w") as f:
        json.dump(res, f)


def main():
    if sys.argv[1] == "--limits":
        limits(sys.argv[2])
        return
    tag, result = sys.argv[1], sys.argv[2]
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(shmlog.Handler())
    res = {"available": shmlog.available(), "attached": shmlog.attached()}
    logs(tag)
    metrics(res)
    res["dropped"] = shmlog.dropped()
    with open(result, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
