"""Derived tables from parsed ftrace events (see :mod:`pwmodel.ingest.ftrace`).

All times are ns on the trace clock; durations are ns.  Tables:

:func:`work_lifecycle` -- one row per workqueue work item:
    work (Utf8, work_struct pointer as printed), function, workqueue (Utf8),
    queue_cpu (Int32, CPU that queued it), target_cpu (Int32, CPU it was queued
    for / ran on), req_cpu (Int32, as requested; 256 = WORK_CPU_UNBOUND),
    exec_pid (Int32, kworker), window (Utf8, trigger label or null),
    queue_ts_ns, activate_ts_ns, start_ts_ns, end_ts_ns (Int64, null if not seen),
    ipi_send_ts_ns (IPI sent to target_cpu after the queue, before the start),
    ipi_entry_ts_ns (first IPI/reschedule vector entry on target_cpu in that span),
    wakeup_ts_ns (sched_wakeup of the kworker), switch_in_ts_ns (sched_switch to it),
    queue_to_start_ns, exec_ns, queue_to_end_ns (Int64)
:func:`requester_windows` -- one row per trigger window (``... begin X`` /
    ``... end X`` markers): window, begin_ts_ns, end_ts_ns, duration_ns, n_items,
    n_target_cpus, first_queue_ts_ns, last_end_ts_ns, drain_ns (first queue to
    last end), max_queue_to_start_ns
:func:`victim_gaps` -- gaps of a busy loop joined to the kernel events on the
    same CPU inside each gap: cpu, gap_start_ts_ns, gap_end_ts_ns, gap_ns,
    cause (``work`` > ``ipi`` > ``timer`` > ``irq`` > ``sched`` > ``none``),
    n_events, events (comma list), work_function (null unless a work item ran)
"""

from __future__ import annotations

import polars as pl

from pwmodel.errors import PwmodelError

WQ = ("workqueue_queue_work", "workqueue_activate_work", "workqueue_execute_start",
      "workqueue_execute_end")
IPI_VECTORS = ("call_function_entry", "call_function_single_entry", "reschedule_entry",
               "csd_function_entry")
TIMER_EVENTS = ("local_timer_entry", "hrtimer_expire_entry", "timer_expire_entry")
IRQ_EVENTS = ("irq_handler_entry", "softirq_entry", "irq_work_entry", "x86_platform_ipi_entry")

LIFECYCLE_SCHEMA = {
    "work": pl.Utf8, "function": pl.Utf8, "workqueue": pl.Utf8, "queue_cpu": pl.Int32,
    "target_cpu": pl.Int32, "req_cpu": pl.Int32, "exec_pid": pl.Int32, "window": pl.Utf8,
    "queue_ts_ns": pl.Int64, "activate_ts_ns": pl.Int64, "start_ts_ns": pl.Int64,
    "end_ts_ns": pl.Int64, "ipi_send_ts_ns": pl.Int64, "ipi_entry_ts_ns": pl.Int64,
    "wakeup_ts_ns": pl.Int64, "switch_in_ts_ns": pl.Int64, "queue_to_start_ns": pl.Int64,
    "exec_ns": pl.Int64, "queue_to_end_ns": pl.Int64,
}


def _need_ns(events: pl.DataFrame) -> pl.DataFrame:
    if events.height and events["ts_ns"].null_count() == events.height:
        raise PwmodelError("timestamps are counter ticks (x86-tsc?): parse with tsc_hz to get ns",
                           field="ts_ns")
    return events.filter(pl.col("ts_ns").is_not_null())


def markers(events: pl.DataFrame) -> pl.DataFrame:
    """Trigger windows from ``<prefix> begin <label>`` / ``<prefix> end <label>`` markers."""
    m = events.filter(pl.col("event") == "tracing_mark_write").select(
        "ts_ns", pl.col("details").str.extract(r"(?:^|\s)(begin|end)\s+(\S+)\s*$", 1).alias("kind"),
        pl.col("details").str.extract(r"(?:^|\s)(begin|end)\s+(\S+)\s*$", 2).alias("window"),
    ).drop_nulls()
    b = m.filter(pl.col("kind") == "begin").group_by("window").agg(pl.col("ts_ns").min().alias("begin_ts_ns"))
    e = m.filter(pl.col("kind") == "end").group_by("window").agg(pl.col("ts_ns").max().alias("end_ts_ns"))
    return b.join(e, on="window", how="left").sort("begin_ts_ns")


def _wq_events(ev: pl.DataFrame) -> pl.DataFrame:
    w = ev.filter(pl.col("event").is_in(WQ)).sort(["ts_ns", "line"])
    d = pl.col("details")
    return w.select(
        "ts_ns", "cpu", "pid", "event",
        d.str.extract(r"work struct[= ]?([0-9a-fA-Fx]+)", 1).alias("work"),
        d.str.extract(r"function[= ]?([^\s]+)", 1).alias("function"),
        d.str.extract(r"workqueue=(\S+)", 1).alias("workqueue"),
        d.str.extract(r"req_cpu=(\d+)", 1).cast(pl.Int32, strict=False).alias("req_cpu"),
        d.str.extract(r"\bcpu=(\d+)", 1).cast(pl.Int32, strict=False).alias("qcpu"),
    ).drop_nulls("work")


def work_lifecycle(events: pl.DataFrame) -> pl.DataFrame:
    """Per work item: queue -> activate -> execute start -> execute end, with IPI/wake-up times."""
    ev = _need_ns(events)
    w = _wq_events(ev)
    if w.height == 0:
        return pl.DataFrame(schema=LIFECYCLE_SCHEMA)
    is_q = (pl.col("event") == "workqueue_queue_work").cast(pl.Int64)
    is_s = pl.col("event") == "workqueue_execute_start"
    w = w.with_columns(is_q.cum_sum().over("work").alias("qseq"))
    # an end belongs to the latest start of that work (it may be re-queued while running)
    w = w.with_columns(pl.when(is_s).then(pl.col("qseq")).otherwise(None).alias("sseq"))
    w = w.with_columns(pl.col("sseq").forward_fill().over("work").alias("sseq_ff"))
    w = w.with_columns(
        pl.when(pl.col("event") == "workqueue_execute_end").then(pl.col("sseq_ff"))
        .otherwise(pl.col("qseq")).alias("seq"))
    w = w.filter(pl.col("seq").is_not_null())

    def at(name):
        return pl.col("ts_ns").filter(pl.col("event") == name).first()

    items = w.group_by(["work", "seq"]).agg(
        at("workqueue_queue_work").alias("queue_ts_ns"),
        at("workqueue_activate_work").alias("activate_ts_ns"),
        at("workqueue_execute_start").alias("start_ts_ns"),
        at("workqueue_execute_end").alias("end_ts_ns"),
        pl.col("function").filter(pl.col("event") == "workqueue_queue_work").first().alias("qfunc"),
        pl.col("function").filter(is_s).first().alias("sfunc"),
        pl.col("workqueue").drop_nulls().first().alias("workqueue"),
        pl.col("req_cpu").drop_nulls().first().alias("req_cpu"),
        pl.col("qcpu").drop_nulls().first().alias("qcpu"),
        pl.col("cpu").filter(pl.col("event") == "workqueue_queue_work").first().alias("queue_cpu"),
        pl.col("cpu").filter(is_s).first().alias("exec_cpu"),
        pl.col("pid").filter(is_s).first().alias("exec_pid"),
    ).with_columns(
        pl.coalesce("qfunc", "sfunc").alias("function"),
        pl.coalesce("exec_cpu", "qcpu").alias("target_cpu"),
    )
    items = items.with_columns(
        (pl.col("start_ts_ns") - pl.col("queue_ts_ns")).alias("queue_to_start_ns"),
        (pl.col("end_ts_ns") - pl.col("start_ts_ns")).alias("exec_ns"),
        (pl.col("end_ts_ns") - pl.col("queue_ts_ns")).alias("queue_to_end_ns"),
        pl.coalesce("queue_ts_ns", "start_ts_ns").alias("_key_ts"),
    ).sort("_key_ts")
    items = _assign_windows(items, markers(ev))
    items = _wakeup_breakdown(items, ev)
    return items.select([pl.col(k).cast(v) for k, v in LIFECYCLE_SCHEMA.items()])


def _assign_windows(items: pl.DataFrame, win: pl.DataFrame) -> pl.DataFrame:
    if win.height == 0:
        return items.with_columns(pl.lit(None, dtype=pl.Utf8).alias("window"))
    win = win.sort("begin_ts_ns")
    j = items.sort("_key_ts").join_asof(win, left_on="_key_ts", right_on="begin_ts_ns", strategy="backward")
    inside = pl.col("end_ts_ns_right").is_null() | (pl.col("_key_ts") <= pl.col("end_ts_ns_right"))
    j = j.rename({"end_ts_ns": "end_ts_ns", "end_ts_ns_right": "end_ts_ns_right"}) \
        if "end_ts_ns_right" in j.columns else j
    return j.with_columns(pl.when(inside).then(pl.col("window")).otherwise(None).alias("window")) \
        .drop("begin_ts_ns", "end_ts_ns_right")


def _first_after(items: pl.DataFrame, side: pl.DataFrame, by_left: str, by_right: str, name: str) -> pl.DataFrame:
    """Earliest ``side`` event (ts_ns, keyed by CPU or pid) at or after the queue and before the start."""
    q = items.filter(pl.col("queue_ts_ns").is_not_null() & pl.col(by_left).is_not_null())
    if side.height == 0 or q.height == 0:
        return items.with_columns(pl.lit(None, dtype=pl.Int64).alias(name))
    side = side.select(pl.col(by_right).cast(pl.Int32).alias(by_left), pl.col("ts_ns").alias(name)).sort(name)
    q = q.select("work", "seq", pl.col(by_left).cast(pl.Int32), "queue_ts_ns", "start_ts_ns").sort("queue_ts_ns")
    j = q.join_asof(side, left_on="queue_ts_ns", right_on=name, by=by_left, strategy="forward",
                    check_sortedness=False)
    ok = pl.col("start_ts_ns").is_null() | (pl.col(name) <= pl.col("start_ts_ns"))
    j = j.select("work", "seq", pl.when(ok).then(pl.col(name)).otherwise(None).alias(name))
    return items.join(j, on=["work", "seq"], how="left")


def _wakeup_breakdown(items: pl.DataFrame, ev: pl.DataFrame) -> pl.DataFrame:
    d = pl.col("details")
    ipi_send = ev.filter(pl.col("event") == "ipi_send_cpu").select(
        "ts_ns", d.str.extract(r"\bcpu=(\d+)", 1).cast(pl.Int32, strict=False).alias("tcpu")).drop_nulls()
    masks = ev.filter(pl.col("event") == "ipi_send_cpumask").select(
        "ts_ns", d.str.extract(r"cpumask=(\S+)", 1).alias("mask"))
    if masks.height:
        expanded = masks.with_columns(
            pl.col("mask").map_elements(_cpulist, return_dtype=pl.List(pl.Int32)).alias("tcpu")
        ).explode("tcpu").select("ts_ns", "tcpu").drop_nulls()
        ipi_send = pl.concat([ipi_send, expanded])
    entry = ev.filter(pl.col("event").is_in(IPI_VECTORS)).select("ts_ns", pl.col("cpu").alias("tcpu"))
    wake = ev.filter(pl.col("event").is_in(["sched_wakeup", "sched_waking"])).select(
        "ts_ns", pl.coalesce(d.str.extract(r"\bpid=(\d+)", 1), d.str.extract(r":(\d+) \[\d+\]", 1))
        .cast(pl.Int32, strict=False).alias("wpid")).drop_nulls()
    switch = ev.filter(pl.col("event") == "sched_switch").select(
        "ts_ns", pl.coalesce(d.str.extract(r"next_pid=(\d+)", 1), d.str.extract(r"==> .*:(\d+) \[\d+\]", 1))
        .cast(pl.Int32, strict=False).alias("wpid")).drop_nulls()
    items = items.with_columns(pl.col("target_cpu").cast(pl.Int32), pl.col("exec_pid").cast(pl.Int32))
    items = _first_after(items, ipi_send, "target_cpu", "tcpu", "ipi_send_ts_ns")
    items = _first_after(items, entry, "target_cpu", "tcpu", "ipi_entry_ts_ns")
    items = _first_after(items, wake, "exec_pid", "wpid", "wakeup_ts_ns")
    items = _first_after(items, switch, "exec_pid", "wpid", "switch_in_ts_ns")
    return items


def _cpulist(mask: str | None) -> list[int]:
    """CPUs of a cpumask printed as a list (``0-1,3``) or as hex."""
    out: list[int] = []
    if not mask:
        return out
    try:
        if all(c in "0123456789-," for c in mask):
            for part in mask.split(","):
                if "-" in part:
                    a, b = part.split("-", 1)
                    out.extend(range(int(a), min(int(b), 4095) + 1))
                elif part:
                    out.append(int(part))
        else:
            v = int(mask.replace(",", ""), 16)
            out = [i for i in range(min(v.bit_length(), 4096)) if v >> i & 1]
    except ValueError:
        return []
    return out


def requester_windows(events: pl.DataFrame, lifecycle: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per trigger window: marker-to-marker duration and the span of its work items (ns)."""
    ev = _need_ns(events)
    win = markers(ev)
    lc = work_lifecycle(events) if lifecycle is None else lifecycle
    agg = lc.filter(pl.col("window").is_not_null()).group_by("window").agg(
        pl.len().cast(pl.Int64).alias("n_items"),
        pl.col("target_cpu").n_unique().cast(pl.Int64).alias("n_target_cpus"),
        pl.col("queue_ts_ns").min().alias("first_queue_ts_ns"),
        pl.col("end_ts_ns").max().alias("last_end_ts_ns"),
        pl.col("queue_to_start_ns").max().alias("max_queue_to_start_ns"),
    )
    out = win.join(agg, on="window", how="left").with_columns(
        (pl.col("end_ts_ns") - pl.col("begin_ts_ns")).alias("duration_ns"),
        (pl.col("last_end_ts_ns") - pl.col("first_queue_ts_ns")).alias("drain_ns"),
        pl.col("n_items").fill_null(0), pl.col("n_target_cpus").fill_null(0),
    )
    return out.select("window", "begin_ts_ns", "end_ts_ns", "duration_ns", "n_items", "n_target_cpus",
                      "first_queue_ts_ns", "last_end_ts_ns", "drain_ns", "max_queue_to_start_ns")


CAUSE_ORDER = ("work", "ipi", "timer", "irq", "sched", "none")


def victim_gaps(gaps: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Join each gap (cpu, gap_start_ts_ns, gap_end_ts_ns) to the kernel events inside it."""
    for c in ("cpu", "gap_start_ts_ns", "gap_end_ts_ns"):
        if c not in gaps.columns:
            raise PwmodelError(f"gap table needs column {c}", field=c)
    ev = _need_ns(events)
    g = gaps.select(pl.col("cpu").cast(pl.Int32), pl.col("gap_start_ts_ns").cast(pl.Int64),
                    pl.col("gap_end_ts_ns").cast(pl.Int64)).sort("gap_start_ts_ns")
    kind = (pl.when(pl.col("event") == "workqueue_execute_start").then(pl.lit("work"))
            .when(pl.col("event").is_in(IPI_VECTORS)).then(pl.lit("ipi"))
            .when(pl.col("event").is_in(TIMER_EVENTS)).then(pl.lit("timer"))
            .when(pl.col("event").is_in(IRQ_EVENTS)).then(pl.lit("irq"))
            .when(pl.col("event") == "sched_switch").then(pl.lit("sched"))
            .otherwise(None))
    e = ev.select(pl.col("cpu").cast(pl.Int32), "ts_ns", "event", kind.alias("kind"),
                  pl.when(pl.col("event") == "workqueue_execute_start")
                  .then(pl.col("details").str.extract(r"function[= ]?(\S+)", 1)).alias("wfunc"),
                  ).drop_nulls("kind").sort("ts_ns")
    j = e.join_asof(g, left_on="ts_ns", right_on="gap_start_ts_ns", by="cpu", strategy="backward",
                    check_sortedness=False)
    j = j.filter(pl.col("gap_start_ts_ns").is_not_null() & (pl.col("ts_ns") <= pl.col("gap_end_ts_ns")))
    rank = pl.col("kind").replace_strict({k: i for i, k in enumerate(CAUSE_ORDER)}, return_dtype=pl.Int32)
    per = j.with_columns(rank.alias("rank")).group_by(["cpu", "gap_start_ts_ns"]).agg(
        pl.col("rank").min().alias("rank"), pl.len().cast(pl.Int64).alias("n_events"),
        pl.col("event").unique(maintain_order=True).str.join(",").alias("events"),
        pl.col("wfunc").drop_nulls().first().alias("work_function"),
    )
    out = g.join(per, on=["cpu", "gap_start_ts_ns"], how="left").with_columns(
        (pl.col("gap_end_ts_ns") - pl.col("gap_start_ts_ns")).alias("gap_ns"),
        pl.col("rank").fill_null(len(CAUSE_ORDER) - 1)
        .replace_strict({i: k for i, k in enumerate(CAUSE_ORDER)}, return_dtype=pl.Utf8).alias("cause"),
        pl.col("n_events").fill_null(0),
        pl.col("events").fill_null(""),
    )
    return out.select("cpu", "gap_start_ts_ns", "gap_end_ts_ns", "gap_ns", "cause", "n_events", "events",
                      "work_function")


def latency_summary(lifecycle: pl.DataFrame, by: list[str], col: str = "queue_to_start_ns") -> pl.DataFrame:
    """count, p50, p99, max of ``col`` (ns) per group."""
    return lifecycle.filter(pl.col(col).is_not_null()).group_by(by).agg(
        pl.len().alias("n"),
        pl.col(col).quantile(0.5, "nearest").alias(col.replace("_ns", "_p50_ns")),
        pl.col(col).quantile(0.99, "nearest").alias(col.replace("_ns", "_p99_ns")),
        pl.col(col).max().alias(col.replace("_ns", "_max_ns")),
    ).sort(by)
