"""Start helper processes in their own process group and always stop them.

:class:`Helpers` is a context manager: every process it started is killed (the
whole group: SIGTERM, then SIGKILL) on exit, whether the block ended normally,
by an exception, by Ctrl-C or by SIGTERM/SIGHUP (turned into KeyboardInterrupt
while the block runs).  The helpers also die with their parent (the C programs
set PR_SET_PDEATHSIG).  :func:`pinned` sets this process's CPU affinity for a
block and restores it.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from typing import Iterator

from pwmodel.errors import PwmodelError


def _raise_interrupt(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt(f"signal {signum}")


class Helpers:
    """Process-group owner for a collection."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self._old: dict[int, object] = {}

    def __enter__(self) -> "Helpers":
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                self._old[sig] = signal.signal(sig, _raise_interrupt)
            except ValueError:  # not the main thread
                pass
        return self

    def start(self, argv: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **kw)
        self.procs.append(p)
        return p

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 2.0
        for p in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.01, deadline - time.monotonic()))
        for p in self.procs:
            # the group may hold children even after the leader exited; a member left at
            # SCHED_IDLE (or a high nice) on a loaded CPU may wait seconds to be scheduled and
            # exit: give it the normal policy first, so the kill takes effect at once
            for pid in _group_members(p.pid):
                _normal_policy(pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        # the leader's exit does not mean its group's children are gone: a killed child
        # still has to be scheduled to exit (a SCHED_IDLE busy loop on a loaded CPU can take
        # a while); wait until no live (non-zombie) member of any group remains
        deadline = time.monotonic() + 30.0
        groups = {p.pid for p in self.procs}
        while groups and time.monotonic() < deadline:
            groups = {g for g in groups if _group_alive(g)}
            if groups:
                time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        try:
            self.stop_all()
        finally:
            for sig, old in self._old.items():
                signal.signal(sig, old)


def _normal_policy(pid: int) -> None:
    """SCHED_OTHER at nice 0 for ``pid`` (a helper about to be killed), if it still exists."""
    with contextlib.suppress(OSError):
        os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, 0)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies, already dead, do not count)."""
    return bool(_group_members(pgid))


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of group ``pgid``."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()   # after "pid (comm) ": state ppid pgrp
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(d))
    return out


def read_lines(proc: subprocess.Popen, deadline: float) -> Iterator[str]:
    """Lines of ``proc``'s stdout until EOF; PwmodelError when ``deadline`` (monotonic s) passes."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PwmodelError("collection timed out; helpers stopped")
            if not sel.select(timeout=min(left, 0.5)):
                continue
            line = proc.stdout.readline()
            if not line:
                return
            yield line.rstrip("\n")
    finally:
        sel.close()


@contextlib.contextmanager
def pinned(cpu: int) -> Iterator[None]:
    """Run the block with this process pinned to ``cpu``; the old affinity is restored."""
    old = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, old)
