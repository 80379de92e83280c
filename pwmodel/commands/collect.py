"""``pwmodel collect``: live, time-bounded measurements on this Linux machine (root)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def _run_drain(a: argparse.Namespace) -> int:
    from pwmodel.collect.lru import collect_drain
    out = a.out or _default_out(f"drain_{a.trigger}_{a.target_state}")
    collect_drain(out, target_state=a.target_state, trigger=a.trigger, duration_s=a.duration,
                  triggers=a.triggers, interval_ms=a.interval_ms, target_cpu=a.target_cpu,
                  requester_cpu=a.requester_cpu, pages=a.pages, gap_ns=a.gap_ns, fifo_prio=a.fifo_prio,
                  progress=not a.no_progress, command=_cmd(), **_fair_kwargs(a))
    print(f"wrote {Path(out)}")
    return 0


def _run_stat(a: argparse.Namespace) -> int:
    from pwmodel.collect.lru import collect_drain
    out = a.out or _default_out(f"stat_refresh_{a.target_state}")
    collect_drain(out, target_state=a.target_state, trigger="stat_refresh", duration_s=a.duration,
                  triggers=a.triggers, interval_ms=a.interval_ms, target_cpu=a.target_cpu,
                  requester_cpu=a.requester_cpu, pages=0, progress=not a.no_progress, command=_cmd(),
                  **_fair_kwargs(a))
    print(f"wrote {Path(out)}")
    return 0


def _run_micro(a: argparse.Namespace) -> int:
    from pwmodel.collect.micro import collect_micro
    from pwmodel.errors import PwmodelError
    cpus = None
    if a.cpus:
        try:
            cpus = [int(x) for x in a.cpus.split(",")]
        except ValueError:
            raise PwmodelError(f"--cpus must be a comma list of integers, got {a.cpus!r}", field="cpus") from None
    out = a.out or _default_out("micro")
    collect_micro(out, runs=a.runs, cpus=cpus, scale=a.scale, fifo_prio=a.fifo_prio or None, progress=not a.no_progress, command=_cmd())
    print(f"wrote {Path(out)}")
    return 0
