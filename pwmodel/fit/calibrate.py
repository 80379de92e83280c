"""Calibrate a machine profile and wake-up distributions from measured datasets.

Microbenchmarks (``measured/micro/micro``) give the hardware constants:
``c2c`` one-way ns per pair class, ``atomic`` (atomic_rmw_ns), ``membarrier``
minus ``membarrier_no_peer`` (one IPI round trip: ipi_ns is half of it) and
``futex_roundtrip`` (requester_wakeup_ns is half a round trip: one sleeping
thread woken on another CPU). Each value is the median over runs and CPU
pairs, with a bootstrap interval over those rows.

Trace datasets (``measured/*/lifecycle``) give queue->start samples per
target state; :func:`wake_fits` selects a family for each and returns
:class:`~pwmodel.fit.distresult.Selection` objects whose best fit converts to
a :class:`pwmodel.dist.LatencyDist` for ``Scenario(wake=...)``.

:func:`calibrate` returns the :class:`pwmodel.machine.Machine` and the fits;
:func:`write` stores the profile (TOML) and the fits (JSON) atomically with
provenance naming the datasets.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import polars as pl

from pwmodel import atomic, machine as M
from pwmodel.errors import PwmodelError
from pwmodel.fit import distributions as FD
from pwmodel.fit.distresult import Selection

MICRO = "measured/micro/micro"
# (dataset, work function, target CPU): the queue->start samples of each target state
WAKE_SETS: dict[str, tuple[str, str, int]] = {
    "idle": ("measured/drain_migrate_pages_idle/lifecycle", "lru_add_drain_per_cpu", 1),
    "other": ("measured/drain_migrate_pages_other/lifecycle", "lru_add_drain_per_cpu", 1),
    "fifo": ("measured/drain_migrate_pages_fifo/lifecycle", "lru_add_drain_per_cpu", 1),
    "stat_refresh_idle": ("measured/stat_refresh_idle/lifecycle", "refresh_vm_stats", 1),
}


@dataclass(frozen=True)
class Estimate:
    """A calibrated constant: median of ``n`` rows with a bootstrap interval, in ``unit``."""

    name: str
    value: float
    low: float
    high: float
    n: int
    unit: str
    source: str


@dataclass
class Calibration:
    machine: M.Machine
    estimates: dict[str, Estimate]
    wake: dict[str, Selection] = field(default_factory=dict)


def _load(name: str, frame: pl.DataFrame | None) -> pl.DataFrame:
    if frame is not None:
        return frame
    from pwmodel import data as DATA
    return DATA.load(name)


def _median_ci(x: np.ndarray, rng: np.random.Generator, n_boot: int, level: float
               ) -> tuple[float, float, float]:
    """Median and its percentile-bootstrap interval (vectorised resampling)."""
    idx = rng.integers(0, x.size, (n_boot, x.size))
    meds = np.median(x[idx], axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(meds, [a, 1 - a])
    return float(np.median(x)), float(lo), float(hi)


def micro_estimates(micro: pl.DataFrame | None = None, *, n_boot: int = 1000, seed: int = 0,
                    level: float = 0.95) -> dict[str, Estimate]:
    """Hardware constants from the microbenchmark table (see module docstring)."""
    df = _load(MICRO, micro)
    need = {"bench", "pair_class", "ns_per_op"}
    if not need <= set(df.columns):
        raise PwmodelError(f"micro table needs columns {sorted(need)}", file=MICRO,
                           field=", ".join(sorted(need - set(df.columns))))
    rng = np.random.default_rng(seed)
    out: dict[str, Estimate] = {}

    def rows(bench: str) -> np.ndarray:
        x = df.filter(pl.col("bench") == bench)["ns_per_op"].drop_nulls().to_numpy()
        if x.size == 0 or not np.all(np.isfinite(x)) or np.any(x <= 0):
            raise PwmodelError(f"no usable rows for bench '{bench}'", file=MICRO, field="ns_per_op")
        return x

    c2c = df.filter(pl.col("bench") == "c2c")
    for cls in sorted(c2c["pair_class"].drop_nulls().unique().to_list()):
        x = c2c.filter(pl.col("pair_class") == cls)["ns_per_op"].to_numpy()
        v, lo, hi = _median_ci(x, rng, n_boot, level)
        out[f"c2c_ns.{cls}"] = Estimate(f"c2c_ns.{cls}", v, lo, hi, x.size, "ns",
                                        f"{MICRO}: bench=c2c pair_class={cls}, median of {x.size} "
                                        "rows (runs x ordered pairs), one-way = round trip / 2")
    x = rows("atomic")
    v, lo, hi = _median_ci(x, rng, n_boot, level)
    out["atomic_rmw_ns"] = Estimate("atomic_rmw_ns", v, lo, hi, x.size, "ns",
                                    f"{MICRO}: bench=atomic (lock xadd), median of {x.size} rows")
    mb, mb0 = rows("membarrier"), rows("membarrier_no_peer")
    idx = rng.integers(0, mb.size, (n_boot, mb.size))
    idx0 = rng.integers(0, mb0.size, (n_boot, mb0.size))
    d = (np.median(mb[idx], axis=1) - np.median(mb0[idx0], axis=1)) / 2
    a = (1 - level) / 2
    out["ipi_ns"] = Estimate("ipi_ns", (float(np.median(mb)) - float(np.median(mb0))) / 2,
                             float(np.quantile(d, a)), float(np.quantile(d, 1 - a)), mb.size, "ns",
                             f"{MICRO}: (median bench=membarrier - median membarrier_no_peer) / 2: "
                             "half an IPI round trip, VM exits included")
    fx = rows("futex_roundtrip")
    v, lo, hi = _median_ci(fx / 2, rng, n_boot, level)
    out["requester_wakeup_ns"] = Estimate(
        "requester_wakeup_ns", v, lo, hi, fx.size, "ns",
        f"{MICRO}: bench=futex_roundtrip / 2 (one cross-CPU wake-up of a sleeping thread)")
    return out


KWORKER = "measured/drain_migrate_pages_other"


def kworker_estimates(lifecycle: pl.DataFrame | None = None, gaps: pl.DataFrame | None = None,
                      *, pages: int = 16, n_boot: int = 1000, seed: int = 0,
                      level: float = 0.95) -> dict[str, Estimate]:
    """Costs of one queued drain on a busy target, from the busy SCHED_OTHER drain trace.

    Each gap of the target's task caused by lru_add_drain_per_cpu is split at the work
    item's execute start and end (tracefs): before = interrupt + wake-up + switch into the
    kworker, during = the drain (``exec_ns``), after = switch back to the task. Then
    kworker_switch_ns = median(after), kworker_irq_ns = median(before) - median(after)
    (>= 0), item_drain_ns = median(exec_ns) / ``pages`` (the folios the collector faulted
    into the target's batch before each trigger; ``pages`` in the dataset's metadata).
    """
    lc = _load(f"{KWORKER}/lifecycle", lifecycle)
    g = _load(f"{KWORKER}/victim_gaps", gaps)
    lc = lc.filter((pl.col("function") == "lru_add_drain_per_cpu") & pl.col("start_ts_ns").is_not_null()
                   & pl.col("end_ts_ns").is_not_null())
    g = g.filter(pl.col("work_function") == "lru_add_drain_per_cpu")
    j = g.join_where(lc, pl.col("cpu") == pl.col("target_cpu"),
                     pl.col("gap_start_ts_ns") <= pl.col("start_ts_ns"),
                     pl.col("start_ts_ns") <= pl.col("gap_end_ts_ns"))
    if j.height < 10:
        raise PwmodelError(f"only {j.height} kworker gaps matched a work item (need >= 10)",
                           file=f"{KWORKER}/victim_gaps", field="work_function")
    pre = (j["start_ts_ns"] - j["gap_start_ts_ns"]).to_numpy().astype(float)
    post = (j["gap_end_ts_ns"] - j["end_ts_ns"]).to_numpy().astype(float)
    ex = j["exec_ns"].to_numpy().astype(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, j.height, (n_boot, j.height))
    a = (1 - level) / 2
    m_pre, m_post = np.median(pre[idx], axis=1), np.median(post[idx], axis=1)
    irq = np.maximum(m_pre - m_post, 0.0)
    src = (f"{KWORKER}/victim_gaps joined to /lifecycle ({j.height} kworker gaps of the busy "
           "SCHED_OTHER target, split at the work item's execute start/end)")
    out = {
        "kworker_switch_ns": Estimate("kworker_switch_ns", float(np.median(post)),
                                      *map(float, np.quantile(m_post, [a, 1 - a])), j.height, "ns",
                                      src + ": median of the part after the work (switch back)"),
        "kworker_irq_ns": Estimate("kworker_irq_ns", max(float(np.median(pre) - np.median(post)), 0.0),
                                   *map(float, np.quantile(irq, [a, 1 - a])), j.height, "ns",
                                   src + ": median before the work minus median after it, >= 0"),
    }
    v, lo, hi = _median_ci(ex / pages, rng, n_boot, level)
    out["item_drain_ns"] = Estimate("item_drain_ns", v, lo, hi, j.height, "ns",
                                    src + f": median exec_ns / {pages} folios per trigger "
                                    "(includes the drain's fixed overhead)")
    return out


STANDARD_HZ = (100, 250, 300, 1000)


def tick_ns_from_trace(name: str, cpu: int, events: pl.DataFrame | None = None) -> float:
    """The scheduler tick (ns) of a trace collection: the median spacing of
    ``local_timer_entry`` on ``cpu``, snapped to 1e9 / HZ of the nearest standard
    CONFIG_HZ (100, 250, 300, 1000) when within 5 % (the metadata records no HZ)."""
    ev_name = name.rsplit("/", 1)[0] + "/events"
    ev = _load(ev_name, events)
    for c in ("event", "cpu", "ts_ns"):
        if c not in ev.columns:
            raise PwmodelError(f"events table lacks column '{c}'", file=ev_name, field=c)
    t = ev.filter((pl.col("event") == "local_timer_entry") & (pl.col("cpu") == cpu))["ts_ns"]
    t = np.sort(t.drop_nulls().to_numpy().astype(float))
    if t.size < 20:
        raise PwmodelError(f"{t.size} local_timer_entry event(s) on cpu {cpu}: cannot measure "
                           "the tick", file=ev_name, field="event")
    med = float(np.median(np.diff(t)))
    hz = min(STANDARD_HZ, key=lambda h: abs(1e9 / h - med))
    return 1e9 / hz if abs(1e9 / hz - med) < 0.05 * med else med


def wake_samples(state: str, frame: pl.DataFrame | None = None, *,
                 tick_ns: float | None = None) -> FD.Sample:
    """queue->start samples (ns) of one target state's work items on the target CPU;
    the tick (for the tick-capped families) is ``tick_ns`` or measured from the trace
    (:func:`tick_ns_from_trace`)."""
    if state not in WAKE_SETS:
        raise PwmodelError(f"unknown target state '{state}' (known: {', '.join(WAKE_SETS)})",
                           field="state")
    name, fn, cpu = WAKE_SETS[state]
    lc = _load(name, frame)
    for c in ("function", "target_cpu", "window", "queue_to_start_ns"):
        if c not in lc.columns:
            raise PwmodelError(f"lifecycle table lacks column '{c}'", file=name, field=c)
    x = lc.filter((pl.col("function") == fn) & (pl.col("target_cpu") == cpu)
                  & pl.col("window").is_not_null())["queue_to_start_ns"]
    n_missing = int(x.null_count())
    vals = x.drop_nulls().to_numpy().astype(float)
    # items queued but never seen starting are right-censored at the longest observed wait
    cens = float(vals.max()) + 1.0 if n_missing else None
    if tick_ns is None:
        tick_ns = tick_ns_from_trace(name, cpu) if frame is None else None
    return FD.sample(vals, name=f"{name} [{fn}, cpu {cpu}]", censor_ns=cens, n_censored=n_missing,
                     tick_ns=tick_ns)


def wake_fits(states: Sequence[str] = ("idle", "other", "fifo", "stat_refresh_idle"), *,
              families: Sequence[str] = FD.DEFAULT_FAMILIES, ci: str = "wald",
              n_boot: int = 1000, seed: int = 0,
              frames: Mapping[str, pl.DataFrame] | None = None) -> dict[str, Selection]:
    """Family selection (BIC) for the queue->start samples of each target state."""
    frames = frames or {}
    return {st: FD.select_family(wake_samples(st, frames.get(st)), families, ci=ci,
                                 n_boot=n_boot, seed=seed) for st in states}


def calibrate(*, name: str = "local-kvm-2vcpu", micro: pl.DataFrame | None = None,
              wake_states: Sequence[str] = ("idle", "other", "fifo", "stat_refresh_idle"),
              wake_ci: str = "wald", n_boot: int = 1000, seed: int = 0) -> Calibration:
    """Estimates, the machine profile built from them, and the wake-up fits."""
    est = micro_estimates(micro, n_boot=n_boot, seed=seed)
    if micro is None:      # trace-derived kworker costs need the bundled trace datasets
        try:
            est.update(kworker_estimates(n_boot=n_boot, seed=seed))
        except PwmodelError:
            pass
    meta: dict = {}
    try:
        from pwmodel import data as DATA
        meta = DATA.metadata(MICRO)
    except PwmodelError:
        pass
    classes = {k.split(".", 1)[1]: e for k, e in est.items() if k.startswith("c2c_ns.")}
    if not classes:
        raise PwmodelError("no c2c rows: cannot build a topology", file=MICRO, field="bench")
    n_cpus = int(meta.get("n_cpus", 2))
    levels = [{"class": c, "size": n_cpus if len(classes) == 1 else 2, "c2c_ns": e.value,
               "source": f"{e.source}; 95% CI [{e.low:.4g}, {e.high:.4g}] ns"}
              for c, e in classes.items()]
    costs = {k: {"value": e.value, "source": f"{e.source}; 95% CI [{e.low:.4g}, {e.high:.4g}] ns"}
             for k, e in est.items() if not k.startswith("c2c_ns.")}
    pm = str(meta.get("preempt_model", "none")).split()[0]
    d = {"format": M.FORMAT, "version": M.VERSION, "name": name,
         "description": f"{meta.get('machine', 'local machine')}, {n_cpus} vCPUs, kernel "
                        f"{meta.get('kernel_release', '?')}, calibrated from measured data",
         "cpu_model": str(meta.get("cpu_model", meta.get("machine", ""))), "arch": "x86_64",
         "freq_hz": 2.5961e9, "freq_source": "data/README.md: clocksource tsc, constant, 2596.1 MHz",
         "hz": 250, "preempt_model": pm if pm in M.PREEMPT_MODELS else "none",
         "virtualised": True,
         "notes": "KVM guest under shared load; wake-up distributions fitted per target state in "
                  "data/fits/ (queue->start, BIC-selected family)",
         "topology": {"enumeration": "compact", "levels": levels},
         "costs": costs,
         "provenance": {"hz": "data/README.md: HZ=250 (measured machine)",
                        "preempt_model": f"{MICRO} metadata: {meta.get('preempt_model', '?')}",
                        "datasets": ", ".join([MICRO] + [WAKE_SETS[s][0] for s in wake_states])}}
    idle_meta = {}
    try:
        from pwmodel import data as DATA
        idle_meta = DATA.metadata(WAKE_SETS["idle"][0])
    except PwmodelError:
        pass
    if idle_meta.get("cpuidle_driver") == "haltpoll":
        # the guest's cpuidle driver recorded with the traces; its states are fixed by the
        # driver (drivers/cpuidle/cpuidle-haltpoll.c: state 1 exit latency 1 us, residency 1 us)
        src = (f"{WAKE_SETS['idle'][0]} metadata cpuidle_driver=haltpoll; state values from "
               "drivers/cpuidle/cpuidle-haltpoll.c (as read in sysfs on the measured machine)")
        d["idle_states"] = [
            {"name": "POLL", "exit_latency_ns": 0.0, "target_residency_ns": 0.0, "source": src},
            {"name": "haltpoll", "exit_latency_ns": 1000.0, "target_residency_ns": 1000.0,
             "source": src}]
    m = M.from_dict(d, where=f"calibration from {MICRO}")
    wake = wake_fits(wake_states, ci=wake_ci, n_boot=n_boot, seed=seed) if wake_states else {}
    return Calibration(m, est, wake)


def write(cal: Calibration, profile_path: str | os.PathLike,
          fits_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write the profile TOML and one JSON per wake-up fit (atomically); returns the paths."""
    out = [Path(profile_path)]
    atomic.write_text(profile_path, M.to_toml(cal.machine))
    if fits_dir is not None:
        for st, sel in cal.wake.items():
            p = Path(fits_dir) / f"wake_{st}.json"
            atomic.write_text(p, sel.to_json())
            out.append(p)
        est = {k: {"value_ns": e.value, "ci_low_ns": e.low, "ci_high_ns": e.high, "n": e.n,
                   "source": e.source} for k, e in cal.estimates.items()}
        p = Path(fits_dir) / "micro_estimates.json"
        atomic.write_text(p, json.dumps(est, indent=1))
        out.append(p)
    return out


def estimates_frame(est: Mapping[str, Estimate]) -> pl.DataFrame:
    return pl.DataFrame([{"name": e.name, "value": e.value, "low": e.low, "high": e.high,
                          "n": e.n, "unit": e.unit, "source": e.source} for e in est.values()])
