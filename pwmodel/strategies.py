"""All four strategies side by side: QW, RL, RU and SKIP, and which objective can rank which.

QW and RL come from :func:`pwmodel.evaluate.evaluate` unchanged; RU and SKIP from
:mod:`pwmodel.models.alternatives`, evaluated on the same inputs
(:func:`pwmodel.evaluate.inputs`). :data:`APPLICABLE` says, per objective, which
strategies it can rank, and :func:`applicable` adds the scenario's conditions:

* RU needs nohz_full targets busy in user space (isolation ``nohz_*``); SKIP needs
  isolated targets (``isolcpus_*`` or ``nohz_*``). Elsewhere they do not exist.
* requester latency ranks RU and SKIP only for ``async`` call sites: a flushing
  caller (lru_add_drain_all() before migration) needs every cache empty when it
  returns, which neither provides; requester p99 ranks QW and RL only.
* victim interruption ranks all four: RU's is the cost its task pays at its next
  return to user space (not an interruption of user space), SKIP's is zero.
* CPU time, fast-path tax and total CPU load rank all four; RU and SKIP keep the
  queued-work configuration's fast path (no remotely taken lock).

What SKIP costs is memory, not time (``stranded_items``, ``stranded_bytes`` per
dirty isolated CPU); what RU costs besides the exit is the time the cache stays
dirty (``dirty_window_ns``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:     # imported where a frame is built (a decision needs none)
    import polars as pl

from pwmodel import evaluate as E
from pwmodel.errors import PwmodelError
from pwmodel.models import alternatives as A
from pwmodel.models import dirty as DY
from pwmodel.models import rlsum
from pwmodel.models import fanout as F
from pwmodel.models import fastpath as FP
from pwmodel.models import numeric
from pwmodel.models import owner as OW

STRATEGIES = ("QW", "RL", "RU", "SKIP")
APPLICABLE: dict[str, tuple[str, ...]] = {
    "requester_mean": ("QW", "RL", "RU", "SKIP"),   # RU, SKIP: async call sites only
    "requester_p99": ("QW", "RL"),
    "victim_mean": ("QW", "RL", "RU", "SKIP"),
    "victim_worst": ("QW", "RL", "RU", "SKIP"),
    "cpu_time": ("QW", "RL", "RU", "SKIP"),
    "fastpath_tax": ("QW", "RL", "RU", "SKIP"),
    "cpu_load": ("QW", "RL", "RU", "SKIP"),
}
# strategies with an analytic form of each metric (what the validation compares): RU's and
# SKIP's requester p99 exist (the law of a sum over the dirty CPUs) though no objective
# ranks them by it
FORMS: dict[str, tuple[str, ...]] = {**APPLICABLE, "requester_p99": ("QW", "RL", "RU", "SKIP")}
EXTRA = ("stranded_items", "stranded_bytes", "dirty_window_ns")


def applicable(sc: E.Scenario, objective: str) -> tuple[str, ...]:
    """The strategies ``objective`` can rank in this scenario (see the module docstring)."""
    if objective not in APPLICABLE:
        raise PwmodelError(f"unknown objective '{objective}' (known: {', '.join(APPLICABLE)})",
                           field="objective")
    out = list(APPLICABLE[objective])
    if not sc.isolation.startswith("nohz_"):
        out = [s for s in out if s != "RU"]
    if not sc.isolation.startswith(("nohz_", "isolcpus_")):
        out = [s for s in out if s != "SKIP"]
    if objective == "requester_mean" and sc.pattern != "async":
        out = [s for s in out if s not in ("RU", "SKIP")]
    return tuple(out)


def _arrays(sc: E.Scenario, n_cpus: Sequence[float] | np.ndarray, need: Sequence[str],
            qw_rl: bool = True) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """CPU counts and, per strategy that exists for the scenario, the arrays of the metrics
    in ``need`` (of :data:`pwmodel.evaluate.METRICS`) and of :data:`EXTRA` (nan where a
    strategy has none); each metric computed only when asked for (RU's and SKIP's p99
    mixtures cost most). QW and RL are :func:`pwmodel.evaluate.metrics` (the numbers of
    :func:`pwmodel.evaluate.evaluate`); left out with ``qw_rl`` False."""
    n = np.atleast_1d(np.asarray(n_cpus, dtype=float))
    want = set(need)
    qr = E.metrics(sc, n, [m for m in E.METRICS if m in want]) if qw_rl else {}
    nan = np.full(n.shape, math.nan)
    out: dict[str, dict[str, np.ndarray]] = {
        s: {**{m: qr[m][k] for m in qr}, **{x: nan for x in EXTRA}}
        for k, s in enumerate(("QW", "RL")) if qw_rl}
    exists = {"RU": sc.isolation.startswith("nohz_"),
              "SKIP": sc.isolation.startswith(("nohz_", "isolcpus_"))}
    if not (exists["RU"] or exists["SKIP"]):
        return n, out
    ps = sc.params()
    v = E.inputs(sc, n, ps)
    qw_cfg, _ = sc.configs
    victim = OW.has_victim(sc.isolation)

    def ev(expr, vals=v) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return np.broadcast_to(np.asarray(numeric(expr, vals), dtype=float), n.shape).copy()

    mix = E.mixing(sc, ps) if "requester_p99_ns" in want else None

    def p99(mean_expr, q_expr, terms) -> np.ndarray:
        """The requester p99 of a sum over the dirty CPUs, over the law of D in the
        scenario's convention, exact laws at few dirty CPUs (as RL's)."""
        wake, rows_of = mix if mix is not None else (None, None)
        return np.array(DY.normal_quantile(mean_expr, q_expr, 0.99, ev(q_expr), v, n.shape, wake,
                                           rows_of, small=(rlsum.D_EXACT, terms.components),
                                           fixed=mix is None), dtype=float)

    zeros = np.zeros(n.shape)
    tax = ev(FP.tax_expr(qw_cfg)) if want & {"fastpath_tax_ns", "cpu_load_cpus"} else None

    def load(cpu: np.ndarray) -> np.ndarray:
        return ev(F.cpu_load_expr(), {**v, "drain_cpu_ns": cpu, "op_cost_ns": tax})

    if exists["RU"]:
        req = ev(A.ru_requester_expr())
        exit_cost = (ev(A.ru_exit_cost_expr()) if victim else zeros) \
            if want & {"victim_mean_ns", "victim_worst_ns"} else None
        cpu = ev(A.ru_cpu_expr()) if want & {"cpu_time_ns", "cpu_load_cpus"} else None
        got = {"requester_mean_ns": req, "victim_mean_ns": exit_cost, "victim_worst_ns": exit_cost,
               "cpu_time_ns": cpu, "fastpath_tax_ns": tax, "fastpath_extra_ns": zeros}
        if "requester_p99_ns" in want:
            got["requester_p99_ns"] = p99(A.ru_requester_expr(), A.ru_quantile_expr(0.99), A.RU_TERMS)
        if "cpu_load_cpus" in want:
            got["cpu_load_cpus"] = load(cpu)
        out["RU"] = {**{m: got[m] for m in E.METRICS if m in want},
                     "stranded_items": nan, "stranded_bytes": nan,
                     "dirty_window_ns": ev(A.ru_dirty_window_expr())}
    if exists["SKIP"]:
        req = ev(A.skip_requester_expr())
        got = {"requester_mean_ns": req, "victim_mean_ns": zeros, "victim_worst_ns": zeros,
               "cpu_time_ns": req, "fastpath_tax_ns": tax, "fastpath_extra_ns": zeros}
        if "requester_p99_ns" in want:
            got["requester_p99_ns"] = p99(A.skip_requester_expr(), A.skip_quantile_expr(0.99),
                                          A.SKIP_TERMS)
        if "cpu_load_cpus" in want:
            got["cpu_load_cpus"] = load(req)
        out["SKIP"] = {**{m: got[m] for m in E.METRICS if m in want},
                       "stranded_items": ev(A.stranded_items_expr()),
                       "stranded_bytes": ev(A.stranded_bytes_expr()), "dirty_window_ns": nan}
    return n, out


def evaluate_all(sc: E.Scenario, n_cpus: Sequence[float] | np.ndarray = E.N_DEFAULT) -> pl.DataFrame:
    """One row per (n_cpus, strategy) for all four strategies, the columns of
    :func:`pwmodel.evaluate.evaluate` plus ``stranded_items``, ``stranded_bytes`` (per
    dirty isolated CPU, SKIP) and ``dirty_window_ns`` (RU). Rows of a strategy that
    does not exist for the scenario's isolation are left out."""
    import polars as pl
    base = E.evaluate(sc, n_cpus)
    n, arrays = _arrays(sc, n_cpus, E.METRICS, qw_rl=False)     # QW and RL: from base
    nan = np.full(n.shape, math.nan)
    base = base.with_columns(pl.lit(math.nan).alias("stranded_items"),
                             pl.lit(math.nan).alias("stranded_bytes"),
                             pl.lit(math.nan).alias("dirty_window_ns"))
    qw_cfg, _ = sc.configs
    frames = [base]
    for strat in ("RU", "SKIP"):
        if strat not in arrays:
            continue
        got = arrays[strat]
        frames.append(pl.DataFrame({
            "machine": [sc.machine.name] * n.size, "callsite": [sc.callsite_name] * n.size,
            "isolation": [sc.isolation] * n.size, "preempt_model": [sc.preempt] * n.size,
            "strategy": [strat] * n.size, "config": [qw_cfg] * n.size,
            "n_cpus": base.filter(pl.col("strategy") == "QW")["n_cpus"],
            "dirty_cpus": E.dirty_count(sc.params()["dirty_fraction"], n),
            **{m: got[m] for m in E.METRICS}, **{x: got.get(x, nan) for x in EXTRA},
        }).select(base.columns))
    return pl.concat(frames, how="vertical_relaxed").sort(["n_cpus", "strategy"])


def ranking(sc: E.Scenario, objective: str, n_cpus: Sequence[float]) -> list[dict]:
    """Per CPU count: the applicable strategies ordered best first with their values, and
    what RU and SKIP cost besides (dirty window, stranded items and bytes per CPU)."""
    from pwmodel.decide import check_objective
    col = check_objective(objective)
    strats = applicable(sc, objective)
    n, arrays = _arrays(sc, n_cpus, [col])
    at: dict[float, int] = {}
    for j, x in enumerate(n):       # the first of equal CPU counts (their values are equal)
        at.setdefault(float(x), j)
    integral = bool(np.all(n == np.round(n)))
    out = []
    for x in sorted(at):
        j = at[x]
        vals = {s: float(arrays[s][col][j]) for s in strats}
        order = sorted(strats, key=lambda s: (vals[s], STRATEGIES.index(s)))
        row: dict = {"n_cpus": int(x) if integral else float(x), "order": order,
                     "values": {s: (v if math.isfinite(v) else None) for s, v in vals.items()}}
        for s, c in (("SKIP", "stranded_items"), ("SKIP", "stranded_bytes"),
                     ("RU", "dirty_window_ns")):
            if s in arrays:
                y = float(arrays[s][c][j])
                row[c] = y if math.isfinite(y) else None
        out.append(row)
    return out
