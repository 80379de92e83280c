"""How hot is too hot: the local operation rate above which remote locking's fast-path
tax costs more CPU than the queued drains it saves.

Total CPU load of each strategy (``evaluate`` column ``cpu_load_cpus``, the one
recipe of :func:`pwmodel.evaluate.metric_arrays`):

    load_QW = lambda_R cpu_QW + N lambda_L tax_QW
    load_RL = lambda_R cpu_RL(lambda_L) + N lambda_L (tax_RL + extra_RL(lambda_L))

At lambda_L = 0 RL costs only its remote drains, cheaper than queued work's
interrupts and context switches; every local operation then adds the spinlock's
locked RMW (and, with remote drains, the owner's spin and refetch). The crossover
lambda_L* solves load_QW = load_RL; since cpu_RL and extra_RL depend on lambda_L
(owner waits and refetches), it is found by root finding on log lambda_L over the
evaluated loads rather than by a closed form. This is the question v4 2/4 answers
by leaving the bh LRU drain on queue_work_on(): "a spinlock on a very hot path".
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
from scipy import optimize

from pwmodel import evaluate as E


def _load_diff(sc: E.Scenario, n_cpus: float, rate_hz: float) -> float:
    s2 = dataclasses.replace(sc, overrides={**(sc.overrides or {}), "local_rate_hz": rate_hz})
    df = E.evaluate(s2, [n_cpus])
    q = df.filter(pl.col("strategy") == "QW")["cpu_load_cpus"][0]
    r = df.filter(pl.col("strategy") == "RL")["cpu_load_cpus"][0]
    return float(q - r)


def max_local_rate_hz(sc: E.Scenario) -> float:
    """Largest local rate the model admits (contention.max_local_rate_expr)."""
    from pwmodel.models import contention, numeric
    return float(numeric(contention.max_local_rate_expr(),
                         {"local_cs_ns": sc.params()["local_cs_ns"]}))


def crossover_local_rate(sc: E.Scenario, n_cpus: float) -> float:
    """Local operations/s per CPU above which RL costs more total CPU than QW (Hz).

    inf: RL cheaper at every admissible rate; 0: RL never cheaper; nan: undecided
    (QW's CPU time unbounded, a kworker that never runs)."""
    lo, hi = 1.0, max_local_rate_hz(sc)
    dlo, dhi = _load_diff(sc, n_cpus, lo), _load_diff(sc, n_cpus, hi)
    if not (np.isfinite(dlo) and np.isfinite(dhi)):
        return math.nan
    if dlo <= 0:
        return 0.0
    if dhi > 0:
        return math.inf
    x = optimize.brentq(lambda t: _load_diff(sc, n_cpus, math.exp(t)), math.log(lo),
                        math.log(hi), xtol=1e-10, rtol=1e-10)
    return math.exp(x)
