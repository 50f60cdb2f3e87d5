# SPDX-License-Identifier: MIT
"""ctypes binding of libshmlog.so (shm/shmlog.h); private.

LIB is the loaded library, or None when it cannot be loaded: then every
public call is a no-op. Nothing here prints or raises at import.
"""
import ctypes
import ctypes.util
import errno
import os
import struct
import threading

# shmlog.h
ATTR_STR, ATTR_INT, ATTR_DOUBLE, ATTR_BOOL = 1, 2, 3, 4
COUNTER, UPDOWN_COUNTER, GAUGE, HISTOGRAM = 1, 2, 3, 4
ATTRS_MAX = 8192  # SHMLOG_ATTRS_MAX: 4 + key + value bytes per attribute
SERIES_ATTRS_MAX = 224
KEY_MAX = 255
MAX_BOUNDS = 24
NAME_MAX, UNIT_MAX, DESC_MAX = 95, 31, 111
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

ENOTCONN = errno.ENOTCONN
ENOBUFS = errno.ENOBUFS
EMSGSIZE = errno.EMSGSIZE
EEXIST = errno.EEXIST
ENOSPC = errno.ENOSPC
EINVAL = errno.EINVAL
EAGAIN = errno.EAGAIN


class _Value(ctypes.Union):
    _fields_ = [("s", ctypes.c_char_p), ("i", ctypes.c_int64), ("d", ctypes.c_double),
                ("b", ctypes.c_int)]


class Attr(ctypes.Structure):
    """struct shmlog_attr."""
    _fields_ = [("key", ctypes.c_char_p), ("type", ctypes.c_int), ("v", _Value)]


_SIGS = {
    "shmlog_log": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
                                  ctypes.c_void_p, ctypes.c_size_t]),
    "shmlog_log_span": (ctypes.c_int, [ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                                       ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                       ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint8]),
    "shmlog_instrument": (ctypes.c_int, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_int, ctypes.POINTER(ctypes.c_double),
                                         ctypes.c_size_t]),
    "shmlog_series": (ctypes.c_int, [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]),
    "shmlog_add": (ctypes.c_int, [ctypes.c_int, ctypes.c_double]),
    "shmlog_set": (ctypes.c_int, [ctypes.c_int, ctypes.c_double]),
    "shmlog_record": (ctypes.c_int, [ctypes.c_int, ctypes.c_double]),
    "shmlog_attached": (ctypes.c_int, []),
}


def _bind(lib):
    for name, (res, args) in _SIGS.items():
        fn = getattr(lib, name)  # AttributeError: not our library
        fn.restype = res
        fn.argtypes = args
    return lib


def _candidates():
    path = os.environ.get("SHMLOG_LIBRARY")
    if path:
        return [path]  # named explicitly: no other copy
    out = []
    try:
        found = ctypes.util.find_library("shmlog")
    except Exception:
        found = None
    if found:
        out.append(found)
    out.append("libshmlog.so.1")
    return out


def _load():
    # Already in the process (LD_PRELOAD, or linked in): use that copy, never
    # a second one (two copies would be two producers).
    try:
        return _bind(ctypes.CDLL(None))
    except (OSError, AttributeError):
        pass
    for c in _candidates():
        try:
            return _bind(ctypes.CDLL(c))
        except (OSError, AttributeError):
            continue
    return None


try:
    LIB = _load()
except Exception:  # never fail the import
    LIB = None

# --- dropped records and measurements (ring full, too large) ---------------
_drop_lock = threading.Lock()
_dropped = 0


def count_drop():
    global _dropped
    with _drop_lock:
        _dropped += 1


def dropped():
    """Records and measurements this process dropped: ring full (-ENOBUFS)
    or a record too large (-EMSGSIZE). The collector counts them too."""
    return _dropped


def attached():
    """True when attached to a running collector's segment (tries to attach,
    at most once a second, when not)."""
    return bool(LIB is not None and LIB.shmlog_attached())


# --- encoding helpers --------------------------------------------------------

def utf8(s, limit=None):
    """s (any object) as UTF-8 bytes without NUL, at most limit bytes, cut
    at a character boundary."""
    if not isinstance(s, str):
        s = str(s)
    b = s.encode("utf-8", "replace")
    if b"\0" in b:
        b = b.replace(b"\0", b"\xef\xbf\xbd")
    if limit is not None and len(b) > limit:
        b = cut(b, limit)
    return b


def cut(b, limit):
    """The first limit bytes of UTF-8 b, not splitting a character."""
    if len(b) <= limit:
        return b
    i = limit
    while i > 0 and (b[i] & 0xC0) == 0x80:
        i -= 1
    return b[:i]


def typed(key, v, limit=65535):
    """(key bytes, type, value, size) for an attribute value: bool, int
    (int64; larger as a string), float, str (at most limit bytes); anything
    else as str(v)."""
    if v is True or v is False:
        return key, ATTR_BOOL, int(v), 4 + len(key) + 1
    t = type(v)
    if t is float or isinstance(v, float):
        return key, ATTR_DOUBLE, float(v), 4 + len(key) + 8
    if t is not str and (isinstance(v, int) or hasattr(t, "__index__")):
        try:
            v = v.__index__()  # int subclasses, numpy integers
            if INT64_MIN <= v <= INT64_MAX:
                return key, ATTR_INT, v, 4 + len(key) + 8
        except Exception:
            pass
    b = utf8(v, limit)
    return key, ATTR_STR, b, 4 + len(key) + len(b)


# struct shmlog_attr packed with struct (faster than filling ctypes fields):
# key pointer, type, padding, then the 8-byte union.
_PACK = {ATTR_STR: "Pi4xP", ATTR_INT: "Pi4xq", ATTR_DOUBLE: "Pi4xd", ATTR_BOOL: "Pi4xi4x"}
_PACKED_OK = all(struct.calcsize("@" + f) == ctypes.sizeof(Attr) for f in _PACK.values())
_structs = {}


def attr_array(items):
    """The attrs argument for items (key bytes, type, value, size): returns
    (keepalive, argument); keepalive must live until the call returns."""
    if not items:
        return None, None
    if not _PACKED_OK:
        return _attr_array_ctypes(items)
    parts = []
    offs = []
    sig = []
    off = 0
    for k, t, v, _ in items:
        parts.append(k)
        offs.append(off)
        off += len(k) + 1
        if t == ATTR_STR:
            parts.append(v)
            offs.append(off)
            off += len(v) + 1
        sig.append(t)
    buf = ctypes.create_string_buffer(b"\0".join(parts), off)
    base = ctypes.addressof(buf)
    vals = []
    j = 0
    for k, t, v, _ in items:
        vals.append(base + offs[j])
        vals.append(t)
        if t == ATTR_STR:
            vals.append(base + offs[j + 1])
            j += 2
        else:
            vals.append(v)
            j += 1
    sig = tuple(sig)
    st = _structs.get(sig)
    if st is None:
        st = struct.Struct("@" + "".join(_PACK[t] for t in sig))
        if len(_structs) < 1024:
            _structs[sig] = st
    return buf, st.pack(*vals)


def _attr_array_ctypes(items):
    arr = (Attr * len(items))()
    for i, (k, t, v, _) in enumerate(items):
        a = arr[i]
        a.key = k
        a.type = t
        if t == ATTR_STR:
            a.v.s = v
        elif t == ATTR_INT:
            a.v.i = v
        elif t == ATTR_DOUBLE:
            a.v.d = v
        else:
            a.v.b = v
    return arr, arr
