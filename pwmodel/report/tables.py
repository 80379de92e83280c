"""``table.txt``: both strategies for N = 1, 2, 4 ... 1024 on each machine, with the inputs.

One block per machine and isolation level of the target CPU: requester
latency (mean and p99 of one lru_add_drain_all()), the interruption of one
drain for the target's task (QW: mean; RL: worst case), and the winner of
the requester mean. Then every input the block used, with its value, unit
and source. ASCII, at most 72 columns.
"""

from __future__ import annotations

import polars as pl

from pwmodel import params as P
from pwmodel.models import wakeup as W
from pwmodel.report import results as R
from pwmodel.report.text import Recorder, heading, quote, table, wrap
from pwmodel.simulate import domain as DOM

US = 1e3


def _fmt_param(rec: Recorder, cfg: R.Config, mname: str, name: str) -> str:
    v = R.param_value(mname, cfg.callsite, cfg.overrides, name)
    unit = P.PARAMS[name].unit
    if unit == "Hz" and v >= 1e4:
        return rec.put(v, R.param_value, (mname, cfg.callsite, cfg.overrides, name), 1e6, 3) + " MHz"
    dec = 0 if abs(v) >= 100 or v == int(v) else (2 if abs(v) >= 1 else 4)
    shown = "" if unit == "1" else f" {unit}"
    return rec.put(v, R.param_value, (mname, cfg.callsite, cfg.overrides, name), 1.0, dec) + shown


def inputs_block(rec: Recorder, cfg: R.Config, mname: str, names: list[str] | None = None) -> list[str]:
    """Every registry parameter (or ``names``) for a machine and call site: value, unit, source."""
    out = []
    for name in names or list(P.PARAMS):
        out.append(f"  {name} = {_fmt_param(rec, cfg, mname, name)}")
        out += quote(R.param_source(mname, cfg.callsite, cfg.overrides, name))
    return out


def _cells(df: pl.DataFrame, shown: tuple[tuple[str, str], ...]
           ) -> dict[tuple[str, str, float], float]:
    """{(strategy, column, N): value} of an evaluate() frame, the frame split by strategy
    once (the first row of each (strategy, N), as a filter on both would give)."""
    out: dict[tuple[str, str, float], float] = {}
    for (strat,), d in df.partition_by("strategy", as_dict=True).items():
        ns = d["n_cpus"].cast(pl.Float64).to_list()
        for s, col in shown:
            if s == strat:
                for n, v in zip(ns, d[col].to_list()):
                    out.setdefault((strat, col, n), float(v))
    return out


def block(rec: Recorder, cfg: R.Config, mname: str, isolation: str) -> list[str]:
    """The N = 1 .. 1024 table of one machine and isolation level."""
    sc = R.scenario(mname, isolation, None, cfg.callsite, cfg.overrides)
    df = R.evaluated(mname, isolation, None, cfg.callsite, cfg.overrides, R.N_TABLE)
    m = R.machine(mname)
    lines = heading(f"{mname}: {W.LABELS[isolation]}")
    lines += wrap(f"call site {cfg.callsite}; preemption {sc.preempt}; QW config "
                  f"{sc.configs[0]}, RL config {sc.configs[1]}; the machine has "
                  f"{rec.lit(m.n_cpus)} CPUs (larger N extrapolate its topology).")
    dom = DOM.for_scenario(sc)
    reasons: list[str] = []

    def mark(strat: str, col: str, n: float) -> str:
        f = dom.check(strat, col, n)
        reasons.append(f.reason)
        return "" if f.validated else DOM.ASCII_MARK
    shown = (("QW", "requester_mean_ns"), ("RL", "requester_mean_ns"),
             ("QW", "requester_p99_ns"), ("RL", "requester_p99_ns"),
             ("QW", "victim_mean_ns"), ("RL", "victim_worst_ns"))
    at = _cells(df, shown)
    rows = []
    for n in R.N_TABLE:
        cells = [rec.lit(n)]
        vals = {}
        for strat, col in shown:
            v = at[(strat, col, float(n))]
            vals[(strat, col)] = v
            cells.append(rec.put(v, R.metric, (mname, isolation, None, cfg.callsite, cfg.overrides,
                                               n, strat, col), US, 1) + mark(strat, col, n))
        q, r = vals[("QW", "requester_mean_ns")], vals[("RL", "requester_mean_ns")]
        both = mark("QW", "requester_mean_ns", n) or mark("RL", "requester_mean_ns", n)
        cells.append(("RL" if r < q else ("QW" if q < r else "tie")) + both)
        rows.append(cells)
    lines += table(["N", "QW mean", "RL mean", "QW p99", "RL p99", "QW vict", "RL vict",
                    "faster"], rows, indent=" " if any(r for r in reasons) else "  ")
    lines += wrap("Columns in us: requester latency of one lru_add_drain_all() (mean, "
                  "p99); interruption of the target's task per drain (QW mean, RL worst "
                  "case); faster = lower requester mean.", "  ")
    if any(reasons):
        lines += wrap(DOM.footnote([], ascii=True), "  ")
    return lines


def build_table(cfg: R.Config) -> tuple[str, Recorder]:
    """The whole ``table.txt`` and the record of its numbers."""
    rec = Recorder()
    lines = ["pwmodel report: both strategies for N = 1 .. 1024 CPUs",
             "=" * 55]
    lines += wrap("QW = queue_work_on() + flush_work() per dirty CPU; RL = the requester "
                  "takes each dirty CPU's per-CPU lock and drains it itself. All values "
                  "from pwmodel.evaluate.evaluate(); times in us.")
    for mname in cfg.machines:
        for iso in cfg.isolations:
            lines += block(rec, cfg, mname, iso)
    for mname in cfg.machines:
        lines += heading(f"Inputs used for {mname} (call site {cfg.callsite})")
        lines += inputs_block(rec, cfg, mname)
    return "\n".join(lines) + "\n", rec
