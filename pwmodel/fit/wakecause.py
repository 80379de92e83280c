"""Why a queued work item waited: the cause of each queue->start wait on the target CPU.

Reads one ``pwmodel collect drain``/``stat-refresh`` folder (its ``lifecycle`` and
``events`` tables) and labels every trigger's work item on the target CPU:

* ``fast``: started within ``fast_ns`` of the queue (the wake-up preempted the
  running task, or the CPU was idle);
* ``other_task``: a task other than the busy target, the kworker and the idle
  task ran on the target CPU between the queue and the kworker's switch-in
  (another runnable task took the CPU first);
* ``tick``: otherwise, when the kworker was switched in within ``tick_window_ns``
  after a local timer interrupt on the target (the wake-up did not preempt; the
  tick's ``update_curr()`` ended the current task's turn: EEVDF's rules, see
  :mod:`pwmodel.models.wakeup`);
* ``host``: none of these (no event on the target CPU explains the wait: the vCPU
  was not running, i.e. descheduled by the host).

Besides the labels, :func:`summary` measures what the wake-up model takes as
inputs and was not fitted to the latencies: the phase of each queue relative to
the target's last tick, the kworker's run time per wake (the lag it uses), the
share of the target's time in the trigger windows taken by other tasks, and the
host's steal share (``metadata.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pwmodel.errors import PwmodelError

DRAIN_FUNCTIONS = ("lru_add_drain_per_cpu", "refresh_vm_stats")
OURS = r"^(swapper|pw_lru|kworker/|<idle>)"
CAUSES = ("fast", "tick", "other_task", "host")


def _switches(events: pl.DataFrame, cpu: int) -> pl.DataFrame:
    return (events.filter((pl.col("cpu") == cpu) & (pl.col("event") == "sched_switch")).sort("ts_ns")
            .with_columns(pl.col("details").str.extract(r"next_comm=(.*?) next_pid=", 1).alias("next"),
                          pl.col("details").str.extract(r"next_pid=(\d+)", 1).cast(pl.Int64).alias("next_pid"),
                          pl.col("details").str.extract(r"prev_pid=(\d+)", 1).cast(pl.Int64).alias("prev_pid")))


def target_items(lifecycle: pl.DataFrame, target_cpu: int) -> pl.DataFrame:
    """The trigger's work items on the target CPU (inside trigger windows), by queue time."""
    return (lifecycle.filter((pl.col("target_cpu") == target_cpu) & pl.col("window").is_not_null()
                             & pl.col("function").is_in(DRAIN_FUNCTIONS))
            .drop_nulls(["queue_ts_ns", "queue_to_start_ns"]).sort("queue_ts_ns"))


def classify(lifecycle: pl.DataFrame, events: pl.DataFrame, target_cpu: int, *,
             fast_ns: float = 200e3, tick_window_ns: float = 100e3) -> pl.DataFrame:
    """One row per target item: wait_ns, phase_ns (queue time since the target's last
    local timer interrupt), cause (see the module docstring), other_ns (time other tasks
    ran on the target during the wait)."""
    items = target_items(lifecycle, target_cpu)
    ev = events.filter(pl.col("cpu") == target_cpu)
    ticks = np.sort(ev.filter(pl.col("event") == "local_timer_entry")["ts_ns"].to_numpy())
    sw = _switches(events, target_cpu)
    t = sw["ts_ns"].to_numpy()
    names = sw["next"].fill_null("").to_list()
    theirs = np.array([not _ours(n) for n in names], dtype=bool)
    rows = []
    for r in items.iter_rows(named=True):
        q = r["queue_ts_ns"]
        s = r["switch_in_ts_ns"] or r["start_ts_ns"] or q + r["queue_to_start_ns"]
        w = float(r["queue_to_start_ns"])
        i = np.searchsorted(ticks, q)
        phase = float(q - ticks[i - 1]) if i > 0 else None
        j0, j1 = np.searchsorted(t, q), np.searchsorted(t, s)
        # time other tasks held the CPU in [q, s): the task running at q counts too
        other = 0.0
        k = j0 - 1
        while k < j1:
            a = q if k < j0 else t[k]
            b = t[k + 1] if k + 1 < len(t) and t[k + 1] < s else s
            if k >= 0 and theirs[k]:
                other += max(0.0, float(b - a))
            k += 1
        if w <= fast_ns:
            cause = "fast"
        elif other > 0.5 * fast_ns:
            cause = "other_task"
        else:
            it = np.searchsorted(ticks, s) - 1
            cause = "tick" if it >= 0 and s - ticks[it] <= tick_window_ns and ticks[it] > q else "host"
        rows.append({"window": r["window"], "queue_ts_ns": q, "wait_ns": w, "phase_ns": phase,
                     "cause": cause, "other_ns": other, "exec_pid": r["exec_pid"]})
    schema = {"window": pl.Utf8, "queue_ts_ns": pl.Int64, "wait_ns": pl.Float64, "phase_ns": pl.Float64,
              "cause": pl.Utf8, "other_ns": pl.Float64, "exec_pid": pl.Int32}
    return pl.DataFrame(rows, schema=schema)


def _ours(name: str) -> bool:
    import re
    return bool(re.match(OURS, name))


def kworker_runs(events: pl.DataFrame, cpu: int, pids: list[int]) -> np.ndarray:
    """Run times (ns) of the given kworkers on ``cpu``: switch-in to the next switch-out."""
    sw = _switches(events, cpu)
    t = sw["ts_ns"].to_numpy()
    nxt, prv = sw["next_pid"].to_numpy(), sw["prev_pid"].to_numpy()
    out = []
    for pid in pids:
        ins, outs = t[nxt == pid], t[prv == pid]
        for a in ins:
            j = np.searchsorted(outs, a)
            if j < len(outs):
                out.append(float(outs[j] - a))
    return np.asarray(out, dtype=float)


def window_other_share(events: pl.DataFrame, lifecycle: pl.DataFrame, cpu: int) -> float:
    """Share of the target CPU's time inside the trigger windows' span (first to last
    queue) taken by tasks other than the busy target, kworkers and the idle task."""
    items = target_items(lifecycle, cpu)
    if items.height < 2:
        return 0.0
    lo, hi = int(items["queue_ts_ns"].min()), int(items["queue_ts_ns"].max())
    sw = _switches(events, cpu).filter((pl.col("ts_ns") >= lo) & (pl.col("ts_ns") <= hi))
    if sw.height < 2:
        return 0.0
    t = sw["ts_ns"].to_numpy()
    dur = np.diff(np.append(t, hi))
    theirs = np.array([not _ours(n or "") for n in sw["next"].to_list()], dtype=bool)
    return float(dur[theirs].sum() / max(1, hi - lo))


@dataclass(frozen=True)
class CaptureSummary:
    """What one capture says about the wake-up of its target (all times ns)."""

    path: str
    target_state: str
    settings: dict
    n: int
    wait_ns: np.ndarray
    causes: dict[str, int]
    phase_ns: np.ndarray
    kworker_run_ns: np.ndarray
    other_share_fraction: float
    steal_fraction: float
    loadavg_before: str | None
    config_hz: int | None
    autogroup: bool
    classified: pl.DataFrame

    def quantile_ns(self, q: float) -> float:
        return float(np.quantile(self.wait_ns, q))

    @property
    def mean_ns(self) -> float:
        return float(self.wait_ns.mean())

    def share(self, cause: str) -> float:
        return self.causes.get(cause, 0) / max(1, self.n)


def summary(folder: str | Path, *, target_cpu: int | None = None) -> CaptureSummary:
    """Read a collect folder and summarise its target's wake-ups (see the module docstring)."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "metadata.json").read_text())
        lc = pl.read_parquet(folder / "lifecycle.parquet")
        ev = pl.read_parquet(folder / "events.parquet")
    except (OSError, ValueError) as exc:
        raise PwmodelError(f"not a pwmodel collect folder with events: {exc}", file=str(folder)) from None
    st = meta.get("settings", {})
    cpu = int(target_cpu if target_cpu is not None else st.get("target_cpu", 1))
    cl = classify(lc, ev, cpu)
    if cl.height == 0:
        raise PwmodelError("no work item on the target CPU inside a trigger window", file=str(folder))
    pids = [int(p) for p in cl["exec_pid"].drop_nulls().unique().to_list()]
    steal = (meta.get("cpu_time_share") or {}).get(f"cpu{cpu}", {}).get("steal_pct")
    sysctls = st.get("sysctls") or {}
    ag = sysctls.get("kernel.sched_autogroup_enabled",
                     (meta.get("sched_sysctls") or {}).get("sched_autogroup_enabled", "1"))
    return CaptureSummary(
        path=str(folder), target_state=str(st.get("target_state")), settings=st, n=cl.height,
        wait_ns=cl["wait_ns"].to_numpy(), causes=dict(cl.group_by("cause").len().iter_rows()),
        phase_ns=cl["phase_ns"].drop_nulls().to_numpy(), kworker_run_ns=kworker_runs(ev, cpu, pids),
        other_share_fraction=window_other_share(ev, lc, cpu), steal_fraction=(steal or 0.0) / 100.0,
        loadavg_before=meta.get("loadavg_before"), config_hz=meta.get("config_hz"),
        autogroup=str(ag).strip() == "1", classified=cl)
