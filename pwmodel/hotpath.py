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
(owner waits and refetches, not linearly), it is found by root finding on log lambda_L
over the evaluated loads rather than by a closed form: for many scenarios at once, each
step one vectorised evaluation of every scenario still open
(:func:`pwmodel.evaluate.batch_metrics`, Chandrupatla's bracketing method). This is the
question v4 2/4 answers by leaving the bh LRU drain on queue_work_on(): "a spinlock on a
very hot path".
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.optimize import elementwise

from pwmodel import evaluate as E

LO_HZ = 1.0          # lowest local rate searched (Hz)
XTOL = 1e-12         # absolute tolerance on log(lambda_L): 1e-12 relative on the rate


def max_local_rate_hz(sc: E.Scenario) -> float:
    """Largest local rate the model admits (contention.max_local_rate_expr)."""
    from pwmodel.models import contention, numeric
    return float(numeric(contention.max_local_rate_expr(),
                         {"local_cs_ns": sc.params()["local_cs_ns"]}))


def _load_diff(bases: Sequence[E.Case], rows: np.ndarray, n_cpus: np.ndarray,
               rates_hz: np.ndarray) -> np.ndarray:
    """QW - RL total CPU load (CPUs) of ``bases[rows[i]]`` at ``rates_hz[i]`` local
    operations/s and ``n_cpus[rows[i]]`` CPUs, in one vectorised evaluation."""
    cases = [E.Case(bases[r].sc, bases[r].ps.with_overrides({"local_rate_hz": float(x)}),
                    bases[r].c2c_scale) for r, x in zip(rows, rates_hz)]
    q, r = E.batch_metrics(cases, n_cpus[rows].reshape(-1, 1), ["cpu_load_cpus"])["cpu_load_cpus"]
    return np.asarray(q - r, dtype=float)[:, 0]


def crossover_local_rates(scs: Sequence[E.Scenario], n_cpus: Sequence[float]) -> list[float]:
    """:func:`crossover_local_rate` of each scenario at its CPU count, solved together."""
    scs = list(scs)
    k = len(scs)
    if k == 0:
        return []
    n = np.asarray(n_cpus, dtype=float).reshape(k)
    bases = [E.case(sc) for sc in scs]
    lo = np.full(k, LO_HZ)
    hi = np.array([max_local_rate_hz(sc) for sc in scs])
    every = np.arange(k)
    with np.errstate(invalid="ignore"):
        ends = _load_diff(bases, np.concatenate([every, every]), n, np.concatenate([lo, hi]))
    dlo, dhi = ends[:k], ends[k:]
    out = np.full(k, math.nan)
    finite = np.isfinite(dlo) & np.isfinite(dhi)
    out[finite & (dlo <= 0)] = 0.0
    out[finite & (dlo > 0) & (dhi > 0)] = math.inf
    todo = np.nonzero(finite & (dlo > 0) & (dhi <= 0))[0]
    if todo.size:
        def f(t: np.ndarray, rows: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore"):
                return _load_diff(bases, rows.astype(np.intp), n, np.exp(t))
        res = elementwise.find_root(f, (np.log(lo[todo]), np.log(hi[todo])),
                                    args=(todo.astype(float),),
                                    tolerances=dict(xatol=XTOL, xrtol=0.0))
        if not np.all(res.success):
            bad = [scs[i].machine.name for i in todo[~np.asarray(res.success)]]
            raise ArithmeticError(f"local-rate crossover did not converge: {', '.join(bad)}")
        out[todo] = np.exp(res.x)
    return [float(x) for x in out]


def crossover_local_rate(sc: E.Scenario, n_cpus: float) -> float:
    """Local operations/s per CPU above which RL costs more total CPU than QW (Hz).

    inf: RL cheaper at every admissible rate; 0: RL never cheaper; nan: undecided
    (QW's CPU time unbounded, a kworker that never runs)."""
    return crossover_local_rates([sc], [n_cpus])[0]
