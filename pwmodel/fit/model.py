"""Models to fit and the data they are fitted to.

A :class:`Model` maps inputs ``x`` (named arrays, e.g. ``n_cpus``) and
parameter values to a prediction in one unit (ns by default). It is built
from one of the SymPy expressions of :mod:`pwmodel.models` (lambdified once
over the chosen inputs and parameters; every other symbol is held at a
given constant) or from a plain Python function.

:class:`Data` holds the measured ``y`` (unit in its name: ``*_ns``), the
inputs, optional per-point standard deviations, and a group label per point
(for leave-one-group-out validation). Bad input is refused with a
:class:`~pwmodel.errors.PwmodelError` naming the dataset and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import polars as pl
import sympy as sp

from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.fit import parameters as FPAR
from pwmodel.models.symbols import EXTRA

_UNITS = ("ns", "us", "ms", "s", "hz", "1", "cpus", "lines", "folios", "cycles")
_TIME_SCALE_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def unit_suffix(name: str) -> str:
    """The unit suffix of a column or parameter name ('' when it names none)."""
    suf = name.rsplit("_", 1)[-1].lower() if "_" in name else ""
    return suf if suf in _UNITS else ""


def check_unit(column: str, unit: str, where: str) -> None:
    """Refuse a column whose name states another unit than ``unit``."""
    got = unit_suffix(column)
    if got == unit.lower():
        return
    if got in _TIME_SCALE_NS and unit in _TIME_SCALE_NS:
        f = _TIME_SCALE_NS[got] / _TIME_SCALE_NS[unit]
        raise PwmodelError(f"column '{column}' is in {got}, the model works in {unit}: "
                           f"multiply by {f:g} and name it '*_{unit}'", file=where, field=column)
    raise PwmodelError(f"column '{column}' must name its unit '{unit}' (e.g. '*_{unit}'), "
                       f"found suffix '{got or 'none'}'", file=where, field=column)


def _sym(name: str) -> sp.Symbol:
    if name in P.SYMBOLS:
        return P.SYMBOLS[name]
    if name in EXTRA:
        return EXTRA[name]
    return sp.Symbol(name)


@dataclass
class Model:
    """A prediction ``func(x, p) -> y`` in ``unit``; ``x`` and ``p`` map names to values."""

    func: Callable[[Mapping[str, np.ndarray], Mapping[str, float]], np.ndarray]
    x_names: tuple[str, ...]
    param_names: tuple[str, ...]
    name: str = "model"
    unit: str = "ns"
    expr: sp.Expr | None = None
    constants: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_expr(cls, expr: sp.Expr, x: Sequence[str], params: Sequence[str],
                  constants: Mapping[str, float] | None = None, *, name: str = "model",
                  unit: str = "ns") -> "Model":
        """Lambdify ``expr`` over inputs ``x`` and fitted ``params``.

        Every other free symbol must be given in ``constants`` (registry
        defaults are used for registry names not given there).
        """
        x, params = tuple(x), tuple(params)
        consts = dict(constants or {})
        free = {str(s) for s in expr.free_symbols}
        for n in free - set(x) - set(params) - set(consts):
            if n in P.PARAMS:
                consts[n] = P.PARAMS[n].default
        missing = sorted(free - set(x) - set(params) - set(consts))
        if missing:
            raise PwmodelError(f"expression needs a value for {', '.join(missing)}: pass it as "
                               "an input, a parameter or a constant", field=missing[0])
        dup = set(x) & set(params)
        if dup:
            raise PwmodelError(f"'{sorted(dup)[0]}' is both an input and a parameter",
                               field=sorted(dup)[0])
        sub = {_sym(k): float(v) for k, v in consts.items() if k in free}
        e = expr.subs(sub) if sub else expr
        args = [_sym(n) for n in x + params]
        fn = sp.lambdify(args, e, modules="numpy", cse=True)

        def func(xv: Mapping[str, np.ndarray], pv: Mapping[str, float]) -> np.ndarray:
            out = fn(*[xv[n] for n in x], *[pv[n] for n in params])
            shape = np.shape(xv[x[0]]) if x else ()
            return np.broadcast_to(np.asarray(out, dtype=float), shape).astype(float)

        return cls(func, x, params, name, unit, expr, consts)

    def __call__(self, x: Mapping[str, np.ndarray], p: Mapping[str, float]) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.func(x, p), dtype=float)

    def make_params(self, values: Mapping[str, float] | None = None,
                    fixed: Sequence[str] = ()) -> FPAR.Parameters:
        """Parameters of this model, registry defaults and bounds; ``fixed`` held constant."""
        values = dict(values or {})
        out = FPAR.Parameters()
        for n in self.param_names:
            if n in P.PARAMS:
                out.add(FPAR.make(n, values.get(n), vary=n not in fixed))
            else:
                out.add(FPAR.make(n, values.get(n, 1.0), vary=n not in fixed))
        return out

    def describe(self) -> str:
        body = str(self.expr) if self.expr is not None else getattr(self.func, "__name__", "func")
        return f"{self.name} [{self.unit}] = {body}"


@dataclass
class Data:
    """Measured ``y`` (named ``y_name``, unit in the name) at inputs ``x``.

    ``sigma`` is the standard deviation of each point in the unit of y
    (None: unknown, estimated from the residuals); ``groups`` labels each
    point for leave-one-group-out validation.
    """

    x: dict[str, np.ndarray]
    y: np.ndarray
    y_name: str = "y_ns"
    sigma: np.ndarray | None = None
    name: str = "data"
    groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.y = self._col(self.y, self.y_name)
        n = self.y.size
        if n == 0:
            raise PwmodelError("no data points", file=self.name, field=self.y_name)
        self.x = {k: self._col(v, k, n) for k, v in self.x.items()}
        if self.sigma is not None:
            s = self._col(np.broadcast_to(np.asarray(self.sigma, dtype=float), (n,)), "sigma", n)
            if np.any(s <= 0):
                raise PwmodelError("standard deviations must be > 0", file=self.name, field="sigma")
            self.sigma = s
        if self.groups is not None:
            g = np.asarray(self.groups)
            if g.shape != (n,):
                raise PwmodelError(f"groups has {g.size} labels for {n} points",
                                   file=self.name, field="groups")
            self.groups = g

    def _col(self, v: object, col: str, n: int | None = None) -> np.ndarray:
        try:
            a = np.asarray(v, dtype=float).ravel()
        except (TypeError, ValueError):
            raise PwmodelError("expected numbers", file=self.name, field=col) from None
        if n is not None and a.size != n:
            raise PwmodelError(f"has {a.size} values, y has {n}", file=self.name, field=col)
        bad = np.nonzero(~np.isfinite(a))[0]
        if bad.size:
            raise PwmodelError(f"{bad.size} non-finite value(s) (NaN/inf), first at row "
                               f"{int(bad[0])}: {a[bad[0]]}", file=self.name, field=col)
        return a

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def unit(self) -> str:
        return unit_suffix(self.y_name)

    def subset(self, mask: np.ndarray) -> "Data":
        """The points where ``mask`` is true (or at integer indices ``mask``)."""
        idx = np.asarray(mask)
        return Data({k: v[idx] for k, v in self.x.items()}, self.y[idx], self.y_name,
                    None if self.sigma is None else self.sigma[idx], self.name,
                    None if self.groups is None else self.groups[idx])

    def with_y(self, y: np.ndarray) -> "Data":
        d = Data.__new__(Data)
        d.__dict__.update(self.__dict__)
        d.y = np.asarray(y, dtype=float)
        return d

    def frame(self) -> pl.DataFrame:
        cols: dict[str, object] = dict(self.x)
        cols[self.y_name] = self.y
        if self.sigma is not None:
            cols["sigma_" + self.y_name] = self.sigma
        if self.groups is not None:
            cols["group"] = self.groups.astype(str)
        return pl.DataFrame(cols)

    def to_dict(self) -> dict:
        return {"name": self.name, "y_name": self.y_name, "y": self.y.tolist(),
                "x": {k: v.tolist() for k, v in self.x.items()},
                "sigma": None if self.sigma is None else self.sigma.tolist(),
                "groups": None if self.groups is None else [str(g) for g in self.groups]}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Data":
        return cls({k: np.asarray(v) for k, v in d["x"].items()}, np.asarray(d["y"]), d["y_name"],
                   None if d.get("sigma") is None else np.asarray(d["sigma"]), d.get("name", "data"),
                   None if d.get("groups") is None else np.asarray(d["groups"]))

    @classmethod
    def from_frame(cls, df: pl.DataFrame, x: Sequence[str], y: str, *, sigma: str | None = None,
                   group: str | None = None, name: str = "data", unit: str = "ns") -> "Data":
        """Columns of a polars frame; ``y`` (and ``sigma``) must be in ``unit``."""
        for c in [*x, y, *([sigma] if sigma else []), *([group] if group else [])]:
            if c not in df.columns:
                raise PwmodelError(f"no column '{c}' (columns: {', '.join(df.columns)})",
                                   file=name, field=c)
        check_unit(y, unit, name)
        if sigma:
            check_unit(sigma, unit, name)
        return cls({c: df[c].to_numpy() for c in x}, df[y].to_numpy(), y,
                   None if sigma is None else df[sigma].to_numpy(), name,
                   None if group is None else df[group].to_numpy())


def check_pair(model: Model, data: Data) -> None:
    """Refuse data that does not give the model's inputs or is in another unit."""
    for n in model.x_names:
        if n not in data.x:
            raise PwmodelError(f"model '{model.name}' needs input '{n}', data has "
                               f"{', '.join(data.x) or 'no inputs'}", file=data.name, field=n)
    check_unit(data.y_name, model.unit, data.name)


def spread_ok(y: np.ndarray) -> bool:
    """False for constant data (no spread to estimate an uncertainty from)."""
    return bool(y.size > 1 and np.ptp(y) > 1e-12 * max(1.0, float(np.max(np.abs(y)))))
