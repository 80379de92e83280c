"""Queueing of the parallel QW drains on the shared lruvec lru_lock (given D dirty CPUs).

The D kworkers ask for the lru_lock at a_j = j t_q + W_j (work j queued at
j t_q, wake-up W_j), a FIFO lock; each holds h = f S_Q + 2 c2c (hold plus the
hand-off of two lines from the previous holder). The spin of a kworker is its
wait for the lock.

Ordered classes. A point mass of the wake-up distribution (weight w: an
immediate preemption of a busy task, an idle exit of one depth, the deadline
server's zero-laxity time) makes its kworkers ask in queueing order, one
position j every t_q, present with probability w. For that class alone the
backlog V_j (work ahead of position j when it asks) follows Lindley's
recursion from an empty lock,

    V_{j+1} = max(0, V_j + h B_j - t_q),   B_j ~ Bernoulli(w),

so V_{j+1} has the law of max_{0<=i<=j} S_i, S_n = h Bin(n, w) - n t_q, and
by Spitzer's identity E[V_{j+1}] = sum_{n=1}^{j} E[S_n^+] / n (exact for this
slotted queue, whatever the sign of the drift w h - t_q). Averaged over the
D positions (each is the class's with probability w, independently of the
backlog it finds):

    mean spin = A(D) - B(D) / D,     last (the worst) = A(D),
    A(D) = sum_{n=1}^{D-1} E[S_n^+] / n,   B(D) = sum_{n=1}^{D-1} E[S_n^+].

E[S_1^+] = w (h - t_q)^+ and E[S_2^+] = w^2 (2h - 2t_q)^+ + 2w(1-w)(h - 2t_q)^+
exactly; for n >= 3 S_n is taken normal (mean n mu, mu = w h - t_q, standard
deviation sigma sqrt(n), sigma = h sqrt(w (1 - w))), E[S_n^+] = n mu Phi(u) +
sigma sqrt(n) phi(u), u = a sqrt(n), a = mu / sigma, and the sums from n = 3
are the integrals from 5/2 to D - 1/2 (midpoint rule), in closed form
(substitute u = a sqrt(x)):

    int E[S_x^+] / x dx = (sigma / a) ((u^2 + 1) Phi(u) + u phi(u) - 1/2),
    int E[S_x^+] dx     = (sigma / (2 a^3)) (u^4 Phi(u) + u^3 phi(u) - u phi(u) + Phi(u) - 1/2),

(series in a when |a| < 1e-3; sigma = 0, w = 1: the fluid queue, mean
(D - 1)/2 (h - t_q)^+). Against the exact binomial sums: within 1 % of the
spin, or 60 ns, for D = 3..512 at the bundled parameters. D between 1 and 3
is linear between the exact values at 1, 2 and 3 (stochastic rounding).

Spread arrivals. Kworkers of the continuous parts (weight w_s, e.g. a wait
for the tick U(0, T)) ask at times spread over a window L = width + (D - 1) t_q;
one of them finds the time-average backlog over L (PASTA for an arrival
uniform over the window). The time integral of the backlog is
h sum(waits) + D h^2 / 2 (each customer's work waits, then drains), so
W_s = (h T_o + D h^2 / 2) / (L - n_s h), with T_o = sum over the ordered
classes of w D (mean spin) and n_s = w_s D.

Spread kworkers inside an ordered queue. A spread kworker that asks while
an ordered class's queue is backlogged adds its hold h_s = f S_Q + 2 c2c_mean
to the work ahead of every class member behind it (FIFO). The works are
queued t_q apart and the spread part's wake-up is uniform over a window of
width L from the class's own wake-up (the tick wait of a busy target: a point
mass at the immediate preemption, U(0, T) for the tick), so the spread
kworkers that have asked by the time x after the first queueing number

    N_s(x) = (w_s / t_q) G(x),   G(x) = int_0^x min(u / L, 1) du
           = x^2 / (2 L) (x <= L),  x - L / 2 (x > L),

(each of the x / t_q works queued so far is a spread one with probability
w_s and has asked with probability min((x - its queueing) / L, 1)). Member j
asks at x = j t_q; averaged over the D positions and for the last one:

    mean extra = beta h_s w_s H(D t_q) / (t_q^2 D),   H(X) = int_0^X G
               = X^3 / (6 L) (X <= L),  L^2 / 6 + X (X - L) / 2 (X > L),
    last extra = beta h_s w_s G(D t_q) / t_q.

beta is the probability that the extra work is still ahead when the member
asks, i.e. that the class's queue stays backlogged: P(S_{D/2} > 0) =
Phi(mu sqrt(D / 2) / sigma) (1 at a positive drift, the bundled busy targets
with lru_add_drain; 0 at a negative one, where a spread kworker's hold drains
before the next members ask). At N = 1024, busy targets: +1.4 us on the
mean spin (38.2 us simulated) and +4.2 us on the last (82.5 us simulated).

Hand-offs. Consecutive holders of an ordered class are consecutive dirty CPUs
of that class: their id gap is geometric with q = d w, and on the
nearest-first fill two CPUs g ids apart share a unit of s CPUs with
probability (s - g)^+ / s, so P(same unit of s CPUs) = 1 - (1 - (1 - q)^s) /
(q s) (:func:`share_expr`, summed over the levels by :func:`gap_c2c_ns`).
Spread kworkers meet random holders: c2c_mean.

Two point masses whose queues overlap (an idle target with a shallow and a
deep exit): the later class (exit latency larger by Delta = g t_q) starts to
ask while the earlier one still asks (g < D) or while the lock still drains
its backlog. Each class's own queue is the slotted queue above; what the other
class adds is the fluid backlog of the joint queue (drift per slot mu_c = w_c
h_c - t_q for one class alone, mu_e + mu_l + t_q plus the dearer hand-offs
between the two interleaved classes, at c2c_mean, when both ask), through the
phases early alone (min(g, n) slots, n = D - 1 the slots between a class's
first and last member), both (n - g slots; for g > n a pause of g - n slots in
which the lock drains t_q per slot) and late alone (min(g, n) slots). Through a phase of L slots from backlog V0 at slope mu the backlog is
max(0, V0 + mu s) (reflected at an empty lock), whose integral is V0 T + mu
T^2 / 2 with T = L (mu >= 0) or min(L, V0 / -mu). A member of class c gains
(int over its phases of V - max(0, mu_c) n^2 / 2) / D on average (its own
fluid backlog, which the slotted form already holds, taken off), and the
largest backlog, at a phase end, bounds the worst (:func:`overlap_exprs`); the
backlog at the end of the later class's asks delays the slowest work's drain
when the point masses are the whole law (:func:`backlog_end_expr`,
``fanout.slowest_mean_expr``: pcp_lists with idle targets, whose deep exits
queue behind each other, was 9 to 22 % low on the requester mean at N = 64 and
256). At
N = 1024 with idle targets (Delta = 169 us, 338 queueing gaps) this is most of
the kworkers' spin; it was missing (-67 % on the CPU time of lru_add_drain,
-44 % on pcp_lists). Sources: mm/swap.c lru_add_drain_cpu()
-> folio_batch_move_lru() takes the lruvec lru_lock per batch; checked
against pwmodel.simulate.fanout (docs/validity.md).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

SERIES_A = sp.Float(1e-3)      # |a| below which the integrals use their series in a

_q, _s = sp.symbols("q s", positive=True)     # share of the CPU ids in a class, unit size


def share_expr() -> sp.Expr:
    """P(the next member of a class, at a geometric id gap with parameter q, lies in the
    same unit of s CPUs of the nearest-first fill)."""
    return 1 - (1 - (1 - _q) ** _s) / (_q * _s)


def _Phi(u):
    return sp.erfc(-u / sp.sqrt(2)) / 2


def _phi(u):
    return sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi)


_PHI0 = 1 / sp.sqrt(2 * sp.pi)


def _integrals(x: sp.Expr, w: sp.Expr, h: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(int_0^x E[S_t^+]/t dt, int_0^x E[S_t^+] dt) with S_t normal (module docstring)."""
    tq = S["queue_work_ns"]
    mu = w * h - tq
    sig = h * sp.sqrt(w * (1 - w))
    a = mu / sig
    u = a * sp.sqrt(x)
    f_main = sig / a * ((u ** 2 + 1) * _Phi(u) + u * _phi(u) - sp.Rational(1, 2))
    g_main = sig / (2 * a ** 3) * (u ** 4 * _Phi(u) + u ** 3 * _phi(u) - u * _phi(u) + _Phi(u)
                                   - sp.Rational(1, 2))
    f_ser = sig * (2 * _PHI0 * sp.sqrt(x) + a * x / 2 + _PHI0 * a ** 2 * x ** sp.Rational(3, 2) / 3)
    g_ser = sig * (2 * _PHI0 * x ** sp.Rational(3, 2) / 3 + a * x ** 2 / 4
                   + _PHI0 * a ** 2 * x ** sp.Rational(5, 2) / 5)
    fluid = sp.Max(mu, 0)
    f = sp.Piecewise((fluid * x, sp.Eq(sig, 0)), (f_ser, sp.Abs(a) < SERIES_A), (f_main, True))
    g = sp.Piecewise((fluid * x ** 2 / 2, sp.Eq(sig, 0)), (g_ser, sp.Abs(a) < SERIES_A),
                     (g_main, True))
    return f, g


def _ab(w: sp.Expr, h: sp.Expr, d: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(A(D), B(D)) of one ordered class for D >= 3."""
    tq = S["queue_work_ns"]
    e1 = w * sp.Max(h - tq, 0)
    e2 = w ** 2 * sp.Max(2 * h - 2 * tq, 0) + 2 * w * (1 - w) * sp.Max(h - 2 * tq, 0)
    f_hi, g_hi = _integrals(d - sp.Rational(1, 2), w, h)
    f_lo, g_lo = _integrals(sp.Rational(5, 2), w, h)
    return e1 + e2 / 2 + f_hi - f_lo, e1 + e2 + g_hi - g_lo


@functools.lru_cache(maxsize=None)
def ordered_spin_exprs(w: sp.Expr, c2c: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(mean, last) spin in ns of the ordered class of weight ``w`` whose consecutive
    holders are ``c2c`` apart, at D = d N."""
    from pwmodel.models import fanout as F
    d = F.dirty_expr
    h = F.lru_hold_only_expr() + 2 * c2c
    tq = S["queue_work_ns"]
    e1 = w * sp.Max(h - tq, 0)
    e2 = w ** 2 * sp.Max(2 * h - 2 * tq, 0) + 2 * w * (1 - w) * sp.Max(h - 2 * tq, 0)
    a, b = _ab(w, h, sp.Max(d, 3))
    m2, m3 = e1 / 2, (e1 + e2 / 2) - (e1 + e2) / 3          # exact mean at D = 2, 3
    l2, l3 = e1, e1 + e2 / 2
    mean = sp.Piecewise((0, d <= 1), ((d - 1) * m2, d <= 2), (m2 + (d - 2) * (m3 - m2), d <= 3),
                        (a - b / d, True))
    last = sp.Piecewise((0, d <= 1), ((d - 1) * l2, d <= 2), (l2 + (d - 2) * (l3 - l2), d <= 3),
                        (a, True))
    x_mean, x_last = spread_ahead_exprs(w, h)
    return mean + x_mean, last + x_last


@functools.lru_cache(maxsize=None)
def spread_ahead_exprs(w: sp.Expr, h: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(mean, last) ns an ordered class's kworkers wait behind the spread kworkers that
    joined its queue before them (module docstring, "Spread kworkers inside an ordered
    queue"), at D = d N."""
    from pwmodel.models import fanout as F
    d = F.dirty_expr
    tq = S["queue_work_ns"]
    width, ws = X.wake_spread_width_ns, X.wake_spread_w
    hs = F.lru_hold_only_expr() + 2 * X.c2c_mean_ns
    xq = d * tq
    g = sp.Piecewise((xq ** 2 / (2 * width), xq <= width), (xq - width / 2, True))
    big_h = sp.Piecewise((xq ** 3 / (6 * width), xq <= width),
                         (width ** 2 / 6 + xq * (xq - width) / 2, True))
    mu = w * h - tq
    sig = h * sp.sqrt(w * (1 - w))
    beta = sp.Piecewise((sp.Heaviside(mu, 0), sp.Eq(sig, 0)),
                        (_Phi(mu * sp.sqrt(d / 2) / sig), True))
    # w_s = 0 (no spread part, width 0): the factor w_s makes both 0
    last = sp.Piecewise((0, d <= 1), (beta * hs * ws * g / tq, True))
    mean = sp.Piecewise((0, d <= 1), (beta * hs * ws * big_h / (tq ** 2 * d), True))
    return mean, last


def doc_exprs() -> dict[str, sp.Expr]:
    """The forms of one class with plain symbols (w, c2c, x), for docs/model.md."""
    w, c, x, h = sp.symbols("w c2c_class_ns x h_ns", positive=True)
    f, g = _integrals(x, w, h)
    mean, last = ordered_spin_exprs(w, c)
    return {"int_e_over_x": f, "int_e": g, "class_mean": mean, "class_last": last}


def _classes() -> list[tuple[sp.Expr, sp.Expr]]:
    return [(X.wake_atom1_w, X.c2c_gap1_ns), (X.wake_atom2_w, X.c2c_gap2_ns)]


def _phase(v0: sp.Expr, mu: sp.Expr, length: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(integral over the phase, backlog at its end) of max(0, v0 + mu s), s in [0, length]."""
    t = sp.Piecewise((length, mu >= 0), (sp.Min(length, v0 / sp.Max(-mu, 1e-300)), True))
    return v0 * t + mu * t ** 2 / 2, sp.Max(0, v0 + mu * length)


@functools.lru_cache(maxsize=None)
def overlap_exprs() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(extra mean spin of a class-1 member, of a class-2 member, largest joint backlog,
    backlog at the end of the later class's asks) in ns from the two point-mass classes queueing together (module docstring), at
    D = d N; ``wake_atom_gap_ns`` = (class 2's wake-up) - (class 1's)."""
    from pwmodel.models import fanout as F
    d = sp.Max(F.dirty_expr - 1, 0)        # slots between the first and the last member
    tq = S["queue_work_ns"]
    hold = F.lru_hold_only_expr()
    (w1, c1), (w2, c2) = _classes()
    h1, h2 = hold + 2 * c1, hold + 2 * c2
    mu1, mu2 = w1 * h1 - tq, w2 * h2 - tq
    gap = X.wake_atom_gap_ns
    g = sp.Abs(gap) / tq
    early = gap >= 0                       # class 1 asks first
    mu_e = sp.Piecewise((mu1, early), (mu2, True))
    mu_l = sp.Piecewise((mu2, early), (mu1, True))
    w_sum = w1 + w2
    cross = sp.Piecewise((0, sp.Eq(w_sum, 0)), (2 * w1 * w2 / w_sum, True)) * (
        2 * X.c2c_mean_ns - c1 - c2)       # dearer hand-offs between the interleaved classes
    mu_b = mu1 + mu2 + tq + sp.Max(cross, 0)
    l1 = sp.Min(g, d)
    i1, v1 = _phase(sp.Integer(0), mu_e, l1)
    i2, v2 = _phase(v1, mu_b, sp.Max(d - g, 0))
    _, v2p = _phase(v1, -tq, sp.Max(g - d, 0))             # pause: the lock drains
    v2 = sp.Piecewise((v2, g < d), (v2p, True))
    i2 = sp.Piecewise((i2, g < d), (0, True))
    i3, v3 = _phase(v2, mu_l, l1)
    dd = sp.Max(F.dirty_expr, 1)
    gain_e = (i1 + i2 - sp.Max(mu_e, 0) * d ** 2 / 2) / dd
    gain_l = (i2 + i3 - sp.Max(mu_l, 0) * d ** 2 / 2) / dd
    # one class only (w2 = 0, gap 0): the joint queue is that class's, no gain;
    # at most one kworker (D <= 1): no queue at all
    def live(x: sp.Expr) -> sp.Expr:
        return sp.Piecewise((0, F.dirty_expr <= 1), (x, True))
    g1 = live(sp.Max(sp.Piecewise((gain_e, early), (gain_l, True)), 0))
    g2 = live(sp.Max(sp.Piecewise((gain_l, early), (gain_e, True)), 0))
    return g1, g2, live(sp.Max(v1, v2, v3)), live(v3)


@functools.lru_cache(maxsize=None)
def backlog_end_expr() -> sp.Expr:
    """ns of lru_lock backlog the last point-mass kworker finds (the joint queue's fluid
    backlog at the end of the later class's asks, :func:`overlap_exprs`), counted where
    the point masses are the whole wake-up law (no spread part above them): then the
    slowest work is that kworker and its drain waits for that backlog."""
    return sp.Piecewise((overlap_exprs()[3], sp.Eq(X.wake_spread_w, 0)), (0, True))


def _class_means() -> list[sp.Expr]:
    """Mean spin of a member of each point-mass class: its own queue, the spread kworkers
    ahead of it and the other class's queue overlapping its own."""
    g1, g2, _, _ = overlap_exprs()
    return [ordered_spin_exprs(w, c)[0] + g for (w, c), g in zip(_classes(), (g1, g2))]


@functools.lru_cache(maxsize=None)
def spread_wait_expr() -> sp.Expr:
    """Mean wait (ns) of a kworker of the spread part: W_s = (h T_o + D h^2/2) / (L - n_s h)."""
    from pwmodel.models import fanout as F
    d = F.dirty_expr
    h = F.lru_hold_only_expr() + 2 * X.c2c_mean_ns
    total = sp.Add(*[w * d * m for (w, _), m in zip(_classes(), _class_means())])
    window = X.wake_spread_width_ns + sp.Max(d - 1, 0) * S["queue_work_ns"]
    ns = X.wake_spread_w * d
    return sp.Piecewise((0, d < 1), ((h * total + d * h ** 2 / 2) / sp.Max(window - ns * h, h), True))


@functools.lru_cache(maxsize=None)
def spin_mean_expr() -> sp.Expr:
    """Mean ns one kworker spins on the lru_lock: the ordered classes' queues and the
    spread part's time-average backlog, weighted by their shares."""
    ordered = sp.Add(*[w * m for (w, _), m in zip(_classes(), _class_means())])
    return ordered + X.wake_spread_w * spread_wait_expr()


@functools.lru_cache(maxsize=None)
def spin_last_expr() -> sp.Expr:
    """ns the last kworker of the lru_lock queue spins (the worst over the targets)."""
    return sp.Max(*[ordered_spin_exprs(w, c)[1] for w, c in _classes()], overlap_exprs()[2],
                  evaluate=False)


@functools.lru_cache(maxsize=None)
def hand_c2c_expr() -> sp.Expr:
    """Mean c2c of one lru_lock hand-off: between consecutive class members for the
    ordered classes, between random CPUs for the spread part."""
    return sp.Add(*[w * c for w, c in _classes()]) + X.wake_spread_w * X.c2c_mean_ns


# ---- per-evaluation inputs -----------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _share_fn():
    return sp.lambdify((_q, _s), share_expr(), modules="numpy")


def gap_c2c_ns(machine, q: np.ndarray) -> np.ndarray:
    """Mean c2c between a CPU and the next member of a class holding a share ``q`` of the
    CPU ids (geometric gap) on ``machine``'s nearest-first fill (:func:`share_expr` per
    level; beyond the profile's units the outermost class). Large arrays in blocks over
    threads (:mod:`pwmodel.blocks`: the same values)."""
    from pwmodel import blocks
    q = np.asarray(q, dtype=float)
    if q.ndim and q.size >= blocks.MIN_SIZE:
        return blocks.elementwise(lambda part: _gap_c2c_ns(machine, part),
                                  q.reshape(-1)).reshape(q.shape)
    return _gap_c2c_ns(machine, q)


def _gap_c2c_ns(machine, q: np.ndarray) -> np.ndarray:
    q = np.clip(q, 1e-12, 1.0)
    out = np.zeros(q.shape)
    below = np.zeros(q.shape)
    span = 1
    for lv in machine.levels[:-1]:
        span *= lv.size
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.clip(_share_fn()(q, float(span)), 0.0, 1.0)
        out += lv.c2c_ns * (p - below)
        below = p
    return out + machine.levels[-1].c2c_ns * (1.0 - below)


_CLASSES: dict[tuple, tuple] = {}


def classes(dist) -> tuple[tuple[float, float], float, float]:
    """The wake-up distribution's two largest ordered classes (weights of its finite point
    masses, equal values merged; 0 when absent) and its spread part (weight, width in ns:
    a uniform's b - a, a continuous part's sqrt(12) x standard deviation; further point
    masses join it at the width of their values). Kept per distribution (its signature):
    a crossover search asks at every step."""
    key = dist.signature()
    got = _CLASSES.get(key)
    if got is None:
        if len(_CLASSES) > 4096:
            _CLASSES.clear()
        got = _CLASSES[key] = _classes_of(dist)
    return got


def _classes_of(dist) -> tuple[tuple[float, float], float, float]:
    atoms: dict[float, float] = {}
    spread: list[tuple[float, float]] = []
    for c in dist.components:
        a = float(getattr(c, "a", 0.0))
        b = float(getattr(c, "b", a))
        if c.kind == "point" or (c.kind == "uniform" and b <= a):
            if math.isfinite(a):
                atoms[a] = atoms.get(a, 0.0) + c.weight
        elif c.kind == "uniform":
            spread.append((c.weight, b - a))
        else:
            m1, m2 = c.mean(), c.second_moment()
            spread.append((c.weight, math.sqrt(max(12.0 * (m2 - m1 * m1), 0.0))))
    ranked = sorted(atoms.items(), key=lambda kv: -kv[1])
    if len(ranked) > 2:
        rest = ranked[2:]
        vals = [v for v, _ in rest]
        spread.append((sum(w for _, w in rest), max(vals) - min(vals)))
    w = [wt for _, wt in ranked[:2]] + [0.0] * (2 - min(len(ranked), 2))
    w_s = sum(x for x, _ in spread)
    width = sum(x * y for x, y in spread) / w_s if w_s > 0 else 0.0
    return (w[0], w[1]), w_s, width


def atom_gap(dist) -> float:
    """(value of the second point-mass class) - (value of the first), ns, as ranked by
    :func:`classes` (0 without two finite point masses)."""
    atoms: dict[float, float] = {}
    for c in dist.components:
        a = float(getattr(c, "a", 0.0))
        b = float(getattr(c, "b", a))
        if (c.kind == "point" or (c.kind == "uniform" and b <= a)) and math.isfinite(a):
            atoms[a] = atoms.get(a, 0.0) + c.weight
    ranked = sorted(atoms.items(), key=lambda kv: -kv[1])
    return ranked[1][0] - ranked[0][0] if len(ranked) >= 2 else 0.0


DERIVED = {"lru_spin_mean_ns": spin_mean_expr, "lru_spin_last_ns": spin_last_expr,
           "c2c_hand_ns": hand_c2c_expr, "lru_backlog_end_ns": backlog_end_expr}


@functools.lru_cache(maxsize=None)
def _derived_exprs() -> tuple[sp.Expr, ...]:
    return tuple(f() for f in DERIVED.values())


def derived_values(v: dict) -> dict[str, np.ndarray]:
    """lru_spin_mean_ns, lru_spin_last_ns and c2c_hand_ns from the symbol values ``v``
    (parameters, c2c_mean_ns, n_cpus and :func:`class_values`): the fan-out forms take
    them as inputs, so their expressions stay small."""
    from pwmodel.models import numeric_named
    out = numeric_named("lrulock.derived " + " ".join(DERIVED), _derived_exprs, v)
    return dict(zip(DERIVED, out))


def params_read() -> frozenset[str]:
    """Registry parameters the derived values read: a sweep over one of them needs new
    tables (:func:`pwmodel.sweep.spec.group_params`)."""
    from pwmodel.params import PARAMS
    return frozenset(str(x) for f in DERIVED.values() for x in f().free_symbols
                     if str(x) in PARAMS) | {"dirty_fraction"}


def class_values(dist, machine, dirty_fraction, c2c_scale=1.0) -> dict[str, object]:
    """Values of the per-evaluation symbols of this module for one wake-up distribution on
    one machine (arrays broadcast with ``dirty_fraction`` and ``c2c_scale``)."""
    (w1, w2), w_s, width = classes(dist)
    d = np.asarray(dirty_fraction, dtype=float)

    def gap(w: float) -> np.ndarray:
        if w == 0 and d.size >= 4096 and np.isfinite(d).all():
            # no such class: q = 0 everywhere, one value (as computed in an array)
            return np.full(d.shape, gap_c2c_ns(machine, np.zeros(1))[0])
        return gap_c2c_ns(machine, d * w)
    return {"wake_atom1_w": w1, "wake_atom2_w": w2, "wake_spread_w": w_s,
            "wake_spread_width_ns": width, "wake_atom_gap_ns": atom_gap(dist),
            "c2c_gap1_ns": gap(w1) * c2c_scale,
            "c2c_gap2_ns": gap(w2) * c2c_scale}
