"""Quantiles of the RL requester latency at a given number D of dirty CPUs.

The RL requester drains the D dirty CPUs one after another: its time is

    RL = t_mutex + sum_{i=1}^{D} (S_R(c_i) + l_check c_i + W_i),

c_i the pair-class c2c of dirty CPU i (the requester's own CPU counts 0), W_i
the wait for that owner's local critical section (0 with probability
1 - rho, U(0, S_L) with probability rho = lambda_L S_L: the owner's
alternating think/section state; :func:`pwmodel.models.contention.remote_wait_expr`
is its mean). The D dirty CPUs are D *distinct* CPUs of the N (a random
D-subset, in both dirty-count conventions), so their pair classes are a
multivariate hypergeometric draw, not D independent ones.

Rule: exact for D <= D_EXACT, normal above.

* Exact (D <= D_EXACT): the law of sum_i c-terms is built by a recursion over
  the pair classes, P_c[j, x] = sum_k C(n_c, k) P_{c-1}[j - k, x - k v_c]
  (k of the n_c CPUs of class c, each adding v_c = (lines of S_R + l_check) c),
  on a grid of GRID nodes (atoms split linearly between neighbouring nodes, so
  the mean is kept; carried as discrete Fourier transforms, so each step is a
  product), divided by C(N, j); the D-fold owner-wait sum is the D-th power of
  one wait's transform on the same grid, multiplied in.
  A fractional D (stochastic rounding) mixes the laws at floor(D) and ceil(D).
* Normal (D > D_EXACT): mean rl_mean_expr, variance D Var(W) + D l^2 Var(c)
  (N - D) / (N - 1), the finite-population correction of drawing D distinct
  CPUs (fanout.rl_quantile_expr). The switch: against the exact law the normal
  p99 overshoots by 6-18 % at D = 2, 2-5.4 % at D = 8..9 and 1-2.3 % at D = 16
  on the bundled machines (few pair classes: the sum is discrete), so D_EXACT
  = 16 keeps the normal's error below half the 5 % tail tolerance where it is
  used; against the simulator it is within 1.1 % at D = 32.

Sources: mm/swap.c __lru_add_drain_all() of the seed patch (pw_lock on each
CPU's lock, drain, unlock, in CPU order); docs/validity.md.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from scipy import special

from pwmodel.models import coherence
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

D_EXACT = 16          # the exact law up to this many dirty CPUs
GRID = 512            # nodes of the value grid of the exact law
MAX_CLASSES = X.PAIR_CLASSES   # pair classes carried as inputs (pair_n_<i>, pair_c2c_<i>_ns)


def c2c_lines_expr() -> sp.Expr:
    """Lines whose transfer each dirty CPU costs the requester: those of S_R plus the
    batch-counter check (the coefficient of c2c in S_R(c) + l_check c)."""
    c = sp.Symbol("c")
    return sp.diff(coherence.remote_hold_expr(c), c) + S["lines_check"]


def fixed_expr() -> sp.Expr:
    """ns each dirty CPU costs the requester whatever its pair class (S_R at c2c = 0)."""
    return coherence.remote_hold_expr(sp.Integer(0))


def wait_share_expr() -> sp.Expr:
    """rho: probability that the owner is inside its local section when the drain comes."""
    return S["local_rate_hz"] * sp.Float(1e-9) * S["local_cs_ns"]


@functools.lru_cache(maxsize=None)
def _fns():
    from pwmodel.models import _lambdify
    from pwmodel.models.symbols import EXTRA
    from pwmodel.params import SYMBOLS
    out = {}
    for key, e in (("lines", c2c_lines_expr()), ("fixed", fixed_expr()), ("rho", wait_share_expr())):
        names = tuple(sorted(str(s) for s in e.free_symbols))
        out[key] = (_lambdify([SYMBOLS.get(n) or EXTRA[n] for n in names], e), names)
    return out


def _ev(key: str, v) -> np.ndarray:
    fn, names = _fns()[key]
    return np.asarray(fn(*[np.asarray(v[n], dtype=float) for n in names]), dtype=float)


def class_inputs(machine, n: np.ndarray, c2c_scale=1.0) -> dict[str, np.ndarray]:
    """pair_n_<i> (CPUs of class i among the n, requester's own CPU included) and
    pair_c2c_<i>_ns for the machine's classes (self first), zero-padded to MAX_CLASSES."""
    counts = machine.class_counts(np.asarray(n, dtype=float))
    c2c = {"self": 0.0, **{lv.pair_class: lv.c2c_ns for lv in machine.levels}}
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(list(counts)[:MAX_CLASSES]):
        out[f"pair_n_{i}"] = np.asarray(counts[name], dtype=float)
        out[f"pair_c2c_{i}_ns"] = np.asarray(c2c[name] * np.asarray(c2c_scale, dtype=float))
    for i in range(len(counts), MAX_CLASSES):
        out[f"pair_n_{i}"] = np.zeros(np.shape(n))
        out[f"pair_c2c_{i}_ns"] = np.asarray(0.0)
    return out


def _split(pmf: np.ndarray, pos: np.ndarray, w: np.ndarray) -> None:
    """Add weights ``w`` (K, m) at fractional grid positions ``pos`` (K, m) to ``pmf`` (K, G),
    split linearly between the two neighbouring nodes."""
    k, g = pmf.shape
    i0 = np.clip(np.floor(pos).astype(np.intp), 0, g - 1)
    fr = np.clip(pos - i0, 0.0, 1.0)
    i1 = np.minimum(i0 + 1, g - 1)
    rows = np.broadcast_to(np.arange(k)[:, None], i0.shape)
    np.add.at(pmf, (rows, i0), w * (1 - fr))
    np.add.at(pmf, (rows, i1), w * fr)


def exact_quantile(q: float, v, d: np.ndarray) -> np.ndarray:
    """q-quantile (ns) of the RL requester latency at dirty counts ``d`` (1 <= d <=
    D_EXACT; flat arrays), from the symbol values ``v`` (flat arrays or scalars)."""
    d = np.asarray(d, dtype=float).ravel()
    k = d.size
    get = lambda key: np.broadcast_to(_ev(key, v), (k,)) if k else np.empty(0)  # noqa: E731
    lines, fixed, rho = get("lines"), get("fixed"), get("rho")
    sl = np.broadcast_to(np.asarray(v["local_cs_ns"], dtype=float), (k,))
    n_c = np.stack([np.broadcast_to(np.asarray(v[f"pair_n_{i}"], dtype=float).ravel(), (k,))
                    for i in range(MAX_CLASSES)], axis=1)
    val = np.stack([np.broadcast_to(np.asarray(v[f"pair_c2c_{i}_ns"], dtype=float).ravel(), (k,))
                    for i in range(MAX_CLASSES)], axis=1) * lines[:, None]       # (k, C)
    n_tot = n_c.sum(axis=1)
    d_hi = np.minimum(np.ceil(d), D_EXACT).astype(np.intp)
    jmax = int(d_hi.max()) if k else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        wait_on = (rho > 0) & (sl > 0)
    span = d_hi * (val.max(axis=1) + np.where(wait_on, sl, 0.0))
    delta = np.where(span > 0, span / (GRID - 1), 1.0)                        # ns per node
    # P[j](omega): transform of the weight of choosing j CPUs so far with value x (grid,
    # each atom split linearly between its two nodes), classes one by one; a class adding
    # k CPUs multiplies by C(n_c, k) times the transform of the split atom at k v_c
    m = 2 * GRID
    omega = 2 * np.pi * np.arange(m // 2 + 1) / m
    P = np.zeros((k, jmax + 1, omega.size), dtype=complex)
    P[:, 0, :] = 1.0
    for c in range(MAX_CLASSES):
        if not n_c[:, c].any():
            continue
        new = P.copy()                                   # k = 0 term
        for kk in range(1, jmax + 1):
            comb = special.comb(n_c[:, c], kk)               # 0 where the class has < kk CPUs
            if not comb.any():
                break
            shift = kk * val[:, c] / delta                   # fractional node position
            i0 = np.floor(shift)
            fr = shift - i0
            atom = np.exp(-1j * omega[None, :] * i0[:, None]) * (
                (1 - fr)[:, None] + fr[:, None] * np.exp(-1j * omega)[None, :])
            new[:, kk:, :] += (comb[:, None] * atom)[:, None, :] * P[:, :jmax + 1 - kk, :]
        P = new
    # the owner waits: one wait's law on the grid, its D-th power by FFT
    w1 = np.zeros((k, GRID))
    w1[:, 0] = 1.0 - np.where(wait_on, rho, 0.0)
    sub = 32                                            # sub-atoms of U(0, S_L)
    pos = (np.arange(sub) + 0.5)[None, :] / sub * sl[:, None] / delta[:, None]
    _split(w1, np.where(wait_on[:, None], pos, 0.0), np.where(wait_on, rho, 0.0)[:, None] / sub
           * np.ones((1, sub)))
    fw = np.fft.rfft(w1, m, axis=1)
    out = np.empty(k)
    d_lo = np.clip(np.floor(d), 1, D_EXACT).astype(np.intp)
    frac = np.where(d_hi > d_lo, d - np.floor(d), 0.0)
    cdfs = []
    for j_arr in (d_lo, d_hi):
        pm = P[np.arange(k), j_arr, :] / special.comb(n_tot, j_arr)[:, None]
        conv = np.fft.irfft(pm * fw ** j_arr[:, None], m, axis=1)[:, :GRID + 1]
        cdfs.append(np.cumsum(np.maximum(conv, 0.0), axis=1))
    cdf = (1 - frac)[:, None] * cdfs[0] + frac[:, None] * cdfs[1]
    cdf = cdf / cdf[:, -1:]
    idx = np.argmax(cdf >= q, axis=1)                   # first node at or above q
    prev = np.where(idx > 0, cdf[np.arange(k), np.maximum(idx - 1, 0)], 0.0)
    here = cdf[np.arange(k), idx]
    t = np.where(here > prev, (q - prev) / np.where(here > prev, here - prev, 1.0), 1.0)
    x = (np.maximum(idx - 1, 0) + np.where(idx > 0, t, 0.0)) * delta
    dd = (1 - frac) * d_lo + frac * d_hi
    out[:] = np.broadcast_to(np.asarray(v["mutex_ns"], dtype=float).ravel(), (k,)) + dd * fixed + x
    return out


def rl_quantile(q: float, v, shape: tuple[int, ...]) -> np.ndarray:
    """q-quantile (ns) of the RL requester latency on ``shape`` from the symbol values ``v``:
    fanout.rl_quantile_expr(q), replaced by :func:`exact_quantile` where 1 <= D <= D_EXACT."""
    from pwmodel.models import fanout as F, numeric
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        out = np.array(np.broadcast_to(numeric(_quantile_expr(q), v), shape), dtype=float)
        d = np.broadcast_to(numeric(F.dirty_expr, v), shape)
    use = (d >= 1) & (d <= D_EXACT) & np.isfinite(out)
    if use.any():
        sub = {}
        for key in set(_names()) | {"mutex_ns", "local_cs_ns"} | {f"pair_n_{i}" for i in range(MAX_CLASSES)} \
                | {f"pair_c2c_{i}_ns" for i in range(MAX_CLASSES)}:
            x = np.asarray(v[key], dtype=float)
            sub[key] = np.broadcast_to(x, shape)[use] if x.ndim else x
        out[use] = exact_quantile(q, sub, d[use])
    return out


@functools.lru_cache(maxsize=32)
def _quantile_expr(q: float) -> sp.Expr:
    from pwmodel.models import fanout as F
    return F.rl_quantile_expr(q)


def _names() -> list[str]:
    return [n for fn, names in _fns().values() for n in names]


# ---- the worst owner loss over the dirty targets of a call -------------------------------
def owner_loss_cdf_expr(x: sp.Expr, c2c: sp.Expr) -> sp.Expr:
    """P(owner loss <= x) for a busy owner ``c2c`` away from the requester: with T1 ~
    Exp(lambda') its next attempt, S = S_R(c2c), r its refetch and p = lambda' / (lambda' +
    lambda_R): the loss is S - T1 + r when T1 < S (spin, then the refetch), else r with
    probability p (its next op before the next drain) or 0, so
    F(x) = e^{-lambda' S} (1 - p) on [0, r), e^{-lambda' (S + r - x)} on [r, S + r), 1 above."""
    from pwmodel.models import contention
    s = coherence.remote_hold_expr(c2c)
    r = coherence.owner_refetch_expr(c2c)
    lo = contention.owner_rate_expr()
    lr = S["remote_rate_hz"] * sp.Float(1e-9)
    p = lo / (lo + lr)
    return sp.Piecewise((0, x < 0), (sp.exp(-lo * s) * (1 - p), x < r),
                        (sp.exp(-lo * (s + r - x)), x < s + r), (1, True))


@functools.lru_cache(maxsize=None)
def _loss_fns():
    from pwmodel.models import _lambdify
    from pwmodel.models.symbols import EXTRA
    from pwmodel.params import SYMBOLS
    x, c = sp.Symbol("x_ns"), sp.Symbol("c2c_ns_")
    exprs = {"cdf": owner_loss_cdf_expr(x, c), "hold": coherence.remote_hold_expr(c),
             "refetch": coherence.owner_refetch_expr(c)}
    out = {}
    for key, e in exprs.items():
        names = tuple(sorted(str(s) for s in e.free_symbols if str(s) not in ("x_ns", "c2c_ns_")))
        syms = [x, c] + [SYMBOLS.get(n) or EXTRA[n] for n in names]
        out[key] = (_lambdify(syms, e), names)
    return out


_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)


def owner_loss_emax(v, shape: tuple[int, ...]) -> np.ndarray:
    """Victim worst under RL: E[max over the D dirty targets of the owner loss] in ns,
    int_0^inf (1 - G(x)^D) dx with G = sum_c p_c F_c (each target's pair class drawn with
    the shares pair_n_c / N; :func:`owner_loss_cdf_expr`), Gauss-Legendre between the
    breakpoints r_c and S_c + r_c; fractional D linear between floor and ceil; 0 for an
    owner without local operations."""
    from pwmodel.models import fanout as F, numeric
    fns = _loss_fns()
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        d = np.broadcast_to(numeric(F.dirty_expr, v), shape).ravel()
    n = np.broadcast_to(np.asarray(v["n_cpus"], dtype=float), shape).ravel()
    k = d.size
    # every class, whatever the batch holds: a point's quadrature (its breakpoints and the
    # length of its sums) must not depend on the other points evaluated with it
    live = range(MAX_CLASSES)
    cs = [np.broadcast_to(np.asarray(v[f"pair_c2c_{i}_ns"], dtype=float), shape).ravel()
          for i in live]
    ps = [np.broadcast_to(np.asarray(v[f"pair_n_{i}"], dtype=float), shape).ravel() / n
          for i in live]

    def call(key, x, c):
        fn, names = fns[key]
        args = [np.broadcast_to(np.asarray(v[nm], dtype=float), shape).ravel()[:, None]
                if np.ndim(v[nm]) else np.asarray(v[nm], dtype=float) for nm in names]
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            return np.asarray(fn(x, c, *args), dtype=float)

    brk = [np.zeros((k, 1))]
    for c, p in zip(cs, ps):
        r = np.broadcast_to(call("refetch", 0.0, c[:, None]), (k, 1))
        s = np.broadcast_to(call("hold", 0.0, c[:, None]), (k, 1))
        dead = (p <= 0)[:, None]         # a class without CPUs: zero-width intervals at 0
        brk += [np.where(dead, 0.0, r), np.where(dead, 0.0, s + r)]
    b = np.sort(np.concatenate(brk, axis=1), axis=1)                  # (k, 2C+1)
    lo, hi = b[:, :-1], b[:, 1:]
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    x = (mid[:, :, None] + half[:, :, None] * _GL_X).reshape(k, -1)     # nodes
    w = (half[:, :, None] * _GL_W).reshape(k, -1)
    g = np.zeros(x.shape)
    for c, p in zip(cs, ps):
        g += np.where(p[:, None] > 0, p[:, None] * np.broadcast_to(call("cdf", x, c[:, None]), x.shape), 0.0)
    g = np.clip(g, 0.0, 1.0)
    d = np.maximum(d, 1.0)               # the calls with a target: at least one
    d_lo, d_hi = np.floor(d), np.ceil(d)
    e_lo = (w * (1 - g ** d_lo[:, None])).sum(axis=1)
    e_hi = (w * (1 - g ** d_hi[:, None])).sum(axis=1)
    out = np.where(d_hi > d_lo, (d_hi - d) * e_lo + (d - d_lo) * e_hi, e_lo)
    off = np.broadcast_to(np.asarray(v["local_rate_hz"], dtype=float), shape).ravel() <= 0
    return np.where(off, 0.0, out).reshape(shape)
