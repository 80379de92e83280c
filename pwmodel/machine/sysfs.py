"""The running machine's topology, read once from ``/sys/devices/system/cpu``.

:func:`read_cpus` is the one reader of the kernel's topology files: machine
detection (:func:`detect_topology`, :func:`detect`) and the collectors'
metadata and pair classes (:mod:`pwmodel.collect`) use it. :func:`pair_class`
names a CPU pair with the profile vocabulary :data:`PAIR_CLASSES`
(``smt_sibling`` < ``same_llc`` < ``same_socket`` < ``cross_socket``), the
same names as the detected profile's levels.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from pwmodel.errors import PwmodelError
from pwmodel.machine.profile import FORMAT, VERSION, Machine
from pwmodel.machine.tomlio import from_dict

SYSFS_CPU = "/sys/devices/system/cpu"
PAIR_CLASSES = ("smt_sibling", "same_llc", "same_socket", "cross_socket")


def parse_cpu_list(text: str | None) -> tuple[int, ...]:
    """A /sys cpu list such as '0-3,8-11' as CPU ids (empty for None or '')."""
    out: list[int] = []
    for part in (text or "").strip().split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return tuple(out)


def format_cpu_list(cpus: Iterable[int]) -> str:
    """CPU ids as the kernel prints a cpu list (runs of two or more as 'a-b')."""
    xs = sorted(set(cpus))
    parts: list[str] = []
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        parts.append(str(xs[i]) if i == j else f"{xs[i]}-{xs[j]}")
        i = j + 1
    return ",".join(parts)


@dataclass(frozen=True)
class CpuTopology:
    """One online CPU as the kernel reports it. ``package`` is empty when the kernel gives
    only the package id (then ``package_id`` decides whether two CPUs share a package)."""

    cpu: int
    siblings: tuple[int, ...]          # SMT siblings, this CPU included
    llc: tuple[int, ...]               # CPUs sharing the highest cache level
    package: tuple[int, ...]           # CPUs of the same package
    package_id: str | None = None
    core_id: str | None = None

    def metadata(self) -> dict[str, Any]:
        """The row stored in a dataset's metadata (cpu lists as the kernel prints them)."""
        return {"cpu": self.cpu, "package": self.package_id, "core": self.core_id,
                "siblings": format_cpu_list(self.siblings) or None,
                "llc_cpus": format_cpu_list(self.llc) or None}

    @classmethod
    def from_metadata(cls, row: Mapping[str, Any]) -> "CpuTopology":
        """The inverse of :meth:`metadata` (the package's CPU list is not stored there)."""
        cpu = int(row["cpu"])
        return cls(cpu, parse_cpu_list(row.get("siblings")) or (cpu,),
                   parse_cpu_list(row.get("llc_cpus")) or (cpu,), (),
                   None if row.get("package") is None else str(row["package"]),
                   None if row.get("core") is None else str(row["core"]))


def _text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def read_cpus(sysfs: str | os.PathLike = SYSFS_CPU) -> list[CpuTopology]:
    """SMT siblings, last-level-cache group and package of every online CPU, in CPU order.

    The package's CPUs come from ``package_cpus_list`` (``core_siblings_list`` on older
    kernels), else from equal ``physical_package_id``; a CPU without cache entries is its
    own LLC group.
    """
    root = Path(sysfs)
    cpus = sorted(int(p.name[3:]) for p in root.glob("cpu[0-9]*") if (p / "topology").exists())
    if not cpus:
        raise PwmodelError("no CPU topology found", file=str(root))
    rows = []
    for c in cpus:
        topo = root / f"cpu{c}" / "topology"
        best: tuple[int, tuple[int, ...]] = (-1, (c,))
        for idx in (root / f"cpu{c}" / "cache").glob("index*"):
            try:
                lvl = int((idx / "level").read_text())
                shared = parse_cpu_list((idx / "shared_cpu_list").read_text())
            except (OSError, ValueError):
                continue
            if lvl > best[0]:
                best = (lvl, shared)
        pkg_text = _text(topo / "package_cpus_list") or _text(topo / "core_siblings_list")
        rows.append(CpuTopology(c, parse_cpu_list(_text(topo / "thread_siblings_list")) or (c,),
                                best[1], parse_cpu_list(pkg_text),
                                _text(topo / "physical_package_id"), _text(topo / "core_id")))
    by_id: dict[str, list[int]] = {}
    for r in rows:
        if r.package_id is not None:
            by_id.setdefault(r.package_id, []).append(r.cpu)
    return [r if r.package else CpuTopology(r.cpu, r.siblings, r.llc,
                                            tuple(by_id.get(r.package_id or "", [r.cpu])),
                                            r.package_id, r.core_id) for r in rows]


def pair_class(a: int, b: int, cpus: Iterable[CpuTopology]) -> str:
    """Pair class of CPUs ``a`` and ``b`` (:data:`PAIR_CLASSES`; ``self`` when equal,
    ``unknown`` when either is not listed)."""
    by_cpu = {r.cpu: r for r in cpus}
    if a not in by_cpu or b not in by_cpu:
        return "unknown"
    if a == b:
        return "self"
    ra, rb = by_cpu[a], by_cpu[b]
    if b in ra.siblings:
        return "smt_sibling"
    if b in ra.llc:
        return "same_llc"
    if ra.package:
        same = b in ra.package
    else:
        same = ra.package_id is not None and ra.package_id == rb.package_id
    return "same_socket" if same else "cross_socket"


def detect_topology(sysfs: str | os.PathLike = SYSFS_CPU) -> dict[str, Any]:
    """SMT siblings, LLC groups and packages of the online CPUs (:func:`read_cpus`) as levels.

    Returns a dict with ``levels`` (class and size per level, sizes taken as
    the most common group size) and ``cpu_units`` (unit indices per CPU).
    """
    rows = read_cpus(sysfs)
    cpus = [r.cpu for r in rows]
    ids: list[dict[tuple[int, ...], int]] = [{}, {}, {}]
    units = []
    for r in rows:
        u = [ids[k].setdefault(g, len(ids[k])) for k, g in enumerate((r.siblings, r.llc, r.package))]
        units.append(u + [0])   # the outermost level (the whole system) is one unit
    n_core, n_llc, n_pkg = (len(x) for x in ids)

    def common(k: int) -> int:
        return Counter(len(g) for g in ids[k]).most_common(1)[0][0]
    smt = common(0)
    cores_per_llc = max(1, common(1) // smt)
    llc_per_pkg = max(1, n_llc // n_pkg)
    sizes = (smt, cores_per_llc, llc_per_pkg, n_pkg)
    levels = list(zip(PAIR_CLASSES, sizes))
    return {"cpus": cpus, "levels": levels, "cpu_units": units,
            "counts": {"cores": n_core, "llcs": n_llc, "packages": n_pkg}}


def detect(c2c_ns: Mapping[str, float] | None = None, *, name: str = "local",
           sysfs: str | os.PathLike = SYSFS_CPU,
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
