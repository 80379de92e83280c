"""Uncertainty carried to the answer: intervals of N* and of every metric per CPU count.

Inputs: the intervals of the resolved parameters (:attr:`pwmodel.params.ParamSet.intervals`:
registry ranges of assumed values and intervals a machine profile gives, e.g. fitted
confidence intervals), optionally a factor range on every core-to-core latency of
the machine. Workload ranges (rates, dirty share) are left out by default: they
describe the scenario the user chose, not an unknown.

Method, vectorised over all settings in one batch evaluation of the lambdified model
(:func:`pwmodel.evaluate.batch_metrics`, :func:`pwmodel.decide.crossovers_n`):

1. one at a time: each parameter at the low and the high end of its interval, the
   others at their values; the output's largest move names the *dominating*
   parameter (the one whose interval alone moves it most);
2. directed corners: every parameter at the end that lowered (raised) the output in
   step 1 - the exact extremes when the output is monotone in each parameter;
3. a Latin hypercube of ``n_draws`` settings (uniform on each interval, log-uniform
   where the interval spans a factor 10 or more; fixed seed) to catch what is not
   monotone.

The interval is the envelope (min, max) of the nominal value and all of these
settings: the range the model gives over the input intervals, not a probability
statement (the inputs have ranges, not distributions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from pwmodel import decide as DC
from pwmodel import evaluate as E
from pwmodel import params as P

DEFAULT_KINDS = ("assumption", "fitted")
C2C_SCALE = "c2c_scale"          # pseudo-parameter: factor on every c2c latency


@dataclass(frozen=True)
class Spread:
    """One uncertain input: its nominal value and interval (``name`` a parameter or
    ``c2c_scale``)."""

    name: str
    value: float
    low: float
    high: float
    source: str


@dataclass(frozen=True)
class Band:
    """Value, interval and dominating input of one output (arrays over the CPU counts
    for metrics; 1-element arrays for a crossover)."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    dominant: list[str | None]      # per element: the input whose interval moves it most


def spreads(sc: E.Scenario, kinds: Sequence[str] = DEFAULT_KINDS,
            c2c: tuple[float, float, str] | None = None,
            ps: P.ParamSet | None = None) -> list[Spread]:
    """The uncertain inputs of a scenario: parameters with an interval of ``kinds``
    (width > 0) and, if given, a factor range (low, high, source) on the c2c latencies."""
    ps = ps or sc.params()
    out = [Spread(k, ps[k], iv.low, iv.high, iv.source)
           for k, iv in sorted(ps.ranged(kinds).items())]
    if c2c is not None and c2c[1] > c2c[0]:
        out.append(Spread(C2C_SCALE, 1.0, float(c2c[0]), float(c2c[1]), c2c[2]))
    return out


def _case(sc: E.Scenario, ps: P.ParamSet, setting: Mapping[str, float]) -> E.Case:
    scale = setting.get(C2C_SCALE, 1.0)
    moved = {k: v for k, v in setting.items() if k != C2C_SCALE}
    return E.Case(sc, ps.with_overrides(moved, source="moved") if moved else ps, float(scale))


def _lhs(sp_: Sequence[Spread], n: int, seed: int) -> list[dict[str, float]]:
    if not sp_ or n <= 0:
        return []
    rng = np.random.default_rng(seed)
    d = len(sp_)
    u = (rng.permuted(np.tile(np.arange(n), (d, 1)), axis=1).T + rng.random((n, d))) / n
    out = []
    for row in u:
        s = {}
        for x, spd in zip(row, sp_):
            if spd.low > 0 and spd.high / spd.low >= 10:
                s[spd.name] = float(math.exp(math.log(spd.low) + x * math.log(spd.high / spd.low)))
            else:
                s[spd.name] = float(spd.low + x * (spd.high - spd.low))
        out.append(s)
    return out


class Plan:
    """The settings of one uncertainty run: nominal, one-at-a-time ends, Latin hypercube.
    Directed corners are added per output once the one-at-a-time moves are known."""

    def __init__(self, sc: E.Scenario, kinds: Sequence[str] = DEFAULT_KINDS,
                 c2c: tuple[float, float, str] | None = None, n_draws: int = 32,
                 seed: int = 0) -> None:
        self.sc = sc
        self.ps = sc.params()
        self.spreads = spreads(sc, kinds, c2c, self.ps)
        self.oat: list[dict[str, float]] = []
        for spd in self.spreads:
            self.oat += [{spd.name: spd.low}, {spd.name: spd.high}]
        self.lhs = _lhs(self.spreads, n_draws, seed)
        self._cases: dict[tuple, E.Case] = {}

    def cases(self, settings: Sequence[Mapping[str, float]]) -> list[E.Case]:
        """The cases of ``settings``, each made once per plan (the metric bands and the
        crossover band evaluate the same settings: their cases share their wake-up laws)."""
        out = []
        for s in settings:
            key = tuple(sorted(s.items()))
            c = self._cases.get(key)
            if c is None:
                c = self._cases[key] = _case(self.sc, self.ps, s)
            out.append(c)
        return out

    def corners(self, lo_move: np.ndarray, hi_move: np.ndarray) -> tuple[dict, dict]:
        """The two directed corners for one output from its one-at-a-time values at each
        input's low (``lo_move``) and high end (``hi_move``)."""
        down, up = {}, {}
        for spd, a, b in zip(self.spreads, lo_move, hi_move):
            if not (np.isfinite(a) and np.isfinite(b)) or a == b:
                continue
            down[spd.name], up[spd.name] = (spd.low, spd.high) if a < b else (spd.high, spd.low)
        return down, up

    def dominant(self, nominal: float, lo_move: np.ndarray, hi_move: np.ndarray) -> str | None:
        best, who = 0.0, None
        for spd, a, b in zip(self.spreads, lo_move, hi_move):
            sw = _swing(nominal, a, b)
            if sw > best:
                best, who = sw, spd.name
        return who


def _swing(nominal: float, a: float, b: float) -> float:
    """How far an input's two ends move an output: log ratio for positive values (the
    outputs span decades), inf when an end makes it unbounded or none."""
    vals = [x for x in (a, b) if not math.isnan(x)]
    if not vals:
        return 0.0
    if any(math.isinf(x) for x in vals) or math.isinf(nominal) or math.isnan(nominal):
        return math.inf if any(x != nominal for x in vals) else 0.0
    if nominal > 0 and all(x > 0 for x in vals):
        return max(abs(math.log(x / nominal)) for x in vals)
    return max(abs(x - nominal) for x in vals) / max(abs(nominal), 1e-300)


def _envelope(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(np.where(np.isnan(rows), np.inf, rows), axis=0)
        hi = np.nanmax(np.where(np.isnan(rows), -np.inf, rows), axis=0)
    return lo, hi


def metric_bands(plan: Plan, n_cpus: Sequence[float], metrics: Sequence[str]
                 ) -> dict[tuple[str, str], Band]:
    """Band of each metric and strategy (``(metric, "QW"|"RL")``) at each CPU count."""
    n = np.asarray(n_cpus, dtype=float)
    base = [{}] + plan.oat + plan.lhs
    out1 = E.batch_metrics(plan.cases(base), n, list(metrics))
    p = len(plan.spreads)
    result: dict[tuple[str, str], Band] = {}
    corner_settings: list[dict] = []
    where: list[tuple[str, int, int]] = []
    for m in metrics:
        for s, arr in zip(("QW", "RL"), out1[m]):
            arr = np.asarray(arr, dtype=float)
            for j in range(n.size):
                lo_m = arr[1:1 + 2 * p:2, j]
                hi_m = arr[2:2 + 2 * p:2, j]
                dn, up = plan.corners(lo_m, hi_m)
                corner_settings += [dn, up]
                where.append((m, 0 if s == "QW" else 1, j))
    # each pair of corners is evaluated only where it is read: its own metric at its own
    # CPU count (a point's value does not depend on the points evaluated with it)
    corner_vals: dict[int, np.ndarray] = {}
    for m in metrics:
        ks = [k for k, (mm, _, _) in enumerate(where) if mm == m]
        if not ks:
            continue
        sets = [st for k in ks for st in corner_settings[2 * k:2 * k + 2]]
        at = np.array([[n[where[k][2]]] for k in ks for _ in range(2)])
        got = E.batch_metrics(plan.cases(sets), at, [m])[m]
        for i, k in enumerate(ks):
            corner_vals[k] = np.asarray(got[where[k][1]], dtype=float)[2 * i:2 * i + 2, 0]
    for m in metrics:
        for si, s in enumerate(("QW", "RL")):
            arr = np.asarray(out1[m][si], dtype=float)
            nominal = arr[0]
            lo, hi = _envelope(arr)
            dom: list[str | None] = []
            for j in range(n.size):
                dom.append(plan.dominant(float(nominal[j]), arr[1:1 + 2 * p:2, j],
                                         arr[2:2 + 2 * p:2, j]))
            for k, (mm, ss, j) in enumerate(where):
                if mm == m and ss == si:
                    c = corner_vals[k]
                    c = c[~np.isnan(c)]
                    if c.size:
                        lo[j] = min(lo[j], c.min())
                        hi[j] = max(hi[j], c.max())
            result[(m, s)] = Band(nominal.copy(), lo, hi, dom)
    return result


@dataclass(frozen=True)
class CrossoverBand:
    n_cpus: float
    low: float
    high: float
    below: str
    above: str
    dominant: str | None
    moves: Mapping[str, tuple[float, float]]   # input -> (N* at its low end, at its high end)


def crossover_band(plan: Plan, objective: str = "requester_mean", n_lo: float = 1.0,
                   n_hi: float = 1e6) -> CrossoverBand:
    """N* with its interval over the plan's settings. A setting without a crossover in
    range (one strategy wins everywhere) counts as beyond the range on the side the
    nominal crossover lies (``n_hi``, or ``n_lo`` when QW wins everywhere)."""
    return crossover_bands([plan], objective, n_lo, n_hi)[0]


def crossover_bands(plans: Sequence[Plan], objective: str = "requester_mean", n_lo: float = 1.0,
                    n_hi: float = 1e6) -> list[CrossoverBand]:
    """:func:`crossover_band` of many plans in two vectorised crossover calls."""
    plans = list(plans)
    if not plans:
        return []
    cases, spans = [], []
    for pl_ in plans:
        cs = pl_.cases([{}] + pl_.oat + pl_.lhs)
        spans.append((len(cases), len(cases) + len(cs)))
        cases += cs
    xs = DC.crossovers_n(cases, n_lo, n_hi, objective)
    vals_all = _beyond(xs, n_lo, n_hi)
    corner_cases, parts = [], []
    for pl_, (a, b) in zip(plans, spans):
        p = len(pl_.spreads)
        vals = vals_all[a:b]
        dn, up = pl_.corners(vals[1:1 + 2 * p:2], vals[2:2 + 2 * p:2])
        corner_cases += pl_.cases([dn, up])
    xc = _beyond(DC.crossovers_n(corner_cases, n_lo, n_hi, objective), n_lo, n_hi)
    out = []
    for k, (pl_, (a, b)) in enumerate(zip(plans, spans)):
        p = len(pl_.spreads)
        vals = vals_all[a:b]
        lo_m, hi_m = vals[1:1 + 2 * p:2], vals[2:2 + 2 * p:2]
        allv = np.concatenate([vals, xc[2 * k:2 * k + 2]])
        fin = allv[~np.isnan(allv)]
        nominal = float(xs.n_cpus[a])
        lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (math.nan, math.nan)
        if math.isnan(nominal) and fin.size and np.all(np.isin(fin, (n_lo, n_hi))):
            lo = hi = math.nan      # no crossover anywhere in the intervals
        moves = {spd.name: (float(x), float(y)) for spd, x, y in zip(pl_.spreads, lo_m, hi_m)}
        dom = pl_.dominant(vals[0], lo_m, hi_m)
        out.append(CrossoverBand(nominal, lo, hi, str(xs.below[a]), str(xs.above[a]), dom, moves))
    return out


def _beyond(xs: DC.Crossovers, n_lo: float, n_hi: float) -> np.ndarray:
    """Crossovers with 'none in range' mapped to the end where the strategy that wins
    everywhere puts it: RL everywhere -> n_hi (N* beyond the range), QW -> n_lo."""
    v = np.asarray(xs.n_cpus, dtype=float).copy()
    none = np.isnan(v)
    v[none & (xs.below == "RL")] = n_hi
    v[none & (xs.below == "QW")] = n_lo
    v[np.isinf(v)] = n_hi
    return v
