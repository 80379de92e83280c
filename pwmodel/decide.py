"""Decide: which strategy wins an objective, by how much, and where the crossover lies.

Objectives (``OBJECTIVES``) map to columns of :func:`pwmodel.evaluate.evaluate`:
requester latency mean / p99 of one lru_add_drain_all(), victim interruption
mean / worst per drain, CPU time per drain, fast-path tax per local op, and
the total CPU load (remote drains at remote_rate_hz plus the tax on every
local op of every CPU).

Crossovers:

* in CPU count: where QW and RL requester means are equal. Closed form
  (SymPy ``solve``) when the wake-up maximum does not depend on N (the fair
  deadline server's point mass, or no wait at all) and the c2c mean is taken
  at its large-N value; otherwise numerically (brentq on log N over the
  lambdified expressions). Both are checked by substituting back.
* in remote-operation rate: the total CPU load of QW and RL is linear in
  lambda_R, so the rate at which they cost the same has the closed form
  lambda_R* = N lambda_L (tax_RL + extra_RL - tax_QW) / (cpu_QW - cpu_RL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl
import sympy as sp
from scipy import optimize

from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, evaluate, inputs
from pwmodel.models import fanout as F
from pwmodel.models import numeric
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
    df = evaluate(sc, n_cpus)
    out = []
    for obj in objectives:
        col = check_objective(obj)
        w = df.pivot(on="strategy", index="n_cpus", values=col).sort("n_cpus")
        qw, rl = w["QW"].to_numpy(), w["RL"].to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            winner = np.where(np.isclose(qw, rl, rtol=1e-12, atol=0), "tie", np.where(rl < qw, "RL", "QW"))
            margin = np.abs(qw - rl)
            ratio = np.where(np.minimum(qw, rl) > 0, np.maximum(qw, rl) / np.minimum(qw, rl), np.inf)
        out.append(pl.DataFrame({
            "n_cpus": w["n_cpus"], "objective": [obj] * w.height, "unit": [col.rsplit("_", 1)[1]] * w.height,
            "qw": qw, "rl": rl, "winner": winner, "margin": margin, "ratio": ratio}))
    return pl.concat(out)


# ---- crossover in CPU count --------------------------------------------------------
@dataclass(frozen=True)
class Crossover:
    n_cpus: float            # nan: none in range; inf: unbounded
    method: str              # "closed form" or "numeric (brentq)"
    below: str               # winner below the crossover
    above: str               # winner above
    expr: sp.Expr | None = None
    residual_ns: float = math.nan


def _diff(sc: Scenario, n: float) -> float:
    df = evaluate(sc, [n])
    q = df.filter(pl.col("strategy") == "QW")["requester_mean_ns"][0]
    r = df.filter(pl.col("strategy") == "RL")["requester_mean_ns"][0]
    return float(q - r)


def crossover_symbolic(regime: str = "slowest") -> sp.Expr:
    """N at which RL and QW requester means are equal, for D >= 1 and an N-independent
    wake maximum (symbol wake_emax_ns). ``regime`` picks the branch of the QW tail:
    'slowest' (the slowest CPU's wake-up bounds the flush) or 'lock' (the lru_lock
    serialisation of the parallel drains does)."""
    n = X.n_cpus
    rl = F.rl_mean_expr()
    if regime == "slowest":
        tail = F._slowest(X.wake_emax_ns)
    elif regime == "lock":
        tail = F.lru_serial_expr()
    else:
        raise PwmodelError(f"unknown regime '{regime}' (slowest, lock)", field="regime")
    qw = (F._base() + tail + S["requester_wakeup_ns"]).subs(F._d1, F.dirty_expr)
    sol = sp.solve(sp.Eq(rl, qw), n)
    if len(sol) != 1:
        raise PwmodelError("no unique closed-form crossover")
    return sp.simplify(sol[0])


def crossover_n(sc: Scenario, n_lo: float = 1.0, n_hi: float = 1e6) -> Crossover:
    """The CPU count where the requester means of QW and RL are equal."""
    lo_d, hi_d = _diff(sc, n_lo), _diff(sc, n_hi)
    below = "RL" if lo_d > 0 else "QW"
    above = "RL" if hi_d > 0 else "QW"
    if math.isinf(lo_d) and math.isinf(hi_d):
        return Crossover(math.inf, "unbounded wait: QW never completes", "RL", "RL")
    if np.sign(lo_d) == np.sign(hi_d):
        return Crossover(math.nan, f"none in [{n_lo:g}, {n_hi:g}]", below, above)
    dist = sc.wake_dist()
    ps = sc.params()
    # closed form where the wake maximum is a constant (point mass) and D >= 1
    if len(dist.components) == 1 and dist.components[0].kind == "point":
        for regime in ("slowest", "lock"):
            expr = crossover_symbolic(regime)
            n_star = _fixed_point(sc, ps, expr, n_hi)
            if math.isfinite(n_star) and n_star * ps["dirty_fraction"] >= 1 and n_lo <= n_star <= n_hi:
                res = _diff(sc, n_star)
                scale = float(evaluate(sc, [n_star])["requester_mean_ns"].max())
                if abs(res) <= 1e-6 * scale:
                    return Crossover(n_star, f"closed form ({regime} regime)", below, above, expr, res)
    f = lambda x: _diff(sc, math.exp(x))
    x = optimize.brentq(f, math.log(n_lo), math.log(n_hi), xtol=1e-10, rtol=1e-12)
    n_star = math.exp(x)
    return Crossover(n_star, "numeric (brentq)", below, above, None, _diff(sc, n_star))


def _fixed_point(sc: Scenario, ps, expr: sp.Expr, n_start: float) -> float:
    """Solve N = expr(c2c_mean(N)): the topology mean depends weakly on N."""
    idle = {"local_rate_hz": 0.0} if sc.isolation == "idle" else {}   # as in evaluate()
    v = {**inputs(sc, np.array([n_start]), ps), **idle}
    n_star = math.nan
    for _ in range(60):
        val = {k: (float(np.ravel(x)[0]) if isinstance(x, np.ndarray) else x) for k, x in v.items()}
        n_new = float(numeric(expr, val))
        if not math.isfinite(n_new) or n_new <= 0:
            return math.nan
        if math.isfinite(n_star) and abs(n_new - n_star) <= 1e-12 * n_new:
            return n_new
        n_star = n_new
        v = {**inputs(sc, np.array([max(n_star, 1.0)]), ps), **idle}
    return n_star


# ---- crossover in remote rate --------------------------------------------------
def crossover_rate_expr() -> sp.Expr:
    """Closed-form lambda_R (Hz) at which QW and RL total CPU load are equal."""
    lam = S["remote_rate_hz"]
    tq, tr, ex = sp.symbols("tax_qw_ns tax_rl_ns extra_rl_ns", nonnegative=True)
    cq, cr = sp.symbols("cpu_qw_ns cpu_rl_ns", nonnegative=True)
    load_q = lam * cq + X.n_cpus * S["local_rate_hz"] * tq
    load_r = lam * cr + X.n_cpus * S["local_rate_hz"] * (tr + ex)
    return sp.solve(sp.Eq(load_q, load_r), lam)[0]


def crossover_rate(sc: Scenario, n_cpus: float) -> float:
    """Remote drains per second per CPU above which RL costs less CPU than QW (Hz).

    Evaluated at the scenario's remote_rate_hz for the extra misses/waits term
    (which itself grows with the rate), then refined by root finding on the
    full load difference. inf: RL never cheaper; 0: RL always cheaper.
    """
    def diff(rate: float) -> float:
        s2 = Scenario(sc.machine, sc.isolation, sc.preempt_model, sc.callsite, sc.qw_config,
                      sc.rl_config, {**(sc.overrides or {}), "remote_rate_hz": rate}, sc.wake)
        df = evaluate(s2, [n_cpus])
        q = df.filter(pl.col("strategy") == "QW")["cpu_load_cpus"][0]
        r = df.filter(pl.col("strategy") == "RL")["cpu_load_cpus"][0]
        return float(q - r)
    lo, hi = 1e-6, 1e6
    dlo, dhi = diff(lo), diff(hi)
    if math.isnan(dlo) or math.isnan(dhi):
        # e.g. QW CPU time unbounded (a kworker that never runs): no finite crossover
        return math.nan
    if dlo > 0:
        return 0.0
    if dhi < 0:
        return math.inf
    x = optimize.brentq(lambda t: diff(math.exp(t)), math.log(lo), math.log(hi), xtol=1e-10)
    return math.exp(x)


def crossover_map(machine, isolations: Sequence[str], n_cpus: Sequence[float],
                  rates_hz: Sequence[float], objective: str = "cpu_load", **kw) -> pl.DataFrame:
    """Winner and log10 ratio on a grid of isolation x CPU count x remote rate."""
    col = check_objective(objective)
    base_over = dict(kw.pop("overrides", None) or {})
    rows = []
    for iso in isolations:
        for rate in rates_hz:
            sc = Scenario(machine, iso, overrides={**base_over, "remote_rate_hz": rate}, **kw)
            df = evaluate(sc, n_cpus)
            w = df.pivot(on="strategy", index="n_cpus", values=col).sort("n_cpus")
            for n, q, r in zip(w["n_cpus"], w["QW"], w["RL"]):
                with np.errstate(divide="ignore", invalid="ignore"):
                    lr = math.log10(q / r) if (q > 0 and r > 0 and math.isfinite(q) and math.isfinite(r)) \
                        else (math.inf if (math.isinf(q) or r == 0) else -math.inf)
                rows.append({"isolation": iso, "remote_rate_hz": float(rate), "n_cpus": float(n),
                             "qw": float(q), "rl": float(r), "winner": "RL" if r < q else "QW",
                             "log10_qw_over_rl": lr})
    return pl.DataFrame(rows)
