"""The result of a least-squares fit: values, errors, intervals, diagnostics, views.

:class:`FitResult` carries the data and models it was fitted to, the fitted
:class:`~pwmodel.fit.parameters.Parameters` (value, standard error, interval
and the method that gave it), the correlation matrix, residuals, the
Gaussian log-likelihood with AIC and BIC (no R^2: it means nothing for a
nonlinear fit), a fixed-width ASCII ``report()``, ``_repr_html_`` for
notebooks, ``plot()`` (measurements and prediction bands on one axes), a
JSON round trip, and ``predict()`` with confidence and prediction bands.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import polars as pl
import sympy as sp
from scipy import stats

from pwmodel.errors import PwmodelError
from pwmodel.fit.model import Data, Model
from pwmodel.fit.parameters import Parameters

WIDTH = 72


def finish_report(lines: list[str], notes: list[str] | tuple[str, ...]) -> str:
    """Append a [[Notes]] section (words wrapped at WIDTH) and return ASCII text."""
    L = list(lines)
    if notes:
        L.append("[[Notes]]")
        for note in notes:
            line = "    "
            for w in note.split():
                if len(line) + len(w) + 1 > WIDTH:
                    L.append(line.rstrip())
                    line = "      "
                line += w + " "
            L.append(line.rstrip())
    return "\n".join(s.encode("ascii", "replace").decode() for s in L)
FORMAT = "pwmodel-fit"


def _g(x: float | None, w: int = 10) -> str:
    if x is None:
        return "-".rjust(w)
    if isinstance(x, float) and math.isinf(x):
        return ("inf" if x > 0 else "-inf").rjust(w)
    return f"{x:.4g}".rjust(w)


@dataclass
class FitResult:
    """Everything a fit produced (see module docstring). Values in the parameters' units."""

    pairs: list[tuple[Model | None, Data]]
    params: Parameters
    free: list[str]
    covar: np.ndarray
    converged: bool
    message: str
    nfev: int
    chisqr: float
    ndata: int
    dof: int
    scale: list[float]
    known_sigma: bool
    ci_method: str
    level: float
    loss: str = "linear"
    notes: list[str] = field(default_factory=list)
    boot: np.ndarray | None = None

    # ---- numbers -------------------------------------------------------------
    @property
    def values(self) -> dict[str, float]:
        return self.params.values()

    @property
    def stderr(self) -> dict[str, float | None]:
        return {n: self.params[n].stderr for n in self.free}

    @property
    def ci(self) -> dict[str, tuple[float, float] | None]:
        return {n: self.params[n].ci for n in self.free}

    @property
    def correl(self) -> np.ndarray:
        """Correlation matrix of the free parameters (order of ``free``)."""
        d = np.sqrt(np.diag(self.covar))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covar / np.outer(d, d)

    def residuals(self, i: int | None = None) -> np.ndarray:
        """Measured minus fitted, in the unit of y (all datasets stacked, or dataset ``i``)."""
        pv = self.values
        out = [d.y - m(d.x, pv) for m, d in self._live(i)]
        return np.concatenate(out)

    def _live(self, i: int | None = None) -> list[tuple[Model, Data]]:
        pairs = self.pairs if i is None else [self.pairs[i]]
        if any(m is None for m, _ in pairs):
            raise PwmodelError("this result was loaded from JSON with a Python-function model; "
                               "refit to evaluate it")
        return pairs  # type: ignore[return-value]

    @property
    def loglik(self) -> float:
        """Gaussian log-likelihood at the optimum (sigma estimated by ML when unknown)."""
        n = self.ndata
        if self.known_sigma:
            ls = sum(float(np.sum(np.log(d.sigma))) for _, d in self.pairs)  # type: ignore[arg-type]
            return -0.5 * (self.chisqr + n * math.log(2 * math.pi)) - ls
        ll = 0.0
        pv = self.values
        for m, d in self.pairs:
            if m is None:
                return math.nan
            rss = float(np.sum((d.y - m(d.x, pv)) ** 2))
            ll += -0.5 * d.n * (math.log(2 * math.pi * max(rss, 1e-300) / d.n) + 1)
        return ll

    @property
    def nparams(self) -> int:
        """Free parameters, plus one noise level per dataset when sigma is unknown."""
        return len(self.free) + (0 if self.known_sigma else len(self.pairs))

    @property
    def aic(self) -> float:
        return 2 * self.nparams - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.nparams * math.log(self.ndata) - 2 * self.loglik

    @property
    def redchi(self) -> float:
        return self.chisqr / self.dof

    # ---- prediction ----------------------------------------------------------
    def predict(self, x: Mapping[str, Any], *, model: int | str = 0, level: float | None = None,
                sigma: float | None = None) -> pl.DataFrame:
        """Prediction at inputs ``x`` with a confidence band (the curve) and a prediction
        band (a new measurement: curve uncertainty plus the noise of dataset ``model``)."""
        level = self.level if level is None else level
        i = model if isinstance(model, int) else [m.name if m else "" for m, _ in self.pairs].index(model)
        m, d = self._live(i)[0]
        xv = {k: np.atleast_1d(np.asarray(x[k], dtype=float)) for k in m.x_names}
        pv = self.values
        y = m(xv, pv)
        if self.boot is not None:
            curves = np.array([m(xv, self.params.with_vector(b)) for b in self.boot])
            var_c = np.var(curves, axis=0, ddof=1)
        else:
            J = self._jac(m, xv)
            cov = np.nan_to_num(self.covar, nan=0.0, posinf=1e300)
            var_c = np.einsum("ij,jk,ik->i", J, cov, J)
        if sigma is not None:
            noise = sigma ** 2
        elif d.sigma is not None:
            noise = float(np.mean(d.sigma ** 2))
        else:
            r = d.y - m(d.x, pv)
            noise = float(np.sum(r ** 2)) / max(self.dof * d.n / self.ndata, 1.0)
        q = float(stats.norm.ppf(0.5 + level / 2) if self.known_sigma
                  else stats.t.ppf(0.5 + level / 2, self.dof))
        cw = q * np.sqrt(var_c)
        pw = q * np.sqrt(var_c + noise)
        yn = d.y_name
        cols: dict[str, Any] = dict(xv)
        cols.update({yn: y, f"{yn}_conf_lo": y - cw, f"{yn}_conf_hi": y + cw,
                     f"{yn}_pred_lo": y - pw, f"{yn}_pred_hi": y + pw})
        return pl.DataFrame(cols)

    def _jac(self, m: Model, xv: Mapping[str, np.ndarray]) -> np.ndarray:
        """d prediction / d free parameters by central differences (ns per unit)."""
        base = self.params.vector()
        cols = []
        for j in range(base.size):
            h = 1e-6 * max(abs(base[j]), 1e-3)
            up, dn = base.copy(), base.copy()
            up[j] += h
            dn[j] -= h
            cols.append((m(xv, self.params.with_vector(up)) - m(xv, self.params.with_vector(dn))) / (2 * h))
        return np.array(cols).T

    # ---- views ---------------------------------------------------------------
    def report(self) -> str:
        """Fixed-width ASCII report (<= 72 columns)."""
        L: list[str] = []
        names = ", ".join(m.name if m else "?" for m, _ in self.pairs)
        L.append("[[Fit]]" + ("" if self.converged else "  *** NOT CONVERGED ***"))
        L.append(f"    models     {names}"[:WIDTH])
        L.append(f"    data       {', '.join(d.name for _, d in self.pairs)}"[:WIDTH])
        L.append(f"    points     {self.ndata}   free params {len(self.free)}   dof {self.dof}")
        L.append(f"    loss       {self.loss}   evaluations {self.nfev}")
        L.append(f"    chi-square {self.chisqr:.5g}   reduced {self.redchi:.5g}")
        L.append(f"    log-lik    {self.loglik:.5g}   AIC {self.aic:.5g}   BIC {self.bic:.5g}")
        L.append(f"    sigma      {'given per point' if self.known_sigma else 'estimated per dataset'}")
        L.append(f"[[Parameters]]  {int(round(self.level * 100))}% interval: {self.ci_method}")
        L.append(f"    {'name':<22}{'value':>10}{'stderr':>10}{'low':>10}{'high':>10} unit")
        for n, p in self.params.items():
            if p.vary:
                lo, hi = p.ci if p.ci else (None, None)
                row = f"    {n[:22]:<22}{_g(p.value)}{_g(p.stderr)}{_g(lo)}{_g(hi)} {p.unit}"
            else:
                row = f"    {n[:22]:<22}{_g(p.value)}{'(fixed)':>10}{'':>20} {p.unit}"
            L.append(row[:WIDTH])
        c = self.correl
        pairs = [(abs(c[i, j]), i, j) for i in range(len(self.free)) for j in range(i)
                 if np.isfinite(c[i, j]) and abs(c[i, j]) >= 0.1]
        if pairs:
            L.append("[[Correlations]] (|r| >= 0.1)")
            for _, i, j in sorted(pairs, reverse=True)[:8]:
                L.append(f"    r({self.free[i]}, {self.free[j]})"[:60].ljust(60) + f"{c[i, j]:+.3f}")
        return finish_report(L, self.notes)

    def __str__(self) -> str:
        return self.report()

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("name", "value", "stderr", "low", "high", "unit"))
        rows = []
        for n, p in self.params.items():
            lo, hi = p.ci if p.ci else (None, None)
            cells = [html.escape(n), f"{p.value:.5g}", "fixed" if not p.vary else _g(p.stderr, 0),
                     _g(lo, 0), _g(hi, 0), html.escape(p.unit)]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        state = "converged" if self.converged else "<b>NOT CONVERGED</b>"
        notes = "".join(f"<li>{html.escape(x)}</li>" for x in self.notes)
        return (f"<div><p>Fit of {html.escape(', '.join(d.name for _, d in self.pairs))}: {state}; "
                f"n={self.ndata}, dof={self.dof}, AIC={self.aic:.4g}, BIC={self.bic:.4g}; "
                f"{int(round(self.level * 100))}% intervals by {self.ci_method}</p>"
                f"<table><tr>{head}</tr>{''.join(rows)}</table><ul>{notes}</ul></div>")

    def plot(self, ax: Any = None, *, model: int = 0, x: str | None = None, npts: int = 100) -> Any:
        """Measurements with the fitted curve and its bands (matplotlib axes)."""
        import matplotlib.pyplot as plt
        m, d = self._live(model)[0]
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        xn = x or m.x_names[0]
        grid = np.linspace(d.x[xn].min(), d.x[xn].max(), npts)
        others = {k: np.full(npts, np.median(v)) for k, v in d.x.items() if k != xn}
        pr = self.predict({xn: grid, **others}, model=model)
        yn = d.y_name
        ax.fill_between(grid, pr[f"{yn}_pred_lo"], pr[f"{yn}_pred_hi"], alpha=0.15,
                        label=f"{int(self.level * 100)}% prediction band")
        ax.fill_between(grid, pr[f"{yn}_conf_lo"], pr[f"{yn}_conf_hi"], alpha=0.35,
                        label=f"{int(self.level * 100)}% confidence band")
        ax.plot(grid, pr[yn], label=f"fit: {m.name}")
        ax.plot(d.x[xn], d.y, "o", ms=4, label=f"measured: {d.name}")
        ax.set_xlabel(xn)
        ax.set_ylabel(yn)
        ax.legend(fontsize=8)
        return ax

    # ---- JSON ----------------------------------------------------------------
    def to_dict(self) -> dict:
        models = []
        for m, _ in self.pairs:
            if m is None:
                models.append(None)
                continue
            models.append({"name": m.name, "unit": m.unit, "x": list(m.x_names),
                           "params": list(m.param_names), "constants": dict(m.constants),
                           "expr": None if m.expr is None else str(m.expr)})
        return {"format": FORMAT, "version": 1, "converged": bool(self.converged),
                "message": self.message, "nfev": self.nfev, "chisqr": self.chisqr,
                "ndata": self.ndata, "dof": self.dof, "scale": self.scale,
                "known_sigma": bool(self.known_sigma), "ci_method": self.ci_method, "level": self.level,
                "loss": self.loss, "notes": self.notes, "free": self.free,
                "params": self.params.to_list(),
                "covar": [[_j(v) for v in row] for row in self.covar.tolist()],
                "loglik": _j(self.loglik), "aic": _j(self.aic), "bic": _j(self.bic),
                "models": models, "data": [d.to_dict() for _, d in self.pairs],
                "boot": None if self.boot is None else self.boot.tolist()}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str, where: str = "<json>") -> "FitResult":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PwmodelError(f"malformed JSON: {exc.msg}", file=where, line=exc.lineno) from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise PwmodelError(f"not a fit result (format '{FORMAT}')", file=where, field="format")
        pairs: list[tuple[Model | None, Data]] = []
        for md, dd in zip(d["models"], d["data"]):
            m = None
            if md and md.get("expr"):
                m = Model.from_expr(_parse(md["expr"], where), md["x"], md["params"],
                                    md["constants"], name=md["name"], unit=md["unit"])
            pairs.append((m, Data.from_dict(dd)))
        cov = np.array([[float(v) for v in row] for row in d["covar"]], dtype=float)
        return cls(pairs=pairs, params=Parameters.from_list(d["params"]), free=d["free"],
                   covar=cov.reshape(len(d["free"]), len(d["free"])), converged=d["converged"],
                   message=d["message"], nfev=d["nfev"], chisqr=d["chisqr"], ndata=d["ndata"],
                   dof=d["dof"], scale=d["scale"], known_sigma=d["known_sigma"],
                   ci_method=d["ci_method"], level=d["level"], loss=d["loss"], notes=d["notes"],
                   boot=None if d.get("boot") is None else np.asarray(d["boot"], dtype=float))


def _parse(s: str, where: str) -> sp.Expr:
    """An expression written by :meth:`FitResult.to_dict`, on the registry's symbols."""
    from pwmodel.params import SYMBOLS
    from pwmodel.models.symbols import EXTRA
    try:
        return sp.sympify(s, locals={**SYMBOLS, **EXTRA})
    except (sp.SympifyError, SyntaxError, TypeError) as exc:
        raise PwmodelError(f"cannot read the model expression: {exc}", file=where,
                           field="models.expr") from None


def _j(v: float) -> float | str:
    return v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
