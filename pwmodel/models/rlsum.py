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

Inside the mixture over the dirty count (pwmodel.models.dirty.normal_quantile, both
conventions) each component D = k takes the same rule: :func:`exact_cdfs` gives the
exact laws of every k <= D_EXACT of a point from one recursion over its pair classes
(:func:`small_components`), normal components above; a point whose P(1 <= D <= D_EXACT)
is below dirty.SMALL_MASS keeps normal components throughout (the mixture's CDF moves by
less than 1e-3 of the tail mass).

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


def _flat(v, key: str, k: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v[key], dtype=float).ravel(), (k,))


@functools.lru_cache(maxsize=4)
def _phases(m: int) -> np.ndarray:
    """e^{-i omega t} for t = 0..m-1 at the m // 2 + 1 frequencies omega = 2 pi f / m."""
    omega = 2 * np.pi * np.arange(m // 2 + 1) / m
    out = np.exp(-1j * omega[None, :] * np.arange(m, dtype=float)[:, None])
    out.flags.writeable = False
    return out


def exact_cdfs(v, jmax: np.ndarray, terms: "Terms | None" = None) -> tuple[np.ndarray, np.ndarray]:
    """The exact laws of the variable part of the RL requester latency at every dirty count
    j = 0..max(jmax), one grid per point: (delta (P,) ns per node, cdf (P, J + 1, GRID + 1)),
    cdf[p, j, i] = P(sum over j dirty CPUs of (l c_i + W_i) <= i delta) at point p (linear
    between nodes), from the symbol values ``v`` (flat arrays of P points, or scalars).
    The grid of point p spans jmax[p] (max c-term + S_L): j <= jmax[p] are on it; the
    latency is mutex + j fixed + that part. One recursion over the pair classes gives every
    j at once (the transform of the weight of choosing j CPUs so far)."""
    jm = np.asarray(jmax, dtype=np.intp).ravel()
    k = jm.size
    terms = terms or RL_TERMS
    get = lambda key: np.broadcast_to(terms.ev(key, v), (k,)) if k else np.empty(0)  # noqa: E731
    lines, rho = get("lines"), get("rho")
    sl = _flat(v, "local_cs_ns", k)
    n_c = np.stack([_flat(v, f"pair_n_{i}", k) for i in range(MAX_CLASSES)], axis=1)
    val = np.stack([_flat(v, f"pair_c2c_{i}_ns", k) for i in range(MAX_CLASSES)], axis=1) \
        * lines[:, None]                                                          # (k, C)
    n_tot = n_c.sum(axis=1)
    jmax_all = int(jm.max()) if k else 0
    with np.errstate(divide="ignore", invalid="ignore"):
        wait_on = (rho > 0) & (sl > 0)
    span = jm * (val.max(axis=1) + np.where(wait_on, sl, 0.0))
    delta = np.where(span > 0, span / (GRID - 1), 1.0)                        # ns per node
    # P[j](omega): transform of the weight of choosing j CPUs so far with value x (grid,
    # each atom split linearly between its two nodes), classes one by one; a class adding
    # k CPUs multiplies by C(n_c, k) times the transform of the split atom at k v_c
    m = GRID + 64                                        # no wrap-around: sums stay below node GRID + 24
    omega = 2 * np.pi * np.arange(m // 2 + 1) / m
    P = np.zeros((k, jmax_all + 1, omega.size), dtype=complex)
    P[:, 0, :] = 1.0
    deg = 0                 # P[:, j] is zero above j = deg (CPUs of the classes so far)
    # the largest class first: while deg is 0 its terms are written, not convolved
    # (classes in their fixed order, nearest first: a point's sums must not depend on the
    # other points; the small inner classes first keep deg low for the large ones)
    phase = _phases(m)                                  # e^{-i omega t}, t = 0..m-1
    for c in range(MAX_CLASSES):
        top = int(min(n_c[:, c].max(initial=0.0), jmax_all))
        if top <= 0:
            continue
        new = P.copy()                                   # k = 0 term
        for kk in range(1, top + 1):
            comb = special.comb(n_c[:, c], kk)               # 0 where the class has < kk CPUs
            shift = kk * val[:, c] / delta                   # fractional node position
            i0 = np.floor(shift)
            fr = shift - i0
            atom = phase[np.clip(i0, 0, m - 1).astype(np.intp)] * (
                (1 - fr)[:, None] + fr[:, None] * phase[1][None, :])
            hi = min(deg, jmax_all - kk)                     # P's terms that stay <= jmax
            new[:, kk:kk + hi + 1, :] += (comb[:, None] * atom)[:, None, :] * P[:, :hi + 1, :]
        P = new
        deg = min(deg + top, jmax_all)
    # the owner waits: one wait's law on the grid, its j-th power by FFT
    w1 = np.zeros((k, GRID))
    w1[:, 0] = 1.0 - np.where(wait_on, rho, 0.0)
    sub = 32                                            # sub-atoms of U(0, S_L)
    pos = (np.arange(sub) + 0.5)[None, :] / sub * sl[:, None] / delta[:, None]
    _split(w1, np.where(wait_on[:, None], pos, 0.0), np.where(wait_on, rho, 0.0)[:, None] / sub
           * np.ones((1, sub)))
    fw = np.fft.rfft(w1, m, axis=1)
    j = np.arange(jmax_all + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = (1.0 / np.maximum(special.comb(n_tot[:, None], j[None, :]), 1e-300))[:, :, None]
    # P[j] / C(N, j) times the j-th power of the wait's transform, in real arithmetic:
    # NumPy's complex product of two contiguous arrays runs as one loop whose vector body
    # and scalar tail round differently, so a point's values would depend on how many
    # points are evaluated with it (and the powers by products, not complex pow)
    pr, pi = P.real * inv, P.imag * inv
    wr, wi = np.ones(fw.shape), np.zeros(fw.shape)
    for jj in range(1, jmax_all + 1):
        wr, wi = wr * fw.real - wi * fw.imag, wr * fw.imag + wi * fw.real
        a, b = pr[:, jj].copy(), pi[:, jj].copy()
        pr[:, jj], pi[:, jj] = a * wr - b * wi, a * wi + b * wr
    prod = np.empty(P.shape, dtype=complex)
    prod.real, prod.imag = pr, pi
    conv = np.fft.irfft(prod, m, axis=2)[:, :, :GRID + 1]
    cdf = np.cumsum(np.maximum(conv, 0.0), axis=2)
    tot = cdf[:, :, -1:]
    cdf = np.where(tot > 0, cdf * (1.0 / np.where(tot > 0, tot, 1.0)), 1.0)
    return delta, cdf


def _cdf_at(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Linear interpolation of grid CDFs ``cdf`` (..., GRID + 1) at node positions ``u``
    (same leading shape, no last axis); 0 below node 0's left, 1 beyond the grid."""
    g = cdf.shape[-1]
    i0 = np.clip(np.floor(u), 0, g - 1).astype(np.intp)
    fr = np.clip(u - i0, 0.0, 1.0)
    i1 = np.minimum(i0 + 1, g - 1)
    c0 = np.take_along_axis(cdf, i0[..., None], axis=-1)[..., 0]
    c1 = np.take_along_axis(cdf, i1[..., None], axis=-1)[..., 0]
    out = (1 - fr) * c0 + fr * c1
    return np.where(u < 0, 0.0, np.where(u >= g - 1, 1.0, out))


def exact_quantile(q: float, v, d: np.ndarray) -> np.ndarray:
    """q-quantile (ns) of the RL requester latency at dirty counts ``d`` (1 <= d <=
    D_EXACT; flat arrays), from the symbol values ``v`` (flat arrays or scalars). A
    fractional d mixes the laws at floor(d) and ceil(d) (stochastic rounding)."""
    d = np.asarray(d, dtype=float).ravel()
    k = d.size
    if k == 0:
        return np.empty(0)
    d_hi = np.minimum(np.ceil(d), D_EXACT).astype(np.intp)
    d_lo = np.clip(np.floor(d), 1, D_EXACT).astype(np.intp)
    frac = np.where(d_hi > d_lo, d - np.floor(d), 0.0)
    delta, cdfs = exact_cdfs(v, d_hi)
    rows = np.arange(k)
    cdf = (1 - frac)[:, None] * cdfs[rows, d_lo] + frac[:, None] * cdfs[rows, d_hi]
    cdf = cdf / cdf[:, -1:]
    idx = np.argmax(cdf >= q, axis=1)                   # first node at or above q
    prev = np.where(idx > 0, cdf[rows, np.maximum(idx - 1, 0)], 0.0)
    here = cdf[rows, idx]
    t = np.where(here > prev, (q - prev) / np.where(here > prev, here - prev, 1.0), 1.0)
    x = (np.maximum(idx - 1, 0) + np.where(idx > 0, t, 0.0)) * delta
    dd = (1 - frac) * d_lo + frac * d_hi
    fixed = np.broadcast_to(_ev("fixed", v), (k,))
    return _flat(v, "mutex_ns", k) + dd * fixed + x


class Terms:
    """A latency that is mutex + the sum over the D dirty CPUs of fixed + lines x c_i
    (+ the owner wait W_i when ``rho`` is given): the SymPy per-CPU terms, lambdified once.
    RL: :data:`RL_TERMS`; RU and SKIP (no wait) in :mod:`pwmodel.models.alternatives`."""

    def __init__(self, lines: sp.Expr, fixed: sp.Expr, rho: sp.Expr | None) -> None:
        self.exprs = {"lines": lines, "fixed": fixed, "rho": rho if rho is not None else sp.Integer(0)}
        self._fns: dict | None = None

    def fns(self) -> dict:
        if self._fns is None:
            from pwmodel.models import _lambdify
            from pwmodel.models.symbols import EXTRA
            from pwmodel.params import SYMBOLS
            out = {}
            for key, e in self.exprs.items():
                names = tuple(sorted(str(s) for s in e.free_symbols))
                out[key] = (_lambdify([SYMBOLS.get(n) or EXTRA[n] for n in names], e), names)
            self._fns = out
        return self._fns

    def ev(self, key: str, v) -> np.ndarray:
        fn, names = self.fns()[key]
        return np.asarray(fn(*[np.asarray(v[n], dtype=float) for n in names]), dtype=float)

    def names(self) -> set[str]:
        return {n for _, names in self.fns().values() for n in names}

    def components(self, v, k: np.ndarray, w: np.ndarray):
        """:func:`small_components` of this latency."""
        return small_components(v, k, w, self)


_KEPT: dict[bytes, tuple[Terms, np.ndarray, np.ndarray]] = {}
_KEPT_BYTES = 16 << 20          # laws larger than this are not kept


def _exact_cdfs_kept(v, jmax: np.ndarray, terms: Terms) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exact_cdfs`, kept in memory for the same inputs (their values, to the bit):
    the explorer evaluates the same RL laws at every isolation level of a machine (they
    depend on the pair classes, the lock and the owner, not on the wake-up). Returned
    read-only."""
    import hashlib
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{id(terms)}".encode())
    for key in sorted(v):
        x = np.ascontiguousarray(np.asarray(v[key], dtype=float))
        h.update(f"{key}{x.shape}=".encode() + x.tobytes() + b";")
    j = np.ascontiguousarray(np.asarray(jmax, dtype=np.intp))
    h.update(f"{j.shape}".encode() + j.tobytes())
    got = _KEPT.get(h.digest())
    if got is not None and got[0] is terms:
        return got[1], got[2]
    delta, cdfs = exact_cdfs(v, jmax, terms)
    if cdfs.nbytes <= _KEPT_BYTES:
        for x in (delta, cdfs):
            x.setflags(write=False)
        if len(_KEPT) >= 8:
            _KEPT.pop(next(iter(_KEPT)))
        _KEPT[h.digest()] = (terms, delta, cdfs)      # terms kept alive: its id stays its own
    return delta, cdfs


def small_components(v, k: np.ndarray, w: np.ndarray, terms: Terms | None = None):
    """The exact given-D laws of the mixture components with 1 <= k <= D_EXACT (integer
    counts with weight): (mask (P, K) of the columns covered, cdf(x (P,)) -> (P, K) their
    CDFs at x, 0 elsewhere), or None when no column is covered. ``v``: symbol values as
    (P, 1) columns or scalars; ``terms``: the latency's per-CPU terms (RL by default)."""
    terms = terms or RL_TERMS
    use = (w > 0) & (k >= 1) & (k <= D_EXACT) & (k == np.round(k))
    rows = np.nonzero(use.any(axis=1))[0]
    if rows.size == 0:
        return None
    p = k.shape[0]
    vv = {}
    for key in terms.names() | {"mutex_ns", "local_cs_ns"} | {f"pair_n_{i}" for i in range(MAX_CLASSES)} \
            | {f"pair_c2c_{i}_ns" for i in range(MAX_CLASSES)}:
        x = np.asarray(v[key], dtype=float)
        vv[key] = np.broadcast_to(x.reshape(-1), (p,))[rows] if x.ndim else x
    kk = np.where(use[rows], k[rows], 0).astype(np.intp)
    delta, cdfs = _exact_cdfs_kept(vv, kk.max(axis=1), terms)
    fixed = np.broadcast_to(terms.ev("fixed", vv), (rows.size,))
    mutex = _flat(vv, "mutex_ns", rows.size)
    off = mutex[:, None] + kk * fixed[:, None]                       # (R, K)
    r_idx = np.broadcast_to(np.arange(rows.size)[:, None], kk.shape)
    g = cdfs.shape[-1]

    def cdf(x: np.ndarray) -> np.ndarray:
        out = np.zeros(k.shape)
        u = (x[rows, None] - off) / delta[:, None]
        i0 = np.clip(np.floor(u), 0, g - 1).astype(np.intp)
        fr = np.clip(u - i0, 0.0, 1.0)
        c0 = cdfs[r_idx, kk, i0]
        c1 = cdfs[r_idx, kk, np.minimum(i0 + 1, g - 1)]
        val = np.where(u < 0, 0.0, np.where(u >= g - 1, 1.0, (1 - fr) * c0 + fr * c1))
        out[rows] = np.where(use[rows], val, 0.0)
        return out

    return use, cdf


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


def _loss_expr(key: str):
    """(arguments x_ns, c2c_ns_ and the expression's parameters, the expression) of the
    owner loss's CDF (``cdf``), spin (``hold``) or refetch (``refetch``) at distance c2c_ns_."""
    from pwmodel.models.symbols import EXTRA
    from pwmodel.params import SYMBOLS
    x, c = sp.Symbol("x_ns"), sp.Symbol("c2c_ns_")
    e = {"cdf": lambda: owner_loss_cdf_expr(x, c), "hold": lambda: coherence.remote_hold_expr(c),
         "refetch": lambda: coherence.owner_refetch_expr(c)}[key]()
    names = tuple(sorted(str(s) for s in e.free_symbols if str(s) not in ("x_ns", "c2c_ns_")))
    return [x, c] + [SYMBOLS.get(n) or EXTRA[n] for n in names], e


@functools.lru_cache(maxsize=None)
def _loss_fns():
    """(generated function, parameter names after x_ns and c2c_ns_) of each owner-loss form
    (:func:`_loss_expr`), kept in the cache folder by name (no SymPy work when cached)."""
    from pwmodel.models import named_function
    out = {}
    for key in ("cdf", "hold", "refetch"):
        fn, args = named_function(f"rlsum.owner_loss {key}", functools.partial(_loss_expr, key))
        out[key] = (fn, args[2:])
    return out


_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)


def owner_loss_max_cdf_expr(x: sp.Expr) -> sp.Expr:
    """P(largest owner loss over the dirty targets of a call <= x | D >= 1) under the
    binomial dirty count: every CPU is dirty independently with probability d, its loss
    independent given its pair class c (CDF F_c, :func:`owner_loss_cdf_expr`), so with
    n_c CPUs in class c, P(max <= x, D >= 1) = prod_c (1 - d + d F_c(x))^(n_c) - (1 - d)^N
    (the term without any dirty CPU removed), divided by P(D >= 1) = 1 - (1 - d)^N. Exact
    over the law of D and of the classes of distinct CPUs (no Jensen gap: the mean count
    inside a concave E[max of D] underestimates it, -6 to -17 % at N = 1 and 2). Between
    integer CPU counts the class counts n_c are fractional: the form interpolates."""
    d, n = S["dirty_fraction"], X.n_cpus
    prod = sp.Mul(*[(1 - d + d * owner_loss_cdf_expr(x, c)) ** nc
                    for nc, c in zip(X.pair_n, X.pair_c2c_ns)])
    none = (1 - d) ** n
    return (prod - none) / (1 - none)


def _max_cdf_expr():
    """(arguments x_ns and the parameters, :func:`owner_loss_max_cdf_expr` of x_ns)."""
    from pwmodel.models.symbols import EXTRA
    from pwmodel.params import SYMBOLS
    x = sp.Symbol("x_ns")
    e = owner_loss_max_cdf_expr(x)
    names = tuple(sorted(str(s) for s in e.free_symbols if str(s) != "x_ns"))
    return [x] + [SYMBOLS.get(nm) or EXTRA[nm] for nm in names], e


@functools.lru_cache(maxsize=None)
def _max_cdf_fn():
    """(generated function, parameter names after x_ns) of :func:`_max_cdf_expr`, kept in
    the cache folder by name (no SymPy work when cached)."""
    from pwmodel.models import named_function
    fn, args = named_function("rlsum.owner_loss_max_cdf", _max_cdf_expr)
    return fn, args[1:]


def owner_loss_emax(v, shape: tuple[int, ...], binomial: bool = False) -> np.ndarray:
    """Victim worst under RL: E[max over the dirty targets of a call of the owner loss] in
    ns, over the calls that drain at least one CPU: int_0^inf (1 - H(x)) dx, Gauss-Legendre
    between the breakpoints r_c and S_c + r_c of the classes' loss CDFs; 0 for an owner
    without local operations. H, the CDF of the largest loss given D >= 1:

    * fixed convention (``binomial`` False): G(x)^D, G = sum_c p_c F_c (each target's pair
      class drawn with the shares pair_n_c / N; :func:`owner_loss_cdf_expr`), d N rounded
      stochastically, linear between floor and ceil (D = 1 when d N < 1);
    * binomial: :func:`owner_loss_max_cdf_expr`, exact over Binomial(N, d)."""
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
    off = np.broadcast_to(np.asarray(v["local_rate_hz"], dtype=float), shape).ravel() <= 0
    dd = np.broadcast_to(np.asarray(v["dirty_fraction"], dtype=float), shape).ravel()
    if binomial:
        fn, names = _max_cdf_fn()
        args = [np.broadcast_to(np.asarray(v[nm], dtype=float), shape).ravel()[:, None]
                if np.ndim(v[nm]) else np.asarray(v[nm], dtype=float) for nm in names]
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            h = np.broadcast_to(np.asarray(fn(x, *args), dtype=float), x.shape)
        out = (w * (1 - np.clip(h, 0.0, 1.0))).sum(axis=1)
        return np.where(off | (dd <= 0), 0.0, out).reshape(shape)
    g = np.zeros(x.shape)
    for c, p in zip(cs, ps):
        g += np.where(p[:, None] > 0, p[:, None] * np.broadcast_to(call("cdf", x, c[:, None]), x.shape), 0.0)
    g = np.clip(g, 0.0, 1.0)
    d = np.maximum(d, 1.0)               # the calls with a target: at least one
    d_lo, d_hi = np.floor(d), np.ceil(d)
    e_lo = (w * (1 - g ** d_lo[:, None])).sum(axis=1)
    e_hi = (w * (1 - g ** d_hi[:, None])).sum(axis=1)
    out = np.where(d_hi > d_lo, (d_hi - d) * e_lo + (d - d_lo) * e_hi, e_lo)
    return np.where(off, 0.0, out).reshape(shape)


RL_TERMS = Terms(c2c_lines_expr(), fixed_expr(), wait_share_expr())
SMALL = (D_EXACT, small_components)   # the exact given-D laws inside the mixture over D
