"""The slowest of D serially queued works: E[max_j (j t_q + W_j)], not D t_q + E[max W].

Mechanism. __lru_add_drain_all() queues the D drains one after another,
queue_work_on() t_q apart, so work j (j = 1..D) is queued at j t_q and its
kworker starts W_j later (W_j independent draws of the queue->start law F).
Without the lru_lock the last drain starts at

    max_j (j t_q + W_j) = D t_q + Y_D,    Y_D = max_{0 <= i < D} (W_i - i t_q)

(i = D - j counts back from the last work queued). Its law is exact:

    P(Y_D <= x) = prod_{i=0}^{D-1} F(x + i t_q),
    E[Y_D] = integral_0^inf (1 - prod_{i=0}^{D-1} F(x + i t_q)) dx       (W >= 0).

The earlier form D t_q + E[max W] is the same with every F(x + i t_q) replaced by
F(x): an upper bound, exact only when t_q = 0 or W is constant. They differ when
the slowest wake-up is rarely the last one queued: a busy SCHED_OTHER target whose
kworker waits for the tick (a share p of the works, W ~ U(0, T)) with D t_q
comparable to T. There E[max W] = T - T/(p D + 1) while Y_D stays a distance of
order sqrt(2 T t_q / p) below T (the slow works' j t_q + W_j is a sum of two
uniforms, whose maximum sits further from the top of its support): at D = 512,
t_q = 500 ns, p = 0.077, T = 1 ms the bound is 6 % above the mechanism.
W_{-}: the works are independent, so Y_D >= W_0 and D t_q + E[W] <= D t_q +
E[Y_D] <= D t_q + E[max W] (both ends are kept in the tests).

Real D (the fixed convention's d N, crossover searches in N): the last factor
enters with the fractional weight, prod_{i < floor D} F(x + i t_q) x
F(x + floor(D) t_q)^(D - floor D): continuous in D, exact at integers, and F^D
at t_q = 0 (the order statistic of :mod:`pwmodel.dist`).

Numerically (:func:`table`). On a lattice x_k = lo + (k + 1/2) delta from the
lowest wake-up lo (below it F = 0 and the integrand is 1: E[Y_D] gets lo
exactly), delta = t_q / R with R = :data:`SUB` nodes per queueing gap, the
factors F(x_k + i t_q) are the lattice values R apart, so log prod_i =
sum_i log F(x_{k + i R}) is a difference of prefix sums taken per residue k mod R
(one cumulative sum for all k and all D), and E[Y_D] = lo + delta sum_k (1 -
exp(...)) (midpoint rule). Error: the integrand is smooth between the steps of F
at its point masses, each step a jump of the integrand at x = b - i t_q, which
the midpoint rule misplaces by at most delta / 2; the jumps over i sum to at most 1
for each point mass above lo (a jump of F at lo is at a cell edge), so the error is
at most (point masses) t_q / (2 SUB) ns. When the support is longer than
:data:`LATTICE` queueing gaps (an RT throttling window of a second) the lattice
step is c t_q with c = ceil(width / (LATTICE t_q)) and each node stands for c
consecutive works (the sum over i taken c terms at a time; the steps then move
by at most c t_q / 2 = width / (2 LATTICE), a relative error below 1/LATTICE of
the support). An unbounded wait (mass at +inf) gives inf, a constant wait
(or t_q = 0) the order statistic E[max W] itself.

Sources: mm/swap.c __lru_add_drain_all() (the queue_work_on() loop, then the
flush_work() loop); checked against pwmodel.simulate.fanout (docs/validity.md).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

SUB = 4             # lattice nodes per queueing gap t_q
LATTICE = 4096      # most queueing gaps the lattice spans before its step grows
_TOP = 1e-13        # an unbounded continuous tail is cut at its 1 - _TOP quantile
BLOCK_ROWS, BLOCKS = 1024, 64   # lattice rows per CDF block: at least BLOCK_ROWS, at most 1/BLOCKS of them

_x, _i, _d = sp.symbols("x i D", nonnegative=True)
_F = sp.Function("F_W")


def smax_expr() -> sp.Expr:
    """E[Y_D] = integral_0^inf (1 - prod_{i=0}^{D-1} F_W(x + i t_q)) dx (module docstring),
    for docs/model.md; evaluated by :func:`table`."""
    from pwmodel.params import SYMBOLS as S
    tq = S["queue_work_ns"]
    return sp.Integral(1 - sp.Product(_F(_x + _i * tq), (_i, 0, _d - 1)), (_x, 0, sp.oo))


def _top(dist) -> float:
    lo, hi = dist.support()
    if math.isfinite(hi):
        return float(hi)
    return float(dist.quantile(1.0 - _TOP))


def table(dist, tq: float, ds: np.ndarray) -> np.ndarray:
    """E[Y_D] in ns at the dirty counts ``ds`` (>= 1) for the queue->start law ``dist``
    (a :class:`pwmodel.dist.LatencyDist`) and the queueing gap ``tq`` ns."""
    ds = np.maximum(np.atleast_1d(np.asarray(ds, dtype=float)), 1.0)
    if dist.p_infinite > 0:
        return np.full(ds.shape, math.inf)
    lo = float(dist.support()[0])
    hi = _top(dist)
    if not (tq > 0) or hi <= lo:
        return np.atleast_1d(np.asarray(dist.expected_max_ns(ds), dtype=float))
    width = hi - lo
    c = max(1, math.ceil(width / (tq * LATTICE)))     # works per lattice node
    step = c * tq
    delta = step / SUB
    rows_eval = math.ceil(width / step) + 1            # lattice rows (SUB nodes each) below hi
    n_real = ds / c
    n_max = int(math.ceil(n_real.max())) + 1
    rows = rows_eval + n_max
    lf, zc = _log_lattice(dist, lo, delta, rows, rows_eval)
    top = lf.shape[0]           # rows at and beyond ``top``: F = 1 exactly, log F = 0
    # prefix sums down each residue column, with a zero row in front: P[r] = sum of rows < r
    P = np.vstack([np.zeros((1, SUB)), np.cumsum(lf, axis=0)])
    Z = np.vstack([np.zeros((1, SUB)), np.cumsum(zc, axis=0)])
    lf = np.vstack([lf, np.zeros((1, SUB))])
    zc = np.vstack([zc, np.zeros((1, SUB))])
    out = np.empty(ds.shape)
    for idx, n in enumerate(n_real):
        m = int(math.floor(n))
        frac = n - m
        if m + rows_eval <= top:
            at = slice(m, m + rows_eval)
        else:                   # past the top the sums stay put (adding log 1 = 0)
            at = np.minimum(np.arange(m, m + rows_eval), top)
        s = P[at] - P[:rows_eval]
        z = Z[at] - Z[:rows_eval]
        if frac > 0:
            s = s + frac * lf[at]
            z = z + zc[at]
        with np.errstate(under="ignore"):
            prod = np.where(z > 0, 0.0, np.exp(c * s))
        out[idx] = lo + delta * float(np.sum(1.0 - prod))
    return out


def _log_lattice(dist, lo: float, delta: float, rows: int, least: int) -> tuple[np.ndarray, np.ndarray]:
    """(log F, F == 0) on the lattice x_k = lo + (k + 1/2) delta, as (R, SUB) arrays with
    ``least`` <= R <= ``rows``: computed in blocks of rows up to the first block, ending at
    or past row ``least``, whose last row has F = 1 exactly; beyond it F = 1 exactly too (the mixture's CDF is a sum of nondecreasing
    terms, and rounding keeps it nondecreasing), so the rows dropped add log 1 = 0 to every
    sum and 0 to the zero counts: the same sums, bit for bit, as over all ``rows`` rows."""
    block = max(BLOCK_ROWS, rows // BLOCKS)
    lfs, zcs = [], []
    done = 0
    while done < rows:
        hi = min(rows, done + block)
        x = lo + (np.arange(done * SUB, hi * SUB) + 0.5) * delta
        f = np.clip(np.asarray(dist.cdf(x), dtype=float), 0.0, 1.0)
        zero = f <= 0.0
        with np.errstate(divide="ignore"):
            lfs.append(np.where(zero, 0.0, np.log(np.where(zero, 1.0, f))).reshape(-1, SUB))
        zcs.append(zero.reshape(-1, SUB).astype(float))
        done = hi
        if done >= least and np.all(f[-SUB:] == 1.0):
            break
    return np.concatenate(lfs), np.concatenate(zcs)


def sample_max(dist, rng: np.random.Generator, n_rep: int, d: int, tq: float) -> np.ndarray:
    """``n_rep`` draws of Y_d = max_{0 <= i < d} (W_i - i t_q) (Monte Carlo of E[Y_d])."""
    w = dist.sample(rng, (n_rep, d))
    return (w - np.arange(d)[None, :] * tq).max(axis=1)
