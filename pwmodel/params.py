"""Parameter registry: every model input with its symbol, unit, meaning, default and source.

Each :class:`Param` carries a SymPy symbol (the model expressions are written
in these symbols), a unit (also the suffix of its name), a one-line meaning,
a default value, plausible bounds, and the provenance of the default: a row
of ``data/reference/*.csv`` (file and the identifying columns), a
measurement in ``data/``, kernel source, or a stated modelling assumption.

Values are resolved in three layers (:func:`resolve`): registry defaults, a
machine profile's hardware values (each with its own source), and per-call
overrides. Unknown names, non-finite or out-of-bounds values are refused with
a :class:`~pwmodel.errors.PwmodelError` that names the parameter.

Intervals. A resolved value may carry an :class:`Interval` (low, high, and
where the interval came from), kept in :attr:`ParamSet.intervals` beside the
value's own source:

* registry: every parameter whose default is (partly) an assumption has a
  range in :data:`RANGES` with the reason for its ends as source text
  (``Param.range`` / ``Param.range_source``). ``kind`` tells a modelling
  assumption (``"assumption"``) from a description of the workload that the
  user chooses (``"workload"``: rates, dirty share); uncertainty propagation
  can take either or both;
* machine profiles: a ``[costs]`` entry may give ``low`` and ``high`` beside
  ``value`` (and optionally ``interval_source``, else the value's source is
  used), e.g. a fitted confidence interval; see :mod:`pwmodel.machine`;
* a machine or call-site value without an interval of its own keeps the
  registry range if it lies inside it (the interval's source says so);
* a per-call override (:meth:`ParamSet.with_overrides`) fixes the value: its
  interval is dropped unless one is passed with it.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

import sympy as sp

from pwmodel.errors import PwmodelError

REF = "data/reference/"


@dataclass(frozen=True)
class Param:
    """One model parameter. ``name`` ends in its unit (``_ns``, ``_hz``, ...)."""

    name: str
    unit: str
    meaning: str
    default: float
    bounds: tuple[float, float]
    source: str
    latex: str | None = None
    range: tuple[float, float] | None = None   # plausible interval of an assumed value
    range_source: str = ""                     # why the interval has those ends
    kind: str = "assumption"                   # of the range: "assumption" or "workload"

    @property
    def symbol(self) -> sp.Symbol:
        return SYMBOLS[self.name]


@dataclass(frozen=True)
class Interval:
    """Plausible interval of one resolved value (same unit as the value) and its source."""

    low: float
    high: float
    source: str
    kind: str = "assumption"    # "assumption", "workload" or "fitted"

    def contains(self, v: float) -> bool:
        return self.low <= v <= self.high


def _p(name: str, unit: str, meaning: str, default: float, lo: float, hi: float,
       source: str, latex: str | None = None) -> Param:
    return Param(name, unit, meaning, float(default), (float(lo), float(hi)), source, latex)


# Cycles-per-op figures from the reference set, converted with the machine's
# clock where a profile supplies one. 1 thread rows = uncontended.
_ATOMIC_SRC = (REF + "concurrency_hierarchy_costs.csv: implementation='atomic add', threads=1; "
               "median of the x86 rows skl 18.2 and icl 20.1 cycles = 19.15 cycles, at 3.0 GHz")
_TLS_SRC = (REF + "concurrency_hierarchy_costs.csv: implementation='tls add', threads=1 "
            "(a non-atomic per-thread add, as preempt_count inc/dec); median of skl 5.2 and "
            "icl 4.0 cycles = 4.6 cycles per add, x2 (inc+dec) at 3.0 GHz")

PARAMS: dict[str, Param] = {p.name: p for p in [
    # ---- clock and fast path -------------------------------------------------
    _p("freq_hz", "Hz", "core clock used to convert cycles to ns", 3.0e9, 5e8, 6e9,
       "assumption: 3.0 GHz generic; every bundled machine profile states its own", r"f"),
    _p("preempt_ns", "ns", "preempt_count inc + dec pair (local_lock on !PREEMPT_RT)",
       2 * 4.6 / 3.0, 0.0, 20.0, _TLS_SRC, r"t_{\mathrm{pre}}"),
    _p("atomic_rmw_ns", "ns", "one uncontended locked read-modify-write (spin_lock acquire)",
       19.15 / 3.0, 0.5, 100.0, _ATOMIC_SRC, r"t_{\mathrm{atom}}"),
    _p("static_key_ns", "ns", "static-key branch of pw_lock_local() with pwlocks=0 or 1",
       1.0 / 3.0, 0.0, 5.0,
       "assumption: 1 cycle at 3.0 GHz, middle of the '0-2 cycles' of docs/model.md",
       r"t_{\mathrm{key}}"),
    _p("per_cpu_ptr_ns", "ns", "per_cpu_ptr(smp_processor_id()) in place of this_cpu_ptr()",
       1.0 / 3.0, 0.0, 5.0,
       "assumption: 1 cycle at 3.0 GHz (one extra per-CPU offset load, usually L1 hit and "
       "off the critical path)", r"t_{\mathrm{pcp}}"),
    _p("call_ns", "ns", "call + return around spin_lock/unlock when not inlined (per op)",
       5.0 / 3.0, 0.0, 20.0,
       REF + "pw_series_numbers.csv: 'extra cost per lock/unlock with inlined spinlocks' "
       "4-14 cycles (LPC 2023 study); 5 cycles at 3.0 GHz assumed for the call pair",
       r"t_{\mathrm{call}}"),
    _p("base_op_ns", "ns", "the local operation itself under local_lock (everything but the lock)",
       20.0, 0.0, 1e5,
       "assumption: kmalloc fast path 60 cycles at 3.0 GHz (" + REF +
       "kmalloc_locallock_vs_spinlock_cycles.csv, unpatched) as a typical per-CPU op",
       r"t_{\mathrm{op}}"),
    # ---- coherence -----------------------------------------------------------
    _p("c2c_ns", "ns", "core-to-core line transfer, requester to target (pair-class value)",
       51.3, 1.0, 2000.0,
       REF + "c2c_latency.csv: Intel Xeon Platinum 8375C same_socket median 51.3 ns "
       "(machine profiles give one value per pair class)", r"t_{\mathrm{c2c}}"),
    _p("lines_lock", "lines", "cache lines of the per-CPU lock", 1, 1, 4,
       "kernel source: spinlock_t (qspinlock, 4 bytes) without lockdep fits in one line"),
    _p("lines_batch_hdr", "lines", "folio_batch header lines touched per non-empty batch", 1, 0, 8,
       "kernel source: struct folio_batch {nr, i, percpu_pvec_drained, folios[31]} header"),
    _p("lines_per_item", "lines", "batch-array lines per folio pointer (8 B of a 64 B line)",
       0.125, 0.0, 1.0, "kernel source: folios[] holds 8-byte pointers, 64-byte lines"),
    _p("folio_lines_per_item", "lines", "struct folio lines written per drained folio",
       1, 0, 4,
       "kernel source: folio_batch_move_lru() -> lruvec_add_folio() writes folio->flags and "
       "folio->lru, both in the first 64 bytes of struct folio"),
    _p("lines_check", "lines", "modified lines cpu_needs_mm_drain() reads for one dirty CPU",
       1.5, 0.0, 16,
       "kernel source (seed patch): cpu_needs_mm_drain() returns at the first non-empty of 6 "
       "batch counts + need_mlock_drain(); a dirty CPU usually has lru_add non-empty (1-2 lines "
       "miss); clean CPUs' counters are unmodified (shared hits, not counted)"),
    # ---- call-site work ------------------------------------------------------
    _p("batch_items", "folios", "items (folios, pages, objects) in a non-empty per-CPU cache at "
       "drain time", 15.5, 1, 4096,
       "kernel source: PAGEVEC_SIZE 31 (include/linux/pagevec.h); assumption: uniform fill, mean 15.5"),
    _p("item_bytes", "B", "memory one cached item keeps from the rest of the system while it "
       "sits in a per-CPU cache (stranded when that CPU is never drained)", 4096.0, 0.0, 1e8,
       "kernel source: one order-0 folio (PAGE_SIZE 4096 bytes on x86-64) per folio-batch item"),
    _p("item_drain_ns", "ns", "work per folio in folio_batch_move_lru() with hot caches",
       50.0, 1.0, 5000.0,
       "assumption: ~150 cycles per folio (lruvec_add_folio + stats); calibrate from traces"),
    _p("lru_hold_fraction", "1", "share of the per-folio work done under the lruvec lru_lock",
       0.8, 0.0, 1.0, "assumption: lock taken once per batch, list and stat updates under it"),
    _p("local_cs_ns", "ns", "local critical section under the per-CPU lock (one batch add)",
       30.0, 1.0, 1e5, "assumption: folio_batch_add + checks, ~100 cycles"),
    # ---- rates -----------------------------------------------------------
    _p("kernel_exit_rate_hz", "Hz", "returns to user space per second of the isolated task "
       "(when strategy RU drains its cache)", 1000.0, 0.0, 1e7,
       REF + "pw_series_numbers.csv: 'MAC scheduler period' 1 ms (telco example); "
       "assumption: one system call per period"),
    _p("local_rate_hz", "Hz", "local fast-path operations per second on one CPU", 1e6, 0.0, 1e9,
       "assumption: 1e6 folio batch operations/s on a busy CPU (sweep it)"),
    _p("remote_rate_hz", "Hz", "remote drains of one CPU per second (lru_add_drain_all calls)",
       10.0, 0.0, 1e6,
       REF + "pw_series_numbers.csv: 'drain rate in test' ~100/s for drain_all_pages under "
       "netperf+hackbench; 10/s assumed for lru_add_drain_all"),
    _p("dirty_fraction", "1", "fraction of online CPUs with a non-empty batch at drain time",
       0.5, 0.0, 1.0, "assumption: half the CPUs dirty (sweep it)"),
    # ---- wake-up path --------------------------------------------------------
    _p("ipi_ns", "ns", "IPI send to handler entry on the target (one way)", 1317.0, 50.0, 1e6,
       REF + "ipi_latency.csv: KVM guest, IPIv enabled, Normal IPI (1 remote vCPU) 1317.0 ns; "
       "bare-metal figures are unpublished, so this is an upper bound for bare metal"),
    _p("queue_work_ns", "ns", "queue_work_on() on the requester: pool lock, insert, kick",
       500.0, 10.0, 1e6,
       "assumption: ~1500 cycles including the IPI send; calibrated from traces (queue spacing)"),
    _p("kworker_switch_ns", "ns", "one context switch into or out of the kworker on the target",
       1500.0, 50.0, 1e6,
       REF + "pw_series_numbers.csv: 'extra latency oslat->kworker->oslat' 7 us on a recent "
       "Xeon for the whole interruption; assumption: 2 x 1.5 us switches + 4 us irq/work"),
    _p("kworker_irq_ns", "ns", "interrupt entry/exit and wake-up on the target for a work item",
       4000.0, 0.0, 1e6,
       REF + "pw_series_numbers.csv: vmstat v8 7 us interruption minus 2 switches (assumption)"),
    _p("requester_wakeup_ns", "ns", "flush_work() completion: waking the sleeping requester",
       3000.0, 10.0, 1e7,
       "assumption: IPI + switch on the requester CPU; calibrated from futex round trips"),
    _p("mutex_ns", "ns", "uncontended mutex lock + unlock of the global drain mutex", 20.9, 1.0, 1e5,
       REF + "concurrency_hierarchy_costs.csv: skl 'mutex add' threads=1 20.9 ns"),
    _p("idle_exit_shallow_ns", "ns", "exit latency of the shallow idle state (C1)", 1000.0, 0.0, 1e7,
       REF + "cpuidle_states.csv: icx_cstates C1 exit 1 us"),
    _p("idle_exit_deep_ns", "ns", "exit latency of the deepest idle state", 170000.0, 0.0, 1e7,
       REF + "cpuidle_states.csv: icx_cstates C6 exit 170 us"),
    _p("p_deep_idle", "1", "probability an idle target is in its deepest state", 0.5, 0.0, 1.0,
       "assumption: menu governor on a long-idle housekeeping CPU (sweep it)"),
    _p("tick_hz", "Hz", "scheduler tick frequency (CONFIG_HZ)", 1000.0, 100.0, 1000.0,
       "assumption: CONFIG_HZ=1000 (Fedora/RHEL); machine profiles may state theirs"),
    _p("dl_runtime_ns", "ns", "fair deadline server runtime per period", 50e6, 0.0, 1e10,
       REF + "sched_starvation_defaults.csv: fair_server (dl_server) runtime 50 ms"),
    _p("dl_period_ns", "ns", "fair deadline server period", 1000e6, 1e6, 1e10,
       REF + "sched_starvation_defaults.csv: fair_server (dl_server) period 1000 ms"),
    _p("rt_runtime_ns", "ns", "RT throttling: runtime per period (sched_rt_runtime_us)", 950e6, 0.0, 1e10,
       REF + "sched_starvation_defaults.csv: sched_rt_runtime_us 950000"),
    _p("rt_period_ns", "ns", "RT throttling period (sched_rt_period_us)", 1000e6, 1e6, 1e10,
       REF + "sched_starvation_defaults.csv: sched_rt_period_us 1000000"),
    # ---- EEVDF wake-up of a busy SCHED_OTHER target (models/wakeup.py) --------------
    _p("base_slice_ns", "ns", "fair base slice (sysctl_sched_base_slice after CPU-count scaling)",
       2.8e6, 1e5, 1e8,
       "kernel source: kernel/sched/fair.c (6.18) normalized_sysctl_sched_base_slice = 700000 ns "
       "times get_update_sysctl_factor() = 1 + ilog2(min(online CPUs, 8)) (SCHED_TUNABLESCALING_LOG): "
       "2.8 ms on 8 or more CPUs"),
    _p("busy_slice_ns", "ns", "the busy target's slice (sched_setattr sched_runtime; else the base slice)",
       2.8e6, 1e5, 1e8,
       "kernel source: kernel/sched/fair.c place_entity(): a task without custom_slice gets "
       "sysctl_sched_base_slice (2.8 ms on 8 or more CPUs)"),
    _p("busy_weight_fraction", "1", "weight of the busy entity competing with the kworker, as a multiple of NICE_0 (1024)",
       1.0, 0.001, 100.0,
       "kernel source: kernel/sched/core.c sched_prio_to_weight, nice 0 = 1024; with autogroup "
       "the competing entity is the session's group (weight 1024 whatever the task's nice)"),
    _p("busy_entity_items", "1", "busy entities at the kworker's run-queue level on the target", 1.0, 1.0, 64.0,
       "assumption: one busy task per isolated CPU"),
    _p("p_busy_sched_idle", "1", "1 when the competing busy entity is SCHED_IDLE (se_is_idle), else 0",
       0.0, 0.0, 1.0,
       "kernel source: check_preempt_wakeup_fair(): a non-idle wakee always preempts an idle entity"),
    _p("wake_lag_use_ns", "ns", "lag the woken kworker uses per wake-up (at equal weights)",
       40000.0, 1000.0, 1e6,
       "assumption: about 6x the kworker's run time per wake-up (2 switches of 1.5 us + 4 us irq/work), "
       "the ratio seen on the local KVM guest (fitted 78 us against 14 us measured run time, docs/wakeup.md)"),
    _p("other_share_fraction", "1", "share of the target CPU's time taken by other runnable tasks",
       0.0, 0.0, 1.0, "assumption: a CPU dedicated to the busy task (no other runnable tasks)"),
    _p("p_other_hold", "1", "probability a wake-up finding another task's share waits for the tick",
       0.1, 0.0, 1.0,
       "measured/drain_migrate_pages_other (CPU 1 shared with load 57 % of the time): 23 of 384 "
       "wake-ups waited behind another task, 0.06 / 0.57 = 0.105"),
    _p("steal_fraction", "1", "share of time the (virtual) CPU is runnable but not running (host steal)",
       0.0, 0.0, 1.0, "assumption: bare metal (no steal)"),
    _p("tick_phase_sync_fraction", "1", "share of triggers that come within the phase window after a tick",
       0.0, 0.0, 1.0, "assumption: triggers unsynchronised with the tick (uniform phase)"),
    _p("tick_phase_window_ns", "ns", "width of the phase window after a tick for synchronised triggers",
       500000.0, 1000.0, 1e7, "assumption: 0.5 ms (only used when tick_phase_sync_fraction > 0)"),
    _p("wake_fast_sigma_fraction", "1", "log-normal shape of the immediate wake-up path (IPI + switch)",
       0.0, 0.0, 3.0, "assumption: a fixed IPI + switch (no spread) where nothing is measured"),
    # ---- budgets -------------------------------------------------------------
    _p("budget_ns", "ns", "latency budget of the isolated task", 20000.0, 1.0, 1e9,
       REF + "pw_series_numbers.csv: 5G RAN latency requirement 20 us (vmstat v8 thread)"),
]}


# ---- ranges of assumed values -------------------------------------------------------
# name -> (low, high, kind, justification). Every parameter whose source is (partly)
# an assumption has one (tests/test_params_intervals.py checks it). "workload" ranges
# describe the scenario a user picks rather than an unknown property of the machine.
# X2: the assumed value halved and doubled (no published measurement), computed from the
# registry default so that the range follows it.
X2 = "assumption: a factor 2 either way around the assumed value (no published measurement)"
RANGES: dict[str, tuple[float, float, str, str] | str] = {
    "freq_hz": (2.0e9, 3.8e9, "assumption",
                "assumption: base to all-core turbo clocks of current server parts, 2.0-3.8 GHz"),
    "static_key_ns": (0.0, 2.0 / 3.0, "assumption",
                      "assumption: 0-2 cycles at 3.0 GHz (a patched-in jump or nop)"),
    "per_cpu_ptr_ns": (0.0, 1.0, "assumption",
                       "assumption: 0-3 cycles at 3.0 GHz (an L1-hit offset load, often hidden)"),
    "call_ns": (4.0 / 3.0, 14.0 / 3.0, "assumption",
                REF + "pw_series_numbers.csv: 4-14 cycles per lock/unlock not inlined, at 3.0 GHz"),
    "base_op_ns": X2,
    "batch_items": (1.0, 31.0, "assumption",
                    "kernel source: a non-empty folio_batch holds 1..PAGEVEC_SIZE (31) folios"),
    "item_drain_ns": (25.0, 300.0, "assumption",
                      "assumption: half the assumed 150 cycles at 3.0 GHz up to the 283 ns per "
                      "folio measured on the local KVM guest (profiles/local-kvm-2vcpu.toml)"),
    "lru_hold_fraction": (0.5, 1.0, "assumption",
                          "assumption: at least half of the per-folio work is list and stat "
                          "updates under lru_lock"),
    "local_cs_ns": X2,
    "kernel_exit_rate_hz": (1.0, 1e5, "workload",
                            "workload: from one system call per second to one per 10 us "
                            "(sweep it; 0 = a task that never enters the kernel)"),
    "local_rate_hz": (1e4, 1e7, "workload",
                      "workload: 1e4 to 1e7 folio batch operations/s on one CPU (sweep it)"),
    "remote_rate_hz": (1.0, 100.0, "workload",
                       REF + "pw_series_numbers.csv: up to the ~100/s drain rate of drain_all_pages "
                       "under netperf+hackbench; 1/s assumed for a quiet system"),
    "dirty_fraction": (0.1, 1.0, "workload",
                       "workload: from one CPU in ten to every CPU dirty at drain time (sweep it)"),
    "ipi_ns": (400.0, 1317.0, "assumption",
               REF + "ipi_latency.csv: 1317 ns (KVM guest with IPIv) as the upper end; bare "
               "metal unpublished, low end assumed at a third of it"),
    "queue_work_ns": X2,
    "kworker_switch_ns": X2,
    "kworker_irq_ns": X2,
    "requester_wakeup_ns": X2,
    "p_deep_idle": (0.0, 1.0, "assumption",
                    "assumption: the whole range (nothing published for the menu governor on a "
                    "long-idle CPU)"),
    "tick_hz": (250.0, 1000.0, "assumption",
                "assumption: CONFIG_HZ of the major distribution kernels, 250 (Debian, SUSE) to "
                "1000 (Fedora, RHEL)"),
    "wake_lag_use_ns": (7000.0, 100000.0, "assumption",
                        "assumption: from the kworker's bare run time per wake-up (2 x 1.5 us switch + "
                        "4 us, no lag factor) to 100 us (above the local guest's fitted 78 us)"),
    "busy_entity_items": (1.0, 2.0, "workload", "workload: one or two busy tasks on the target CPU"),
    "other_share_fraction": (0.0, 0.1, "workload",
                    "workload: up to 10 % of the target's time taken by other tasks (housekeeping load)"),
    "p_other_hold": (0.05, 0.3, "assumption",
                   "assumption: around the 0.105 measured on the local KVM guest (two causes of "
                   "a quick start: the kworker preempts the other task, or it sleeps)"),
    "tick_phase_sync_fraction": (0.0, 1.0, "workload",
                        "workload: triggers from unsynchronised (0) to tick-driven (1) callers"),
    "steal_fraction": (0.0, 0.05, "workload",
                    "workload: bare metal (0) to a guest losing 5 % of its time to the host"),
    "tick_phase_window_ns": (100000.0, 1000000.0, "assumption",
                             "assumption: 0.1-1 ms; the local KVM guest's triggers came a median "
                             "130 us after the tick (data/measured/wake_other)"),
    "wake_fast_sigma_fraction": (0.0, 0.5, "assumption",
                        "assumption: up to the 0.2-0.3 spread measured on the local KVM guest"),
}


def _with_ranges(params: dict[str, Param]) -> dict[str, Param]:
    out = dict(params)
    for name, row in RANGES.items():
        if name not in out:
            continue   # a range for a parameter no longer in the registry is ignored
        p = out[name]
        lo, hi, kind, why = (p.default / 2, p.default * 2, "assumption", X2) if row == X2 else row
        if not (p.bounds[0] <= lo <= p.default <= hi <= p.bounds[1]):
            raise AssertionError(f"params.RANGES[{name!r}] = [{lo:g}, {hi:g}] must hold the "
                                 f"default {p.default:g} inside the bounds {p.bounds}")
        out[name] = replace(p, range=(float(lo), float(hi)), range_source=why, kind=kind)
    return out


PARAMS = _with_ranges(PARAMS)

SYMBOLS: dict[str, sp.Symbol] = {
    name: sp.Symbol(name, nonnegative=True) for name in PARAMS
}


def symbol(name: str) -> sp.Symbol:
    """The SymPy symbol of parameter ``name``."""
    check_names([name])
    return SYMBOLS[name]


def check_names(names: Iterable[str], *, where: str | None = None) -> None:
    """Refuse unknown parameter names, suggesting the closest known one."""
    for n in names:
        if n not in PARAMS:
            close = difflib.get_close_matches(n, PARAMS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PwmodelError(f"unknown parameter '{n}'{hint}", file=where, field=n)


def check_value(name: str, value: object, *, where: str | None = None) -> float:
    """Return ``value`` as float if finite and inside the parameter's bounds."""
    p = PARAMS[name]
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PwmodelError(f"expected a number in {p.unit}, found {value!r}",
                           file=where, field=name) from None
    if not math.isfinite(v):
        raise PwmodelError(f"expected a finite number in {p.unit}, found {v}", file=where, field=name)
    lo, hi = p.bounds
    if not (lo <= v <= hi):
        what = "negative " if v < 0 else ""
        raise PwmodelError(f"{what}value {v:g} {p.unit} outside plausible bounds "
                           f"[{lo:g}, {hi:g}] {p.unit}", file=where, field=name)
    return v


def registry_interval(name: str, value: float | None = None) -> Interval | None:
    """The registry range of ``name`` as an :class:`Interval`, or None when it has none
    or ``value`` (if given) lies outside it."""
    p = PARAMS[name]
    if p.range is None:
        return None
    if value is not None and not (p.range[0] <= value <= p.range[1]):
        return None
    return Interval(p.range[0], p.range[1], f"registry range: {p.range_source}", p.kind)


def check_interval(name: str, value: float, low: object, high: object, *,
                   where: str | None = None) -> tuple[float, float]:
    """Validate an interval given for ``name``: both ends in bounds, low <= value <= high."""
    lo = check_value(name, low, where=where)
    hi = check_value(name, high, where=where)
    if not (lo <= value <= hi):
        raise PwmodelError(f"interval [{lo:g}, {hi:g}] {PARAMS[name].unit} must hold the value "
                           f"{value:g} (low <= value <= high)", file=where, field=name)
    return lo, hi


@dataclass(frozen=True)
class ParamSet:
    """Resolved parameter values with the source of each value, and the interval of the
    values that have one (see the module docstring)."""

    values: Mapping[str, float]
    sources: Mapping[str, str] = field(default_factory=dict)
    intervals: Mapping[str, Interval] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def interval(self, name: str) -> Interval | None:
        return self.intervals.get(name)

    def with_overrides(self, overrides: Mapping[str, object] | None,
                       source: str = "override",
                       intervals: Mapping[str, Interval] | None = None,
                       keep_range: bool = False) -> "ParamSet":
        """New values for some parameters. Each loses its interval unless one is given in
        ``intervals`` or, with ``keep_range``, the registry range still holds the value."""
        if not overrides:
            return self
        check_names(overrides)
        vals = dict(self.values)
        srcs = dict(self.sources)
        ivs = dict(self.intervals)
        for k, v in overrides.items():
            vals[k] = check_value(k, v)
            srcs[k] = source
            ivs.pop(k, None)
            given = (intervals or {}).get(k)
            if given is not None:
                check_interval(k, vals[k], given.low, given.high)
                ivs[k] = given
            elif keep_range:
                iv = registry_interval(k, vals[k])
                if iv is not None:
                    ivs[k] = iv
        return ParamSet(vals, srcs, ivs)

    def ranged(self, kinds: Iterable[str] = ("assumption", "fitted")) -> dict[str, Interval]:
        """The intervals of the given kinds with a nonzero width."""
        ks = set(kinds)
        return {k: iv for k, iv in self.intervals.items() if iv.kind in ks and iv.high > iv.low}

    def subs(self) -> dict[sp.Symbol, float]:
        return {SYMBOLS[k]: v for k, v in self.values.items()}


def defaults() -> ParamSet:
    ivs = {k: iv for k in PARAMS if (iv := registry_interval(k)) is not None}
    return ParamSet({k: p.default for k, p in PARAMS.items()},
                    {k: p.source for k, p in PARAMS.items()}, ivs)


def resolve(machine: "object | None" = None,
            overrides: Mapping[str, object] | None = None, *,
            isolation: str | None = None) -> ParamSet:
    """Registry defaults, then the machine profile's values (with its wake-up model
    parameters for ``isolation``, ``[wakeup.<isolation>]``), then ``overrides``.

    Intervals follow the values: a machine value takes the profile's interval for it
    (``machine.param_intervals()``), else the registry range if that holds the value."""
    ps = defaults()
    if machine is not None:
        vals = dict(ps.values)
        srcs = dict(ps.sources)
        ivs = dict(ps.intervals)
        given = dict(getattr(machine, "param_intervals", lambda: {})())
        values = dict(machine.param_values())  # type: ignore[attr-defined]
        if isolation is not None and hasattr(machine, "wake_param_values"):
            values.update(machine.wake_param_values(isolation))  # type: ignore[attr-defined]
            given.update(machine.wake_param_intervals(isolation))  # type: ignore[attr-defined]
        for k, (v, src) in values.items():
            vals[k] = v
            srcs[k] = f"machine {machine.name}: {src}"  # type: ignore[attr-defined]
            ivs.pop(k, None)
            if k in given:
                lo, hi, isrc = given[k]
                kind = "fitted" if "assum" not in isrc.lower() else "assumption"
                ivs[k] = Interval(lo, hi, f"machine {machine.name}: {isrc}", kind)  # type: ignore[attr-defined]
            else:
                iv = registry_interval(k, v)
                if iv is not None:
                    ivs[k] = iv
        ps = ParamSet(vals, srcs, ivs)
    return ps.with_overrides(overrides)


def table() -> "object":
    """The registry as a polars frame (name, unit, meaning, default, bounds, source)."""
    import polars as pl
    return pl.DataFrame({
        "name": list(PARAMS),
        "unit": [p.unit for p in PARAMS.values()],
        "meaning": [p.meaning for p in PARAMS.values()],
        "default": [p.default for p in PARAMS.values()],
        "lower": [p.bounds[0] for p in PARAMS.values()],
        "upper": [p.bounds[1] for p in PARAMS.values()],
        "source": [p.source for p in PARAMS.values()],
        "range_low": [p.range[0] if p.range else None for p in PARAMS.values()],
        "range_high": [p.range[1] if p.range else None for p in PARAMS.values()],
        "range_kind": [p.kind if p.range else None for p in PARAMS.values()],
        "range_source": [p.range_source or None for p in PARAMS.values()],
    })
