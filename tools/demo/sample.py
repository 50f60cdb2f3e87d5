#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A sample workload for tools/demo.sh: an unmodified Python program that
# logs through the logging module (stderr) and print() (stdout and stderr).
# Run with LD_PRELOAD=libshmlog.so, each line becomes one OTLP log record
# with log.iostream = stdout|stderr. Prints exactly LINES lines.
import logging
import sys

LINES = 6

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("sample")

print("sample.py: starting a pretend training run")
log.info("epoch 1 loss=0.731 accuracy=0.62")
log.warning("learning rate %.0e looks high", 3e-2)
log.error("checkpoint upload failed: retrying")
print("ERROR: dataset shard 3 missing, using shard 4", file=sys.stderr)
print("sample.py: done")
