"""``pwmodel collect``: live, time-bounded measurements on this Linux machine (root)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pwmodel import limits
from pwmodel.errors import PwmodelError
from pwmodel.outpath import check_dir


def _default_out(name: str) -> str:
    from pwmodel.data import data_dir
    return str(data_dir() / "measured" / name)


def register(subparsers) -> None:
    p = subparsers.add_parser("collect", help="run live collectors (root, tracefs)",
                              description="Bounded live experiments; every setting touched is restored "
                                          "and every helper stopped, also on Ctrl-C or error.")
    sub = p.add_subparsers(dest="collector", metavar="COLLECTOR", required=True)

    d = sub.add_parser("drain", help="trigger lru_add_drain_all() with the target CPU idle/other/fifo")
    d.add_argument("--target-state", choices=["idle", "other", "fifo"], default="idle")
    d.add_argument("--trigger", choices=["migrate_pages", "compact", "drop_caches", "stat_refresh"],
                   default="migrate_pages")
    d.add_argument("--duration", type=float, default=30.0, help="bound of the trigger loop, s")
    d.add_argument("--triggers", type=int, default=200, help="maximum number of triggers")
    d.add_argument("--interval-ms", type=float, default=50.0, help="pause between triggers, ms")
    d.add_argument("--target-cpu", type=int, default=1)
    d.add_argument("--requester-cpu", type=int, default=0)
    d.add_argument("--pages", type=int, default=16, help="fresh pages faulted on the target per trigger")
    d.add_argument("--gap-ns", type=float, default=2000.0, help="gap detector threshold, ns")
    d.add_argument("--fifo-prio", type=int, default=50)
    _fair_options(d)
    d.add_argument("--out", help="dataset folder (default data/measured/drain_<trigger>_<state>)")
    d.add_argument("--no-progress", action="store_true")
    d.set_defaults(func=_run_drain)

    s = sub.add_parser("stat-refresh", help="write /proc/sys/vm/stat_refresh: vmstat work on every CPU")
    s.add_argument("--target-state", choices=["idle", "other", "fifo"], default="idle")
    s.add_argument("--duration", type=float, default=20.0)
    s.add_argument("--triggers", type=int, default=200)
    s.add_argument("--interval-ms", type=float, default=50.0)
    s.add_argument("--target-cpu", type=int, default=1)
    s.add_argument("--requester-cpu", type=int, default=0)
    _fair_options(s)
    s.add_argument("--out", help="dataset folder (default data/measured/stat_refresh_<state>)")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=_run_stat)

    m = sub.add_parser("micro", help="c2c ping-pong, atomic, spinlock, futex and membarrier costs")
    m.add_argument("--runs", type=int, default=5)
    m.add_argument("--cpus", help="comma list of CPUs (default: all available)")
    m.add_argument("--scale", type=float, default=1.0, help="multiply the default operation counts")
    m.add_argument("--fifo-prio", type=int, default=10,
                   help="run benchmark threads SCHED_FIFO at this priority (0: SCHED_OTHER)")
    m.add_argument("--out", help="dataset folder (default data/measured/micro)")
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(func=_run_micro)


def _fair_options(p) -> None:
    p.add_argument("--policy", choices=["other", "batch", "idle"], default="other",
                   help="busy target's policy: SCHED_OTHER, SCHED_BATCH or SCHED_IDLE (state other)")
    p.add_argument("--nice", type=int, default=0, help="busy target's nice value (state other)")
    p.add_argument("--slice-ns", type=int, default=0,
                   help="busy target's custom slice (sched_setattr sched_runtime, 100000-100000000; 0: default)")
    p.add_argument("--busy-tasks", type=int, default=1, help="busy loops on the target CPU (state other)")
    p.add_argument("--sysctl", action="append", default=[], metavar="kernel.NAME=VALUE",
                   help="set a kernel.* sysctl for the run (restored afterwards); repeatable")


def _fair_kwargs(a: argparse.Namespace) -> dict:
    from pwmodel.errors import PwmodelError
    sysctls = {}
    for item in a.sysctl:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise PwmodelError(f"--sysctl must be kernel.NAME=VALUE, got {item!r}", field="sysctl")
        sysctls[name.strip()] = value.strip()
    return {"policy": a.policy, "nice": a.nice, "slice_ns": a.slice_ns, "busy_tasks": a.busy_tasks,
            "sysctls": sysctls}


def _cmd() -> list[str]:
    return ["pwmodel", *sys.argv[1:]]


#: bounds of the collectors' options (a run is minutes, not days; checked before tracefs is touched)
MAX_DURATION_S = 3600.0
MAX_TRIGGERS = 1_000_000
MAX_INTERVAL_MS = 60_000.0
MAX_PAGES = 65_536          # 256 MiB of 4 KiB pages per trigger
MAX_RUNS = 1000
MAX_SCALE = 1000.0
MAX_BUSY_TASKS = 64


def _cpu(name: str, v: int) -> int:
    n = os.cpu_count() or 1
    if not 0 <= v < n:
        raise PwmodelError(f"CPU {v} is not a CPU of this machine (0..{n - 1})", field=name)
    return v


def _check_trigger_loop(a: argparse.Namespace) -> None:
    """Options of drain and stat-refresh, all checked before anything is set up."""
    limits.check_float("--duration", a.duration, lo=0, hi=MAX_DURATION_S)
    limits.check_int("--triggers", a.triggers, 1, MAX_TRIGGERS)
    limits.check_float("--interval-ms", a.interval_ms, lo=0, lo_open=False, hi=MAX_INTERVAL_MS)
    _cpu("--target-cpu", a.target_cpu)
    _cpu("--requester-cpu", a.requester_cpu)
    if a.target_cpu == a.requester_cpu:
        raise PwmodelError(f"requester and target are the same CPU {a.target_cpu}",
                           field="--requester-cpu")
    if getattr(a, "pages", None) is not None:
        limits.check_int("--pages", a.pages, 0, MAX_PAGES)
    if getattr(a, "gap_ns", None) is not None:
        limits.check_float("--gap-ns", a.gap_ns, lo=0)
    if getattr(a, "fifo_prio", None) is not None:
        limits.check_int("--fifo-prio (SCHED_FIFO priority, 1..99)", a.fifo_prio, 1, 99, field="--fifo-prio")
    if getattr(a, "nice", None) is not None:
        limits.check_int("--nice", a.nice, -20, 19)
    if getattr(a, "slice_ns", None) and not 100_000 <= a.slice_ns <= 100_000_000:
        raise PwmodelError(f"--slice-ns must be 0 (default) or in 100000..100000000 ns, found "
                           f"{a.slice_ns}", field="--slice-ns")
    if getattr(a, "busy_tasks", None) is not None:
        limits.check_int("--busy-tasks", a.busy_tasks, 1, MAX_BUSY_TASKS)
    for item in getattr(a, "sysctl", None) or []:
        name, eq, value = item.partition("=")
        if not eq or not name.strip().startswith("kernel.") or not value.strip():
            raise PwmodelError(f"--sysctl must be kernel.NAME=VALUE, got {item!r}", field="--sysctl")
    if a.out is not None:
        check_dir(a.out)


def _run_drain(a: argparse.Namespace) -> int:
    _check_trigger_loop(a)
    from pwmodel.collect.lru import collect_drain
    out = a.out or _default_out(f"drain_{a.trigger}_{a.target_state}")
    collect_drain(out, target_state=a.target_state, trigger=a.trigger, duration_s=a.duration,
                  triggers=a.triggers, interval_ms=a.interval_ms, target_cpu=a.target_cpu,
                  requester_cpu=a.requester_cpu, pages=a.pages, gap_ns=a.gap_ns, fifo_prio=a.fifo_prio,
                  progress=not a.no_progress, command=_cmd(), **_fair_kwargs(a))
    print(f"wrote {Path(out)}")
    return 0


def _run_stat(a: argparse.Namespace) -> int:
    _check_trigger_loop(a)
    from pwmodel.collect.lru import collect_drain
    out = a.out or _default_out(f"stat_refresh_{a.target_state}")
    collect_drain(out, target_state=a.target_state, trigger="stat_refresh", duration_s=a.duration,
                  triggers=a.triggers, interval_ms=a.interval_ms, target_cpu=a.target_cpu,
                  requester_cpu=a.requester_cpu, pages=0, progress=not a.no_progress, command=_cmd(),
                  **_fair_kwargs(a))
    print(f"wrote {Path(out)}")
    return 0


def _run_micro(a: argparse.Namespace) -> int:
    limits.check_int("--runs", a.runs, 1, MAX_RUNS)
    limits.check_float("--scale", a.scale, lo=0, hi=MAX_SCALE)
    limits.check_int("--fifo-prio (0: SCHED_OTHER, else SCHED_FIFO 1..99)", a.fifo_prio, 0, 99,
                field="--fifo-prio")
    cpus = None
    if a.cpus:
        try:
            cpus = [int(x) for x in a.cpus.split(",")]
        except ValueError:
            raise PwmodelError(f"--cpus must be a comma list of integers, got {a.cpus!r}",
                               field="--cpus") from None
        for c in cpus:
            _cpu("--cpus", c)
        if len(set(cpus)) != len(cpus):
            raise PwmodelError(f"a CPU is listed twice in {a.cpus!r}", field="--cpus")
    if a.out is not None:
        check_dir(a.out)
    from pwmodel.collect.micro import collect_micro
    out = a.out or _default_out("micro")
    collect_micro(out, runs=a.runs, cpus=cpus, scale=a.scale, fifo_prio=a.fifo_prio or None, progress=not a.no_progress, command=_cmd())
    print(f"wrote {Path(out)}")
    return 0
