"""Published numbers the model can express, predicted without fitting any of them.

``pwmodel validate --published`` builds one row per published number of
``data/reference/`` that a model expression can predict: the series' own
kmalloc_bench cycles per configuration (the fast-path tax, ``fastpath.tax_expr``
in cycles at the registry clock, since the series does not name its CPU), the
cost of the spinlock over local_lock, the qpw=0 overhead, and the requester
outcome of the 2022 hung-task report (``fanout.qw_mean_expr`` with a FIFO task
that never yields). Every row says its role:

* ``prediction``: compared, error counted;
* ``sets reference``: the unpatched kernel of a table is the zero of the tax
  (the model predicts differences to it, not the absolute cost);
* ``sets parameter``: a row some registry default was taken from (named); not
  a prediction;
* ``not expressible``: a published number the model has no expression for, with
  the reason.

No parameter is adjusted to this table: values are the registry's (and its
sources), whatever the errors. Where the model misses, ``mechanism`` names what
it lacks.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pwmodel import params as P
from pwmodel.models import fastpath as FP
from pwmodel.models import numeric

REF = Path(__file__).resolve().parents[1] / "data" / "reference"


@dataclass(frozen=True)
class Row:
    source: str           # file: identifying columns
    quantity: str
    published: float
    unit: str
    role: str
    predicted: float = math.nan
    model: str = ""       # the expression that predicts it
    mechanism: str = ""   # what the model lacks where it misses, or why it cannot express it


def _kmalloc() -> dict[tuple[str, str], float]:
    with open(REF / "kmalloc_locallock_vs_spinlock_cycles.csv", newline="") as fh:
        return {(r["kernel_config"], r["variant"]): float(r["avg_cycles_per_kmalloc"])
                for r in csv.DictReader(fh)}


def _series() -> list[dict[str, str]]:
    with open(REF / "pw_series_numbers.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _series_value(quantity: str, condition_start: str) -> tuple[float, str]:
    for r in _series():
        if r["quantity"] == quantity and r["condition"].startswith(condition_start):
            return float(r["value"]), r["version"]
    raise KeyError((quantity, condition_start))


def tax_cycles(config: str, ps: P.ParamSet | None = None) -> float:
    """Cycles ``config`` adds per local operation (registry values, registry clock)."""
    ps = ps or P.resolve(None)
    return float(numeric(FP.cycles(FP.tax_expr(config)), ps.values))


def hung_task_prediction_s() -> float:
    """Mean QW requester latency (s) of lru_add_drain_all() with a SCHED_FIFO busy loop on a
    target (no fair server, RT throttling off), on PREEMPT_RT at the report's 160 CPUs
    (kworker/u160); the machine only sets the c2c terms, negligible here."""
    from pwmodel import evaluate as E
    from pwmodel import machine as M
    sc = E.Scenario(M.get("intel-xeon-8375c-2s"), "nohz_fifo_none", "rt", "lru_add_drain")
    df = E.evaluate(sc, [160])
    return float(df.filter(pl.col("strategy") == "QW")["requester_mean_ns"][0]) * 1e-9


V1_MECH = ("v1 (Feb 2026) code: migrate_disable() sat outside the static branch (moved "
           "inside in v2) and a preempt_disable() was fixed before v3 ('those 2 cycles are "
           "gone'); the model describes the v4 code, not these costs")


def rows() -> list[Row]:
    ps = P.resolve(None)
    km = _kmalloc()
    K = "kmalloc_locallock_vs_spinlock_cycles.csv"
    out: list[Row] = []
    nrt = "CONFIG_PREEMPT_DYNAMIC=y"
    base = km[(nrt, "unpatched (local_lock = preempt_disable on !RT)")]
    out.append(Row(f"{K}: {nrt}, unpatched", "cycles per kmalloc", base, "cycles",
                   "sets reference", model="tax 0 (the !RT reference); also base_op_ns"))
    for var, cfg in (("patched, CONFIG_QPW=n", "pwlocks_n"),
                     ("patched, CONFIG_QPW=y, qpw=0", "pwlocks0"),
                     ("patched, CONFIG_QPW=y, qpw=1 (per-CPU spinlock taken locally)", "pwlocks1")):
        mech = ""
        if cfg == "pwlocks1":
            mech = ("the locked RMW is taken from an uncontended x86 'atomic add' loop "
                    "(19.15 cycles, Skylake/Ice Lake); in kmalloc it overlaps the rest of the "
                    "fast path (out-of-order execution): the model adds lock costs serially")
        out.append(Row(f"{K}: {nrt}, {var.split(' (')[0]}", "cycles per kmalloc", km[(nrt, var)],
                       "cycles", "prediction", base + tax_cycles(cfg, ps),
                       f"60 + fastpath.tax_expr('{cfg}') in cycles", mech))
    rt = "CONFIG_PREEMPT_RT"
    rbase = km[(rt, "unpatched (local_lock = per-CPU spinlock on RT)")]
    out.append(Row(f"{K}: {rt}, unpatched", "cycles per kmalloc", rbase, "cycles",
                   "sets reference", model="tax 0 (the RT reference)"))
    for var, cfg in (("patched, CONFIG_QPW=y, qpw=0", "rt_pwlocks0"),
                     ("patched, CONFIG_QPW=y, qpw=1", "rt_pwlocks1")):
        mech = ("run-to-run spread: qpw=1 measured below qpw=0 (97 < 99) though it executes "
                "the same instructions on RT; the series reports spreads of this size") \
            if cfg == "rt_pwlocks0" else ""
        out.append(Row(f"{K}: {rt}, {var}", "cycles per kmalloc", km[(rt, var)], "cycles",
                       "prediction", rbase + tax_cycles(cfg, ps),
                       f"95 + fastpath.tax_expr('{cfg}') in cycles", mech))
    # v1 (Feb 2026) numbers: same benchmark, earlier code
    S = "pw_series_numbers.csv"
    v1 = {c: _series_value("avg cycles per kmalloc", c)[0] for c in
          ("without patchset", "QPW patchset CONFIG_QPW=n", "CONFIG_QPW=y qpw=0",
           "CONFIG_QPW=y qpw=1", "PREEMPT_RT no patchset", "PREEMPT_RT qpw=0",
           "PREEMPT_RT qpw=1")}
    out.append(Row(f"{S}: v1 (Feb 2026), without patchset", "cycles per kmalloc",
                   v1["without patchset"], "cycles", "sets reference", model="tax 0"))
    for cond, cfg in (("QPW patchset CONFIG_QPW=n", "pwlocks_n"), ("CONFIG_QPW=y qpw=0", "pwlocks0"),
                      ("CONFIG_QPW=y qpw=1", "pwlocks1")):
        out.append(Row(f"{S}: v1 (Feb 2026), {cond}", "cycles per kmalloc", v1[cond], "cycles",
                       "prediction", v1["without patchset"] + tax_cycles(cfg, ps),
                       f"159 + fastpath.tax_expr('{cfg}') in cycles", V1_MECH))
    out.append(Row(f"{S}: v1 (Feb 2026), PREEMPT_RT no patchset", "cycles per kmalloc",
                   v1["PREEMPT_RT no patchset"], "cycles", "sets reference", model="tax 0"))
    for cond, cfg in (("PREEMPT_RT qpw=0", "rt_pwlocks0"), ("PREEMPT_RT qpw=1", "rt_pwlocks1")):
        out.append(Row(f"{S}: v1 (Feb 2026), {cond}", "cycles per kmalloc", v1[cond], "cycles",
                       "prediction", v1["PREEMPT_RT no patchset"] + tax_cycles(cfg, ps),
                       f"185 + fastpath.tax_expr('{cfg}') in cycles",
                       V1_MECH + "; run-to-run spread (qpw=0 measured below the unpatched RT "
                       "kernel)"))
    val, _ = _series_value("perceived cost local_lock->spinlock", "!RT qpw=1 vs qpw=0")
    out.append(Row(f"{S}: v1 (Feb 2026), local_lock -> spinlock (170 -> 190)",
                   "cycles per local op", val, "cycles", "prediction",
                   tax_cycles("pwlocks1", ps) - tax_cycles("pwlocks0", ps),
                   "fastpath.tax_expr('pwlocks1') - tax_expr('pwlocks0') in cycles"))
    val, _ = _series_value("overhead CONFIG_QPW=y qpw=0 vs unpatched", "kmalloc_bench")
    out.append(Row(f"{S}: v2, qpw=0 overhead vs unpatched", "cycles per local op", val, "cycles",
                   "prediction", tax_cycles("pwlocks0", ps),
                   "fastpath.tax_expr('pwlocks0') in cycles",
                   "both terms (per_cpu_ptr, static key) are 1-cycle assumptions of the registry"))
    # rows registry defaults were taken from: not predictions
    for quantity, cond, param in (
            ("extra cost per lock/unlock with inlined spinlocks", "LPC 2023 study", "call_ns"),
            ("extra latency oslat->kworker->oslat", "vmstat_update kworker",
             "kworker_switch_ns, kworker_irq_ns"),
            ("drain rate in test", "netperf+hackbench", "remote_rate_hz"),
            ("5G RAN latency requirement", "cyclictest", "budget_ns")):
        for r in _series():
            if r["quantity"] == quantity and r["condition"].startswith(cond):
                v = r["value"]
                pub = float(v.split("-")[0]) if v[0].isdigit() else math.nan
                out.append(Row(f"{S}: {r['version']}, {quantity}", quantity, pub, r["unit"],
                               "sets parameter", model=param))
                break
    # a requester outcome: lru_add_drain_all() behind a FIFO busy loop, no fair server
    hung, _ = _series_value("hung task blocked time", "kworker/u160:0")
    out.append(Row(f"{S}: precursor 2022, hung task blocked time (lower bound: the report "
                   "fired at that time)", "requester latency", hung, "s", "prediction",
                   hung_task_prediction_s(),
                   "fanout.qw_mean_expr on PREEMPT_RT, isolation nohz_fifo_none (no fair "
                   "server, RT throttling off), 160 CPUs",
                   "consistent: the model's QW requester never completes while the FIFO task "
                   "spins; the published 622 s is when the hung-task detector reported"))
    # published numbers the model cannot express, and why
    for what, why in (
            ("pw_series_numbers.csv: drain_all_pages duration avg 487.5 us / max 166.7 ms "
             "(2022, Minchan Kim)", "CPU count, machine and the isolation of the targets are "
                                    "not stated; the mean is over a reclaim-heavy trace"),
            ("pw_series_numbers.csv: new remote-drain scheme ~5 % better (netperf, hackbench)",
             "a throughput of whole benchmarks; the model has per-operation costs only"),
            ("pft_pcp_locking_variants.csv: pft elapsed/system time, local_lock vs per-CPU "
             "spinlock", "needs the number of per-CPU list operations per run (not "
                         "published); the run-to-run spread (up to +-7 %) exceeds the per-op "
                         "tax the model predicts"),
            ("pw_series_numbers.csv: page allocation cost 277 -> 230 cycles",
             "an allocator rewrite, not a locking change"),
    ):
        out.append(Row(what, "", math.nan, "", "not expressible", mechanism=why))
    return out


def table() -> pl.DataFrame:
    rs = rows()
    err = [(r.predicted / r.published - 1) * 100 if (r.role == "prediction" and
                                                       math.isfinite(r.predicted) and
                                                       r.published) else math.nan for r in rs]
    return pl.DataFrame({
        "source": [r.source for r in rs], "quantity": [r.quantity for r in rs],
        "published": [r.published for r in rs], "predicted": [r.predicted for r in rs],
        "unit": [r.unit for r in rs], "error_pct": err, "role": [r.role for r in rs],
        "model": [r.model for r in rs], "mechanism": [r.mechanism for r in rs]})


def _num(x: float) -> str:
    if isinstance(x, float) and math.isinf(x):
        return "unbounded"
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.4g}"


def markdown(df: pl.DataFrame | None = None) -> str:
    """The table as Markdown (the docs/ page and the command's output)."""
    df = table() if df is None else df
    pred = df.filter(pl.col("role") == "prediction")
    errs = pred["error_pct"].drop_nans().abs()
    lines = [
        "# Published numbers predicted by the model",
        "",
        "Generated by `pwmodel validate --published` (registry values, no parameter fitted "
        "or adjusted to these rows; cycles at the registry clock of 3.0 GHz because the "
        "series does not name its CPU).",
        "",
        f"{pred.height} predictions, median absolute error "
        f"{errs.median():.1f} %, largest {errs.max():.1f} %. Rows marked 'sets reference' "
        "or 'sets parameter' are not predictions.",
        "",
        "| published row | published | predicted | unit | error | role | model |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in df.iter_rows(named=True):
        e = "-" if math.isnan(r["error_pct"]) else f"{r['error_pct']:+.1f} %"
        lines.append(f"| {r['source']} | {_num(r['published'])} | {_num(r['predicted'])} | "
                     f"{r['unit']} | {e} | {r['role']} | {r['model']} |")
    lines += ["", "## Where the model misses, and what it cannot express", ""]
    for r in df.iter_rows(named=True):
        if r["mechanism"]:
            lines.append(f"- {r['source']}: {r['mechanism']}.")
    return "\n".join(lines) + "\n"
