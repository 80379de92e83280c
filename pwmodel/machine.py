"""Machine profiles: topology, core-to-core latency per pair class, costs, idle states.

A profile is a versioned TOML file (``format = "pwmodel-machine"``,
``version = 1``). Topology is a list of nested levels, innermost first; each
level names the *pair class* of two CPUs whose smallest common unit is that
level, the number of sub-units one unit holds, and the one-way line-transfer
latency of that class (``c2c_ns``) with its source. Example (2-socket EPYC):
``smt_sibling`` (2 threads per core) < ``same_llc`` (8 cores per CCX) <
``same_socket`` (6 CCX per socket) < ``cross_socket`` (2 sockets).

CPU ids map to units by the ``enumeration`` rule: ``smt_last`` (x86 Linux:
the second hardware thread of every core is numbered after all first
threads), ``compact`` (siblings adjacent), or an explicit ``cpu_units`` table
(one row per CPU id: the unit index at each level, as read from /sys).

Costs (``[costs]``) set registry parameters of this machine, one table per
parameter: ``value`` and ``source`` (required), and optionally an interval of
the value, ``low`` and ``high`` (same unit, ``low <= value <= high``, both
inside the parameter's bounds), with ``interval_source`` saying where the
interval comes from (a fitted confidence interval, bootstrap percentiles, a
published spread; defaults to ``source``)::

    [costs]
    ipi_ns = { value = 4335.8, low = 4139.0, high = 4520.0,
               source = "measured/micro: ...", interval_source = "95% bootstrap CI" }

The intervals reach :func:`pwmodel.params.resolve` through
:meth:`Machine.param_intervals` and from there every uncertainty interval the
model prints; ``pwmodel machine check`` validates them and ``machine show``
prints them. A value without an interval keeps the registry's range for that
parameter when the value lies inside it.

Bundled profiles live in ``pwmodel/profiles/*.toml``; :func:`detect` reads
the running machine's topology from ``/sys/devices/system/cpu``.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pwmodel import params as P
from pwmodel.errors import PwmodelError

FORMAT = "pwmodel-machine"
VERSION = 1
PREEMPT_MODELS = ("none", "voluntary", "full", "lazy", "rt")
ENUMERATIONS = ("smt_last", "compact", "explicit")

_TOP_KEYS = {"format", "version", "name", "description", "cpu_model", "arch", "freq_hz",
             "freq_source", "hz", "preempt_model", "virtualised", "notes", "topology",
             "costs", "idle_states", "provenance"}
_LEVEL_KEYS = {"class", "size", "c2c_ns", "source"}
_IDLE_KEYS = {"name", "exit_latency_ns", "target_residency_ns", "source"}


@dataclass(frozen=True)
class Level:
    pair_class: str
    size: int
    c2c_ns: float
    source: str


@dataclass(frozen=True)
class IdleState:
    name: str
    exit_latency_ns: float
    target_residency_ns: float
    source: str


@dataclass(frozen=True)
class Machine:
    """A machine profile (see module docstring). Times in ns, frequencies in Hz."""

    name: str
    description: str
    cpu_model: str
    arch: str
    freq_hz: float
    freq_source: str
    hz: int
    preempt_model: str
    levels: tuple[Level, ...]
    enumeration: str
    costs: Mapping[str, tuple[float, str]]
    idle_states: tuple[IdleState, ...]
    cpu_units: tuple[tuple[int, ...], ...] | None = None
    virtualised: bool = False
    notes: str = ""
    path: str | None = None
    provenance: Mapping[str, str] = field(default_factory=dict)
    cost_intervals: Mapping[str, tuple[float, float, str]] = field(default_factory=dict)

    # ---- topology ------------------------------------------------------------
    @property
    def n_cpus(self) -> int:
        return int(np.prod([lv.size for lv in self.levels]))

    @property
    def pair_classes(self) -> tuple[str, ...]:
        return tuple(lv.pair_class for lv in self.levels)

    def c2c_of(self, pair_class: str) -> float:
        for lv in self.levels:
            if lv.pair_class == pair_class:
                return lv.c2c_ns
        raise PwmodelError(f"unknown pair class '{pair_class}' (known: "
                           f"{', '.join(self.pair_classes)})", field="pair_class")

    def units(self, cpu: int) -> tuple[int, ...]:
        """Index of the unit at each level holding ``cpu`` (innermost first, globally numbered)."""
        n = self.n_cpus
        if not isinstance(cpu, (int, np.integer)) or cpu < 0 or cpu >= n:
            raise PwmodelError(f"CPU id {cpu!r} outside 0..{n - 1} of machine '{self.name}'",
                               field="cpu")
        if self.enumeration == "explicit":
            assert self.cpu_units is not None
            return self.cpu_units[cpu]
        sizes = [lv.size for lv in self.levels]
        if self.enumeration == "compact":
            linear = cpu
        else:  # smt_last: cpu = thread * n_cores + core
            smt = sizes[0]
            n_cores = n // smt
            thread, core = divmod(cpu, n_cores)
            linear = core * smt + thread
        out = []
        span = 1
        for s in sizes:
            span *= s
            out.append(linear // span)
        return tuple(out)

    def pair_class(self, a: int, b: int) -> str:
        """Pair class of CPUs ``a`` and ``b`` (``"self"`` when equal)."""
        if a == b:
            self.units(a)
            return "self"
        ua, ub = self.units(a), self.units(b)
        for lv, x, y in zip(self.levels, ua, ub):
            if x == y:
                return lv.pair_class
        return self.levels[-1].pair_class

    def pair_c2c_ns(self, a: int, b: int) -> float:
        cls = self.pair_class(a, b)
        return 0.0 if cls == "self" else self.c2c_of(cls)

    def class_counts(self, n_cpus: int | np.ndarray) -> dict[str, np.ndarray]:
        """CPUs in each pair class, seen from CPU 0, on a machine of ``n_cpus`` CPUs.

        The machine is built from this profile's units, filled nearest first
        (SMT sibling, then LLC, then socket, ...). Beyond the profile's size
        the outermost unit is replicated and every extra CPU counts in the
        outermost class at its measured latency (no multi-hop penalty: an
        optimistic extrapolation). Includes ``self`` (1 CPU).
        """
        n = np.asarray(n_cpus, dtype=float)
        if np.any(~np.isfinite(n)) or np.any(n < 1):
            raise PwmodelError(f"CPU count must be >= 1, found {n_cpus!r}", field="n_cpus")
        out = {"self": np.ones_like(n)}
        prev = np.ones_like(n)
        span = 1
        for i, lv in enumerate(self.levels):
            span *= lv.size
            upto = n if i == len(self.levels) - 1 else np.minimum(n, span)
            out[lv.pair_class] = np.maximum(upto - prev, 0.0)
            prev = np.maximum(prev, upto)
        return out

    def _mean_direct(self, n: np.ndarray) -> np.ndarray:
        counts = self.class_counts(n)
        tot = sum(counts[lv.pair_class] * lv.c2c_ns for lv in self.levels)
        return tot / n

    def _max_direct(self, n: np.ndarray) -> np.ndarray:
        counts = self.class_counts(n)
        out = np.zeros_like(n)
        for lv in self.levels:
            out = np.where(counts[lv.pair_class] > 0, lv.c2c_ns, out)
        return out

    def neighbour_c2c_ns(self, n_cpus: int | np.ndarray) -> np.ndarray:
        """Mean line-transfer latency between consecutive CPUs (k, k+1) of the nearest-first
        fill, over the ``n_cpus`` CPUs (0 for one CPU): the lock hand-off cost when drains
        take a shared lock in CPU order."""
        n = np.atleast_1d(np.asarray(n_cpus, dtype=float))
        top = int(n.max())
        k = np.arange(1, max(top, 2), dtype=np.int64)      # pair (k-1, k), k = 1..top-1
        c = np.full(k.shape, self.levels[-1].c2c_ns)
        span = 1
        assigned = np.zeros(k.shape, dtype=bool)
        for lv in self.levels[:-1]:
            span *= lv.size
            here = (k % span != 0) & ~assigned
            c = np.where(here, lv.c2c_ns, c)
            assigned |= here
        if self.levels and len(self.levels) == 1:
            c[:] = self.levels[0].c2c_ns
        cum = np.concatenate([[0.0], np.cumsum(c)])
        if n.size >= 4096 and np.all(n == np.floor(n)) and n.min() >= 1:
            # one gather from a table over 1..top (same values as the general form)
            m = np.arange(1.0, top + 1.0)
            tab = np.where(m > 1, cum[(m - 1).astype(np.int64)] / np.maximum(m - 1, 1), 0.0)
            return tab[n.astype(np.int64) - 1]
        idx = np.clip(n.astype(np.int64) - 1, 0, cum.size - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(n > 1, cum[idx] / np.maximum(n - 1, 1), 0.0)
        return out

    def _var_direct(self, n: np.ndarray) -> np.ndarray:
        counts = self.class_counts(n)
        m2 = sum(counts[lv.pair_class] * lv.c2c_ns ** 2 for lv in self.levels) / n
        return np.maximum(m2 - self._mean_direct(n) ** 2, 0.0)

    def var_c2c_ns2(self, n_cpus: int | np.ndarray) -> np.ndarray:
        """Variance (ns^2) of the line-transfer latency over the ``n_cpus`` CPUs (self = 0)."""
        return self._lookup(n_cpus, "var")

    def _lookup(self, n_cpus: int | np.ndarray, which: str) -> np.ndarray:
        """Table lookup for integral CPU counts (identical values to the direct form)."""
        n = np.asarray(n_cpus, dtype=float)
        direct = {"mean": self._mean_direct, "max": self._max_direct, "var": self._var_direct}[which]
        if n.size < 4096:
            return direct(n)
        if np.any(~np.isfinite(n)) or np.any(n < 1):
            self.class_counts(n)  # raises the error
        top = float(n.max())
        if top > 1 << 22 or not np.all(n == np.floor(n)):
            return direct(n)
        tab = direct(np.arange(1.0, top + 1.0))
        return tab[n.astype(np.int64) - 1]

    def mean_c2c_ns(self, n_cpus: int | np.ndarray) -> np.ndarray:
        """Mean line-transfer latency from CPU 0 to all ``n_cpus`` CPUs (self counts 0 ns)."""
        return self._lookup(n_cpus, "mean")

    def max_c2c_ns(self, n_cpus: int | np.ndarray) -> np.ndarray:
        """Largest line-transfer latency from CPU 0 among ``n_cpus`` CPUs (0 for one CPU)."""
        return self._lookup(n_cpus, "max")

    # ---- parameters ------------------------------------------------------------
    def param_values(self) -> dict[str, tuple[float, str]]:
        """Registry parameters this profile sets, with their sources."""
        out: dict[str, tuple[float, str]] = {
            "freq_hz": (self.freq_hz, self.freq_source),
            "tick_hz": (float(self.hz), self.provenance.get("hz", "profile")),
        }
        out.update(self.costs)
        if self.idle_states:
            shallow = min(self.idle_states, key=lambda s: s.exit_latency_ns)
            deep = max(self.idle_states, key=lambda s: s.exit_latency_ns)
            out["idle_exit_shallow_ns"] = (shallow.exit_latency_ns, f"{shallow.name}: {shallow.source}")
            out["idle_exit_deep_ns"] = (deep.exit_latency_ns, f"{deep.name}: {deep.source}")
        # representative c2c for single-pair models: the class of a CPU in another LLC
        lv = self.levels[1] if len(self.levels) > 1 else self.levels[0]
        out["c2c_ns"] = (lv.c2c_ns, f"pair class {lv.pair_class}: {lv.source}")
        return out

    def param_intervals(self) -> dict[str, tuple[float, float, str]]:
        """Intervals (low, high, source) this profile gives for its parameter values."""
        return dict(self.cost_intervals)

    def summary(self) -> str:
        lv = ", ".join(f"{x.pair_class} x{x.size} {x.c2c_ns:g} ns" for x in self.levels)
        return f"{self.name}: {self.n_cpus} CPUs, {self.cpu_model}; {lv}"


# ---- loading ---------------------------------------------------------------
def _need(d: Mapping[str, Any], key: str, kind: type | tuple, where: str, ctx: str) -> Any:
    if key not in d:
        raise PwmodelError(f"missing field '{ctx}{key}'", file=where, field=ctx + key)
    v = d[key]
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise PwmodelError(f"field '{ctx}{key}' must be {getattr(kind, '__name__', kind)}, "
                           f"found {v!r}", file=where, field=ctx + key)
    return v


def _positive(v: float, where: str, fieldname: str, allow_zero: bool = False) -> float:
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        what = "negative" if v < 0 else "non-finite" if not math.isfinite(v) else "zero"
        raise PwmodelError(f"{what} value {v!r} for '{fieldname}'", file=where, field=fieldname)
    return v


def _unknown(d: Mapping[str, Any], allowed: set[str], where: str, ctx: str) -> None:
    for k in d:
        if k not in allowed:
            import difflib
            close = difflib.get_close_matches(k, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PwmodelError(f"unknown field '{ctx}{k}'{hint}", file=where, field=ctx + k)


def from_dict(d: Mapping[str, Any], where: str = "<profile>") -> Machine:
    """Validate a parsed profile mapping and build a :class:`Machine`."""
    _unknown(d, _TOP_KEYS, where, "")
    if d.get("format") != FORMAT:
        raise PwmodelError(f"field 'format' must be '{FORMAT}', found {d.get('format')!r}",
                           file=where, field="format")
    ver = d.get("version")
    if ver != VERSION:
        raise PwmodelError(f"unsupported profile version {ver!r} (this pwmodel reads {VERSION})",
                           file=where, field="version")
    name = _need(d, "name", str, where, "")
    freq = _positive(_need(d, "freq_hz", float, where, ""), where, "freq_hz")
    hz = _need(d, "hz", int, where, "")
    if hz not in (100, 250, 300, 1000):
        raise PwmodelError(f"field 'hz' must be one of 100, 250, 300, 1000, found {hz}",
                           file=where, field="hz")
    pm = _need(d, "preempt_model", str, where, "")
    if pm not in PREEMPT_MODELS:
        raise PwmodelError(f"field 'preempt_model' must be one of {', '.join(PREEMPT_MODELS)}, "
                           f"found {pm!r}", file=where, field="preempt_model")
    topo = _need(d, "topology", dict, where, "")
    _unknown(topo, {"enumeration", "levels", "cpu_units"}, where, "topology.")
    enum = _need(topo, "enumeration", str, where, "topology.")
    if enum not in ENUMERATIONS:
        raise PwmodelError(f"field 'topology.enumeration' must be one of {', '.join(ENUMERATIONS)}, "
                           f"found {enum!r}", file=where, field="topology.enumeration")
    raw_levels = _need(topo, "levels", list, where, "topology.")
    if not raw_levels:
        raise PwmodelError("field 'topology.levels' is empty", file=where, field="topology.levels")
    levels = []
    for i, lv in enumerate(raw_levels):
        ctx = f"topology.levels[{i}]."
        if not isinstance(lv, dict):
            raise PwmodelError(f"'{ctx[:-1]}' must be a table", file=where, field=ctx[:-1])
        _unknown(lv, _LEVEL_KEYS, where, ctx)
        size = _need(lv, "size", int, where, ctx)
        if size < 1:
            raise PwmodelError(f"'{ctx}size' must be >= 1, found {size}", file=where, field=ctx + "size")
        c2c = _positive(_need(lv, "c2c_ns", float, where, ctx), where, ctx + "c2c_ns")
        levels.append(Level(_need(lv, "class", str, where, ctx), size, c2c,
                            _need(lv, "source", str, where, ctx)))
    cpu_units = None
    if enum == "explicit":
        rows = _need(topo, "cpu_units", list, where, "topology.")
        n = int(np.prod([lv.size for lv in levels]))
        if len(rows) != n:
            raise PwmodelError(f"'topology.cpu_units' has {len(rows)} rows, levels give {n} CPUs",
                               file=where, field="topology.cpu_units")
        cpu_units = tuple(tuple(int(x) for x in r) for r in rows)
        if any(len(r) != len(levels) for r in cpu_units):
            raise PwmodelError("each 'topology.cpu_units' row needs one index per level",
                               file=where, field="topology.cpu_units")
    costs_raw = d.get("costs", {})
    if not isinstance(costs_raw, dict):
        raise PwmodelError("field 'costs' must be a table", file=where, field="costs")
    costs: dict[str, tuple[float, str]] = {}
    cost_iv: dict[str, tuple[float, float, str]] = {}
    for k, v in costs_raw.items():
        ctx = f"costs.{k}"
        if k not in P.PARAMS:
            P.check_names([k], where=where)
        if not isinstance(v, dict) or "value" not in v or "source" not in v:
            raise PwmodelError(f"'{ctx}' must be a table with 'value' and 'source'",
                               file=where, field=ctx)
        _unknown(v, {"value", "source", "low", "high", "interval_source"}, where, ctx + ".")
        costs[k] = (P.check_value(k, v["value"], where=where), str(v["source"]))
        if "low" in v or "high" in v or "interval_source" in v:
            if "low" not in v or "high" not in v:
                raise PwmodelError(f"'{ctx}' needs both 'low' and 'high' for an interval",
                                   file=where, field=ctx)
            lo, hi = P.check_interval(k, costs[k][0], v["low"], v["high"], where=where)
            cost_iv[k] = (lo, hi, str(v.get("interval_source", v["source"])))
    idle = []
    for i, s in enumerate(d.get("idle_states", [])):
        ctx = f"idle_states[{i}]."
        _unknown(s, _IDLE_KEYS, where, ctx)
        idle.append(IdleState(
            _need(s, "name", str, where, ctx),
            _positive(_need(s, "exit_latency_ns", float, where, ctx), where, ctx + "exit_latency_ns", True),
            _positive(_need(s, "target_residency_ns", float, where, ctx), where,
                      ctx + "target_residency_ns", True),
            _need(s, "source", str, where, ctx)))
    prov = d.get("provenance", {})
    return Machine(
        name=name, description=str(d.get("description", "")), cpu_model=str(d.get("cpu_model", "")),
        arch=str(d.get("arch", "")), freq_hz=freq, freq_source=str(d.get("freq_source", "profile")),
        hz=hz, preempt_model=pm, levels=tuple(levels), enumeration=enum, costs=costs,
        idle_states=tuple(idle), cpu_units=cpu_units, virtualised=bool(d.get("virtualised", False)),
        notes=str(d.get("notes", "")), path=where, provenance=dict(prov), cost_intervals=cost_iv)


def load(path: str | os.PathLike) -> Machine:
    """Read and validate a profile file; errors name the file and the field or line."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PwmodelError(f"cannot read machine profile: {exc.strerror}", file=str(p)) from None
    try:
        d = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PwmodelError("machine profile is not UTF-8 text", file=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        import re
        line = getattr(exc, "lineno", None)
        m = re.search(r"\(at line (\d+)", str(exc))
        if line is None and m:
            line = int(m.group(1))
        msg = str(exc).split(" (at line")[0]
        raise PwmodelError(f"malformed TOML: {msg}", file=str(p), line=line) from None
    return from_dict(d, where=str(p))


def bundled_names() -> list[str]:
    files = resources.files("pwmodel") / "profiles"
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def get(name_or_path: str | os.PathLike) -> Machine:
    """A bundled profile by name, or a profile file by path."""
    s = str(name_or_path)
    if s.endswith(".toml") or os.sep in s:
        return load(s)
    if s not in bundled_names():
        import difflib
        close = difflib.get_close_matches(s, bundled_names(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PwmodelError(f"unknown machine '{s}'{hint}; bundled: {', '.join(bundled_names())}",
                           field="machine")
    with resources.as_file(resources.files("pwmodel") / "profiles" / f"{s}.toml") as f:
        return load(f)


def bundled() -> list[Machine]:
    return [get(n) for n in bundled_names() if not n.startswith("local-")]


# ---- detection -------------------------------------------------------------
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


def to_toml(m: Machine) -> str:
    """Serialise a profile back to TOML text (round-trips through :func:`load`)."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"format = {q(FORMAT)}", f"version = {VERSION}", f"name = {q(m.name)}",
             f"description = {q(m.description)}", f"cpu_model = {q(m.cpu_model)}",
             f"arch = {q(m.arch)}", f"freq_hz = {m.freq_hz!r}", f"freq_source = {q(m.freq_source)}",
             f"hz = {m.hz}", f"preempt_model = {q(m.preempt_model)}",
             f"virtualised = {'true' if m.virtualised else 'false'}", f"notes = {q(m.notes)}", "",
             "[topology]", f"enumeration = {q(m.enumeration)}", "levels = ["]
    for lv in m.levels:
        lines.append(f"  {{ class = {q(lv.pair_class)}, size = {lv.size}, c2c_ns = {lv.c2c_ns!r}, "
                     f"source = {q(lv.source)} }},")
    lines.append("]")
    if m.cpu_units is not None:
        lines.append("cpu_units = [" + ", ".join("[" + ", ".join(map(str, r)) + "]"
                                                 for r in m.cpu_units) + "]")
    if m.provenance:
        lines += ["", "[provenance]"] + [f"{k} = {q(v)}" for k, v in m.provenance.items()]
    lines += ["", "[costs]"]
    for k, (v, src) in m.costs.items():
        iv = m.cost_intervals.get(k)
        extra = (f"low = {iv[0]!r}, high = {iv[1]!r}, interval_source = {q(iv[2])}, "
                 if iv else "")
        lines.append(f"{k} = {{ value = {v!r}, {extra}source = {q(src)} }}")
    for s in m.idle_states:
        lines += ["", "[[idle_states]]", f"name = {q(s.name)}",
                  f"exit_latency_ns = {s.exit_latency_ns!r}",
                  f"target_residency_ns = {s.target_residency_ns!r}", f"source = {q(s.source)}"]
    return "\n".join(lines) + "\n"
