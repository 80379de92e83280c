"""Decide: which strategy wins an objective, by how much, and where the crossover lies.

Objectives (``OBJECTIVES``) map to columns of :func:`pwmodel.evaluate.evaluate`:
requester latency mean / p99 of one lru_add_drain_all(), victim interruption
mean / worst per drain, CPU time per drain, fast-path tax per local op, and
the total CPU load (remote drains at remote_rate_hz plus the tax on every
local op of every CPU).

Crossovers:

* in CPU count: where QW and RL requester means are equal. Found for many
  scenarios and parameter settings at once (:func:`crossovers_n`: a log grid
  of N brackets the first sign change, vectorised bisection refines it); the
  closed form (SymPy, solved once and cached on disk) is reported where the
  wake-up maximum does not depend on N (the fair deadline server's point mass,
  or no wait at all) and it agrees. Both are checked by substituting back.
* in remote-operation rate: the total CPU load of QW and RL is linear in
  lambda_R, so the rate at which they cost the same has the closed form
  lambda_R* = N lambda_L (tax_RL + extra_RL - tax_QW) / (cpu_QW - cpu_RL).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import sympy as sp

if TYPE_CHECKING:     # imported where a frame is built (a decision needs none)
    import polars as pl

from pwmodel import __version__
from pwmodel import comparison as CMP
from pwmodel import evaluate as E
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, inputs
from pwmodel.models import fanout as F
from pwmodel.models import numeric
from pwmodel.models import owner as OW
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

OBJECTIVES = {
    "requester_mean": "requester_mean_ns",
    "requester_p99": "requester_p99_ns",
    "victim_mean": "victim_mean_ns",
    "victim_worst": "victim_worst_ns",
    "cpu_time": "cpu_time_ns",
    "fastpath_tax": "fastpath_tax_ns",
    "cpu_load": "cpu_load_cpus",
}


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise PwmodelError(f"unknown objective '{objective}' (known: {', '.join(OBJECTIVES)})",
                           field="objective")
    return OBJECTIVES[objective]


def compare(sc: Scenario, n_cpus: Sequence[float] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            objectives: Sequence[str] = tuple(OBJECTIVES)) -> pl.DataFrame:
    """Winner and margin per CPU count and objective (wide: one row per n_cpus x objective)."""
    import polars as pl
    w = E.wide(sc, n_cpus).sort("n_cpus")
    out = []
    for obj in objectives:
        col = check_objective(obj)
        qw, rl = w[E.wide_column("QW", col)].to_numpy(), w[E.wide_column("RL", col)].to_numpy()
        with np.errstate(invalid="ignore"):
            margin = np.abs(qw - rl)
        winner, ratio = CMP.winner(qw, rl), CMP.ratio(qw, rl)
        out.append(pl.DataFrame({
            "n_cpus": w["n_cpus"], "objective": [obj] * w.height, "unit": [col.rsplit("_", 1)[1]] * w.height,
            "qw": qw, "rl": rl, "winner": winner, "margin": margin, "ratio": ratio}))
    return pl.concat(out)


# ---- crossover in CPU count --------------------------------------------------------
@dataclass(frozen=True)
class Crossover:
    n_cpus: float            # nan: none in range; inf: unbounded
    method: str              # "closed form", "numeric (...)" or why there is none
    below: str               # winner below the crossover
    above: str               # winner above
    expr: sp.Expr | None = None
    residual_ns: float = math.nan


def _disk_cached(key_expr: sp.Expr, build) -> sp.Expr:
    """``build()`` once per package version and expression (hash of ``srepr(key_expr)``):
    kept in memory and in the cache folder (:mod:`pwmodel.diskcache`, kind ``sympy``) as
    srepr text, so a fresh process reads it instead of solving again. An unreadable cache
    file, or one that is not an expression in the equation's symbols, is rebuilt; an
    unwritable cache folder is skipped (files are written atomically: never half a file)."""
    from pwmodel import diskcache
    h = hashlib.sha256(f"{__version__}\n{sp.srepr(key_expr)}".encode()).hexdigest()[:32]
    if h in _MEM:
        return _MEM[h]
    name = f"{h}.srepr"
    out = None
    data = diskcache.read("sympy", name)
    try:
        out = sp.sympify(data.decode(), locals=None) if data is not None else None
    except Exception:   # a damaged cache file: rebuild it
        out = None
    if out is not None and not (isinstance(out, sp.Expr)
                                and out.free_symbols <= key_expr.free_symbols):
        out = None      # readable but not a solution in the equation's symbols: rebuild
    if out is None:
        out = build()
        diskcache.write("sympy", name, sp.srepr(out).encode())
    _MEM[h] = out
    return out


_MEM: dict[str, sp.Expr] = {}


@functools.lru_cache(maxsize=None)
def crossover_symbolic(regime: str = "slowest") -> sp.Expr:
    """N at which RL and QW requester means are equal, for D >= 1 and an N-independent
    slowest work's wait (symbol wake_smax_ns, :func:`pwmodel.models.fanout.slowest_mean_expr`). ``regime`` picks the branch of the QW tail:
    'slowest' (the slowest CPU's wake-up bounds the flush) or 'lock' (the lru_lock
    serialisation of the parallel drains does).

    Solved once with symbols for every parameter (the difference is linear in N, so
    N* = -a / b with a, b its value at N = 0 and its slope; no ``simplify``), and cached
    in memory and on disk keyed by the package version and the equation."""
    n = X.n_cpus
    rl = F.rl_mean_expr()
    if regime == "slowest":
        tail = F.slowest_mean_expr()
    elif regime == "lock":
        tail = F.lru_serial_expr()
    else:
        raise PwmodelError(f"unknown regime '{regime}' (slowest, lock)", field="regime")
    qw = (F._base() + tail + S["requester_wakeup_ns"]).subs(F._d1, F.dirty_expr)
    diff = sp.expand(qw - rl)

    def solve() -> sp.Expr:
        b = sp.diff(diff, n)
        if n in b.free_symbols:
            sol = sp.solve(sp.Eq(rl, qw), n)
            if len(sol) != 1:
                raise PwmodelError("no unique closed-form crossover")
            return sol[0]
        return -diff.subs(n, 0) / b
    return _disk_cached(sp.Eq(diff, 0), solve)


GRID_PER_OCTAVE = 8


def _log_grid(n_lo: float, n_hi: float, per_octave: int = GRID_PER_OCTAVE) -> np.ndarray:
    k = int(math.ceil(per_octave * math.log2(n_hi / n_lo)))
    g = n_lo * 2.0 ** (np.arange(k + 1) / per_octave)
    g[-1] = n_hi
    return np.unique(np.minimum(g, n_hi))


def _pair_diff(cases, n, column: str, tables) -> np.ndarray:
    q, r = E.batch_metrics(cases, n, [column], tables)[column]
    with np.errstate(invalid="ignore"):
        d = q - r
    # QW unbounded and RL finite: RL wins (+inf); both unbounded stays nan
    return np.where(np.isinf(q) & np.isfinite(r), np.inf, d)


@dataclass(frozen=True)
class Crossovers:
    """Crossovers of K cases (arrays of length K): see :func:`crossovers_n`."""

    n_cpus: np.ndarray       # nan: none in range; inf: unbounded wait (QW never completes)
    below: np.ndarray        # winner below ("RL"/"QW")
    above: np.ndarray        # winner above
    residual: np.ndarray     # QW - RL at n_cpus (ns of the objective)


def crossovers_n(cases: Sequence["E.Case"], n_lo: float = 1.0, n_hi: float = 1e6,
                 objective: str = "requester_mean", xtol: float = 1e-13) -> Crossovers:
    """The CPU count where QW and RL are equal for many cases at once (vectorised).

    The difference QW - RL is evaluated for every case on a log grid of N (8 points
    per octave) from ``n_lo`` to ``n_hi``; the first sign change brackets the
    crossover, which regula falsi (Illinois) on log N refines for all bracketed cases
    together to ``xtol``. A case whose QW never completes at either end is unbounded
    (inf); one without a sign change has none in range (nan)."""
    column = check_objective(objective)
    cases = list(cases)
    k = len(cases)
    if k == 0:
        e = np.empty(0)
        return Crossovers(e, e.astype(object), e.astype(object), e)
    grid = _log_grid(n_lo, n_hi)
    tables = E.WakeTables(cases, float(E.dirty_count(max(c.ps["dirty_fraction"] for c in cases), n_hi)))
    d = _pair_diff(cases, grid, column, tables)
    out = np.full(k, np.nan)
    res = np.full(k, np.nan)
    lo_d, hi_d = d[:, 0], d[:, -1]
    below = np.where(lo_d > 0, "RL", "QW").astype(object)
    above = np.where(hi_d > 0, "RL", "QW").astype(object)
    unbounded = np.isinf(lo_d) & np.isinf(hi_d) & (lo_d > 0)
    both_inf = np.isnan(lo_d) & np.isnan(hi_d)
    out[unbounded | both_inf] = math.inf
    below[unbounded | both_inf] = "RL"
    above[unbounded | both_inf] = "RL"
    sgn = np.sign(np.nan_to_num(d, nan=0.0, posinf=1.0, neginf=-1.0))
    change = (sgn[:, :-1] * sgn[:, 1:] < 0) | ((sgn[:, :-1] != 0) & (sgn[:, 1:] == 0))
    has = change.any(axis=1) & ~unbounded & ~both_inf
    exact0 = (sgn[:, 0] == 0) & ~unbounded & ~both_inf
    out[exact0] = grid[0]
    res[exact0] = 0.0
    idx = np.nonzero(has & ~exact0)[0]
    if idx.size:
        j = np.argmax(change[idx], axis=1)
        a, b = np.log(grid[j]), np.log(grid[j + 1])
        fa, fb = d[idx, j], d[idx, j + 1]
        tsub = tables.subset(idx)
        x = 0.5 * (a + b)
        fx = np.full(idx.size, np.nan)
        side = np.zeros(idx.size)
        live = np.arange(idx.size)       # the cases still narrowing their bracket
        for it in range(200):
            # Illinois regula falsi on log N (superlinear), bisection where an end is
            # infinite or after 30 steps; the bracket always keeps a sign change. A case
            # stops at its own convergence and only the live ones are evaluated (a case's
            # value does not depend on the cases evaluated with it): the same steps and
            # values as evaluating every case at every step
            al, bl, fal, fbl = a[live], b[live], fa[live], fb[live]
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                c = (al * fbl - bl * fal) / (fbl - fal)
            ok = np.isfinite(c) & (c > al) & (c < bl) & (it < 30)
            c = np.where(ok, c, 0.5 * (al + bl))
            fc = _pair_diff([cases[idx[i]] for i in live], np.exp(c).reshape(-1, 1), column,
                            tsub.subset(live))[:, 0]
            same_b = np.sign(fc) == np.sign(fbl)
            zero = fc == 0
            sl = side[live]
            # move the end whose sign fc shares; halve the other end's value when the same
            # end moves twice in a row (Illinois)
            fal = np.where(same_b & (sl == -1), fal / 2, fal)
            fbl = np.where(~same_b & (sl == 1), fbl / 2, fbl)
            b[live], fb[live] = np.where(same_b, c, bl), np.where(same_b, fc, fbl)
            a[live], fa[live] = np.where(~same_b, c, al), np.where(~same_b, fc, fal)
            side[live] = np.where(same_b, -1, 1)
            conv = zero | (b[live] - a[live] <= xtol * np.maximum(np.abs(c), 1.0)) | \
                (np.abs(c - x[live]) <= xtol * np.maximum(np.abs(c), 1.0))
            x[live], fx[live] = c, fc     # the residual: QW - RL at the last step's N
            live = live[~conv]
            if live.size == 0:
                break
        out[idx] = np.exp(x)
        res[idx] = fx
        above[idx] = np.where(below[idx] == "RL", "QW", "RL")
    return Crossovers(out, below, above, res)


def crossover_n(sc: Scenario, n_lo: float = 1.0, n_hi: float = 1e6) -> Crossover:
    """The CPU count where the requester means of QW and RL are equal.

    Found by :func:`crossovers_n` (the vectorised numeric path); where the wake-up is a
    point mass and D >= 1 the cached closed form of :func:`crossover_symbolic` is checked
    against it and, when it agrees, reported (exact to rounding)."""
    return crossovers([sc], n_lo, n_hi)[0]


def crossovers(scs: Sequence[Scenario], n_lo: float = 1.0, n_hi: float = 1e6) -> list[Crossover]:
    """:func:`crossover_n` of many scenarios in one vectorised call (the same results)."""
    scs = list(scs)
    if not scs:
        return []
    xs = crossovers_n([E.case(sc) for sc in scs], n_lo, n_hi)
    return [_finish(sc, float(xs.n_cpus[i]), str(xs.below[i]), str(xs.above[i]),
                    float(xs.residual[i]), n_lo, n_hi) for i, sc in enumerate(scs)]


def _finish(sc: Scenario, n_star: float, below: str, above: str, residual: float,
            n_lo: float, n_hi: float) -> Crossover:
    if math.isinf(n_star):
        return Crossover(math.inf, "unbounded wait: QW never completes", "RL", "RL")
    if math.isnan(n_star):
        return Crossover(math.nan, f"none in [{n_lo:g}, {n_hi:g}]", below, above)
    dist = sc.wake_dist()
    ps = sc.params()
    # the closed form solves the flushing requester's forms (async call sites: numeric only)
    if len(dist.components) == 1 and dist.components[0].kind == "point" and sc.pattern == "flush":
        for regime in ("slowest", "lock"):
            expr = crossover_symbolic(regime)
            n_cf = _fixed_point(sc, ps, expr, n_star)
            if math.isfinite(n_cf) and E.dirty_count(ps["dirty_fraction"], n_cf) >= 1 and n_lo <= n_cf <= n_hi \
                    and abs(n_cf - n_star) <= 1e-6 * n_star:
                res, scale = _diff(sc, n_cf)
                if abs(res) <= 1e-6 * scale:
                    return Crossover(n_cf, f"closed form ({regime} regime)", below, above, expr, res)
    return Crossover(n_star, "numeric (vectorised regula falsi on log N)", below, above, None,
                     residual)


def _diff(sc: Scenario, n: float) -> tuple[float, float]:
    """QW - RL requester mean at ``n`` and the larger of the two (NaN left out, as a frame's
    max leaves it), from the requester means alone (evaluate()'s numbers)."""
    q, r = (float(x[0]) for x in E.metrics(sc, [n], ["requester_mean_ns"])["requester_mean_ns"])
    return q - r, max((x for x in (q, r) if not math.isnan(x)), default=math.nan)


def _fixed_point(sc: Scenario, ps, expr: sp.Expr, n_start: float) -> float:
    """Solve N = expr(c2c_mean(N)): the topology mean depends weakly on N."""
    idle = OW.is_idle(sc.isolation)       # the owner's inputs, as in evaluate()
    v = OW.owner_values(inputs(sc, np.array([n_start]), ps), idle)
    n_star = math.nan
    for _ in range(60):
        val = {k: (float(np.ravel(x)[0]) if isinstance(x, np.ndarray) else x) for k, x in v.items()}
        n_new = float(numeric(expr, val))
        if not math.isfinite(n_new) or n_new <= 0 or n_new > n_start * 1e3:
            return math.nan
        if math.isfinite(n_star) and abs(n_new - n_star) <= 1e-12 * n_new:
            return n_new
        n_star = n_new
        v = OW.owner_values(inputs(sc, np.array([max(n_star, 1.0)]), ps), idle)
    return n_star


# ---- crossover in remote rate --------------------------------------------------
def crossover_rate_expr() -> sp.Expr:
    """Closed-form lambda_R (Hz) at which QW and RL total CPU load are equal."""
    lam = S["remote_rate_hz"]
    tq, tr, ex = sp.symbols("tax_qw_ns tax_rl_ns extra_rl_ns", nonnegative=True)
    cq, cr = sp.symbols("cpu_qw_ns cpu_rl_ns", nonnegative=True)
    load_q = F.cpu_load_expr(cq, tq)
    load_r = F.cpu_load_expr(cr, tr + ex)
    return sp.solve(sp.Eq(load_q, load_r), lam)[0]


def crossover_rate(sc: Scenario, n_cpus: float) -> float:
    """Remote drains per second per CPU above which RL costs less CPU than QW (Hz).

    Evaluated at the scenario's remote_rate_hz for the extra misses/waits term
    (which itself grows with the rate), then refined by root finding on the
    full load difference. inf: RL never cheaper; 0: RL always cheaper.
    """
    def diff(rate: float) -> float:
        # every other field of the scenario kept (a positional copy once dropped new ones)
        s2 = dataclasses.replace(sc, overrides={**(sc.overrides or {}), "remote_rate_hz": rate})
        # only the loads: evaluate()'s numbers without its other metrics (the p99 mixtures)
        q, r = E.metrics(s2, [n_cpus], ["cpu_load_cpus"])["cpu_load_cpus"]
        return float(q[0] - r[0])
    lo, hi = 1e-6, 1e6
    dlo, dhi = diff(lo), diff(hi)
    if math.isnan(dlo) or math.isnan(dhi):
        # e.g. QW CPU time unbounded (a kworker that never runs): no finite crossover
        return math.nan
    if dlo > 0:
        return 0.0
    if dhi < 0:
        return math.inf
    from scipy import optimize
    x = optimize.brentq(lambda t: diff(math.exp(t)), math.log(lo), math.log(hi), xtol=1e-10)
    return math.exp(x)


def crossover_map(machine, isolations: Sequence[str], n_cpus: Sequence[float],
                  rates_hz: Sequence[float], objective: str = "cpu_load", **kw) -> pl.DataFrame:
    """Winner and log10 ratio on a grid of isolation x CPU count x remote rate."""
    import polars as pl
    col = check_objective(objective)
    base_over = dict(kw.pop("overrides", None) or {})
    rows = []
    for iso in isolations:
        for rate in rates_hz:
            sc = Scenario(machine, iso, overrides={**base_over, "remote_rate_hz": rate}, **kw)
            w = E.wide(sc, n_cpus).sort("n_cpus")
            q, r = w[E.wide_column("QW", col)].to_numpy(), w[E.wide_column("RL", col)].to_numpy()
            for n, qi, ri, win, lr in zip(w["n_cpus"], q, r, CMP.winner(q, r), CMP.log10_ratio(q, r)):
                rows.append({"isolation": iso, "remote_rate_hz": float(rate), "n_cpus": float(n),
                             "qw": float(qi), "rl": float(ri), "winner": str(win),
                             "log10_qw_over_rl": float(lr)})
    return pl.DataFrame(rows)
