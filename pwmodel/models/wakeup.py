"""Wake-up: from queue_work_on() to the work starting on the target, by isolation level.

queue->start = IPI + (idle exit | wait until the scheduler runs the kworker)
             + one context switch into the kworker.

Isolation levels of the target CPU (``ISOLATION``):

* ``idle``: housekeeping CPU in an idle state; exit latency of the shallow
  or the deep state (point masses, deep with probability p_deep).
* ``busy_other``: housekeeping CPU running a SCHED_OTHER busy task: the EEVDF
  rules below.
* ``isolcpus_other``: isolcpus=domain CPU with a busy SCHED_OTHER task.
* ``nohz_other``: nohz_full CPU with one busy SCHED_OTHER task.
* ``nohz_fifo_dlserver``: nohz_full CPU with a SCHED_FIFO busy-poll task;
  the kworker runs only when the deferred fair deadline server fires, at
  its zero-laxity time, period - runtime after the enqueue (point mass).
* ``nohz_fifo_throttle``: as above with RT throttling instead: RT runs
  rt_runtime of each rt_period, so a uniformly timed enqueue waits
  U(0, rt_runtime) with probability rt_runtime/rt_period, else 0.
* ``nohz_fifo_none``: no server, no throttling: the kworker never runs
  while the FIFO task spins (point mass at +inf; hung-task reports).

Busy SCHED_OTHER target (EEVDF, kernel/sched/fair.c of 6.18)
------------------------------------------------------------
The queueing CPU wakes the kworker on the target (try_to_wake_up ->
enqueue_entity -> place_entity: vruntime = V - lag, deadline = vruntime +
slice/weight) and asks check_preempt_wakeup_fair() whether it preempts:

1. A non-idle wakee preempts a SCHED_IDLE current at once (se_is_idle()), so
   ``p_busy_sched_idle = 1`` gives no rule-caused wait. (SCHED_BATCH and
   SCHED_IDLE *wakees* never preempt; a kworker is SCHED_NORMAL, and a
   SCHED_BATCH *current* is treated like SCHED_OTHER.)
2. Otherwise update_curr() and __pick_eevdf(cfs_rq, protect): the kworker
   preempts when it is the eligible entity with the earliest deadline. The
   busy task has run alone far longer than its slice, so its protected slice
   (set_protect_slice()/protect_slice(): vprot, RUN_TO_PARITY) has long expired
   and plays no part; PREEMPT_SHORT (a wakee with a shorter slice) only lifts
   that protection.
   - If the kworker comes back with positive lag (it waited for the CPU
     before and has not used it up), it is eligible and the busy entity is
     not (the weighted lags sum to zero), so it is picked: immediate preemption.
   - With zero lag (a sleeper that ran past its share is dequeued late,
     DELAY_DEQUEUE, and its lag clipped to 0, DELAY_ZERO) both are eligible and
     the earlier deadline wins: the kworker's is V + slice_k/w_k, the busy
     entity's lies uniformly in (V, V + slice_c/w_c], so the kworker loses
     with probability q0 = min(1, (slice_k/w_k) / (slice_c/w_c)) =
     min(1, busy_weight_fraction x base_slice_ns / busy_slice_ns) (kworker: nice 0,
     base slice).
     With two or more busy entities another eligible entity with an earlier
     deadline is always there: q0 = 1.
3. A kworker that lost waits until the next tick: sched_tick() ->
   task_tick_fair() -> entity_tick() -> update_curr() finds the current
   entity's protection gone and calls resched_curr_lazy(). The wait is the
   time to the next tick, W = T - phase (T = 1/HZ, phase = queue time since
   the last tick: uniform, or within ``tick_phase_window_ns`` after the tick
   for a share ``tick_phase_sync_fraction`` of tick-synchronised triggers).
   During W the kworker gains lag W w_k / sum(w_busy); each later run uses
   ``wake_lag_use_ns`` w_busy / W_total of it, so the next
   k = #{j >= 1: W > j u} wake-ups preempt at once, u = wake_lag_use_ns x
   busy_weight_fraction x busy_entity_items (lag_runs_expr). Renewal over the cycles (a zero-lag wake-up, then k
   positive-lag ones) gives the share of wake-ups that wait for the tick:

       f_rule = (1 - p_busy_sched_idle) q0 / (1 + q0 E[k]).

   ``wake_lag_use_ns`` is the lag used per wake-up at equal weights (the
   kworker's run time would be the ideal value; on the measured guest the
   fitted value is about 6 times it, see docs/wakeup.md).
4. Lazy preemption (preempt=lazy): resched_curr_lazy() sets
   TIF_NEED_RESCHED_LAZY on the remote CPU without an IPI (__resched_curr()
   sends smp_send_reschedule() only for TIF_NEED_RESCHED), so a busy task in
   user space runs on until the next tick upgrades it (sched_tick():
   TIF_NEED_RESCHED_LAZY -> resched_curr()): f_rule = 1, whatever the
   weights. none/voluntary/full/rt: the resched IPI returns to user space
   through exit_to_user_mode_loop() and schedules at once.

Causes not of the scheduler's rules, kept separate: another runnable task on
the target (share ``other_share_fraction`` of its time, of which ``p_other_hold`` leads to
a wait for the tick) and the host not running the vCPU (``steal_fraction``). The
wait of each is the same time-to-next-tick W. With p_slow = 1 - (1 - f_rule)
(1 - other_share_fraction p_other_hold)(1 - steal_fraction):

    queue->start = fast + W with probability p_slow, else fast,

fast = log-normal with median ipi_ns + kworker_switch_ns and shape
``wake_fast_sigma_fraction`` (a point mass when 0); the tick wait is added to the fast
path's mean (the mixture keeps the mean exact: wake_mean_expr).

isolcpus_other and nohz_other: the same rules. They differ from busy_other in
their inputs (no load-balanced tasks: other_share_fraction defaults to 0). nohz_other
and isolcpus_other have the same wait distribution: on nohz_full the enqueue
makes nr_running 2 and sched_update_tick_dependency() restarts the stopped
tick (tick_nohz_dep_set_cpu(): an irq_work IPI), and the restarted tick keeps
the jiffy grid (tick_nohz_restart(): hrtimer_forward from the last tick), so
the time to the next tick is distributed as with a running tick; the extra
IPI costs the victim, not the wait.

Sources: kernel/sched/fair.c (check_preempt_wakeup_fair, __pick_eevdf,
place_entity, update_curr/update_deadline, set_protect_slice/protect_slice,
dequeue_entity with DELAY_DEQUEUE/DELAY_ZERO), kernel/sched/core.c
(resched_curr_lazy, __resched_curr, sched_tick), data/reference/sched_starvation_defaults.csv.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import sympy as sp

from pwmodel import dist as D
from pwmodel.errors import PwmodelError
from pwmodel.machine.profile import PREEMPT_MODELS, WAKE_LEVELS
from pwmodel.params import ParamSet, SYMBOLS as S

ISOLATION = ("idle", "busy_other", "isolcpus_other", "nohz_other",
             "nohz_fifo_dlserver", "nohz_fifo_throttle", "nohz_fifo_none")
# the busy SCHED_OTHER levels (whose wake-up a profile can calibrate) and the preemption
# models: the machine-profile format's own lists
BUSY = WAKE_LEVELS
PROTECTED = ("isolcpus_other", "nohz_other", "nohz_fifo_dlserver", "nohz_fifo_throttle",
             "nohz_fifo_none")
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


@functools.lru_cache(maxsize=None)
def sched_wait_mean_expr(isolation: str, preempt_model: str = "voluntary") -> sp.Expr:
    """Mean ns between the IPI and the scheduler picking the kworker (idle exit included)."""
    check(isolation, preempt_model)
    if isolation == "idle":
        p = S["p_deep_idle"]
        return p * S["idle_exit_deep_ns"] + (1 - p) * S["idle_exit_shallow_ns"]
    if isolation in BUSY:
        return p_slow_expr(preempt_model) * slow_wait_mean_expr()
    if isolation == "nohz_fifo_dlserver":
        return S["dl_period_ns"] - S["dl_runtime_ns"]
    if isolation == "nohz_fifo_throttle":
        return S["rt_runtime_ns"] / S["rt_period_ns"] * S["rt_runtime_ns"] / 2
    return sp.oo


@functools.lru_cache(maxsize=None)
def fast_mean_expr(isolation: str) -> sp.Expr:
    """Mean ns of the immediate path: IPI + switch, log-normal spread on the busy levels."""
    m = S["ipi_ns"] + S["kworker_switch_ns"]
    return m * sp.exp(S["wake_fast_sigma_fraction"] ** 2 / 2) if isolation in BUSY else m


@functools.lru_cache(maxsize=None)
def wake_mean_expr(isolation: str, preempt_model: str = "voluntary") -> sp.Expr:
    """E[queue->start] in ns: IPI + scheduling wait + switch into the kworker."""
    return fast_mean_expr(isolation) + sched_wait_mean_expr(isolation, preempt_model)


@functools.lru_cache(maxsize=None)
def slow_wait_mean_expr() -> sp.Expr:
    """E[W] of a wake-up that waits for the tick: W = T - phase.

    phase ~ U(0, window) with probability s (tick-synchronised trigger), else U(0, T):
    E[W] = s (T - window/2) + (1 - s) T/2."""
    s, win = S["tick_phase_sync_fraction"], sp.Min(S["tick_phase_window_ns"], _tick_ns)
    return s * (_tick_ns - win / 2) + (1 - s) * _tick_ns / 2


def _runs_uniform(a: sp.Expr, b: sp.Expr, u: sp.Expr) -> sp.Expr:
    """E[#{j >= 1: W > j u}] for W ~ U(a, b): the positive-lag wake-ups after a wait W.

    sum_j P(W > j u) = Ja + ((Jb - Ja) b - u (Jb (Jb + 1) - Ja (Ja + 1)) / 2) / (b - a),
    Ja = floor(a / u), Jb = floor(b / u)."""
    ja, jb = sp.floor(a / u), sp.floor(b / u)
    return ja + ((jb - ja) * b - u * (jb * (jb + 1) - ja * (ja + 1)) / 2) / (b - a)


@functools.lru_cache(maxsize=None)
def lag_runs_expr() -> sp.Expr:
    """E[k]: wake-ups that preempt at once on the lag one tick wait earned (module docstring, 3).

    After a wait W the kworker's lag is (W - u) w_k / W_total with u = wake_lag_use_ns x
    busy_weight_fraction x busy_entity_items, and each later run uses u w_k / W_total of it, so
    k = #{j >= 1: W > j u}; averaged over the phase mixture of W."""
    u = S["wake_lag_use_ns"] * S["busy_weight_fraction"] * S["busy_entity_items"]
    s, win = S["tick_phase_sync_fraction"], sp.Min(S["tick_phase_window_ns"], _tick_ns)
    return s * _runs_uniform(_tick_ns - win, _tick_ns, u) + (1 - s) * _runs_uniform(sp.Integer(0), _tick_ns, u)


@functools.lru_cache(maxsize=None)
def zero_lag_loss_expr() -> sp.Expr:
    """q0: probability a zero-lag kworker's deadline is not the earliest (module docstring, 2)."""
    alone = sp.Min(1, S["busy_weight_fraction"] * S["base_slice_ns"] / S["busy_slice_ns"])
    return sp.Piecewise((alone, S["busy_entity_items"] <= 1), (1, True))


@functools.lru_cache(maxsize=None)
def rule_slow_expr(preempt_model: str = "voluntary") -> sp.Expr:
    """f_rule: share of wake-ups the EEVDF rules leave waiting for the tick."""
    if preempt_model == "lazy":
        return sp.Integer(1)
    q0 = zero_lag_loss_expr()
    return (1 - S["p_busy_sched_idle"]) * q0 / (1 + q0 * lag_runs_expr())


@functools.lru_cache(maxsize=None)
def p_slow_expr(preempt_model: str = "voluntary") -> sp.Expr:
    """Share of wake-ups that wait for the tick, from the three separate causes."""
    return 1 - ((1 - rule_slow_expr(preempt_model)) * (1 - S["other_share_fraction"] * S["p_other_hold"])
                * (1 - S["steal_fraction"]))


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
    if isolation in BUSY:
        return busy_wait_dist(preempt_model, ps)
    if isolation == "nohz_fifo_dlserver":
        return D.LatencyDist([D.point(v["dl_period_ns"] - v["dl_runtime_ns"], 1.0,
                                      "fair server zero-laxity")], name="fair server")
    if isolation == "nohz_fifo_throttle":
        p = v["rt_runtime_ns"] / v["rt_period_ns"]
        return D.LatencyDist([D.point(0.0, 1 - p, "throttled window"),
                              D.uniform(0.0, v["rt_runtime_ns"], p, "until throttled")],
                             name="RT throttling")
    return D.LatencyDist([D.point(math.inf, 1.0, "never (FIFO spins)")], name="unbounded")


def _num(name: str, build: Callable[[], sp.Expr], ps: ParamSet) -> float:
    """The value of ``build()`` at ``ps``, by the code generated from it and kept under
    ``name`` (:func:`pwmodel.models.numeric_by_name`: no SymPy work when it is cached)."""
    from pwmodel.models import numeric_by_name
    return float(numeric_by_name(name, build, ps.values))


def busy_wait_dist(preempt_model: str, ps: ParamSet) -> D.LatencyDist:
    """Run-queue wait of a busy SCHED_OTHER target: 0, or the time to the next tick."""
    v = ps.values
    tick = 1e9 / v["tick_hz"]
    p = _num(f"wakeup.p_slow_expr {preempt_model}", lambda: p_slow_expr(preempt_model), ps)
    s, win = v["tick_phase_sync_fraction"], min(v["tick_phase_window_ns"], tick)
    comps = [D.point(0.0, 1 - p, "wake-up preemption")]
    if p > 0:
        if s > 0:
            comps.append(D.uniform(tick - win, tick, p * s, "next tick (synchronised trigger)"))
        if s < 1:
            comps.append(D.uniform(0.0, tick, p * (1 - s), "next tick"))
    return D.LatencyDist([c for c in comps if c.weight > 0], name="run-queue wait")


def wake_dist(isolation: str, preempt_model: str, ps: ParamSet) -> D.LatencyDist:
    """queue->start distribution in ns (IPI + scheduling wait + switch).

    Busy levels: the fast path is log-normal (median ipi_ns + kworker_switch_ns, shape
    wake_fast_sigma_fraction); a tick wait is added to the fast path's mean."""
    w = sched_wait_dist(isolation, preempt_model, ps)
    m = ps["ipi_ns"] + ps["kworker_switch_ns"]
    sigma = ps["wake_fast_sigma_fraction"] if isolation in BUSY else 0.0
    if sigma <= 0:
        return D.LatencyDist(w.components, w.shift_ns + m, name=f"queue->start {isolation}")
    mf = _num(f"wakeup.fast_mean_expr {isolation}", lambda: fast_mean_expr(isolation), ps)
    comps = []
    for c in w.components:
        if c.kind == "point" and c.a == 0.0:
            comps.append(D.continuous(D.Lognorm(s=sigma, scale=m), c.weight, "immediate (IPI + switch)"))
        elif c.kind == "uniform":
            comps.append(D.uniform(c.a + mf, c.b + mf, c.weight, c.label))
        else:
            comps.append(D.point(c.a + mf, c.weight, c.label))
    return D.LatencyDist(comps, w.shift_ns, name=f"queue->start {isolation}")
