# SPDX-License-Identifier: MIT
"""PEP 517 backend of the shmlog Python package.

setuptools.build_meta when setuptools can build wheels here (setuptools >=
70.1, or the `wheel` package installed); otherwise a small standard-library
builder of the same pure-Python wheel (py3-none-any), sdist and editable
wheel, so that `pip install --no-build-isolation --no-deps ./python` works
on a machine without network, `wheel`, or a recent setuptools.
"""
import base64
import hashlib
import importlib.util
import io
import os
import re
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _setuptools_builds_wheels():
    try:
        if importlib.util.find_spec("setuptools") is None:
            return False
        return (importlib.util.find_spec("wheel") is not None or
                importlib.util.find_spec("setuptools.command.bdist_wheel") is not None)
    except (ImportError, ValueError):
        return False


if _setuptools_builds_wheels():
    from setuptools.build_meta import *  # noqa: F401,F403
else:
    def _project():
        with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
            text = f.read().decode("utf-8")
        try:
            import tomllib
            return tomllib.loads(text)["project"]
        except ImportError:  # Python < 3.11: the few plain keys we use
            sect = text.split("[project]", 1)[1].split("\n[", 1)[0]
            return {k: v for k, v in re.findall(r'^([\w-]+)\s*=\s*"([^"]*)"', sect, re.M)}

    def _metadata():
        p = _project()
        lines = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + p["version"],
                 "Summary: " + p.get("description", ""),
                 "Requires-Python: " + p.get("requires-python", ">=3.8"), "License: MIT"]
        for c in p.get("classifiers", []) if isinstance(p.get("classifiers"), list) else []:
            lines.append("Classifier: " + c)
        body = ""
        readme = os.path.join(HERE, "README.md")
        if os.path.exists(readme):
            lines.append("Description-Content-Type: text/markdown")
            with open(readme, encoding="utf-8") as f:
                body = "\n" + f.read()
        return p["name"], p["version"], "\n".join(lines) + "\n" + body

    def _package_files():
        out = []
        for root, dirs, files in os.walk(os.path.join(HERE, "shmlog")):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for fn in sorted(files):
                if fn.endswith((".py", ".typed")):
                    full = os.path.join(root, fn)
                    out.append((os.path.relpath(full, HERE).replace(os.sep, "/"), full))
        return out

    def _write_wheel(wheel_directory, files):
        name, version, meta = _metadata()
        dist = "%s-%s" % (name, version)
        whl = dist + "-py3-none-any.whl"
        info = dist + ".dist-info/"
        files = list(files) + [
            (info + "METADATA", meta.encode("utf-8")),
            (info + "WHEEL", b"Wheel-Version: 1.0\nGenerator: shmlog _build_backend\n"
                             b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
            (info + "top_level.txt", b"shmlog\n"),
        ]
        record = []
        with zipfile.ZipFile(os.path.join(wheel_directory, whl), "w",
                             zipfile.ZIP_DEFLATED) as z:
            for arc, data in files:
                if not isinstance(data, bytes):
                    with open(data, "rb") as f:
                        data = f.read()
                z.writestr(zipfile.ZipInfo(arc, (2020, 1, 1, 0, 0, 0)), data,
                           zipfile.ZIP_DEFLATED)
                dig = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                record.append("%s,sha256=%s,%d" % (arc, dig.decode(), len(data)))
            record.append(info + "RECORD,,")
            z.writestr(zipfile.ZipInfo(info + "RECORD", (2020, 1, 1, 0, 0, 0)),
                       ("\n".join(record) + "\n").encode(), zipfile.ZIP_DEFLATED)
        return whl

    def get_requires_for_build_wheel(config_settings=None):
        return []

    def get_requires_for_build_sdist(config_settings=None):
        return []

    def get_requires_for_build_editable(config_settings=None):
        return []

    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        return _write_wheel(wheel_directory, _package_files())

    def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
        pth = (HERE + "\n").encode("utf-8")
        return _write_wheel(wheel_directory, [("__editable__.shmlog.pth", pth)])

    def build_sdist(sdist_directory, config_settings=None):
        name, version, meta = _metadata()
        dist = "%s-%s" % (name, version)
        path = os.path.join(sdist_directory, dist + ".tar.gz")
        members = [("pyproject.toml", os.path.join(HERE, "pyproject.toml")),
                   ("_build_backend.py", os.path.join(HERE, "_build_backend.py")),
                   ("README.md", os.path.join(HERE, "README.md"))] + _package_files()
        with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as t:
            def add(arc, data):
                ti = tarfile.TarInfo(dist + "/" + arc)
                ti.size, ti.mode, ti.mtime = len(data), 0o644, 1577836800
                t.addfile(ti, io.BytesIO(data))
            for arc, full in members:
                if os.path.exists(full):
                    with open(full, "rb") as f:
                        add(arc, f.read())
            add("PKG-INFO", meta.encode("utf-8"))
        return dist + ".tar.gz"
