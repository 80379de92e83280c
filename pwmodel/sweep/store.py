"""The output folder of a sweep: one parquet file per chunk, a manifest, atomic writes.

Layout of ``DIR``::

    _sweep.json           manifest: spec fingerprint, chunk count, canonical spec
    part-000000.parquet   chunk 0 (rows in grid order), written via pwmodel.atomic
    ...
    _SUCCESS.json         written last: points, chunks, seconds

A chunk file exists only once complete (write, fsync, rename), so a killed
run resumes by computing the chunks whose file is missing. A folder holding
a different sweep (another fingerprint) is refused unless ``force``, which
removes only the files that sweep's manifest lists; files pwmodel did not
write are never removed or overwritten.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from pwmodel import atomic
from pwmodel.errors import PwmodelError
from pwmodel.sweep.spec import SweepSpec

MANIFEST = "_sweep.json"
SUCCESS = "_SUCCESS.json"
FORMAT = "pwmodel-sweep"


def _read_manifest(man: Path) -> dict:
    """A sweep manifest, or a one-line error (it is never removed when unreadable)."""
    try:
        d = json.loads(man.read_text())
    except (OSError, ValueError) as exc:
        raise PwmodelError(f"not a sweep manifest ({str(exc)[:80]}); move it away or choose "
                           "another --out", file=str(man)) from None
    if not isinstance(d, dict) or not isinstance(d.get("n_chunks"), int) or \
            isinstance(d.get("n_chunks"), bool) or d["n_chunks"] < 0 or \
            not isinstance(d.get("fingerprint"), str) or d.get("format", FORMAT) != FORMAT:
        raise PwmodelError("not a sweep manifest (no fingerprint/n_chunks); move it away or "
                           "choose another --out", file=str(man))
    return d


def _listed(folder: Path, man: dict) -> set[str]:
    """Names of the regular files the manifest ``man`` accounts for in ``folder``."""
    n = man["n_chunks"]
    width = max(6, len(str(n - 1)))
    names = {f"part-{k:0{width}d}.parquet" for k in range(n)} | {MANIFEST, SUCCESS}
    return {x for x in names if (folder / x).is_file() and not (folder / x).is_symlink()}


class Store:
    """Chunk files of one sweep in ``out_dir``."""

    def __init__(self, out_dir: str | os.PathLike, spec: SweepSpec, n_chunks: int,
                 n_points: int) -> None:
        self.dir = Path(out_dir)
        self.spec = spec
        self.n_chunks = n_chunks
        self.n_points = n_points
        self.width = max(6, len(str(n_chunks - 1)))

    def path(self, k: int) -> Path:
        return self.dir / f"part-{k:0{self.width}d}.parquet"

    def open(self, *, force: bool = False) -> list[int]:
        """Prepare the folder; return the chunk numbers still to compute (all with ``force``).

        Only files a pwmodel sweep wrote are ever removed: those its manifest lists
        (parts, manifest, success marker). A folder holding other files under the
        names this sweep writes, or parquet parts and no manifest, is refused, also
        with ``force``; unrelated files next to a sweep are left alone.
        """
        if self.dir.exists() and not self.dir.is_dir():
            raise PwmodelError("output path exists and is not a folder", file=str(self.dir))
        man = self.dir / MANIFEST
        fp = self.spec.fingerprint()
        old = _read_manifest(man) if man.exists() or man.is_symlink() else None
        mine = _listed(self.dir, old) if old is not None else set()
        if old is None:
            foreign = sorted(p.name for p in self.dir.glob("part-*.parquet")) + \
                [n for n in (SUCCESS,) if (self.dir / n).exists()]
            if foreign:
                raise PwmodelError(
                    f"folder holds files pwmodel did not write ({', '.join(foreign[:3])}) and no "
                    f"sweep manifest; choose another --out (--force removes only files a pwmodel "
                    f"sweep manifest lists)", file=str(self.dir))
        elif old.get("fingerprint") != fp and not force:
            was = dict(old.get("spec") or {})
            if was.get("chunk_points") not in (None, self.spec.chunk_points) \
                    and {**was, "chunk_points": self.spec.chunk_points} == \
                    json.loads(json.dumps(self.spec.canonical(), default=str)):
                raise PwmodelError(
                    f"folder holds this sweep in chunks of {was['chunk_points']} points; "
                    f"resume with --chunk-points {was['chunk_points']} or pass --force",
                    file=str(self.dir))
            raise PwmodelError(
                f"folder holds another sweep (fingerprint {old.get('fingerprint')!r}, this "
                f"spec {fp!r}); choose another --out or pass --force to replace it",
                file=str(self.dir))
        will = {self.path(k).name for k in range(self.n_chunks)} | {MANIFEST, SUCCESS}
        clash = sorted(n for n in will - mine
                       if (self.dir / n).exists() or (self.dir / n).is_symlink())
        if clash:
            raise PwmodelError(f"folder holds {clash[0]}, which pwmodel did not write (a folder, "
                               f"link or file its manifest does not list); choose another --out",
                               file=str(self.dir))
        replace = old is not None and (force or old.get("fingerprint") != fp)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PwmodelError(f"cannot create output folder: {exc.strerror}", file=str(self.dir)) from None
        if replace:
            for n in sorted(mine):
                (self.dir / n).unlink(missing_ok=True)
        for stale in self.dir.glob(".part-*.tmp"):   # left by a killed writer
            stale.unlink(missing_ok=True)
        atomic.write_text(man, json.dumps({
            "format": FORMAT, "version": 1,
            "fingerprint": fp, "name": self.spec.name, "n_chunks": self.n_chunks,
            "n_points": self.n_points, "spec": self.spec.canonical(),
            "source": self.spec.path}, indent=1, default=str) + "\n")
        return [k for k in range(self.n_chunks) if not self.path(k).exists()]

    def clear(self) -> None:
        """Remove the files this folder's manifest lists (never anything else)."""
        man = self.dir / MANIFEST
        if not man.exists():
            return
        for n in sorted(_listed(self.dir, _read_manifest(man))):
            (self.dir / n).unlink(missing_ok=True)

    def write(self, k: int, frame: pl.DataFrame) -> None:
        comp = self.spec.compression
        atomic.write_with(self.path(k), lambda tmp: frame.write_parquet(
            tmp, compression=comp, statistics=True))

    def finish(self, seconds: float, computed: int) -> None:
        atomic.write_text(self.dir / SUCCESS, json.dumps({
            "fingerprint": self.spec.fingerprint(), "n_points": self.n_points,
            "n_chunks": self.n_chunks, "computed_chunks": computed,
            "seconds": round(seconds, 3)}, indent=1) + "\n")

    def complete(self) -> bool:
        return (self.dir / SUCCESS).exists()

    def scan(self) -> pl.LazyFrame:
        """All chunks, in grid order, as one LazyFrame."""
        files = [str(self.path(k)) for k in range(self.n_chunks)]
        missing = [f for f in files if not Path(f).exists()]
        if missing:
            raise PwmodelError(f"{len(missing)} chunk file(s) missing, e.g. {missing[0]}; "
                               "run the sweep again to resume", file=str(self.dir))
        return pl.scan_parquet(files)


def scan(out_dir: str | os.PathLike) -> pl.LazyFrame:
    """Open a finished sweep folder as a LazyFrame (rows in grid order)."""
    d = Path(out_dir)
    try:
        man = json.loads((d / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise PwmodelError(f"not a sweep output folder: {exc}", file=str(d)) from None
    n = int(man["n_chunks"])
    width = max(6, len(str(n - 1)))
    files = [str(d / f"part-{k:0{width}d}.parquet") for k in range(n)]
    missing = [f for f in files if not Path(f).exists()]
    if missing:
        raise PwmodelError(f"{len(missing)} of {n} chunk files missing (interrupted sweep?)",
                           file=str(d))
    return pl.scan_parquet(files)
