"""Tick-capped latency families: a fast lognormal mixed with a wait of up to one tick.

The analytic wake-up model (:mod:`pwmodel.models.wakeup`, ``busy_other``) says
queue->start = shift + (wake-up preemption: 0 | next tick: U(0, tick)) + jitter.
As families of ``X = latency - shift_ns >= 0``:

* ``tick_lognorm``: ``weight_1`` of ``LN(median_ns, sigma_1)`` (the fast path:
  IPI + switch), the rest ``LN(median_ns, sigma_1) + U(0, tick_ns)`` (waits for
  the next tick, then the same switch). The slow part's density is the exact
  convolution f(x) = [F_LN(x) - F_LN(x - tick)] / tick (:data:`lognorm_unif`).
* ``tick3_lognorm``: as above plus a starvation part ``LN(starve_median_ns,
  starve_sigma_1)`` (a SCHED_FIFO task owns the CPU until the fair deadline
  server or RT throttling lets the kworker run, ~0.9 s); weights ``weight_1``
  (fast), ``weight_2`` (tick) and 1 - both (starvation).

``tick_ns`` is a fixed machine constant (1e9 / HZ), not a fitted parameter:
it is known from the kernel configuration or the trace's timer interrupts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats
from scipy.stats import rv_continuous

from pwmodel.errors import PwmodelError

_ndtr, _log_ndtr = special.ndtr, special.log_ndtr


def _ln_logpdf(lx: np.ndarray, median: float, s: float) -> np.ndarray:
    """log density of LN(median, s) at x = exp(lx) (no scipy call overhead)."""
    z = (lx - math.log(median)) / s
    return -0.5 * z * z - lx - math.log(s) - 0.5 * math.log(2 * math.pi)


def _g(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """integral_0^y F(t) dt of LN(median 1, s) (0 for y <= 0)."""
    yp = np.where(y > 0, y, 1.0)
    z = np.log(yp) / s
    return np.where(y > 0, yp * _ndtr(z) - np.exp(s * s / 2) * _ndtr(z - s), 0.0)


class lognorm_unif_gen(rv_continuous):
    """``Y + c U``: Y lognormal with median 1 and log-sd ``s``, U ~ U(0, 1) independent.

    With ``scale`` = the lognormal median m this is LN(m, s) + U(0, c m).
    pdf(x) = [Phi(ln x / s) - Phi(ln(x - c) / s)] / c;
    cdf(x) = [G(x) - G(x - c)] / c, G(y) = y Phi(ln y / s) - e^(s^2/2) Phi(ln y / s - s).
    """

    def _argcheck(self, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (s > 0) & (c > 0) & np.isfinite(c)

    def _shape_info(self) -> list:
        from scipy.stats._distn_infrastructure import _ShapeInfo
        return [_ShapeInfo("s", False, (0, np.inf), (False, False)),
                _ShapeInfo("c", False, (0, np.inf), (False, False))]

    def _logpdf(self, x: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        xp = np.where(x > 0, x, 1.0)
        z1 = np.where(x > 0, np.log(xp) / s, -np.inf)
        d = x - c
        z0 = np.where(d > 0, np.log(np.where(d > 0, d, 1.0)) / s, -np.inf)
        with np.errstate(all="ignore"):
            # upper tail: Phi(-z0) - Phi(-z1); lower part: Phi(z1) - Phi(z0) (no cancellation)
            hi = _log_ndtr(-z0) + np.log(-np.expm1(_log_ndtr(-z1) - _log_ndtr(-z0)))
            lo = _log_ndtr(z1) + np.log(-np.expm1(_log_ndtr(z0) - _log_ndtr(z1)))
            out = np.where(z0 > 0, hi, lo) - np.log(c)
        return np.where(x > 0, out, -np.inf)

    def _pdf(self, x: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.exp(self._logpdf(x, s, c))

    def _cdf(self, x: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.clip((_g(x, s) - _g(x - c, s)) / c, 0.0, 1.0)

    def _sf(self, x: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        e = np.exp(s * s / 2)
        xp = np.where(x > 0, x, 1.0)
        z1 = np.log(xp) / s
        d = x - c
        z0 = np.log(np.where(d > 0, d, 1.0)) / s
        # x > c: [E(Phi(s - z0) - Phi(s - z1)) + x Phi(-z1) - (x - c) Phi(-z0)] / c
        far = (e * (_ndtr(s - z0) - _ndtr(s - z1)) + x * _ndtr(-z1) - d * _ndtr(-z0)) / c
        near = 1.0 - _g(x, s) / c
        out = np.where(d > 0, far, np.where(x > 0, near, 1.0))
        return np.clip(out, 0.0, 1.0)

    def _ppf(self, q: np.ndarray, s: np.ndarray, c: np.ndarray) -> np.ndarray:
        q, s, c = np.broadcast_arrays(np.asarray(q, float), np.asarray(s, float),
                                      np.asarray(c, float))
        lo = np.exp(s * special.ndtri(q))          # Y_q <= X_q <= Y_q + c
        hi = lo + c
        lo = np.where(np.isfinite(lo), lo, 0.0)
        for _ in range(80):
            m = 0.5 * (lo + hi)
            up = self._cdf(m, s, c) >= q
            hi = np.where(up, m, hi)
            lo = np.where(up, lo, m)
        return 0.5 * (lo + hi)

    def _rvs(self, s: np.ndarray, c: np.ndarray, size: object = None,
             random_state: np.random.Generator | np.random.RandomState | None = None
             ) -> np.ndarray:
        y = np.exp(s * random_state.standard_normal(size))  # type: ignore[union-attr]
        return y + c * random_state.uniform(size=size)  # type: ignore[union-attr]

    def _stats(self, s: np.ndarray, c: np.ndarray) -> tuple:
        w = np.exp(s * s)
        return np.sqrt(w) + c / 2, (w - 1) * w + c * c / 12, None, None


lognorm_unif = lognorm_unif_gen(a=0.0, name="lognorm_unif", shapes="s, c")


def slow_rv(median_ns: float, sigma: float, tick_ns: float) -> object:
    """Frozen LN(median_ns, sigma) + U(0, tick_ns), in ns."""
    return lognorm_unif(sigma, tick_ns / median_ns, scale=median_ns)


class TickMix:
    """Fast lognormal + (lognormal + one-tick uniform) [+ starvation lognormal]; see module."""

    scipy_name = "lognorm_unif"
    mle = None

    def __init__(self, tick_ns: float | None, starve: bool = False) -> None:
        if tick_ns is None or not math.isfinite(tick_ns) or tick_ns <= 0:
            raise PwmodelError("tick-capped families need the scheduler tick: give the sample "
                               f"a tick_ns > 0 (1e9 / HZ), found {tick_ns}", field="tick_ns")
        self.tick_ns = float(tick_ns)
        self.starve = starve
        self.name = "tick3_lognorm" if starve else "tick_lognorm"
        self.params = (("weight_1", "weight_2", "median_ns", "sigma_1", "starve_median_ns",
                        "starve_sigma_1") if starve else ("weight_1", "median_ns", "sigma_1"))
        self.nw = 2 if starve else 1

    # ---- coordinates: logit / additive log-ratio for weights, log for the rest -----
    def to_t(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        if not self.starve:
            return np.concatenate([special.logit(v[..., :1]), np.log(v[..., 1:])], axis=-1)
        w3 = 1.0 - v[..., 0:1] - v[..., 1:2]
        return np.concatenate([np.log(v[..., :2]) - np.log(w3), np.log(v[..., 2:])], axis=-1)

    def from_t(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        rest = np.exp(np.clip(t[..., self.nw:], -700, 700))
        if not self.starve:
            return np.concatenate([special.expit(t[..., :1]), rest], axis=-1)
        a = np.clip(t[..., :2], -700, 700)
        mx = np.maximum(np.max(a, axis=-1, keepdims=True), 0.0)
        e = np.exp(a - mx)
        w = e / (e.sum(axis=-1, keepdims=True) + np.exp(-mx))
        return np.concatenate([w, rest], axis=-1)

    # ---- parts ----------------------------------------------------------------
    def weights(self, v: np.ndarray) -> list[float]:
        if self.starve:
            return [float(v[0]), float(v[1]), float(1.0 - v[0] - v[1])]
        return [float(v[0]), float(1.0 - v[0])]

    def parts(self, v: np.ndarray) -> list[tuple[float, object, str]]:
        """(weight, frozen scipy rv on X >= 0, label) per component."""
        m, s = float(v[self.nw]), float(v[self.nw + 1])
        w = self.weights(v)
        out = [(w[0], stats.lognorm(s, scale=m), "fast (lognormal)"),
               (w[1], slow_rv(m, s, self.tick_ns), "next tick (lognormal + U(0, tick))")]
        if self.starve:
            out.append((w[2], stats.lognorm(float(v[5]), scale=float(v[4])),
                        "starvation (lognormal)"))
        return out

    def _lps(self, v: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        m, s = float(v[self.nw]), float(v[self.nw + 1])
        w = self.weights(v)
        lx = np.log(np.where(x > 0, x, np.nan))
        out = [math.log(w[0]) + _ln_logpdf(lx, m, s),
               math.log(w[1]) + lognorm_unif._logpdf(x / m, s, self.tick_ns / m) - math.log(m)]
        if self.starve:
            out.append(math.log(w[2]) + _ln_logpdf(lx, float(v[4]), float(v[5])))
        return [np.where(np.isnan(o), -np.inf, o) for o in out]

    def logpdf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if np.any(np.asarray(self.weights(v)) <= 0):
            return np.full(x.shape, -np.inf)
        with np.errstate(all="ignore"):
            return special.logsumexp(np.stack(self._lps(v, x)), axis=0)

    def cdf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return sum(w * rv.cdf(x) for w, rv, _ in self.parts(v))  # type: ignore[attr-defined]

    def logsf(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.log(sum(w * rv.sf(x) for w, rv, _ in self.parts(v)))  # type: ignore[attr-defined]

    def start(self, x: np.ndarray) -> np.ndarray:
        """Fast: below a tenth of a tick; starvation: above two ticks; tick: the rest."""
        x = np.asarray(x, dtype=float)
        fast = x[x < 0.1 * self.tick_ns]
        if fast.size < 3:
            fast = np.sort(x)[: max(3, x.size // 2)]
        lx = np.log(np.maximum(fast, 1e-9))
        m, s = float(np.exp(np.median(lx))), max(float(np.std(lx)), 0.05)
        n = x.size
        if not self.starve:
            w1 = min(max(fast.size / n, 0.02), 0.98)
            return np.array([w1, m, s])
        far = x[x > 2 * self.tick_ns]
        w1 = max(fast.size / n, 0.02)
        w3 = max(far.size / n, 0.02)
        w2 = max(1.0 - w1 - w3, 0.02)
        tot = w1 + w2 + w3
        ly = np.log(far) if far.size >= 3 else np.log(np.array([10.0, 20.0, 40.0]) * self.tick_ns)
        return np.array([w1 / tot, w2 / tot, m, s, float(np.exp(np.median(ly))),
                         max(float(np.std(ly)), 0.05)])
