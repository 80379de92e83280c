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
  on a grid (atoms split linearly between neighbouring nodes, so the mean is
  kept), divided by C(N, j); the D-fold owner-wait sum is the D-th power of
  one wait's characteristic function on the same grid (FFT), convolved in.
  A fractional D (stochastic rounding) mixes the laws at floor(D) and ceil(D).
* Normal (D > D_EXACT): mean rl_mean_expr, variance D Var(W) + D l^2 Var(c)
  (N - D) / (N - 1), the finite-population correction of drawing D distinct
  CPUs (fanout.rl_quantile_expr). Against the simulator with D fixed it is
  within 1.1 % at D = 32 on the bundled machines and overshoots by 7-12 % at
  D = 1..4 (few classes: the sum is discrete), hence the exact part.

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
    # P[j, x]: weight of choosing j CPUs so far with value x (grid), classes one by one
    P = np.zeros((k, jmax + 1, GRID))
    P[:, 0, 0] = 1.0
    for c in range(MAX_CLASSES):
        if not n_c[:, c].any():
            continue
        new = P.copy()                                 # k = 0 term
        for kk in range(1, jmax + 1):
            comb = special.comb(n_c[:, c], kk)               # 0 where the class has < kk CPUs
            if not comb.any():
                break
            shift = kk * val[:, c] / delta                # fractional node shift per case
            i0 = np.floor(shift).astype(np.intp)
            fr = shift - i0
            src = P[:, :jmax + 1 - kk, :]
            idx = np.arange(GRID)[None, :] - i0[:, None]           # node x takes x - shift
            at = np.broadcast_to(np.clip(idx, 0, GRID - 1)[:, None, :], src.shape)
            at1 = np.broadcast_to(np.clip(idx - 1, 0, GRID - 1)[:, None, :], src.shape)
            lo = np.where((idx >= 0)[:, None, :], np.take_along_axis(src, at, 2), 0.0)
            hi = np.where((idx >= 1)[:, None, :], np.take_along_axis(src, at1, 2), 0.0)
            new[:, kk:, :] += comb[:, None, None] * ((1 - fr)[:, None, None] * lo + fr[:, None, None] * hi)
        P = new
    # the owner waits: one wait's law on the grid, its D-th power by FFT
    m = 2 * GRID
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
        conv = np.fft.irfft(np.fft.rfft(pm, m, axis=1) * fw ** j_arr[:, None], m, axis=1)[:, :GRID]
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
