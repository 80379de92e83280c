"""Write the report folder: the text files, and the figures (PNG + SVG) drawn meanwhile in a
second process where that is safe (:class:`Figures`), else after the text.

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
import warnings
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
    figs = None if cfg.text_only else Figures(cfg, out)   # the second process starts here
    try:
        # the crossovers of every text and figure, solved together (by the figure process
        # if there is one, while this one solves the intervals)
        R.prefetch(cfg, figs.crossovers if figs is not None and figs.proc is not None else None)
        for name, fn in text_specs(cfg):
            text, rec = fn()
            atomic.write_text(out / name, text)
            rep.files.append(out / name)
            rep.texts[name] = text
            rep.records[name] = rec
        if figs is not None:
            for stem, labels in figs.finish():
                rep.axis_labels[stem] = labels
                rep.files += [out / f"{stem}.png", out / f"{stem}.svg"]
    finally:
        if figs is not None:
            figs.close()
    return rep


# ---- the figures, in a second process while this one writes the text -------------------
#: "auto": draw the figures in a second process when forking is safe (below), else here;
#: "never": always here; "always": always fork (the tests' stand-in figures).
FIGURE_PROCESS = "auto"

# threads that may run when the process forks: the main thread (named as the process),
# the memory allocator's background threads and polars' spill-file cleaner (both started
# when polars is imported, and fork-safe). polars' compute threads ("polars-0", ...) are
# not: a forked child would hand its work to threads it does not have and wait forever.
_FORK_SAFE_THREADS = {"jemalloc_bg_thd", "polars-ooc-clea"}


def fork_is_safe() -> bool:
    """Whether a forked child can run the figures: Linux fork, no other Python thread, and
    no native thread beyond the known fork-safe ones (so no polars query has run yet)."""
    import multiprocessing
    import threading
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() != 1:
        return False
    try:
        me = Path("/proc/self/comm").read_text().strip()
        tasks = Path("/proc/self/task")
        names = {(tasks / t / "comm").read_text().strip() for t in os.listdir(tasks)}
    except OSError:
        return False
    return names <= _FORK_SAFE_THREADS | {me}


# the order the two processes draw in (the child from the front, the parent from the back):
# the longest first (measured on the bundled report), so that what is left when the parent
# joins in is short figures, which the two share out evenly; the files keep their order
DRAW_ORDER = ("requester-latency", "crossover-maps-rate", "crossover-map-isolation",
              "strategies", "fastpath-tax", "victim-interruption", "sensitivity", "breakdown")


class FigureProcessError(PwmodelError):
    """The figure process ended without saying why (killed, out of memory)."""


class _RemoteTraceback(Exception):
    """The figure process's traceback, chained to the exception raised here."""

    def __str__(self) -> str:
        return self.args[0]


class Figures:
    """The report's figures, written into ``out`` (the report's temporary folder) as
    ``stem.png`` and ``stem.svg``, each file atomically.

    With a second process (see :data:`FIGURE_PROCESS`): the child is forked before this
    process computes anything; it solves the report's crossovers and hands them over
    (:meth:`crossovers`), then takes figures from the front of the list while this one
    writes the text; :meth:`finish` then takes what is left from the back, so the two end
    together. A figure that fails in the child raises the same exception here (its
    traceback chained); the child ignores Ctrl-C and is ended by :meth:`close` (and by the
    kernel if this process dies), so an interrupted run leaves no process behind, and the
    caller removes the temporary folder with any figure written so far."""

    def __init__(self, cfg: R.Config, out: Path) -> None:
        self.cfg, self.out = cfg, out
        self.specs = figure_specs(cfg)
        rank = {stem: i for i, stem in enumerate(DRAW_ORDER)}
        self.order = sorted(range(len(self.specs)),
                            key=lambda k: rank.get(self.specs[k][0], len(rank)))
        self.labels: dict[int, list[tuple[str, str]]] = {}
        self._crossovers: dict[tuple, object] | None = None
        self.proc = None
        if FIGURE_PROCESS == "always" or (FIGURE_PROCESS == "auto" and fork_is_safe()):
            import multiprocessing
            ctx = multiprocessing.get_context("fork")
            self.lock = ctx.Lock()
            self.bounds = ctx.RawArray("i", [0, len(self.specs)])   # [next front, end)
            self.conn, child_end = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=self._child, args=(child_end, os.getpid()),
                                    daemon=True, name="pwmodel-figures")
            with warnings.catch_warnings():   # Python >= 3.12 warns of the native threads
                warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                        DeprecationWarning)   # checked: fork_is_safe
                self.proc.start()
            child_end.close()

    def _take(self, front: bool) -> int | None:
        """Index of the next figure not yet taken (from the front or the back of
        :data:`DRAW_ORDER`), or None."""
        with self.lock:
            lo, hi = self.bounds[0], self.bounds[1]
            if lo >= hi:
                return None
            if front:
                self.bounds[0] = lo + 1
                return self.order[lo]
            self.bounds[1] = hi - 1
            return self.order[hi - 1]

    def _render(self, k: int) -> list[tuple[str, str]]:
        stem, draw = self.specs[k]
        with STYLE.Style():
            fig = draw()
            labels = list(STYLE.axis_labels(fig))
            STYLE.save(fig, self.out, stem)
        return labels

    def _child(self, conn, parent: int) -> None:
        import pickle
        import signal
        import traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent ends it (close)
        _die_with_parent(parent)
        try:
            conn.send(("crossovers", R.solved_crossovers(R.crossover_keys(self.cfg))))
            while (k := self._take(front=True)) is not None:
                conn.send(("figure", (k, self._render(k))))
        except BaseException as exc:                   # noqa: BLE001 (sent to the parent)
            tb = traceback.format_exc()
            try:                  # sent as it is if it arrives as it is, else as text
                back = pickle.loads(pickle.dumps(exc))
                if type(back) is not type(exc) or str(back) != str(exc):
                    exc = None
            except Exception:                          # noqa: BLE001
                exc = None
            conn.send(("error", (exc, tb)))
        finally:
            conn.close()

    def crossovers(self) -> dict[tuple, object]:
        """The crossovers the child solved first (:func:`pwmodel.report.queries.prefetch`)."""
        while self._crossovers is None:
            self._receive()
        return self._crossovers

    def finish(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Draw what the child has not taken, wait for the child's: (stem, axis labels) of
        every figure, in writing order."""
        if self.proc is None:
            for k in range(len(self.specs)):
                self.labels[k] = self._render(k)
        else:
            while (k := self._take(front=False)) is not None:
                self.labels[k] = self._render(k)
            while len(self.labels) < len(self.specs):
                self._receive()
        return [(self.specs[k][0], self.labels[k]) for k in range(len(self.specs))]

    def _receive(self) -> None:
        try:
            kind, got = self.conn.recv()
        except EOFError:
            self.proc.join()
            raise FigureProcessError(f"the figure process ended unexpectedly (exit code "
                                     f"{self.proc.exitcode})", file=str(self.out)) from None
        if kind == "error":
            exc, tb = got
            if exc is None:
                exc = PwmodelError("a figure failed in the figure process: "
                                   + tb.strip().splitlines()[-1])
            raise exc from _RemoteTraceback(tb)
        if kind == "crossovers":
            self._crossovers = got
        else:
            k, labels = got
            self.labels[k] = labels

    def close(self) -> None:
        """End the child (done or not) and wait for it."""
        if self.proc is None:
            return
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()
        self.conn.close()
        self.proc = None


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel send SIGTERM to this process when its parent dies (and end
    now if it already has)."""
    import signal
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
