"""Uncertainty bands of the report's curves.

A band is the range of a metric over the uncertain inputs of :mod:`pwmodel.uncertainty`:
every assumed or fitted parameter over its interval (registry ranges, machine-profile
intervals) and every core-to-core latency of the machine scaled by the smallest
p10/median to the largest p90/median ratio of that CPU model's rows in
data/reference/c2c_latency.csv (0.8 and 1.2 when the model has no rows). The ends are
the envelope of the one-at-a-time ends, the directed corners and a Latin hypercube
(:func:`pwmodel.uncertainty.metric_bands`), computed in one vectorised evaluation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import polars as pl

from pwmodel import evaluate as E
from pwmodel import uncertainty as U
from pwmodel.report.reference import c2c_ratios

BAND_METRICS = ("requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "victim_worst_ns")


def plan(sc: E.Scenario) -> U.Plan:
    """The uncertain inputs of a band: parameter intervals and the machine's c2c spread."""
    return U.Plan(sc, c2c=c2c_ratios(sc.machine))


def curves(sc: E.Scenario, n: Sequence[float] | np.ndarray,
           metrics: Sequence[str] = BAND_METRICS) -> pl.DataFrame:
    """evaluate() at ``n`` with the band ends of ``metrics`` as extra columns ``*_lo_ns`` /
    ``*_hi_ns`` (rows in evaluate()'s order). Each metric's band is computed on its own
    (the same ends whichever others are asked for); a figure asks only for what it draws
    (the p99's mixture quantiles cost the most)."""
    base = E.evaluate(sc, n)
    nn = np.atleast_1d(np.asarray(n, dtype=float))
    bands = U.metric_bands(plan(sc), nn, tuple(metrics))
    n_col = nn.astype(np.int64) if np.all(nn == np.round(nn)) else nn
    ends = pl.concat([pl.DataFrame({
        "n_cpus": n_col, "strategy": [strat] * nn.size,
        **{c.replace("_ns", "_lo_ns"): bands[(c, strat)].low for c in metrics},
        **{c.replace("_ns", "_hi_ns"): bands[(c, strat)].high for c in metrics},
    }) for strat in ("QW", "RL")])
    return base.join(ends, on=["n_cpus", "strategy"], how="left", maintain_order="left")
