"""Compiled loops over the model expressions, for large arrays (numba, when installed).

The NumPy code that :func:`pwmodel.models.numeric_many` generates evaluates every branch of
every Piecewise over the whole array and keeps one (``where``), and each operation walks
the block once more: on the lru_lock derived forms most of the time goes to the normal
tails (``erfc``) of branches that are then thrown away. Here the same SymPy expressions
(common subexpressions shared, as there) are printed as scalar Python, one statement per
subexpression, Piecewise as conditional expressions (only the branch that applies is
computed), inside a loop over the elements that numba compiles to machine code; blocks of
elements run on a few threads (the loop releases the GIL). A common subexpression that
calls a library function and is read only inside branches is computed only where one of
them applies: its statement is guarded by the conditions that lead to its readers (on the
lru_lock forms, the normal tails of a class without weight, or of the series branch).

The source is written to the cache folder (:mod:`pwmodel.diskcache`, under ``loops/``)
and imported from there, so numba's own cache of the machine code sits beside it
(``loops/__pycache__``) and a fresh process loads the compiled loop instead of compiling
it again. Without numba, or without a writable cache folder, :func:`kernel` returns None
and the caller evaluates the NumPy code.

Agreement with the NumPy code: the same operations in the same order on each element,
except for the library functions (``math.erfc``, ``exp``, ``sqrt``, ``pow`` of the C
library through LLVM against SciPy's ``erfc`` and NumPy's loops), which differ by an ulp
or two; ``x ** 2`` and the like are exact products in both. Where a formula subtracts
near-equal terms (the normal-tail integrals at a very negative drift, an ``expm1``
difference), those ulps are multiplied by the cancellation: the tests bound the relative
difference on random inputs over the parameter bounds, with an absolute floor in ns.
``max``/``min`` keep NumPy's ``maximum``/``minimum`` rule (a NaN argument gives NaN), and
Heaviside is printed as the NumPy code prints it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from typing import Callable, Sequence

import sympy as sp
from sympy.codegen.cfunctions import expm1 as _expm1
from sympy.logic.boolalg import ITE

_TAG = "loops: scalar code, cse, Piecewise as conditional expressions, guarded library calls; v2"
# elements from which numeric_many runs the compiled loop: sweeps' chunks and arrays of a
# million points; the report's and decide's calls (72k elements at most, the report's
# crossover maps) keep the NumPy code and its values to the last bit
LOOP_MIN = 262_144


@functools.lru_cache(maxsize=1)
def versions() -> tuple[str, str] | None:
    """(numba, llvmlite) versions, or None when numba cannot be imported."""
    try:
        import llvmlite
        import numba
    except Exception:       # absent, or broken against this NumPy: the NumPy code serves
        return None
    return numba.__version__, llvmlite.__version__


def _printer(arg_names: dict[sp.Symbol, str]):
    from sympy.printing.pycode import PythonCodePrinter

    class LoopPrinter(PythonCodePrinter):
        """Scalar code for numba: math functions, NaN-propagating max/min helpers,
        Piecewise and ITE as nested conditional expressions."""

        def _print_Symbol(self, expr: sp.Symbol) -> str:
            got = arg_names.get(expr)
            return got if got is not None else super()._print_Symbol(expr)

        def _print_Piecewise(self, expr: sp.Piecewise) -> str:
            out = "math.nan"             # no branch applies (NumPy's select default)
            for e, c in reversed(expr.args):
                out = (self._print(e) if c == sp.true else
                       f"(({self._print(e)}) if ({self._print(c)}) else ({out}))")
            return out

        def _print_ITE(self, expr) -> str:
            a, b, c = expr.args
            return f"(({self._print(b)}) if ({self._print(a)}) else ({self._print(c)}))"

        def _fold(self, name: str, args) -> str:
            out = self._print(args[0])
            for a in args[1:]:
                out = f"{name}({out}, {self._print(a)})"
            return out

        def _print_Max(self, expr: sp.Max) -> str:
            return self._fold("_max", expr.args)

        def _print_Min(self, expr: sp.Min) -> str:
            return self._fold("_min", expr.args)

        def _print_Heaviside(self, expr) -> str:
            # as the NumPy code prints it (1 at NaN, not NaN)
            return self._print(expr.rewrite(sp.Piecewise))

        def _print_BooleanTrue(self, expr) -> str:
            return "True"

        def _print_BooleanFalse(self, expr) -> str:
            return "False"

    return LoopPrinter({"fully_qualified_modules": True, "inline": True,
                        "allow_unknown_functions": False, "standard": "python3"})


_HEAD = '''import math
from numba import njit


@njit(cache=True)
def _max(a, b):
    return a if (a >= b or a != a) else b


@njit(cache=True)
def _min(a, b):
    return a if (a <= b or a != a) else b


'''


_COSTLY = (sp.erfc, sp.exp, _expm1, sp.log)


def _costly(e: sp.Expr) -> bool:
    """Whether computing ``e`` (a number, not a truth value) itself calls a library
    function (not counting the subexpressions held in other variables)."""
    if not isinstance(e, sp.Expr) or isinstance(e, (sp.Piecewise,)):
        return False
    for a in sp.preorder_traversal(e):
        if isinstance(a, _COSTLY) or (isinstance(a, sp.Pow) and not a.exp.is_Integer
                                      and a.exp != sp.Rational(1, 2)):
            return True
    return False


def _guards(subs: list, red: list) -> dict:
    """For each common subexpression, the conditions under which some use of it is
    computed: a set of conjunctions of (condition, truth) (the empty one: always)."""
    guard: dict = {}
    defs = dict(subs)

    def walk(e, path: frozenset, into: dict) -> None:
        if isinstance(e, sp.Symbol):
            if e in defs:
                into.setdefault(e, set()).add(path)
            return
        if isinstance(e, sp.Piecewise):
            p = path
            for ex, c in e.args:
                if c == sp.true:
                    walk(ex, p, into)
                    break
                walk(c, p, into)
                walk(ex, p | {(c, True)}, into)
                p = p | {(c, False)}
            return
        if isinstance(e, ITE):
            c, a, b = e.args
            walk(c, path, into)
            walk(a, path | {(c, True)}, into)
            walk(b, path | {(c, False)}, into)
            return
        for a in e.args:
            walk(a, path, into)

    for e in red:
        walk(e, frozenset(), guard)
    for s, d in reversed(subs):
        mine = guard.get(s, {frozenset()})
        if frozenset() in mine or len(mine) > 8:
            mine = {frozenset()}
        guard[s] = mine
        local: dict = {}
        walk(d, frozenset(), local)
        for v, paths in local.items():
            g = guard.setdefault(v, set())
            for m in mine:
                for p in paths:
                    g.add(m | p)
    return guard


def source(names: Sequence[str], exprs: Sequence[sp.Expr]) -> str:
    """The module text of the loop over ``exprs`` with arguments ``names`` (sorted symbol
    names, as :func:`pwmodel.models.numeric_many` orders them)::

        kernel(lo, hi, step, a_0, ..., a_k, out_0, ..., out_m)

    computes elements lo..hi-1; input j of element i is ``a_j[i * step[j]]`` (step 0: one
    value for every element). A common subexpression that calls a library function
    (erfc, exp, ...) and is used only in branches of Piecewise forms is computed only
    where one of those branches applies (NaN elsewhere, where no one reads it)."""
    from pwmodel.models.symbols import EXTRA
    from pwmodel.params import SYMBOLS
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    arg_names = {s: f"v{j}" for j, s in enumerate(syms)}
    pr = _printer(arg_names)
    subs, red = sp.cse(list(exprs), symbols=sp.numbered_symbols("c"))
    guard = _guards(subs, red)
    index = {s: k for k, (s, _) in enumerate(subs)}
    # a guarded statement waits for the variables of its conditions
    deps = {}
    for s, d in subs:
        need = {x for x in d.free_symbols if x in index}
        g = guard.get(s, {frozenset()})
        if frozenset() not in g and _costly(d):
            for conj in g:
                for c, _ in conj:
                    need |= {x for x in c.free_symbols if x in index}
        deps[s] = need
    order, done, temp = [], set(), set()

    def visit(s) -> bool:
        if s in done:
            return True
        if s in temp:
            return False
        temp.add(s)
        for x in sorted(deps[s], key=index.get):
            if not visit(x):
                return False
        temp.discard(s)
        done.add(s)
        order.append(s)
        return True
    if not all(visit(s) for s, _ in subs):       # a cycle: no guards
        guard, order = {}, [s for s, _ in subs]
    defs = dict(subs)

    def statement(s) -> str:
        d = defs[s]
        g = guard.get(s, {frozenset()})
        if frozenset() in g or not _costly(d):
            return f"{pr._print(s)} = {pr._print(d)}"
        ors = []
        for conj in sorted(g, key=str):
            ands = [f"({pr._print(c)})" if t else f"(not ({pr._print(c)}))"
                    for c, t in sorted(conj, key=str)]
            ors.append("(" + " and ".join(ands) + ")")
        return f"{pr._print(s)} = ({pr._print(d)}) if ({' or '.join(ors)}) else math.nan"

    ins = ", ".join(f"a{j}" for j in range(len(syms)))
    outs = ", ".join(f"out{k}" for k in range(len(red)))
    lines = [f"# {json.dumps({'tag': _TAG, 'args': list(names), 'outputs': len(red)})}",
             _HEAD,
             '@njit(nogil=True, cache=True, error_model="numpy")',
             f"def kernel(lo, hi, step, {ins}{', ' if ins else ''}{outs}):",
             "    for i in range(lo, hi):"]
    lines += [f"        v{j} = a{j}[i * step[{j}]]" for j in range(len(syms))]
    lines += [f"        {statement(s)}" for s in order]
    lines += [f"        out{k}[i] = {pr._print(e)}" for k, e in enumerate(red)]
    return "\n".join(lines) + "\n"


_LOADED: dict[str, Callable | None] = {}


def kernel(stem: str, names: Sequence[str], build: Callable[[], Sequence[sp.Expr]]) -> Callable | None:
    """The compiled loop (:func:`source`) of the expressions ``build()`` returns, found in
    the cache folder by ``stem`` (a digest of everything the expressions depend on) and the
    numba and llvmlite versions; ``build`` is called only when no source is stored. None:
    no numba, or no writable cache folder (numba keeps compiled code beside a real file)."""
    from pwmodel import diskcache
    ver = versions()
    if ver is None:
        return None
    fname = "k" + diskcache.key(_TAG, stem, ver, list(names))
    path = diskcache.root() / "loops" / (fname + ".py")
    if str(path) in _LOADED:
        return _LOADED[str(path)]
    fn = None
    try:
        ok = False
        if path.is_file():
            head = path.read_text().split("\n", 1)[0]
            ok = head.startswith("# {") and json.loads(head[2:]).get("args") == list(names)
        if not ok:
            diskcache.write("loops", fname + ".py", source(names, build()).encode("utf-8"))
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"pwmodel_loops_{fname}", path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = mod      # numba's cache looks the module up
            spec.loader.exec_module(mod)
            fn = mod.kernel
    except Exception:       # a damaged entry or a failed import: the NumPy code serves
        fn = None
    _LOADED[str(path)] = fn
    return fn
