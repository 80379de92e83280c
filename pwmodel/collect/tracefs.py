"""A private tracefs instance for one collection, removed again on exit.

Nothing global is changed: events, clock and buffer size are set on a new
instance ``instances/pwmodel-<pid>-<n>``.  If tracefs is not mounted it is
mounted for the collection and unmounted afterwards.  :func:`toplevel_state`
reads the global settings so a test can check they are unchanged.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from pathlib import Path

from pwmodel.errors import PwmodelError

ROOT = Path("/sys/kernel/tracing")
_seq = itertools.count()
TOPLEVEL_FILES = ("tracing_on", "trace_clock", "current_tracer", "set_event", "buffer_size_kb",
                  "tracing_cpumask", "trace_options")


def is_mounted(root: Path = ROOT) -> bool:
    """True when a tracefs is mounted at ``root``."""
    try:
        mounts = Path("/proc/mounts").read_text()
    except OSError:
        return False
    return any(ln.split()[1:3] == [str(root), "tracefs"] for ln in mounts.splitlines() if len(ln.split()) > 2)


def available(root: Path = ROOT) -> str | None:
    """None when root can use tracefs events here, else the reason why not."""
    if os.name != "posix" or not Path("/proc/self").exists():
        return "not Linux"
    if os.geteuid() != 0:
        return "not root"
    if not root.exists():
        return f"{root} does not exist (kernel without tracefs?)"
    if not is_mounted(root) and subprocess.run(["mountpoint", "-q", str(root)]).returncode != 0:
        return None  # not mounted yet: Tracefs() mounts it
    if not (root / "instances").exists():
        return "tracefs has no instances folder"
    return None


def toplevel_state(root: Path = ROOT) -> dict[str, str | None]:
    """Global tracefs settings (to check that a collection left them unchanged)."""
    out: dict[str, str | None] = {"mounted": str(is_mounted(root))}
    for name in TOPLEVEL_FILES:
        try:
            out[name] = (root / name).read_text()
        except OSError:
            out[name] = None
    return out


def stale_instances(root: Path = ROOT) -> list[Path]:
    """pwmodel instances whose creating process is gone."""
    out = []
    for d in (root / "instances").glob("pwmodel-*"):
        try:
            pid = int(d.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if not Path(f"/proc/{pid}").exists():
            out.append(d)
    return out


class Tracefs:
    """Context manager: a tracefs instance with ``events`` enabled on ``clock``."""

    def __init__(self, events: list[str], *, clock: str = "x86-tsc", buffer_kb: int = 32768,
                 root: Path = ROOT) -> None:
        self.events = events
        self.clock = clock
        self.buffer_kb = buffer_kb
        self.root = Path(root)
        self.mounted_here = False
        self.dir: Path | None = None
        self.enabled: list[str] = []
        self.missing: list[str] = []

    @property
    def marker(self) -> Path:
        assert self.dir is not None
        return self.dir / "trace_marker"

    def _write(self, rel: str, value: str) -> None:
        assert self.dir is not None
        try:
            (self.dir / rel).write_text(value)
        except OSError as exc:
            raise PwmodelError(f"cannot write {value.strip()!r}: {exc.strerror}", file=str(self.dir / rel)) from None

    def __enter__(self) -> "Tracefs":
        why = available(self.root)
        if why:
            raise PwmodelError(f"tracefs unavailable: {why}")
        if not is_mounted(self.root):
            r = subprocess.run(["mount", "-t", "tracefs", "nodev", str(self.root)], capture_output=True, text=True)
            if r.returncode != 0:
                raise PwmodelError(f"cannot mount tracefs: {r.stderr.strip()}", file=str(self.root))
            self.mounted_here = True
        for d in stale_instances(self.root):
            try:
                d.rmdir()
            except OSError:
                pass
        self.dir = self.root / "instances" / f"pwmodel-{os.getpid()}-{next(_seq)}"
        try:
            self.dir.mkdir()
        except OSError as exc:
            self.__exit__(None, None, None)
            raise PwmodelError(f"cannot create tracefs instance: {exc.strerror}", file=str(self.dir)) from None
        try:
            self._write("tracing_on", "0")
            if self.clock not in (self.dir / "trace_clock").read_text().replace("[", " ").replace("]", " ").split():
                raise PwmodelError(f"trace clock {self.clock!r} not offered by this kernel",
                                   file=str(self.dir / "trace_clock"))
            self._write("trace_clock", self.clock)
            self._write("buffer_size_kb", str(self.buffer_kb))
            for ev in self.events:
                p = self.dir / "events" / ev.replace(":", "/") / "enable"
                if p.exists():
                    p.write_text("1")
                    self.enabled.append(ev)
                else:
                    self.missing.append(ev)
            self._write("trace", "")
            self._write("tracing_on", "1")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def read(self) -> str:
        """Stop tracing and return the buffer as text (tracefs ``trace`` format)."""
        assert self.dir is not None
        self._write("tracing_on", "0")
        return (self.dir / "trace").read_text(errors="replace")

    def overruns(self) -> dict[int, dict[str, int]]:
        """Per CPU ring-buffer counters (overrun, dropped events, entries)."""
        out = {}
        assert self.dir is not None
        for d in sorted((self.dir / "per_cpu").glob("cpu*")):
            stats = {}
            for ln in (d / "stats").read_text().splitlines():
                k, _, v = ln.partition(":")
                if k.strip() in ("entries", "overrun", "dropped events"):
                    stats[k.strip().replace(" ", "_")] = int(v.strip().split()[0])
            out[int(d.name[3:])] = stats
        return out

    def __exit__(self, *exc) -> None:
        if self.dir is not None and self.dir.exists():
            for _ in range(50):
                try:
                    self.dir.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
        self.dir = None
        if self.mounted_here:
            subprocess.run(["umount", str(self.root)], capture_output=True)
            self.mounted_here = False
