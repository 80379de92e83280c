"""Fast path: ns added to every local operation by each kernel configuration.

Configurations (``CONFIGS``), cost relative to the unpatched kernel of the
same preemption family:

* ``unpatched``: local_lock = preempt_disable/enable (the reference, tax 0)
* ``pwlocks_n``: CONFIG_PWLOCKS=n, per_cpu_ptr(smp_processor_id()) in place
  of this_cpu_ptr: + t_pcp
* ``pwlocks0``: CONFIG_PWLOCKS=y, pwlocks=0: + t_pcp + t_key (static key)
* ``pwlocks1``: pwlocks=1 on !RT, inlined spinlock: + t_pcp + t_key + t_atom
  (spin_lock is preempt_disable + one locked RMW; unlock a release store;
  the preempt_count pair is already paid by local_lock)
* ``pwlocks1_noinline``: as pwlocks1 plus call/return: + t_call
* ``rt_unpatched``: PREEMPT_RT local_lock (migrate_disable + per-CPU
  rt spinlock): the RT reference, tax 0
* ``rt_pwlocks0`` / ``rt_pwlocks1``: same lock type on RT, addressed through
  per_cpu_ptr and a static key: + t_pcp + t_key

Source equations: docs/model.md "Fast-path tax per local operation"; the
anchor is data/reference/kmalloc_locallock_vs_spinlock_cycles.csv.
"""

from __future__ import annotations

import sympy as sp

from pwmodel.errors import PwmodelError
from pwmodel.params import SYMBOLS as S

CONFIGS = ("unpatched", "pwlocks_n", "pwlocks0", "pwlocks1", "pwlocks1_noinline",
           "rt_unpatched", "rt_pwlocks0", "rt_pwlocks1")
RT_CONFIGS = ("rt_unpatched", "rt_pwlocks0", "rt_pwlocks1")
# which configuration takes the per-CPU lock remotely (remote locking strategy)
REMOTE_LOCKING = ("pwlocks1", "pwlocks1_noinline", "rt_pwlocks1")


def check_config(config: str) -> str:
    if config not in CONFIGS:
        raise PwmodelError(f"unknown configuration '{config}' (known: {', '.join(CONFIGS)})",
                           field="config")
    return config


def tax_expr(config: str) -> sp.Expr:
    """ns added per local operation relative to the unpatched kernel (same RT family)."""
    check_config(config)
    pcp, key, atom, call = S["per_cpu_ptr_ns"], S["static_key_ns"], S["atomic_rmw_ns"], S["call_ns"]
    return {
        "unpatched": sp.Integer(0),
        "pwlocks_n": pcp,
        "pwlocks0": pcp + key,
        "pwlocks1": pcp + key + atom,
        "pwlocks1_noinline": pcp + key + atom + call,
        "rt_unpatched": sp.Integer(0),
        "rt_pwlocks0": pcp + key,
        "rt_pwlocks1": pcp + key,
    }[config]


def lock_cost_expr(config: str) -> sp.Expr:
    """ns of the lock + unlock pair itself (not relative): preempt pair + tax."""
    return S["preempt_ns"] + tax_expr(config)


def op_cost_expr(config: str) -> sp.Expr:
    """ns of one uncontended local operation: the work + its lock pair."""
    return S["base_op_ns"] + lock_cost_expr(config)


def share_expr(cost_ns: sp.Expr, rate_hz: sp.Expr) -> sp.Expr:
    """Share of one CPU's (or one caller's) time taken by events of ``cost_ns`` ns each
    arriving at ``rate_hz`` per second: rate x cost (the utilisation law; >= 1 means the
    events cannot be served at that rate)."""
    return rate_hz * cost_ns * sp.Float(1e-9)


def _share_args() -> tuple[list, sp.Expr]:
    cost, rate = sp.Symbol("cost_ns"), sp.Symbol("rate_hz")
    return [cost, rate], share_expr(cost, rate)


def share(cost_ns: float, rate_hz: float) -> float:
    """:func:`share_expr` of two numbers (ns, Hz), by the code generated from it
    (:func:`pwmodel.models.named_function`)."""
    from pwmodel.models import named_function
    fn = named_function("fastpath.share_expr cost_ns rate_hz", _share_args)[0]
    return float(fn(float(cost_ns), float(rate_hz)))


def tax_fraction_expr(config: str, rate_hz: sp.Expr | None = None) -> sp.Expr:
    """Share of one CPU spent on the tax at ``rate_hz`` local ops/s (default local_rate_hz)."""
    rate = S["local_rate_hz"] if rate_hz is None else rate_hz
    return share_expr(tax_expr(config), rate)


def cycles(ns: sp.Expr) -> sp.Expr:
    """Convert an ns expression to cycles at the machine clock."""
    return ns * S["freq_hz"] * sp.Float(1e-9)


def ns_of_cycles(count: sp.Expr) -> sp.Expr:
    """Convert a cycle count to ns at the machine clock (the inverse of :func:`cycles`)."""
    return count / (S["freq_hz"] * sp.Float(1e-9))
