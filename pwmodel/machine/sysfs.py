"""The running machine's topology, read from ``/sys/devices/system/cpu``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pwmodel.errors import PwmodelError
from pwmodel.machine.profile import FORMAT, VERSION, Machine
from pwmodel.machine.tomlio import from_dict


def _read_list(path: Path) -> list[int]:
    """Parse a /sys cpu list such as '0-3,8-11'."""
    out: list[int] = []
    for part in path.read_text().strip().split(","):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def detect_topology(sysfs: str | os.PathLike = "/sys/devices/system/cpu") -> dict[str, Any]:
    """Read SMT siblings, LLC groups and packages of the online CPUs from sysfs.

    Returns a dict with ``levels`` (class and size per level, sizes taken as
    the most common group size) and ``cpu_units`` (unit indices per CPU).
    """
    root = Path(sysfs)
    cpus = sorted(int(p.name[3:]) for p in root.glob("cpu[0-9]*") if (p / "topology").exists())
    if not cpus:
        raise PwmodelError("no CPU topology found", file=str(root))

    def group_of(cpu: int, rel: str) -> tuple[int, ...]:
        f = root / f"cpu{cpu}" / rel
        return tuple(_read_list(f)) if f.exists() else (cpu,)

    def llc_of(cpu: int) -> tuple[int, ...]:
        cache = root / f"cpu{cpu}" / "cache"
        best: tuple[int, tuple[int, ...]] = (-1, (cpu,))
        for idx in cache.glob("index*"):
            try:
                lvl = int((idx / "level").read_text())
                shared = tuple(_read_list(idx / "shared_cpu_list"))
            except (OSError, ValueError):
                continue
            if lvl > best[0]:
                best = (lvl, shared)
        return best[1]

    rows = {c: (group_of(c, "topology/thread_siblings_list"), llc_of(c),
                group_of(c, "topology/package_cpus_list")) for c in cpus}
    names = ("smt_sibling", "same_llc", "same_socket")
    ids: list[dict[tuple[int, ...], int]] = [{}, {}, {}]
    units = []
    for c in cpus:
        u = []
        for k in range(3):
            g = rows[c][k]
            u.append(ids[k].setdefault(g, len(ids[k])))
        units.append(u + [0])   # the outermost level (the whole system) is one unit
    n_core, n_llc, n_pkg = (len(x) for x in ids)
    from collections import Counter

    def common(k: int) -> int:
        return Counter(len(g) for g in ids[k]).most_common(1)[0][0]
    smt = common(0)
    cores_per_llc = max(1, common(1) // smt)
    llc_per_pkg = max(1, n_llc // n_pkg)
    levels = [(names[0], smt), (names[1], cores_per_llc), (names[2], llc_per_pkg),
              ("cross_socket", n_pkg)]
    return {"cpus": cpus, "levels": levels, "cpu_units": units,
            "counts": {"cores": n_core, "llcs": n_llc, "packages": n_pkg}}


def detect(c2c_ns: Mapping[str, float] | None = None, *, name: str = "local",
           sysfs: str | os.PathLike = "/sys/devices/system/cpu",
           source: str = "detected from /sys") -> Machine:
    """A profile of the running machine. ``c2c_ns`` maps pair class to measured latency;
    classes without a measurement are refused rather than guessed."""
    topo = detect_topology(sysfs)
    levels = []
    cu = topo["cpu_units"]
    # drop levels of size 1 (no pairs in that class) but keep at least one
    keep = [i for i, (_, s) in enumerate(topo["levels"]) if s > 1] or [len(topo["levels"]) - 1]
    c2c_ns = dict(c2c_ns or {})
    for i in keep:
        cls, size = topo["levels"][i]
        if cls not in c2c_ns:
            raise PwmodelError(f"no measured c2c latency for pair class '{cls}' of this machine; "
                               "run 'pwmodel collect micro' or pass it", field=f"c2c_ns.{cls}")
        levels.append({"class": cls, "size": size, "c2c_ns": float(c2c_ns[cls]), "source": source})
    n = int(np.prod([lv["size"] for lv in levels]))
    if n != len(cu):
        enumeration, units = "compact", None
    else:
        enumeration, units = "explicit", [[row[i] for i in keep] for row in cu]
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "CPU part")):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    d: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "name": name, "cpu_model": model,
        "arch": os.uname().machine, "freq_hz": 3.0e9, "freq_source": "assumption: 3.0 GHz",
        "hz": 1000, "preempt_model": "voluntary",
        "topology": {"enumeration": enumeration, "levels": levels},
        "provenance": {"hz": "assumption: CONFIG_HZ=1000 (not readable from /sys; edit the file)",
                       "preempt_model": "assumption: voluntary (edit the file, or read "
                                        "/sys/kernel/debug/sched/preempt)"},
    }
    if units is not None:
        d["topology"]["cpu_units"] = units
    return from_dict(d, where=source)
