# SPDX-License-Identifier: MIT
"""shmlog.Handler: logging records as OpenTelemetry log records."""
import logging
import sys
import traceback

from . import _lib

# Severity number of a logging level: DEBUG 5, INFO 9, WARNING 13, ERROR 17,
# CRITICAL 21; levels in between fall in the range of the level below them
# (25 -> 11, INFO3; never the next level's number), below DEBUG in TRACE
# (1-4), above CRITICAL up to FATAL4 (24).


def severity_number(levelno):
    try:
        n = 5 + (int(levelno) - 10) * 4 // 10
    except (TypeError, ValueError):
        return 0
    return 1 if n < 1 else 24 if n > 24 else n


_SEV = [severity_number(i) for i in range(61)]

# What a LogRecord has of its own: everything else in record.__dict__ came
# from extra= (or a filter) and becomes an attribute.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message", "asctime", "taskName", "stack_info", "exc_text",
    "otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName",
}

_BUDGET = _lib.ATTRS_MAX
_ATTRS_N = 255  # most attributes of one record
_EXC_MESSAGE_MAX = 2048   # bytes of exception.message
_EXTRA_VALUE_MAX = 2048   # bytes of one extra string value
_STACK_RESERVE = 4096     # bytes kept for exception.stacktrace before extras
_S, _I = _lib.ATTR_STR, _lib.ATTR_INT
_enc = {}  # str -> UTF-8 of the repeating attribute values (file, function, logger, thread)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


def _exc_type_name(t):
    mod = getattr(t, "__module__", None)
    qn = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    return qn if mod in (None, "builtins", "__main__") else mod + "." + qn


def _fit_stack(b, limit):
    """A traceback in at most limit bytes: its first lines (the outermost
    frame), a marker, and as much of the end (the innermost frames and the
    exception line, which matter most) as fits, cut at line starts."""
    if len(b) <= limit:
        return b
    if limit < 128:
        return b""
    head = b""
    pos = 0
    for _ in range(3):  # "Traceback ...:", '  File "...", line N, in f', its source line
        nl = b.find(b"\n", pos)
        if nl < 0 or nl + 1 > limit // 4:
            break
        pos = nl + 1
        head = b[:pos]
    mark_max = len(b"  ... (%d bytes cut) ...\n" % len(b))
    start = len(b) - (limit - len(head) - mark_max)
    nl = b.find(b"\n", start - 1)
    if 0 <= nl < len(b) - 1 and nl - start < 512:
        start = nl + 1  # a whole line
    while start < len(b) and (b[start] & 0xC0) == 0x80:  # no half character
        start += 1
    return head + b"  ... (%d bytes cut) ...\n" % (start - len(head)) + b[start:]


class Handler(logging.Handler):
    """A logging handler that writes each record into the local
    shmlog-collector's rings (libshmlog.so, no system call).

    - severity number from the level (DEBUG 5, INFO 9, WARNING 13, ERROR 17,
      CRITICAL 21, others in the range of the level below), severity text
      record.levelname;
    - body: record.getMessage(); with Handler(format_body=True),
      self.format(record) (the formatter's line, traceback included). Not
      by default, since logging.basicConfig(handlers=[...]) gives every
      handler a formatter;
    - attributes: code.file.path, code.line.number, code.function.name,
      logger.name, thread.id, thread.name; exception.type, exception.message
      and exception.stacktrace with exc_info; code.stacktrace with
      stack_info; every extra= field (str, int, float, bool as such, other
      values as str()), within the 8 KiB a record's attributes may take
      (long values are cut; the stack trace keeps its end);
    - trace context from otelTraceID/otelSpanID (OpenTelemetry's logging
      instrumentation) or the current OpenTelemetry span, when the
      application uses opentelemetry.

    Never raises, never prints; without the library or a collector each
    record costs one check.
    """

    def __init__(self, level=logging.NOTSET, format_body=False):
        super().__init__(level)
        self.format_body = format_body

    def emit(self, record):
        lib = _lib.LIB
        if lib is None:
            return
        try:
            if not lib.shmlog_attached():
                return
            self._emit(lib, record)
        except Exception:
            pass  # a logging handler of a telemetry agent must never fail the program

    def _emit(self, lib, record):
        lv = record.levelno
        sev = _SEV[lv] if 0 <= lv <= 60 else severity_number(lv)
        if self.format_body:
            body = self.format(record)
        else:
            body = record.getMessage()
        body = body.encode("utf-8", "replace")

        # The fixed attributes; their values repeat, so their encodings are cached.
        enc = _enc
        items = []
        for key, v in ((b"code.file.path", record.pathname), (b"code.function.name",
                        record.funcName), (b"logger.name", record.name),
                       (b"thread.name", record.threadName)):
            if v:
                b = enc.get(v)
                if b is None:
                    b = _lib.utf8(v, 1024)
                    if len(enc) < 4096:
                        enc[v] = b
                items.append((key, _S, b, 4 + len(key) + len(b)))
        items.append((b"code.line.number", _I, record.lineno or 0, 28))
        tid = record.thread
        if tid is not None:
            items.append((b"thread.id", _I, tid & _lib.INT64_MAX, 21))
        used = sum(it[3] for it in items)

        def put(key, value, limit=255):
            nonlocal used
            it = _lib.typed(key, value, limit)
            if used + it[3] > _BUDGET:
                return False
            items.append(it)
            used += it[3]
            return True

        stack = None
        ei = record.exc_info
        if ei and ei[0] is not None:
            put(b"exception.type", _exc_type_name(ei[0]), 255)
            try:
                msg = str(ei[1])
            except Exception:
                msg = "<unprintable %s>" % ei[0].__name__
            put(b"exception.message", msg, _EXC_MESSAGE_MAX)
            try:
                stack = ("".join(traceback.format_exception(*ei))).rstrip("\n")
            except Exception:
                stack = None
        code_stack = record.stack_info

        # extra= fields, leaving room for the stack trace(s)
        reserve = 0
        for s in (stack, code_stack):
            if s:
                reserve += min(len(s) * 2, _STACK_RESERVE)
        nmax = _ATTRS_N - (stack is not None) - (code_stack is not None)
        for k, v in record.__dict__.items():
            if k in _STANDARD or k.startswith("_"):
                continue
            if len(items) >= nmax:
                break
            kb = _lib.utf8(k)
            if not kb or len(kb) > _lib.KEY_MAX:
                continue
            try:
                it = _lib.typed(kb, v, _EXTRA_VALUE_MAX)
            except Exception:
                continue  # str(v) failed
            if used + it[3] + reserve <= _BUDGET:
                items.append(it)
                used += it[3]

        for key, s in ((b"exception.stacktrace", stack), (b"code.stacktrace", code_stack)):
            if s:
                room = _BUDGET - used - 4 - len(key)
                if stack and code_stack and key == b"exception.stacktrace":
                    room = max(room // 2, room - _STACK_RESERVE)
                b = _fit_stack(_lib.utf8(s), room)
                if b:
                    items.append((key, _lib.ATTR_STR, b, 4 + len(key) + len(b)))
                    used += 4 + len(key) + len(b)

        keep, arr = _lib.attr_array(items)
        text = record.levelname
        text = text.encode("utf-8", "replace")[:32] if text else None

        trace = span = None
        flags = 0
        t = getattr(record, "otelTraceID", None)
        if t and t != _ZERO_TRACE:
            try:
                trace = bytes.fromhex(t)
                s = getattr(record, "otelSpanID", None)
                span = bytes.fromhex(s) if s and s != _ZERO_SPAN else None
                flags = 1 if getattr(record, "otelTraceSampled", False) else 0
                if len(trace) != 16 or (span is not None and len(span) != 8):
                    trace = span = None
            except (TypeError, ValueError):
                trace = span = None
        else:
            ot = sys.modules.get("opentelemetry.trace")  # only if the program uses it
            if ot is not None:
                try:
                    ctx = ot.get_current_span().get_span_context()
                    if ctx.is_valid:
                        trace = ctx.trace_id.to_bytes(16, "big")
                        span = ctx.span_id.to_bytes(8, "big")
                        flags = int(ctx.trace_flags) & 0xFF
                except Exception:
                    trace = span = None
        if trace is not None:
            r = lib.shmlog_log_span(sev, text, body, len(body), arr, len(items), trace, span,
                                    flags)
        else:
            r = lib.shmlog_log(sev, text, body, len(body), arr, len(items))
        del keep  # the strings the attributes point to lived until here
        if r == -_lib.ENOBUFS or r == -_lib.EMSGSIZE:
            _lib.count_drop()
