"""Model terms, one module per mechanism, each a small SymPy expression.

Numeric code is generated from the expressions with :func:`numeric` (SymPy
``lambdify`` to NumPy), never retyped. Every expression is written in the
symbols of :mod:`pwmodel.params` plus a few per-evaluation quantities defined
in :mod:`pwmodel.models.symbols` (CPU count, topology-derived latencies,
order statistics of the wake-up distribution).
"""

from __future__ import annotations

import functools
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping, Sequence

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


def fingerprint(expr: object) -> str:
    """A digest of an expression's structure (or of a list of them), the same in every
    process: each node hashed from its class and its arguments' digests, each atom from its
    ``srepr``; shared subexpressions are hashed once, so this costs a small part of
    ``srepr`` on the large, much-shared fan-out forms. Equal digests: equal expressions."""
    memo: dict[int, tuple[object, bytes]] = {}

    def dig(e: object) -> bytes:
        got = memo.get(id(e))
        if got is not None:
            return got[1]
        if isinstance(e, (list, tuple)):
            body = b"seq(" + b",".join(dig(a) for a in e) + b")"
        elif isinstance(e, sp.Basic) and not e.args:
            body = sp.srepr(e).encode()
        elif isinstance(e, sp.Basic):
            t = type(e)
            body = (f"{t.__module__}.{t.__qualname__}(".encode()
                    + b",".join(dig(a) for a in e.args) + b")")
        else:
            body = repr((type(e).__qualname__, e)).encode()
        out = hashlib.blake2b(body, digest_size=20).digest()
        memo[id(e)] = (e, out)          # keeps e alive: its id is not reused meanwhile
        return out
    return dig(expr).hex()


# generated code is stored as the printer's source plus where each global name comes from
_CODE_TAG = "lambdify numpy, where-Piecewise, cse, erfc=scipy.special.erfc; v1"
_NAME_HOMES = ("numpy", "scipy.special", "functools", "math", "builtins")


def _code_name(syms: list, expr: object) -> str:
    import scipy
    from pwmodel import diskcache
    return diskcache.key(_CODE_TAG, sp.__version__, np.__version__, scipy.__version__,
                         diskcache.source_hash("pwmodel.models"),
                         [str(s) for s in syms], fingerprint(expr)) + ".py"


def _code_text(fn: Callable) -> str | None:
    """The generated function's source with a first line naming the module of each global it
    reads (None: a global from elsewhere; then it is not stored)."""
    import builtins
    import importlib
    import inspect
    import json
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return None
    names: set[str] = set()
    todo = [fn.__code__]
    while todo:
        c = todo.pop()
        names.update(c.co_names)
        todo.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    homes = {}
    for n in sorted(names):
        if n not in fn.__globals__:
            if not hasattr(builtins, n):
                return None
            continue
        obj = fn.__globals__[n]
        home = next((m for m in _NAME_HOMES
                     if getattr(importlib.import_module(m), n, None) is obj), None)
        if home is None:
            return None
        homes[n] = home
    return "# " + json.dumps({"function": fn.__name__, "globals": homes}) + "\n" + src


def _code_load(text: str, n_args: int) -> Callable | None:
    """The function of a stored :func:`_code_text` (None: not a usable entry)."""
    import importlib
    import json
    try:
        head, src = text.split("\n", 1)
        meta = json.loads(head[2:])
        ns = {n: getattr(importlib.import_module(m), n) for n, m in meta["globals"].items()
              if m in _NAME_HOMES}
        exec(compile(src, "<pwmodel generated code>", "exec"), ns)
        fn = ns[meta["function"]]
    except Exception:       # a damaged entry: generate the code again
        return None
    if not callable(fn) or getattr(fn, "__code__", None) is None or \
            fn.__code__.co_argcount != n_args:
        return None
    return fn


def _lambdify(syms: list, expr: object) -> Callable:
    """``lambdify`` with common subexpressions and the where-printer; the generated source is
    kept in the cache folder (:mod:`pwmodel.diskcache`, under ``code/``), named by a digest
    of the expression (:func:`fingerprint`), the argument names, the model sources and the
    library versions, so that a fresh process executes it instead of generating it again
    (the same source, hence the same operations and values)."""
    return _lambdify_text(syms, expr)[0]


def _lambdify_text(syms: list, expr: object) -> tuple[Callable, str | None]:
    """:func:`_lambdify` and the stored text of its code (None: not storable)."""
    from pwmodel import diskcache
    name = _code_name(syms, expr)
    data = diskcache.read("code", name)
    if data is not None:
        text = data.decode("utf-8", "replace")
        fn = _code_load(text, len(syms))
        if fn is not None:
            return fn, text
    from scipy.special import erfc        # the normal tail (models/lrulock.py)
    fn = sp.lambdify(syms, expr, modules=[{"erfc": erfc}, "numpy"], cse=True, printer=_printer())
    text = _code_text(fn)
    if text is not None:
        diskcache.write("code", name, text.encode("utf-8"))
    return fn, text


def disk_memo(kind: str) -> Callable:
    """Decorator: a function of one expression whose result is JSON data, kept in the cache
    folder (under ``kind``) by the expression's :func:`fingerprint`, the function's name and
    the model sources (for symbolic checks such as a ``simplify`` that a fresh process
    would otherwise repeat)."""
    def wrap(f: Callable) -> Callable:
        @functools.wraps(f)
        def run(expr: sp.Expr) -> object:
            import json
            from pwmodel import diskcache
            name = diskcache.key(f.__module__, f.__qualname__, sp.__version__,
                                 diskcache.source_hash("pwmodel.models"), fingerprint(expr)) + ".json"
            data = diskcache.read(kind, name)
            if data is not None:
                try:
                    return json.loads(data)["value"]
                except (ValueError, KeyError, TypeError):
                    pass
            out = f(expr)
            diskcache.write(kind, name, json.dumps({"value": out}).encode())
            return out
        return run
    return wrap


@functools.lru_cache(maxsize=512)
def _compile(expr: sp.Expr) -> tuple[Callable, tuple[str, ...]]:
    names = tuple(free_names(expr))
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    return _lambdify(syms, expr), names


def _args(names: Sequence[str], values: Mapping[str, object]) -> list[np.ndarray]:
    """The values of ``names`` as float arrays, in that order; a missing one is refused by
    name."""
    missing = [n for n in names if n not in values]
    if missing:
        from pwmodel.errors import PwmodelError
        raise PwmodelError(f"missing value for {', '.join(missing)}", field=missing[0])
    return [np.asarray(values[n], dtype=float) for n in names]


def _call(fn: Callable, names: Sequence[str], values: Mapping[str, object]) -> np.ndarray:
    """``fn`` (generated code of one expression) of the values of ``names``.

    NumPy scalars, not Python floats: a branch of a Piecewise that is not taken may
    divide by zero (both branches are computed); NumPy gives inf/nan there, and the
    select() keeps the branch that applies."""
    args = _args(names, values)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = fn(*args)
    return np.asarray(out, dtype=float)


def numeric(expr: sp.Expr, values: Mapping[str, object]) -> np.ndarray:
    """Evaluate ``expr`` with NumPy on scalar or array ``values`` (lambdified once, cached)."""
    fn, names = _compile(expr)
    return _call(fn, names, values)


_CHUNK = 16_384     # elements per block: a few hundred kB of temporaries per block


@functools.lru_cache(maxsize=128)
def _compile_many(exprs: tuple[sp.Expr, ...]) -> tuple[Callable, tuple[str, ...]]:
    names = tuple(sorted({str(s) for e in exprs for s in e.free_symbols}))
    syms = [SYMBOLS.get(n) or EXTRA[n] for n in names]
    return _lambdify(syms, list(exprs)), names


_NAMED_TAG = "named v1"


def _source_key(*parts: str) -> str:
    """Cache key of generated code known by name (``parts``): the name with the sources of
    the model and parameter modules, which all the expressions are made of, and the
    versions of SymPy, NumPy and SciPy that generate and run it."""
    import scipy
    from pwmodel import diskcache
    return diskcache.key(_NAMED_TAG, *parts, sp.__version__, np.__version__, scipy.__version__,
                         diskcache.source_hash("pwmodel.models"),
                         diskcache.source_hash("pwmodel.params"))


def _named_code(parts: tuple[str, ...], build: Callable[[], tuple[list, object]]
                ) -> tuple[Callable, tuple[str, ...], int]:
    """(generated function, the names of its arguments in order, number of outputs) of
    ``build()`` = (argument symbols, an expression or a list of them): the code
    :func:`_lambdify` generates from them, kept in the cache folder under ``parts`` and the
    sources of the model and parameter modules (any change to them gives a new entry) and
    the versions of SymPy, NumPy and SciPy. An entry that cannot be read is made again."""
    import json
    from pwmodel import diskcache
    key = _source_key(_CODE_TAG, *parts) + ".py"
    data = diskcache.read("named", key)
    if data is not None:
        text = data.decode("utf-8", "replace")
        try:
            head = json.loads(text.split("\n", 1)[0][2:])
            args, n_out = tuple(head["args"]), int(head["outputs"])
        except (ValueError, KeyError, TypeError, IndexError):
            args, n_out = None, 0
        if args is not None and all(isinstance(n, str) for n in args):
            fn = _code_load(text, len(args))
            if fn is not None:
                return fn, args, n_out
    syms, expr = build()
    args = tuple(str(x) for x in syms)
    n_out = len(expr) if isinstance(expr, (list, tuple)) else 1
    fn, text = _lambdify_text(list(syms), expr)
    if text is not None:
        head, src = text.split("\n", 1)
        meta = {**json.loads(head[2:]), "args": list(args), "outputs": n_out}
        diskcache.write("named", key, ("# " + json.dumps(meta) + "\n" + src).encode("utf-8"))
    return fn, args, n_out


@functools.lru_cache(maxsize=None)
def compiled_named(name: str, build: Callable[[], Sequence[sp.Expr]]) -> tuple[Callable, tuple[str, ...], int]:
    """(generated function, argument names, number of outputs) of the expressions ``build()`` returns, found in
    the cache folder by ``name`` and the sources of the model and parameter modules (which
    are all the expressions are made of) instead of by the expressions themselves: a fresh
    process that finds the entry neither builds the SymPy expressions nor generates code
    (building some of them, the lru_lock overlap forms, costs seconds of SymPy's Max/Min
    simplification). The entry holds the code :func:`_lambdify` generates from ``build()``
    (arguments in :func:`numeric_many`'s order), so the values are those of
    :func:`numeric_many` on the same expressions, bit for bit
    (checked in the tests); any change to a model or parameter source gives a new entry."""
    def both() -> tuple[list, list]:
        exprs = list(build())
        names = sorted({str(x) for e in exprs for x in e.free_symbols})
        return [SYMBOLS.get(n) or EXTRA[n] for n in names], exprs
    return _named_code((name,), both)


def numeric_named(name: str, build: Callable[[], Sequence[sp.Expr]],
                  values: Mapping[str, object]) -> list[np.ndarray]:
    """:func:`numeric_many` of ``build()`` through :func:`compiled_named` (the expressions
    built only when the cache folder has no code for them)."""
    compiled = compiled_named(name, build)

    def loop() -> Callable | None:
        return _named_loop(name, build, compiled[1])
    return numeric_many(None, values, compiled=compiled, loop=loop)


_FUNCS: dict[str, tuple[Callable, tuple[str, ...]]] = {}


def named_function(name: str, build: Callable[[], tuple[list, object]]) -> tuple[Callable, tuple[str, ...]]:
    """(generated function, the names of its arguments in order) of ``build()`` = (argument
    symbols, an expression or a list of them): the code :func:`_lambdify` generates from
    them, found in the cache folder by ``name`` and the sources of the model and parameter
    modules (like :func:`compiled_named`), so that a process that finds the entry neither
    builds the expression nor fingerprints it. The same code as ``_lambdify`` of the built
    expression, hence the same values bit for bit. ``name`` must tell apart every
    expression built under it (the arguments of the function that builds it)."""
    got = _FUNCS.get(name)
    if got is None:
        got = _FUNCS[name] = _named_code(("function", name), build)[:2]
    return got


def numeric_by_name(name: str, build: Callable[[], sp.Expr], values: Mapping[str, object]) -> np.ndarray:
    """:func:`numeric` of ``build()`` through :func:`named_function` (the expression built
    only when the cache folder has no code for it): the same generated code, arguments and
    values as :func:`numeric` of the built expression."""
    def both() -> tuple[list, sp.Expr]:
        expr = build()
        return [SYMBOLS.get(n) or EXTRA[n] for n in free_names(expr)], expr
    fn, names = named_function(name, both)
    return _call(fn, names, values)


def _named_loop(name: str, build: Callable[[], Sequence[sp.Expr]],
                names: tuple[str, ...]) -> Callable | None:
    """The compiled loop (:mod:`pwmodel.models.loops`) of :func:`compiled_named`'s entry,
    keyed like it: by name and the model and parameter sources."""
    from pwmodel.models import loops
    return loops.kernel(_source_key(name), names, build)


@functools.lru_cache(maxsize=128)
def _many_stem(exprs: tuple[sp.Expr, ...]) -> str:
    from pwmodel import diskcache
    return diskcache.key("many", sp.__version__, diskcache.source_hash("pwmodel.models"),
                         fingerprint(list(exprs)))


def _run_loop(kern: Callable, args: list[np.ndarray], shape: tuple, size: int,
              n_out: int) -> list[np.ndarray] | None:
    """The compiled loop over ``size`` elements in blocks on a few threads (None: it failed
    to compile or run, and the caller evaluates the NumPy code instead)."""
    ins, step = [], np.zeros(len(args), dtype=np.int64)
    for j, a in enumerate(args):
        if a.ndim == 0:
            ins.append(a.reshape(1))
        else:
            ins.append(np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1))
            step[j] = 1
    ins = [np.ascontiguousarray(a, dtype=float).view() for a in ins]
    for a in ins:            # one argument type for numba (read-only, contiguous): one compilation
        a.flags.writeable = False
    outs = [np.empty(size) for _ in range(n_out)]
    block = max(_LOOP_BLOCK, -(-size // 64))
    starts = list(range(0, size, block))
    workers = max(1, min(os.cpu_count() or 1, 8, len(starts)))

    def run(mine: list[int]) -> None:
        for lo in mine:
            kern(lo, min(lo + block, size), step, *ins, *outs)

    try:
        if workers == 1:
            run(starts)
        else:
            with ThreadPoolExecutor(workers) as ex:
                list(ex.map(run, [starts[i::workers] for i in range(workers)]))
    except Exception:        # numba could not type or compile the loop
        return None
    return [o.reshape(shape) for o in outs]


_LOOP_BLOCK = 32_768


def numeric_many(exprs: tuple[sp.Expr, ...] | list[sp.Expr] | None, values: Mapping[str, object],
                 compiled: tuple[Callable, tuple[str, ...], int] | None = None,
                 loop: Callable[[], Callable | None] | None = None) -> list[np.ndarray]:
    """Evaluate several expressions in one generated function (common subexpressions shared).

    Large inputs are evaluated in blocks of :data:`_CHUNK` elements, so that the
    temporaries of the generated code stay in the CPU cache instead of streaming through
    memory, spread over a few threads (NumPy releases the GIL in its ufuncs); each element
    is computed by the same operations as in one call over the whole arrays.

    From :data:`pwmodel.models.loops.LOOP_MIN` elements on, the compiled loop of the same
    expressions runs instead where numba is installed (:mod:`pwmodel.models.loops`: only
    the branches that apply are computed; values within a few ulps of the NumPy code's,
    more where a formula cancels); ``loop`` gives it for ``compiled`` code."""
    from pwmodel.models import loops
    if compiled is None:
        exprs = tuple(exprs)
        fn, names = _compile_many(exprs)
        n_out = len(exprs)

        def loop() -> Callable | None:
            return loops.kernel(_many_stem(exprs), names, lambda: exprs)
    else:
        fn, names, n_out = compiled
    args = _args(names, values)
    shape = np.broadcast_shapes(*(a.shape for a in args)) if args else ()
    size = int(np.prod(shape)) if shape else 1
    if size < 2 * _CHUNK:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return [np.asarray(o, dtype=float) for o in fn(*args)]
    if size >= loops.LOOP_MIN and loop is not None:
        kern = loop()
        got = None if kern is None else _run_loop(kern, args, shape, size, n_out)
        if got is not None:
            return got
    # scalars stay scalars; arrays are brought to the common shape and flattened
    flat = [a if a.ndim == 0 else np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1)
            for a in args]
    outs = [np.empty(size) for _ in range(n_out)]
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
