"""The owner of a target CPU's per-CPU data: whether a task there issues local operations.

A target CPU at isolation level ``idle`` runs no task: nobody on it takes the
per-CPU lock locally, so for every term about that CPU's owner the local
operation rate is zero,

    lambda_L(owner) = 0    (idle target),    lambda_L(owner) = local_rate_hz    otherwise,

which removes the RL requester's wait for the owner's critical section
(``contention.remote_wait_expr``, its variance), the owner's spin during a
remote hold and its refetch (``fanout.rl_owner_loss_expr`` in ``fanout.rl_cpu_expr``:
no local op follows the drain), and there is no victim task to interrupt (the
victim metrics are 0 for both strategies). The
fast-path columns keep ``local_rate_hz``: the tax is paid by the CPUs that do
run the local operations, not by the idle target.

This is the one place that says which isolation levels have an idle owner and
what that does to the model's inputs; evaluate(), the sweeps, the crossover
solver and the simulator take it from here.
"""

from __future__ import annotations

from typing import Mapping, TypeVar

IDLE_LEVELS = ("idle",)
IDLE_OWNER = {"local_rate_hz": 0.0}    # the owner's inputs when the target is idle

V = TypeVar("V")


def is_idle(isolation: str) -> bool:
    """True when the target CPU at ``isolation`` has no task (no local ops, no victim)."""
    return isolation in IDLE_LEVELS


def has_victim(isolation: str) -> bool:
    """Whether a task on the target loses time to a drain (not on an idle target)."""
    return not is_idle(isolation)


def owner_values(values: Mapping[str, V], idle: bool) -> Mapping[str, V]:
    """The symbol values of the owner's terms: ``values`` with :data:`IDLE_OWNER` applied
    when the target is idle (``values`` itself otherwise)."""
    return {**values, **IDLE_OWNER} if idle else values  # type: ignore[dict-item]
