"""The requester's mean latency taken apart: named terms whose sum is the model's mean.

Each strategy's mean (``fanout.qw_mean_expr``, ``requester.qw_async_mean_expr``,
``fanout.rl_mean_expr``) is a sum of the common part (the global mutex and the
check loop over the N CPUs' batch counters) and what the strategy does per dirty
CPU. The terms below are those summands, one per mechanism; their sum is the mean
as a SymPy identity (tests/test_breakdown.py checks it symbolically for each
requester pattern and isolation level, with the idle owner's inputs of
:mod:`pwmodel.models.owner`).

QW with a flushing requester waits for the later of two ends (``fanout``):

* the slowest kworker: D queue_work_on() calls, the expected maximum of the D
  wake-ups and the hot drain (regime ``slowest``);
* the drains serialised on the shared lru_lock: the first work queued and started
  (t_q + W_min), then D lock holds and the rest of the last drain (regime ``lock``).

Each term is one expression for every input: the terms of a regime carry its
indicator, :func:`lock_bound_expr` (1 where the lock-serialised drains end later,
0 otherwise, as where the maximum takes its first argument), so a term can be
evaluated, or averaged over the dirty count, like the mean itself. With D < 1
every QW tail term is weighted by D (the probability that the one candidate CPU
is dirty); with d = 0 there is no tail at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from pwmodel.models import coherence, contention
from pwmodel.models import fanout as F
from pwmodel.models import symbols as X
from pwmodel.params import SYMBOLS as S

REGIMES = ("slowest", "lock")


@dataclass(frozen=True)
class Term:
    name: str
    expr: sp.Expr
    regime: str | None = None     # QW flush: the end this term belongs to (else None)


def ends() -> dict[str, sp.Expr]:
    """The two ends of a flushing QW requester's wait, by regime (``fanout``)."""
    return {"slowest": F.slowest_mean_expr(), "lock": F.lru_serial_expr()}


def later_end_expr() -> sp.Expr:
    """The later of the two ends, exactly as ``fanout.qw_mean_expr`` writes it."""
    e = ends()
    return sp.Max(e["slowest"], e["lock"])


def lock_bound_expr() -> sp.Expr:
    """1 where the lru_lock-serialised drains end after the slowest kworker (regime
    ``lock``), 0 otherwise (regime ``slowest``, also where both ends coincide)."""
    e = ends()
    return sp.Heaviside(e["lock"] - e["slowest"], 0)


def _tail(x: sp.Expr) -> sp.Expr:
    """A QW tail term: weighted by P(the one candidate is dirty) for D < 1, none at d = 0."""
    return sp.Piecewise((0, F._none), (F._active * x, True))


def _common() -> list[Term]:
    return [Term("global mutex", S["mutex_ns"]), Term("read N batch counters", F.check_expr())]


def qw_terms(pattern: str = "flush") -> list[Term]:
    """Terms of the QW requester mean for a requester pattern ('flush' or 'async')."""
    tq = S["queue_work_ns"]
    if pattern == "async":
        return _common() + [Term("queue_work_on x D", F.dirty_expr * tq)]
    lock = lock_bound_expr()
    wmin = X.wake_min_ns
    slowest = [("queue_work_on x D", F._d1 * tq), ("wait for slowest kworker", X.wake_smax_ns),
               ("lru_lock backlog it finds", X.lru_backlog_end_ns),
               ("drain on target (hot)", coherence.local_drain_expr())]
    locked = [("queue_work_on (first)", tq), ("first kworker start", wmin),
              ("lru_lock-serialised drains", ends()["lock"] - tq - wmin)]
    return (_common()
            + [Term(name, _tail((1 - lock) * x), "slowest") for name, x in slowest]
            + [Term(name, _tail(lock * x), "lock") for name, x in locked]
            + [Term("wake the flusher", _tail(S["requester_wakeup_ns"]))])


def rl_terms(pattern: str = "flush") -> list[Term]:
    """Terms of the RL requester mean (the requester drains itself in both patterns)."""
    hold = coherence.remote_hold_expr(X.c2c_mean_ns)
    work = coherence.remote_hold_expr(sp.Integer(0))   # S_R without its line transfers
    d = F.dirty_expr
    return _common() + [
        Term("line transfers (c2c) x D", d * (hold - work)),
        Term("drain work x D", d * work),
        Term("wait for owner x D", d * contention.remote_wait_expr()),
    ]


def terms(strategy: str, pattern: str = "flush") -> list[Term]:
    """:func:`qw_terms` or :func:`rl_terms` by strategy name ('QW' or 'RL')."""
    return qw_terms(pattern) if strategy == "QW" else rl_terms(pattern)


def total_expr(strategy: str, pattern: str = "flush") -> sp.Expr:
    """The sum of the terms (equal to the strategy's mean expression)."""
    return sp.Add(*[t.expr for t in terms(strategy, pattern)])
