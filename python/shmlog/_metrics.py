# SPDX-License-Identifier: MIT
"""Metric instruments over shmlog_instrument/shmlog_series/shmlog_add..."""
import ctypes
import math
import os
import sys
import threading
import time
import warnings

from . import _lib

_HERE = os.path.dirname(os.path.abspath(__file__))
_lock = threading.Lock()
_registry = {}  # name -> instrument: the same name gives the same object
_warned = set()
_RETRY_S = 1.0  # no collector: try to register again at most once a second
_NEG_CACHE_MAX = 4096  # refused attribute sets remembered per instrument
_ENOBUFS = -_lib.ENOBUFS
_dict_full = False  # -ENOSPC seen: the dictionary never shrinks


def _warn_once(what, msg):
    """warnings.warn(msg) once per `what`, attributed to the caller's code."""
    if what in _warned:
        return
    _warned.add(what)
    level, f = 1, sys._getframe(0)
    while f is not None and f.f_code.co_filename.startswith(_HERE):
        level, f = level + 1, f.f_back
    warnings.warn(msg, RuntimeWarning, stacklevel=level)


def _series_items(attributes):
    items = []
    for k, v in attributes.items():
        kb = _lib.utf8(k)
        items.append(_lib.typed(kb, v, _lib.SERIES_ATTRS_MAX))
    return items


class Instrument:
    """A registered instrument. Measurements go to the series of their
    attribute set (a dict of str keys to str, int, float or bool values),
    registered at its first use and then cached: the hot path is one dict
    lookup and one call into the library. Never raises on measurements;
    a full ring drops the measurement and counts it (shmlog.dropped())."""

    __slots__ = ("name", "unit", "description", "kind", "bounds", "_id", "_series", "_op",
                 "_next_try", "__weakref__")
    _kind = 0
    _opname = ""

    def __init__(self, name, unit, description, bounds):
        self.name = name
        self.unit = unit
        self.description = description
        self.kind = self._kind
        self.bounds = bounds
        self._series = {}
        self._next_try = 0.0
        lib = _lib.LIB
        self._op = getattr(lib, self._opname) if lib is not None else None
        self._id = -1 if lib is None else None  # None: not registered yet
        if lib is not None:
            self._register(at_creation=True)

    def __repr__(self):
        return "<shmlog.%s %r>" % (type(self).__name__, self.name)

    # registration (not the hot path)
    def _register(self, at_creation=False):
        global _dict_full
        lib = _lib.LIB
        b = self.bounds
        arr = (ctypes.c_double * len(b))(*b) if b is not None else None
        r = lib.shmlog_instrument(_lib.utf8(self.name), _lib.utf8(self.unit),
                                  _lib.utf8(self.description, _lib.DESC_MAX), self.kind, arr,
                                  len(b) if b is not None else 0)
        if r >= 0:
            self._id = r
            return True
        if r == -_lib.ENOTCONN or r == -_lib.EAGAIN:
            self._next_try = time.monotonic() + _RETRY_S
            return False
        msg = None
        if r == -_lib.EEXIST:
            msg = ("shmlog: instrument %r is already registered with another kind, unit or "
                   "bucket bounds" % self.name)
        elif r == -_lib.EINVAL:
            msg = "shmlog: instrument %r refused as invalid (name, unit or bounds)" % self.name
        if msg and at_creation:
            raise ValueError(msg)
        if r == -_lib.ENOSPC:
            _dict_full = True
            _warn_once("dict-full", "shmlog: the metric dictionary is full ([shm] "
                       "max_instruments): instrument %r and later new instruments and series "
                       "are not recorded" % self.name)
        elif msg:
            _warn_once(("instrument", self.name), msg + ": not recorded")
        self._id = -1  # no-op from now on
        return False

    def _resolve(self, key, attributes):
        """Series id of an attribute set: registers it (cached), or -1."""
        global _dict_full
        if self._id is None:
            if _dict_full or time.monotonic() < self._next_try or not self._register():
                return -1
        if self._id < 0 or _dict_full:
            return -1  # a no-op instrument; nothing cached (no unbounded growth)
        try:
            items = _series_items(attributes) if attributes else []
        except Exception:
            items = None
        if items is not None:
            keep, arr = _lib.attr_array(items)
            r = _lib.LIB.shmlog_series(self._id, arr, len(items))
            del keep
        else:
            r = -_lib.EINVAL
        if r >= 0:
            self._series[key] = r
            return r
        if r == -_lib.ENOTCONN or r == -_lib.EAGAIN:
            return -1  # not cached: tried again at the next measurement
        if r == -_lib.ENOSPC:
            _dict_full = True
            _warn_once("dict-full", "shmlog: the metric dictionary is full ([shm] "
                       "max_series): new series of %r and later new instruments and series "
                       "are not recorded" % self.name)
            return -1
        _warn_once(("series", self.name), "shmlog: attributes %r of %r refused (%s): "
                   "not recorded" % (attributes, self.name,
                                     "too large" if r == -_lib.EMSGSIZE else "invalid"))
        if len(self._series) < _NEG_CACHE_MAX:
            self._series[key] = -1
        return -1

    def _measure(self, value, attributes=None):
        try:
            key = frozenset(attributes.items()) if attributes else None
            sid = self._series[key]
        except KeyError:
            sid = self._resolve(key, attributes)
        except Exception:
            sid = self._slow_key(attributes)
        if sid >= 0:
            try:
                r = self._op(sid, value)
            except Exception:
                return  # not a number: dropped, as the library drops a bad value
            if r == _ENOBUFS:
                _lib.count_drop()

    def _slow_key(self, attributes):
        """Attributes with unhashable values (as str()) or given as pairs."""
        try:
            attributes = {str(k): v if isinstance(v, (str, int, float)) else str(v)
                          for k, v in dict(attributes).items()}
            key = frozenset(attributes.items())
        except Exception:
            return -1
        sid = self._series.get(key)
        return self._resolve(key, attributes) if sid is None else sid


class Counter(Instrument):
    """Monotonic sum: add(value >= 0, attributes=None)."""
    __slots__ = ()
    _kind = _lib.COUNTER
    _opname = "shmlog_add"

    add = Instrument._measure  # add(value, attributes=None): no extra call level


class UpDownCounter(Instrument):
    """Sum that goes up and down: add(value, attributes=None)."""
    __slots__ = ()
    _kind = _lib.UPDOWN_COUNTER
    _opname = "shmlog_add"

    add = Instrument._measure  # add(value, attributes=None): no extra call level


class Gauge(Instrument):
    """Last value: set(value, attributes=None)."""
    __slots__ = ()
    _kind = _lib.GAUGE
    _opname = "shmlog_set"

    set = Instrument._measure  # set(value, attributes=None): no extra call level


class Histogram(Instrument):
    """Explicit-bucket histogram: record(value, attributes=None)."""
    __slots__ = ()
    _kind = _lib.HISTOGRAM
    _opname = "shmlog_record"

    record = Instrument._measure  # record(value, attributes=None): no extra call level


def _make(cls, name, unit, description, bounds=None):
    if not isinstance(name, str) or not name or len(name.encode("utf-8", "replace")) > _lib.NAME_MAX:
        raise ValueError("shmlog: instrument name must be 1..%d bytes: %r" % (_lib.NAME_MAX, name))
    unit = unit or ""
    description = description or ""
    if len(unit.encode("utf-8", "replace")) > _lib.UNIT_MAX:
        raise ValueError("shmlog: unit of %r longer than %d bytes: %r" % (name, _lib.UNIT_MAX, unit))
    if bounds is not None:
        bounds = tuple(float(b) for b in bounds)
        if len(bounds) > _lib.MAX_BOUNDS:
            raise ValueError("shmlog: histogram %r: at most %d bounds" % (name, _lib.MAX_BOUNDS))
        if any(not math.isfinite(b) for b in bounds) or any(
                b <= a for a, b in zip(bounds, bounds[1:])):
            raise ValueError("shmlog: histogram %r: bounds must be finite and strictly "
                             "increasing: %r" % (name, bounds))
    with _lock:
        old = _registry.get(name)
        if old is not None:
            if type(old) is not cls or old.unit != unit or old.bounds != bounds:
                raise ValueError("shmlog: instrument %r is already registered with another "
                                 "kind, unit or bucket bounds" % name)
            return old
        inst = cls(name, unit, description, bounds)
        _registry[name] = inst
        return inst


def counter(name, unit="", description=""):
    """A monotonic counter (OTLP Sum, monotonic): .add(value >= 0, attributes)."""
    return _make(Counter, name, unit, description)


def updown_counter(name, unit="", description=""):
    """An up-down counter (OTLP Sum, not monotonic): .add(value, attributes)."""
    return _make(UpDownCounter, name, unit, description)


def gauge(name, unit="", description=""):
    """A gauge (OTLP Gauge, last value): .set(value, attributes)."""
    return _make(Gauge, name, unit, description)


def histogram(name, unit="", description="", bounds=None):
    """An explicit-bucket histogram: .record(value, attributes). bounds:
    up to 24 strictly increasing bucket bounds; None: OpenTelemetry's
    default (0, 5, 10, 25, ..., 10000)."""
    return _make(Histogram, name, unit, description, bounds)
