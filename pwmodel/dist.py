"""Latency distributions: a constant shift plus a finite mixture of parts.

Wake-up and time-to-run latencies are sums of constants (IPI, switches) and
one random term whose shape depends on the isolation level: a choice among
idle-state exit latencies (point masses), a residual tick (uniform), a
throttling window (point mass at 0 mixed with a uniform), a fitted
continuous family (lognormal, gamma, Weibull, shifted exponential, the
tick-capped families of :mod:`pwmodel.fit.tickfam`), or an unbounded wait (a
point mass at +inf). :class:`LatencyDist` represents ``shift_ns + X`` with X
drawn from the mixture, and gives the mean, quantiles, CDF, samples and the
expected maximum of n independent draws (order statistics, used by the
fan-out model). :class:`EmpiricalDist` is the same interface over measured
samples, with exact order statistics.

The parts share one interface (:class:`Part`): :class:`Point`,
:class:`Uniform` and :class:`Continuous` (a frozen scipy.stats distribution).

What SciPy does and what stays our own code. SciPy >= 1.15 has a new
distribution infrastructure (``stats.make_distribution``, ``stats.Mixture``,
``stats.order_statistic``) for *continuous* random variables.
:meth:`LatencyDist.to_scipy` expresses a distribution without point masses in
it (each continuous part through ``make_distribution``, uniforms as
``stats.Uniform``, mixed by ``stats.Mixture``), and
:meth:`LatencyDist.expected_max_scipy` computes E[max of n] of a single
continuous part with ``stats.order_statistic``: the tests use both as the
check of our expected maximum. Our own code remains for what that
infrastructure does not cover: point masses (idle-state exits, the deadline
server's fixed wait, the unbounded wait at +inf; SciPy's mixtures and order
statistics take continuous components only, and ``order_statistic`` refuses a
``Mixture``), mixtures of point masses with continuous parts, and the fitted
tick-capped families, which are legacy ``rv_continuous`` subclasses. The
expected maximum of such mixtures is an adaptive quadrature of 1 - F^n split
at every point mass (exact for the steps in F), or a Simpson rule on a
quantile grid when a continuous part is present; the legacy frozen
distributions stay the numeric workhorse of the continuous parts (their
vectorised cdf/ppf keep evaluate() and the fits fast).

All values in ns.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol, Sequence

import numpy as np

from pwmodel.errors import PwmodelError


def __getattr__(name: str) -> Any:
    """scipy.stats, scipy.integrate and scipy.optimize on first use (importing scipy.stats
    costs about a second, more than a whole evaluation needs)."""
    if name in ("stats", "integrate", "optimize"):
        import importlib
        return importlib.import_module(f"scipy.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CLOSED_EMAX = True   # closed-form order statistics for point/uniform mixtures (False: quadrature)
_GRID_BLOCK = 1 << 19   # elements of 1 - F^n per Simpson call in _expected_max_grid (4 MB)


class Part(Protocol):
    """One mixture part: a weight, and the distribution of its contribution (ns)."""

    kind: ClassVar[str]
    weight: float
    label: str

    def cdf(self, x: np.ndarray) -> np.ndarray: ...
    def ppf(self, u: np.ndarray) -> np.ndarray: ...
    def mean(self) -> float: ...
    def second_moment(self) -> float: ...
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray: ...
    def support(self) -> tuple[float, float]: ...
    def grid(self, u: np.ndarray) -> np.ndarray: ...
    def signature(self) -> tuple: ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Point:
    """A point mass at ``a`` ns (``a`` may be +inf: a wait that never ends)."""

    a: float
    weight: float = 1.0
    label: str = ""
    kind: ClassVar[str] = "point"

    @property
    def b(self) -> float:
        return self.a

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (x >= self.a).astype(float)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.a)

    def mean(self) -> float:
        return self.a

    def second_moment(self) -> float:
        return self.a ** 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.a)

    def support(self) -> tuple[float, float]:
        return self.a, self.a

    def grid(self, u: np.ndarray) -> np.ndarray:
        """Nodes that resolve the step of F at ``a`` (for the quadrature of 1 - F^n)."""
        if not math.isfinite(self.a):
            return np.array([])
        return np.array([self.a] + ([np.nextafter(self.a, -np.inf)] if self.a > 0 else []))

    def signature(self) -> tuple:
        return (self.weight, self.kind, self.a, 0.0, None)

    def describe(self) -> str:
        return f"{self.weight:.3g} x point({self.a:g})"


@dataclass(frozen=True)
class Uniform:
    """Uniform on [``a``, ``b``] ns (a point mass when ``b == a``)."""

    a: float
    b: float
    weight: float = 1.0
    label: str = ""
    kind: ClassVar[str] = "uniform"

    def cdf(self, x: np.ndarray) -> np.ndarray:
        if self.b <= self.a:
            return (x >= self.a).astype(float)
        return np.clip((x - self.a) / (self.b - self.a), 0.0, 1.0)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.a + np.asarray(u, dtype=float) * (self.b - self.a)

    def mean(self) -> float:
        return 0.5 * (self.a + self.b)

    def second_moment(self) -> float:
        return (self.a ** 2 + self.a * self.b + self.b ** 2) / 3.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.a, self.b, n) if self.b > self.a else np.full(n, self.a)

    def support(self) -> tuple[float, float]:
        return self.a, self.b

    def grid(self, u: np.ndarray) -> np.ndarray:
        pts = [self.a, self.b] + [np.nextafter(p, -np.inf) for p in (self.a, self.b) if p > 0]
        if self.b > self.a:
            return np.concatenate([pts, np.linspace(self.a, self.b, 2001)])
        return np.array(pts)

    def signature(self) -> tuple:
        return (self.weight, self.kind, self.a, self.b, None)

    def describe(self) -> str:
        return f"{self.weight:.3g} x U({self.a:g}, {self.b:g})"


@dataclass(frozen=True)
class Continuous:
    """A continuous part: a frozen scipy.stats distribution in ``rv`` (values in ns)."""

    rv: Any
    weight: float = 1.0
    label: str = ""
    kind: ClassVar[str] = "scipy"

    @property
    def a(self) -> float:
        return float(self.rv.support()[0])

    @property
    def b(self) -> float:
        return float(self.rv.support()[1])

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self.rv.cdf(x)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(self.rv.ppf(u), dtype=float)

    def mean(self) -> float:
        return float(self.rv.mean())

    def second_moment(self) -> float:
        return float(self.rv.var() + self.rv.mean() ** 2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.rv.rvs(size=n, random_state=rng), dtype=float)

    def support(self) -> tuple[float, float]:
        lo, hi = self.rv.support()
        return float(lo), float(hi)

    def grid(self, u: np.ndarray) -> np.ndarray:
        x = self.ppf(u)
        return x[np.isfinite(x)]

    def signature(self) -> tuple:
        if isinstance(self.rv, Lognorm):
            return (self.weight, self.kind, 0.0, 0.0, self.rv.signature())
        rv = (getattr(getattr(self.rv, "dist", None), "name", repr(self.rv)),
              tuple(float(a) for a in getattr(self.rv, "args", ())),
              tuple(sorted((k, float(v)) for k, v in getattr(self.rv, "kwds", {}).items())))
        return (self.weight, self.kind, 0.0, 0.0, rv)

    def describe(self) -> str:
        return f"{self.weight:.3g} x {self.label or 'continuous'}"

    def to_scipy(self) -> Any:
        """This part in SciPy's new distribution infrastructure (``make_distribution``);
        None for distributions it cannot take (the tick-capped families)."""
        from scipy import stats
        dist = getattr(self.rv, "dist", None)
        if not isinstance(dist, stats.rv_continuous) or dist.__module__.startswith("pwmodel"):
            return None
        args, kwds = tuple(self.rv.args), dict(self.rv.kwds)
        shapes = [s.strip() for s in (dist.shapes or "").split(",") if s.strip()]
        loc = float(kwds.pop("loc", args[len(shapes)] if len(args) > len(shapes) else 0.0))
        scale = float(kwds.pop("scale", args[len(shapes) + 1] if len(args) > len(shapes) + 1
                               else 1.0))
        params = dict(zip(shapes, args[:len(shapes)]), **kwds)
        try:
            X = stats.make_distribution(dist)(**params)
        except (TypeError, ValueError, NotImplementedError):
            return None
        return X * scale + loc


class Lognorm:
    """``scipy.stats.lognorm(s=s, scale=scale)`` without importing scipy.stats: the cdf,
    ppf, support, mean and variance by the very operations of SciPy's ``rv_continuous``
    and ``lognorm_gen`` (``ndtr(log(x / scale) / s)``, ``exp(s ndtri(q)) scale``,
    ``sqrt(exp(s^2)) scale``, ``exp(s^2) (exp(s^2) - 1) scale^2``; the same values bit for
    bit, checked in the tests); anything else (samples, pdf, the ``dist`` object) from the
    SciPy distribution itself, built on first use (and everything, where the shape or the
    scale is not finite and > 0: SciPy's own answers there)."""

    def __init__(self, s: float, scale: float) -> None:
        s, scale = float(s), float(scale)
        self.s, self.scale = s, scale
        self.args: tuple = ()
        self.kwds = {"s": s, "scale": scale}
        if not (0 < s < math.inf and 0 < scale < math.inf):
            for name in ("cdf", "ppf", "support", "mean", "var"):
                setattr(self, name, getattr(self.frozen, name))

    @functools.cached_property
    def frozen(self) -> Any:
        from scipy import stats
        return stats.lognorm(s=self.s, scale=self.scale)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("s", "scale", "args", "kwds"):
            raise AttributeError(name)
        return getattr(self.frozen, name)

    def __reduce__(self) -> tuple:
        return (Lognorm, (self.s, self.scale))

    def __repr__(self) -> str:
        return f"Lognorm(s={self.s!r}, scale={self.scale!r})"

    def signature(self) -> tuple:
        """What :meth:`Continuous.signature` reads from a SciPy frozen lognorm."""
        return ("lognorm", (), (("s", self.s), ("scale", self.scale)))

    def cdf(self, x: Any) -> Any:
        from scipy.special import ndtr
        x = np.asarray(x)
        y = np.asarray((x - np.asarray(0)) / np.asarray(self.scale),
                       dtype=np.promote_types(x.dtype, np.float64))
        inside = (0 < y) & (y < np.inf)
        out = np.zeros(y.shape, y.dtype)
        np.place(out, np.isnan(y), np.nan)
        np.place(out, y >= np.inf, 1.0)
        if np.any(inside):
            np.place(out, inside, ndtr(np.log(y[inside]) / np.float64(self.s)))
        return out[()] if out.ndim == 0 else out

    def ppf(self, q: Any) -> Any:
        from scipy.special import ndtri
        q = np.asarray(q)
        inside = (0 < q) & (q < 1)
        out = np.full(inside.shape, np.nan)
        np.place(out, q == 0, 0.0)
        np.place(out, q == 1, np.inf)
        if np.any(inside):
            np.place(out, inside, np.exp(np.float64(self.s) * ndtri(q[inside]))
                     * np.float64(self.scale) + 0)
        return out[()] if out.ndim == 0 else out

    def support(self) -> tuple[float, float]:
        return 0.0, math.inf

    def _p(self) -> np.ndarray:
        s = np.atleast_1d(np.float64(self.s))
        return np.exp(s * s)

    def mean(self) -> np.float64:
        return (np.sqrt(self._p()) * np.atleast_1d(np.float64(self.scale)) + 0)[0]

    def var(self) -> np.float64:
        p = self._p()
        scale = np.atleast_1d(np.float64(self.scale))
        return (p * (p - 1) * scale * scale)[0]


def point(x: float, weight: float = 1.0, label: str = "") -> Point:
    return Point(float(x), weight, label)


def uniform(a: float, b: float, weight: float = 1.0, label: str = "") -> Uniform:
    if b < a:
        raise PwmodelError(f"uniform component needs a <= b, found {a} > {b}")
    return Uniform(float(a), float(b), weight, label)


def continuous(rv: object, weight: float = 1.0, label: str = "") -> Continuous:
    return Continuous(rv, weight, label)


class LatencyDist:
    """``shift_ns`` + a mixture of components (weights are normalised)."""

    def __init__(self, components: Sequence[Part], shift_ns: float = 0.0, name: str = "") -> None:
        if not components:
            raise PwmodelError("a latency distribution needs at least one component")
        w = np.array([c.weight for c in components], dtype=float)
        if np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise PwmodelError(f"mixture weights must be >= 0 and sum > 0, found {w.tolist()}")
        if not math.isfinite(shift_ns) or shift_ns < 0:
            raise PwmodelError(f"shift must be a finite latency >= 0 ns, found {shift_ns}")
        w = w / w.sum()
        self.components: tuple[Part, ...] = tuple(replace(c, weight=float(wi))
                                                  for wi, c in zip(w, components) if wi > 0)
        self.shift_ns = float(shift_ns)
        self.name = name

    # ---- basic quantities -------------------------------------------------------
    @property
    def p_infinite(self) -> float:
        """Probability mass at +inf (an unbounded wait)."""
        return sum(c.weight for c in self.components if isinstance(c, Point) and math.isinf(c.a))

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=float) - self.shift_ns
        out = np.zeros_like(x)
        for c in self.components:
            out = out + c.weight * c.cdf(x)
        return out

    def mean_ns(self) -> float:
        if self.p_infinite > 0:
            return math.inf
        return self.shift_ns + sum(c.weight * c.mean() for c in self.components)

    def var_ns2(self) -> float:
        if self.p_infinite > 0:
            return math.inf
        m1 = sum(c.weight * c.mean() for c in self.components)
        m2 = sum(c.weight * c.second_moment() for c in self.components)
        return max(m2 - m1 * m1, 0.0)

    def support(self) -> tuple[float, float]:
        lo = min(c.support()[0] for c in self.components)
        hi = max(c.support()[1] for c in self.components)
        return self.shift_ns + lo, self.shift_ns + hi

    def _breakpoints(self) -> list[float]:
        pts: set[float] = set()
        for c in self.components:
            lo, hi = c.support()
            for v in (lo, hi):
                if math.isfinite(v):
                    pts.add(self.shift_ns + v)
        return sorted(pts)

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        """Smallest x with cdf(x) >= q (inf where the mass at +inf is reached).

        Vectorised over ``q``: the bracket is the first component breakpoint whose CDF
        reaches q (or a doubled bound for continuous tails), then a left-continuous
        bisection (robust with point masses) to a relative width of 1e-9.
        """
        qs = np.atleast_1d(np.asarray(q, dtype=float))
        if np.any(~np.isfinite(qs)) or np.any((qs < 0) | (qs > 1)):
            raise PwmodelError(f"quantile level must be in [0, 1], found {q!r}")
        out = np.full(qs.shape, np.nan)
        inf = qs > 1.0 - self.p_infinite + 1e-15
        out[inf] = math.inf
        todo = ~inf
        lo0, _ = self.support()
        lo = lo0 if math.isfinite(lo0) else -1.0
        at_lo = todo & (self.cdf(np.full(qs.shape, lo)) >= qs)
        out[at_lo] = lo
        todo &= ~at_lo
        if not todo.any():
            return out if np.ndim(q) else out[0]
        qq = qs[todo]
        bps = np.asarray(self._breakpoints(), dtype=float)
        hi = np.full(qq.shape, np.nan)
        if bps.size:
            cb = np.maximum.accumulate(self.cdf(bps))
            k = np.searchsorted(cb, qq - 1e-12, side="left")
            ok = k < bps.size
            hi[ok] = bps[np.minimum(k, bps.size - 1)][ok]
        need = np.isnan(hi)
        if need.any():
            h = np.full(int(need.sum()), max(lo + 1.0, 1.0))
            target = qq[need]
            for _ in range(200):
                low = self.cdf(h) < target
                if not low.any():
                    break
                h = np.where(low, h * 2.0, h)
            h = np.where(self.cdf(h) < target, math.inf, h)
            hi[need] = h
        res = np.empty(qq.shape)
        fin = np.isfinite(hi)
        res[~fin] = math.inf
        a = np.full(int(fin.sum()), lo)
        b = hi[fin]
        t = qq[fin]
        for _ in range(200):
            # each level stops at its own convergence: its quantile does not depend on
            # which other levels are asked for with it
            act = b - a > 1e-9 * np.maximum(1.0, np.abs(b))
            if not act.any():
                break
            m = 0.5 * (a + b)
            up = self.cdf(m) >= t
            b = np.where(act & up, m, b)
            a = np.where(act & ~up, m, a)
        res[fin] = b
        out[todo] = res
        return out if np.ndim(q) else out[0]

    def sample(self, rng: np.random.Generator, n: int | tuple[int, ...]) -> np.ndarray:
        """Independent draws in ns (shape ``n``)."""
        shape = (n,) if isinstance(n, (int, np.integer)) else tuple(n)
        total = int(np.prod(shape))
        which = rng.choice(len(self.components), size=total, p=[c.weight for c in self.components])
        out = np.empty(total)
        for k, c in enumerate(self.components):
            idx = np.nonzero(which == k)[0]
            if idx.size:
                out[idx] = c.sample(rng, idx.size)
        return (out + self.shift_ns).reshape(shape)

    # ---- order statistics --------------------------------------------------------
    def expected_max_ns(self, n: int | float | np.ndarray) -> np.ndarray | float:
        """E[max of n independent draws] = shift + integral_0^inf (1 - F(x)^n) dx.

        Computed by adaptive quadrature split at every component breakpoint
        (point masses and uniform ends), so steps in F are integrated exactly; with a
        continuous part, by :meth:`_expected_max_grid`. ``n`` may be fractional (the
        formula extends smoothly); n >= 1. For one continuous part,
        :meth:`expected_max_scipy` computes the same with SciPy's order statistics.
        """
        ns = np.atleast_1d(np.asarray(n, dtype=float))
        if np.any(~np.isfinite(ns)) or np.any(ns < 1):
            raise PwmodelError(f"number of CPUs must be >= 1, found {n!r}", field="n_cpus")
        out = np.empty_like(ns)
        if self.p_infinite > 0:
            out[:] = math.inf
            return out if np.ndim(n) else float(out[0])
        base = self.shift_ns
        if any(isinstance(c, Continuous) for c in self.components):
            out[:] = self._expected_max_grid(ns)
            return out if np.ndim(n) else float(out[0])
        if _CLOSED_EMAX:
            out[:] = base + self._expected_max_piecewise(ns)
            return out if np.ndim(n) else float(out[0])
        # point masses and uniforms by quadrature: split at every breakpoint, so the steps
        # of F are integrated exactly
        from scipy import integrate
        edges = [base] + sorted(p for p in self._breakpoints() if p > base)
        for i, k in enumerate(ns):
            f = (lambda x, k=k: 1.0 - float(self.cdf(x)) ** k)
            total = 0.0
            err = 0.0
            with warnings.catch_warnings():
                # quadpack flags round-off where 1 - F^k is flat at 0 or 1; the error
                # estimate is checked below instead
                warnings.simplefilter("ignore", integrate.IntegrationWarning)
                for a, b in zip(edges[:-1], edges[1:]):
                    if b > a:
                        v, e = integrate.quad(f, a, b, limit=200, epsabs=1e-6, epsrel=1e-9)[:2]
                        total += v
                        err += e
            if err > 1e-6 * max(total, 1.0):
                raise PwmodelError(f"expected maximum of {k:g} draws did not converge "
                                   f"(error estimate {err:.3g} ns on {total:.6g} ns)")
            out[i] = base + total
        return out if np.ndim(n) else float(out[0])

    def _expected_max_piecewise(self, ns: np.ndarray) -> np.ndarray:
        """integral_0^inf (1 - F_X(x)^n) dx in closed form for mixtures of point masses and
        uniforms (X = the draw without the shift), vectorised over n.

        Between consecutive breakpoints a < b F_X is linear, F(x) = F0 + s (x - a) with F0
        the right limit at a (jumps of point masses sit at breakpoints) and s the summed
        density of the uniforms covering (a, b); so the piece contributes
        (b - a) - (F1^(n+1) - F0^(n+1)) / ((n + 1) s), F1 = F0 + s (b - a), or
        (b - a) (1 - F0^n) where s = 0. Same value as the quadrature to its tolerance.
        """
        pts = {0.0}
        for c in self.components:
            lo, hi = c.support()
            pts.update(v for v in (lo, hi) if math.isfinite(v) and v > 0)
        edges = np.array(sorted(pts))
        n1 = ns[:, None] + 1.0
        total = np.zeros(ns.size)
        if edges.size < 2:
            return total
        a, b = edges[:-1], edges[1:]
        f0 = np.clip(np.asarray(self.cdf(a + self.shift_ns), dtype=float), 0.0, 1.0)
        slope = np.zeros(a.size)
        for c in self.components:
            if isinstance(c, Uniform) and c.b > c.a:
                inside = (a >= c.a) & (b <= c.b)
                slope = slope + np.where(inside, c.weight / (c.b - c.a), 0.0)
        w = b - a
        f1 = np.minimum(f0 + slope * w, 1.0)
        rise = f1 - f0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lin = (np.power(f1[None, :], n1) - np.power(f0[None, :], n1)) / (n1 * np.where(
                rise > 0, rise / w, 1.0)[None, :])
            flat = w[None, :] * np.power(0.5 * (f0 + f1)[None, :], n1 - 1.0)
        integral_f = np.where((rise > 1e-9)[None, :], lin, flat)
        return np.sum(w[None, :] - integral_f, axis=1)

    def _expected_max_grid(self, ns: np.ndarray) -> np.ndarray:
        """E[max of n] for mixtures with continuous parts, vectorised over n.

        integral of 1 - F^n on nodes placed at each component's quantiles (dense in
        both tails, down to 1e-16) plus every point/uniform breakpoint, by Simpson's
        rule; checked against adaptive
        quadrature and Monte Carlo in the tests (relative error < 1e-6).

        All n in one Simpson call over the rows of 1 - F^n (each row the same operations
        as a call of its own). F^n is computed only where it does not underflow: below
        2^-1100 pow() returns 0 after a slow path that costs ~40 times a normal call, and
        those nodes (the lower tail at large n) are most of the work otherwise.
        """
        u = np.unique(np.concatenate([
            np.linspace(0.0, 1.0, 6001)[1:-1],
            np.logspace(-16, -1, 600), 1.0 - np.logspace(-16, -1, 600)]))
        xs = [np.array([0.0])] + [c.grid(u) for c in self.components]
        x = np.unique(np.concatenate(xs))
        x = x[x >= 0]
        F = np.clip(self.cdf(x + self.shift_ns), 0.0, 1.0)
        with np.errstate(divide="ignore"):
            log2_f = np.log2(F)
        from scipy import integrate
        out = np.empty(ns.size)
        rows = max(1, _GRID_BLOCK // max(x.size, 1))      # rows per block: a few MB at most
        for lo in range(0, ns.size, rows):
            ks = ns[lo:lo + rows]
            g = np.zeros((ks.size, x.size))
            for i, k in enumerate(ks):
                np.power(F, k, out=g[i], where=log2_f * k > -1100.0)
            np.subtract(1.0, g, out=g)
            out[lo:lo + ks.size] = self.shift_ns + integrate.simpson(g, x=x, axis=-1)
        return out

    def quantile_of_max_ns(self, q: float, n: int | float) -> float:
        """q-quantile of the maximum of n draws: F^{-1}(q^{1/n})."""
        if n < 1:
            raise PwmodelError(f"number of CPUs must be >= 1, found {n!r}", field="n_cpus")
        return float(self.quantile(q ** (1.0 / n)))

    def to_scipy(self) -> Any:
        """This distribution in SciPy's new infrastructure (``stats.Mixture`` of continuous
        parts and uniforms, shifted), or None when it has a point mass or a part that
        ``make_distribution`` cannot take (the tick-capped families)."""
        from scipy import stats
        comps = []
        for c in self.components:       # the shift moves each part (a Mixture cannot be shifted)
            if isinstance(c, Uniform) and c.b > c.a:
                comps.append(stats.Uniform(a=c.a + self.shift_ns, b=c.b + self.shift_ns))
            elif isinstance(c, Continuous) and (x := c.to_scipy()) is not None:
                comps.append(x + self.shift_ns)
            else:
                return None
        if len(comps) == 1:
            return comps[0]
        return stats.Mixture(comps, weights=[c.weight for c in self.components])

    def expected_max_scipy(self, n: int) -> float:
        """E[max of n draws] from ``stats.order_statistic`` (one continuous part only: SciPy's
        order statistics take neither mixtures nor point masses); the check of
        :meth:`expected_max_ns`."""
        if len(self.components) != 1 or not isinstance(self.components[0], Continuous):
            raise PwmodelError("SciPy's order statistics need a single continuous part")
        from scipy import stats
        x = self.components[0].to_scipy()
        if x is None:
            raise PwmodelError(f"{self.name or 'distribution'}: not expressible with "
                               "stats.make_distribution")
        return self.shift_ns + float(stats.order_statistic(x, r=int(n), n=int(n)).mean())

    def signature(self) -> tuple:
        """A hashable description (equal signatures = identical distributions), made once:
        a distribution is not changed once built, and the order-statistic tables are
        looked up by it at every evaluation."""
        sig = self.__dict__.get("_signature")
        if sig is None:
            sig = self._signature = (self.shift_ns, tuple(c.signature() for c in self.components))
        return sig

    def describe(self) -> str:
        parts = [c.describe() for c in self.components]
        return f"{self.shift_ns:g} ns + [" + " + ".join(parts) + "]"

    def __repr__(self) -> str:
        return f"LatencyDist({self.name!r}: {self.describe()})"


def from_scipy(rv: object, shift_ns: float = 0.0, name: str = "", label: str = "") -> LatencyDist:
    """A single continuous scipy.stats frozen distribution as a LatencyDist."""
    return LatencyDist([continuous(rv, 1.0, label or getattr(getattr(rv, 'dist', None), 'name', ''))],
                       shift_ns, name)


# ---- empirical distributions -----------------------------------------------------
class EmpiricalDist(LatencyDist):
    """Equal-weight point masses at sorted latencies (ns), with exact, fast order statistics.

    The maximum of n draws from the empirical CDF of x_1 <= ... <= x_m has
    E[max] = sum_k x_k ((k/m)^n - ((k-1)/m)^n); its q-quantile is the
    ceil(m q^(1/n))-th value. This keeps evaluations and crossover searches
    with a measured wake-up distribution fast (no quadrature).
    """

    def __init__(self, values_ns: Sequence[float] | np.ndarray, name: str = "empirical") -> None:
        x = np.sort(np.asarray(values_ns, dtype=float))
        if x.size == 0 or not np.isfinite(x).all():
            raise PwmodelError(f"{name}: need finite latency samples, found {x.size} value(s) "
                               "with non-finite or none")
        if x[0] < 0:
            raise PwmodelError(f"{name}: latencies must be >= 0 ns, found {x[0]:g}")
        super().__init__([point(float(v - x[0]), 1.0) for v in x], shift_ns=float(x[0]), name=name)
        self.values_ns = x

    def expected_max_ns(self, n: int | float | np.ndarray) -> np.ndarray | float:
        ns = np.atleast_1d(np.asarray(n, dtype=float))
        if np.any(~np.isfinite(ns)) or np.any(ns < 1):
            raise PwmodelError(f"number of CPUs must be >= 1, found {n!r}", field="n_cpus")
        m = self.values_ns.size
        k = np.arange(1, m + 1) / m
        w = k[None, :] ** ns[:, None] - (k - 1.0 / m)[None, :] ** ns[:, None]
        out = w @ self.values_ns
        return out if np.ndim(n) else float(out[0])

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        qs = np.asarray(q, dtype=float)
        if np.any((qs < 0) | (qs > 1)):
            raise PwmodelError(f"quantile level must be in [0, 1], found {q!r}")
        m = self.values_ns.size
        idx = np.clip(np.ceil(qs * m - 1e-9).astype(int) - 1, 0, m - 1)
        out = self.values_ns[idx]
        return out if np.ndim(q) else float(out)

    def quantile_of_max_ns(self, q: float, n: int | float) -> float:
        if n < 1:
            raise PwmodelError(f"number of CPUs must be >= 1, found {n!r}", field="n_cpus")
        return float(self.quantile(q ** (1.0 / n)))


def empirical_dist(samples_ns: Sequence[float] | np.ndarray, points: int = 256,
                   name: str = "empirical") -> EmpiricalDist:
    """The empirical distribution of latency samples (ns), thinned to ``points`` mid-quantiles
    when there are more samples. Usable as ``Scenario(wake=...)``."""
    x = np.asarray(samples_ns, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise PwmodelError("no finite latency samples to build a distribution from")
    if np.any(x < 0):
        raise PwmodelError(f"latencies must be >= 0 ns, found {x.min():g}")
    if x.size > points:
        x = np.quantile(x, (np.arange(points) + 0.5) / points)
    return EmpiricalDist(x, name=name)


def discretize(dist: LatencyDist, points: int = 1024, name: str | None = None) -> EmpiricalDist:
    """``points`` equal-weight mid-quantiles of a (fitted) distribution, for fast order statistics.

    Quantiles come from inverting the vectorised CDF on a dense log grid; the tail beyond the
    1 - 1/(2 points) quantile is cut, so E[max of n] is accurate for n well below ``points``.
    """
    if dist.p_infinite > 0:
        raise PwmodelError(f"{dist.name}: cannot discretize an unbounded wait")
    lo, _ = dist.support()
    q_hi = 1.0 - 0.5 / points
    hi = max(lo + 1.0, 1.0)
    while float(dist.cdf(hi)) < q_hi:
        hi *= 2.0
    grid = np.concatenate([[lo], lo + np.geomspace(1e-3, hi - lo + 1e-3, 8192)])
    F = np.maximum.accumulate(np.asarray(dist.cdf(grid), dtype=float))
    qs = (np.arange(points) + 0.5) / points
    x = np.interp(qs, F, grid)
    return EmpiricalDist(x, name=name or f"{dist.name} ({points} quantiles)")


__all__ = ["Part", "Point", "Uniform", "Continuous", "LatencyDist", "point", "uniform",
           "continuous", "from_scipy",
           "EmpiricalDist", "empirical_dist", "discretize", "Lognorm",
           "stats", "optimize"]
