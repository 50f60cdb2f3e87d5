#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The configuration reference cannot drift: the keys that
`shmlog-collector --help-config` prints (from the parser's own table) are
exactly the keys conf/shmlog.ini documents, section by section, and both
daemons print the same reference. (That conf/shmlog.ini loads to the
built-in defaults is test_config's job.)"""
import re
import subprocess
import sys

build, src = sys.argv[1], sys.argv[2]


def reference(daemon):
    out = subprocess.run([f"{build}/bin/{daemon}", "--help-config"], check=True,
                         capture_output=True, text=True).stdout
    keys, section = set(), None
    for line in out.splitlines():
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            section = m.group(1)
            continue
        m = re.fullmatch(r"  (\w+) = .*", line)
        if m:
            keys.add((section, m.group(1)))
    return out, keys


def documented():
    keys, section = set(), None
    with open(f"{src}/conf/shmlog.ini") as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in ";#":
                continue
            m = re.fullmatch(r"\[(\w+)\]", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"(\w+)\s*=", line)
            if m:
                keys.add((section, m.group(1)))
    return keys


out_c, ref = reference("shmlog-collector")
out_e, _ = reference("shmlog-exporter")
doc = documented()
problems = []
if out_c != out_e:
    problems.append("the two daemons print different references")
if len(ref) < 40:
    problems.append(f"only {len(ref)} keys in the reference")
for k in sorted(ref - doc):
    problems.append(f"[{k[0]}] {k[1]} is a key but conf/shmlog.ini does not document it")
for k in sorted(doc - ref):
    problems.append(f"conf/shmlog.ini documents [{k[0]}] {k[1]}, which is not a key")
for p in problems:
    print(p)
print(f"{len(ref)} keys in the reference, {len(doc)} documented")
sys.exit(1 if problems else 0)
