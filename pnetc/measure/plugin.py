"""Build the instruction-count TCG plugin (pnetc/measure/qemu_plugin/insn_count.c) with the host cc, once.

The shared object is cached under $PNETC_CACHE_DIR, else $XDG_CACHE_HOME/pnetc, else
~/.cache/pnetc, in a folder named by the source's hash, so an edited plugin is rebuilt."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pnetc.errors import PnetcError


def cache_dir() -> Path:
    if os.environ.get("PNETC_CACHE_DIR"):
        return Path(os.environ["PNETC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pnetc"


def plugin_source() -> Path:
    return Path(__file__).resolve().parent / "qemu_plugin" / "insn_count.c"


def build_plugin() -> Path:
    """Path of the plugin shared object, compiling it if this source version is not cached yet."""
    src = plugin_source()
    digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    target = cache_dir() / "plugins" / digest / "libpnetc_insn_count.so"
    if target.exists():
        return target
    cc = next((c for c in (os.environ.get("CC"), "cc", "gcc", "clang") if c and shutil.which(c)), None)
    if cc is None:
        raise PnetcError("counting instructions needs a host C compiler (cc) to build the QEMU plugin")
    target.parent.mkdir(parents=True, exist_ok=True)
    # build next to the target, then rename: concurrent builds never see a half-written file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    proc = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-o", tmp, str(src)], capture_output=True, text=True)
    if proc.returncode != 0:
        os.unlink(tmp)
        raise PnetcError(f"building the QEMU instruction-count plugin failed:\n{proc.stderr.strip()}")
    os.replace(tmp, target)
    return target
