"""Least-squares fitting of one or several (model, data) pairs with shared parameters.

:func:`fit` minimises the stacked, weighted residuals of every pair with
``scipy.optimize.least_squares`` (bounds from the parameters, optional robust
loss). A parameter name used by several models is one shared unknown: this is
how one set of hardware constants is fitted jointly to several datasets.

Uncertainty (all at ``level``, default 95 %):

* ``wald``: covariance s^2 (J^T J)^-1 (s^2 from the residuals when sigma is
  unknown), Student-t intervals with n - k degrees of freedom;
* ``profile``: each parameter is fixed on a grid and the others refitted;
  the interval is where the profiled sum of squares stays below
  S_min (1 + F(1, n-k; level) / (n-k)) (sigma unknown) or chi^2_min +
  chi^2(1; level) (sigma known) -- Bates and Watts' likelihood interval;
* ``bootstrap``: residual bootstrap (centred, leverage-free residuals scaled
  by sqrt(n / (n - k))), refit per resample, percentile intervals.

With several datasets and unknown sigma, each dataset gets its own noise
level (two-stage: unweighted fit, per-dataset s_i, weighted refit).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy import optimize, stats

from pwmodel.errors import PwmodelError
from pwmodel.fit.model import Data, Model, check_pair, spread_ok
from pwmodel.fit.parameters import Parameters
from pwmodel.fit.result import FitResult

CI_METHODS = ("wald", "profile", "bootstrap", "none")
LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")


def _pairs(model: Model | Sequence[tuple[Model, Data]], data: Data | None) -> list[tuple[Model, Data]]:
    if isinstance(model, Model):
        if data is None:
            raise PwmodelError("fit(model, data): no data given")
        return [(model, data)]
    pairs = list(model)
    if not pairs or not all(isinstance(m, Model) and isinstance(d, Data) for m, d in pairs):
        raise PwmodelError("fit() takes a Model and Data, or a list of (Model, Data) pairs")
    return pairs


class _Problem:
    """Stacked residuals of all pairs as a function of the free-parameter vector."""

    def __init__(self, pairs: list[tuple[Model, Data]], params: Parameters) -> None:
        self.pairs = pairs
        self.params = params
        self.free = params.free
        self.n = sum(d.n for _, d in pairs)
        self.scale = np.ones(len(pairs))      # per-dataset noise (estimated when unknown)
        self.known_sigma = all(d.sigma is not None for _, d in pairs)

    def predict(self, x: np.ndarray, ys: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
        pv = self.params.with_vector(x)
        return [m(d.x, pv) for m, d in self.pairs]

    def resid(self, x: np.ndarray, ys: Sequence[np.ndarray] | None = None) -> np.ndarray:
        pv = self.params.with_vector(x)
        out = []
        for i, (m, d) in enumerate(self.pairs):
            y = d.y if ys is None else ys[i]
            w = d.sigma if d.sigma is not None else self.scale[i]
            r = (y - m(d.x, pv)) / w
            out.append(r)
        r = np.concatenate(out)
        return np.where(np.isfinite(r), r, 1e30)

    def solve(self, x0: np.ndarray, ys=None, loss: str = "linear", f_scale: float = 1.0,
              fixed: tuple[int, float] | None = None, max_nfev: int | None = None):
        lo, hi = self.params.bounds()
        if fixed is not None:
            j, v = fixed
            keep = np.arange(x0.size) != j

            def f(z: np.ndarray) -> np.ndarray:
                full = np.insert(z, j, v)
                return self.resid(full, ys)
            z0 = np.clip(x0[keep], lo[keep], hi[keep])
            r = optimize.least_squares(f, z0, bounds=(lo[keep], hi[keep]), x_scale="jac",
                                       loss=loss, f_scale=f_scale, max_nfev=max_nfev)
            r.x = np.insert(r.x, j, v)
            return r
        return optimize.least_squares(lambda z: self.resid(z, ys), np.clip(x0, lo, hi),
                                      bounds=(lo, hi), x_scale="jac", loss=loss, f_scale=f_scale,
                                      max_nfev=max_nfev)


def _check(pairs: list[tuple[Model, Data]], params: Parameters) -> None:
    for m, d in pairs:
        check_pair(m, d)
        for n in m.param_names:
            if n not in params:
                raise PwmodelError(f"model '{m.name}' needs parameter '{n}', not in the "
                                   "Parameters given", field=n)
    k = len(params.free)
    n = sum(d.n for _, d in pairs)
    if k == 0:
        raise PwmodelError("no free parameter to fit (all are fixed)")
    if n <= k:
        raise PwmodelError(f"{n} data point(s) for {k} free parameter(s): need more points than "
                           f"parameters ({', '.join(params.free)})",
                           file=", ".join(d.name for _, d in pairs))
    for _, d in pairs:
        if d.sigma is None and not spread_ok(d.y):
            raise PwmodelError(f"'{d.y_name}' is constant ({d.y[0]:g}): no spread to estimate "
                               "an uncertainty from; give sigma or more varied data",
                               file=d.name, field=d.y_name)


def fit(model: Model | Sequence[tuple[Model, Data]], data: Data | None = None,
        params: Parameters | None = None, *, ci: str = "profile", level: float = 0.95,
        loss: str = "linear", f_scale: float = 1.0, n_boot: int = 1000, seed: int = 0,
        max_nfev: int | None = None) -> FitResult:
    """Fit and return a :class:`FitResult` (never prints; non-convergence is in the result)."""
    pairs = _pairs(model, data)
    if params is None:
        params = Parameters()
        for m, _ in pairs:
            for n, p in m.make_params().items():
                if n not in params:
                    params.add(p)
    params = params.copy()
    if ci not in CI_METHODS:
        raise PwmodelError(f"ci must be one of {', '.join(CI_METHODS)}, found '{ci}'", field="ci")
    if loss not in LOSSES:
        raise PwmodelError(f"loss must be one of {', '.join(LOSSES)}, found '{loss}'", field="loss")
    if not 0.5 <= level < 1:
        raise PwmodelError(f"confidence level must be in [0.5, 1), found {level}", field="level")
    _check(pairs, params)
    prob = _Problem(pairs, params)
    x0 = params.vector()
    res = prob.solve(x0, loss=loss, f_scale=f_scale, max_nfev=max_nfev)
    if not prob.known_sigma and len(pairs) > 1:
        fits = prob.predict(res.x)
        for i, (_, d) in enumerate(pairs):
            if d.sigma is None:
                r = d.y - fits[i]
                prob.scale[i] = max(float(np.sqrt(np.mean(r ** 2))), 1e-12 * max(1.0, np.abs(d.y).max()))
        res = prob.solve(res.x, loss=loss, f_scale=f_scale, max_nfev=max_nfev)
    k, n = len(prob.free), prob.n
    dof = n - k
    r = prob.resid(res.x)
    chisqr = float(np.sum(r ** 2))
    s2 = 1.0 if prob.known_sigma else chisqr / dof
    notes: list[str] = []
    converged = bool(res.success) and res.status > 0 and np.all(np.isfinite(res.x))
    if not converged:
        notes.append(f"NOT CONVERGED: {res.message}")
    cov, ident = _covariance(res.jac, s2)
    for j in np.nonzero(~ident)[0]:
        notes.append(f"parameter '{prob.free[j]}' is not identifiable from these data")
    fitted = params.copy()
    for name, v in zip(prob.free, res.x):
        fitted[name].value = float(v)
    for j, name in enumerate(prob.free):
        fitted[name].stderr = float(math.sqrt(cov[j, j])) if ident[j] else math.inf
        if fitted[name].at_bound():
            notes.append(f"parameter '{name}' at a bound: its interval is unreliable")
    if loss != "linear":
        notes.append(f"robust loss '{loss}' (f_scale {f_scale:g}): Wald errors approximate")
    boot = None
    method = ci
    if ci == "wald" or (ci != "none" and not converged):
        method = "wald"
        _wald_ci(fitted, prob.free, dof, level, prob.known_sigma)
    elif ci == "profile":
        _wald_ci(fitted, prob.free, dof, level, prob.known_sigma)
        _profile_ci(prob, res.x, chisqr, fitted, dof, level, loss, f_scale)
    elif ci == "bootstrap":
        boot = _bootstrap(prob, res.x, fitted, n_boot, seed, level, loss, f_scale)
    return FitResult(
        pairs=pairs, params=fitted, free=list(prob.free), covar=cov, converged=converged,
        message=str(res.message), nfev=int(res.nfev), chisqr=chisqr, ndata=n, dof=dof,
        scale=prob.scale.tolist(), known_sigma=prob.known_sigma, ci_method=method,
        level=level, loss=loss, notes=notes, boot=boot)


def _covariance(jac: np.ndarray, s2: float) -> tuple[np.ndarray, np.ndarray]:
    """s^2 (J^T J)^-1 by SVD; columns in the null space are marked non-identifiable."""
    k = jac.shape[1]
    _, sv, vt = np.linalg.svd(jac, full_matrices=False)
    tol = max(jac.shape) * np.finfo(float).eps * (sv[0] if sv.size else 0.0)
    good = sv > max(tol, 1e-300)
    inv = (vt[good].T / sv[good] ** 2) @ vt[good]
    ident = np.ones(k, dtype=bool)
    if not np.all(good):
        null = vt[~good]
        ident = np.max(np.abs(null), axis=0) < 1e-6
    cov = s2 * inv
    cov[~ident, :] = np.nan
    cov[:, ~ident] = np.nan
    for j in np.nonzero(~ident)[0]:
        cov[j, j] = math.inf
    return cov, ident


def _tq(dof: int, level: float, known: bool) -> float:
    return float(stats.norm.ppf(0.5 + level / 2) if known else stats.t.ppf(0.5 + level / 2, dof))


def _wald_ci(p: Parameters, free: list[str], dof: int, level: float, known: bool) -> None:
    t = _tq(dof, level, known)
    for n in free:
        se = p[n].stderr
        v = p[n].value
        if se is None or not math.isfinite(se):
            p[n].ci = (-math.inf, math.inf)
        else:
            p[n].ci = (max(v - t * se, p[n].min), min(v + t * se, p[n].max))


def _profile_ci(prob: _Problem, xhat: np.ndarray, chi0: float, p: Parameters, dof: int,
                level: float, loss: str, f_scale: float) -> None:
    if prob.known_sigma:
        target = chi0 + float(stats.chi2.ppf(level, 1))
    else:
        target = chi0 * (1.0 + float(stats.f.ppf(level, 1, dof)) / dof)
    lo_b, hi_b = prob.params.bounds()
    tq = _tq(dof, level, prob.known_sigma)
    for j, name in enumerate(prob.free):
        se = p[name].stderr
        step = tq * se if se is not None and math.isfinite(se) and se > 0 \
            else max(abs(xhat[j]) * 0.1, 1e-6)
        warm = [xhat.copy()]

        def excess(v: float, j: int = j) -> float:
            if len(prob.free) == 1:
                r = prob.resid(np.array([v]))
            else:
                sol = prob.solve(warm[0], fixed=(j, v), loss=loss, f_scale=f_scale)
                warm[0] = sol.x
                r = sol.fun
            return float(np.sum(r ** 2)) - target
        ends = []
        for sign, bound in ((-1, lo_b[j]), (1, hi_b[j])):
            warm[0] = xhat.copy()
            a, fa = xhat[j], chi0 - target
            end = sign * math.inf
            for mult in (1.0, 1.5, 2.5, 5.0, 10.0, 30.0):   # start at the Wald end point
                b = xhat[j] + sign * mult * step
                if (sign < 0 and b <= bound) or (sign > 0 and b >= bound):
                    b = bound
                fb = excess(b)
                if fb > 0:
                    end = optimize.brentq(excess, min(a, b), max(a, b), xtol=2e-3 * step)
                    break
                if b == bound:
                    end = bound
                    break
                a, fa = b, fb
            ends.append(float(end))
        p[name].ci = (ends[0], ends[1])


def _bootstrap(prob: _Problem, xhat: np.ndarray, p: Parameters, n_boot: int, seed: int,
               level: float, loss: str, f_scale: float) -> np.ndarray:
    """Residual bootstrap: an (n_boot, k) array of refitted free-parameter vectors."""
    if n_boot < 50:
        raise PwmodelError(f"a bootstrap needs >= 50 resamples, found {n_boot}", field="n_boot")
    rng = np.random.default_rng(seed)
    fits = prob.predict(xhat)
    k = len(prob.free)
    res = []
    for i, (_, d) in enumerate(prob.pairs):
        r = d.y - fits[i]
        r = (r - r.mean()) * math.sqrt(prob.n / max(prob.n - k, 1))
        res.append(r)
    draws = np.empty((n_boot, k))
    for b in range(n_boot):
        ys = [fits[i] + rng.choice(res[i], size=res[i].size, replace=True)
              for i in range(len(prob.pairs))]
        draws[b] = prob.solve(xhat, ys=ys, loss=loss, f_scale=f_scale).x
    a = (1 - level) / 2
    for j, name in enumerate(prob.free):
        lo, hi = np.quantile(draws[:, j], [a, 1 - a])
        p[name].ci = (float(lo), float(hi))
        p[name].stderr = float(np.std(draws[:, j], ddof=1))
    return draws
