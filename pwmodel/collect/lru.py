"""Queued per-CPU work, measured live: lru_add_drain_all() and stat_refresh fan-out.

:func:`collect_drain` runs ``csrc/pw_lru.c``: a target process pinned to
``target_cpu`` that is idle (sleeps on a futex), busy SCHED_OTHER, or busy
SCHED_FIFO, with an oslat-like gap detector in the busy states; and a
requester pinned to ``requester_cpu`` that, for each trigger, makes the target
fault fresh pages (filling its LRU folio batches) and then calls the trigger
between ``pwmodel begin N`` / ``pwmodel end N`` trace markers.

Triggers: ``migrate_pages`` (migrate_pages(2) of the requester to its own node:
lru_add_drain_all() queues lru_add_drain_per_cpu only on CPUs whose batches
are non-empty; the default), ``compact`` (/proc/sys/vm/compact_memory),
``drop_caches`` (drops the page cache!), ``stat_refresh`` (refresh_vm_stats on
every CPU).

Tables written (all times ns on the x86-tsc trace clock converted with the
calibrated TSC frequency; ``target_state`` on every row):

- ``lifecycle``: :func:`pwmodel.ingest.derive.work_lifecycle` rows
- ``requester``: trigger (Int32), window, dirty_ok, syscall_begin_ts_ns,
  syscall_ns (user-space span of the trigger call), rc, errno, plus the
  trace-derived n_items, n_target_cpus, drain_ns, max_queue_to_start_ns and
  target_queue_to_start_ns (the trigger's work item on the target CPU)
- ``victim_gaps``: :func:`pwmodel.ingest.derive.victim_gaps` rows (busy states)
- ``events``: the parsed trace (:mod:`pwmodel.ingest.ftrace` schema)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from pwmodel.collect import cbuild, machine, store
from pwmodel.collect.procs import Helpers, pinned, read_lines
from pwmodel.collect.tracefs import Tracefs
from pwmodel.errors import PwmodelError
from pwmodel.ingest import derive
from pwmodel.ingest.ftrace import parse_ftrace_text

EVENTS = [
    "workqueue", "ipi", "csd",
    "irq_vectors:local_timer_entry", "irq_vectors:local_timer_exit",
    "irq_vectors:call_function_entry", "irq_vectors:call_function_exit",
    "irq_vectors:call_function_single_entry", "irq_vectors:call_function_single_exit",
    "irq_vectors:reschedule_entry", "irq_vectors:reschedule_exit",
    "irq_vectors:irq_work_entry", "irq_vectors:irq_work_exit",
    "sched:sched_switch", "sched:sched_wakeup", "sched:sched_waking",
    "irq:irq_handler_entry", "irq:softirq_entry", "irq:softirq_exit",
    "timer:hrtimer_expire_entry",
]
STATES = {"idle": "idle", "other": "other", "fifo": "fifo"}
TRIGGERS = ("migrate_pages", "compact", "drop_caches", "stat_refresh")
POLICIES = ("other", "batch", "idle")
SLICE_RANGE_NS = (100_000, 100_000_000)  # sched_setattr clamps a fair sched_runtime to 0.1-100 ms


def _check(target_cpu: int, requester_cpu: int) -> None:
    if sys.platform != "linux":
        raise PwmodelError("collectors need Linux")
    if os.geteuid() != 0:
        raise PwmodelError("collectors need root (tracefs, SCHED_FIFO, /proc/sys/vm)")
    cpus = os.sched_getaffinity(0)
    for name, c in (("target_cpu", target_cpu), ("requester_cpu", requester_cpu)):
        if c not in cpus:
            raise PwmodelError(f"CPU {c} is not available to this process ({sorted(cpus)})", field=name)
    if target_cpu == requester_cpu:
        raise PwmodelError("target and requester must be different CPUs", field="target_cpu")


def collect_drain(out_dir: str | Path, *, target_state: str = "idle", trigger: str = "migrate_pages",
                  duration_s: float = 30.0, triggers: int = 200, interval_ms: float = 50.0,
                  target_cpu: int = 1, requester_cpu: int = 0, pages: int = 16, gap_ns: float = 2000.0,
                  fifo_prio: int = 50, policy: str = "other", nice: int = 0, slice_ns: int = 0,
                  busy_tasks: int = 1, sysctls: dict[str, str] | None = None,
                  progress: bool = True, command: list[str] | None = None,
                  keep_events: bool = True, _fail_after_start: bool = False) -> dict:
    """Run one bounded drain experiment and write its dataset folder; returns the metadata.

    ``duration_s`` bounds the trigger loop (the run stops early after ``triggers``);
    the whole collection is killed ``duration_s + 20`` s after start at the latest.
    Busy SCHED_OTHER target (``target_state="other"``) knobs: ``policy`` (other, batch,
    idle: SCHED_OTHER/SCHED_BATCH/SCHED_IDLE), ``nice``, ``slice_ns`` (custom slice,
    sched_setattr sched_runtime; 0 = the kernel's base slice), ``busy_tasks`` (busy
    loops on the target CPU). ``sysctls`` (``{"kernel.name": value}``, only under
    /proc/sys/kernel) are written before the helpers start and restored afterwards,
    also on error or Ctrl-C. ``_fail_after_start`` raises once the helpers run (used
    by the cleanup test).
    """
    if target_state not in STATES:
        raise PwmodelError(f"target_state must be one of {sorted(STATES)}, got {target_state!r}",
                           field="target_state")
    if trigger not in TRIGGERS:
        raise PwmodelError(f"trigger must be one of {TRIGGERS}, got {trigger!r}", field="trigger")
    if policy not in POLICIES:
        raise PwmodelError(f"policy must be one of {POLICIES}, got {policy!r}", field="policy")
    if not -20 <= int(nice) <= 19:
        raise PwmodelError(f"nice must be in -20..19, got {nice}", field="nice")
    if slice_ns and not SLICE_RANGE_NS[0] <= int(slice_ns) <= SLICE_RANGE_NS[1]:
        raise PwmodelError(f"slice_ns must be 0 or in {SLICE_RANGE_NS[0]}..{SLICE_RANGE_NS[1]}, got {slice_ns}",
                           field="slice_ns")
    if not 1 <= int(busy_tasks) <= 16:
        raise PwmodelError(f"busy_tasks must be in 1..16, got {busy_tasks}", field="busy_tasks")
    if target_state != "other" and (policy != "other" or nice or slice_ns or busy_tasks != 1):
        raise PwmodelError("policy/nice/slice_ns/busy_tasks apply to target_state 'other' only", field="target_state")
    sysctl_paths = {k: sysctl_path(k) for k in (sysctls or {})}
    _check(target_cpu, requester_cpu)
    binary = cbuild.build("pw_lru")
    load_before = machine.loadavg()
    stat_before = machine.cpu_times()
    with tempfile.TemporaryDirectory(prefix="pwmodel-lru-") as tmp:
        req_csv, gap_csv = Path(tmp) / "requests.csv", Path(tmp) / "gaps.csv"
        with Sysctls({sysctl_paths[k]: str(v) for k, v in (sysctls or {}).items()}) as sc, \
                Tracefs(EVENTS, clock="x86-tsc") as tf, Helpers() as helpers, pinned(requester_cpu):
            argv = [str(binary), "--mode", target_state, "--trigger", trigger, "--marker", str(tf.marker),
                    "--out-requests", str(req_csv), "--out-gaps", str(gap_csv),
                    "--target-cpu", str(target_cpu), "--requester-cpu", str(requester_cpu),
                    "--fifo-prio", str(fifo_prio), "--pages", str(pages), "--triggers", str(triggers),
                    "--duration-s", str(duration_s), "--interval-ms", str(interval_ms),
                    "--gap-ns", str(gap_ns), "--policy", policy, "--nice", str(int(nice)),
                    "--slice-ns", str(int(slice_ns)), "--busy-tasks", str(int(busy_tasks))]
            proc = helpers.start(argv)
            autogroup = machine.autogroup_of(proc.pid)
            if _fail_after_start:
                time.sleep(0.5)
                raise PwmodelError("forced failure after start (cleanup test)")
            tsc_hz = None
            bar = _bar(triggers, f"{trigger} target={target_state}", progress)
            try:
                for line in read_lines(proc, time.monotonic() + duration_s + 20):
                    if line.startswith("tsc_hz "):
                        tsc_hz = float(line.split()[1])
                    elif line.startswith("progress ") and bar is not None:
                        bar.update(int(line.split()[1]) - bar.n)
            finally:
                if bar is not None:
                    bar.close()
            rc = proc.wait(timeout=30)
            err = proc.stderr.read() if proc.stderr else ""
            if rc != 0 or tsc_hz is None:
                raise PwmodelError(f"pw_lru failed (exit {rc}): {err.strip()[:400]}")
            text = tf.read()
            ring = tf.overruns()
            enabled, missing = list(tf.enabled), list(tf.missing)
            sysctl_values = dict(sc.applied)
        stat_after = machine.cpu_times()
        requests = pl.read_csv(req_csv)
        gaps = pl.read_csv(gap_csv, schema={"start_tsc": pl.Int64, "end_tsc": pl.Int64}) \
            if gap_csv.exists() else pl.DataFrame(schema={"start_tsc": pl.Int64, "end_tsc": pl.Int64})
    tables = derive_tables(text, requests, gaps, tsc_hz=tsc_hz, target_cpu=target_cpu,
                           target_state=target_state, keep_events=keep_events)
    meta = machine.metadata(command, collector="pwmodel.collect.lru.collect_drain", settings={
        "target_state": target_state, "trigger": trigger, "duration_s": duration_s, "triggers": triggers,
        "interval_ms": interval_ms, "target_cpu": target_cpu, "requester_cpu": requester_cpu,
        "pages": pages, "gap_threshold_ns": gap_ns, "fifo_prio": fifo_prio if target_state == "fifo" else None,
        "policy": policy if target_state == "other" else None, "nice": int(nice), "slice_ns": int(slice_ns),
        "busy_tasks": int(busy_tasks) if target_state == "other" else 0, "sysctls": sysctl_values,
    }, tsc_hz=tsc_hz, config_hz=machine.config_hz(), sched_sysctls=machine.sched_sysctls(),
        cpu_time_share=machine.cpu_time_share(stat_before, stat_after), helper_autogroup=autogroup, trace_clock="x86-tsc", loadavg_before=load_before, loadavg_after=machine.loadavg(),
        target_cpu_other_tasks=other_tasks(tables["events"] if "events" in tables else None, target_cpu), events_enabled=enabled, events_missing=missing,
        ring_buffer=ring, helper_stderr=err.strip()[-2000:])
    store.write_dataset(out_dir, tables, meta)
    return meta


def sysctl_path(name: str) -> Path:
    """/proc/sys path of a ``kernel.*`` sysctl; PwmodelError for anything else or a missing one."""
    if not name.startswith("kernel.") or "/" in name or ".." in name:
        raise PwmodelError(f"only kernel.* sysctls may be set by a collector, got {name!r}", field="sysctls")
    path = Path("/proc/sys") / name.replace(".", "/")
    if not path.exists():
        raise PwmodelError(f"no such sysctl on this kernel: {name}", file=str(path))
    return path


class Sysctls:
    """Context manager: write sysctl files, restore every old value on exit (error, Ctrl-C too)."""

    def __init__(self, values: dict[Path, str]) -> None:
        self.values = values
        self.old: dict[Path, str] = {}
        self.applied: dict[str, str] = {}

    def __enter__(self) -> "Sysctls":
        try:
            for path, value in self.values.items():
                old = path.read_text().strip()
                self.old[path] = old
                try:
                    path.write_text(value)
                except OSError as exc:
                    raise PwmodelError(f"cannot write {value!r}: {exc.strerror}", file=str(path)) from None
                self.applied[".".join(path.parts[3:])] = path.read_text().strip()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for path, old in reversed(list(self.old.items())):
            try:
                path.write_text(old)
            except OSError:
                pass
        self.old = {}


def other_tasks(events: pl.DataFrame | None, cpu: int) -> dict | None:
    """Share of the traced span the target CPU ran tasks other than idle, pw_lru and kworkers."""
    if events is None or events.height == 0:
        return None
    sw = events.filter((pl.col("event") == "sched_switch") & (pl.col("cpu") == cpu)).sort("ts_ns")
    if sw.height < 2:
        return None
    nxt = pl.coalesce(pl.col("details").str.extract(r"next_comm=(.*?) next_pid=", 1),
                      pl.col("details").str.extract(r"==> (.*):\d+ \[", 1))
    sw = sw.with_columns(nxt.alias("next"), (pl.col("ts_ns").shift(-1) - pl.col("ts_ns")).alias("dur"))
    span = int(sw["ts_ns"][-1] - sw["ts_ns"][0])
    other = sw.filter(~pl.col("next").str.contains(r"^(swapper|pw_lru|kworker/|<idle>)"))
    top = other.group_by("next").agg(pl.col("dur").sum()).sort("dur", descending=True).head(5)
    return {"span_ns": span, "other_pct": round(100 * float(other["dur"].sum() or 0) / span, 3) if span else None,
            "top": {r["next"]: int(r["dur"] or 0) for r in top.iter_rows(named=True)}}


def _bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="trigger", file=sys.stderr, leave=True)


def derive_tables(trace_text: str, requests: pl.DataFrame, gaps: pl.DataFrame, *, tsc_hz: float,
                  target_cpu: int, target_state: str, keep_events: bool = True) -> dict[str, pl.DataFrame]:
    """Turn one run's raw outputs (trace text, requests CSV, gaps CSV in TSC ticks) into tables."""
    ns_per_tick = 1e9 / tsc_hz
    events = parse_ftrace_text(trace_text, file="<trace>", tsc_hz=tsc_hz)
    lc = derive.work_lifecycle(events)
    win = derive.requester_windows(events, lc)
    tgt = (lc.filter((pl.col("target_cpu") == target_cpu) & pl.col("window").is_not_null()
                     & pl.col("queue_ts_ns").is_not_null())
           .group_by("window").agg(pl.col("queue_to_start_ns").max().alias("target_queue_to_start_ns")))

    def ns(col):
        return (pl.col(col).cast(pl.Float64) * ns_per_tick).round(0).cast(pl.Int64)

    req = requests.select(
        pl.col("trigger").cast(pl.Int32), pl.col("trigger").cast(pl.Utf8).alias("window"),
        pl.col("dirty_ok").cast(pl.Boolean),
        ns("begin_tsc").alias("syscall_begin_ts_ns"),
        (ns("end_tsc") - ns("begin_tsc")).alias("syscall_ns"),
        (ns("dirty_end_tsc") - ns("dirty_start_tsc")).alias("dirty_ns"),
        pl.col("rc").cast(pl.Int32), pl.col("errno").cast(pl.Int32),
    )
    req = req.join(win.select("window", "n_items", "n_target_cpus", "drain_ns", "max_queue_to_start_ns"),
                   on="window", how="left").join(tgt, on="window", how="left")
    g = gaps.select(pl.lit(target_cpu, dtype=pl.Int32).alias("cpu"), ns("start_tsc").alias("gap_start_ts_ns"),
                    ns("end_tsc").alias("gap_end_ts_ns"))
    vg = derive.victim_gaps(g, events)
    state = pl.lit(target_state).alias("target_state")
    tables = {"lifecycle": lc.with_columns(state), "requester": req.with_columns(state),
              "victim_gaps": vg.with_columns(state)}
    if keep_events:
        tables["events"] = events
    return tables

