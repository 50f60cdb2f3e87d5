# SPDX-License-Identifier: MIT
"""shmlog: Python logging and metrics through the local shmlog-collector.

A pure-Python (ctypes) binding of libshmlog.so: records and measurements go
into the collector's shared-memory rings with no system call; the collector
and shmlog-exporter ship them as OTLP.

    import logging, shmlog
    logging.getLogger().addHandler(shmlog.Handler())
    logging.getLogger(__name__).warning("disk low", extra={"free_gb": 3.5})
    requests = shmlog.counter("app.requests", "{request}", "Requests handled")
    requests.add(1, {"route": "/"})

The library: $SHMLOG_LIBRARY, else ctypes.util.find_library("shmlog"), else
libshmlog.so.1 (a copy already in the process, e.g. LD_PRELOADed, is used
first). Without it, or without a running collector, every call is a cheap
no-op: nothing raises on the logging and measurement paths, nothing prints.
SHMLOG_NAMESPACE, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES work as for
any producer.
"""
from ._lib import attached, dropped
from ._logging import Handler, severity_number
from ._metrics import (Counter, Gauge, Histogram, Instrument, UpDownCounter, counter, gauge,
                       histogram, updown_counter)

__version__ = "0.1.0"

__all__ = ["Handler", "counter", "updown_counter", "gauge", "histogram", "dropped", "attached",
           "available", "severity_number", "Instrument", "Counter", "UpDownCounter", "Gauge",
           "Histogram"]


def available():
    """True when libshmlog.so was loaded (a collector may still be absent)."""
    from . import _lib
    return _lib.LIB is not None
