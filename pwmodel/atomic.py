"""Atomic file output: write to a temporary file in the same folder, fsync, rename.

A reader never sees a half-written file, and an interrupted run leaves the
previous version (or nothing) in place. A write that fails (folder in the way,
read-only, disk full) raises :class:`PwmodelError` naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from pwmodel.errors import PwmodelError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` on success."""
    path = Path(path)
    if not str(path).strip() or path.is_dir():
        raise PwmodelError("cannot write: " + ("it is a folder" if str(path).strip() else
                                               "empty path"), file=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PwmodelError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the file the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except OSError as exc:   # disk full, folder removed meanwhile, target became a folder
        raise PwmodelError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` (e.g. a polars ``write_parquet``) and commit atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
