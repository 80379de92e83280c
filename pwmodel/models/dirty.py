"""The dirty count D: its law, and the fan-out metrics averaged over it exactly.

Why. lru_add_drain_all() drains the CPUs whose batches are non-empty at the
call; each CPU is dirty independently with probability d, so the dirty count
is D ~ Binomial(N, d) (the mechanism; the simulator's ``dirty="binomial"``).
The closed forms of :mod:`pwmodel.models.fanout` put the mean E[D] = d N into
forms that are not linear in D (the expected maximum of D wake-ups, the
larger of two bounds, the D < 1 weighting, quantiles), so they give g(E[D]),
not E[g(D)]: Jensen's gap, +27 % on the QW requester mean at N = 2.

Given-D forms. :func:`given` rewrites a fan-out expression with the symbol D
(``dirty_cpus``) in place of d N: every occurrence of the product d N
becomes D, and "no CPU dirty" (d = 0) becomes D = 0. The expressions stay
the single source (the fanout forms themselves, evaluated with D as an
input); the averaging is numeric. A form that uses d other than through d N
(a normal approximation whose variance is the binomial N d (1 - d)) is
already a statement about the law of D and has no given-D version here
(:func:`given` returns None; its closed form stands).

The law. P(D = k) = C(N, k) d^k (1 - d)^(N - k), from log-gamma (as
scipy.stats.binom.pmf, vectorised over arrays of N, d and k). Truncation
(large N): Bernstein's inequality for a sum of N independent indicators
(|X_i - d| <= 1) gives P(|D - N d| >= t) <= 2 exp(-t^2 / (2 (s^2 + t / 3)))
with s^2 = N d (1 - d); the support kept is N d +- t with t solving
2 exp(...) = 1e-12, so the dropped mass is below 1e-12 (the weights kept are
renormalised). Between integer CPU counts (crossover searches on a continuous
N) the law is the linear interpolation of the laws at floor N and ceil N:
a law, continuous in N, exact at integers, mean d N.
The victim of a drain is a target CPU that is dirty: for it the number of
dirty CPUs is 1 + Binomial(N - 1, d) (the size-biased law, :func:`law` with
``biased``).

Means. E_D[g(D)] = sum_k P(D = k) g(k), with g the given-D form and the
wake-up order statistic E[max of k draws] looked up at each k (the same
order-statistic table as the closed form, so d in {0, 1} gives the closed
form exactly).

Quantiles of the mixture. The given-D QW requester latency is
T_k = max(a_k + M_k, b_k): M_k the maximum of k wake-ups, a_k the rest of
the slowest-CPU bound and b_k the lru_lock bound (read off the given-D p99
form numerically: its value with the wake-up quantile at -L gives b_k, at
+L gives a_k + L; the form is checked to be of this shape). So
P(T_k <= x) = 1{x >= b_k} F_W(x - a_k)^k exactly, and the q-quantile of the
mixture is the smallest x with sum_k P(D = k) P(T_k <= x) >= q, found by
bisection on arrays (every point at once) between min_k and max_k of the
components' q-quantiles (the mixture's quantile lies between them).

The switch to the closed form. Where the law is a point mass (d in {0, 1},
integer N) the mixture is the closed form; a form linear in D (no order
statistic, second derivative in D zero) has no gap (linearity of
expectation): both use the closed form and cost nothing. Elsewhere the
mixture is computed exactly when the truncated support has at most
:data:`EXACT_SUPPORT` points (small N: the cost is bounded). Wider supports
(large N) get a cheap coarse check: the same mixture over a
:data:`COARSE_NODES`-point Gauss-Hermite law (nodes d N + sqrt(2) s z_i
clipped to [0, N], weights w_i / sqrt(pi), exact for polynomials of degree
<= 2 COARSE_NODES - 1 in a normal D, so for the curvature term 1/2 g''(E D)
Var(D) of Jensen's gap and a kink within +-2.6 s of the mean); where it
differs from the closed form by less than :data:`SWITCH` x the validation
tolerance (mean 2 %, tails 5 %), the closed form stands. This is the
"compute both on a coarse check" rule, not a bound: a form whose gap the
coarse law cannot see (a kink in D narrower than the node spacing) would
keep its closed form; the validation against the simulator is the check.
Where the check fails, the mixture is computed over the truncated law cut
into :data:`EXACT_SUPPORT` runs of consecutive counts, each run's mass at its
conditional mean (:func:`_binned`): the mean of D is kept, its variance
loses the within-run part, at most h^2 / 12 with run width h = ceil(2 t /
EXACT_SUPPORT) counts: h / sd <= 0.71 where runs first appear (support just over
EXACT_SUPPORT points) and -> 2 sqrt(2 ln(2e12)) / EXACT_SUPPORT = 0.24 at large N,
so the binned mixture keeps Jensen's curvature term to (h / sd)^2 / 12 <= 4.2 %
of itself (0.5 % at large N), and the cost per point is bounded by EXACT_SUPPORT
evaluations of the form. Every point is computed on exactly EXACT_SUPPORT
columns and its bisection stops at its own convergence, so a point's value
does not depend on which other points are evaluated with it (a sweep equals
evaluate() bit for bit).

The RL requester quantile (:func:`normal_quantile` with ``small``): its given-D law is
a sum of D per-CPU terms, exact (:func:`pwmodel.models.rlsum.exact_cdfs`) for
1 <= D <= rlsum.D_EXACT and normal above; the mixture over D takes each component's
own law, in both conventions (the fixed one is the two-point law of the stochastic
rounding of d N, :func:`fixed_law`). The RL worst victim: its expectation over D given
D >= 1 (:func:`pwmodel.models.rlsum.owner_loss_emax`, through :func:`_apply`).
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Mapping, Protocol

import numpy as np
import sympy as sp
from scipy import special

from pwmodel.models import fanout as F
from pwmodel.models import disk_memo, numeric
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

D = X.dirty_cpus
CONVENTIONS = ("binomial", "fixed")
DESCRIPTION = {
    "binomial": "D ~ Binomial(N, d): each CPU dirty with probability d; metrics averaged over "
                "the law of D (pwmodel.models.dirty)",
    "fixed": "D = d N: the mean dirty count in the closed forms (pwmodel.models.fanout)",
}
TAIL_MASS = 1e-12           # probability mass of D dropped by the truncation
MEAN_TOL, TAIL_TOL = 0.02, 0.05   # relative: the tolerances of the validation (docs/validity.md), used there too
SWITCH = 0.1                # closed form where the coarse check is within SWITCH x tolerance
EXACT_SUPPORT = 64          # supports up to this many points: the exact mixture, no check
COARSE_NODES = 7
_L = 1e9                    # ns: a wake-up quantile far beyond any bound (reading a_k, b_k)


def check(convention: str) -> str:
    if convention not in CONVENTIONS:
        from pwmodel.errors import PwmodelError
        raise PwmodelError(f"unknown dirty-count convention '{convention}' "
                           f"(known: {', '.join(CONVENTIONS)})", field="dirty_count")
    return convention


# ---- given-D forms --------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def given(expr: sp.Expr, certain: bool = False) -> sp.Expr | None:
    """``expr`` with the dirty count D in place of d N (None: d appears otherwise).

    ``certain``: a form that is a statement about the law of D (a normal approximation
    whose variance includes the binomial N d (1 - d)) given D: the count is certain,
    its variance zero; after D replaces d N, d is left only in the factors (1 - d) of
    that variance, which d = 1 sets to 0."""
    g = _replace_nd(expr, {})
    if S["dirty_fraction"] in g.free_symbols:
        if not certain:
            return None
        g = g.xreplace({S["dirty_fraction"]: sp.Integer(1)})
    return g


def _replace_nd(e: sp.Basic, memo: dict) -> sp.Basic:
    """``e`` with every product containing the factors d and N rewritten with D in their
    place, and d = 0 as D = 0 (what ``subs(d N, D)`` does here, by one pass over the tree:
    SymPy's ``subs`` costs seconds on these forms)."""
    if e in memo:
        return memo[e]
    d, n = S["dirty_fraction"], X.n_cpus
    if e == F._none:
        out: sp.Basic = sp.Eq(D, 0)
    elif not e.args or d not in e.free_symbols:
        out = e
    else:
        args = [_replace_nd(a, memo) for a in e.args]
        if isinstance(e, sp.Mul) and d in args and n in args:
            args.remove(d)
            args.remove(n)
            args.append(D)
        out = e.func(*args) if args != list(e.args) else e
    memo[e] = out
    return out


@functools.lru_cache(maxsize=256)
@disk_memo("nonlinear")     # the simplify below costs more than a whole evaluation
def depends_nonlinearly(expr: sp.Expr) -> bool:
    """Whether the given-D form is not linear in D (an order statistic or curvature)."""
    g = given(expr)
    if g is None or D not in g.free_symbols:
        return False
    if g.free_symbols & {X.wake_emax_ns, X.wake_smax_ns, X.wake_qmax_ns}:
        return True
    try:
        return sp.simplify(sp.diff(g, D, 2)) != 0
    except Exception:      # Piecewise/Max derivatives: assume the worst
        return True


# ---- the law of D ---------------------------------------------------------------------
def half_width(n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """t with P(|D - N d| >= t) <= TAIL_MASS (Bernstein's inequality)."""
    c = 2.0 * math.log(2.0 / TAIL_MASS)
    s2 = n * d * (1.0 - d)
    return 0.5 * (c / 3.0 + np.sqrt((c / 3.0) ** 2 + 4.0 * c * s2))


def _pmf(k: np.ndarray, n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Binomial pmf (0 outside 0..n), log-gamma form, d in [0, 1]."""
    ok = (k >= 0) & (k <= n)
    kk = np.where(ok, k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = (special.gammaln(n + 1.0) - special.gammaln(kk + 1.0) - special.gammaln(n - kk + 1.0)
              + special.xlogy(kk, d) + special.xlog1py(n - kk, -d))
    return np.where(ok, np.exp(lp), 0.0)


def support_size(n: np.ndarray, d: np.ndarray, biased: bool = False) -> np.ndarray:
    """Points of the truncated support of D at each (N, d)."""
    n = np.asarray(n, dtype=float) - (1.0 if biased else 0.0)
    d = np.asarray(d, dtype=float)
    hi = np.ceil(n)
    t = half_width(hi, d)
    a = np.maximum(0.0, np.ceil(d * np.floor(n) - t))
    b = np.minimum(hi, np.floor(d * hi + t))
    return (b - a + 1.0).astype(np.int64)


def law(n: np.ndarray, d: np.ndarray, biased: bool = False, bins: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(k, weights), each of shape (P, K): the truncated law of D at P points (N, d).

    ``bins`` > 0: supports wider than that are cut into ``bins`` runs of consecutive
    counts, each run's mass at its conditional mean (:func:`_binned`); every row then
    has exactly ``bins`` columns (so each point's sums do not depend on the others).

    ``biased``: the law seen from a dirty CPU, 1 + Binomial(N - 1, d). Non-integer N:
    the interpolation of the laws at floor N and ceil N. Rows are padded with weight 0."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    d = np.broadcast_to(np.asarray(d, dtype=float), n.shape)
    m = n - 1.0 if biased else n
    lo_n, hi_n = np.floor(m), np.ceil(m)
    frac = m - lo_n
    t = half_width(hi_n, d)
    a = np.maximum(0.0, np.ceil(d * lo_n - t))
    b = np.minimum(hi_n, np.floor(d * hi_n + t))
    size = int((b - a).max()) + 1 if n.size else 1
    k = a[:, None] + np.arange(size)[None, :]
    w = ((1.0 - frac)[:, None] * _pmf(k, lo_n[:, None], d[:, None])
         + frac[:, None] * _pmf(k, hi_n[:, None], d[:, None]))
    w = np.where(k <= b[:, None], w, 0.0)
    if bins:        # every row on exactly ``bins`` columns: sums independent of the batch
        k, w = _binned(k, w, bins)
    w = w / w.sum(axis=1, keepdims=True)
    return k + (1.0 if biased else 0.0), w


def _binned(k: np.ndarray, w: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The law with each row's support cut into at most ``bins`` runs of consecutive
    counts (run length from that row's own support), each run's mass at its conditional
    mean (the mean of D kept exactly); rows with a support of at most ``bins`` points
    are kept as they are."""
    p, size = k.shape
    live = w > 0
    first = np.argmax(live, axis=1)
    last = size - 1 - np.argmax(live[:, ::-1], axis=1)
    width = last - first + 1
    per = np.maximum(1, -(-width // bins))                  # ceil(width / bins)
    j = np.arange(size)[None, :] - first[:, None]
    b = np.clip(j // per[:, None], 0, bins - 1)
    b = np.where(live, b, bins - 1)
    flat = (np.arange(p)[:, None] * bins + b).ravel()
    mass = np.bincount(flat, weights=w.ravel(), minlength=p * bins).reshape(p, bins)
    kw = np.bincount(flat, weights=(k * w).ravel(), minlength=p * bins).reshape(p, bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mass > 0, kw / np.where(mass > 0, mass, 1.0), 0.0)
    return mean, mass


def coarse_law(n: np.ndarray, d: np.ndarray, biased: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, weights) of shape (P, COARSE_NODES): Gauss-Hermite law with D's mean and sd."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    d = np.broadcast_to(np.asarray(d, dtype=float), n.shape)
    m = n - 1.0 if biased else n
    z, wz = np.polynomial.hermite.hermgauss(COARSE_NODES)
    mu, sd = m * d, np.sqrt(m * d * (1.0 - d))
    k = np.clip(mu[:, None] + math.sqrt(2.0) * sd[:, None] * z[None, :], 0.0, m[:, None])
    w = np.broadcast_to(wz / math.sqrt(math.pi), k.shape)
    return k + (1.0 if biased else 0.0), w


# ---- order statistics of the wake-up distribution at each point ----------------------
class Wake(Protocol):
    """Order statistics of the wake-up distribution of each point's row (case)."""

    def emax(self, k: np.ndarray, rows: np.ndarray) -> np.ndarray: ...   # E[max of k draws]
    def qmax(self, k: np.ndarray, rows: np.ndarray, q: float) -> np.ndarray: ...
    def smax(self, k: np.ndarray, rows: np.ndarray, tq) -> np.ndarray: ...   # E[max_i (W_i - i t_q)]
    def cdf(self, x: np.ndarray, rows: np.ndarray) -> np.ndarray: ...


def _select(v: Mapping[str, object], shape: tuple[int, ...], idx: np.ndarray,
            names: frozenset[str] | None = None) -> dict[str, object]:
    """The values at the flat point indices ``idx``, as (P, 1) columns (scalars kept); of
    ``names`` only, if given. A column of a (K, M) batch (one value per case) is read at
    each point's row, not broadcast to the batch first."""
    out: dict[str, object] = {}
    row = None
    for name, x in v.items():
        if names is not None and name not in names:
            continue
        a = np.asarray(x, dtype=float) if not isinstance(x, str) else x
        if isinstance(a, str) or a.ndim == 0:
            out[name] = a
        elif len(shape) == 2 and a.shape == (shape[0], 1):
            if row is None:
                row = idx // shape[1]
            out[name] = a[row]
        else:
            out[name] = np.broadcast_to(a, shape).reshape(-1)[idx][:, None]
    return out


def _values_at(v: Mapping[str, object], shape, idx, rows, k, wake: Wake, need_qmax: float | None,
               need_emax: bool = True, names: frozenset[str] | None = None) -> dict[str, object]:
    sel = _select(v, shape, idx, names)
    sel["dirty_cpus"] = k
    # the fanout forms use d only through d N (:func:`given` checks it): evaluated with
    # d = k / N they are the given-D forms at D = k, and the code generated for the
    # closed form is reused (no second compilation)
    with np.errstate(divide="ignore", invalid="ignore"):
        sel["dirty_fraction"] = k / np.asarray(sel["n_cpus"], dtype=float)
    r2 = np.broadcast_to(rows[:, None], k.shape)
    if need_emax:
        sel["wake_emax_ns"] = wake.emax(k, r2)
        sel["wake_smax_ns"] = wake.smax(k, r2, sel["queue_work_ns"])
    if need_qmax is not None:
        sel["wake_qmax_ns"] = wake.qmax(k, r2, need_qmax)
    return sel


@functools.lru_cache(maxsize=256)
def _reads(expr: sp.Expr) -> frozenset[str]:
    """The values :func:`_mean_at` selects for ``expr``: its symbols' and those
    :func:`_values_at` reads itself."""
    return frozenset(str(s) for s in expr.free_symbols) | {"n_cpus", "queue_work_ns"}


def _mean_at(expr: sp.Expr, v, shape, idx, rows, k, w, wake: Wake) -> np.ndarray:
    vals = numeric(expr, _values_at(v, shape, idx, rows, k, wake, None, names=_reads(expr)))
    vals = np.broadcast_to(vals, k.shape)
    with np.errstate(invalid="ignore"):
        return np.sum(np.where(w > 0, w * vals, 0.0), axis=1)


def _law(n, d, biased, coarse):
    return (coarse_law if coarse else law)(n, d, biased)


_LAWS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _law_shared(n: np.ndarray, d: np.ndarray, biased: bool, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`law`, computed once for the same points: every metric of an evaluation
    averages over the law of D at the same (N, d) (the arrays are returned read-only)."""
    key = (n.tobytes(), d.tobytes(), biased, bins)
    got = _LAWS.get(key)
    if got is None:
        got = law(n, d, biased, bins=bins)
        for x in got:
            x.setflags(write=False)
        if len(_LAWS) >= 64:
            _LAWS.clear()
        _LAWS[key] = got
    return got


def fixed_law(n: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, weights) of shape (P, 2): the fixed convention's dirty count, d N rounded
    stochastically (floor(d N) with probability 1 - frac(d N), else ceil(d N)), the law
    the simulator's ``dirty="fixed"`` draws."""
    dn = np.atleast_1d(np.asarray(n, dtype=float) * np.asarray(d, dtype=float))
    lo = np.floor(dn)
    fr = dn - lo
    return np.stack([lo, lo + 1.0], axis=1), np.stack([1.0 - fr, fr], axis=1)


def _apply(closed: np.ndarray, v: Mapping[str, object], shape: tuple[int, ...], rows_of: Callable,
           tol: float, biased: bool, compute: Callable, exact: bool = False,
           force: np.ndarray | None = None, fixed: bool = False) -> np.ndarray:
    """The switch: closed form where D is certain or the coarse check agrees; the exact
    mixture (``compute(idx, rows, k, w)``) elsewhere (everywhere with ``exact``).
    ``force`` (flat mask): points computed as mixtures whatever the switch says (their
    closed form is not the given-D law). ``fixed``: the fixed convention (the two-point
    law of :func:`fixed_law`); only the ``force`` points are computed, the closed form
    (at D = d N) stands elsewhere."""
    out = np.array(np.broadcast_to(closed, shape), dtype=float, order="C")   # flat is a view
    n = np.broadcast_to(np.asarray(v["n_cpus"], dtype=float), shape).reshape(-1)
    d = np.broadcast_to(np.asarray(v["dirty_fraction"], dtype=float), shape).reshape(-1)
    flat = out.reshape(-1)
    if fixed:
        idx = np.nonzero(force)[0] if force is not None else np.zeros(0, dtype=np.intp)
        for lo in range(0, idx.size, 256):
            part = idx[lo:lo + 256]
            k, w = fixed_law(n[part], d[part])
            flat[part] = compute(part, rows_of(part), k, w)
        return out
    m = n - 1.0 if biased else n
    certain = ((d == 0.0) | (d == 1.0)) & (m == np.round(m))
    certain |= m <= 0.0
    if exact:
        certain[:] = False
    if force is not None:
        certain &= ~force
    idx = np.nonzero(~certain)[0]
    if idx.size == 0:
        return out
    size = support_size(n[idx], d[idx], biased)
    wide = (size > EXACT_SUPPORT) & (not exact)
    if force is not None:
        wide &= ~force[idx]
    if wide.any():
        iw = idx[wide]
        k, w = coarse_law(n[iw], d[iw], biased)
        est = compute(iw, rows_of(iw), k, w)
        ref = flat[iw]
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(est - ref) / np.maximum(np.abs(ref), 1e-300)
        agree = (rel <= SWITCH * tol) | (np.isinf(est) & np.isinf(ref) & (est == ref))
        idx = np.concatenate([idx[~wide], iw[~agree]])
    if idx.size == 0:
        return out
    # exact mixtures, in blocks of similar support size (cost ~ points x support)
    order = np.argsort(support_size(n[idx], d[idx], biased), kind="stable")
    idx = idx[order]
    for lo in range(0, idx.size, 256):
        part = idx[lo:lo + 256]
        k, w = _law_shared(n[part], d[part], biased, 0 if exact else EXACT_SUPPORT)
        flat[part] = compute(part, rows_of(part), k, w)
    return out


def expect(expr: sp.Expr, closed: np.ndarray, v: Mapping[str, object], shape: tuple[int, ...],
           wake: Wake, rows_of: Callable, tol: float = MEAN_TOL, biased: bool = False,
           exact: bool = False) -> np.ndarray:
    """E_D[g(D)] of the fan-out expression ``expr`` at every point of ``shape`` (values
    ``v`` as for the closed form, whose values ``closed`` are kept where the switch
    allows); ``rows_of(flat indices)`` gives each point's wake-up row."""
    g = given(expr)
    if g is None or not depends_nonlinearly(expr):
        return np.broadcast_to(closed, shape)

    def compute(idx, rows, k, w):
        return _mean_at(expr, v, shape, idx, rows, k, w, wake)

    return _apply(closed, v, shape, rows_of, tol, biased, compute, exact)


def _bounds(gq: sp.Expr, sel: dict[str, object], shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(a_k, b_k) of T_k = max(a_k + M_k, b_k), read off the given-D quantile form."""
    lo = np.broadcast_to(numeric(gq, {**sel, "wake_qmax_ns": -_L}), shape)
    hi = np.broadcast_to(numeric(gq, {**sel, "wake_qmax_ns": _L}), shape)
    mid = np.broadcast_to(numeric(gq, {**sel, "wake_qmax_ns": 0.0}), shape)
    a, b = hi - _L, lo
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(mid) & (np.abs(mid - np.maximum(a, b)) > 1e-6 * np.maximum(np.abs(mid), 1.0))
    if bad.any():
        from pwmodel.errors import PwmodelError
        raise PwmodelError("the given-D quantile form is not max(a + M_D, b) in the wake-up "
                           "maximum M_D; the mixture quantile cannot read it", field="requester_p99_ns")
    return a, b


def _mixture_cdf(x, a, b, k, w, rows, wake: Wake) -> np.ndarray:
    xx = np.broadcast_to(x[:, None], k.shape)
    r2 = np.broadcast_to(rows[:, None], k.shape)
    with np.errstate(invalid="ignore"):
        fw = wake.cdf(xx - a, r2)
        comp = np.where(xx >= b, np.where(k > 0, np.power(fw, k), 1.0), 0.0)
    return np.sum(w * comp, axis=1)


def quantile(expr: sp.Expr, q: float, closed: np.ndarray, v: Mapping[str, object],
             shape: tuple[int, ...], wake: Wake, rows_of: Callable, tol: float = TAIL_TOL,
             exact: bool = False) -> np.ndarray:
    """The q-quantile of the mixture over D of the QW requester latency (``expr`` its
    given-D quantile form in ``wake_qmax_ns``), by bisection on arrays."""
    g = given(expr)
    if g is None or X.wake_qmax_ns not in g.free_symbols:
        return np.broadcast_to(closed, shape)

    def compute(idx, rows, k, w):
        sel = _values_at(v, shape, idx, rows, k, wake, q)
        a, b = _bounds(expr, sel, k.shape)
        live = w > 0
        comp_q = np.where(live, np.maximum(a + sel["wake_qmax_ns"], b), np.nan)
        lo = np.nanmin(comp_q, axis=1)
        hi = np.nanmax(comp_q, axis=1)
        # the mixture never reaches q where the mass at +inf is too large
        sup = _mixture_cdf(np.full(idx.size, 1e300), a, b, k, w, rows, wake)
        cdf = lambda x: _mixture_cdf(x, a, b, k, w, rows, wake)  # noqa: E731
        sub = lambda x, i: _mixture_cdf(x, a[i], b[i], k[i], w[i], rows[i], wake)  # noqa: E731
        x = _bisect(cdf, q, lo, hi, sup >= q, sub)
        return _snap(x, np.where(live, b, np.nan), cdf, q)      # the lock bound's point masses

    return _apply(closed, v, shape, rows_of, tol, False, compute, exact)


def _snap(x: np.ndarray, atoms: np.ndarray, cdf: Callable, q: float) -> np.ndarray:
    """Where the mixture has a point mass (``atoms``: (P, K) locations, nan where none)
    within the bisection's tolerance of the result, the quantile is that location exactly
    (so two levels falling on the same point mass give the same value)."""
    with np.errstate(invalid="ignore"):
        gap = np.abs(atoms - x[:, None])
        near = gap <= 2e-8 * np.maximum(np.abs(x), 1.0)[:, None]
    if not near.any():
        return x
    c = np.where(near, atoms, np.inf).min(axis=1)
    ok = np.isfinite(c) & np.isfinite(x)
    cc = np.where(ok, c, 0.0)
    return np.where(ok & (cdf(cc) >= q), cc, x)


def _bisect(cdf: Callable, q: float, lo: np.ndarray, hi: np.ndarray, fin: np.ndarray,
            sub: Callable | None = None) -> np.ndarray:
    """Smallest x with cdf(x) >= q at each point (where ``fin``; inf elsewhere), starting
    from the bracket [lo, hi], widened where it does not hold; Illinois regula falsi on
    the bracket (bisection every other step, so steps of the CDF cannot stall it), to a
    relative width of 1e-8. ``sub(x, rows)``: the CDF of the points ``rows`` only (row by
    row the values ``cdf`` gives them): each step then evaluates only the points still
    narrowing their bracket."""
    lo = np.where(np.isfinite(lo), lo, 0.0)
    lo = lo - 1e-3 * np.maximum(np.abs(lo), 1.0) - 1.0
    hi = np.where(np.isfinite(hi), hi + 1e-3 * np.maximum(np.abs(hi), 1.0) + 1.0,
                  np.maximum(lo, 1.0) * 2.0)
    f_hi = cdf(hi) - q
    for _ in range(200):
        short = fin & (f_hi < 0)
        if not short.any():
            break
        hi = np.where(short, hi + 2.0 * (hi - lo), hi)
        f_hi = np.where(short, cdf(hi) - q, f_hi)
    f_lo = cdf(lo) - q
    for _ in range(200):
        low = fin & (f_lo >= 0)
        if not low.any():
            break
        lo = np.where(low, lo - 2.0 * (hi - lo), lo)
        f_lo = np.where(low, cdf(lo) - q, f_lo)
    # invariant: f_lo < 0 <= f_hi
    # each point stops at its own convergence: its result does not depend on the others
    side = np.zeros(lo.shape)
    for it in range(300):
        act = fin & (hi - lo > 1e-8 * np.maximum(np.abs(hi), 1.0))
        if not act.any():
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        mid = 0.5 * (lo + hi)
        ok = np.isfinite(x) & (x > lo) & (x < hi) & (it % 2 == 0)
        x = np.where(ok, x, mid)
        if sub is None:
            fx = cdf(x) - q
        else:           # the others' values are not read (every update below is under act)
            live = np.nonzero(act)[0]
            fx = np.full(x.shape, np.nan)
            fx[live] = sub(x[live], live) - q
        up = fx >= 0
        # Illinois: halve the kept end's value when the same end is kept twice
        f_lo = np.where(act & up & (side == -1), 0.5 * f_lo, f_lo)
        f_hi = np.where(act & ~up & (side == 1), 0.5 * f_hi, f_hi)
        hi, f_hi = np.where(act & up, x, hi), np.where(act & up, fx, f_hi)
        lo, f_lo = np.where(act & ~up, x, lo), np.where(act & ~up, fx, f_lo)
        side = np.where(act, np.where(up, -1, 1), side)
    return np.where(fin, hi, math.inf)


SMALL_MASS = 1e-3 * (1.0 - 0.99)   # P(1 <= D <= D_small) below this: exact components not needed


def small_mass(n: np.ndarray, d: np.ndarray, d_small: int) -> np.ndarray:
    """P(1 <= D <= d_small) for D ~ Binomial(N, d) (non-integer N: between floor and ceil)."""
    n = np.asarray(n, dtype=float)
    d = np.asarray(d, dtype=float)
    lo, hi = np.floor(n), np.ceil(n)
    fr = n - lo

    def at(m):
        with np.errstate(invalid="ignore", divide="ignore"):
            upto = np.where(m <= d_small, 1.0, special.bdtr(d_small, np.maximum(m, d_small + 1).astype(np.int64), d))
        return upto - np.power(1.0 - d, m)

    return (1.0 - fr) * at(lo) + fr * at(hi)


def normal_quantile(mean_expr: sp.Expr, q_expr: sp.Expr, q: float, closed: np.ndarray,
                    v: Mapping[str, object], shape: tuple[int, ...], wake: Wake | None,
                    rows_of: Callable | None, tol: float = TAIL_TOL, exact: bool = False,
                    form_q: float = 0.99, small: tuple[int, Callable] | None = None,
                    fixed: bool = False) -> np.ndarray:
    """The q-quantile of the mixture over D of a latency whose given-D law is normal
    (a sum of D per-CPU terms): mean the given-D ``mean_expr``, sd (Q_k - mu_k) / z_q
    from the given-D ``q_expr`` (the count certain, :func:`given`); sd 0 is a point
    mass. ``q_expr`` is the form's ``form_q``-quantile (z of that level gives the sd; the
    mixture's level is ``q``). Mixture CDF sum_k P(D = k) Phi((x - mu_k) / sd_k),
    bisection on arrays.

    ``small`` = (D_small, components): the components with 1 <= k <= D_small take their
    exact given-D law instead of the normal (``components(sel, k, w)`` -> (mask of the
    columns it covers, their CDFs at x), or None). Switch rule: a point whose
    P(1 <= D <= D_small) exceeds :data:`SMALL_MASS` is always computed as a mixture with
    those exact components (its closed form is the normal law); where that mass is below
    it, replacing the exact components by normals moves the mixture's CDF by less than
    1e-3 of the tail mass 1 - q at every x (the level 0.99 by at most 1e-5), so the
    switch of :func:`_apply` stands there. ``fixed``: the fixed convention, the two-point
    law of the stochastic rounding of d N (:func:`fixed_law`), computed only where some
    component is small (the closed normal form at D = d N elsewhere)."""
    from statistics import NormalDist
    # (the forms carry the finite-population factor of the pair classes of D distinct
    # CPUs themselves, fanout.rl_quantile_expr; applying it here too squared it)
    gm, gq = given(mean_expr), given(q_expr, certain=True)
    if gm is None or gq is None or D not in gq.free_symbols:
        return np.broadcast_to(closed, shape)
    gm = mean_expr          # d = k / N in the closed form: the given-D mean (see _values_at)
    z = NormalDist().inv_cdf(form_q)
    rows_of = rows_of if rows_of is not None else (lambda idx: np.zeros(np.shape(idx), dtype=np.intp))
    force = None
    if small is not None:
        n = np.broadcast_to(np.asarray(v["n_cpus"], dtype=float), shape).reshape(-1)
        d = np.broadcast_to(np.asarray(v["dirty_fraction"], dtype=float), shape).reshape(-1)
        if fixed:
            force = (n * d > 0) & (np.floor(n * d) <= small[0])
        else:
            force = small_mass(n, d, small[0]) > SMALL_MASS
    elif fixed:
        return np.broadcast_to(closed, shape)

    def compute(idx, rows, k, w):
        sel = _values_at(v, shape, idx, rows, k, wake, None, need_emax=False)
        mu = np.broadcast_to(numeric(gm, sel), k.shape)
        qk = np.broadcast_to(numeric(gq, sel), k.shape)
        sd = np.maximum((qk - mu) / z, 0.0)
        pos = sd > 0
        sd1 = np.where(pos, sd, 1.0)
        ex = small[1](sel, k, w) if small is not None else None
        cover = ex[0] if ex is not None else np.zeros(k.shape, dtype=bool)

        def sub(x, i):
            """The mixture CDF at x of the points ``i`` (an index array or all: a slice)."""
            xx = x[:, None]
            with np.errstate(invalid="ignore"):
                c = np.where(pos[i], special.ndtr((xx - mu[i]) / sd1[i]),
                             (xx >= mu[i]).astype(float))
            if ex is not None:
                full = np.zeros(k.shape[0])
                full[i] = x
                c = np.where(cover[i], ex[1](full)[i], c)
            return np.sum(w[i] * c, axis=1)

        def cdf(x):
            return sub(x, slice(None))

        live = w > 0
        zq = NormalDist().inv_cdf(q)
        comp = np.where(live, mu + zq * sd, np.nan)     # the components' q-quantiles
        fin = np.all(np.isfinite(np.where(live, qk, 0.0)), axis=1)
        x = _bisect(cdf, q, np.nanmin(comp, axis=1), np.nanmax(comp, axis=1), fin, sub)
        return _snap(x, np.where(live & ~pos & ~cover, mu, np.nan), cdf, q)

    return _apply(closed, v, shape, rows_of, tol, False, compute, exact, force=force, fixed=fixed)


def law_exprs() -> dict[str, sp.Expr]:
    """The law of D and the averages over it as SymPy statements (docs/model.md renders
    them; tests/test_dirty.py checks :func:`_pmf` and :func:`law` against ``pmf`` and
    ``pmf_victim``). ``k`` is the dirty count, ``x`` the latency, ``q`` the quantile level;
    ``g`` the given-D form (:func:`given`), ``F_W`` the wake-up CDF and ``a_k``, ``b_k`` the
    two bounds of the given-D QW requester latency (module docstring)."""
    n, d = X.n_cpus, S["dirty_fraction"]
    k = sp.Symbol("k", integer=True, nonnegative=True)
    x, q = sp.symbols("x q", positive=True)
    g, fw, a, b = (sp.Function(s) for s in ("g", "F_W", "a", "b"))
    pmf = sp.binomial(n, k) * d ** k * (1 - d) ** (n - k)
    victim = sp.binomial(n - 1, k - 1) * d ** (k - 1) * (1 - d) ** (n - k)
    return {"k": k, "pmf": pmf, "pmf_victim": victim,
            "mean": sp.Sum(pmf * g(k), (k, 0, n)),
            "quantile": sp.Eq(sp.Sum(pmf * sp.Heaviside(x - b(k)) * fw(x - a(k)) ** k,
                                     (k, 0, n)), q)}
