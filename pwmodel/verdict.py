"""The verdict: which strategy to use for one machine, call site, isolation level, CPU count
and workload, the cost that decides it, and the parameter whose uncertainty could flip it.

The three costs of :func:`pwmodel.evaluate.evaluate` are weighed in a fixed order, each
step a comparison with a stated bound rather than a tuned weight:

1. **Requester latency, when one strategy cannot keep up.** A caller issuing remote
   drains at ``remote_rate_hz`` is busy a fraction rho = remote_rate_hz x requester mean
   of its time. rho >= 1 (or an unbounded wait: a kworker that never runs) means that
   strategy cannot sustain the stated drain rate; the other one is used.
2. **Victim interruption, on isolated targets** (``wakeup.PROTECTED``). The isolated
   task's worst interruption per drain is compared with its latency budget
   (``budget_ns``, 20 us by default: the 5G RAN figure of
   data/reference/pw_series_numbers.csv; the 50 us industrial-control budget is reported
   beside it). If exactly one strategy keeps the task within the budget, it is used; if
   both exceed it, the smaller interruption wins.
3. **CPU share at the stated op rate.** Otherwise the lower total CPU load wins:
   drains at ``remote_rate_hz`` times their CPU time, plus every CPU's local operations
   at ``local_rate_hz`` times the fast-path tax (and, for RL, the misses and waits
   remote holders cause).

The requester-latency crossover N* (:func:`pwmodel.decide.crossover_n`) is reported
beside the verdict: it is where the requester alone would switch strategy.

Flip: every parameter with a plausible interval of kind ``assumption`` or ``fitted``
(the one-at-a-time settings of :class:`pwmodel.uncertainty.Plan`) is moved alone to each
end of its interval and the verdict re-taken at the same N (all settings in one batch
evaluation). A parameter flips the verdict when the strategy
changes at one end; among several, the one that moves the deciding cost's log ratio
QW/RL the most is named. When none flips, the one that moves it most is named as the
closest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np

if TYPE_CHECKING:     # the frames of evaluate.wide (a verdict needs none)
    import polars as pl

from pwmodel import budgets
from pwmodel import comparison as CMP
from pwmodel import decide as DC
from pwmodel import evaluate as E
from pwmodel import fmt
from pwmodel import machine as M
from pwmodel import uncertainty as U
from pwmodel.evaluate import Scenario
from pwmodel.models import fastpath as FP
from pwmodel.models import wakeup as W

REQUESTER = "requester latency"
VICTIM = "victim interruption"
CPU = "CPU share"
# the metrics of evaluate() the rule of the module docstring reads
DECIDING = ("requester_mean_ns", "victim_worst_ns", "cpu_load_cpus")
# the metrics at N the verdict reads (the rule's and the fast-path shares')
AT_N = DECIDING + ("fastpath_tax_ns", "fastpath_extra_ns")
# moved by the scenario, not by the flip search: the budget and the workload's rates
NOT_FLIPPED = ("budget_ns", "remote_rate_hz", "local_rate_hz")


@dataclass(frozen=True)
class Flip:
    """The parameter whose interval could flip the verdict (or comes closest)."""

    name: str
    low: float
    high: float
    kind: str
    source: str
    flips_at: str | None     # "low" / "high" end that flips the strategy; None: neither
    margin: tuple[float, float]   # deciding log10 ratio QW/RL at the low and high end


@dataclass(frozen=True)
class Verdict:
    """Which strategy to use and why (ns, Hz, CPUs)."""

    machine: str
    callsite: str
    isolation: str
    preempt: str
    n_cpus: int
    remote_rate_hz: float
    local_rate_hz: float
    strategy: str                  # "RL" or "QW"
    deciding: str                  # REQUESTER, VICTIM or CPU
    reason: str                    # the rule that fired, in words (no numbers)
    budget_ns: float               # the budget used in step 2
    values: Mapping[str, float]    # every number the paragraph prints (see NUMBER_KINDS)
    crossover: DC.Crossover
    victim_exceeds_from: float     # smallest CPU count <= fmt.N_MAX where QW's worst
                                   # interruption exceeds the budget (nan: none)
    flip: Flip | None
    margin: float                  # deciding log10(QW / RL); > 0: RL cheaper
    victim_grows: bool = True      # QW's worst interruption larger at N_MAX than at 1

    @property
    def protected(self) -> bool:
        return self.isolation in W.PROTECTED


# kind of every value (pwmodel.fmt.number)
NUMBER_KINDS = {
    "qw_requester_ns": "time", "rl_requester_ns": "time",
    "qw_victim_ns": "time", "rl_victim_ns": "time",
    "qw_load_cpus": "load", "rl_load_cpus": "load",
    "qw_share": "share", "rl_share": "share",
    "qw_busy": "share", "rl_busy": "share",
    "budget_ns": "time", "budget2_ns": "time",
    "n_star": "cpus", "victim_from": "cpus", "n_cpus": "cpus",
    "remote_rate_hz": "rate", "local_rate_hz": "rate", "drain_period_ns": "time",
    "flip_low": "plain", "flip_high": "plain", "flip_value": "plain",
}


def _pair(w: pl.DataFrame, col: str) -> tuple[float, float]:
    """(QW, RL) of ``col`` in the first row of an evaluate.wide() frame."""
    return float(w[E.wide_column("QW", col)][0]), float(w[E.wide_column("RL", col)][0])


def pairs(w: pl.DataFrame) -> dict[str, tuple[float, float]]:
    """(QW, RL) of each metric the rule reads, from one CPU count's evaluate.wide() row."""
    return {m: _pair(w, m) for m in DECIDING}


def _log_ratio(q: float, r: float) -> float:
    return float(CMP.log10_ratio(q, r))


def decide_at(values: Mapping[str, tuple[float, float]], isolation: str, remote_rate_hz: float,
              budget: float) -> tuple[str, str, str, float]:
    """(strategy, deciding cost, rule in words, deciding log10 QW/RL) from one CPU count's
    (QW, RL) values of the metrics in :data:`DECIDING` (:func:`pairs`), by the rule of the
    module docstring."""
    qr, rr = (float(x) for x in values["requester_mean_ns"])
    rho_q, rho_r = FP.share(qr, remote_rate_hz), FP.share(rr, remote_rate_hz)
    q_stuck, r_stuck = not (rho_q < 1), not (rho_r < 1)
    if q_stuck != r_stuck:
        win = "RL" if q_stuck else "QW"
        why = ("QW never completes: the kworker never runs on this target" if math.isinf(qr)
               else f"{'QW' if q_stuck else 'RL'} cannot keep up with the stated drain rate: "
               "one drain takes longer than the time between drains")
        return win, REQUESTER, why, _log_ratio(qr, rr)
    if isolation in W.PROTECTED:
        qv, rv = (float(x) for x in values["victim_worst_ns"])
        q_ok, r_ok = qv <= budget, rv <= budget
        if q_ok != r_ok:
            win = "QW" if q_ok else "RL"
            return win, VICTIM, f"only {win} keeps the isolated task within its budget", \
                _log_ratio(qv, rv)
        if not q_ok:
            win = "RL" if rv < qv else "QW"
            return win, VICTIM, f"both exceed the isolated task's budget and {win} less", \
                _log_ratio(qv, rv)
    ql, rl = (float(x) for x in values["cpu_load_cpus"])
    win = "RL" if rl < ql else "QW"
    pre = ("both keep the isolated task within its budget, so " if isolation in W.PROTECTED
           else "the target is not isolated, so ")
    return win, CPU, pre + f"the lower total CPU load decides: {win}", _log_ratio(ql, rl)


def _scenario(m: M.Machine, isolation: str, preempt: str | None, callsite: str,
              remote_rate_hz: float, local_rate_hz: float,
              overrides: Mapping[str, float] | None) -> Scenario:
    ov = {**dict(overrides or {}), "remote_rate_hz": float(remote_rate_hz),
          "local_rate_hz": float(local_rate_hz)}
    return Scenario(m, isolation, preempt, callsite, overrides=ov)


def victim_growth(sc: Scenario, budget: float, n_max: int = fmt.N_MAX) -> tuple[float, bool]:
    """(smallest CPU count 1..n_max at which QW's worst interruption exceeds ``budget``
    (nan: none), whether it grows from N = 1 to n_max)."""
    n = np.arange(1, n_max + 1, dtype=float)
    # N = 1 .. 256 and n_max first, the rest only if no count there is over the budget: the
    # same values as one evaluation of every count (each count's value does not depend on
    # the others evaluated with it), most often from a quarter of the counts
    head = n[:256]
    w = E.metrics(sc, np.append(head, n[-1]) if head.size < n.size else head,
                  ["victim_worst_ns"])["victim_worst_ns"][0]
    ends = (w[0], w[-1])
    over = head[(w[:head.size] > budget) | np.isnan(w[:head.size])]   # NaN counts as over
    if not over.size and head.size < n.size:
        rest = n[head.size:]
        w = E.metrics(sc, rest, ["victim_worst_ns"])["victim_worst_ns"][0]
        over = rest[(w > budget) | np.isnan(w)]
    return (float(over[0]) if over.size else math.nan), bool(ends[1] > ends[0] * (1 + 1e-9))


class FlipSetup:
    """What :func:`flip_parameter` evaluates at any CPU count of one scenario: the spreads
    moved, one case per setting (nominal, then each spread's low and high end) and the
    cases' wake-up tables (:class:`pwmodel.evaluate.WakeTables`), built for the dirty counts
    of up to the next power of two above the CPU count asked (so that a nearby count reuses
    them) and rebuilt for a larger count. Kept by a caller that asks at many CPU counts
    (the explorer's verdict); the same values as built anew, since a table built for more
    CPUs holds the same nodes (evaluate._table)."""

    def __init__(self, sc: Scenario) -> None:
        self.plan = U.Plan(sc, n_draws=0)
        self.moved = [s for s in self.plan.spreads if s.name not in NOT_FLIPPED]
        settings = [{}] + [{s.name: end} for s in self.moved for end in (s.low, s.high)]
        self.cases = self.plan.cases(settings)
        self._fractions = np.array([c.ps["dirty_fraction"] for c in self.cases])
        self._d_max = -1.0
        self._tables: E.WakeTables | None = None

    def tables(self, n_cpus: float) -> E.WakeTables:
        if float(E.dirty_count(self._fractions, float(n_cpus)).max()) > self._d_max:
            top = 2.0 ** (math.floor(math.log2(max(float(n_cpus), 1.0))) + 1)
            self._d_max = float(E.dirty_count(self._fractions, top).max())
            self._tables = E.WakeTables(self.cases, self._d_max)
        assert self._tables is not None
        return self._tables


def flip_parameter(sc: Scenario, n_cpus: int, strategy: str, budget: float,
                   setup: FlipSetup | None = None) -> Flip | None:
    """The ranged parameter that flips the verdict at ``n_cpus`` (or comes closest).
    ``setup``: a :class:`FlipSetup` of ``sc`` kept from an earlier call, if any."""
    kept = setup is not None
    setup = setup or FlipSetup(sc)
    plan, moved = setup.plan, setup.moved
    out = E.batch_metrics(setup.cases, [float(n_cpus)], DECIDING,
                          tables=setup.tables(float(n_cpus)) if kept else None)
    ps, rate = plan.ps, plan.ps["remote_rate_hz"]

    def at(i: int) -> tuple[str, float]:
        win, _, _, m = decide_at({k: (q[i, 0], r[i, 0]) for k, (q, r) in out.items()},
                                 sc.isolation, rate, budget)
        return win, m
    _, m0 = at(0)
    best: tuple[tuple[int, float], Flip] | None = None
    for j, spd in enumerate(moved):
        iv = ps.intervals[spd.name]
        flips, margins = None, []
        for k, end in enumerate(("low", "high")):
            win, m = at(1 + 2 * j + k)
            margins.append(m)
            if win != strategy and flips is None:
                flips = end
        move = max((abs(m - m0) for m in margins if math.isfinite(m) and math.isfinite(m0)),
                   default=0.0)
        key = (1 if flips else 0, move)
        f = Flip(spd.name, iv.low, iv.high, iv.kind, iv.source, flips, (margins[0], margins[1]))
        if best is None or key > best[0]:
            best = (key, f)
    if best is None or best[0][1] == 0.0 and not best[1].flips_at:
        return None
    return best[1]


def verdict(machine: M.Machine | str, isolation: str = "nohz_other", n_cpus: int | None = None,
            callsite: str = "lru_add_drain", remote_rate_hz: float | None = None,
            local_rate_hz: float | None = None, preempt_model: str | None = None,
            overrides: Mapping[str, float] | None = None, flip: bool = True, *,
            at_n: Mapping[str, tuple[float, float]] | None = None,
            crossover: DC.Crossover | None = None) -> Verdict:
    """The verdict for one machine, call site, isolation level, CPU count and workload.

    Defaults: N = the machine's CPU count, rates = the resolved parameters' values.
    A caller that already evaluated this very scenario (the default kernel configurations,
    the rates and overrides given here) may pass what it has instead of having it computed
    again: ``at_n``, the (QW, RL) values of :data:`DECIDING` and of the fast-path tax and
    extra at N (:func:`pwmodel.evaluate.evaluate` at [N]); ``crossover``, its
    :func:`pwmodel.decide.crossover_n`."""
    m = M.get(machine) if isinstance(machine, str) else machine
    W.check(isolation)
    n = int(n_cpus or m.n_cpus)
    base = Scenario(m, isolation, preempt_model, callsite, overrides=dict(overrides or {}) or None)
    ps0 = base.params()
    rr = float(ps0["remote_rate_hz"] if remote_rate_hz is None else remote_rate_hz)
    lr = float(ps0["local_rate_hz"] if local_rate_hz is None else local_rate_hz)
    sc = _scenario(m, isolation, preempt_model, callsite, rr, lr, overrides)
    ps = sc.params()
    budget = float(ps["budget_ns"])
    if at_n is None:
        got = E.metrics(sc, [n], AT_N)       # evaluate()'s numbers, only the ones read
        at_n = {k: (q[0], r[0]) for k, (q, r) in got.items()}
    at = {k: (float(at_n[k][0]), float(at_n[k][1])) for k in AT_N}
    strategy, deciding, reason, margin = decide_at(at, isolation, rr, budget)
    qr, rrq = at["requester_mean_ns"]
    qv, rv = at["victim_worst_ns"]
    ql, rl = at["cpu_load_cpus"]
    qt, rt = at["fastpath_tax_ns"]
    _, rx = at["fastpath_extra_ns"]
    quoted = [budgets.budget_ns(q) for q, _ in budgets.BUDGETS]
    other = quoted[1] if math.isclose(budget, quoted[0]) else quoted[0]
    xo = crossover if crossover is not None else crossover_n(m, isolation, preempt_model, callsite, rr, lr, _key(overrides))
    key = (m.name, isolation, preempt_model, callsite, rr, lr, _key(overrides))
    vfrom, grows = _victim_growth(sc, budget, key)
    values = {
        "qw_requester_ns": qr, "rl_requester_ns": rrq, "qw_victim_ns": qv, "rl_victim_ns": rv,
        "qw_load_cpus": ql, "rl_load_cpus": rl,
        "qw_share": FP.share(qt, lr), "rl_share": FP.share(rt + rx, lr),
        "qw_busy": FP.share(qr, rr), "rl_busy": FP.share(rrq, rr),
        "budget_ns": budget, "budget2_ns": other, "n_star": xo.n_cpus, "victim_from": vfrom,
        "n_cpus": float(n), "remote_rate_hz": rr, "local_rate_hz": lr,
        "drain_period_ns": 1e9 / rr if rr > 0 else math.inf,
    }
    fl = flip_parameter(sc, n, strategy, budget, _flip_setup(sc, key)) if flip else None
    if fl is not None:
        values.update(flip_low=fl.low, flip_high=fl.high)
    return Verdict(m.name, callsite, isolation, sc.preempt, n, rr, lr, strategy, deciding,
                   reason, budget, values, xo, vfrom, fl, margin, grows)


def _key(overrides: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((overrides or {}).items()))


_GROWTH: dict[tuple, tuple[M.Machine, tuple[float, bool]]] = {}
_FLIPS: dict[tuple, tuple[M.Machine, FlipSetup]] = {}
_XO: dict[tuple, tuple[M.Machine, DC.Crossover]] = {}
_KEPT = 16          # flip setups kept: each holds a few dozen cases and their wake-up tables


def _kept(store: dict, key: tuple, machine: M.Machine, make: Callable[[], object],
          limit: int | None = None):
    """``make()``, kept in ``store`` under ``key`` for ``machine`` (a profile changed under
    the same name is computed again); with ``limit``, only the most recent entries."""
    hit = store.pop(key, None)
    if hit is None or hit[0] != machine:
        hit = (machine, make())
    store[key] = hit                   # most recent last
    while limit is not None and len(store) > limit:
        del store[next(iter(store))]
    return hit[1]


def _flip_setup(sc: Scenario, key: tuple) -> FlipSetup:
    """The :class:`FlipSetup` of the verdict's scenario, kept for the last few scenarios (a
    verdict at another CPU count of the same scenario reuses it)."""
    return _kept(_FLIPS, key, sc.machine, lambda: FlipSetup(sc), _KEPT)


def _victim_growth(sc: Scenario, budget: float, key: tuple) -> tuple[float, bool]:
    """:func:`victim_growth` of the verdict's scenario (kept: it does not depend on N, so a
    verdict at another CPU count of the same scenario reuses it)."""
    return _kept(_GROWTH, (*key, float(budget)), sc.machine, lambda: victim_growth(sc, budget))


def crossover_n(m: M.Machine, isolation: str, preempt: str | None, callsite: str,
                rr: float, lr: float, ov: tuple[tuple[str, float], ...] = ()) -> DC.Crossover:
    """decide.crossover_n of the verdict's scenario (kept: every surface asks for it)."""
    key = (m.name, isolation, preempt, callsite, float(rr), float(lr), ov)
    return _kept(_XO, key, m, lambda: DC.crossover_n(
        _scenario(m, isolation, preempt, callsite, rr, lr, dict(ov))))


def method_words(c: DC.Crossover) -> str:
    """'closed form (lock regime)' -> 'closed form, lock regime' (for use inside brackets)."""
    return c.method.replace(" (", ", ").replace(")", "")


def n_star_text(v: Verdict, long: bool = False) -> str:
    """N* as every surface prints it (pwmodel.fmt.crossover)."""
    c = v.crossover
    return fmt.crossover(c.n_cpus, c.below, c.above, long=long)


# ---- the paragraph ---------------------------------------------------------------
STRATEGY_WORDS = {"RL": "RL (remote per-CPU locking: pw_lock, pwlocks=1)",
                  "QW": "QW (queued per-CPU work: queue_work_on + flush_work, pwlocks=0)"}
TARGET_WORDS = {
    "idle": "an idle housekeeping CPU",
    "busy_other": "a housekeeping CPU busy with a SCHED_OTHER task",
    "isolcpus_other": "an isolcpus=domain CPU running a SCHED_OTHER task",
    "nohz_other": "a nohz_full CPU running a SCHED_OTHER task",
    "nohz_fifo_dlserver": "a nohz_full CPU running a SCHED_FIFO task, fair deadline server on",
    "nohz_fifo_throttle": "a nohz_full CPU running a SCHED_FIFO task, RT throttling on",
    "nohz_fifo_none": "a nohz_full CPU running a SCHED_FIFO task, neither fair server "
                      "nor RT throttling",
}


def paragraph(v: Verdict, num: Callable[[str], str] | None = None) -> str:
    """The verdict as one paragraph of plain ASCII text (unwrapped).

    ``num(key)`` prints ``v.values[key]``; by default :func:`pwmodel.fmt.number` with the
    key's kind (the cover letter passes a recording printer instead)."""
    p = num or (lambda k: fmt.number(v.values[k], NUMBER_KINDS[k]))
    val = v.values
    out = [f"Verdict for {v.machine}, {v.callsite}, {TARGET_WORDS[v.isolation]} "
           f"({v.isolation}, preemption {v.preempt}), N = {p('n_cpus')} CPUs, "
           f"{p('remote_rate_hz')} remote drains and {p('local_rate_hz')} local operations "
           f"per CPU: use {STRATEGY_WORDS[v.strategy]}. Deciding cost: {v.deciding} "
           f"({v.reason})."]
    # requester latency
    if math.isinf(val["qw_requester_ns"]):
        out.append(f"Requester latency: QW never completes; RL takes {p('rl_requester_ns')}.")
    elif max(val["qw_busy"], val["rl_busy"]) >= 1:
        out.append(f"Requester latency per drain: QW {p('qw_requester_ns')}, RL "
                   f"{p('rl_requester_ns')}; at {p('remote_rate_hz')} a drain is due every "
                   f"{p('drain_period_ns')}.")
    else:
        out.append(f"Requester latency per drain: QW {p('qw_requester_ns')}, RL "
                   f"{p('rl_requester_ns')} (the caller spends {p('qw_busy')} and "
                   f"{p('rl_busy')} of its time draining at this rate).")
    c = v.crossover
    if math.isfinite(c.n_cpus) and c.n_cpus <= fmt.N_MAX:
        out.append(f"On requester latency alone {c.below} is faster below N* = {p('n_star')} "
                   f"CPUs and {c.above} above ({method_words(c)}).")
    else:
        out.append(f"On requester latency alone N* = {n_star_text(v, long=True)}.")
    # victim interruption
    vic = (f"Worst interruption of the target's task per drain: QW {p('qw_victim_ns')}, RL "
           f"{p('rl_victim_ns')}, against budgets of {p('budget_ns')} and {p('budget2_ns')}")
    if v.protected:
        if math.isfinite(v.victim_exceeds_from):
            vic += (f"; QW's grows with N (the drains serialised on the lru_lock) and "
                    f"exceeds {p('budget_ns')} from N = {p('victim_from')}")
        elif v.victim_grows:
            vic += (f"; QW's grows with N but stays within {p('budget_ns')} up to "
                    f"{fmt.N_MAX} CPUs")
        else:
            vic += "; neither depends on N here"
    else:
        vic += " (not binding: the target is not isolated)"
    out.append(vic + ".")
    out.append(f"CPU share at the stated op rate: the fast path costs {p('rl_share')} of "
               f"each CPU under RL and {p('qw_share')} under QW; all costs together "
               f"{p('rl_load_cpus')} (RL) against {p('qw_load_cpus')} (QW).")
    f = v.flip
    if f is not None:
        rng = f"{p('flip_low')} .. {p('flip_high')}"
        if f.flips_at:
            out.append(f"Could flip it: {f.name} (plausible {rng}, {f.kind}) at its "
                       f"{f.flips_at} end.")
        else:
            out.append(f"No single parameter flips it within its plausible interval; the "
                       f"closest is {f.name} ({rng}, {f.kind}).")
    return " ".join(out)


__all__ = ["Verdict", "Flip", "FlipSetup", "verdict", "decide_at", "paragraph", "n_star_text",
           "crossover_n", "victim_growth", "flip_parameter", "NUMBER_KINDS"]
