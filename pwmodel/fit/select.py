"""Model selection by cross-validation and checks on held-out data.

:func:`cross_validate` fits every candidate form (e.g. the fan-out tail limited
by the slowest CPU, by the shared lock, or both: ``fanout.qw_variant_expr``)
with leave-one-out (``loo``) and leave-one-group-out (``logo``: hold out one
CPU count, one target state ...) folds and reports each candidate's error,
in the spirit of Extra-P; the chosen form has the smallest error.

:func:`heldout_quantiles` compares a fitted latency distribution's quantiles
with those of samples it did not see (another target state, another
trigger, or the tail above a censoring point).
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import numpy as np
import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.fit.distresult import DistFit
from pwmodel.fit.lsq import fit
from pwmodel.fit.model import Data, Model
from pwmodel.fit.parameters import Parameters


def _folds(data: Data, scheme: str) -> list[tuple[str, np.ndarray]]:
    n = data.n
    if scheme == "loo":
        return [(str(i), np.arange(n) == i) for i in range(n)]
    if scheme == "logo":
        if data.groups is None:
            raise PwmodelError("leave-one-group-out needs group labels", file=data.name,
                               field="groups")
        return [(str(g), data.groups == g) for g in np.unique(data.groups)]
    raise PwmodelError(f"scheme must be loo or logo, found '{scheme}'", field="scheme")


def cross_validate(candidates: Mapping[str, Model], data: Data,
                   params: Parameters | Callable[[Model], Parameters] | None = None, *,
                   schemes: Sequence[str] = ("loo", "logo")) -> pl.DataFrame:
    """One row per (candidate, scheme): held-out RMSE and MAE in the unit of y, the
    relative RMSE, the number of folds and of failed fits; ``chosen`` marks the best
    candidate of each scheme (smallest RMSE)."""
    if len(candidates) < 1:
        raise PwmodelError("no candidate model given")
    rows = []
    for name, m in candidates.items():
        p = params(m) if callable(params) else (params.copy() if params is not None
                                                 else m.make_params())
        for scheme in schemes:
            if scheme == "logo" and data.groups is None:
                continue
            errs: list[np.ndarray] = []
            rel: list[np.ndarray] = []
            failed = 0
            for _, held in _folds(data, scheme):
                train = data.subset(~held)
                try:
                    r = fit(m, train, p, ci="none")
                except PwmodelError:
                    failed += 1
                    continue
                if not r.converged:
                    failed += 1
                test = data.subset(held)
                e = test.y - m(test.x, r.values)
                errs.append(e)
                rel.append(e / np.where(test.y != 0, np.abs(test.y), 1.0))
            e = np.concatenate(errs) if errs else np.array([math.nan])
            rr = np.concatenate(rel) if rel else np.array([math.nan])
            rows.append({"candidate": name, "scheme": scheme, "n_folds": len(errs) + failed,
                         "failed": failed, f"rmse_{data.unit or 'y'}": float(np.sqrt(np.mean(e ** 2))),
                         f"mae_{data.unit or 'y'}": float(np.mean(np.abs(e))),
                         "rel_rmse": float(np.sqrt(np.mean(rr ** 2)))})
    df = pl.DataFrame(rows)
    col = f"rmse_{data.unit or 'y'}"
    best = df.group_by("scheme").agg(pl.col(col).min().alias("_best"))
    return df.join(best, on="scheme").with_columns(
        (pl.col(col) == pl.col("_best")).alias("chosen")).drop("_best").sort(["scheme", col])


def heldout_quantiles(f: DistFit, samples_ns: np.ndarray,
                      qs: Sequence[float] = (0.5, 0.9, 0.99), *, label: str = "") -> pl.DataFrame:
    """Predicted (with interval) vs measured quantiles of unseen samples, and the error."""
    x = np.asarray(samples_ns, dtype=float)
    if x.size < 10 or not np.all(np.isfinite(x)):
        raise PwmodelError("held-out samples: need >= 10 finite values", field="samples_ns")
    rows = []
    for q in qs:
        est, lo, hi = f.quantile_ci(q)
        meas = float(np.quantile(x, q))
        rows.append({"check": label, "quantile": q, "predicted_ns": est, "pred_low_ns": lo,
                     "pred_high_ns": hi, "measured_ns": meas,
                     "rel_error": (est - meas) / meas, "inside_interval": lo <= meas <= hi})
    return pl.DataFrame(rows)
