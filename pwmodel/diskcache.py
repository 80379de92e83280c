"""The cache folder: work a fresh process would otherwise repeat, kept between runs.

The folder is ``$PWMODEL_CACHE``, else ``$XDG_CACHE_HOME/pwmodel``, else
``~/.cache/pwmodel``. Entries are named by a hash of everything their content depends on
(the package version, the source of the code that computed them, the library versions
and the inputs), so a change to any of them gives a new name instead of a stale entry.
Files are written atomically (:mod:`pwmodel.atomic`: never half a file); an unreadable
entry is recomputed and written again, and a folder that cannot be written only costs
the recomputation (the output is the same either way).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from pwmodel import __version__


def root() -> Path:
    """The cache folder (read from the environment on every call)."""
    base = os.environ.get("PWMODEL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pwmodel")
    return Path(base)


@functools.lru_cache(maxsize=None)
def source_hash(*modules: str) -> str:
    """sha256 over the package version and the source files of ``modules`` (dotted names
    of pwmodel modules, or of packages: every ``.py`` file under them)."""
    import importlib.util
    h = hashlib.sha256(__version__.encode())
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            h.update(f"missing {name}".encode())
            continue
        origin = Path(spec.origin)
        files = (sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py"
                 else [origin])
        for f in files:
            h.update(str(f.relative_to(origin.parent)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def key(*parts: object) -> str:
    """A file name stem from ``parts`` (their ``repr``, hashed)."""
    return hashlib.sha256("\n".join(map(repr, parts)).encode()).hexdigest()[:32]


def read(kind: str, name: str) -> bytes | None:
    """The bytes of entry ``name`` of ``kind``, or None (absent or unreadable)."""
    try:
        return (root() / kind / name).read_bytes()
    except OSError:
        return None


def write(kind: str, name: str, data: bytes) -> None:
    """Store entry ``name`` of ``kind`` atomically; an unwritable folder is skipped."""
    from pwmodel import atomic
    from pwmodel.errors import PwmodelError
    try:
        atomic.write_bytes(root() / kind / name, data)
    except (OSError, PwmodelError):
        pass
