"""Two more strategies reviewers proposed: RU (drain on return to user space) and SKIP
(do not drain isolated CPUs). Same symbols and per-call frame as QW and RL.

RU: the requester marks each dirty isolated (nohz_full, busy in user space) target
with one remote write (a flag line, at the pair's c2c) and returns; nothing
interrupts the target now. The target drains its own cache, hot, when its task
next returns to user space from the kernel: that exit costs the flag check and
the local drain S_Q = B t_item (no interrupt, no context switch). Until then
the cache stays dirty: with kernel entries of the isolated task as a Poisson
stream at ``kernel_exit_rate_hz`` the mean window is its mean residual time,
1 / lambda_exit. A task that never enters the kernel never drains (window
unbounded). Requester:

    RU = t_mutex + t_check + D c2c_mean

SKIP: isolated targets are not drained at all (mm/memcontrol.c drain_all_stock()
upstream since 2023: ``else if (!cpu_is_isolated(cpu))``). The requester pays the
mutex and the check loop; nothing happens on the target; the cache's items stay
where they are (stranded), B items and B s_item bytes per dirty isolated CPU:

    SKIP = t_mutex + t_check,    stranded = B items, B s_item bytes per CPU

Neither gives a flushing caller its guarantee that every cache is empty when it
returns (lru_add_drain_all() before migration or unmount): which objectives may
rank them is stated in :data:`pwmodel.strategies.APPLICABLE`. Fast path: neither
needs a remotely taken lock, so the local operation keeps the queued-work
configuration's cost (pwlocks=0).
"""

from __future__ import annotations

import sympy as sp

from pwmodel.models import coherence
from pwmodel.models import fanout as F
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S


def ru_requester_expr() -> sp.Expr:
    """ns of an RU requester: mutex, check loop, one flag write per dirty CPU."""
    return F._base() + F.dirty_expr * X.c2c_mean_ns


def ru_exit_cost_expr() -> sp.Expr:
    """ns added to the target task's next return to user space: the hot local drain
    (the flag check is a local L1 read, not counted)."""
    return coherence.local_drain_expr()


def ru_dirty_window_expr() -> sp.Expr:
    """Mean ns the target's cache stays dirty after the request (residual time to the next
    kernel exit of a Poisson stream); unbounded when the task never enters the kernel."""
    lam = S["kernel_exit_rate_hz"]
    return sp.Piecewise((sp.oo, sp.Eq(lam, 0)), (sp.Float(1e9) / lam, True))


def ru_cpu_expr() -> sp.Expr:
    """ns of CPU time of one RU call system-wide: the requester plus D deferred drains."""
    return ru_requester_expr() + F.dirty_expr * ru_exit_cost_expr()


def skip_requester_expr() -> sp.Expr:
    """ns of a SKIP requester: mutex and the check loop only."""
    return F._base()


def ru_c2c_lines_expr() -> sp.Expr:
    """Lines an RU requester moves per dirty CPU, at that CPU's pair c2c: its batch counters
    (``lines_check``) and the flag."""
    return S["lines_check"] + 1


def skip_c2c_lines_expr() -> sp.Expr:
    """Lines a SKIP requester moves per dirty CPU: its batch counters."""
    return S["lines_check"]


def _sum_quantile_expr(mean: sp.Expr, lines: sp.Expr, q: float) -> sp.Expr:
    """q-quantile of mutex + sum over the D dirty CPUs of lines x c_i (c_i the pair c2c of
    dirty CPU i, 0 for the requester's own), normal approximation given D: mean ``mean``,
    variance D lines^2 Var(c2c) (N - D) / (N - 1) (D distinct CPUs of the N, drawn without
    replacement: the finite-population factor). With D < 1 at most one CPU (the farthest
    class) when P(no CPU) < q, else no drain. Where D <= rlsum.D_EXACT the evaluation takes
    the exact law of the sum (rlsum.exact_cdfs with these terms) instead; the spread of D
    itself is the mixture over its law (pwmodel.models.dirty.normal_quantile)."""
    from statistics import NormalDist
    z = F.Z99 if q == 0.99 else sp.Float(NormalDist().inv_cdf(q))
    n, dn = X.n_cpus, F.dirty_expr
    fpc = sp.Piecewise((0, n <= 1), ((n - dn) / (n - 1), True))
    var = dn * lines ** 2 * X.c2c_var_ns2 * sp.Max(fpc, 0)
    one = S["mutex_ns"] + lines * X.c2c_max_ns
    return sp.Piecewise((F.no_drain_expr(), 1 - dn >= sp.Float(q)), (one, dn < 1),
                        (mean + z * sp.sqrt(var), True))


def ru_quantile_expr(q: float = 0.99) -> sp.Expr:
    """q-quantile of the RU requester latency (:func:`_sum_quantile_expr`): mutex plus, per
    dirty CPU, its counters and the flag at the pair's c2c."""
    return _sum_quantile_expr(ru_requester_expr(), ru_c2c_lines_expr(), q)


def skip_quantile_expr(q: float = 0.99) -> sp.Expr:
    """q-quantile of the SKIP requester latency: mutex plus the check loop's misses."""
    return _sum_quantile_expr(skip_requester_expr(), skip_c2c_lines_expr(), q)


def _terms(lines: sp.Expr):
    from pwmodel.models import rlsum
    return rlsum.Terms(lines, sp.Integer(0), None)


RU_TERMS = _terms(ru_c2c_lines_expr())      # exact laws of the sums at few dirty CPUs
SKIP_TERMS = _terms(skip_c2c_lines_expr())


def stranded_items_expr() -> sp.Expr:
    """Items left in one dirty isolated CPU's cache under SKIP."""
    return S["batch_items"]


def stranded_bytes_expr() -> sp.Expr:
    """Bytes those items keep from the rest of the system, per dirty isolated CPU."""
    return S["batch_items"] * S["item_bytes"]
