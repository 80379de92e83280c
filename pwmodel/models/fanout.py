"""Fan-out over N CPUs: one lru_add_drain_all() call, both strategies.

Common part: the global mutex, then cpu_needs_mm_drain() reads each CPU's
batch counters; the lines of the D = d N dirty CPUs were written by their
owners and cost a transfer each: t_check = N d l_check c2c_mean.

Queued work (QW): D queue_work_on() calls, then the requester sleeps in
flush_work() until the slowest work finishes: the expected maximum of D
queue->start latencies (order statistics of the wake-up distribution, not
the mean), plus the hot drain S_Q, unless the D parallel drains are limited
by the shared lruvec lru_lock, whose holds serialise with a hand-off of two
lines each: first start + D (f_lru S_Q + 2 c2c_mean). Then the completion
wakes the requester.

    QW = t_mutex + t_check + D t_queue
         + [D > 0] (max(E[max_D W] + S_Q, W_min + D (f_lru S_Q + 2 c2c)) + t_wake)

Remote locking (RL): the requester drains the dirty CPUs one after another
under their locks: a sum, linear in N, each term at the topology distance of
that CPU (uniformly chosen dirty CPUs: the mean c2c over the N CPUs, self
counting 0), plus the wait for an owner inside its local critical section.

    RL = t_mutex + t_check + D (S_R(c2c_mean) + W_R)

The p99 of QW uses the quantile of the maximum (F^{-1}(0.99^{1/D})); RL's
spread comes only from the W_R waits (normal approximation over D terms).
Victim interruption is per drain of one dirty target CPU. Source:
design/MODEL.md "Fan-out over N CPUs"; mm/swap.c __lru_add_drain_all in the
seed patch.
"""

from __future__ import annotations

import sympy as sp

from pwmodel.models import coherence, contention
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

Z99 = sp.Float(2.3263478740408408)  # standard normal 0.99 quantile

dirty_expr = S["dirty_fraction"] * X.n_cpus
_active = sp.Min(dirty_expr, 1)


def check_expr() -> sp.Expr:
    """ns to read the batch counters of all N CPUs (dirty ones miss)."""
    return X.n_cpus * S["dirty_fraction"] * S["lines_check"] * X.c2c_mean_ns


def _base() -> sp.Expr:
    return S["mutex_ns"] + check_expr()


def rl_per_cpu_expr() -> sp.Expr:
    """ns the requester spends on one dirty CPU under RL (hold + wait for the owner)."""
    return coherence.remote_hold_expr(X.c2c_mean_ns) + contention.remote_wait_expr()


def rl_mean_expr() -> sp.Expr:
    return _base() + dirty_expr * rl_per_cpu_expr()


def rl_p99_expr() -> sp.Expr:
    # the variance is >= 0 while the owner's lock utilisation is <= 1 (model domain)
    var = sp.Max(contention.remote_wait_var_expr(), 0)
    return rl_mean_expr() + Z99 * sp.sqrt(dirty_expr * var)


def lru_serial_expr() -> sp.Expr:
    """Lower bound on the parallel drains' finish set by the shared lru_lock (ns)."""
    return X.wake_min_ns + dirty_expr * (S["lru_hold_fraction"] * coherence.local_drain_expr()
                                         + 2 * X.c2c_mean_ns)


def _qw(wait_max: sp.Expr) -> sp.Expr:
    sq = coherence.local_drain_expr()
    tail = sp.Max(wait_max + sq, lru_serial_expr()) + S["requester_wakeup_ns"]
    return _base() + dirty_expr * S["queue_work_ns"] + sp.Piecewise(
        (0, sp.Eq(S["dirty_fraction"], 0)), (_active * tail, True))


def qw_mean_expr() -> sp.Expr:
    return _qw(X.wake_emax_ns)


def qw_p99_expr() -> sp.Expr:
    return _qw(X.wake_qmax_ns)


def qw_variant_expr(form: str) -> sp.Expr:
    """Candidate forms of the QW tail for model selection: 'max' (default), 'slowest'
    (slowest CPU only), 'lock' (shared lock only), 'sum' (both added)."""
    sq = coherence.local_drain_expr()
    slowest = X.wake_emax_ns + sq
    lock = lru_serial_expr()
    tail = {"max": sp.Max(slowest, lock), "slowest": slowest, "lock": lock,
            "sum": slowest + lock - X.wake_min_ns}[form]
    return _base() + dirty_expr * S["queue_work_ns"] + sp.Piecewise(
        (0, sp.Eq(S["dirty_fraction"], 0)), (_active * (tail + S["requester_wakeup_ns"]), True))


# ---- victim (the target CPU's task), per drain of that CPU -----------------------
def qw_victim_expr() -> sp.Expr:
    """ns a busy target loses to one queued drain: irq + 2 switches + hot drain."""
    return S["kworker_irq_ns"] + 2 * S["kworker_switch_ns"] + coherence.local_drain_expr()


def rl_victim_mean_expr() -> sp.Expr:
    """Mean ns a target loses to one remote drain: lock wait + refetch on its next op.

    The target attempts local ops as a Poisson stream (rate lambda_L while it
    runs); the first attempt inside the remote hold S_R spins until the hold
    ends, later ones are merely delayed. With T1 ~ Exp(lambda_L):
    E[(S_R - T1)^+] = S_R - (1 - exp(-lambda_L S_R)) / lambda_L  (<= S_R;
    ~ lambda_L S_R^2 / 2 when lambda_L S_R << 1).
    """
    sr = coherence.remote_hold_expr(X.c2c_max_ns)
    lr, ll = S["remote_rate_hz"], S["local_rate_hz"]
    ll_ns = ll * sp.Float(1e-9)
    wait = sp.Piecewise((0, sp.Eq(ll, 0)), (sr - (1 - sp.exp(-ll_ns * sr)) / ll_ns, True))
    next_local = sp.Piecewise((0, sp.Eq(lr + ll, 0)), (ll / (lr + ll), True))
    return wait + next_local * coherence.owner_refetch_expr(X.c2c_max_ns)


def rl_victim_worst_expr() -> sp.Expr:
    """Worst ns: a local op arrives just as the farthest requester takes the lock."""
    return coherence.remote_hold_expr(X.c2c_max_ns) + coherence.owner_refetch_expr(X.c2c_max_ns)


# ---- CPU time per drain, all CPUs ------------------------------------------------
def qw_cpu_expr() -> sp.Expr:
    """ns of CPU time consumed system-wide by one QW drain (requester + D targets)."""
    return (_base() + dirty_expr * (S["queue_work_ns"] + qw_victim_expr())
            + _active * S["requester_wakeup_ns"])


def rl_cpu_expr() -> sp.Expr:
    """ns of CPU time of one RL drain: the requester's work plus the owners' refetches."""
    return rl_mean_expr() + dirty_expr * coherence.owner_refetch_expr(X.c2c_mean_ns)
