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


def _printer() -> object:
    """NumPy printer for lambdify that writes a Piecewise as nested ``where`` calls
    (SymPy's ``select`` builds lists and stacks its branches: several times slower, same
    values). Settings as lambdify gives its own printer."""
    from sympy.printing.numpy import NumPyPrinter

    class WherePrinter(NumPyPrinter):
        def _print_Piecewise(self, expr: sp.Piecewise) -> str:
            where = self._module_format(self._module + ".where")
            out = self._print(sp.nan)          # no branch applies (select's default)
            for e, c in reversed(expr.args):
                out = (self._print(e) if c == sp.true else
                       f"{where}({self._print(c)}, {self._print(e)}, {out})")
            return out

    return WherePrinter({"fully_qualified_modules": False, "inline": True,
                         "allow_unknown_functions": True, "user_functions": {}})


def _lambdify(syms: list, expr: object) -> Callable:
    from scipy.special import erfc        # the normal tail (models/lrulock.py)
    return sp.lambdify(syms, expr, modules=[{"erfc": erfc}, "numpy"], cse=True, printer=_printer())


@functools.lru_cache(maxsize=512)
def _compile(expr: sp.Expr) -> tuple[Callable, tuple[str, ...]]:
    names = tuple(free_names(expr))
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    return _lambdify(syms, expr), names


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


_CHUNK = 16_384     # elements per block: a few hundred kB of temporaries per block


@functools.lru_cache(maxsize=128)
def _compile_many(exprs: tuple[sp.Expr, ...]) -> tuple[Callable, tuple[str, ...]]:
    names = tuple(sorted({str(s) for e in exprs for s in e.free_symbols}))
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    return _lambdify(syms, list(exprs)), names


def numeric_many(exprs: tuple[sp.Expr, ...] | list[sp.Expr], values: Mapping[str, object]) -> list[np.ndarray]:
    """Evaluate several expressions in one generated function (common subexpressions shared).

    Large inputs are evaluated in blocks of :data:`_CHUNK` elements, so that the
    temporaries of the generated code stay in the CPU cache instead of streaming through
    memory, spread over a few threads (NumPy releases the GIL in its ufuncs); each element
    is computed by the same operations as in one call over the whole arrays."""
    fn, names = _compile_many(tuple(exprs))
    missing = [n for n in names if n not in values]
    if missing:
        from pwmodel.errors import PwmodelError
        raise PwmodelError(f"missing value for {', '.join(missing)}", field=missing[0])
    args = [np.asarray(values[n], dtype=float) for n in names]
    shape = np.broadcast_shapes(*(a.shape for a in args)) if args else ()
    size = int(np.prod(shape)) if shape else 1
    if size < 2 * _CHUNK:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return [np.asarray(o, dtype=float) for o in fn(*args)]
    # scalars stay scalars; arrays are brought to the common shape and flattened
    flat = [a if a.ndim == 0 else np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)
            for a in args]
    outs = [np.empty(size) for _ in exprs]
    starts = list(range(0, size, _CHUNK))
    workers = max(1, min(os.cpu_count() or 1, 8, len(starts)))

    def run(mine: list[int]) -> None:
        for lo in mine:
            hi = min(lo + _CHUNK, size)
            part = [a if a.ndim == 0 else a[lo:hi] for a in flat]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                res = fn(*part)
            for o, r in zip(outs, res):
                o[lo:hi] = r

    if workers == 1:
        run(starts)
    else:
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(run, [starts[i::workers] for i in range(workers)]))
    return [o.reshape(shape) for o in outs]


def evaluate_subs(expr: sp.Expr, values: Mapping[str, float]) -> float:
    """Slow reference path: SymPy subs + evalf (used to check the lambdified code)."""
    subs = {(SYMBOLS.get(n) or EXTRA[n]): v for n, v in values.items()
            if n in PARAMS or n in EXTRA}
    return float(expr.subs(subs).evalf())
