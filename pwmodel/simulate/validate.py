"""Analytic vs simulated on a grid of conditions: a long table, a verdict per row, a figure.

A condition is (machine, isolation, rate level, N). Each is evaluated with
:func:`pwmodel.evaluate.evaluate` (or any function with the same signature
and columns, e.g. a deliberately wrong form) and simulated with
:func:`pwmodel.simulate.fanout.simulate` from the same Scenario.

Verdicts (column ``ok``): a mean agrees when the analytic value lies in the
simulation's 95 % interval or within ``mean_tol`` (2 %) of the simulated
mean; a p99 or a worst case agrees within ``tail_tol`` (5 %). Two infinite
values agree; one infinite value never does. Times in ns.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import polars as pl

from pwmodel import machine as M
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, evaluate
from pwmodel.models import wakeup as W
from pwmodel.simulate.fanout import simulate

RATES = {  # rate level -> overrides
    "low": {"local_rate_hz": 1e5, "remote_rate_hz": 10.0},
    "high": {"local_rate_hz": 1e7, "remote_rate_hz": 1e4},
}
N_GRID = (1, 2, 8, 64, 256, 1024)
METRICS = {  # metric -> (simulated column, CI columns or None, kind)
    "requester_mean_ns": ("requester_mean_ns", ("requester_mean_lo_ns", "requester_mean_hi_ns"), "mean"),
    "requester_p99_ns": ("requester_p99_ns", ("requester_p99_lo_ns", "requester_p99_hi_ns"), "tail"),
    "victim_mean_ns": ("victim_mean_ns", ("victim_mean_lo_ns", "victim_mean_hi_ns"), "mean"),
    "victim_worst_ns": ("victim_worst_ns", None, "tail"),
    "cpu_time_ns": ("cpu_time_ns", ("cpu_time_lo_ns", "cpu_time_hi_ns"), "mean"),
}
Analytic = Callable[[Scenario, Sequence[int]], pl.DataFrame]


def conditions(machines: Sequence[str] = ("amd-epyc-7r13-2s",), isolations: Sequence[str] = W.ISOLATION,
               rates: Sequence[str] = ("low", "high"), n_cpus: Sequence[int] = N_GRID) -> list[tuple[Scenario, str, tuple[int, ...]]]:
    """(scenario, rate level, CPU counts) for every machine x isolation x rate level."""
    out = []
    for mname in machines:
        m = M.get(mname)
        for iso in isolations:
            W.check(iso)
            for lvl in rates:
                if lvl not in RATES:
                    raise PwmodelError(f"unknown rate level '{lvl}' (known: {', '.join(RATES)})", field="rates")
                out.append((Scenario(m, isolation=iso, overrides=RATES[lvl]), lvl, tuple(int(n) for n in n_cpus)))
    return out


def _verdict(a: float, s: float, lo: float | None, hi: float | None, kind: str,
             mean_tol: float, tail_tol: float) -> tuple[float, bool]:
    if math.isinf(a) or math.isinf(s):
        return (0.0 if math.isinf(a) and math.isinf(s) else math.inf), (math.isinf(a) and math.isinf(s))
    scale = max(abs(s), 1e-9)
    rel = (a - s) / scale
    if abs(a - s) <= 1e-6 * max(abs(a), abs(s), 1.0):
        return 0.0, True
    if kind == "mean":
        inside = lo is not None and hi is not None and lo <= a <= hi
        return rel, bool(inside or abs(rel) <= mean_tol)
    return rel, bool(abs(rel) <= tail_tol)


def compare(analytic: pl.DataFrame, simulated: pl.DataFrame, mean_tol: float = 0.02,
            tail_tol: float = 0.05) -> pl.DataFrame:
    """Long table: one row per (condition, strategy, metric) with both values and a verdict."""
    keys = ["machine", "isolation", "strategy", "n_cpus"]
    j = analytic.join(simulated, on=keys, suffix="_sim", how="inner")
    if j.height == 0:
        raise PwmodelError("analytic and simulated frames share no (machine, isolation, strategy, "
                           "n_cpus) rows", field="n_cpus")
    rows = []
    for r in j.iter_rows(named=True):
        for metric, (scol, ci, kind) in METRICS.items():
            a = float(r[metric])
            s = float(r[scol + "_sim"]) if scol + "_sim" in r else float(r[scol])
            lo = float(r[ci[0]]) if ci and r.get(ci[0]) is not None else None
            hi = float(r[ci[1]]) if ci and r.get(ci[1]) is not None else None
            rel, ok = _verdict(a, s, lo, hi, kind, mean_tol, tail_tol)
            rows.append({"machine": r["machine"], "isolation": r["isolation"],
                         "rate_level": r.get("rate_level", ""), "strategy": r["strategy"],
                         "n_cpus": int(r["n_cpus"]), "dirty_cpus": float(r["dirty_cpus"]),
                         "metric": metric, "analytic_ns": a, "simulated_ns": s,
                         "sim_lo_ns": lo if lo is not None else math.nan,
                         "sim_hi_ns": hi if hi is not None else math.nan,
                         "rel_error": rel, "ok": ok})
    return pl.DataFrame(rows)


def run(grid: Sequence[tuple[Scenario, str, tuple[int, ...]]] | None = None, reps: int = 2000,
        seed: int = 0, dirty: str = "binomial", analytic: Analytic = evaluate, workers: int = 1,
        mean_tol: float = 0.02, tail_tol: float = 0.05) -> pl.DataFrame:
    """Validate ``analytic`` against the simulator on ``grid`` (default: :func:`conditions`)."""
    grid = conditions() if grid is None else grid
    frames = []
    for sc, lvl, ns in grid:
        a = analytic(sc, ns).with_columns(pl.lit(lvl).alias("rate_level"))
        s = simulate(sc, ns, reps=reps, seed=seed, dirty=dirty, workers=workers)
        frames.append(compare(a, s, mean_tol, tail_tol).with_columns(pl.lit(lvl).alias("rate_level")))
    return pl.concat(frames)


def summary(table: pl.DataFrame) -> pl.DataFrame:
    """Share of agreeing rows and the worst relative error per (strategy, metric, isolation)."""
    return (table.group_by(["strategy", "metric", "isolation"])
            .agg(pl.len().alias("rows"), pl.col("ok").mean().alias("ok_share"),
                 pl.col("rel_error").abs().filter(pl.col("rel_error").is_finite()).max().alias("worst_abs_rel_error"),
                 pl.col("n_cpus").filter(~pl.col("ok")).unique().sort().alias("failing_n_cpus"))
            .sort(["strategy", "metric", "isolation"]))


def figure(table: pl.DataFrame, path: str | None = None,
           metrics: Sequence[str] = ("requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "cpu_time_ns")):
    """Signed relative error (analytic - simulated) / simulated per condition: one panel per
    (metric, strategy); rows isolation x rate level, columns N; crosses mark failures.
    Saved atomically to ``path`` (PNG) when given; returns the matplotlib Figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pwmodel.atomic import atomic_path

    strategies = ("QW", "RL")
    ns = sorted(table["n_cpus"].unique().to_list())
    conds = table.select("machine", "isolation", "rate_level").unique(maintain_order=True).rows()
    fig, axes = plt.subplots(len(metrics), 2, figsize=(11, 2.2 + 1.9 * len(metrics) * max(len(conds), 4) / 10),
                             squeeze=False, constrained_layout=True)
    im = None
    for i, metric in enumerate(metrics):
        for k, strat in enumerate(strategies):
            ax = axes[i][k]
            grid = np.full((len(conds), len(ns)), np.nan)
            bad = np.zeros_like(grid, dtype=bool)
            sub = table.filter((pl.col("metric") == metric) & (pl.col("strategy") == strat))
            for r in sub.iter_rows(named=True):
                ci = conds.index((r["machine"], r["isolation"], r["rate_level"]))
                ni = ns.index(r["n_cpus"])
                e = r["rel_error"]
                grid[ci, ni] = np.clip(e, -1, 1) if np.isfinite(e) else np.sign(r["analytic_ns"] - r["simulated_ns"]) or 1.0
                bad[ci, ni] = not r["ok"]
            im = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
            yy, xx = np.nonzero(bad)
            ax.scatter(xx, yy, marker="x", c="k", s=14, linewidths=0.8)
            ax.set_xticks(range(len(ns)), [str(n) for n in ns], fontsize=7)
            ax.set_yticks(range(len(conds)), [f"{c[1]} / {c[2]}" for c in conds], fontsize=6)
            ax.set_title(f"{strat}: {metric}", fontsize=9)
            if i == len(metrics) - 1:
                ax.set_xlabel("CPUs (N)", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.6, label="(analytic - simulated) / simulated, clipped to +-1; x = outside tolerance")
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    return fig
