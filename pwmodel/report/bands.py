"""Uncertainty bands of the report's curves.

No fitted parameter uncertainties exist yet, so a band is the envelope of two
corner evaluations: every time parameter (ns) whose source is an assumption
scaled by 1/2 and by 2 (clipped to its registry bounds), together with the
machine's core-to-core latencies scaled by the smallest p10/median and the
largest p90/median ratio of that CPU model's rows in
data/reference/c2c_latency.csv (0.8 and 1.2 when the model has no rows).
Outputs grow with every such time, so the corners bound the band.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import polars as pl

from pwmodel import evaluate as E
from pwmodel import params as P
from pwmodel.report.reference import c2c_ratios

BAND_FACTOR = 2.0


def assumed_time_params(sc: E.Scenario) -> list[str]:
    """Time parameters (ns) whose value rests on an assumption, for the band corners."""
    ps = sc.params()
    return [name for name, p in P.PARAMS.items()
            if p.unit == "ns" and "assumption" in ps.sources.get(name, "")]


def corner(sc: E.Scenario, side: str) -> E.Scenario:
    """The low (``side='lo'``) or high corner scenario of the band."""
    lo_r, hi_r, _ = c2c_ratios(sc.machine)
    r = lo_r if side == "lo" else hi_r
    f = 1 / BAND_FACTOR if side == "lo" else BAND_FACTOR
    m = dataclasses.replace(sc.machine, levels=tuple(
        dataclasses.replace(lv, c2c_ns=lv.c2c_ns * r) for lv in sc.machine.levels))
    ps = sc.params()
    ov = dict(sc.overrides or {})
    for name in assumed_time_params(sc):
        lo, hi = P.PARAMS[name].bounds
        ov[name] = min(max(ps[name] * f, lo), hi)
    return dataclasses.replace(sc, machine=m, overrides=ov)


def curves(sc: E.Scenario, n: Sequence[float] | np.ndarray) -> pl.DataFrame:
    """evaluate() at ``n`` with the band corners as extra columns ``*_lo`` / ``*_hi``."""
    base = E.evaluate(sc, n)
    lo = E.evaluate(corner(sc, "lo"), n)
    hi = E.evaluate(corner(sc, "hi"), n)
    cols = ["requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "victim_worst_ns"]
    return base.with_columns(
        *[lo[c].alias(c.replace("_ns", "_lo_ns")) for c in cols],
        *[hi[c].alias(c.replace("_ns", "_hi_ns")) for c in cols])
