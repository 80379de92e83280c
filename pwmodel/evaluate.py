"""Evaluate both strategies for a machine, call site, isolation level and CPU counts.

Collects the numeric inputs of the fan-out expressions (parameters, the
topology-derived c2c latencies for each CPU count, order statistics of the
wake-up distribution) and evaluates the lambdified expressions on arrays.
Returns polars frames with the unit in every column name.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import sympy as sp

if TYPE_CHECKING:     # imported where a frame is built (a decision needs none)
    import polars as pl

from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.dist import LatencyDist
from pwmodel.errors import PwmodelError
from pwmodel.models import callsite as CS
from pwmodel.models import dirty as DY
from pwmodel.models import fanout as F
from pwmodel.models import fastpath as FP
from pwmodel.models import lrulock, rlsum, stagger
from pwmodel.models import numeric, wakeup as W
from pwmodel.models import owner as OW
from pwmodel.models import requester as RQ

N_DEFAULT = tuple(2 ** k for k in range(11))  # 1 .. 1024

METRICS = ("requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "victim_worst_ns",
           "cpu_time_ns", "fastpath_tax_ns", "fastpath_extra_ns", "cpu_load_cpus")


@dataclass(frozen=True)
class Scenario:
    """Everything one evaluation depends on (besides the CPU counts)."""

    machine: M.Machine
    isolation: str = "nohz_other"
    preempt_model: str | None = None     # None: the machine profile's
    callsite: str = "lru_add_drain"
    qw_config: str | None = None         # None: pwlocks0 (rt_pwlocks0 on RT)
    rl_config: str | None = None         # None: pwlocks1 (rt_pwlocks1 on RT)
    overrides: Mapping[str, float] | None = None
    wake: LatencyDist | None = None      # a fitted queue->start distribution, if any
    dirty_count: str = "binomial"        # the law of D: "binomial" (mechanism) or "fixed" (D = d N)

    def __post_init__(self) -> None:
        DY.check(self.dirty_count)

    @property
    def preempt(self) -> str:
        return self.preempt_model or self.machine.preempt_model

    @property
    def configs(self) -> tuple[str, str]:
        rt = self.preempt == "rt"
        qw = self.qw_config or ("rt_pwlocks0" if rt else "pwlocks0")
        rl = self.rl_config or ("rt_pwlocks1" if rt else "pwlocks1")
        return FP.check_config(qw), FP.check_config(rl)

    @property
    def pattern(self) -> str:
        """The call site's requester pattern: 'flush' or 'async'."""
        return CS.get(self.callsite).requester

    @property
    def callsite_name(self) -> str:
        """The call site's own name (``callsite`` may be a file path)."""
        return CS.name_of(self.callsite)

    def params(self) -> P.ParamSet:
        cs = CS.get(self.callsite)
        ps = P.resolve(self.machine, isolation=self.isolation)   # the profile's wake-up model
        for k, val in cs.params.items():   # each value keeps its own source (and interval)
            src = cs.sources.get(k) or P.PARAMS[k].source
            given = {}
            if k in cs.intervals:
                lo, hi, isrc = cs.intervals[k]
                kind = ("workload" if P.PARAMS[k].kind == "workload" else
                        "assumption" if "assum" in isrc.lower() else "fitted")
                given = {k: P.Interval(lo, hi, f"call site {cs.name}: {isrc}", kind)}
            ps = ps.with_overrides({k: val}, source=f"call site {cs.name}: {src}",
                                   intervals=given, keep_range=not given)
        return ps.with_overrides(self.overrides or {})

    def wake_dist(self, ps: P.ParamSet | None = None) -> LatencyDist:
        W.check(self.isolation, self.preempt)
        if self.wake is not None:
            return self.wake
        return W.wake_dist(self.isolation, self.preempt, ps or self.params())


class Wake:
    """Order statistics of the wake-up distribution of each row of a batch (one row: one
    scenario), for the mixtures over the dirty count (:mod:`pwmodel.models.dirty`)."""

    def __init__(self, dists: Sequence[LatencyDist]) -> None:
        sigs: dict[tuple, int] = {}
        self.row = np.array([sigs.setdefault(d.signature(), len(sigs)) for d in dists])
        self.dists: list[LatencyDist] = [None] * len(sigs)  # type: ignore[list-item]
        for d, r in zip(dists, self.row):
            self.dists[r] = d

    def _each(self, rows: np.ndarray, fn, x: np.ndarray) -> np.ndarray:
        u = self.row[rows]
        if len(self.dists) == 1:
            return np.asarray(fn(self.dists[0], x), dtype=float)
        # the points of each distribution, in their flat order (what x[u == i] selects),
        # found by one stable sort instead of one pass over all points per distribution
        uf = np.broadcast_to(u, x.shape).reshape(-1)
        xf = np.asarray(x).reshape(-1)
        order = np.argsort(uf, kind="stable")
        su = uf[order]
        cut = np.flatnonzero(su[1:] != su[:-1]) + 1
        out = np.empty(uf.size)
        for a, b in zip(np.concatenate([[0], cut]), np.concatenate([cut, [su.size]])):
            idx = order[a:b]
            out[idx] = fn(self.dists[su[a]], xf[idx])
        return out.reshape(x.shape)

    def emax(self, k: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if len(self.dists) == 1:
            return self._each(rows, emax_of, k)
        g = self.row[_unbroadcast(np.broadcast_to(rows, np.shape(k)))]
        return _grouped(g, k, lambda r, d_max: _table(self.dists[r], "emax", 0.0, d_max)[1])

    def qmax(self, k: np.ndarray, rows: np.ndarray, q: float) -> np.ndarray:
        return self._each(rows, lambda dist, x: qmax_of(dist, x, q), k)

    def smax(self, k: np.ndarray, rows: np.ndarray, tq) -> np.ndarray:
        """:func:`smax_of` at the counts ``k`` (each point's t_q: ``tq``, broadcast with k)."""
        t = np.broadcast_to(np.asarray(tq, dtype=float), k.shape)
        gaps = np.unique(_unbroadcast(t))
        if gaps.size == 1 and len(self.dists) == 1:
            return self._each(rows, lambda dist, x: smax_of(dist, x, gaps[0]), k)
        rows = _unbroadcast(np.broadcast_to(rows, k.shape))
        return _grouped_smax(self.dists, self.row[rows], t, k)

    def cdf(self, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._each(rows, lambda dist, y: dist.cdf(y), x)


def dirty_count(dirty_fraction, n_cpus) -> np.ndarray:
    """The mean dirty count E[D] = d N (``fanout.dirty_expr``) for scalars or arrays."""
    return numeric(F.dirty_expr, {"dirty_fraction": dirty_fraction, "n_cpus": n_cpus})


def _n_array(n_cpus: Sequence[float] | np.ndarray | float) -> np.ndarray:
    n = np.atleast_1d(np.asarray(n_cpus, dtype=float))
    if n.size == 0 or np.any(~np.isfinite(n)) or np.any(n < 1):
        bad = n[~(np.isfinite(n) & (n >= 1))]
        raise PwmodelError(f"CPU count must be >= 1, found {bad[:3].tolist() if bad.size else n_cpus!r}",
                           field="n_cpus")
    return n


_PER_OCTAVE = 16
_TABLES: dict[tuple, np.ndarray] = {}


def _table(dist: LatencyDist, what: str, q: float, d_max: float) -> tuple[np.ndarray, np.ndarray]:
    """Order-statistic values on the fixed grid d = 2^(i/16), i = 0..ceil(16 log2 d_max),
    computed once per distinct distribution and extended on demand. ``what``: 'emax'
    (E[max of d]), 'qmax' (its q-quantile) or 'smax' (E[max_i (W_i - i t_q)] of d
    serially queued works, ``q`` = t_q: :mod:`pwmodel.models.stagger`)."""
    k = int(math.ceil(_PER_OCTAVE * math.log2(max(d_max, 2.0)))) + 1
    key = (dist.signature(), what, q)
    have = _TABLES.get(key, np.empty(0))
    if have.size < k:
        disk = _disk_name(dist, what, q)
        if disk is not None and have.size == 0:
            have = _disk_read(disk)
            if have.size >= k:           # kept in memory too: read from disk once
                _TABLES[key] = have
    if have.size < k:
        grid = 2.0 ** (np.arange(have.size, k) / _PER_OCTAVE)
        if what == "emax":
            new = np.atleast_1d(np.asarray(dist.expected_max_ns(grid), dtype=float))
        elif what == "smax":        # q is the queueing gap t_q here
            new = stagger.table(dist, q, grid)
        else:
            new = np.atleast_1d(np.asarray(dist.quantile(q ** (1.0 / grid)), dtype=float))
        have = np.concatenate([have, new])
        if disk is not None:
            from pwmodel import diskcache
            diskcache.write("tables", disk, have.astype("<f8").tobytes())
        if len(_TABLES) > 8192:      # ~3 kB each: a few thousand distributions (bands, sweeps)
            _TABLES.clear()
        _TABLES[key] = have
    grid = 2.0 ** (np.arange(k) / _PER_OCTAVE)
    return grid, have[:k]


def _disk_name(dist: LatencyDist, what: str, q: float) -> str | None:
    """The cache file of a table whose nodes are worth keeping between runs (pwmodel.diskcache):
    E[max] of a mixture with a SciPy continuous part (each node a Simpson quadrature over
    thousands of points), and the staggered maximum of any mixture of point masses,
    uniforms and such parts (each node a sum over the CDF on a lattice of up to thousands
    of queueing gaps; models.stagger.table, keyed also by t_q and that module's source: the
    N* intervals need one table per setting of the wake-up parameters); the name hashes the distribution's signature, the code that
    computes it (pwmodel.dist) and the library versions. Each node is computed on its own
    (one row of one Simpson call), so a stored prefix extended later equals a fresh table."""
    if what not in ("emax", "smax") or type(dist) is not LatencyDist:
        return None
    from pwmodel.dist import Continuous, Lognorm
    parts = [c for c in dist.components if isinstance(c, Continuous)]
    if not all(isinstance(c.rv, Lognorm) or
               type(getattr(c.rv, "dist", None)).__module__.startswith("scipy.stats")
               for c in parts) or (what == "emax" and not parts):
        return None
    import scipy
    from pwmodel import diskcache
    if what == "smax":      # the staggered maximum at the queueing gap q = t_q (models.stagger)
        return diskcache.key(diskcache.source_hash("pwmodel.dist"),
                             diskcache.source_hash("pwmodel.models.stagger"), np.__version__,
                             scipy.__version__, _PER_OCTAVE, dist.signature(), what,
                             float(q).hex()) + ".f8"
    return diskcache.key(diskcache.source_hash("pwmodel.dist"), np.__version__, scipy.__version__,
                         _PER_OCTAVE, dist.signature()) + ".f8"


def _disk_read(name: str) -> np.ndarray:
    from pwmodel import diskcache
    data = diskcache.read("tables", name)
    if not data or len(data) % 8:
        return np.empty(0)
    return np.frombuffer(data, dtype="<f8").astype(float)


class _Where:
    """Where each dirty count sits on the grid d = 2^(i/16): x = log2 d and the node below,
    computed once and shared by every order statistic looked up at the same counts."""

    def __init__(self, d: np.ndarray) -> None:
        from pwmodel import blocks
        self.d = np.asarray(d, dtype=float)
        flat = self.d.reshape(-1)
        self.d_max = float(max(np.max(flat), 1.0)) if flat.size else 1.0
        x, j = blocks.elementwise(self._locate, flat)     # large arrays over threads
        self.x, self.j = x.reshape(self.d.shape), j.reshape(self.d.shape)

    @staticmethod
    def _locate(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.log2(np.maximum(d, 1.0))
        with np.errstate(invalid="ignore"):      # NaN counts stay NaN (as in np.interp)
            return x, np.floor(x * _PER_OCTAVE).astype(np.intp)   # x * 16 is exact

    def lookup(self, vals: np.ndarray) -> np.ndarray:
        """Linear in log2 d between the nodes of ``vals``: bit for bit what
        ``np.interp(x, arange(k) / 16, vals)`` returns (same slopes, same operations),
        without its binary search."""
        if np.isinf(vals).any():
            return np.full(self.x.shape, math.inf)
        k = vals.size
        xp = np.arange(k) / _PER_OCTAVE
        if k < 2:
            return np.full(self.x.shape, vals[0])
        from pwmodel import blocks
        slopes = (vals[1:] - vals[:-1]) / (xp[1:] - xp[:-1])

        def part(x: np.ndarray, j: np.ndarray) -> np.ndarray:
            j = np.clip(j, 0, k - 2)
            out = slopes[j] * (x - xp[j]) + vals[j]
            out[x >= xp[-1]] = vals[-1]
            return out
        return blocks.elementwise(part, np.atleast_1d(self.x).reshape(-1),
                                  np.atleast_1d(self.j).reshape(-1)).reshape(self.x.shape)


def _interp(dist: LatencyDist, d: np.ndarray | _Where, what: str, q: float) -> np.ndarray:
    at = d if isinstance(d, _Where) else _Where(d)
    _, vals = _table(dist, what, q, at.d_max)
    # exact at the nodes (every power of two is one), linear in log2 d between them
    return at.lookup(vals)


def _unbroadcast(a: np.ndarray) -> np.ndarray:
    """``a`` with each axis it was broadcast along (stride 0) cut to length 1."""
    a = np.asarray(a)
    return a[tuple(slice(0, 1) if st == 0 and n > 1 else slice(None)
                   for st, n in zip(a.strides, a.shape))]


def _grouped(g: np.ndarray, d: np.ndarray, table) -> np.ndarray:
    """The order statistic of each point's group at the counts ``d``: ``g`` (integers from
    0, broadcasting to the shape of ``d``) the group of each point; ``table(group, d_max)``
    gives a group's node values up to the largest count among its points (:func:`_table`).
    The same values as :func:`_interp` on each group's points by themselves (the same
    nodes, slopes and operations as :meth:`_Where.lookup`, each group's table as long as
    there), in one gather instead of one pass per group."""
    d = np.asarray(d, dtype=float)
    shape = d.shape
    if d.size == 0:
        return np.empty(shape)
    g = np.asarray(g, dtype=np.intp)
    dd = np.maximum(d, 1.0)
    gb = g.reshape((1,) * (d.ndim - g.ndim) + g.shape)
    wide = tuple(i for i in range(d.ndim) if gb.shape[i] == 1 and shape[i] > 1)
    top = dd.max(axis=wide, keepdims=True) if wide else dd     # each group's counts' largest
    ng = int(g.max()) + 1
    d_max = np.full(ng, -math.inf)
    np.maximum.at(d_max, np.broadcast_to(gb, top.shape).reshape(-1), top.reshape(-1))
    tabs = {r: table(r, float(d_max[r])) for r in np.flatnonzero(d_max > -math.inf).tolist()}
    k_max = max(t.size for t in tabs.values())
    vals = np.zeros((ng, k_max))
    k = np.full(ng, 2, dtype=np.intp)
    inf = np.zeros(ng, dtype=bool)
    for r, t in tabs.items():
        vals[r, :t.size], k[r], inf[r] = t, t.size, np.isinf(t).any()
    xp = np.arange(k_max) / _PER_OCTAVE
    gf = np.broadcast_to(gb, shape).reshape(-1)
    with np.errstate(invalid="ignore"):
        slopes = (vals[:, 1:] - vals[:, :-1]) / (xp[1:] - xp[:-1])
        x = np.log2(dd.reshape(-1))
        j = np.floor(x * _PER_OCTAVE).astype(np.intp)
    kg = k[gf]
    j = np.clip(j, 0, kg - 2)
    out = slopes[gf, j] * (x - xp[j]) + vals[gf, j]
    last = x >= xp[kg - 1]
    out[last] = vals[gf[last], kg[last] - 1]
    out[inf[gf]] = math.inf
    return out.reshape(shape)


def _grouped_smax(dists: Sequence[LatencyDist], row: np.ndarray, tq: np.ndarray,
                  d: np.ndarray) -> np.ndarray:
    """:func:`smax_of` at each point (its distribution ``dists[row]``, its gap ``tq``;
    broadcasting to the shape of ``d``), grouped by (distribution, t_q) as one
    :func:`_grouped` gather."""
    row, tq = np.broadcast_arrays(_unbroadcast(row), _unbroadcast(tq))
    gaps, gi = np.unique(tq.reshape(-1), return_inverse=True)
    key = row.reshape(-1).astype(np.intp) * gaps.size + gi.reshape(-1)
    uk, g = np.unique(key, return_inverse=True)
    return _grouped(g.reshape(row.shape), d, lambda r, d_max: _table(
        dists[int(uk[r] // gaps.size)], "smax", float(gaps[uk[r] % gaps.size]), d_max)[1])


def emax_of(dist: LatencyDist, d: np.ndarray) -> np.ndarray:
    """E[max of d draws] in ns (d < 1 treated as 1): exact quadrature at d = 2^(i/16),
    linear in log2 d between; the same value for the same d on every code path."""
    return _interp(dist, d, "emax", 0.0)


def smax_of(dist: LatencyDist, d: np.ndarray | _Where, tq: float) -> np.ndarray:
    """E[max_{i < d} (W_i - i t_q)] in ns: the slowest of d works queued ``tq`` ns apart,
    beyond the last queueing (:mod:`pwmodel.models.stagger`), on the grid of
    :func:`emax_of` (d < 1 treated as 1)."""
    return _interp(dist, d, "smax", float(tq))


def qmax_of(dist: LatencyDist, d: np.ndarray, q: float = 0.99) -> np.ndarray:
    """q-quantile of the max of d draws in ns, on the same grid as :func:`emax_of`.

    For d < 1 (one candidate CPU, dirty with probability d) it is the quantile of one
    draw at level 1 - (1 - q)/d, or 0 when 1 - d >= q (most calls drain nothing)."""
    at = d if isinstance(d, _Where) else _Where(d)
    d = at.d
    out = _interp(dist, at, "qmax", q)
    small = d < 1
    if np.any(small):
        v, inv = np.unique(d[small], return_inverse=True)
        with np.errstate(divide="ignore"):
            lvl = np.where(v > 0, 1.0 - (1.0 - q) / np.where(v > 0, v, 1.0), -1.0)
        vals = np.zeros(v.shape)
        pos = lvl > 0
        if pos.any():      # each level on its own: in blocks over threads when many
            from pwmodel import blocks
            vals[pos] = blocks.elementwise(dist.quantile, lvl[pos], min_size=16_384)
        out[small] = vals[inv]
    return out


def order_stats(dist: LatencyDist, d: np.ndarray, q: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`emax_of`, :func:`qmax_of`) at the same dirty counts, locating them on the
    grid once (the tables themselves are computed once per distribution)."""
    at = _Where(d)
    return _interp(dist, at, "emax", 0.0), qmax_of(dist, at, q)


def inputs(sc: Scenario, n_cpus: np.ndarray, ps: P.ParamSet | None = None) -> dict[str, np.ndarray | float]:
    """Numeric values of every symbol the fan-out expressions use."""
    ps = ps or sc.params()
    n = _n_array(n_cpus)
    dist = sc.wake_dist(ps)
    dirty = dirty_count(ps["dirty_fraction"], n)
    vals: dict[str, np.ndarray | float] = dict(ps.values)
    lo, _ = dist.support()
    vals.update({
        "n_cpus": n,
        "c2c_mean_ns": sc.machine.mean_c2c_ns(n),
        "c2c_max_ns": sc.machine.max_c2c_ns(n),
        "c2c_var_ns2": sc.machine.var_c2c_ns2(n),
        "c2c_nbr_ns": sc.machine.neighbour_c2c_ns(n),
    })
    vals["wake_emax_ns"], vals["wake_qmax_ns"] = order_stats(dist, dirty)
    vals["wake_smax_ns"] = smax_of(dist, dirty, ps["queue_work_ns"])
    vals.update(lrulock.class_values(dist, sc.machine, ps["dirty_fraction"]))
    vals.update(lrulock.derived_values(vals))
    vals.update(rlsum.class_inputs(sc.machine, n))
    vals.update({
        # all mass at +inf (FIFO, no server): no kworker ever starts; 0 keeps the
        # lock-spacing terms defined while the tail stays infinite
        "wake_min_ns": lo if math.isfinite(lo) else 0.0,
        "wake_mean_ns": dist.mean_ns(),
    })
    return vals


class _Built(collections.abc.Mapping):
    """Expressions by name, each built the first time it is read (then kept)."""

    def __init__(self, builders: Mapping[str, object]) -> None:
        self._builders = dict(builders)
        self._built: dict[str, sp.Expr] = {}

    def __getitem__(self, key: str) -> sp.Expr:
        if key not in self._built:
            self._built[key] = self._builders[key]()
        return self._built[key]

    def __iter__(self):
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


@functools.lru_cache(maxsize=64)
def model_exprs(qw_config: str, rl_config: str, pattern: str = "flush") -> Mapping[str, sp.Expr]:
    """The fan-out expressions behind :func:`metric_arrays`, per configuration pair and
    requester pattern, each built once and only when first read (building them costs far
    more than evaluating them, and a decision reads a few)."""
    rx = RQ.requester_builders(pattern)
    return _Built({
        "qw_mean": rx["qw_mean"], "rl_mean": rx["rl_mean"],
        "qw_p99": rx["qw_p99"], "rl_p99": rx["rl_p99"],
        "qw_victim": F.qw_victim_expr, "rl_victim": F.rl_victim_mean_expr,
        "qw_victim_worst": F.qw_victim_worst_expr, "rl_victim_worst": F.rl_victim_worst_expr,
        "tax_qw": lambda: FP.tax_expr(qw_config), "tax_rl": lambda: FP.tax_expr(rl_config),
        "extra_rl": lambda: F.contention.local_op_extra_expr(F.X.c2c_mean_ns),
        "qw_cpu": rx["qw_cpu"], "rl_cpu": rx["rl_cpu"],
    })


@functools.lru_cache(maxsize=1)
def _cpu_load_expr() -> sp.Expr:
    """``fanout.cpu_load_expr`` (of a strategy's evaluated CPU time and per-op cost)."""
    return F.cpu_load_expr()


def metric_arrays(v: Mapping[str, object], shape: tuple[int, ...], *, idle: bool,
                  qw_config: str, rl_config: str,
                  need: Sequence[str] = METRICS,
                  pattern: str = "flush",
                  mix: tuple[Wake, object] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (QW, RL) arrays of each metric in ``need`` from the symbol values ``v``
    (scalars or arrays broadcasting to ``shape``). The one recipe behind
    :func:`evaluate` and the sweeps.

    ``idle``: the target's owner is idle (:mod:`pwmodel.models.owner`): its terms take
    the owner's inputs of that module, and there is no victim task.

    ``pattern`` is the call site's requester pattern (:mod:`pwmodel.models.requester`):
    an ``async`` requester does not wait for queued drains; victims are the same.

    ``mix`` = (wake, rows_of): the binomial dirty count; each metric is the expectation
    (a quantile: the quantile of the mixture) over the law of D of its given-D form
    (:mod:`pwmodel.models.dirty`), ``rows_of(flat point indices)`` naming each point's
    row of ``wake``. None: the closed forms at D = d N.
    """
    zeros = np.zeros(shape)
    v_rl = OW.owner_values(v, idle)
    ex = model_exprs(qw_config, rl_config, pattern)

    def ev(expr, vals=v, kind: str = "", metric: str = "") -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            closed = np.broadcast_to(numeric(expr, vals), shape)
        if kind == "rl_normal":      # a sum of D terms, exact law at few dirty CPUs
            wake, rows_of = mix if mix is not None else (None, None)
            return DY.normal_quantile(ex["rl_mean"], expr, 0.99, closed, vals, shape, wake, rows_of,
                                      small=rlsum.SMALL, fixed=mix is None)
        if mix is None or not kind:
            return closed
        wake, rows_of = mix
        if kind == "quantile":
            return DY.quantile(expr, 0.99, closed, vals, shape, wake, rows_of)
        if kind == "qw_normal":    # the given-D law is a sum of D terms
            return DY.normal_quantile(ex["qw_mean"], expr, 0.99, closed, vals, shape, wake, rows_of)
        return DY.expect(expr, closed, vals, shape, wake, rows_of,
                         biased=kind == "victim")

    want = set(need)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "requester_mean_ns" in want:
        out["requester_mean_ns"] = (ev(ex["qw_mean"], kind="mean"), ev(ex["rl_mean"], v_rl, "mean"))
    if "requester_p99_ns" in want:
        qw_kind = "quantile" if pattern == "flush" else "qw_normal"
        out["requester_p99_ns"] = (ev(ex["qw_p99"], kind=qw_kind),
                                   ev(ex["rl_p99"], v_rl, "rl_normal"))
    if "victim_mean_ns" in want:
        out["victim_mean_ns"] = ((zeros, zeros) if idle else
                                 (ev(ex["qw_victim"], kind="victim"), ev(ex["rl_victim"], kind="victim")))
    if "victim_worst_ns" in want:
        out["victim_worst_ns"] = ((zeros, zeros) if idle else
                                  (ev(ex["qw_victim_worst"]), rlsum.owner_loss_emax(v, shape, binomial=mix is not None)))
    if want & {"cpu_time_ns", "fastpath_tax_ns", "fastpath_extra_ns", "cpu_load_cpus"}:
        tax_qw, tax_rl = ev(ex["tax_qw"]), ev(ex["tax_rl"])
        extra_rl = ev(ex["extra_rl"])
        qw_cpu, rl_cpu = ev(ex["qw_cpu"], kind="mean"), ev(ex["rl_cpu"], v_rl, "mean")
        out["cpu_time_ns"] = (qw_cpu, rl_cpu)
        out["fastpath_tax_ns"] = (tax_qw, tax_rl)
        out["fastpath_extra_ns"] = (zeros, extra_rl)
        load = _cpu_load_expr()
        out["cpu_load_cpus"] = (ev(load, {**v, "drain_cpu_ns": qw_cpu, "op_cost_ns": tax_qw}),
                                ev(load, {**v, "drain_cpu_ns": rl_cpu, "op_cost_ns": tax_rl + extra_rl}))
    return {k: out[k] for k in need if k in out}


# ---- many scenarios at once ------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One scenario with resolved (possibly moved) parameter values, for batch evaluation.
    ``c2c_scale`` multiplies every core-to-core latency of the machine (variance by its
    square)."""

    sc: Scenario
    ps: P.ParamSet
    c2c_scale: float = 1.0

    @functools.cached_property
    def dist(self) -> LatencyDist:
        """The case's wake-up law, built once (the tables, the mixtures over D and every
        evaluation of the same case read it)."""
        return self.sc.wake_dist(self.ps)


def case(sc: Scenario, overrides: Mapping[str, float] | None = None, c2c_scale: float = 1.0,
         ps: P.ParamSet | None = None) -> Case:
    """A :class:`Case` of ``sc`` with ``overrides`` applied on top of its own parameters."""
    base = ps or sc.params()
    return Case(sc, base.with_overrides(overrides or {}, source="moved"), float(c2c_scale))


def _tables(dists: list[LatencyDist], d_max: float) -> list[np.ndarray]:
    """The E[max] tables of distinct distributions (:func:`_table`), those not yet
    computed spread over a few threads (their quadratures run in NumPy, which releases
    the GIL): the same values as one after the other."""
    k = int(math.ceil(_PER_OCTAVE * math.log2(max(d_max, 2.0)))) + 1
    todo = [d for d in dists if _TABLES.get((d.signature(), "emax", 0.0), np.empty(0)).size < k]
    workers = min(os.cpu_count() or 1, 4, len(todo))
    if workers > 1:
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(lambda d: _table(d, "emax", 0.0, d_max), todo))
    return [_table(d, "emax", 0.0, d_max)[1] for d in dists]


class WakeTables:
    """Order statistics of the cases' wake-up distributions, stacked for vectorised lookup
    (each distinct distribution's table is computed once, see :func:`emax_of`)."""

    def __init__(self, cases: Sequence[Case], d_max: float,
                 dists: Sequence[LatencyDist] | None = None) -> None:
        self.dists = list(dists) if dists is not None else [c.dist for c in cases]
        sigs: dict[tuple, int] = {}
        self.row = np.array([sigs.setdefault(d.signature(), len(sigs)) for d in self.dists])
        uniq: list[LatencyDist] = [None] * len(sigs)  # type: ignore[list-item]
        for d, r in zip(self.dists, self.row):
            uniq[r] = d
        tabs = _tables(uniq, max(d_max, 2.0))
        self.k = tabs[0].size
        self.emax_tab = np.stack([t[:self.k] for t in tabs])
        self.inf = np.isinf(self.emax_tab).any(axis=1)
        self.min_ns = np.array([d.support()[0] for d in self.dists])
        self.min_ns = np.where(np.isfinite(self.min_ns), self.min_ns, 0.0)
        self.mean_ns = np.array([d.mean_ns() for d in self.dists])

    def subset(self, rows: np.ndarray) -> "WakeTables":
        """The tables of the cases ``rows`` (shared arrays, no recomputation)."""
        t = object.__new__(WakeTables)
        t.dists = [self.dists[i] for i in rows]
        t.row, t.k, t.emax_tab, t.inf = self.row[rows], self.k, self.emax_tab, self.inf
        t.min_ns, t.mean_ns = self.min_ns[rows], self.mean_ns[rows]
        return t

    def smax(self, d: np.ndarray, tq: np.ndarray) -> np.ndarray:
        """:func:`smax_of` for each case (rows of ``d``; ``tq`` a column of each case's
        t_q), one table per distinct (distribution, t_q)."""
        t = np.broadcast_to(np.asarray(tq, dtype=float).reshape(-1, 1), (d.shape[0], 1))[:, 0]
        shape = (d.shape[0],) + (1,) * (d.ndim - 1)
        first = np.unique(self.row, return_index=True)[1]     # a case of each distribution
        dists = [None] * (int(self.row.max()) + 1)
        for i in first:
            dists[self.row[i]] = self.dists[i]
        return _grouped_smax(dists, self.row.reshape(shape), t.reshape(shape), d)

    def emax(self, d: np.ndarray) -> np.ndarray:
        """E[max of d draws] for each case (rows of ``d``), as :func:`emax_of`."""
        r = self.row
        x = np.log2(np.maximum(d, 1.0)) * _PER_OCTAVE
        i = np.clip(np.floor(x).astype(np.int64), 0, self.k - 2)
        i = np.minimum(i, self.k - 2)
        rr = np.broadcast_to(r.reshape(-1, *([1] * (d.ndim - 1))), d.shape)
        lo, hi = self.emax_tab[rr, i], self.emax_tab[rr, i + 1]
        with np.errstate(invalid="ignore"):
            out = lo + (x - i) * (hi - lo)
        out = np.where(x >= self.k - 1, self.emax_tab[rr, self.k - 1], out)
        return np.where(self.inf[rr], math.inf, out)


def batch_values(cases: Sequence[Case], n: np.ndarray, tables: WakeTables | None = None,
                 need_qmax: bool = False, dists: Sequence[LatencyDist] | None = None) -> dict[str, np.ndarray]:
    """Symbol values for K cases x M CPU counts: parameters as (K, 1) columns, the
    topology and wake-up quantities as (K, M) arrays. ``n`` is (M,) or (K, M); ``dists``:
    the cases' wake-up laws, if the caller built them already."""
    k = len(cases)
    n2 = np.asarray(n, dtype=float)
    n2 = np.broadcast_to(n2 if n2.ndim == 2 else n2.reshape(1, -1), (k, n2.shape[-1]))
    _n_array(n2.ravel())
    v: dict[str, np.ndarray] = {name: np.array([c.ps.values[name] for c in cases]).reshape(k, 1)
                                for name in P.PARAMS}
    v["n_cpus"] = n2
    c2c = {key: np.empty(n2.shape) for key in ("c2c_mean_ns", "c2c_max_ns", "c2c_var_ns2",
                                               "c2c_nbr_ns")}
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(cases):
        groups.setdefault(id(c.sc.machine), []).append(i)
    scale = np.array([c.c2c_scale for c in cases]).reshape(k, 1)
    for rows in groups.values():
        m = cases[rows[0]].sc.machine
        nr = n2[rows]
        c2c["c2c_mean_ns"][rows] = m.mean_c2c_ns(nr)
        c2c["c2c_max_ns"][rows] = m.max_c2c_ns(nr)
        c2c["c2c_var_ns2"][rows] = m.var_c2c_ns2(nr)
        c2c["c2c_nbr_ns"][rows] = m.neighbour_c2c_ns(nr)
    v["c2c_mean_ns"] = c2c["c2c_mean_ns"] * scale
    v["c2c_max_ns"] = c2c["c2c_max_ns"] * scale
    v["c2c_nbr_ns"] = c2c["c2c_nbr_ns"] * scale
    v["c2c_var_ns2"] = c2c["c2c_var_ns2"] * scale ** 2
    dirty = dirty_count(v["dirty_fraction"], n2)
    tables = tables or WakeTables(cases, float(dirty.max()), dists)
    v["wake_emax_ns"] = tables.emax(dirty)
    v["wake_smax_ns"] = tables.smax(dirty, v["queue_work_ns"])
    if need_qmax:
        # once per distinct distribution and dirty-count row (settings that leave the
        # wake-up alone share it; the d < 1 quantiles are bisections)
        done: dict[tuple, np.ndarray] = {}
        v["wake_qmax_ns"] = np.stack([
            done[key] if (key := (r, row.tobytes())) in done else
            done.setdefault(key, qmax_of(d, row))
            for d, r, row in zip(tables.dists, tables.row, dirty)])
    else:
        v["wake_qmax_ns"] = np.full(n2.shape, np.nan)
    v["wake_min_ns"] = tables.min_ns.reshape(k, 1)
    v["wake_mean_ns"] = tables.mean_ns.reshape(k, 1)
    lock: dict[str, np.ndarray] = {}
    by: dict[tuple, list[int]] = {}
    for i, c in enumerate(cases):    # one vectorised call per (distribution, machine)
        by.setdefault((int(tables.row[i]), id(c.sc.machine)), []).append(i)
    for rows in by.values():
        got = lrulock.class_values(tables.dists[rows[0]], cases[rows[0]].sc.machine,
                                   v["dirty_fraction"][rows], scale[rows])
        for key, x in got.items():
            lock.setdefault(key, np.empty((k, 1)))[rows] = x
    v.update(lock)
    v.update(lrulock.derived_values(v))
    pairs: dict[str, np.ndarray] = {}
    for rows in groups.values():       # pair classes per machine (c2c scaled per case)
        got = rlsum.class_inputs(cases[rows[0]].sc.machine, n2[rows], scale[rows])
        for key, x in got.items():
            pairs.setdefault(key, np.zeros(n2.shape))[rows] = x
    v.update(pairs)
    return v


def batch_metrics(cases: Sequence[Case], n: np.ndarray, need: Sequence[str] = METRICS,
                  tables: WakeTables | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(QW, RL) arrays of shape (K, M) of each metric in ``need`` for K cases at M CPU
    counts, in one vectorised call per (configuration pair, idle) group; the same recipe
    (:func:`metric_arrays`) as :func:`evaluate`."""
    # the cases' wake-up laws built once, for the tables and the mixtures over D
    dists = tables.dists if tables is not None else [c.dist for c in cases]
    v = batch_values(cases, n, tables, need_qmax="requester_p99_ns" in need, dists=dists)
    shape = v["n_cpus"].shape
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(cases):
        groups.setdefault((*c.sc.configs, OW.is_idle(c.sc.isolation), c.sc.pattern,
                           c.sc.dirty_count), []).append(i)
    wake = None

    def mix_of(conv: str, rows: list[int]) -> tuple[Wake, object] | None:
        nonlocal wake
        if conv == "fixed":
            return None
        if wake is None:
            wake = Wake(dists)
        sel = np.asarray(rows, dtype=np.intp)
        m = shape[1]
        return wake, (lambda idx: sel[np.asarray(idx) // m])

    if len(groups) == 1:
        (qc, rc, idle, pat, conv), = groups
        return metric_arrays(v, shape, idle=idle, qw_config=qc, rl_config=rc, need=need,
                             pattern=pat, mix=mix_of(conv, list(range(len(cases)))))
    out = {m: (np.empty(shape), np.empty(shape)) for m in need}
    for (qc, rc, idle, pat, conv), rows in groups.items():
        sub = {key: (x[rows] if np.ndim(x) == 2 else x) for key, x in v.items()}
        part = metric_arrays(sub, (len(rows), shape[1]), idle=idle, qw_config=qc, rl_config=rc,
                             need=need, pattern=pat, mix=mix_of(conv, rows))
        for m, (q, r) in part.items():
            out[m][0][rows] = q
            out[m][1][rows] = r
    return out


# ---- the two forms of a result ---------------------------------------------------------
STRATEGIES = ("QW", "RL")
# what a scenario's rows are labelled with (the structural axes of a sweep)
LABELS = ("machine", "callsite", "isolation", "preempt_model", "qw_config", "rl_config")
WIDE_METRICS = METRICS + ("dirty_cpus",)


def wide_column(strategy: str, metric: str) -> str:
    """The wide form's column of ``metric`` for ``strategy``: ``qw_requester_mean_ns``."""
    return f"{strategy.lower()}_{metric}"


def wide_columns(metrics: Sequence[str] = WIDE_METRICS) -> list[str]:
    """Metric columns of the wide form: every QW column, then every RL column."""
    return [wide_column(s, m) for s in STRATEGIES for m in metrics]


def labels(sc: Scenario) -> dict[str, str]:
    """The scenario's label columns (:data:`LABELS`)."""
    qw_cfg, rl_cfg = sc.configs
    return {"machine": sc.machine.name, "callsite": sc.callsite_name, "isolation": sc.isolation,
            "preempt_model": sc.preempt, "qw_config": qw_cfg, "rl_config": rl_cfg}


def mixing(sc: Scenario, ps: P.ParamSet | None = None) -> tuple[Wake, object] | None:
    """The ``mix`` argument of :func:`metric_arrays` for one scenario (None: fixed D)."""
    if sc.dirty_count == "fixed":
        return None
    return Wake([sc.wake_dist(ps)]), _row0


def _row0(idx: np.ndarray) -> np.ndarray:
    return np.zeros(np.shape(idx), dtype=np.intp)


def _n_column(n: np.ndarray) -> np.ndarray:
    return n.astype(np.int64) if np.all(n == np.round(n)) else n


def _evaluated(sc: Scenario, n_cpus, need: Sequence[str] = METRICS
               ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """CPU counts and the (QW, RL) arrays of every metric of :data:`WIDE_METRICS` (of
    ``need`` and ``dirty_cpus`` only, if given)."""
    ps = sc.params()
    n = _n_array(n_cpus)
    v = inputs(sc, n, ps)
    qw_cfg, rl_cfg = sc.configs
    arrays = metric_arrays(v, n.shape, idle=OW.is_idle(sc.isolation), qw_config=qw_cfg,
                           rl_config=rl_cfg, need=need, pattern=sc.pattern, mix=mixing(sc, ps))
    d = dirty_count(ps["dirty_fraction"], n)
    return n, {**arrays, "dirty_cpus": (d, d)}


def metrics(sc: Scenario, n_cpus: Sequence[float] | np.ndarray, need: Sequence[str]
            ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The (QW, RL) arrays of the metrics in ``need`` at the CPU counts ``n_cpus`` (in the
    order given): the numbers :func:`evaluate` gives (the same recipe, each metric computed
    on its own), without computing the others (the mixture quantiles of the p99 cost most)."""
    for m in need:
        if m not in METRICS:
            raise PwmodelError(f"unknown metric '{m}' (known: {', '.join(METRICS)})", field="metric")
    _, arrays = _evaluated(sc, n_cpus, need)
    return {m: (np.asarray(arrays[m][0], dtype=float), np.asarray(arrays[m][1], dtype=float))
            for m in need}


def wide(sc: Scenario, n_cpus: Sequence[float] | np.ndarray = N_DEFAULT) -> pl.DataFrame:
    """Both strategies at each CPU count in the wide form a sweep writes: one row per CPU
    count, the label columns, ``n_cpus``, then ``qw_<metric>`` and ``rl_<metric>``
    (:func:`wide_columns`; units in the metric names). The same numbers as
    :func:`evaluate`."""
    import polars as pl
    n, arrays = _evaluated(sc, n_cpus)
    lab = labels(sc)
    return pl.DataFrame({
        **{k: [lab[k]] * n.size for k in LABELS}, "n_cpus": _n_column(n),
        **{wide_column(s, m): np.asarray(arrays[m][k], dtype=float)
           for k, s in enumerate(STRATEGIES) for m in WIDE_METRICS}})


def evaluate(sc: Scenario, n_cpus: Sequence[float] | np.ndarray = N_DEFAULT) -> pl.DataFrame:
    """Both strategies at each CPU count: one row per (n_cpus, strategy) (the long form;
    :func:`wide` gives the same numbers one row per CPU count)."""
    import polars as pl
    n, arrays = _evaluated(sc, n_cpus)
    lab = labels(sc)
    frames = []
    for k, strat in enumerate(STRATEGIES):
        frames.append(pl.DataFrame({
            "machine": [lab["machine"]] * n.size, "callsite": [lab["callsite"]] * n.size,
            "isolation": [lab["isolation"]] * n.size, "preempt_model": [lab["preempt_model"]] * n.size,
            "strategy": [strat] * n.size, "config": [lab[f"{strat.lower()}_config"]] * n.size,
            "n_cpus": _n_column(n),
            "dirty_cpus": arrays["dirty_cpus"][k],
            **{m: np.asarray(arrays[m][k], dtype=float) for m in METRICS},
        }))
    return pl.concat(frames).sort(["n_cpus", "strategy"])


def evaluate_mean_dirty(sc: Scenario, n_cpus: Sequence[float] | np.ndarray = N_DEFAULT) -> pl.DataFrame:
    """:func:`evaluate` with the mean dirty count d N inside every form, whatever the
    scenario's convention: the form that ignores the spread of D (the expected maximum of
    d N wake-ups instead of its average over D). A binomial validation must reject it at
    small N; the validation floor test uses it as the deliberately wrong form."""
    return evaluate(dataclasses.replace(sc, dirty_count="fixed"), n_cpus)


def fastpath_table(machine: M.Machine, overrides: Mapping[str, float] | None = None) -> pl.DataFrame:
    """Per-op cost of each kernel configuration on one machine (ns and cycles)."""
    import polars as pl
    ps = P.resolve(machine, overrides)
    rows = []
    for cfg in FP.CONFIGS:
        tax = float(numeric(FP.tax_expr(cfg), ps.values))
        rows.append({"machine": machine.name, "config": cfg, "tax_ns": tax,
                     "tax_cycles": float(numeric(FP.cycles(FP.tax_expr(cfg)), ps.values)),
                     "lock_pair_ns": float(numeric(FP.lock_cost_expr(cfg), ps.values))})
    return pl.DataFrame(rows)
