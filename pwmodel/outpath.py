"""Output paths checked before any work starts: one-line errors naming the path and the reason.

``check_file(out, inputs=...)`` refuses an empty path, a folder, a file in a
folder that cannot be created or written, a suffix the writer would not honour,
and an output that is one of the inputs (it would be overwritten while, or
before, it is read). ``check_dir(out)`` refuses an existing non-folder and an
unwritable folder or parent. Both only look; nothing is created.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from pwmodel.errors import PwmodelError


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _writable_parent(p: Path, what: str) -> None:
    """The nearest existing ancestor of ``p`` must be a writable folder."""
    q = p.parent if str(p.parent) else Path(".")
    while not q.exists():
        if q.is_symlink():
            raise PwmodelError(f"{what}: folder {q} is a dangling link", file=str(p))
        q = q.parent
    if not q.is_dir():
        raise PwmodelError(f"{what}: {q} exists and is not a folder", file=str(p))
    if not os.access(q, os.W_OK | os.X_OK) or not _probe(q):
        raise PwmodelError(f"{what}: folder {q} is not writable", file=str(p))


def _probe(folder: Path) -> bool:
    """Create and remove a file in ``folder`` (``os.access`` says yes to root everywhere,
    also on read-only file systems and in /proc)."""
    import tempfile
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pwmodel-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(tmp)
    return True


def check_file(out: str | os.PathLike | None, *, inputs: Iterable[str | os.PathLike] = (),
               suffixes: tuple[str, ...] | None = None, field: str = "--out") -> Path:
    """Raise unless ``out`` can be written as a file that is none of ``inputs``."""
    if out is None or not str(out).strip():
        raise PwmodelError("empty output path", field=field)
    p = Path(out)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise PwmodelError(f"output must end in {' or '.join(suffixes)}, found '{p.name}'",
                           file=str(p), field=field)
    if p.is_dir() or str(out).endswith(os.sep):
        raise PwmodelError("cannot write output: it is a folder", file=str(p), field=field)
    if p.exists() and not os.access(p, os.W_OK) and not os.access(p.parent or Path("."), os.W_OK):
        raise PwmodelError("cannot write output: permission denied", file=str(p), field=field)
    _writable_parent(p, "cannot write output")
    for i in inputs:
        if i is not None and str(i) and _same(p, Path(i)):
            raise PwmodelError(f"output is the input {i}; choose another output", file=str(p),
                               field=field)
    return p


def check_dir(out: str | os.PathLike | None, *, field: str = "--out") -> Path:
    """Raise unless ``out`` is (or can be created as) a writable folder."""
    if out is None or not str(out).strip():
        raise PwmodelError("empty output folder path", field=field)
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise PwmodelError("output folder exists and is not a folder", file=str(p), field=field)
    if p.is_dir() and (not os.access(p, os.W_OK | os.X_OK) or not _probe(p)):
        raise PwmodelError("output folder is not writable", file=str(p), field=field)
    if not p.exists():
        _writable_parent(p, "cannot create output folder")
    return p
