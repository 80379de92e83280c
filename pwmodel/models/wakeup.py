"""Wake-up: from queue_work_on() to the work starting on the target, by isolation level.

queue->start = IPI + (idle exit | wait until the scheduler runs the kworker)
             + one context switch into the kworker.

Isolation levels of the target CPU (``ISOLATION``):

* ``idle``: housekeeping CPU in an idle state; exit latency of the shallow
  or the deep state (point masses, deep with probability p_deep).
* ``busy_other``: housekeeping CPU running a SCHED_OTHER busy task; the
  woken kworker preempts at once with probability p_wp, else at the next
  tick: U(0, 1/HZ). With ``lazy`` preemption a fair wake-up only sets
  TIF_NEED_RESCHED_LAZY, acted on at the next tick: U(0, 1/HZ) always.
* ``isolcpus_other``: isolcpus=domain CPU with a busy SCHED_OTHER task
  (same scheduling path as busy_other; the task is a protected victim).
* ``nohz_other``: nohz_full CPU with one busy SCHED_OTHER task; the enqueue
  restarts the tick, then as busy_other (protected victim).
* ``nohz_fifo_dlserver``: nohz_full CPU with a SCHED_FIFO busy-poll task;
  the kworker runs only when the deferred fair deadline server fires, at
  its zero-laxity time, period - runtime after the enqueue (point mass).
* ``nohz_fifo_throttle``: as above with RT throttling instead: RT runs
  rt_runtime of each rt_period, so a uniformly timed enqueue waits
  U(0, rt_runtime) with probability rt_runtime/rt_period, else 0.
* ``nohz_fifo_none``: no server, no throttling: the kworker never runs
  while the FIFO task spins (point mass at +inf; hung-task reports).

Preemption models: none, voluntary, full, lazy, rt. For a target busy in
user space none/voluntary/full behave alike (the resched IPI returns to user
and schedules); lazy differs as above; rt is full preemption.
Sources: design/MODEL.md "Isolation levels"; data/reference/sched_starvation_defaults.csv.
"""

from __future__ import annotations

import math

import sympy as sp

from pwmodel import dist as D
from pwmodel.errors import PwmodelError
from pwmodel.params import ParamSet, SYMBOLS as S

ISOLATION = ("idle", "busy_other", "isolcpus_other", "nohz_other",
             "nohz_fifo_dlserver", "nohz_fifo_throttle", "nohz_fifo_none")
PROTECTED = ("isolcpus_other", "nohz_other", "nohz_fifo_dlserver", "nohz_fifo_throttle",
             "nohz_fifo_none")
PREEMPT_MODELS = ("none", "voluntary", "full", "lazy", "rt")
LABELS = {
    "idle": "housekeeping, idle",
    "busy_other": "housekeeping, busy SCHED_OTHER",
    "isolcpus_other": "isolcpus=domain, busy SCHED_OTHER",
    "nohz_other": "nohz_full, busy SCHED_OTHER",
    "nohz_fifo_dlserver": "nohz_full, SCHED_FIFO, fair server",
    "nohz_fifo_throttle": "nohz_full, SCHED_FIFO, RT throttling",
    "nohz_fifo_none": "nohz_full, SCHED_FIFO, neither",
}

_tick_ns = sp.Float(1e9) / S["tick_hz"]


def check(isolation: str, preempt_model: str = "voluntary") -> None:
    if isolation not in ISOLATION:
        raise PwmodelError(f"unknown isolation level '{isolation}' (known: {', '.join(ISOLATION)})",
                           field="isolation")
    if preempt_model not in PREEMPT_MODELS:
        raise PwmodelError(f"unknown preemption model '{preempt_model}' "
                           f"(known: {', '.join(PREEMPT_MODELS)})", field="preempt_model")


def sched_wait_mean_expr(isolation: str, preempt_model: str = "voluntary") -> sp.Expr:
    """Mean ns between the IPI and the scheduler picking the kworker (idle exit included)."""
    check(isolation, preempt_model)
    if isolation == "idle":
        p = S["p_deep_idle"]
        return p * S["idle_exit_deep_ns"] + (1 - p) * S["idle_exit_shallow_ns"]
    if isolation in ("busy_other", "isolcpus_other", "nohz_other"):
        late = 1 if preempt_model == "lazy" else (1 - S["p_wakeup_preempt"])
        return late * _tick_ns / 2
    if isolation == "nohz_fifo_dlserver":
        return S["dl_period_ns"] - S["dl_runtime_ns"]
    if isolation == "nohz_fifo_throttle":
        return S["rt_runtime_ns"] / S["rt_period_ns"] * S["rt_runtime_ns"] / 2
    return sp.oo


def wake_mean_expr(isolation: str, preempt_model: str = "voluntary") -> sp.Expr:
    """E[queue->start] in ns: IPI + scheduling wait + switch into the kworker."""
    return S["ipi_ns"] + sched_wait_mean_expr(isolation, preempt_model) + S["kworker_switch_ns"]


def throttle_emax_expr(n: sp.Expr) -> sp.Expr:
    """Closed form E[max of n] of the RT-throttling wait (mixture 0 / U(0, R)), in ns.

    F(x) = q + p x / R on [0, R], p = R / period, q = 1 - p; then
    E[max] = int_0^R 1 - F(x)^n dx = R - R (1 - q^(n+1)) / (p (n + 1)).
    """
    R, T = S["rt_runtime_ns"], S["rt_period_ns"]
    p = R / T
    q = 1 - p
    return R - R * (1 - q ** (n + 1)) / (p * (n + 1))


def lazy_emax_expr(n: sp.Expr) -> sp.Expr:
    """Closed form E[max of n] of U(0, tick): tick * n / (n + 1), in ns."""
    return _tick_ns * n / (n + 1)


def sched_wait_dist(isolation: str, preempt_model: str, ps: ParamSet) -> D.LatencyDist:
    """The scheduling-wait distribution (idle exit or run-queue wait), ns."""
    check(isolation, preempt_model)
    v = ps.values
    tick = 1e9 / v["tick_hz"]
    if isolation == "idle":
        p = v["p_deep_idle"]
        return D.LatencyDist([D.point(v["idle_exit_deep_ns"], p, "deep idle exit"),
                              D.point(v["idle_exit_shallow_ns"], 1 - p, "shallow idle exit")],
                             name="idle exit")
    if isolation in ("busy_other", "isolcpus_other", "nohz_other"):
        late = 1.0 if preempt_model == "lazy" else 1.0 - v["p_wakeup_preempt"]
        return D.LatencyDist([D.point(0.0, 1 - late, "wake-up preemption"),
                              D.uniform(0.0, tick, late, "next tick")], name="run-queue wait")
    if isolation == "nohz_fifo_dlserver":
        return D.LatencyDist([D.point(v["dl_period_ns"] - v["dl_runtime_ns"], 1.0,
                                      "fair server zero-laxity")], name="fair server")
    if isolation == "nohz_fifo_throttle":
        p = v["rt_runtime_ns"] / v["rt_period_ns"]
        return D.LatencyDist([D.point(0.0, 1 - p, "throttled window"),
                              D.uniform(0.0, v["rt_runtime_ns"], p, "until throttled")],
                             name="RT throttling")
    return D.LatencyDist([D.point(math.inf, 1.0, "never (FIFO spins)")], name="unbounded")


def wake_dist(isolation: str, preempt_model: str, ps: ParamSet) -> D.LatencyDist:
    """queue->start distribution in ns (IPI + scheduling wait + switch)."""
    w = sched_wait_dist(isolation, preempt_model, ps)
    shift = ps["ipi_ns"] + ps["kworker_switch_ns"]
    return D.LatencyDist(w.components, w.shift_ns + shift, name=f"queue->start {isolation}")
