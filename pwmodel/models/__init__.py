"""Model terms, one module per mechanism, each a small SymPy expression.

Numeric code is generated from the expressions with :func:`numeric` (SymPy
``lambdify`` to NumPy), never retyped. Every expression is written in the
symbols of :mod:`pwmodel.params` plus a few per-evaluation quantities defined
in :mod:`pwmodel.models.symbols` (CPU count, topology-derived latencies,
order statistics of the wake-up distribution).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from pwmodel.params import PARAMS, SYMBOLS
from pwmodel.models.symbols import EXTRA


def free_names(expr: sp.Expr) -> list[str]:
    """Names of the parameters and extra quantities an expression depends on, sorted."""
    return sorted(str(s) for s in expr.free_symbols)


@functools.lru_cache(maxsize=512)
def _compile(expr: sp.Expr) -> tuple[Callable, tuple[str, ...]]:
    names = tuple(free_names(expr))
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    fn = sp.lambdify(syms, expr, modules="numpy", cse=True)
    return fn, names


def numeric(expr: sp.Expr, values: Mapping[str, object]) -> np.ndarray:
    """Evaluate ``expr`` with NumPy on scalar or array ``values`` (lambdified once, cached)."""
    fn, names = _compile(expr)
    missing = [n for n in names if n not in values]
    if missing:
        from pwmodel.errors import PwmodelError
        raise PwmodelError(f"missing value for {', '.join(missing)}", field=missing[0])
    # NumPy scalars, not Python floats: a branch of a Piecewise that is not taken may
    # divide by zero (both branches are computed); NumPy gives inf/nan there, and the
    # select() keeps the branch that applies
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = fn(*[np.asarray(values[n], dtype=float) for n in names])
    return np.asarray(out, dtype=float)


_SPLIT_MIN = 200_000


@functools.lru_cache(maxsize=128)
def _compile_many(exprs: tuple[sp.Expr, ...]) -> tuple[Callable, tuple[str, ...]]:
    names = tuple(sorted({str(s) for e in exprs for s in e.free_symbols}))
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    fn = sp.lambdify(syms, list(exprs), modules="numpy", cse=True)
    return fn, names


def numeric_many(exprs: tuple[sp.Expr, ...] | list[sp.Expr], values: Mapping[str, object]) -> list[np.ndarray]:
    """Evaluate several expressions in one generated function (common subexpressions shared)."""
    fn, names = _compile_many(tuple(exprs))
    missing = [n for n in names if n not in values]
    if missing:
        from pwmodel.errors import PwmodelError
        raise PwmodelError(f"missing value for {', '.join(missing)}", field=missing[0])
    args = [np.asarray(values[n], dtype=float) for n in names]
    size = max((a.size for a in args), default=1)
    workers = min(os.cpu_count() or 1, 8)
    if size < _SPLIT_MIN or workers < 2 or any(a.ndim > 1 for a in args):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return [np.asarray(o, dtype=float) for o in fn(*args)]
    # large 1-D inputs: NumPy releases the GIL in its ufuncs, so slices evaluated in
    # threads use every core; results are identical to the single call (element-wise)
    bounds = np.linspace(0, size, workers + 1).astype(int)

    def part(lo: int, hi: int) -> list[np.ndarray]:
        sl = [a[lo:hi] if a.ndim == 1 and a.size == size else a for a in args]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return [np.broadcast_to(np.asarray(o, dtype=float), (hi - lo,)) for o in fn(*sl)]

    with ThreadPoolExecutor(workers) as ex:
        parts = list(ex.map(lambda b: part(*b), zip(bounds[:-1], bounds[1:])))
    return [np.concatenate([p[i] for p in parts]) for i in range(len(exprs))]


def evaluate_subs(expr: sp.Expr, values: Mapping[str, float]) -> float:
    """Slow reference path: SymPy subs + evalf (used to check the lambdified code)."""
    subs = {(SYMBOLS.get(n) or EXTRA[n]): v for n, v in values.items()
            if n in PARAMS or n in EXTRA}
    return float(expr.subs(subs).evalf())
