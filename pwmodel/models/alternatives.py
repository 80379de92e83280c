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


def stranded_items_expr() -> sp.Expr:
    """Items left in one dirty isolated CPU's cache under SKIP."""
    return S["batch_items"]


def stranded_bytes_expr() -> sp.Expr:
    """Bytes those items keep from the rest of the system, per dirty isolated CPU."""
    return S["batch_items"] * S["item_bytes"]
