"""Fan-out over N CPUs: one lru_add_drain_all() call, both strategies.

Common part: the global mutex, then cpu_needs_mm_drain() reads each CPU's
batch counters; the lines of the D = d N dirty CPUs were written by their
owners and cost a transfer each: t_check = N d l_check c2c_mean.

Queued work (QW): D queue_work_on() calls t_q apart, then the requester
sleeps in flush_work() until the slowest work finishes. Two bounds, the
larger wins: the slowest work's start, E[max_j (j t_q + W_j)] = D t_q +
E[Y_D] with Y_D = max_{i<D} (W_i - i t_q) (work j queued at j t_q, then its
queue->start latency; :mod:`pwmodel.models.stagger`, symbol wake_smax_ns; not
D t_q + E[max W], which takes the slowest wake-up to be the last one queued),
plus its hot drain S_Q; or the shared lruvec lru_lock, which the
parallel drains take in turn (hold f S_Q plus a hand-off of two lines, at the
c2c of neighbouring CPUs when they arrive in queueing order, else the mean),
the first one starting after t_q + W_min. Then the completion wakes the
requester. With h = f S_Q + 2 c2c_handoff and D >= 1:

    QW = t_mutex + t_check + max(D t_q + E[Y_D] + S_Q,
                                 t_q + W_min + D h + (1 - f) S_Q) + t_wake

For D < 1 (N d < 1) the tail is weighted by D, the probability that the one
candidate CPU is dirty (expected value). The p99 takes the quantile of the
maximum, F^{-1}(0.99^{1/D}); for D < 1 it is F^{-1}(1 - 0.01/D) when
1 - D < 0.99, else no work at all.

Remote locking (RL): the requester drains the dirty CPUs one after another
under their locks: a sum, linear in N, each term at the topology distance of
that CPU (uniformly chosen dirty CPUs: the mean c2c over the N CPUs, self
counting 0), plus the wait for an owner inside its local critical section.

    RL = t_mutex + t_check + D (S_R(c2c_mean) + W_R)

RL quantiles at a given D: the exact law of the sum of the D per-CPU terms
(pair classes of D distinct CPUs, owner waits) for D <= 16, else the normal
approximation with the owner-wait variance and the pair-class variance
D l_c2c^2 Var(c2c) (N - D)/(N - 1) (pwmodel.models.rlsum). Victims: the
mean over the dirty targets and the largest over them (victim functions). Sources: docs/model.md "Fan-out over N CPUs"; mm/swap.c
__lru_add_drain_all in the seed patch; forms corrected against the
simulator (docs/validity.md).
"""

from __future__ import annotations

import sympy as sp

from pwmodel.models import coherence, contention, fastpath
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

Z99 = sp.Float(2.3263478740408408)  # standard normal 0.99 quantile

dirty_expr = S["dirty_fraction"] * X.n_cpus
_active = sp.Min(dirty_expr, 1)       # P(the one candidate is dirty) when D < 1
_d1 = sp.Max(dirty_expr, 1)           # D, at least one drain
_none = sp.Eq(S["dirty_fraction"], 0)


def check_expr() -> sp.Expr:
    """ns to read the batch counters of all N CPUs (dirty ones miss)."""
    return X.n_cpus * S["dirty_fraction"] * S["lines_check"] * X.c2c_mean_ns


def _base() -> sp.Expr:
    return S["mutex_ns"] + check_expr()


def no_drain_expr() -> sp.Expr:
    """ns of a call that finds no dirty CPU: the mutex (the check loop reads only clean,
    cached counters). A requester quantile at q <= P(no drain) is this cost."""
    return S["mutex_ns"]


def rl_per_cpu_expr(c2c: sp.Expr = X.c2c_mean_ns) -> sp.Expr:
    """ns the requester spends on one dirty CPU under RL (hold + wait for the owner)."""
    return coherence.remote_hold_expr(c2c) + contention.remote_wait_expr()


def rl_mean_expr() -> sp.Expr:
    return _base() + dirty_expr * rl_per_cpu_expr()


def _rl_c2c_lines() -> sp.Expr:
    """Lines whose transfer each dirty CPU costs the requester (the coefficient of c2c in
    S_R plus the batch-counter check)."""
    from pwmodel.models import rlsum
    return rlsum.c2c_lines_expr()


def rl_quantile_expr(q: float = 0.99) -> sp.Expr:
    """q-quantile of the RL requester latency at D = d N dirty CPUs, normal approximation:
    the variance of the owner waits and of the pair classes of D *distinct* CPUs (the
    finite-population correction (N - D)/(N - 1)); the spread of D itself is not in a
    given-D form. With D < 1 at most one drain (at the farthest class) when P(no drain)
    < q. For D <= rlsum.D_EXACT the evaluation uses the exact law instead
    (:func:`pwmodel.models.rlsum.rl_quantile`)."""
    from statistics import NormalDist
    z = Z99 if q == 0.99 else sp.Float(NormalDist().inv_cdf(q))
    # owner-wait variance is >= 0 while the owner's lock utilisation is <= 1 (model domain)
    var_w = sp.Max(contention.remote_wait_var_expr(), 0)
    fpc = sp.Piecewise((0, X.n_cpus <= 1), ((X.n_cpus - dirty_expr) / (X.n_cpus - 1), True))
    var = dirty_expr * var_w + dirty_expr * _rl_c2c_lines() ** 2 * X.c2c_var_ns2 * sp.Max(fpc, 0)
    full = rl_mean_expr() + z * sp.sqrt(var)
    one = _base() + rl_per_cpu_expr(X.c2c_max_ns)   # D < 1: at most one drain
    # (d = 0 falls in the first branch: no drain at all)
    return sp.Piecewise((no_drain_expr(), 1 - dirty_expr >= sp.Float(q)),
                        (one, dirty_expr < 1), (full, True))


def rl_p99_expr() -> sp.Expr:
    return rl_quantile_expr(0.99)


def handoff_c2c_expr() -> sp.Expr:
    """c2c of one lru_lock hand-off between consecutive holders: the kworkers of one point
    mass of the wake-up distribution ask in queueing (CPU id) order, so their holders are
    consecutive dirty CPUs of that class (geometric id gap); spread ones meet random
    holders (c2c_mean). c2c_hand_ns: :func:`pwmodel.models.lrulock.hand_c2c_expr`."""
    return X.c2c_hand_ns


def lru_hold_only_expr() -> sp.Expr:
    """ns one parallel drain holds the lruvec lru_lock, without the hand-off: f S_Q."""
    return S["lru_hold_fraction"] * coherence.local_drain_expr()


def lru_hold_expr() -> sp.Expr:
    """ns one parallel drain holds the lruvec lru_lock, hand-off included: h = f S_Q + 2 c2c."""
    return lru_hold_only_expr() + 2 * handoff_c2c_expr()


def lru_serial_expr() -> sp.Expr:
    """Lower bound on the last drain's end set by the shared lru_lock (ns after the mutex)."""
    sq = coherence.local_drain_expr()
    return (S["queue_work_ns"] + X.wake_min_ns + _d1 * lru_hold_expr()
            + (1 - S["lru_hold_fraction"]) * sq)


def _slowest(wait_max: sp.Expr) -> sp.Expr:
    """The slowest work's drain ends: its start (the last queueing plus ``wait_max``), the
    lru_lock backlog it finds when it is a point-mass kworker queued behind the others
    (``lru_backlog_end_ns``, :func:`pwmodel.models.lrulock.backlog_end_expr`; 0 unless
    the point masses overlap or queue), and its hot drain."""
    return (_d1 * S["queue_work_ns"] + wait_max + X.lru_backlog_end_ns
            + coherence.local_drain_expr())


def slowest_mean_expr() -> sp.Expr:
    """Expected end of the slowest work's drain (ns after the mutex and the check loop):
    E[max_j (j t_q + W_j)] + S_Q = D t_q + E[Y_D] + S_Q (:mod:`pwmodel.models.stagger`)."""
    return _slowest(X.wake_smax_ns)


def qw_mean_expr() -> sp.Expr:
    tail = sp.Max(slowest_mean_expr(), lru_serial_expr()) + S["requester_wakeup_ns"]
    return _base() + sp.Piecewise((0, _none), (_active * tail, True))


def qw_quantile_expr(q: float = 0.99) -> sp.Expr:
    """q-quantile of the QW requester latency. ``wake_qmax_ns`` is the q-quantile of the
    maximum of D queue->start latencies, F^{-1}(q^{1/D}) for D >= 1 and F^{-1}(1 - (1-q)/D)
    for D < 1 (evaluate.qmax_of at the same q). D t_q + that is an upper bound on the
    quantile of the staggered maximum D t_q + Y_D (:mod:`pwmodel.models.stagger`): at the
    p99 the two differ by the few queueing gaps the top 1 % of Y_D spans (about 1 % at
    D = 512 with busy targets, inside the tail tolerance; the mean differs by 6 %). With D < 1 no work is queued at all in a
    share 1 - D of the calls, so a quantile at q <= 1 - D is the no-drain cost
    (:func:`no_drain_expr`)."""
    tail = sp.Max(_slowest(X.wake_qmax_ns), lru_serial_expr()) + S["requester_wakeup_ns"]
    return sp.Piecewise((no_drain_expr(), 1 - dirty_expr >= sp.Float(q)), (_base() + tail, True))


def qw_p99_expr() -> sp.Expr:
    """p99 of the requester latency (:func:`qw_quantile_expr` at q = 0.99)."""
    return qw_quantile_expr(0.99)


def qw_variant_expr(form: str) -> sp.Expr:
    """Candidate forms of the QW tail for model selection: 'max' (default), 'slowest'
    (slowest CPU only), 'lock' (shared lock only), 'sum' (both added)."""
    slowest = slowest_mean_expr()
    lock = lru_serial_expr()
    tail = {"max": sp.Max(slowest, lock), "slowest": slowest, "lock": lock,
            "sum": slowest + lock - S["queue_work_ns"] - X.wake_min_ns}[form]
    return _base() + sp.Piecewise((0, _none), (_active * (tail + S["requester_wakeup_ns"]), True))


def lru_spin_mean_expr() -> sp.Expr:
    """Mean ns one kworker spins on the lru_lock behind the other drains: the queue of
    each ordered class (Spitzer's identity for its slotted queue) and the time-average
    backlog met by the spread ones. lru_spin_mean_ns:
    :func:`pwmodel.models.lrulock.spin_mean_expr`."""
    return X.lru_spin_mean_ns


def lru_spin_last_expr() -> sp.Expr:
    """ns the last kworker in the lru_lock queue spins. lru_spin_last_ns:
    :func:`pwmodel.models.lrulock.spin_last_expr`."""
    return X.lru_spin_last_ns


# ---- victim (the target CPU's task), per drain of that CPU -----------------------
def kworker_entry_expr() -> sp.Expr:
    """ns a queued drain costs the target besides the drain itself: the IPI's irq and
    the switches into the kworker and back."""
    return S["kworker_irq_ns"] + 2 * S["kworker_switch_ns"]


def qw_victim_expr() -> sp.Expr:
    """Victim mean: the mean over the dirty targets of the ns each busy target loses to
    its queued drain, from the kworker's start to its end: irq + 2 switches + hot drain +
    its spin on the lru_lock behind the other parallel drains (mean over the queue)."""
    return kworker_entry_expr() + coherence.local_drain_expr() + lru_spin_mean_expr()


def qw_victim_worst_expr() -> sp.Expr:
    """Victim worst: the largest interruption over the targets of a call, the last kworker
    in the lru_lock queue."""
    return kworker_entry_expr() + coherence.local_drain_expr() + lru_spin_last_expr()


def rl_owner_loss_expr(c2c: sp.Expr) -> sp.Expr:
    """Mean ns a busy owner loses to one remote drain from a requester ``c2c`` away: the
    spin of its first local attempt inside the hold, E[(S_R - T1)^+], plus the refetch
    when its next operation takes the lock before the next remote drain (P_ref; see
    contention)."""
    sr = coherence.remote_hold_expr(c2c)
    return (contention.owner_spin_expr(sr)
            + contention.refetch_share_expr(sr) * coherence.owner_refetch_expr(c2c))


def rl_owner_loss_mean_expr() -> sp.Expr:
    """The owner loss averaged over the pair classes of the dirty CPUs (uniform over the N
    CPUs, the requester's own counting at c2c 0)."""
    return sp.Add(*[nc / X.n_cpus * rl_owner_loss_expr(c)
                    for nc, c in zip(X.pair_n, X.pair_c2c_ns)])


def rl_victim_mean_expr() -> sp.Expr:
    """Victim mean: the mean over the dirty targets of what each busy owner loses to its
    remote drain (:func:`rl_owner_loss_mean_expr`)."""
    return rl_owner_loss_mean_expr()


def rl_victim_ccdf_expr(x: sp.Expr = X.loss_ns) -> sp.Expr:
    """P(interruption > x) of one remote drain for a dirty target's task, over the pair
    classes of the targets: 1 - the owner-loss CDF (:func:`pwmodel.models.rlsum.owner_loss_cdf_expr`:
    the first local op after the requester took the lock arrives after T1 ~ Exp(lambda'),
    spins (S_R - T1)^+ and pays the refetch with P_ref). Its integral over x >= 0 is
    :func:`rl_victim_mean_expr`."""
    from pwmodel.models import rlsum
    return sp.Add(*[nc / X.n_cpus * (1 - rlsum.owner_loss_cdf_expr(x, c))
                    for nc, c in zip(X.pair_n, X.pair_c2c_ns)])


def rl_victim_worst_expr() -> sp.Expr:
    """Supremum of the owner loss: a local op arrives just as the farthest requester takes
    the lock. The evaluated victim worst is the expectation over calls of the largest loss
    over the D targets (:func:`pwmodel.models.rlsum.owner_loss_emax`), which approaches
    this at high local rates and many targets."""
    return coherence.remote_hold_expr(X.c2c_max_ns) + coherence.owner_refetch_expr(X.c2c_max_ns)


# ---- CPU time per drain, all CPUs ------------------------------------------------
def qw_cpu_expr() -> sp.Expr:
    """ns of CPU time consumed system-wide by one QW drain (requester + D targets,
    including the kworkers' spinning on the lru_lock)."""
    return (_base() + dirty_expr * (S["queue_work_ns"] + qw_victim_expr())
            + _active * S["requester_wakeup_ns"])


def rl_cpu_expr() -> sp.Expr:
    """ns of CPU time of one RL drain: the requester's work plus, on each owner, the spin
    during the remote hold and the refetch afterwards."""
    return rl_mean_expr() + dirty_expr * rl_owner_loss_mean_expr()


# ---- CPU load -----------------------------------------------------------------------
def cpu_load_expr(drain_cpu: sp.Expr = X.drain_cpu_ns, op_cost: sp.Expr = X.op_cost_ns) -> sp.Expr:
    """CPUs kept busy by a strategy (utilisation law, :func:`fastpath.share_expr`): the
    drain-all calls at ``remote_rate_hz``, each costing ``drain_cpu`` ns of CPU time
    system-wide, plus on each of the N CPUs the ``local_rate_hz`` local ops, each costing
    ``op_cost`` ns more (fast-path tax, and under RL the refetches and waits)."""
    return (fastpath.share_expr(drain_cpu, S["remote_rate_hz"])
            + X.n_cpus * fastpath.share_expr(op_cost, S["local_rate_hz"]))
