"""The cover letter's answer section: the verdict paragraph and the verdict table.

Both come from :mod:`pwmodel.verdict` (the same function and paragraph that notebook 01,
the explorer and ``pwmodel decide`` print); every number goes through the report's
:class:`~pwmodel.report.text.Recorder` with the call that recomputes it.
"""

from __future__ import annotations

import functools
import math

from pwmodel import fmt
from pwmodel import verdict as V
from pwmodel.report import results as R
from pwmodel.report.text import Recorder, heading, per_machine, wrap

# isolation levels that get a full paragraph (when the report covers them)
PARAGRAPH_LEVELS = ("busy_other", "nohz_other", "nohz_fifo_dlserver")


@functools.lru_cache(maxsize=256)
def _verdict(mname: str, isolation: str, callsite: str,
             overrides: tuple[tuple[str, float], ...], flip: bool) -> V.Verdict:
    # N*: the report's, solved with all the others (R.prefetch), of this very scenario
    return V.verdict(R.machine(mname), isolation, None, callsite, overrides=dict(overrides),
                     flip=flip, crossover=R.crossover(mname, isolation, None, callsite,
                                                      overrides))


def verdict_value(mname: str, isolation: str, callsite: str,
                  overrides: tuple[tuple[str, float], ...], flip: bool, key: str) -> float:
    """One number of the verdict at the machine's CPU count (ns, Hz, CPUs, shares)."""
    return float(_verdict(mname, isolation, callsite, overrides, flip).values[key])


def _printer(rec: Recorder, args: tuple, v: V.Verdict):
    def put(key: str) -> str:
        x = v.values[key]
        if not math.isfinite(x):
            return fmt.number(x, V.NUMBER_KINDS[key])
        scale, dec, suffix = fmt.parts(x, V.NUMBER_KINDS[key])
        return rec.put(x, verdict_value, args + (key,), scale, dec) + suffix
    return put


def section(rec: Recorder, cfg: R.Config) -> list[str]:
    """'The answer': verdict paragraphs for the first machine, a verdict table for all."""
    out = heading("The answer: which strategy, and what decides it")
    out += wrap("Rule (pwmodel.verdict): a strategy whose drain cannot keep up with the "
                "stated drain rate (or never completes) loses; on an isolated CPU the "
                "strategy that keeps the task's worst interruption per drain within its "
                "latency budget wins; otherwise the lower total CPU load wins (drains at "
                "the remote rate plus the fast-path tax on every local operation of every "
                "CPU). N = the machine's CPU count; rates and budgets are the defaults "
                "listed under 'Assumptions'. 'nohz_fifo_*' targets are nohz_full CPUs "
                "running a SCHED_FIFO task (with the fair deadline server, with RT "
                "throttling, or with neither).")
    m0 = cfg.machines[0]
    rec.name(m0)
    for iso in (i for i in PARAGRAPH_LEVELS if i in cfg.isolations):
        v = _verdict(m0, iso, cfg.callsite, cfg.overrides, True)
        rec.lit(str(fmt.N_MAX))
        text = V.paragraph(v, _printer(rec, (m0, iso, cfg.callsite, cfg.overrides, True), v))
        out += [""] + wrap(text)
    out += [""] + wrap("Per machine and isolation level (RL/QW = the strategy to use, then "
                       "the deciding cost: 'late' = requester cannot keep up, 'victim' = "
                       "interruption budget, 'cpu' = CPU load; N* = requester-latency "
                       "crossover):")
    short = {V.REQUESTER: "late", V.VICTIM: "victim", V.CPU: "cpu"}
    rec.lit(str(fmt.N_MAX))

    def cell(iso: str, m: str) -> str:
        v = _verdict(m, iso, cfg.callsite, cfg.overrides, False)
        return f"{v.strategy} {short[v.deciding]}, N* {V.n_star_text(v)}"
    out += per_machine(rec, cfg.machines, "isolation", cfg.isolations, cell, per_table=2,
                       width=20)
    for m in cfg.machines:
        for iso in cfg.isolations:
            v = _verdict(m, iso, cfg.callsite, cfg.overrides, False)
            if math.isfinite(v.crossover.n_cpus) and v.crossover.n_cpus <= fmt.N_MAX:
                rec.put(v.crossover.n_cpus, _n_star, (m, iso, cfg.callsite, cfg.overrides), 1.0, 0)
    return out


def _n_star(mname: str, isolation: str, callsite: str,
            overrides: tuple[tuple[str, float], ...]) -> float:
    return float(_verdict(mname, isolation, callsite, overrides, False).crossover.n_cpus)
