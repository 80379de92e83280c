"""Compile the collectors' small C programs with the system compiler into a cache folder.

Binaries go to ``$PWMODEL_CACHE`` or ``~/.cache/pwmodel/bin``, named by the hash of
the source and flags, so a changed source is rebuilt and an unchanged one is not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from pwmodel.errors import PwmodelError

CFLAGS = ["-O2", "-Wall", "-pthread"]


def cache_dir() -> Path:
    """Folder for compiled helpers."""
    base = os.environ.get("PWMODEL_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "pwmodel" / "bin"


def find_compiler() -> str:
    """Path of ``$CC``, ``cc``, ``gcc`` or ``clang``; PwmodelError when there is none."""
    for name in filter(None, [os.environ.get("CC"), "cc", "gcc", "clang"]):
        path = shutil.which(name)
        if path:
            return path
    raise PwmodelError("no C compiler found (tried $CC, cc, gcc, clang): install one, "
                       "e.g. 'apt-get install gcc', to run the collectors")


def build(name: str) -> Path:
    """Compile ``csrc/<name>.c`` (if not cached) and return the binary's path."""
    src = resources.files("pwmodel.collect").joinpath("csrc", f"{name}.c")
    try:
        code = src.read_bytes()
    except FileNotFoundError:
        raise PwmodelError(f"no C source for {name}", file=str(src)) from None
    cc = find_compiler()
    digest = hashlib.sha256(code + " ".join(CFLAGS).encode() + cc.encode()).hexdigest()[:16]
    out = cache_dir() / f"{name}-{digest}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_src = out.parent / f".{name}-{digest}-{os.getpid()}.c"
    tmp_bin = out.parent / f".{name}-{digest}-{os.getpid()}.bin"
    try:
        tmp_src.write_bytes(code)
        proc = subprocess.run([cc, *CFLAGS, "-o", str(tmp_bin), str(tmp_src)],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise PwmodelError(f"compiling {name}.c failed: {proc.stderr.strip()[:800]}", file=str(src))
        os.replace(tmp_bin, out)
    finally:
        for p in (tmp_src, tmp_bin):
            if p.exists():
                p.unlink()
    return out
