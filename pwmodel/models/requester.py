"""Requester patterns: what the caller of a drain-all pays when it does not wait.

``flush`` call sites (lru_add_drain_all(), drain_all_pages(), flush_all_cpus_locked())
wait for every drain: the forms of :mod:`pwmodel.models.fanout`.

``async`` call sites (drain_all_stock(), vmstat_shepherd()) queue the drains and
return. Under queued work the requester pays the global mutex, the check loop
and one queue_work_on() per dirty CPU, and nothing after:

    QW_async = t_mutex + t_check + D t_q

(no flush barrier, no completion wake-up). Under remote locking there is no one
else to do the drains: the requester drains the D dirty CPUs itself, exactly as
a flushing RL requester does (``RL_async = RL``). The drains themselves are not
cheaper for being asynchronous: each target still loses the same interruption
(``fanout.qw_victim_expr``, ``fanout.rl_victim_mean_expr``), and the last queued
drain still completes when a flushing requester would have been woken, i.e.
at ``QW - t_wake`` (:func:`qw_async_done_expr`), which is how long the caches
stay dirty after the call.

p99 of QW_async at a given D (the form of the fixed convention; the binomial
spread of D is the mixture over its law, :func:`pwmodel.models.dirty.normal_quantile`):
the check loop costs l_check c2c per dirty CPU, at the pair class of that CPU,
so with c = t_q + l_check c2c_mean the requester time is t_mutex + D c plus
the spread of the D distinct CPUs' classes, variance l_check^2 D Var(c2c)
(N - D)/(N - 1) (finite population), normal approximation:

    QW_async_p99 = t_mutex + D c + z_0.99 l_check sqrt(D Var(c2c) (N - D)/(N - 1))

and t_mutex when P(D = 0) >= 0.99 (1 - N d >= 0.99 for N d < 1). (It once
carried the binomial variance N d (1 - d) c^2 itself: +155 % at N = 2 against
the simulated fixed count, where D is certain.)

CPU time of one async QW call: the requester's part plus the D queued drains on
the targets (``fanout.qw_cpu_expr`` without the requester's wake-up).
Sources: mm/memcontrol.c drain_all_stock() (schedule_work_on(), no flush_work()),
mm/vmstat.c vmstat_shepherd() (queue_delayed_work_on(), no wait).
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

from pwmodel.models import fanout as F
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

PATTERNS = ("flush", "async")


def _per_dirty_cpu() -> sp.Expr:
    """ns the async QW requester spends per dirty CPU: its check-loop miss and the queueing."""
    return S["queue_work_ns"] + S["lines_check"] * X.c2c_mean_ns


def qw_async_mean_expr() -> sp.Expr:
    """Mean ns of an async QW requester: mutex + check loop + D queue_work_on() calls."""
    return F._base() + F.dirty_expr * S["queue_work_ns"]


def qw_async_quantile_expr(q: float = 0.99) -> sp.Expr:
    """q-quantile of QW_async at a given D = d N (normal approximation over the pair
    classes of the D distinct dirty CPUs the check loop reads)."""
    from statistics import NormalDist
    z = F.Z99 if q == 0.99 else sp.Float(NormalDist().inv_cdf(q))
    n, dn = X.n_cpus, F.dirty_expr
    fpc = sp.Piecewise((0, n <= 1), ((n - dn) / (n - 1), True))
    spread = S["lines_check"] * sp.sqrt(dn * X.c2c_var_ns2 * sp.Max(fpc, 0))
    full = S["mutex_ns"] + dn * _per_dirty_cpu() + z * spread
    one = S["mutex_ns"] + _per_dirty_cpu()        # D < 1: at most one dirty CPU
    return sp.Piecewise((F.no_drain_expr(), 1 - F.dirty_expr >= sp.Float(q)),
                        (one, F.dirty_expr < 1), (sp.Max(full, S["mutex_ns"]), True))


def qw_async_p99_expr() -> sp.Expr:
    return qw_async_quantile_expr(0.99)


def qw_async_done_expr() -> sp.Expr:
    """Mean ns from the call until the last queued drain has finished (the caches stay
    dirty that long): the flushing requester's time without its wake-up."""
    return F.qw_mean_expr() - F._active * S["requester_wakeup_ns"]


def qw_async_cpu_expr() -> sp.Expr:
    """ns of CPU time of one async QW call system-wide (requester + D targets)."""
    return F.qw_cpu_expr() - F._active * S["requester_wakeup_ns"]


def quantile_exprs(pattern: str, q: float) -> tuple[sp.Expr, sp.Expr]:
    """(QW, RL) q-quantile expressions of the requester latency for a pattern (RL drains
    itself whatever the pattern)."""
    _check(pattern)
    qw = qw_async_quantile_expr(q) if pattern == "async" else F.qw_quantile_expr(q)
    return qw, F.rl_quantile_expr(q)


def _check(pattern: str) -> None:
    if pattern not in PATTERNS:
        from pwmodel.errors import PwmodelError
        raise PwmodelError(f"unknown requester pattern '{pattern}' (known: {', '.join(PATTERNS)})",
                           field="requester.pattern")


def requester_builders(pattern: str) -> dict[str, Callable[[], sp.Expr]]:
    """What builds each expression of :func:`requester_exprs` (for a caller that builds
    only those it evaluates)."""
    _check(pattern)
    rl = {"rl_mean": F.rl_mean_expr, "rl_p99": F.rl_p99_expr, "rl_cpu": F.rl_cpu_expr}
    if pattern == "flush":
        return {"qw_mean": F.qw_mean_expr, "qw_p99": F.qw_p99_expr, "qw_cpu": F.qw_cpu_expr, **rl}
    return {"qw_mean": qw_async_mean_expr, "qw_p99": qw_async_p99_expr,
            "qw_cpu": qw_async_cpu_expr, **rl}


def requester_exprs(pattern: str) -> dict[str, sp.Expr]:
    """The QW and RL requester and CPU-time expressions of a pattern (keys: qw_mean,
    qw_p99, rl_mean, rl_p99, qw_cpu, rl_cpu)."""
    return {k: build() for k, build in requester_builders(pattern).items()}
