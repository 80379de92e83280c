"""Candidate latency families: parameters, transforms, scipy builders, fast inner fits.

Every family describes ``X = latency - shift_ns >= 0``. A family lists its
parameter names (unit in the name), maps them to and from an unconstrained
vector (log for positive values, logit for a weight) for the optimiser and
the Wald intervals, builds frozen ``scipy.stats`` distributions (loc 0), and
gives an exact maximum-likelihood fit of plain (uncensored, unbinned) data
through ``rv_continuous.fit(floc=0)``. Mixtures (``mix2_*``) are two
components of one family with a weight, ordered by their medians. The
tick-capped families (``tick_lognorm``, ``tick3_lognorm``: a fast part mixed
with a wait of up to one scheduler tick) live in :mod:`pwmodel.fit.tickfam`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from scipy import special, stats

from pwmodel.errors import PwmodelError

if TYPE_CHECKING:
    from pwmodel.fit.tickfam import TickMix


@dataclass(frozen=True)
class Family:
    """A continuous family on [0, inf): names, builder and start values."""

    name: str
    params: tuple[str, ...]
    build: Callable[..., object]           # values -> frozen scipy rv (loc 0)
    start: Callable[[np.ndarray], np.ndarray]
    scipy_name: str
    mle: Callable[[np.ndarray], np.ndarray] | None = None
    args: Callable[..., tuple[tuple[float, ...], float]] | None = None  # values -> (shapes, scale)

    @property
    def gen(self) -> object:
        return getattr(stats, self.scipy_name)

    def to_t(self, v: np.ndarray) -> np.ndarray:
        return np.log(np.asarray(v, dtype=float))

    def from_t(self, t: np.ndarray) -> np.ndarray:
        return np.exp(np.clip(np.asarray(t, dtype=float), -700, 700))

    def logpdf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        sh, sc = self.args(*v)  # type: ignore[misc]
        return self.gen.logpdf(x, *sh, scale=sc)  # type: ignore[attr-defined]

    def cdf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        sh, sc = self.args(*v)  # type: ignore[misc]
        return self.gen.cdf(x, *sh, scale=sc)  # type: ignore[attr-defined]

    def logsf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        sh, sc = self.args(*v)  # type: ignore[misc]
        return self.gen.logsf(x, *sh, scale=sc)  # type: ignore[attr-defined]


def _lognorm_mle(x: np.ndarray) -> np.ndarray:
    s, _, scale = stats.lognorm.fit(x, floc=0)
    return np.array([scale, s])


def _start_lognorm(x: np.ndarray) -> np.ndarray:
    lx = np.log(np.maximum(x, 1e-9 * max(np.median(x), 1.0)))
    return np.array([np.exp(np.median(lx)), max(np.std(lx), 1e-3)])


def _gamma_mle(x: np.ndarray) -> np.ndarray:
    a, _, scale = stats.gamma.fit(x, floc=0)
    return np.array([a, scale])


def _start_gamma(x: np.ndarray) -> np.ndarray:
    m, v = np.mean(x), max(np.var(x), 1e-12)
    return np.array([max(m * m / v, 1e-2), max(v / m, 1e-9)])


def _weib_mle(x: np.ndarray) -> np.ndarray:
    c, _, scale = stats.weibull_min.fit(x, floc=0)
    return np.array([c, scale])


def _start_weib(x: np.ndarray) -> np.ndarray:
    cv = np.std(x) / max(np.mean(x), 1e-12)
    c = max(min(1.2 / max(cv, 1e-3), 50.0), 0.2)
    return np.array([c, np.mean(x) / special.gamma(1 + 1 / c)])


FAMILIES: dict[str, Family] = {f.name: f for f in [
    Family("lognorm", ("median_ns", "sigma_1"), lambda m, s: stats.lognorm(s, scale=m),
           _start_lognorm, "lognorm", _lognorm_mle, lambda m, s: ((s,), m)),
    Family("gamma", ("shape_1", "scale_ns"), lambda a, sc: stats.gamma(a, scale=sc),
           _start_gamma, "gamma", _gamma_mle, lambda a, sc: ((a,), sc)),
    Family("weibull", ("shape_1", "scale_ns"), lambda c, sc: stats.weibull_min(c, scale=sc),
           _start_weib, "weibull_min", _weib_mle, lambda c, sc: ((c,), sc)),
    Family("expon", ("scale_ns",), lambda sc: stats.expon(scale=sc),
           lambda x: np.array([max(np.mean(x), 1e-9)]), "expon",
           lambda x: np.array([max(np.mean(x), 1e-12)]), lambda sc: ((), sc)),
]}


class Mixture:
    """Two components of one family: weight of the first (lower median), then each part."""

    def __init__(self, base: Family) -> None:
        self.base = base
        self.name = f"mix2_{base.name}"
        k = len(base.params)
        self.k = k
        self.params = ("weight_1",) + tuple(f"{p.rsplit('_', 1)[0]}1_{p.rsplit('_', 1)[1]}"
                                            for p in base.params) + \
            tuple(f"{p.rsplit('_', 1)[0]}2_{p.rsplit('_', 1)[1]}" for p in base.params)
        self.mle = _em_lognorm if base.name == "lognorm" else None
        self.scipy_name = base.scipy_name

    def parts(self, v: np.ndarray) -> tuple[float, object, object]:
        k = self.k
        return float(v[0]), self.base.build(*v[1:1 + k]), self.base.build(*v[1 + k:])

    def to_t(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        return np.concatenate([special.logit(v[..., :1]), np.log(v[..., 1:])], axis=-1)

    def from_t(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return np.concatenate([special.expit(t[..., :1]), np.exp(np.clip(t[..., 1:], -700, 700))],
                              axis=-1)

    def logpdf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        k, w = self.k, float(v[0])
        return np.logaddexp(np.log(w) + self.base.logpdf(v[1:1 + k], x),
                            np.log1p(-w) + self.base.logpdf(v[1 + k:], x))

    def cdf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        k, w = self.k, float(v[0])
        return w * self.base.cdf(v[1:1 + k], x) + (1 - w) * self.base.cdf(v[1 + k:], x)

    def logsf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        k, w = self.k, float(v[0])
        return np.logaddexp(np.log(w) + self.base.logsf(v[1:1 + k], x),
                            np.log1p(-w) + self.base.logsf(v[1 + k:], x))

    def start(self, x: np.ndarray) -> np.ndarray:
        """Split at the widest gap in log time between the 10th and 90th percentile."""
        xs = np.sort(x)
        lx = np.log(np.maximum(xs, 1e-9 * max(np.median(xs), 1.0)))
        lo, hi = int(0.1 * xs.size), max(int(0.9 * xs.size), int(0.1 * xs.size) + 2)
        gaps = np.diff(lx[lo:hi])
        cut = lo + int(np.argmax(gaps)) + 1 if gaps.size else xs.size // 2
        a, b = xs[:cut], xs[cut:]
        if a.size < 3 or b.size < 3:
            a, b = xs[: xs.size // 2], xs[xs.size // 2:]
        return np.concatenate([[a.size / xs.size], self.base.start(a), self.base.start(b)])


def _em_lognorm(x: np.ndarray, start: np.ndarray | None = None, tol: float = 1e-10,
                max_iter: int = 2000) -> np.ndarray:
    """Two-component lognormal mixture by EM on log(x) (a Gaussian mixture; scipy has no
    mixture fitter). Returns [weight_1, median1_ns, sigma1_1, median2_ns, sigma2_1]."""
    y = np.log(x)
    if start is None:
        start = Mixture(FAMILIES["lognorm"]).start(x)
    w, m1, s1, m2, s2 = start
    mu = np.array([math.log(m1), math.log(m2)])
    sd = np.array([s1, s2])
    pi = np.array([w, 1 - w])
    floor = 1e-3 * max(float(np.std(y)), 1e-6)
    last = -math.inf
    for _ in range(max_iter):
        lp = np.log(pi)[:, None] + stats.norm.logpdf(y[None, :], mu[:, None], sd[:, None])
        tot = np.logaddexp(lp[0], lp[1])
        ll = float(tot.sum())
        r = np.exp(lp - tot)
        nk = r.sum(axis=1)
        if np.any(nk < 2):
            break
        pi = nk / y.size
        mu = (r @ y) / nk
        sd = np.maximum(np.sqrt(np.sum(r * (y[None, :] - mu[:, None]) ** 2, axis=1) / nk), floor)
        if ll - last < tol * y.size:
            break
        last = ll
    return np.array([pi[0], math.exp(mu[0]), sd[0], math.exp(mu[1]), sd[1]])


TICK_FAMILIES = ("tick_lognorm", "tick3_lognorm")


def get(name: str, tick_ns: float | None = None) -> "Family | Mixture | TickMix":
    """A family by name: lognorm, gamma, weibull, expon, mix2_<one of them>, or a
    tick-capped one (tick_lognorm, tick3_lognorm: need ``tick_ns``, see
    :mod:`pwmodel.fit.tickfam`)."""
    if name in TICK_FAMILIES:
        from pwmodel.fit.tickfam import TickMix
        return TickMix(tick_ns, starve=name == "tick3_lognorm")
    if name in FAMILIES:
        return FAMILIES[name]
    if name.startswith("mix2_") and name[5:] in FAMILIES:
        return Mixture(FAMILIES[name[5:]])
    known = list(FAMILIES) + [f"mix2_{n}" for n in FAMILIES] + list(TICK_FAMILIES)
    raise PwmodelError(f"unknown distribution family '{name}' (known: {', '.join(known)})",
                       field="family")


def cdf(fam: "Family | Mixture | TickMix", v: np.ndarray, x: np.ndarray) -> np.ndarray:
    return fam.cdf(v, x)


def logsf(fam: "Family | Mixture | TickMix", v: np.ndarray, x: np.ndarray) -> np.ndarray:
    return fam.logsf(v, x)


if TYPE_CHECKING:
    AnyFamily = Family | Mixture | TickMix
