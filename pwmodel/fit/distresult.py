"""Results of latency-distribution fits: one family (:class:`DistFit`) and a ranking
of candidates (:class:`Selection`). Values in ns; views as in :mod:`pwmodel.fit.result`."""

from __future__ import annotations

import functools
import html
import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import polars as pl
from scipy import stats
from scipy.differentiate import jacobian

from pwmodel import dist as D
from pwmodel.errors import PwmodelError
from pwmodel.fit import families as FM
from pwmodel.fit.tickfam import TickMix
from pwmodel.fit.result import finish_report
from pwmodel.fit.sample import Sample

WIDTH = 72
FORMAT = "pwmodel-distfit"


def _g(x: float | None, w: int = 10) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-".rjust(w)
    return f"{x:.4g}".rjust(w)


@dataclass
class DistFit:
    """One fitted family: ``latency = shift_ns + X``, X from the family with ``values``."""

    family: str
    param_names: list[str]
    values: np.ndarray
    shift_ns: float
    shift_fitted: bool
    cov_t: np.ndarray
    loglik: float
    n: int
    n_censored: int
    ks_stat: float
    ks_p: float
    converged: bool
    ci_method: str
    level: float
    notes: list[str] = field(default_factory=list)
    boot: np.ndarray | None = None       # rows: shift_ns, then the values
    sample: Any = None                   # the fitted Sample (None after a JSON load w/o data)
    tick_ns: float | None = None         # fixed tick of the tick-capped families

    # ---- numbers -------------------------------------------------------------
    @property
    def fam(self) -> FM.AnyFamily:
        return FM.get(self.family, self.tick_ns)

    @property
    def params(self) -> dict[str, float]:
        return dict(zip(self.param_names, map(float, self.values)))

    @property
    def k(self) -> int:
        return len(self.param_names) + (1 if self.shift_fitted else 0)

    @property
    def aic(self) -> float:
        return 2 * self.k - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.k * math.log(self.n) - 2 * self.loglik

    def _z(self) -> float:
        return float(stats.norm.ppf(0.5 + self.level / 2))

    @property
    def stderr(self) -> dict[str, float]:
        """Standard errors in the parameters' units (bootstrap or delta method)."""
        if self.boot is not None and len(self.boot) > 1:
            out = dict(zip(self.param_names, np.std(self.boot[:, 1:], axis=0, ddof=1).tolist()))
            out["shift_ns"] = float(np.std(self.boot[:, 0], ddof=1)) if self.shift_fitted else 0.0
            return out
        se_t = np.sqrt(np.diag(self.cov_t))
        jac = np.abs(self.fam.from_t(self.fam.to_t(self.values) + 1e-6) - self.values) / 1e-6
        return dict(zip(self.param_names, (jac * se_t).tolist()))

    @property
    def ci(self) -> dict[str, tuple[float, float]]:
        """Intervals at ``level``: Wald in log/logit coordinates or bootstrap percentiles;
        the shift's from the law of the sample minimum under the fit (the bootstrap is
        inconsistent for an end point)."""
        a = (1 - self.level) / 2
        if self.boot is not None and len(self.boot) > 1:
            q = np.quantile(self.boot, [a, 1 - a], axis=0)
            out = {n: (float(q[0, j + 1]), float(q[1, j + 1])) for j, n in enumerate(self.param_names)}
        else:
            t = self.fam.to_t(self.values)
            se = np.sqrt(np.diag(self.cov_t))
            lo, hi = self.fam.from_t(t - self._z() * se), self.fam.from_t(t + self._z() * se)
            out = {n: (float(min(l_, h_)), float(max(l_, h_)))
                   for n, l_, h_ in zip(self.param_names, lo, hi)}
        if self.shift_fitted and self.sample is not None:
            out["shift_ns"] = self.shift_ci()
        return out

    def shift_ci(self) -> tuple[float, float]:
        """Interval of the shift from P(min - shift <= t) = 1 - (1 - F(t))^n (plug-in F)."""
        a = (1 - self.level) / 2
        x1 = float(np.min(self.sample.observed))
        ld = self.to_latency_dist(shift_ns=0.0)
        n = self.n
        t_hi = float(ld.quantile(1 - (a) ** (1 / n)))          # min - shift this large: rare
        t_lo = float(ld.quantile(1 - (1 - a) ** (1 / n)))
        return max(x1 - t_hi, 0.0), max(x1 - t_lo, 0.0)

    # ---- as a LatencyDist --------------------------------------------------------
    def to_latency_dist(self, values: np.ndarray | None = None, shift_ns: float | None = None,
                        name: str | None = None) -> D.LatencyDist:
        """The fit as a :class:`pwmodel.dist.LatencyDist` (plugs into Scenario(wake=...))."""
        v = self.values if values is None else values
        sh = self.shift_ns if shift_ns is None else shift_ns
        fam = self.fam
        nm = name or f"{self.family} fit"
        if isinstance(fam, TickMix):
            return D.LatencyDist([D.continuous(rv, w, lab) for w, rv, lab in fam.parts(v)],
                                 sh, nm)
        if isinstance(fam, FM.Mixture):
            w, a, b = fam.parts(v)
            return D.LatencyDist([D.continuous(a, w, f"{fam.base.name} 1"),
                                  D.continuous(b, 1 - w, f"{fam.base.name} 2")], sh, nm)
        return D.from_scipy(fam.build(*v), sh, nm, self.family)

    @functools.cached_property
    def dist(self) -> D.LatencyDist:
        """The fitted distribution (built once): quantiles, mean, E[max of n] and the rest of
        the :class:`pwmodel.dist.LatencyDist` interface; plugs into ``Scenario(wake=...)``."""
        return self.to_latency_dist()

    def draws(self, n: int = 400, seed: int = 0) -> np.ndarray:
        """Parameter draws (rows: shift, values...): the bootstrap, else from the Wald normal."""
        if self.boot is not None and len(self.boot) > 1:
            return self.boot
        if not np.all(np.isfinite(self.cov_t)):
            raise PwmodelError("no parameter uncertainty available for this fit", field="cov_t")
        rng = np.random.default_rng(seed)
        t = rng.multivariate_normal(self.fam.to_t(self.values), self.cov_t, size=n)
        v = self.fam.from_t(t)
        return np.column_stack([np.full(n, self.shift_ns), v])

    def quantity_ci(self, fn: Callable[[D.LatencyDist], float], n: int = 400
                    ) -> tuple[float, float, float]:
        """(estimate, low, high) of ``fn(latency_dist)`` at ``level`` from the parameter draws."""
        est = float(fn(self.dist))
        vals = np.array([fn(self.to_latency_dist(r[1:], r[0])) for r in self.draws(n)], dtype=float)
        vals = vals[np.isfinite(vals)]
        a = (1 - self.level) / 2
        lo, hi = np.quantile(vals, [a, 1 - a]) if vals.size else (math.nan, math.nan)
        return est, float(lo), float(hi)

    def quantile_ci(self, q: float, n: int = 400) -> tuple[float, float, float]:
        if self.boot is None and isinstance(self.fam, FM.Family):
            fam = self.fam
            # delta method on log(quantile - shift) in the log coordinates
            def lq(t: np.ndarray) -> np.ndarray:
                shapes, scale = fam.args(*np.exp(t))  # type: ignore[union-attr, misc]
                return np.log(fam.gen.ppf(q, *shapes, scale=scale))  # type: ignore[union-attr]
            t0 = fam.to_t(self.values)
            g = jacobian(lq, t0, initial_step=1e-3, maxiter=2, order=4).df
            sd = float(np.sqrt(g @ self.cov_t @ g))
            c = float(lq(t0))
            z = self._z()
            return (self.shift_ns + math.exp(c), self.shift_ns + math.exp(c - z * sd),
                    self.shift_ns + math.exp(c + z * sd))
        if self.boot is None and isinstance(self.fam, TickMix):
            # spread over the Wald draws from the CDF on a grid (one call per draw)
            est = float(self.dist.quantile(q))
            vals = np.array([r[0] + _quantile_grid(self.fam, r[1:], q) for r in self.draws(n)])
            vals = vals[np.isfinite(vals)]
            a = (1 - self.level) / 2
            lo, hi = np.quantile(vals, [a, 1 - a]) if vals.size else (math.nan, math.nan)
            return est, float(lo), float(hi)
        return self.quantity_ci(lambda ld: float(ld.quantile(q)), n)

    def emax_ci(self, n_cpus: int | float, n: int = 400) -> tuple[float, float, float]:
        """E[max of n_cpus draws] with its interval: the estimate from
        ``LatencyDist.expected_max_ns``, the spread over the parameter draws from a
        vectorised quadrature of 1 - F^n on a log grid (same integral, faster)."""
        est = float(self.dist.expected_max_ns(n_cpus))
        fam = self.fam
        vals = []
        for r in self.draws(n):
            vals.append(r[0] + _emax_grid(fam, r[1:], float(n_cpus)))
        a = (1 - self.level) / 2
        lo, hi = np.quantile(np.array(vals), [a, 1 - a])
        return est, float(lo), float(hi)

    # ---- views ---------------------------------------------------------------
    def report(self) -> str:
        L = [f"[[Distribution fit]] {self.family}" + ("" if self.converged else "  *** NOT CONVERGED ***"),
             f"    data       {getattr(self.sample, 'name', '?')}"[:WIDTH],
             f"    samples    {self.n}   censored {self.n_censored}   params {self.k}",
             f"    log-lik    {self.loglik:.6g}   AIC {self.aic:.6g}   BIC {self.bic:.6g}",
             f"    KS         D {self.ks_stat:.4f}   nominal p {self.ks_p:.3g}",
             f"[[Parameters]]  {int(round(self.level * 100))}% interval: {self.ci_method}",
             f"    {'name':<22}{'value':>10}{'stderr':>10}{'low':>10}{'high':>10}"]
        se, ci = self.stderr, self.ci
        rows = [("shift_ns", self.shift_ns)] + list(self.params.items())
        for n, v in rows:
            if n == "shift_ns" and not self.shift_fitted:
                L.append(f"    {n:<22}{_g(v)}{'(fixed)':>10}")
                continue
            lo, hi = ci.get(n, (None, None))
            L.append(f"    {n[:22]:<22}{_g(v)}{_g(se.get(n))}{_g(lo)}{_g(hi)}"[:WIDTH])
        if self.tick_ns is not None:
            L.append(f"    {'tick_ns':<22}{_g(self.tick_ns)}{'(fixed)':>10}")
        L.append("[[Quantiles]] ns")
        qs = [0.5, 0.9, 0.99, 0.999]
        L.append("    " + "".join(f"{'p' + format(q * 100, 'g'):>12}" for q in qs))
        L.append("    " + "".join(f"{float(self.dist.quantile(q)):>12.5g}" for q in qs))
        return finish_report(L, self.notes)

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.report())}</pre>"

    def plot(self, ax: Any = None, *, logx: bool = True) -> Any:
        """Empirical CDF of the samples with the fitted CDF (and its band when available)."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if self.sample is not None:
            x = np.sort(self.sample.observed)
            ax.step(x, np.arange(1, x.size + 1) / self.sample.n, where="post", label="measured ECDF")
            lo, hi = max(x.min() * 0.8, 1e-9), x.max() * 1.2
        else:
            lo, hi = (float(x) for x in self.dist.quantile(np.array([0.001, 0.999])))
        grid = np.geomspace(lo, hi, 300) if logx else np.linspace(lo, hi, 300)
        ax.plot(grid, self.dist.cdf(grid), label=f"fit: {self.family}")
        ax.set_xscale("log" if logx else "linear")
        ax.set_xlabel("latency_ns")
        ax.set_ylabel("CDF")
        ax.legend(fontsize=8)
        return ax

    # ---- JSON ----------------------------------------------------------------
    def to_dict(self, with_samples: bool = True) -> dict:
        s = self.sample
        return {"format": FORMAT, "version": 1, "family": self.family,
                "param_names": self.param_names, "values": self.values.tolist(),
                "shift_ns": self.shift_ns, "shift_fitted": self.shift_fitted,
                "cov_t": [[v if math.isfinite(v) else str(v) for v in r] for r in self.cov_t.tolist()],
                "loglik": self.loglik, "aic": self.aic, "bic": self.bic, "n": self.n,
                "n_censored": self.n_censored, "ks_stat": self.ks_stat, "ks_p": self.ks_p,
                "converged": bool(self.converged), "ci_method": self.ci_method, "level": self.level,
                "notes": self.notes, "tick_ns": self.tick_ns, "stderr": self.stderr,
                "ci": {k: list(v) for k, v in self.ci.items()},
                "quantiles_ns": {str(q): float(self.dist.quantile(q)) for q in (0.5, 0.9, 0.99, 0.999)},
                "boot": None if self.boot is None else self.boot.tolist(),
                "sample": None if (s is None or not with_samples) else {
                    "name": s.name, "values_ns": s.values_ns.tolist(), "censor_ns": s.censor_ns,
                    "n_censored": s.n_censored, "truncate_ns": s.truncate_ns,
                    "resolution_ns": s.resolution_ns}}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict, where: str = "<json>") -> "DistFit":
        if d.get("format") != FORMAT:
            raise PwmodelError(f"not a distribution fit (format '{FORMAT}')", file=where, field="format")
        sd = d.get("sample")
        smp = None if sd is None else Sample(np.asarray(sd["values_ns"], dtype=float), sd["name"],
                                             sd["censor_ns"], sd["n_censored"],
                                             None if sd["truncate_ns"] is None else tuple(sd["truncate_ns"]),
                                             sd["resolution_ns"], d.get("tick_ns"))
        return cls(family=d["family"], param_names=d["param_names"],
                   values=np.asarray(d["values"], dtype=float), shift_ns=d["shift_ns"],
                   shift_fitted=d["shift_fitted"],
                   cov_t=np.array([[float(v) for v in r] for r in d["cov_t"]], dtype=float),
                   loglik=d["loglik"], n=d["n"], n_censored=d["n_censored"], ks_stat=d["ks_stat"],
                   ks_p=d["ks_p"], converged=d["converged"], ci_method=d["ci_method"],
                   level=d["level"], notes=d["notes"],
                   boot=None if d.get("boot") is None else np.asarray(d["boot"], dtype=float),
                   sample=smp, tick_ns=d.get("tick_ns"))

    @classmethod
    def from_json(cls, text: str, where: str = "<json>") -> "DistFit":
        try:
            return cls.from_dict(json.loads(text), where)
        except json.JSONDecodeError as exc:
            raise PwmodelError(f"malformed JSON: {exc.msg}", file=where, line=exc.lineno) from None


def _quantile_grid(fam: FM.AnyFamily, v: np.ndarray, q: float) -> float:
    """q-quantile of X >= 0 from the CDF on a log grid of 4000 points (linear
    interpolation between them: relative error below 0.5 %), in ns."""
    x = np.concatenate([[0.0], np.geomspace(1e-3, 1e13, 4000)])
    c = np.maximum.accumulate(fam.cdf(v, x))
    j = int(np.searchsorted(c, q))
    if j == 0:
        return 0.0
    if j >= x.size:
        return math.inf
    c0, c1 = c[j - 1], c[j]
    return float(x[j - 1] + (x[j] - x[j - 1]) * (q - c0) / max(c1 - c0, 1e-300))


def _emax_grid(fam: FM.AnyFamily, v: np.ndarray, n: float) -> float:
    """integral_0^inf 1 - F(x)^n dx for X >= 0 on a log-spaced grid (trapezoid), in ns."""
    lo, hi = 1e-3, 1.0
    while float(fam.cdf(v, np.array([lo]))[0]) > 1e-12 and lo > 1e-12:
        lo /= 10.0
    while 1.0 - float(fam.cdf(v, np.array([hi]))[0]) ** n > 1e-9 and hi < 1e15:
        hi *= 2.0
    x = np.concatenate([[0.0], np.geomspace(lo, hi, 2000)])
    y = 1.0 - fam.cdf(v, x) ** n
    return float(np.trapezoid(y, x))


@dataclass
class Selection:
    """Every candidate family fitted to one sample, ranked by an information criterion."""

    fits: dict[str, DistFit]
    best: str
    criterion: str
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def best_fit(self) -> DistFit:
        return self.fits[self.best]

    def table(self) -> pl.DataFrame:
        """One row per candidate: k, log-likelihood, AIC, BIC, delta to the best, KS."""
        rows = []
        ref = getattr(self.best_fit, self.criterion)
        for f in sorted(self.fits.values(), key=lambda f: getattr(f, self.criterion)):
            rows.append({"family": f.family, "k": f.k, "loglik": f.loglik, "aic": f.aic,
                         "bic": f.bic, f"delta_{self.criterion}": getattr(f, self.criterion) - ref,
                         "ks_stat": f.ks_stat, "ks_p_nominal": f.ks_p, "converged": f.converged})
        return pl.DataFrame(rows)

    def report(self) -> str:
        L = [f"[[Family selection]] by {self.criterion.upper()}: best {self.best}",
             f"    {'family':<13}{'k':>3}{'log-lik':>11}{'AIC':>11}{'BIC':>11}{'KS D':>7}"
             f"{'KS p':>8}"]
        for r in self.table().iter_rows(named=True):
            mark = "*" if r["family"] == self.best else " "
            L.append(f"   {mark}{r['family']:<13}{r['k']:>3}{r['loglik']:>11.6g}{r['aic']:>11.6g}"
                     f"{r['bic']:>11.6g}{r['ks_stat']:>7.4f}{r['ks_p_nominal']:>8.2g}"[:WIDTH])
        for k, v in self.errors.items():
            L.append(f"    {k}: failed: {v}"[:WIDTH])
        b = self.best_fit
        if b.ks_p < 0.01:
            L.append("    note: even the best family fails the KS check (nominal p < 0.01)")
        return "\n".join(L) + "\n" + b.report()

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.report())}</pre>"

    def to_dict(self) -> dict:
        return {"format": "pwmodel-distselect", "version": 1, "criterion": self.criterion,
                "best": self.best, "errors": self.errors,
                "fits": {k: v.to_dict(with_samples=(k == self.best)) for k, v in self.fits.items()}}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str, where: str = "<json>") -> "Selection":
        d = json.loads(text)
        if d.get("format") != "pwmodel-distselect":
            raise PwmodelError("not a family selection", file=where, field="format")
        return cls({k: DistFit.from_dict(v, where) for k, v in d["fits"].items()}, d["best"],
                   d["criterion"], d.get("errors", {}))
