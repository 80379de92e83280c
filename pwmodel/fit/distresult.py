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
VERSION = 1   # of the fit JSON (FIT.json) and selection JSON formats; checked on reading


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
        return {"format": FORMAT, "version": VERSION, "family": self.family,
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
        """A fit from its JSON form, every field checked (one-line errors naming the field)."""
        d = _check_fit_dict(d, where)
        sd = d.get("sample")
        try:
            smp = None if sd is None else Sample(np.asarray(sd["values_ns"], dtype=float), str(sd["name"]),
                                                 sd["censor_ns"], int(sd["n_censored"]),
                                                 None if sd["truncate_ns"] is None else tuple(sd["truncate_ns"]),
                                                 sd["resolution_ns"], d.get("tick_ns"))
        except (KeyError, TypeError, ValueError) as exc:
            raise PwmodelError(f"field 'sample' is malformed ({type(exc).__name__}: {exc})",
                               file=where, field="sample") from None
        return cls(family=d["family"], param_names=list(d["param_names"]),
                   values=np.asarray(d["values"], dtype=float), shift_ns=float(d["shift_ns"]),
                   shift_fitted=bool(d["shift_fitted"]),
                   cov_t=np.array([[float(v) for v in r] for r in d["cov_t"]], dtype=float),
                   loglik=float(d["loglik"]), n=int(d["n"]), n_censored=int(d["n_censored"]),
                   ks_stat=float(d["ks_stat"]), ks_p=float(d["ks_p"]), converged=bool(d["converged"]),
                   ci_method=str(d["ci_method"]), level=float(d["level"]), notes=list(d.get("notes") or []),
                   boot=None if d.get("boot") is None else np.asarray(d["boot"], dtype=float),
                   sample=smp, tick_ns=d.get("tick_ns"))

    @classmethod
    def from_json(cls, text: str, where: str = "<json>") -> "DistFit":
        return cls.from_dict(_json_object(text, where), where)


def _json_object(text: str | bytes, where: str) -> dict:
    """Parse JSON text that must hold one object."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PwmodelError(f"malformed JSON: {exc.msg}", file=where, line=exc.lineno) from None
    except UnicodeDecodeError:
        raise PwmodelError("not UTF-8 text (malformed JSON)", file=where) from None
    if not isinstance(d, dict):
        raise PwmodelError(f"expected a JSON object, found a JSON {type(d).__name__}", file=where)
    return d


def _check_version(d: dict, fmt: str, where: str) -> None:
    if d.get("format") != fmt:
        raise PwmodelError(f"field 'format' must be '{fmt}', found {d.get('format')!r}",
                           file=where, field="format")
    v = d.get("version")
    if v is None:
        raise PwmodelError(f"missing field 'version' (this pwmodel reads version {VERSION})",
                           file=where, field="version")
    if v != VERSION or isinstance(v, bool):
        raise PwmodelError(f"unsupported version {v!r} (this pwmodel reads version {VERSION})",
                           file=where, field="version")


def _num(d: dict, k: str, where: str, *, finite: bool = True) -> None:
    v = d.get(k)
    if k not in d:
        raise PwmodelError(f"missing field '{k}'", file=where, field=k)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (finite and not math.isfinite(v)):
        raise PwmodelError(f"field '{k}' must be a{' finite' if finite else ''} number, found {v!r}",
                           file=where, field=k)


def _check_fit_dict(d: Any, where: str) -> dict:
    """Validate the JSON form of a :class:`DistFit` (version, family, shapes, numbers)."""
    if not isinstance(d, dict):
        raise PwmodelError(f"expected a JSON object for a fit, found {type(d).__name__}", file=where)
    _check_version(d, FORMAT, where)
    if not isinstance(d.get("family"), str):
        raise PwmodelError(f"field 'family' must be a family name, found {d.get('family')!r}",
                           file=where, field="family")
    tick = d.get("tick_ns")
    if tick is not None and (isinstance(tick, bool) or not isinstance(tick, (int, float))
                             or not math.isfinite(tick) or tick <= 0):
        raise PwmodelError(f"field 'tick_ns' must be a number > 0 or null, found {tick!r}",
                           file=where, field="tick_ns")
    if d["family"] in FM.TICK_FAMILIES and tick is None:
        raise PwmodelError(f"family '{d['family']}' needs field 'tick_ns'", file=where, field="tick_ns")
    try:
        fam = FM.get(d["family"], tick)
    except PwmodelError as exc:
        raise PwmodelError(exc.message, file=where, field="family") from None
    k = len(fam.params)
    names = d.get("param_names")
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names) or len(names) != k:
        raise PwmodelError(f"field 'param_names' must list the {k} parameters of '{d['family']}', "
                           f"found {names!r}", file=where, field="param_names")
    vals = d.get("values")
    if not isinstance(vals, list) or len(vals) != k or not all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vals):
        raise PwmodelError(f"field 'values' must hold {k} finite numbers for '{d['family']}', "
                           f"found {str(vals)[:80]}", file=where, field="values")
    with np.errstate(all="ignore"):
        t = fam.to_t(np.asarray(vals, dtype=float))
    if not np.all(np.isfinite(t)):
        raise PwmodelError(f"field 'values' {vals} outside the family's domain (scales > 0, weights "
                           "in (0, 1))", file=where, field="values")
    cov = d.get("cov_t")
    ok = isinstance(cov, list) and len(cov) in (k, k + 1) and all(
        isinstance(r, list) and len(r) == len(cov) for r in cov)
    if ok:
        try:
            np.array([[float(v) for v in r] for r in cov], dtype=float)
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise PwmodelError(f"field 'cov_t' must be a square {k} x {k} matrix of numbers, found "
                           f"{str(cov)[:80]}", file=where, field="cov_t")
    for key in ("shift_ns", "level"):
        _num(d, key, where)
    if not d["shift_ns"] >= 0:
        raise PwmodelError(f"field 'shift_ns' must be >= 0, found {d['shift_ns']!r}", file=where,
                           field="shift_ns")
    if not 0 < d["level"] < 1:
        raise PwmodelError(f"field 'level' must be in (0, 1), found {d['level']!r}", file=where,
                           field="level")
    for key in ("loglik", "ks_stat", "ks_p"):
        _num(d, key, where, finite=False)
    for key in ("n", "n_censored"):
        v = d.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise PwmodelError(f"field '{key}' must be an integer >= 0, found {v!r}", file=where,
                               field=key)
    for key in ("shift_fitted", "converged"):
        if not isinstance(d.get(key), bool):
            raise PwmodelError(f"field '{key}' must be true or false, found {d.get(key)!r}",
                               file=where, field=key)
    if not isinstance(d.get("ci_method"), str):
        raise PwmodelError(f"field 'ci_method' must be text, found {d.get('ci_method')!r}",
                           file=where, field="ci_method")
    boot = d.get("boot")
    if boot is not None:
        try:
            b = np.asarray(boot, dtype=float)
        except (TypeError, ValueError):
            b = None
        if b is None or b.ndim != 2 or b.shape[1] != k + 1:
            raise PwmodelError(f"field 'boot' must be rows of {k + 1} numbers (shift, values)",
                               file=where, field="boot")
    return d


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
        return {"format": "pwmodel-distselect", "version": VERSION, "criterion": self.criterion,
                "best": self.best, "errors": self.errors,
                "fits": {k: v.to_dict(with_samples=(k == self.best)) for k, v in self.fits.items()}}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str, where: str = "<json>") -> "Selection":
        d = _json_object(text, where)
        _check_version(d, "pwmodel-distselect", where)
        fits = d.get("fits")
        if not isinstance(fits, dict) or not fits:
            raise PwmodelError("field 'fits' must be a non-empty table of family -> fit",
                               file=where, field="fits")
        if not isinstance(d.get("best"), str) or d["best"] not in fits:
            raise PwmodelError(f"field 'best' names no fit in 'fits', found {d.get('best')!r} "
                               f"(fits: {', '.join(map(str, fits))})", file=where, field="best")
        if d.get("criterion") not in ("bic", "aic"):
            raise PwmodelError(f"field 'criterion' must be bic or aic, found {d.get('criterion')!r}",
                               file=where, field="criterion")
        errors = d.get("errors", {})
        if not isinstance(errors, dict):
            raise PwmodelError("field 'errors' must be a table", file=where, field="errors")
        out = {}
        for k, v in fits.items():
            try:
                out[k] = DistFit.from_dict(v, where)
            except PwmodelError as exc:
                raise PwmodelError(exc.message, file=where, field=f"fits.{k}.{exc.field}"
                                   if exc.field else f"fits.{k}") from None
        return cls(out, d["best"], d["criterion"], errors)
