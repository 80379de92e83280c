"""Maximum-likelihood fits of latency distributions (wake-up, queue->start, gaps), in ns.

:func:`fit_dist` fits one family (:mod:`pwmodel.fit.families`) to a
:class:`Sample`: observed values, optionally right-censored (values at or
above ``censor_ns``, plus ``n_censored`` items never seen to finish),
truncated (only values inside ``truncate_ns`` can be recorded) or binned
(clock resolution ``resolution_ns``). The lower end ``shift_ns`` is fixed
or estimated by Cohen's modified maximum likelihood (F(x_min - shift) =
1 / (n + 1)), which avoids the unbounded likelihood of threshold families.

Intervals: ``wald`` (inverse observed information from
``scipy.differentiate.hessian`` in log/logit coordinates, so intervals of
positive values stay positive; conditional on the shift) or ``bootstrap``
(nonparametric resampling, shift refitted each time, percentile intervals).
:func:`select_family` fits every candidate and ranks them by BIC (or AIC)
with a Kolmogorov-Smirnov check; :mod:`pwmodel.fit.distresult` holds the
result object.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
from scipy import optimize, stats
from scipy.differentiate import hessian

from pwmodel.errors import PwmodelError
from pwmodel.fit import families as FM
from pwmodel.fit.distresult import DistFit, Selection
from pwmodel.fit.sample import MIN_SAMPLES, Sample, sample

DEFAULT_FAMILIES = ("lognorm", "gamma", "weibull", "expon", "mix2_lognorm", "tick_lognorm",
                    "tick3_lognorm")


# ---- likelihood --------------------------------------------------------------
def nll(fam: FM.AnyFamily, v: np.ndarray, shift: float, s: Sample) -> float:
    """Negative log-likelihood of natural parameters ``v`` at ``shift`` (ns)."""
    x = s.observed - shift
    with np.errstate(all="ignore"):
        if s.resolution_ns > 0:
            h = s.resolution_ns / 2
            p = FM.cdf(fam, v, x + h) - FM.cdf(fam, v, np.maximum(x - h, 0.0))
            ll = float(np.sum(np.log(np.maximum(p, 1e-300))))
        else:
            ll = float(np.sum(fam.logpdf(v, x)))
        nc = s.n_cens_total
        if nc:
            ll += nc * float(FM.logsf(fam, v, np.array([s.censor_ns - shift]))[0])
        if s.truncate_ns is not None:
            lo, hi = s.truncate_ns
            mass = FM.cdf(fam, v, np.array([hi - shift, max(lo - shift, 0.0)]))
            ll -= x.size * math.log(max(float(mass[0] - mass[1]), 1e-300))
    return -ll if math.isfinite(ll) else math.inf


def _fit_at(fam: FM.AnyFamily, shift: float, s: Sample,
            start: np.ndarray | None = None) -> tuple[np.ndarray, bool, str]:
    """ML parameters at a fixed shift: exact scipy MLE for plain data, else L-BFGS-B."""
    x = s.observed - shift
    if s.plain and getattr(fam, "mle", None) is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xx = np.maximum(x, 1e-12 * max(float(np.median(x)), 1.0))
            v = fam.mle(xx, start) if isinstance(fam, FM.Mixture) else fam.mle(xx)  # type: ignore[misc]
        if np.all(np.isfinite(v)) and np.all(v > 0):
            return v, True, "closed form / scipy MLE / EM"
    v0 = start if start is not None else (fam.mle(np.maximum(x, 1e-9)) if getattr(fam, "mle", None)
                                          else fam.start(np.maximum(x, 1e-9)))
    t0 = fam.to_t(v0)
    f = lambda t: nll(fam, fam.from_t(t), shift, s)  # noqa: E731
    best = optimize.minimize(f, t0, method="L-BFGS-B")
    if not best.success:  # polish or rescue with the derivative-free simplex
        r = optimize.minimize(f, best.x if math.isfinite(best.fun) else t0, method="Nelder-Mead",
                              options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6})
        if r.fun <= best.fun:
            best = r
    ok = bool(best.success) and math.isfinite(best.fun)
    return fam.from_t(best.x), ok, str(best.message)


def _fit_shift(fam: FM.AnyFamily, s: Sample) -> float:
    """Cohen's modified ML threshold: the shift where F(x_min - shift) = 1 / (n + 1)."""
    obs = s.observed
    x1 = float(obs.min())
    med = float(np.median(obs))
    target = 1.0 / (s.n + 1)
    eps = max(1e-6 * (med - x1), 1e-9)
    warm: list[np.ndarray | None] = [None]

    def g(sh: float) -> float:
        v, ok, _ = _fit_at(fam, sh, s, warm[0])
        if ok:
            warm[0] = v
        return float(FM.cdf(fam, v, np.array([x1 - sh]))[0]) - target
    if x1 <= eps:
        return 0.0
    if fam.name == "expon" and s.plain:  # closed form: x1 - s = (mean - s) ln((n+1)/n)
        el = math.log((s.n + 1) / s.n)
        return min(max((x1 - float(np.mean(obs)) * el) / (1 - el), 0.0), x1 - eps)
    g0 = g(0.0)
    if g0 <= 0:
        return 0.0
    hi = x1 - eps
    ghi = g(hi)
    if ghi >= 0:
        r = optimize.minimize_scalar(lambda sh: nll(fam, _fit_at(fam, sh, s)[0], sh, s),
                                     bounds=(0.0, hi), method="bounded")
        return float(r.x)
    return float(optimize.brentq(g, 0.0, hi, xtol=1e-4 * max(med - x1, 1.0), rtol=1e-8))


def _wald_cov(fam: FM.AnyFamily, v: np.ndarray, shift: float, s: Sample) -> np.ndarray:
    """Inverse observed information in transformed coordinates (conditional on shift)."""
    def f(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t)
        flat = t.reshape(t.shape[0], -1)
        out = np.array([nll(fam, fam.from_t(c), shift, s) for c in flat.T])
        return out.reshape(t.shape[1:])
    with np.errstate(all="ignore"):
        h = hessian(f, fam.to_t(v), maxiter=1, order=4, initial_step=0.01).ddf
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return np.full_like(h, np.inf)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
        return np.full_like(h, np.inf)
    return cov


def _core(fam: FM.AnyFamily, s: Sample, shift_ns: float | str) -> tuple[float, np.ndarray, bool, str]:
    if isinstance(shift_ns, str):
        if shift_ns != "fit":
            raise PwmodelError(f"shift_ns must be a number or 'fit', found '{shift_ns}'",
                               field="shift_ns")
        sh = _fit_shift(fam, s)
    else:
        sh = float(shift_ns)
        if not math.isfinite(sh) or sh < 0 or sh >= float(s.observed.min()):
            raise PwmodelError(f"fixed shift {sh:g} ns must be in [0, smallest sample "
                               f"{float(s.observed.min()):g} ns)", file=s.name, field="shift_ns")
    v, ok, msg = _fit_at(fam, sh, s)
    if isinstance(fam, FM.Mixture):
        k = fam.k
        a, b = fam.parts(v)[1:]
        if a.median() > b.median():  # type: ignore[attr-defined]
            v = np.concatenate([[1 - v[0]], v[1 + k:], v[1:1 + k]])
    return sh, v, ok, msg


def fit_dist(s: Sample, family: str = "lognorm", *, shift_ns: float | str = "fit",
             ci: str = "wald", level: float = 0.95, n_boot: int = 1000, seed: int = 0) -> DistFit:
    """Fit one family to ``s``; returns a :class:`DistFit` (never prints)."""
    fam = FM.get(family, s.tick_ns)
    if ci not in ("wald", "bootstrap", "none"):
        raise PwmodelError(f"ci must be wald, bootstrap or none, found '{ci}'", field="ci")
    k_free = len(fam.params) + (1 if shift_ns == "fit" else 0)
    if s.observed.size <= k_free + 1:
        raise PwmodelError(f"{s.observed.size} uncensored sample(s) for {k_free} parameters",
                           file=s.name)
    sh, v, ok, msg = _core(fam, s, shift_ns)
    notes: list[str] = []
    if not ok:
        notes.append(f"NOT CONVERGED ({family}): {msg}")
    ll = -nll(fam, v, sh, s)
    cov = _wald_cov(fam, v, sh, s) if ci != "none" else np.full((v.size, v.size), np.nan)
    if ci != "none" and not np.all(np.isfinite(cov)):
        notes.append("observed information not invertible: Wald errors unavailable")
    boot = None
    if ci == "bootstrap":
        if n_boot < 50:
            raise PwmodelError(f"a bootstrap needs >= 50 resamples, found {n_boot}", field="n_boot")
        rng = np.random.default_rng(seed)
        rows = []
        for _ in range(n_boot):
            rs = s.resample(rng)
            try:
                bsh, bv, _, _ = _core(fam, rs, shift_ns if not isinstance(shift_ns, str)
                                      else "fit")
            except (PwmodelError, ValueError, RuntimeError):
                continue
            rows.append(np.concatenate([[bsh], bv]))
        boot = np.array(rows)
        if len(rows) < 0.9 * n_boot:
            notes.append(f"{n_boot - len(rows)} of {n_boot} bootstrap refits failed")
    if isinstance(shift_ns, str):
        notes.append("shift by modified ML (F(x_min - shift) = 1/(n+1))"
                     + ("; Wald intervals are conditional on it" if ci == "wald" else ""))
    ks = _ks(fam, v, sh, s)
    return DistFit(family=family, param_names=list(fam.params), values=v, shift_ns=sh,
                   shift_fitted=isinstance(shift_ns, str), cov_t=cov, loglik=ll, n=s.n,
                   n_censored=s.n_cens_total, ks_stat=ks[0], ks_p=ks[1], converged=ok,
                   ci_method=ci, level=level, notes=notes, boot=boot, sample=s,
                   tick_ns=getattr(fam, "tick_ns", None))


def _ks(fam: FM.AnyFamily, v: np.ndarray, sh: float, s: Sample) -> tuple[float, float]:
    """KS distance of the uncensored values to the fitted CDF (conditioned on the
    censoring/truncation window); the p-value is nominal (parameters were estimated)."""
    x = np.sort(s.observed)
    lo = s.truncate_ns[0] if s.truncate_ns else 0.0
    hi = s.truncate_ns[1] if s.truncate_ns else (s.censor_ns if s.n_cens_total else math.inf)
    f_lo = float(FM.cdf(fam, v, np.array([max(lo - sh, 0.0)]))[0])
    f_hi = float(FM.cdf(fam, v, np.array([hi - sh]))[0]) if math.isfinite(hi) else 1.0
    mass = max(f_hi - f_lo, 1e-300)
    cdf = lambda z: (FM.cdf(fam, v, np.asarray(z) - sh) - f_lo) / mass  # noqa: E731
    if s.resolution_ns > 0:
        x = x + np.random.default_rng(0).uniform(-s.resolution_ns / 2, s.resolution_ns / 2, x.size)
    r = stats.kstest(x, cdf)
    return float(r.statistic), float(r.pvalue)


def select_family(s: Sample, families: Sequence[str] = DEFAULT_FAMILIES, *,
                  criterion: str = "bic", shift_ns: float | str = "fit", ci: str = "wald",
                  level: float = 0.95, n_boot: int = 1000, seed: int = 0) -> Selection:
    """Fit every candidate family; the best minimises ``criterion`` (bic or aic) among
    converged fits. Bootstrap intervals, if asked, are computed for the winner only."""
    if criterion not in ("bic", "aic"):
        raise PwmodelError(f"criterion must be bic or aic, found '{criterion}'", field="criterion")
    fits: dict[str, DistFit] = {}
    errors: dict[str, str] = {}
    for fam in families:
        if fam in FM.TICK_FAMILIES and s.tick_ns is None:
            errors[fam] = "skipped: the sample has no tick_ns (1e9 / HZ)"
            continue
        try:
            fits[fam] = fit_dist(s, fam, shift_ns=shift_ns, ci="wald" if ci != "none" else "none",
                                 level=level)
        except (PwmodelError, ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            errors[fam] = str(exc)
    ok = [f for f in fits.values() if f.converged and math.isfinite(getattr(f, criterion))]
    if not ok:
        raise PwmodelError("no candidate family could be fitted: " +
                           "; ".join(f"{k}: {v}" for k, v in errors.items()), file=s.name)
    best = min(ok, key=lambda f: getattr(f, criterion))
    if ci == "bootstrap":
        best = fit_dist(s, best.family, shift_ns=shift_ns, ci="bootstrap", level=level,
                        n_boot=n_boot, seed=seed)
        fits[best.family] = best
    return Selection(fits=fits, best=best.family, criterion=criterion, errors=errors)
