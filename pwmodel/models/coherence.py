"""Coherence: which cache lines each strategy moves for one drain of one CPU, and the cost.

Remote locking (RL) moves the per-CPU lock line and the batch lines to the
requester and back to the owner on its next local operation, and pulls the
struct folio lines the owner last wrote (folio_get on add). Queued work (QW)
moves the work item, the target's worker-pool lock and worklist, and the
flush barrier's completion; the batch and folio lines stay hot on the
owner. This answers, per call site, whether "the cacheline invalidation
already happens due to schedule_work_on()" (cover letter claim): the
work-item lines move in both cases, the batch and folio lines only in RL.

Each cost is ``lines x c2c``; ``c2c`` is the pair-class latency (ns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

if TYPE_CHECKING:     # imported where the frame is built (the model needs none)
    import polars as pl

from pwmodel.params import SYMBOLS as S


@dataclass(frozen=True)
class LineMove:
    line: str
    count: sp.Expr       # lines of this kind per drain of one CPU
    qw_moves: int        # transfers under queued work
    rl_moves: int        # transfers under remote locking
    note: str


def line_moves() -> list[LineMove]:
    """Line transfers per drain of one dirty CPU, both strategies (source: seed patch)."""
    items = S["batch_items"]
    return [
        LineMove("per-CPU pw_lock", S["lines_lock"], 0, 2,
                 "RL: to requester, back on the owner's next pw_lock_local()"),
        LineMove("folio_batch header + first pointers", S["lines_batch_hdr"], 0, 2,
                 "RL: read and reset (nr = 0) by requester, written again by the owner"),
        LineMove("folio_batch pointer array", items * S["lines_per_item"], 0, 1,
                 "RL: read by the requester; the owner overwrites later (upgrade only)"),
        LineMove("struct folio (flags, lru)", items * S["folio_lines_per_item"], 0, 1,
                 "RL: last written by the owner (folio_get on add), now by the requester"),
        LineMove("work_struct / pw_struct", sp.Integer(1), 1, 0,
                 "QW: INIT_WORK + insert by requester, read by the target's kworker"),
        LineMove("worker_pool lock + worklist", sp.Integer(1), 2, 0,
                 "QW: requester takes the target pool lock, then the kworker does"),
        LineMove("flush barrier completion", sp.Integer(1), 1, 0,
                 "QW: barrier work on the requester's stack completed by the target"),
        LineMove("lruvec lru_lock + lists", sp.Integer(2), 1, 1,
                 "both: whoever drains takes the node's lru_lock"),
    ]


def moved_lines_expr(strategy: str) -> sp.Expr:
    """Total line transfers per drain of one CPU (strategy 'QW' or 'RL')."""
    key = "qw_moves" if strategy == "QW" else "rl_moves"
    return sp.Add(*[m.count * getattr(m, key) for m in line_moves()])


def line_moves_frame(values: dict[str, float]) -> pl.DataFrame:
    """The line-move table evaluated for one parameter set (one row per line kind)."""
    import polars as pl
    rows = []
    for m in line_moves():
        n = float(m.count.subs({S[k]: v for k, v in values.items() if k in S}))
        rows.append({"line": m.line, "lines": n, "qw_transfers": n * m.qw_moves,
                     "rl_transfers": n * m.rl_moves, "note": m.note})
    return pl.DataFrame(rows)


def remote_hold_expr(c2c: sp.Expr | None = None) -> sp.Expr:
    """RL: ns the requester holds the target's lock to drain one non-empty batch.

    Lock transfer + batch lines + folio lines, each at the pair's c2c latency,
    plus the per-folio work: S_R = c2c (l_lock + l_hdr + B (l_item + l_folio)) + B t_item.
    """
    c = S["c2c_ns"] if c2c is None else c2c
    items = S["batch_items"]
    lines = S["lines_lock"] + S["lines_batch_hdr"] + items * (S["lines_per_item"] + S["folio_lines_per_item"])
    return c * lines + items * S["item_drain_ns"]


def local_drain_expr() -> sp.Expr:
    """QW: ns the kworker spends draining its own batch with hot caches: S_Q = B t_item."""
    return S["batch_items"] * S["item_drain_ns"]


def owner_refetch_expr(c2c: sp.Expr | None = None) -> sp.Expr:
    """RL: ns the owner pays on its next local op after a remote drain (lock + header lines)."""
    c = S["c2c_ns"] if c2c is None else c2c
    return c * (S["lines_lock"] + S["lines_batch_hdr"])
