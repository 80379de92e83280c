"""What the notebooks print: formatted tables, the crossover formula that produced N*, and
readings computed from the numbers they discuss (no hand-written claim that can go stale).

Every number goes through :mod:`pwmodel.fmt`; every reading is a function of a table the
notebook also shows, so a test can execute the notebook and check each claim against it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Sequence

import numpy as np
import polars as pl
import sympy as sp

from pwmodel import decide as DC
from pwmodel import fmt
from pwmodel import verdict as V
from pwmodel.evaluate import Scenario, inputs
from pwmodel.models import fanout as F
from pwmodel.models import numeric


def table(df: pl.DataFrame, keep: Iterable[str] = ()) -> pl.DataFrame:
    """``df`` as the reader sees it: floats formatted by unit (columns in ``keep`` stay raw)."""
    return fmt.frame(df, keep)


def compare_text(df: pl.DataFrame) -> pl.DataFrame:
    """decide.compare() rows with QW and RL in each objective's unit and the ratio formatted."""
    rows = []
    for r in df.iter_rows(named=True):
        col = DC.OBJECTIVES[r["objective"]]
        rows.append({"n_cpus": r["n_cpus"], "objective": r["objective"],
                     "QW": fmt.value(r["qw"], col), "RL": fmt.value(r["rl"], col),
                     "winner": r["winner"], "ratio (worse / better)": fmt.ratio_of(r["qw"], r["rl"])})
    return pl.DataFrame(rows)


# ---- the crossover formula that produced N* ------------------------------------------
def qw_tails(sc: Scenario, n_cpus: float) -> dict[str, float]:
    """The two branches of the QW requester tail at ``n_cpus`` (ns): 'slowest' (the slowest
    dirty CPU's wake-up bounds the flush) and 'lock' (the drains serialised on lru_lock)."""
    v = inputs(sc, np.array([float(n_cpus)]))

    def ev(expr: sp.Expr) -> float:
        return float(np.ravel(numeric(expr, v))[0])
    return {"slowest": ev(F.slowest_mean_expr()), "lock": ev(F.lru_serial_expr())}


def regime_of(xo: DC.Crossover) -> str | None:
    """'slowest' or 'lock' when N* came from that closed form; None when found numerically."""
    for r in ("slowest", "lock"):
        if f"({r} regime)" in xo.method:
            return r
    return None


def crossover_formula(sc: Scenario) -> tuple[sp.Expr | None, str]:
    """(the formula that produced this scenario's N*: its closed form, or the equation
    T_QW = T_RL solved numerically (a sympy Eq); a Markdown note saying which regime is
    active here and where the other applies, with the numbers)."""
    xo = DC.crossover_n(sc)
    regime = regime_of(xo)
    where = f"{sc.machine.name}, {sc.isolation}"
    n_txt = fmt.crossover(xo.n_cpus, xo.below, xo.above, long=True)
    if regime is None:
        eq = sp.Eq(F.qw_mean_expr(), F.rl_mean_expr())
        note = (f"**{where}: N\\* = {n_txt}**, found numerically ({xo.method}) as the root of "
                "T_QW(N) = T_RL(N) shown below: the wake-up maximum depends on N here, so "
                "neither closed form applies.")
        if not (math.isfinite(xo.n_cpus) and xo.n_cpus <= fmt.N_MAX):
            return eq, note
        t = qw_tails(sc, xo.n_cpus)
        active = "lock" if t["lock"] > t["slowest"] else "slowest"
        return eq, note + (f" At N\\* the QW tail is in the '{active}' regime "
                           f"(slowest CPU {fmt.time_ns(t['slowest'])}, lru_lock "
                           f"{fmt.time_ns(t['lock'])}).")
    t = qw_tails(sc, xo.n_cpus)
    other = "slowest" if regime == "lock" else "lock"
    meaning = {"slowest": "the slowest dirty CPU's wake-up bounds the flush",
               "lock": "the drains serialised on the shared lru_lock bound the flush"}
    note = (f"**{where}: N\\* = {n_txt}**, from the closed form of the **'{regime}' regime** "
            f"({meaning[regime]}): at N\\* that branch of the QW tail is "
            f"{fmt.time_ns(t[regime])} against {fmt.time_ns(t[other])} for the '{other}' "
            f"regime ({meaning[other]}). The model takes the larger of the two at every N; "
            f"the '{other}' form applies where it is the larger (long wake-ups, few dirty "
            "CPUs for 'slowest'; many dirty CPUs with short wake-ups for 'lock').")
    return DC.crossover_symbolic(regime), note


# ---- readings --------------------------------------------------------------------------
def answer_reading(answer: pl.DataFrame) -> str:
    """Notebook 01's reading, from its answer table (one bullet per claim)."""
    out = []
    rl_worst = answer["rl_victim_worst_ns"].max()
    qw_iso = answer.filter(pl.col("isolation").is_in(list(V.W.PROTECTED)))
    grows = qw_iso.filter(pl.col("qw_victim_grows"))["isolation"].to_list()
    flat = qw_iso.filter(~pl.col("qw_victim_grows"))["isolation"].to_list()
    out.append(f"* **Victim interruption:** RL's worst interruption per drain is at most "
               f"{fmt.time_ns(rl_worst)} at every level in the table (one remote lock hold "
               "and the refetched lines); QW's is "
               + ", ".join(f"{fmt.time_ns(r['qw_victim_worst_ns'])} ({r['isolation']})"
                           for r in qw_iso.iter_rows(named=True))
               + " on the isolated levels"
               + (f"; it grows with N for {', '.join(grows)} (see the figure)" if grows else "")
               + (f" and does not depend on N for {', '.join(flat)}" if flat else "") + ".")
    fast = answer.filter(pl.col("faster_requester") == "RL")["isolation"].to_list()
    slow = answer.filter(pl.col("faster_requester") == "QW")["isolation"].to_list()
    out.append("* **Requester latency:** at this N RL is faster for "
               + (", ".join(fast) or "no level") + "; QW for " + (", ".join(slow) or "no level")
               + ". N\\* per level is in the table's `n_star` column.")
    ratio = (answer["rl_tax_ns"] / answer["qw_tax_ns"]).max()
    out.append(f"* **Fast-path tax:** RL (pwlocks=1) costs {fmt.time_ns(answer['rl_tax_ns'].max())}"
               f" per local operation against {fmt.time_ns(answer['qw_tax_ns'].max())} under QW "
               f"(up to {fmt.ratio(ratio)}), paid on every CPU whether or not anyone drains.")
    verdicts = answer.group_by("strategy", maintain_order=True).agg(pl.col("isolation"))
    out.append("* **Verdict per level:** " + "; ".join(
        f"{r['strategy']} for {', '.join(r['isolation'])}" for r in verdicts.iter_rows(named=True))
        + " (the `deciding` column names the cost that decides).")
    return "\n".join(out)


def compare_claim(model_ns: float, measured_ns: float) -> str:
    """'x2.1 above the model' / 'within 12 % of the model' for a measured and a modelled value."""
    if not (math.isfinite(model_ns) and math.isfinite(measured_ns)) or model_ns <= 0:
        return "not comparable"
    r = measured_ns / model_ns
    if 0.8 <= r <= 1.25:
        return f"within {fmt.sig(abs(r - 1) * 100, 2)} % of the model"
    return f"{fmt.ratio(r if r > 1 else 1 / r)} {'above' if r > 1 else 'below'} the model"


def wake_reading(check: pl.DataFrame) -> str:
    """Notebook 04's reading of the measured-versus-model queue->start table (``wake_check``)."""
    out = []
    for state in check["target_state"].unique(maintain_order=True).to_list():
        part = check.filter(pl.col("target_state") == state)
        meas = part.filter(pl.col("source") == "measured").row(0, named=True)
        for r in part.filter(pl.col("source") != "measured").iter_rows(named=True):
            out.append(f"* **{state}** target: measured median {fmt.time_ns(meas['p50_ns'])} "
                       f"(n = {meas['count']}) against {fmt.time_ns(r['p50_ns'])} for the "
                       f"{r['source']}: {compare_claim(r['p50_ns'], meas['p50_ns'])}; p99 "
                       f"{fmt.time_ns(meas['p99_ns'])} against {fmt.time_ns(r['p99_ns'])}.")
    return "\n".join(out)


def gaps_reading(gaps: pl.DataFrame, model_qw_ns: float, machine: str) -> str:
    """Notebook 04's reading of the measured interruptions against the model's QW interruption."""
    out = []
    for r in gaps.iter_rows(named=True):
        out.append(f"* {r['what']}: median {fmt.time_ns(r['p50_ns'])}, p99 "
                   f"{fmt.time_ns(r['p99_ns'])} (n = {r['count']}): "
                   f"{compare_claim(model_qw_ns, r['p50_ns'])} "
                   f"({fmt.time_ns(model_qw_ns)}, {machine} profile).")
    out.append("The model value is for a bare-metal profile; the measurements are gaps on a "
               "2-vCPU KVM guest, where a gap also contains the time the vCPU itself was not "
               "running, so a large ratio here measures the guest, not the kworker's cost.")
    return "\n".join(out)


def target_load() -> pl.DataFrame:
    """Per measured drain collection: what the target CPU ran besides the experiment's own
    task (``target_cpu_other_tasks`` of its metadata.json), and what its state label means."""
    from pwmodel import data as DATA
    rows = []
    for name in DATA.list_datasets():
        if not (name.startswith("measured/") and name.endswith("/lifecycle")):
            continue
        coll = name.split("/")[1]
        meta = DATA.metadata(name)
        other = (meta.get("target_cpu_other_tasks") or {}).get("other_pct")
        if other is None:
            continue
        state = coll.rsplit("_", 1)[-1]
        share = float(other) / 100
        task = {"idle": "target task asleep", "other": "SCHED_OTHER busy loop",
                "fifo": "SCHED_FIFO busy loop"}.get(state, state)
        rows.append({"dataset": coll, "target_state": state,
                     "other_tasks_share": share,
                     "meaning": f"{task}; other tasks ran on the target CPU "
                                f"{fmt.share(share)} of the time"
                                + (" (read 'idle' as 'task asleep, CPU shared with ordinary "
                                   "load', not a C-state)" if state == "idle" and share > 0.5
                                   else "")})
    return pl.DataFrame(rows)


def rate_crossover_parts(sc: Scenario, n_cpus: Sequence[int]) -> pl.DataFrame:
    """Why the rate crossover moves with N: lambda_R* = N lambda_L (tax gap) / (CPU time gap per
    drain), evaluated at lambda_R* itself. Per CPU count: each strategy's CPU time per drain
    and per drained CPU, the per-op tax gap (RL's tax and extra minus QW's), and lambda_R*."""
    from pwmodel.evaluate import evaluate
    rows = []
    for n in n_cpus:
        rate = DC.crossover_rate(sc, n)
        at = rate if math.isfinite(rate) and rate > 0 else sc.params()["remote_rate_hz"]
        s2 = dataclasses.replace(sc, overrides={**(sc.overrides or {}), "remote_rate_hz": at})
        df = evaluate(s2, [n])
        q = df.filter(pl.col("strategy") == "QW").row(0, named=True)
        r = df.filter(pl.col("strategy") == "RL").row(0, named=True)
        rows.append({"n_cpus": int(n),
                     "qw_cpu_per_cpu_ns": q["cpu_time_ns"] / n, "rl_cpu_per_cpu_ns": r["cpu_time_ns"] / n,
                     "gap_per_cpu_ns": (q["cpu_time_ns"] - r["cpu_time_ns"]) / n,
                     "tax_gap_per_op_ns": r["fastpath_tax_ns"] + r["fastpath_extra_ns"] - q["fastpath_tax_ns"],
                     "crossover_rate_hz": rate})
    return pl.DataFrame(rows)


def rate_reading(parts: pl.DataFrame) -> str:
    """Notebook 05's reading of :func:`rate_crossover_parts`: what moves lambda_R* with N."""
    r = parts["crossover_rate_hz"].to_list()
    mono = all(a <= b for a, b in zip(r, r[1:])) or all(a >= b for a, b in zip(r, r[1:]))
    q = parts["qw_cpu_per_cpu_ns"].to_list()
    rl = parts["rl_cpu_per_cpu_ns"].to_list()
    tg = parts["tax_gap_per_op_ns"].to_list()

    def moves(x: list[float]) -> str:
        return (f"{'rises' if x[-1] > x[0] else 'falls' if x[-1] < x[0] else 'stays'} from "
                f"{fmt.time_ns(x[0])} to {fmt.time_ns(x[-1])}")
    txt = (f"λ_R\\* runs {' → '.join(fmt.rate_hz(x) for x in r)} over N = "
           f"{', '.join(str(n) for n in parts['n_cpus'].to_list())}"
           + (" (not monotonic)" if not mono else " (monotonic here)")
           + "; 'unbounded' = RL never costs less CPU time at that N. λ_R\\* is λ_L × (tax gap "
           "per op) / (CPU time gap per drained CPU). Over this range QW's CPU time per drained "
           f"CPU {moves(q)}, RL's {moves(rl)} (in steps where the fan-out leaves an LLC or a "
           f"socket: the mean c2c distance jumps), and the tax gap per op {moves(tg)} (it is "
           "taken at the crossover rate itself: RL's owner misses after each remote hold). "
           "λ_R\\* follows the ratio of these gaps; where the per-CPU gap shrinks faster than the "
           "tax gap it rises, where it widens it falls, so it need not be monotonic in N.")
    return txt


def transfer_note(fit: object | None, source: str, machine: str) -> str:
    """What it means to apply a wake-up distribution measured on one machine to another
    machine's topology (notebook 06), with the fit's own Kolmogorov-Smirnov verdict."""
    if fit is None:
        head = "The empirical distribution of the samples is used as is (no fit)."
    else:
        p = float(getattr(fit, "ks_p", math.nan))
        rejected = math.isfinite(p) and p < 0.05
        head = (f"The KS test {'**rejects**' if rejected else 'does not reject'} the fitted "
                f"{getattr(fit, 'family', 'family')} (nominal p = {fmt.sig(p, 2)}"
                + ("; the shift is estimated, so the nominal p is optimistic and a rejection "
                   "stands" if rejected else "") + ").")
        if rejected:
            head += (" The predictions below then inherit the fit's misfit, mostly in the tail "
                     "that sets the expected maximum over many CPUs.")
    return (head + f" The wake-ups come from `{source}`; the topology from {machine}. The "
            "result answers 'what would this topology do with *these* wake-ups', not what "
            f"{machine} does: a guest's queue→start contains hypervisor delays that a bare-metal "
            "server does not have, so its N\\* is a what-if, not that machine's crossover.")
