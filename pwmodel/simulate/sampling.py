"""Sampling helpers: seeded block streams, a one-uniform sampler for LatencyDist, CIs.

Reproducibility: a simulation is cut into blocks of a number of
replications fixed by N (:func:`block_reps`); block ``k`` of stream ``s`` draws from
``SeedSequence(seed, spawn_key=(s, k))``, so the result depends on the seed
only, never on how blocks are spread over worker processes.

Confidence intervals: the mean uses the normal approximation (standard
error); a quantile uses the distribution-free order-statistic interval
(binomial ranks), which stays honest for point masses and heavy tails.
All values in ns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from pwmodel.dist import LatencyDist
from pwmodel.errors import PwmodelError

BLOCK_CELLS = 32768         # replications x CPUs per seeded block (cache-sized arrays)


def block_reps(n_cpus: int) -> int:
    """Replications per seeded block at ``n_cpus`` (a function of N only, never of workers)."""
    return int(min(4096, max(8, BLOCK_CELLS // max(int(n_cpus), 1))))
Z95 = 1.959963984540054     # two-sided 95 % normal quantile


def block_rng(seed: int, stream: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` of stream ``stream`` (independent of chunking)."""
    if seed < 0:
        raise PwmodelError(f"seed must be >= 0, found {seed}", field="seed")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, block))))


class FastSampler:
    """Draws from a :class:`LatencyDist` with one uniform per sample (inverse transform).

    The uniform picks the component (cumulative weights); rescaled inside the
    component's weight interval it is again U(0, 1) and gives the value:
    point -> a, uniform -> a + (b - a) u, continuous -> rv.ppf(u). Exact in law.
    """

    def __init__(self, dist: LatencyDist) -> None:
        self.dist = dist
        self.comps = dist.components
        w = np.array([c.weight for c in self.comps])
        self.cum = np.cumsum(w)
        self.cum[-1] = 1.0
        self.lo = self.cum - w
        self.w = w
        self.all_simple = all(c.kind in ("point", "uniform") for c in self.comps)
        # value = base_k + span_k * v  for point/uniform components
        self.base = np.array([c.a for c in self.comps], dtype=float)
        self.span = np.array([(c.b - c.a) if c.kind == "uniform" else 0.0 for c in self.comps])
        self.shift = dist.shift_ns
        self.p_inf = dist.p_infinite
        slope = self.span / w
        self.lin_b = slope
        self.lin_a = self.base + self.shift - np.where(slope > 0, slope * self.lo, 0.0)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Map U(0, 1) draws to latency draws in ns (same shape)."""
        if len(self.comps) == 1:
            c = self.comps[0]
            if c.kind == "point":
                return np.full(u.shape, c.a + self.shift)
            if c.kind == "uniform":
                return (c.a + self.shift) + (c.b - c.a) * u
            return self.shift + np.asarray(c.rv.ppf(u), dtype=float)  # type: ignore[union-attr]
        if len(self.comps) <= 4:      # a few comparisons beat a binary search
            k = (u >= self.cum[0]).astype(np.intp)
            for c in self.cum[1:-1]:
                k += u >= c
        else:
            k = np.searchsorted(self.cum, u, side="right")
            np.minimum(k, len(self.comps) - 1, out=k)
        if self.all_simple:                 # piecewise linear in u: A_k + B_k u
            out = self.lin_a.take(k)
            if self.lin_b.any():
                out += self.lin_b.take(k) * u
            return out
        v = (u - self.lo[k]) / self.w[k]
        out = np.empty(u.shape)
        for i, c in enumerate(self.comps):
            m = k == i
            if not m.any():
                continue
            if c.kind == "point":
                out[m] = c.a
            elif c.kind == "uniform":
                out[m] = c.a + (c.b - c.a) * v[m]
            else:
                out[m] = np.asarray(c.rv.ppf(np.clip(v[m], 1e-15, 1 - 1e-15)), dtype=float)  # type: ignore[union-attr]
        return out + self.shift

    @property
    def constant(self) -> bool:
        """True when every draw is the same value (a single point mass)."""
        return len(self.comps) == 1 and self.comps[0].kind == "point"

    def sample(self, rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
        if self.constant:
            return np.full(shape, self.comps[0].a + self.shift)
        return self.from_uniform(rng.random(shape))


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95 % confidence interval, ns."""

    value: float
    lo: float
    hi: float


def mean_ci(x: np.ndarray) -> Estimate:
    """Sample mean with a normal 95 % interval (inf if any draw is inf)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        raise PwmodelError("no samples to summarise")
    if np.isinf(x).any():
        return Estimate(math.inf, math.inf, math.inf)
    m = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.inf
    return Estimate(m, m - Z95 * se, m + Z95 * se)


def quantile_ci(x_sorted: np.ndarray, q: float) -> Estimate:
    """q-quantile of sorted draws with the order-statistic 95 % interval."""
    n = x_sorted.size
    if n == 0:
        raise PwmodelError("no samples to summarise")
    k = min(max(int(math.ceil(q * n)) - 1, 0), n - 1)       # left-continuous inverse of the ECDF
    lo_r = int(stats.binom.ppf(0.025, n, q))
    hi_r = int(stats.binom.ppf(0.975, n, q))
    lo_r = min(max(lo_r - 1, 0), n - 1)
    hi_r = min(max(hi_r, 0), n - 1)
    return Estimate(float(x_sorted[k]), float(x_sorted[lo_r]), float(x_sorted[hi_r]))


def summarise(x: np.ndarray, prefix: str) -> dict[str, float]:
    """mean, p50, p99, p99.9, max of draws with 95 % CIs, as ``{prefix}_{stat}_ns`` columns."""
    xs = np.sort(np.asarray(x, dtype=float))
    out: dict[str, float] = {}
    m = mean_ci(xs)
    out.update({f"{prefix}_mean_ns": m.value, f"{prefix}_mean_lo_ns": m.lo, f"{prefix}_mean_hi_ns": m.hi})
    for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
        e = quantile_ci(xs, q)
        out.update({f"{prefix}_{name}_ns": e.value, f"{prefix}_{name}_lo_ns": e.lo,
                    f"{prefix}_{name}_hi_ns": e.hi})
    out[f"{prefix}_max_ns"] = float(xs[-1])
    return out
