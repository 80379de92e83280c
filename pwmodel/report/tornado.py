"""Sensitivity of the crossover CPU count to each parameter (the tornado figure's data)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl

from pwmodel import evaluate as E
from pwmodel import params as P
from pwmodel.report.bands import BAND_FACTOR
from pwmodel.report.queries import crossover_n, scenario

TORNADO_SKIP = ("budget_ns", "freq_hz", "base_op_ns", "static_key_ns", "per_cpu_ptr_ns",
                "call_ns", "atomic_rmw_ns", "preempt_ns")


def _moved(name: str, value: float) -> tuple[float, float]:
    lo, hi = P.PARAMS[name].bounds
    return max(value / BAND_FACTOR, lo), min(value * BAND_FACTOR, hi)


def tornado(mname: str, isolation: str, callsite: str,
            overrides: tuple[tuple[str, float], ...] = ()) -> list[tuple[str, float, float, float, float]]:
    """(param, low value, high value, N* at low, N* at high), largest swing first.

    Each parameter is moved alone by 1/2 and 2 (clipped to its bounds); those that
    do not change the requester difference at N = 8 and 512 are skipped."""
    sc = scenario(mname, isolation, None, callsite, overrides)
    ps = sc.params()
    probe = [8.0, 512.0]

    def diff(ov: dict) -> np.ndarray:
        df = E.evaluate(dataclasses.replace(sc, overrides={**dict(overrides), **ov}), probe)
        q = df.filter(pl.col("strategy") == "QW")["requester_mean_ns"].to_numpy()
        r = df.filter(pl.col("strategy") == "RL")["requester_mean_ns"].to_numpy()
        return q - r
    d0 = diff({})
    base = crossover_n(mname, isolation, None, callsite, overrides)
    out = []
    for name in P.PARAMS:
        if name in TORNADO_SKIP or name in dict(overrides):
            continue
        lo_v, hi_v = _moved(name, ps[name])
        if lo_v == hi_v:
            continue
        if all(np.allclose(diff({name: v}), d0, rtol=1e-12, atol=1e-9) for v in (lo_v, hi_v)):
            continue
        ns = [crossover_n(mname, isolation, None, callsite, tuple(sorted({**dict(overrides),
                                                                         name: v}.items())))
              for v in (lo_v, hi_v)]
        out.append((name, lo_v, hi_v, ns[0], ns[1]))
    def swing(r):
        vals = [x for x in r[3:] if math.isfinite(x) and x > 0]
        return max((abs(math.log(x / base)) for x in vals), default=0.0) if base > 0 else 0.0
    return sorted(out, key=lambda r: (-swing(r), r[0]))
