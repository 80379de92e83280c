"""Write the report folder: text files first, then the figures (PNG + SVG).

The same inputs give the same bytes. The whole report is built in a temporary
folder next to ``out_dir`` and then put in place, so an interrupted run never
leaves old and new files mixed:

* a new folder, or one holding only a previous report's files, is swapped with
  the new one in one atomic rename (``renameat2(RENAME_EXCHANGE)``; the old
  report is then deleted);
* a folder that also holds files pwmodel did not write keeps them: the new
  files are moved in one by one under a ``REPORT-INCOMPLETE.txt`` marker that
  is removed only when the folder is consistent again.

Rule for figures: the folder ends up with exactly the files of this report.
``--text-only`` therefore removes the figures of an earlier report there (they
would not match the new text); other files are never touched.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pwmodel import atomic
from pwmodel.errors import PwmodelError
from pwmodel.report import results as R
from pwmodel.report import style as STYLE
from pwmodel.report import tables
from pwmodel.report.text import Recorder


@dataclass
class Report:
    """What a build wrote, with the records of the numbers of each text file."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    records: dict[str, Recorder] = field(default_factory=dict)
    axis_labels: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def figure_specs(cfg: R.Config) -> list[tuple[str, Callable]]:
    """(file stem, drawing function) of every figure, in writing order."""
    from pwmodel.report import figures as FIG
    return [("crossover-map-isolation", lambda: FIG.crossover_isolation_map(cfg)),
            ("crossover-maps-rate", lambda: FIG.crossover_rate_maps(cfg)),
            ("requester-latency", lambda: FIG.requester_latency(cfg)),
            ("victim-interruption", lambda: FIG.victim_interruption(cfg)),
            ("fastpath-tax", lambda: FIG.fastpath_tax(cfg)),
            ("breakdown", lambda: FIG.breakdown(cfg)),
            ("sensitivity", lambda: FIG.sensitivity(cfg)),
            ("strategies", lambda: FIG.strategies(cfg))]


def text_specs(cfg: R.Config) -> list[tuple[str, Callable[[], tuple[str, Recorder]]]]:
    from pwmodel.report import cover
    return [("cover-letter.txt", lambda: cover.build_cover(cfg)),
            ("table.txt", lambda: tables.build_table(cfg))]


MANIFEST = ".pwmodel-report.json"
INCOMPLETE = "REPORT-INCOMPLETE.txt"


def report_names(cfg: R.Config) -> set[str]:
    """Every file name a report may write (text files and both formats of every figure)."""
    names = {n for n, _ in text_specs(cfg)}
    for stem, _ in figure_specs(cfg):
        names |= {f"{stem}.png", f"{stem}.svg"}
    return names | {MANIFEST}


def build(cfg: R.Config, out_dir: str | Path) -> Report:
    """Write the report for ``cfg`` into ``out_dir`` (created if missing; see the module
    docstring for how an existing folder is replaced)."""
    from pwmodel.outpath import check_dir
    out = Path(out_dir)
    check_dir(out)
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise PwmodelError(f"cannot create output folder: {exc.strerror}", file=str(out)) from None
    try:
        rep = _write(cfg, tmp)
        names = [p.name for p in rep.files]
        atomic.write_text(tmp / MANIFEST, json.dumps({"format": "pwmodel-report", "version": 1,
                                                      "files": names}, indent=1) + "\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        _install(tmp, out, report_names(cfg) | {INCOMPLETE})
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    rep.out_dir = out
    rep.files = [out / n for n in names]
    return rep


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    r = fn(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), RENAME_EXCHANGE)
    return r == 0


def _install(tmp: Path, out: Path, ours: set[str]) -> None:
    """Put the finished report in ``tmp`` at ``out`` (see the module docstring)."""
    if not out.exists():
        os.rename(tmp, out)
        return
    foreign = [e.name for e in out.iterdir() if e.name not in ours or not e.is_file()]
    if not foreign and _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)     # tmp now holds the old report
        return
    atomic.write_text(out / INCOMPLETE, "pwmodel report was interrupted while replacing this "
                      "folder's files: old and new files may be mixed. Run it again.\n")
    new = {e.name for e in tmp.iterdir()}
    for n in sorted(new - {MANIFEST}) + [MANIFEST]:
        os.replace(tmp / n, out / n)
    for n in sorted(ours - new - {INCOMPLETE}):
        p = out / n
        if p.is_file() and not p.is_symlink():
            p.unlink()                              # stale file of an earlier report
    (out / INCOMPLETE).unlink()


def _write(cfg: R.Config, out: Path) -> Report:
    rep = Report(out)
    R.prefetch(cfg)      # the crossovers of every text and figure, solved together
    for name, fn in text_specs(cfg):
        text, rec = fn()
        atomic.write_text(out / name, text)
        rep.files.append(out / name)
        rep.texts[name] = text
        rep.records[name] = rec
    if not cfg.text_only:
        with STYLE.Style():
            for stem, draw in figure_specs(cfg):
                fig = draw()
                rep.axis_labels[stem] = list(STYLE.axis_labels(fig))
                rep.files += STYLE.save(fig, out, stem)
    return rep
