"""Sensitivity of the crossover CPU count to each input (the tornado figure's data)."""

from __future__ import annotations

import math

from pwmodel.report.queries import crossover_n, scenario

TORNADO_KINDS = ("assumption", "fitted", "workload")


def tornado(mname: str, isolation: str, callsite: str,
            overrides: tuple[tuple[str, float], ...] = ()) -> list[tuple[str, float, float, float, float]]:
    """(input, low value, high value, N* at low, N* at high), largest swing first.

    Each input is moved alone to the two ends of its interval: every parameter with
    one (the registry range of an assumption or of the workload, or the interval the
    machine profile gives) and the machine's c2c spread (``c2c_scale``, p10/p90 of its
    CPU model's rows in data/reference/c2c_latency.csv). Inputs that leave N* where it
    is are left out. All moves are solved in one vectorised call (decide.crossovers_n)."""
    from pwmodel import decide as DC
    from pwmodel import uncertainty as U
    from pwmodel.report.queries import machine
    from pwmodel.report.reference import c2c_ratios
    sc = scenario(mname, isolation, None, callsite, overrides)
    plan = U.Plan(sc, kinds=TORNADO_KINDS, c2c=c2c_ratios(machine(mname)), n_draws=0)
    base = crossover_n(mname, isolation, None, callsite, overrides)
    if not plan.oat:
        return []
    xs = DC.crossovers_n(plan.cases(plan.oat))
    out = []
    for i, spd in enumerate(plan.spreads):
        n_lo, n_hi = float(xs.n_cpus[2 * i]), float(xs.n_cpus[2 * i + 1])
        if all(x == base or (math.isfinite(x) and math.isfinite(base)
                             and abs(x - base) <= 1e-9 * base) for x in (n_lo, n_hi)):
            continue
        out.append((spd.name, spd.low, spd.high, n_lo, n_hi))

    def swing(r):
        vals = [x for x in r[3:] if math.isfinite(x) and x > 0]
        return max((abs(math.log(x / base)) for x in vals), default=0.0) if base > 0 else 0.0
    return sorted(out, key=lambda r: (-swing(r), r[0]))
