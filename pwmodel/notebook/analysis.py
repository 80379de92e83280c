"""Model-versus-data tables for the notebooks: summaries, wake-up checks, the answer, model vs simulation."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import polars as pl

from pwmodel import dist as D
from pwmodel import fmt
from pwmodel import verdict as V
from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.decide import crossover_n
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, evaluate
from pwmodel.models import wakeup as W


def latency_summary(samples_ns: np.ndarray | pl.Series, label: str = "") -> dict[str, float | str]:
    """count, mean, p50, p99, max of latency samples (ns), one table row."""
    x = np.asarray(samples_ns, dtype=float)
    if x.size == 0:
        return {"what": label, "count": 0, "mean_ns": math.nan, "p50_ns": math.nan,
                "p99_ns": math.nan, "max_ns": math.nan}
    return {"what": label, "count": int(x.size), "mean_ns": float(x.mean()),
            "p50_ns": float(np.quantile(x, 0.5)), "p99_ns": float(np.quantile(x, 0.99)),
            "max_ns": float(x.max())}


def dist_summary(dist: D.LatencyDist, label: str = "", n_max: Sequence[int] = (1, 16, 256)) -> dict:
    """mean, p50, p99 and E[max of n] of a LatencyDist (ns), one table row."""
    row: dict[str, Any] = {"what": label or dist.name, "mean_ns": dist.mean_ns(),
                           "p50_ns": float(dist.quantile(0.5)), "p99_ns": float(dist.quantile(0.99))}
    for n in n_max:
        row[f"emax_{n}_ns"] = float(dist.expected_max_ns(n))
    return row


def wake_check(lifecycle: pl.DataFrame, models: Mapping[str, Sequence[str]],
               ps: P.ParamSet, preempt_model: str = "none",
               functions: Sequence[str] = ("lru_add_drain_per_cpu", "refresh_vm_stats"),
               target_cpu: int | None = 1, machine: "object | None" = None) -> pl.DataFrame:
    """Measured queue->start per target state next to the model of each isolation level (ns).

    ``models`` maps a ``target_state`` of the lifecycle table (idle, other, fifo) to the
    isolation levels whose wake-up distribution should describe it. With ``machine`` each
    level uses that profile's wake-up model (``[wakeup.<level>]``) over ``ps``.
    """
    lc = lifecycle.filter(pl.col("function").is_in(list(functions))
                          & pl.col("queue_to_start_ns").is_not_null())
    if target_cpu is not None:
        lc = lc.filter(pl.col("target_cpu") == target_cpu)
    rows = []
    for state, isos in models.items():
        x = lc.filter(pl.col("target_state") == state)["queue_to_start_ns"].to_numpy()
        rows.append({"target_state": state, "source": "measured",
                     **{k: v for k, v in latency_summary(x).items() if k != "what"}})
        for iso in isos:
            psi = ps
            if machine is not None and machine.wake_param_values(iso):
                got = machine.wake_param_values(iso)
                psi = P.ParamSet({**ps.values, **{k: v for k, (v, _) in got.items()}},
                                 {**ps.sources, **{k: s for k, (_, s) in got.items()}})
            d = W.wake_dist(iso, preempt_model, psi)
            rows.append({"target_state": state, "source": f"model {iso}", "count": None,
                         "mean_ns": d.mean_ns(), "p50_ns": float(d.quantile(0.5)),
                         "p99_ns": float(d.quantile(0.99)), "max_ns": d.support()[1]})
    return pl.DataFrame(rows, schema={"target_state": pl.Utf8, "source": pl.Utf8,
                                      "count": pl.Int64, "mean_ns": pl.Float64,
                                      "p50_ns": pl.Float64, "p99_ns": pl.Float64,
                                      "max_ns": pl.Float64})



# ---- the answer on one page ----------------------------------------------------------
def answer(machine: M.Machine, n_cpus: int, isolations: Sequence[str] = W.ISOLATION,
           **scenario: Any) -> pl.DataFrame:
    """Per isolation level: the three costs of both strategies at ``n_cpus``, the winner
    on requester latency, the crossover CPU count (ns, CPUs; ``n_star`` as printed by
    pwmodel.fmt) and the verdict (``strategy``, ``deciding`` cost: pwmodel.verdict)."""
    rows = []
    for iso in isolations:
        sc = Scenario(machine, iso, **scenario)
        df = evaluate(sc, [n_cpus])
        q = df.filter(pl.col("strategy") == "QW").row(0, named=True)
        r = df.filter(pl.col("strategy") == "RL").row(0, named=True)
        xo = crossover_n(sc)
        v = V.verdict(machine, iso, n_cpus, sc.callsite, preempt_model=sc.preempt_model,
                      overrides=sc.overrides, flip=False)
        rows.append({
            "isolation": iso, "n_cpus": n_cpus,
            "qw_requester_mean_ns": q["requester_mean_ns"], "rl_requester_mean_ns": r["requester_mean_ns"],
            "qw_victim_worst_ns": q["victim_worst_ns"], "rl_victim_worst_ns": r["victim_worst_ns"],
            "qw_tax_ns": q["fastpath_tax_ns"], "rl_tax_ns": r["fastpath_tax_ns"] + r["fastpath_extra_ns"],
            "faster_requester": "RL" if r["requester_mean_ns"] < q["requester_mean_ns"] else "QW",
            "crossover_n_cpus": xo.n_cpus, "below": xo.below, "above": xo.above,
            "n_star": fmt.crossover(xo.n_cpus, xo.below, xo.above),
            "strategy": v.strategy, "deciding": v.deciding, "qw_victim_grows": v.victim_grows})
    return pl.DataFrame(rows)


def model_vs_sim(model: pl.DataFrame, sim: pl.DataFrame,
                 metric: str = "requester_mean_ns") -> pl.DataFrame:
    """Analytic ``metric`` next to the simulated one and its 95 % interval, per (n_cpus, strategy).

    ``rel_diff`` = model / simulated - 1; ``in_ci`` says whether the model lies in the interval.
    """
    base = metric.removesuffix("_ns")
    lo, hi = f"{base}_lo_ns", f"{base}_hi_ns"
    for col, frame, what in ((metric, model, "model"), (metric, sim, "simulation"),
                             (lo, sim, "simulation"), (hi, sim, "simulation")):
        if col not in frame.columns:
            raise PwmodelError(f"no column '{col}' in the {what} frame", field="metric")
    m = model.select("n_cpus", "strategy", pl.col(metric).alias("model_ns"))
    s = sim.select("n_cpus", "strategy", pl.col(metric).alias("simulated_ns"),
                   pl.col(lo).alias("sim_lo_ns"), pl.col(hi).alias("sim_hi_ns"))
    return (m.join(s, on=["n_cpus", "strategy"], how="inner")
            .with_columns(rel_diff=pl.col("model_ns") / pl.col("simulated_ns") - 1,
                          in_ci=pl.col("model_ns").is_between(pl.col("sim_lo_ns"), pl.col("sim_hi_ns")))
            .sort(["n_cpus", "strategy"]))
