"""Contention on the per-CPU lock: two classes of customers, local ops and remote drains.

Local operations on one CPU never overlap each other (preemption is off in
the critical section) and remote drains of one CPU are serialised by the
global drain mutex, so a customer only ever waits for the *other* class.
With Poisson arrivals (PASTA), a local op finds a remote holder with
probability rho_R = lambda_R E[S_R] and then waits the residual hold,
E[S_R^2] / (2 E[S_R]); hence (M/G/1 residual life, two classes)

    W_L = lambda_R E[S_R^2] / 2,       W_R = lambda_L E[S_L^2] / 2.

With deterministic holds E[S^2] = S^2. Only the *first* local attempt inside
a remote hold spins; later attempts are merely delayed behind it. So per
remote hold the owner spins E[(S_R - T1)^+] = S_R - (1 - e^{-lambda_L S_R}) /
lambda_L (T1 ~ Exp(lambda_L), the first attempt), and per local op

    W_L = (lambda_R / lambda_L) E[(S_R - T1)^+]   (-> lambda_R S_R^2 / 2 as lambda_L S_R -> 0).

The owner alternates an Exp think time and its section S_L, issuing
local_rate_hz = lambda_L operations per second, so its think time has mean
1/lambda_L - S_L. A remote drain takes the lock only outside the owner's
section (it waits for the rest of it), so the owner's next attempt T1 after
the remote takes the lock is Exp with the rate outside the section,
lambda' = lambda_L / (1 - lambda_L S_L) (memoryless think time), not
lambda_L: the spin per hold is E[(S_R - T1)^+] with T1 ~ Exp(lambda').
The worst single wait of a local op is one whole remote hold, S_R. Misses
after a remote acquisition: the owner pays the refetch when its next
operation takes the lock before the next remote drain: always when it came
inside the hold, else with probability lambda' / (lambda' + lambda_R), so per
remote hold P_ref = 1 - e^{-lambda' S_R} lambda_R / (lambda' + lambda_R), and
remote->local hand-overs happen lambda_R P_ref times per second. Checked
against the event-level lock (pwmodel.simulate.events.lock_grid); the
single-hold forms hold while lambda_R S_R < 0.1 (docs/validity.md).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1

from pwmodel.models import coherence
from pwmodel.params import SYMBOLS as S


OWNER_BUSY_MAX = 0.99   # largest owner utilisation lambda_L S_L the forms are used at


def max_local_rate_expr() -> sp.Expr:
    """Largest local_rate_hz (Hz) the model admits: the owner inside its section at most
    OWNER_BUSY_MAX of the time (lambda_L S_L < 1 keeps the think time 1/lambda_L - S_L and
    the attempt rate of :func:`owner_rate_expr` finite; at 0.99 the owner's attempt rate
    outside its section is 100 lambda_L), and at most one operation per ns."""
    return sp.Min(sp.Float(1e9), sp.Float(OWNER_BUSY_MAX * 1e9) / S["local_cs_ns"])


def owner_rate_expr() -> sp.Expr:
    """The owner's attempt rate outside its local section, per ns: lambda_L / (1 - lambda_L S_L)."""
    ll = S["local_rate_hz"] * sp.Float(1e-9)
    return ll / (1 - ll * S["local_cs_ns"])


def owner_spin_expr(remote_hold: sp.Expr | None = None) -> sp.Expr:
    """Mean ns the owner spins per remote hold: E[(S_R - T1)^+], T1 ~ Exp(lambda')."""
    sr = coherence.remote_hold_expr() if remote_hold is None else remote_hold
    lo = owner_rate_expr()
    return sp.Piecewise((0, sp.Eq(S["local_rate_hz"], 0)), (sr + expm1(-lo * sr) / lo, True))


def refetch_share_expr(remote_hold: sp.Expr | None = None) -> sp.Expr:
    """P_ref: probability that the owner's next operation after a remote hold takes the lock
    before the next remote drain (it pays the refetch)."""
    sr = coherence.remote_hold_expr() if remote_hold is None else remote_hold
    lo = owner_rate_expr()
    lr = S["remote_rate_hz"] * sp.Float(1e-9)
    return sp.Piecewise((0, sp.Eq(S["local_rate_hz"], 0)), (1 - sp.exp(-lo * sr) * lr / (lo + lr), True))


def local_wait_expr(remote_hold: sp.Expr | None = None) -> sp.Expr:
    """Mean ns a local op waits for a remote holder (deterministic hold S_R).

    (lambda_R / lambda_L) E[(S_R - T1)^+]; lambda_R S_R^2 / 2 when lambda_L = 0.
    """
    sr = coherence.remote_hold_expr() if remote_hold is None else remote_hold
    lr = S["remote_rate_hz"] * sp.Float(1e-9)
    ll = S["local_rate_hz"] * sp.Float(1e-9)
    return sp.Piecewise((lr * sr ** 2 / 2, sp.Eq(S["local_rate_hz"], 0)),
                        (lr / ll * owner_spin_expr(sr), True))


def remote_wait_expr() -> sp.Expr:
    """Mean ns a remote drain waits for the owner's local critical section."""
    return S["local_rate_hz"] * sp.Float(1e-9) * S["local_cs_ns"] ** 2 / 2


def remote_wait_var_expr() -> sp.Expr:
    """Variance (ns^2) of that wait: busy w.p. rho_L, then residual ~ U(0, S_L)."""
    rho = S["local_rate_hz"] * sp.Float(1e-9) * S["local_cs_ns"]
    sl = S["local_cs_ns"]
    return rho * sl ** 2 / 3 - (rho * sl / 2) ** 2


def transition_rate_expr(c2c: sp.Expr | None = None, remote_hold: sp.Expr | None = None) -> sp.Expr:
    """Remote->local lock hand-overs per second on one CPU: lambda_R P_ref."""
    sr = coherence.remote_hold_expr(c2c) if remote_hold is None else remote_hold
    return S["remote_rate_hz"] * refetch_share_expr(sr)


def miss_per_op_expr(c2c: sp.Expr | None = None) -> sp.Expr:
    """Mean ns of refetch misses per local op caused by remote acquisitions."""
    ll = S["local_rate_hz"]
    share = sp.Piecewise((0, sp.Eq(ll, 0)), (transition_rate_expr(c2c) / ll, True))
    return share * coherence.owner_refetch_expr(c2c)


def local_op_extra_expr(c2c: sp.Expr | None = None) -> sp.Expr:
    """Mean ns added to a local op by remote locking beyond the static tax: misses + waits."""
    return miss_per_op_expr(c2c) + local_wait_expr(coherence.remote_hold_expr(c2c))
