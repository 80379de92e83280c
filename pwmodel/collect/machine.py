"""Metadata stored with every dataset: machine, kernel, preemption model, date, command."""

from __future__ import annotations

import datetime as _dt
import gzip
import os
import platform
import re
import shlex
import sys
from pathlib import Path

from pwmodel.errors import PwmodelError
from pwmodel.machine import sysfs


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def machine_name() -> str:
    """Vendor/product from /sys/class/dmi, else the CPU model, plus the host name."""
    vendor = _read("/sys/class/dmi/id/sys_vendor")
    product = _read("/sys/class/dmi/id/product_name")
    cpu = None
    info = _read("/proc/cpuinfo") or ""
    m = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
    if m:
        cpu = m.group(1).strip()
    base = " ".join(x for x in (vendor, product) if x) or cpu or platform.processor() or "unknown"
    return f"{base} ({platform.node()})"


def preempt_model() -> str:
    """Preemption model: debugfs sched/preempt, else cmdline preempt=, else the kernel config."""
    cur = _read("/sys/kernel/debug/sched/preempt")
    if cur:
        m = re.search(r"\((\w+)\)", cur)
        return (m.group(1) if m else cur) + " (debugfs sched/preempt)"
    cmdline = _read("/proc/cmdline") or ""
    m = re.search(r"\bpreempt=(\w+)", cmdline)
    if m:
        return f"{m.group(1)} (cmdline)"
    cfg = ""
    try:
        cfg = gzip.decompress(Path("/proc/config.gz").read_bytes()).decode()
    except OSError:
        pass
    version = platform.version()
    dynamic = "CONFIG_PREEMPT_DYNAMIC=y" in cfg or "PREEMPT_DYNAMIC" in version
    for model, key in (("rt", "CONFIG_PREEMPT_RT=y"), ("full", "CONFIG_PREEMPT=y"),
                       ("lazy", "CONFIG_PREEMPT_LAZY=y"), ("voluntary", "CONFIG_PREEMPT_VOLUNTARY=y"),
                       ("none", "CONFIG_PREEMPT_NONE=y")):
        if key in cfg:
            return f"{model} (kernel config default{', PREEMPT_DYNAMIC' if dynamic else ''})"
    if "PREEMPT_RT" in version:
        return "rt (uname -v)"
    return f"unknown (uname -v: {version})"


def cpu_topology() -> list[dict]:
    """Per online CPU: package, core, SMT siblings and LLC sharing as the kernel reports them
    (read by :func:`pwmodel.machine.sysfs.read_cpus`, the reader machine detection uses)."""
    try:
        return [r.metadata() for r in sysfs.read_cpus()]
    except PwmodelError:
        return []


def loadavg() -> str | None:
    """/proc/loadavg (other load on the machine perturbs every measurement)."""
    return _read("/proc/loadavg")


def metadata(command: list[str] | None = None, **extra) -> dict:
    """Everything needed to say where, when and how a dataset was measured."""
    cmd = command if command is not None else sys.argv
    return {
        "machine": machine_name(),
        "hostname": platform.node(),
        "cpu_model": (re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo") or "", re.M) or [None, None])[1],
        "n_cpus": os.cpu_count(),
        "kernel_release": platform.release(),
        "kernel_version": platform.version(),
        "kernel_cmdline": _read("/proc/cmdline"),
        "preempt_model": preempt_model(),
        "clocksource": _read("/sys/devices/system/clocksource/clocksource0/current_clocksource"),
        "cpuidle_driver": _read("/sys/devices/system/cpu/cpuidle/current_driver"),
        "sched_rt_runtime_us": _read("/proc/sys/kernel/sched_rt_runtime_us"),
        "sched_rt_period_us": _read("/proc/sys/kernel/sched_rt_period_us"),
        "topology": cpu_topology(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(cmd),
        **extra,
    }


def config_hz() -> int | None:
    """CONFIG_HZ from /proc/config.gz (the tick period is 1/HZ), None when not readable."""
    try:
        cfg = gzip.decompress(Path("/proc/config.gz").read_bytes()).decode()
    except OSError:
        return None
    m = re.search(r"^CONFIG_HZ=(\d+)$", cfg, re.M)
    return int(m.group(1)) if m else None


def sched_sysctls() -> dict[str, str | None]:
    """Every /proc/sys/kernel/sched_* value (the scheduler settings a collection ran under)."""
    return {p.name: _read(str(p)) for p in sorted(Path("/proc/sys/kernel").glob("sched_*"))}


def cpu_times() -> dict[str, list[int]]:
    """Per-CPU /proc/stat counters (user nice system idle iowait irq softirq steal ...), in ticks."""
    out = {}
    for ln in (_read("/proc/stat") or "").splitlines():
        f = ln.split()
        if f and f[0].startswith("cpu"):
            out[f[0]] = [int(x) for x in f[1:]]
    return out


def cpu_time_share(before: dict[str, list[int]], after: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    """Per CPU, the share (%) of the elapsed CPU time in each /proc/stat state between two reads.

    ``steal_pct`` is the time the host ran something else while this vCPU was runnable.
    """
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    out = {}
    for cpu, b in before.items():
        a = after.get(cpu)
        if not a:
            continue
        d = [x - y for x, y in zip(a[:8], b[:8])]
        tot = sum(d)
        if tot > 0:
            out[cpu] = {f"{n}_pct": round(100 * v / tot, 3) for n, v in zip(names, d)}
            out[cpu]["elapsed_ticks"] = tot
    return out


def autogroup_of(pid: int) -> str | None:
    """/proc/PID/autogroup ("/autogroup-N nice K"): the helpers start a new session, so with
    kernel.sched_autogroup_enabled=1 they compete at the root run queue as one group entity."""
    return _read(f"/proc/{pid}/autogroup")
