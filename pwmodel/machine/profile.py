"""A machine profile in memory: topology, core-to-core latency per pair class, costs, idle states.

A profile is a versioned TOML file (``format = "pwmodel-machine"``,
``version = 1``; read and written by :mod:`pwmodel.machine.tomlio`). Topology is a
list of nested levels, innermost first; each level names the *pair class* of two
CPUs whose smallest common unit is that level, the number of sub-units one unit
holds, and the one-way line-transfer latency of that class (``c2c_ns``) with its
source. Example (2-socket EPYC): ``smt_sibling`` (2 threads per core) <
``same_llc`` (8 cores per CCX) < ``same_socket`` (6 CCX per socket) <
``cross_socket`` (2 sockets).

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

Wake-up model (``[wakeup.<isolation>]``, optional, one table per busy
SCHED_OTHER isolation level measured: ``busy_other``, ``isolcpus_other``,
``nohz_other``): the parameters of the EEVDF wake-up model
(:mod:`pwmodel.models.wakeup`, names in ``WAKE_PARAMS``) in the same
``{ value, source, low, high, interval_source }`` form as ``[costs]``. They
apply only to that isolation level (``params.resolve(machine,
isolation=...)``); ``pwmodel calibrate`` writes them from captures.

This module holds the :class:`Machine` value and its topology maths (pair
classes, class counts, mean/max/variance of the line-transfer latency).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from pwmodel.errors import PwmodelError

_NBR_CUM: dict[tuple, np.ndarray] = {}

FORMAT = "pwmodel-machine"
VERSION = 1
PREEMPT_MODELS = ("none", "voluntary", "full", "lazy", "rt")
WAKE_LEVELS = ("busy_other", "isolcpus_other", "nohz_other")
WAKE_PARAMS = ("base_slice_ns", "busy_slice_ns", "busy_weight_fraction", "busy_entity_items", "p_busy_sched_idle",
               "wake_lag_use_ns", "other_share_fraction", "p_other_hold", "steal_fraction", "tick_phase_sync_fraction",
               "tick_phase_window_ns", "wake_fast_sigma_fraction")
ENUMERATIONS = ("smt_last", "compact", "explicit")

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
    # isolation level -> parameter -> (value, source); intervals alike (low, high, source)
    wakeup: Mapping[str, Mapping[str, tuple[float, str]]] = field(default_factory=dict)
    wakeup_intervals: Mapping[str, Mapping[str, tuple[float, float, str]]] = field(default_factory=dict)

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
        optimistic extrapolation). Includes ``self`` (1 CPU). A large array of whole
        CPU counts is looked up in the counts of 1..max (the same values).
        """
        n = np.asarray(n_cpus, dtype=float)
        if n.size >= 4096 and n.ndim:
            top = float(np.max(n))
            if 1 <= top <= 1 << 22 and np.min(n) >= 1 and np.all(n == np.floor(n)):
                idx = n.astype(np.int64) - 1
                return {k: v[idx] for k, v in self._class_counts(np.arange(1.0, top + 1.0)).items()}
        return self._class_counts(n)

    def _class_counts(self, n: np.ndarray) -> dict[str, np.ndarray]:
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
        cum = self._neighbour_cum(top)
        if n.size >= 4096 and np.all(n == np.floor(n)) and n.min() >= 1:
            # one gather from a table over 1..top (same values as the general form)
            m = np.arange(1.0, top + 1.0)
            tab = np.where(m > 1, cum[(m - 1).astype(np.int64)] / np.maximum(m - 1, 1), 0.0)
            return tab[n.astype(np.int64) - 1]
        idx = np.clip(n.astype(np.int64) - 1, 0, cum.size - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(n > 1, cum[idx] / np.maximum(n - 1, 1), 0.0)
        return out

    def _neighbour_cum(self, top: int) -> np.ndarray:
        """Cumulative neighbour c2c over pairs (k-1, k), k = 1..top-1 (0 first), memoised
        per topology, extended on demand (the same values as computing it afresh)."""
        key = tuple((lv.size, lv.c2c_ns) for lv in self.levels)
        have = _NBR_CUM.get(key)
        if have is not None and have.size >= max(top, 2):
            return have[:max(top, 2)]     # a prefix of the cumulative sum is the same sum
        pairs = max(top, 2) - 1                             # pair (k-1, k), k = 1..top-1
        # a pair's level depends on k modulo the inner levels' span only: the levels of one
        # period of k (k = 0..period-1), repeated (the same values as testing every k)
        period = int(np.prod([lv.size for lv in self.levels[:-1]], dtype=np.int64))
        whole = period > pairs
        r = np.arange(1, pairs + 1, dtype=np.int64) if whole else np.arange(period, dtype=np.int64)
        c = np.full(r.shape, self.levels[-1].c2c_ns)
        span = 1
        assigned = np.zeros(r.shape, dtype=bool)
        for lv in self.levels[:-1]:
            span *= lv.size
            here = (r % span != 0) & ~assigned
            c = np.where(here, lv.c2c_ns, c)
            assigned |= here
        if self.levels and len(self.levels) == 1:
            c[:] = self.levels[0].c2c_ns
        if not whole:
            c = np.tile(c, -(-(pairs + 1) // period))[1:pairs + 1]
        cum = np.concatenate([[0.0], np.cumsum(c)])
        if len(_NBR_CUM) > 64:
            _NBR_CUM.clear()
        _NBR_CUM[key] = cum
        return cum

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

    def wake_param_values(self, isolation: str | None) -> dict[str, tuple[float, str]]:
        """Wake-up model parameters this profile measured for ``isolation`` (may be empty)."""
        return {k: (v, f"[wakeup.{isolation}] {src}")
                for k, (v, src) in self.wakeup.get(isolation or "", {}).items()}

    def wake_param_intervals(self, isolation: str | None) -> dict[str, tuple[float, float, str]]:
        return dict(self.wakeup_intervals.get(isolation or "", {}))

    def summary(self) -> str:
        lv = ", ".join(f"{x.pair_class} x{x.size} {x.c2c_ns:g} ns" for x in self.levels)
        return f"{self.name}: {self.n_cpus} CPUs, {self.cpu_model}; {lv}"
