"""Calibrate the EEVDF wake-up model (:mod:`pwmodel.models.wakeup`) from one capture.

Input: a ``pwmodel collect drain|stat-refresh`` folder (with its ``events``
table) or a lifecycle table written by ``pwmodel ingest`` (parquet or CSV with
``queue_to_start_ns``; without events the causes cannot be told apart: every
wait above ``FAST_NS`` counts as a rule-caused tick wait, other_share_fraction and
steal are taken as 0 and the phase as uniform).

What comes from where (every value keeps its source and, where it is an
estimate, an interval):

* measured inputs, not fitted to the latencies: the share of the target's time
  taken by other tasks (``other_share_fraction``), the host's steal share
  (``steal_fraction``), the phase of the queue after the target's last tick
  (``tick_phase_sync_fraction`` within ``PHASE_WINDOW_NS``), and the kernel rule inputs of
  the busy task from the collector's settings (:func:`rule_inputs`: nice
  weight, policy, custom slice, number of busy tasks, autogroup);
* fitted: ``wake_fast_sigma_fraction`` (log-normal shape of the immediate wake-ups),
  ``p_other_hold`` (other-task waits per unit of other share) and
  ``wake_lag_use_ns``, the only parameter fitted to the slow share: it inverts
  f_rule = q0 / (1 + q0 E[k]) (module docstring of models/wakeup.py, point 3)
  at the share of tick-ended waits; its interval is the Clopper-Pearson 95 %
  interval of that share carried through the inversion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.fit import wakecause as WC
from pwmodel.models import numeric
from pwmodel.models import wakeup as W

FAST_NS = 200e3
PHASE_WINDOW_NS = 500e3
NORMALIZED_BASE_SLICE_NS = 700e3

# kernel/sched/core.c sched_prio_to_weight[], nice -20 .. 19
PRIO_TO_WEIGHT = (88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
                  9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
                  1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
                  110, 87, 70, 56, 45, 36, 29, 23, 18, 15)
WEIGHT_IDLEPRIO = 3   # kernel/sched/sched.h: SCHED_IDLE tasks


def base_slice_ns(n_cpus: int) -> float:
    """sysctl_sched_base_slice: 0.70 ms x (1 + ilog2(min(n_cpus, 8))) (fair.c update_sysctl())."""
    return NORMALIZED_BASE_SLICE_NS * (1 + int(math.log2(max(1, min(int(n_cpus), 8)))))


def rule_inputs(settings: dict, *, autogroup: bool, n_cpus: int) -> dict[str, tuple[float, str]]:
    """The busy entity the kworker competes with, from a collector's settings.

    With autogroup (kernel.sched_autogroup_enabled=1) the collector's helpers, which
    start a new session, form one group entity at the root run queue: weight 1024
    (the group's shares, whatever the task's nice or policy), not idle, one entity,
    and the group's slice is its tasks' minimum slice. Without it the task itself
    competes: weight from sched_prio_to_weight (3 for SCHED_IDLE), se_is_idle for
    SCHED_IDLE, one entity per busy task."""
    base = base_slice_ns(n_cpus)
    slice_ns = float(settings.get("slice_ns") or 0) or base
    nice = int(settings.get("nice") or 0)
    policy = settings.get("policy") or "other"
    tasks = int(settings.get("busy_tasks") or 1)
    how = "autogroup on: the session's group entity" if autogroup else "autogroup off: the task"
    src = (f"collector settings (policy={policy}, nice={nice}, slice_ns={int(slice_ns)}, busy_tasks={tasks}; "
           f"{how}) with kernel/sched rules (models/wakeup.py)")
    if autogroup:
        w, idle, n = 1.0, 0.0, 1.0
    else:
        w = (WEIGHT_IDLEPRIO if policy == "idle" else PRIO_TO_WEIGHT[nice + 20]) / 1024.0
        idle, n = (1.0 if policy == "idle" else 0.0), float(tasks)
    return {"base_slice_ns": (base, f"kernel/sched/fair.c update_sysctl(): 0.70 ms x (1 + ilog2(min({n_cpus}, 8)))"),
            "busy_slice_ns": (slice_ns, src), "busy_weight_fraction": (w, src),
            "busy_entity_items": (n, src), "p_busy_sched_idle": (idle, src)}


@dataclass
class WakeCalibration:
    """Calibrated wake-up parameters of one isolation level: value, source, interval."""

    isolation: str
    capture: str
    values: dict[str, tuple[float, str]]
    intervals: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    measured: dict[str, float] = field(default_factory=dict)


def _cp(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    a = (1 - conf) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 1, n - k))
    return lo, hi


def phase_sync(phase_ns: np.ndarray, tick_ns: float, window_ns: float = PHASE_WINDOW_NS) -> float:
    """Share s of tick-synchronised triggers: P(phase < window) = s + (1 - s) window / T."""
    if phase_ns.size == 0:
        return 0.0
    u = window_ns / tick_ns
    f = float(np.mean(phase_ns < window_ns))
    return float(min(1.0, max(0.0, (f - u) / (1 - u))))


def lag_use_from_share(f: float, inputs: dict[str, float], tick_hz: float, sync: float,
                       window_ns: float = PHASE_WINDOW_NS) -> float:
    """Solve f_rule(wake_lag_use_ns) = f (models/wakeup.py rule_slow_expr, increasing in the
    lag use) by bisection on the parameter's bounds; the bound when f is outside the range."""
    from scipy.optimize import brentq
    vals = {**P.defaults().values, **inputs, "tick_hz": tick_hz, "tick_phase_sync_fraction": sync,
            "tick_phase_window_ns": window_ns}
    expr = W.rule_slow_expr()

    def g(d: float) -> float:
        return float(numeric(expr, {**vals, "wake_lag_use_ns": d})) - f
    lo_b, hi_b = P.PARAMS["wake_lag_use_ns"].bounds
    if g(lo_b) >= 0:
        return lo_b
    if g(hi_b) <= 0:
        return hi_b
    return float(brentq(g, lo_b, hi_b, xtol=1.0))


def _load_waits(path: Path) -> pl.DataFrame:
    try:
        df = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise PwmodelError(f"cannot read lifecycle table: {exc}".splitlines()[0], file=str(path)) from None
    if "queue_to_start_ns" not in df.columns:
        raise PwmodelError("lifecycle table has no 'queue_to_start_ns' column", file=str(path),
                           field="queue_to_start_ns")
    if "window" in df.columns:
        df = df.filter(pl.col("window").is_not_null())
    if "function" in df.columns:
        df = df.filter(pl.col("function").is_in(WC.DRAIN_FUNCTIONS))
    df = df.drop_nulls("queue_to_start_ns")
    if df.height < 20:
        raise PwmodelError(f"only {df.height} work items with a queue->start time (need >= 20)",
                           file=str(path), field="queue_to_start_ns")
    return df


def calibrate_state(isolation: str, path: str | Path, *, tick_hz: float, n_cpus: int,
                    settings: dict | None = None, autogroup: bool | None = None) -> WakeCalibration:
    """Wake-up parameters of one busy isolation level from one capture (module docstring)."""
    if isolation not in W.BUSY:
        raise PwmodelError(f"only the busy SCHED_OTHER levels are calibrated from captures "
                           f"({', '.join(W.BUSY)}), got '{isolation}'", field="state")
    path = Path(path)
    tick_ns = 1e9 / tick_hz
    if path.is_dir():
        s = WC.summary(path)
        waits = s.wait_ns
        n = s.n
        k_tick = s.causes.get("tick", 0) + s.causes.get("host", 0)
        k_other = s.causes.get("other_task", 0)
        sync = phase_sync(s.phase_ns, tick_ns)
        other, steal = s.other_share_fraction, s.steal_fraction
        st = {**s.settings, **(settings or {})}
        ag = s.autogroup if autogroup is None else autogroup
        cname = f"{path} (pwmodel collect folder)"
        how = "trace-classified causes (pwmodel.fit.wakecause)"
        phase_how = f"share of queue times within {PHASE_WINDOW_NS / 1e3:g} us after the target's tick, less the uniform share"
    else:
        df = _load_waits(path)
        waits = df["queue_to_start_ns"].cast(pl.Float64).to_numpy()
        n = waits.size
        k_tick, k_other = int((waits > FAST_NS).sum()), 0
        # a tick wait is W = T - phase: the slow waits give the phase of the triggers
        slow = waits[waits > FAST_NS]
        sync = phase_sync(tick_ns - np.minimum(slow, tick_ns), tick_ns) if slow.size else 0.0
        other, steal = 0.0, 0.0
        st, ag = dict(settings or {}), bool(autogroup)
        cname = f"{path} (lifecycle table, no events)"
        how = f"every wait > {FAST_NS / 1e3:g} us counted as a tick wait (no events to tell causes apart)"
        phase_how = "tick waits' position in the tick (T - wait), less the uniform share (no events)"
    inputs_src = rule_inputs(st, autogroup=ag, n_cpus=n_cpus)
    inputs = {k: v for k, (v, _) in inputs_src.items()}
    out: dict[str, tuple[float, str]] = dict(inputs_src)
    iv: dict[str, tuple[float, float, str]] = {}
    fast = waits[waits <= FAST_NS]
    sig = float(np.std(np.log(fast))) if fast.size > 2 else 0.0
    out["wake_fast_sigma_fraction"] = (round(min(3.0, sig), 4),
                              f"{cname}: std of log queue->start of the {fast.size} immediate wake-ups (<= {FAST_NS / 1e3:g} us)")
    out["other_share_fraction"] = (round(other, 5), f"{cname}: share of the target CPU's time in the trigger span taken by "
                                           "tasks other than the busy task, kworkers and idle (trace)")
    out["steal_fraction"] = (round(steal, 5), f"{cname}: metadata cpu_time_share steal_pct of the target CPU (/proc/stat)")
    out["tick_phase_sync_fraction"] = (round(sync, 4), f"{cname}: {phase_how}")
    out["tick_phase_window_ns"] = (PHASE_WINDOW_NS, "pwmodel.fit.wakecal.PHASE_WINDOW_NS (the phase window used)")
    if other > 0.02 and k_other:
        h = min(1.0, k_other / (n * other))
        lo, hi = _cp(k_other, n)
        out["p_other_hold"] = (round(h, 4), f"{cname}: {k_other} of {n} waits behind other tasks / other_share_fraction {other:.3f}")
        iv["p_other_hold"] = (min(h, lo / other), min(1.0, max(h, hi / other)), "Clopper-Pearson 95 % of the count")
    f = k_tick / n
    d = lag_use_from_share(f, inputs, tick_hz, sync)
    flo, fhi = _cp(k_tick, n)
    d_lo = lag_use_from_share(flo, inputs, tick_hz, sync)   # fewer tick waits: less lag used
    d_hi = lag_use_from_share(fhi, inputs, tick_hz, sync)
    out["wake_lag_use_ns"] = (round(d, 1), f"{cname}: fitted to {k_tick} of {n} tick-ended waits "
                                           f"({100 * f:.2f} %), {how}")
    iv["wake_lag_use_ns"] = (min(d, d_lo), max(d, d_hi), f"Clopper-Pearson 95 % of the tick-wait share "
                                                         f"[{100 * flo:.2f}, {100 * fhi:.2f}] %")
    measured = {"n": n, "mean_ns": float(waits.mean()), "p50_ns": float(np.quantile(waits, 0.5)),
                "p90_ns": float(np.quantile(waits, 0.9)), "p99_ns": float(np.quantile(waits, 0.99)),
                "tick_share": f, "other_task_share": k_other / n}
    return WakeCalibration(isolation, str(path), out, iv, measured)


def predicted(isolation: str, ps: P.ParamSet, preempt_model: str = "none") -> dict[str, float]:
    """mean, p50, p90, p99, p99.9 (ns) of the model's queue->start for ``ps``."""
    d = W.wake_dist(isolation, preempt_model, ps)
    q = d.quantile(np.array([0.5, 0.9, 0.99, 0.999]))
    return {"mean_ns": float(d.mean_ns()), "p50_ns": float(q[0]), "p90_ns": float(q[1]),
            "p99_ns": float(q[2]), "p999_ns": float(q[3])}


def _micro_frame(path: Path) -> pl.DataFrame:
    p = path / "micro.parquet" if path.is_dir() else path
    try:
        return pl.read_parquet(p) if p.suffix == ".parquet" else pl.read_csv(p)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise PwmodelError(f"cannot read micro table: {exc}".splitlines()[0], file=str(p)) from None


def _capture_n_cpus(path: Path, default: int) -> int:
    try:
        import json
        return int(json.loads((path / "metadata.json").read_text()).get("n_cpus") or default)
    except (OSError, ValueError):
        return default


def calibrate_profile(base: "object", states: dict[str, str | Path], *, micro: str | Path | None = None,
                      tick_hz: int | None = None, name: str | None = None) -> "object":
    """A machine profile: ``base`` with micro constants from ``micro`` (a ``pwmodel collect
    micro`` folder or table), ``hz`` from ``tick_hz``, and one ``[wakeup.<isolation>]``
    table per ``states`` entry (isolation -> capture folder or lifecycle table)."""
    from dataclasses import replace

    from pwmodel import machine as M
    from pwmodel.fit import calibrate as CAL
    m = base
    costs = dict(m.costs)
    cost_iv = dict(m.cost_intervals)
    levels = list(m.levels)
    prov = dict(m.provenance)
    if micro is not None:
        mp = Path(micro)
        est = CAL.micro_estimates(_micro_frame(mp))
        for k, e in est.items():
            src = f"{mp}: {e.source.split(': ', 1)[-1]}"
            if k.startswith("c2c_ns."):
                cls = k.split(".", 1)[1]
                levels = [replace(lv, c2c_ns=e.value, source=f"{src}; 95% CI [{e.low:.4g}, {e.high:.4g}] ns")
                          if lv.pair_class == cls else lv for lv in levels]
                continue
            costs[k] = (e.value, src)
            if e.low <= e.value <= e.high:
                cost_iv[k] = (e.low, e.high, "95 % bootstrap interval over the rows")
        prov["micro"] = str(mp)
    hz = int(tick_hz) if tick_hz else m.hz
    if tick_hz:
        prov["hz"] = f"pwmodel calibrate --tick-hz {hz}"
    wake = {k: dict(v) for k, v in m.wakeup.items()}
    wake_iv = {k: dict(v) for k, v in m.wakeup_intervals.items()}
    for iso, path in states.items():
        p = Path(path)
        cal = calibrate_state(iso, p, tick_hz=hz, n_cpus=_capture_n_cpus(p, m.n_cpus) if p.is_dir() else m.n_cpus)
        wake[iso] = {k: (float(v), src) for k, (v, src) in cal.values.items()}
        wake_iv[iso] = dict(cal.intervals)
        prov[f"wakeup_{iso}"] = str(p)
    out = replace(m, name=name or m.name, hz=hz, costs=costs, cost_intervals=cost_iv, levels=tuple(levels),
                  provenance=prov, wakeup=wake, wakeup_intervals=wake_iv)
    # round trip through the reader: the written profile is valid by construction
    return M.from_dict(__import__("tomllib").loads(M.to_toml(out)), where="pwmodel calibrate")


def requester_latency(scenario: "object", n_cpus: int, qs: tuple[float, ...] = (0.5, 0.9, 0.99)) -> dict[str, float]:
    """QW requester latency of ``scenario`` at ``n_cpus`` (ns): mean from the fan-out model's
    qw_mean_expr, and each quantile q from qw_quantile_expr(q) with the wake-up order
    statistic at q (evaluate.inputs computes the rest)."""
    from pwmodel import evaluate as E
    from pwmodel.models import fanout as F
    ps = scenario.params()
    v = E.inputs(scenario, np.array([float(n_cpus)]), ps)
    dist = scenario.wake_dist(ps)
    dirty = E.dirty_count(ps["dirty_fraction"], np.array([float(n_cpus)]))
    out = {"mean_ns": float(np.asarray(numeric(F.qw_mean_expr(), v)).ravel()[0])}
    for q in qs:
        vq = {**v, "wake_qmax_ns": E.qmax_of(dist, dirty, q)}
        out[f"p{round(q * 100):d}_ns"] = float(np.asarray(numeric(F.qw_quantile_expr(q), vq)).ravel()[0])
    return out


def measured_requester(folder: str | Path) -> dict[str, float]:
    """Measured QW requester latency of a capture: ``drain_ns`` of its requester table
    (first queue to the last work item's end in each trigger window), ns."""
    p = Path(folder) / "requester.parquet"
    try:
        d = pl.read_parquet(p)["drain_ns"].drop_nulls().cast(pl.Float64).to_numpy()
    except Exception as exc:  # noqa: BLE001
        raise PwmodelError(f"cannot read requester table: {exc}".splitlines()[0], file=str(p)) from None
    return {"mean_ns": float(d.mean()), "p50_ns": float(np.quantile(d, 0.5)),
            "p90_ns": float(np.quantile(d, 0.9)), "p99_ns": float(np.quantile(d, 0.99)), "n": d.size}


RULE_KEYS = ("base_slice_ns", "busy_slice_ns", "busy_weight_fraction", "busy_entity_items", "p_busy_sched_idle")
LOAD_KEYS = ("other_share_fraction", "steal_fraction", "tick_phase_sync_fraction", "tick_phase_window_ns")
FITTED_KEYS = ("wake_lag_use_ns", "wake_fast_sigma_fraction", "p_other_hold")


def condition_table(machine: "object", base: str | Path, captures: list[str | Path], *,
                    isolation: str = "busy_other") -> pl.DataFrame:
    """Predicted vs measured queue->start per capture (ns).

    The fitted parameters (FITTED_KEYS) come from ``base`` only; each capture contributes
    its kernel-rule inputs (its collector settings: RULE_KEYS) and its measured load
    (LOAD_KEYS: other tasks' share, steal, tick phase), never its latencies. ``machine``
    gives the rest (IPI, switch, HZ)."""
    hz = float(machine.hz)
    b = calibrate_state(isolation, base, tick_hz=hz, n_cpus=machine.n_cpus)
    fitted = {k: b.values[k][0] for k in FITTED_KEYS if k in b.values}
    rows = []
    for cap in captures:
        c = calibrate_state(isolation, cap, tick_hz=hz, n_cpus=_capture_n_cpus(Path(cap), machine.n_cpus))
        over = {k: c.values[k][0] for k in RULE_KEYS + LOAD_KEYS}
        ps = P.resolve(machine).with_overrides({**fitted, **over})
        pr = predicted(isolation, ps, machine.preempt_model)
        p_slow = float(numeric(W.p_slow_expr(machine.preempt_model), ps.values))
        row = {"capture": Path(cap).name, "n": c.measured["n"], "fitted_here": Path(cap).resolve() == Path(base).resolve(),
               "tick_share_meas": c.measured["tick_share"], "other_task_share_meas": c.measured["other_task_share"],
               "slow_share_pred": p_slow, "other_share_fraction": over["other_share_fraction"], "steal_fraction": over["steal_fraction"],
               "busy_weight_fraction": over["busy_weight_fraction"], "busy_entity_items": over["busy_entity_items"],
               "p_busy_sched_idle": over["p_busy_sched_idle"], "busy_slice_ns": over["busy_slice_ns"]}
        for k in ("mean_ns", "p50_ns", "p90_ns", "p99_ns"):
            row[f"{k[:-3]}_meas_ns"] = c.measured[k]
            row[f"{k[:-3]}_pred_ns"] = pr[k]
        rows.append(row)
    return pl.DataFrame(rows)
