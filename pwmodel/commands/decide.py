"""`pwmodel decide`: winner and margin per CPU count, and the crossover, for one scenario,
each number with its interval over the parameters' intervals (pwmodel.uncertainty).

``--json`` prints one JSON object::

    {"machine": ..., "isolation": ..., "preempt_model": ..., "callsite": ...,
     "objective": ..., "unit": "ns", "strategies": ["QW", "RL"],
     "rows": [{"n_cpus": 1, "qw_ns": ..., "rl_ns": ..., "qw_low_ns": ..., "qw_high_ns": ...,
               "rl_low_ns": ..., "rl_high_ns": ..., "winner": "RL", "ratio": ...,
               "qw_dominant": "<parameter>", "rl_dominant": "<parameter>"}, ...],
     "all_strategies": {"applicable": ["QW", "RL", ...],   # what the objective can rank here
                        "rows": [{"n_cpus": 1, "order": ["SKIP", ...], "values": {...},
                                  "stranded_items": ..., "stranded_bytes": ...,
                                  "dirty_window_ns": ...}, ...]},   # pwmodel.strategies
     "crossover": {"n_cpus": ..., "low": ..., "high": ..., "below": "RL", "above": "QW",
                   "beyond_modelled": false, "n_max": 1024, "dominant": ..., "method": ...,
                   "text": "18 CPUs (RL faster below, QW above)"},
     "intervals": {"method": ..., "inputs": [{"name", "value", "low", "high", "source"}]},
     "dirty_count": {"convention": "binomial", "source": ...}}   # pwmodel.models.dirty

Keys end in the objective's unit (``_ns``; ``_cpus`` for cpu_load). Numbers that do not
exist are null: no crossover, an unbounded latency, or a crossover (or an end of its
interval) beyond the largest CPU count asked for (``n_max``), where ``text`` says
"> 1024 (RL faster at every size modelled)" instead of an extrapolated count.
"""

from __future__ import annotations

import argparse
import json
import math

from pwmodel.commands._common import add_param_option, n_list, overrides

# kept here (not imported from the model) so that `pwmodel --help` stays light
OBJECTIVE_NAMES = ("requester_mean", "requester_p99", "victim_mean", "victim_worst", "cpu_time",
                   "fastpath_tax", "cpu_load")
STRATEGIES = ("QW", "RL")
INTERVAL_METHOD = ("envelope over the inputs' intervals: one at a time, directed corners and a "
                   "Latin hypercube of 32 settings (pwmodel.uncertainty)")


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _within(x: float, n_max: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) and x <= n_max else None


def result(args: argparse.Namespace) -> dict:
    """The decision as one JSON-ready mapping (see the module docstring)."""
    import numpy as np

    from pwmodel import decide as DC, fmt, machine as M, uncertainty as U
    from pwmodel.evaluate import Scenario
    from pwmodel.models import dirty as DY
    m = M.get(args.machine)
    sc = Scenario(m, args.isolation, args.preempt_model, args.callsite, overrides=overrides(args),
                  dirty_count=getattr(args, "dirty_count", "binomial"))
    col = DC.check_objective(args.objective)
    unit = col.rsplit("_", 1)[1]
    n = np.asarray(n_list(args.n_cpus), dtype=float)
    n_max = float(max(n.max(), 1))
    plan = U.Plan(sc, n_draws=args.draws)
    bands = U.metric_bands(plan, n, [col])
    from pwmodel.simulate import domain as DOM
    dom = DOM.for_scenario(sc)
    reasons: list[str] = []

    def flag(strategy: str, at: float) -> bool:
        f = dom.check(strategy, args.objective, at)
        reasons.append(f.reason)
        return f.validated
    rows = []
    for j, nn in enumerate(n):
        row: dict[str, object] = {"n_cpus": int(nn) if nn == round(nn) else float(nn)}
        vals = {}
        for s in STRATEGIES:
            b = bands[(col, s)]
            k = s.lower()
            vals[s] = float(b.value[j])
            row[f"{k}_{unit}"] = _num(b.value[j])
            row[f"{k}_low_{unit}"] = _num(b.low[j])
            row[f"{k}_high_{unit}"] = _num(b.high[j])
            row[f"{k}_dominant"] = b.dominant[j]
            row[f"{k}_validated"] = flag(s, nn)
        row["validated"] = all(row[f"{s.lower()}_validated"] for s in STRATEGIES)
        best = min(vals.values())
        winners = [s for s, v in vals.items() if v == best or np.isclose(v, best, rtol=1e-12, atol=0)]
        row["winner"] = winners[0] if len(winners) == 1 else "tie"
        worst = max(vals.values())
        row["ratio"] = _num(worst / best) if best > 0 else None
        rows.append(row)
    xo = None
    if unit in ("ns", "cpus") and args.objective != "fastpath_tax":
        cb = U.crossover_band(plan, args.objective)
        beyond = math.isfinite(cb.n_cpus) and cb.n_cpus > n_max
        if math.isnan(cb.n_cpus) and cb.below == cb.above == "RL":
            beyond = True
        xo = {"n_cpus": _within(cb.n_cpus, n_max), "low": _within(cb.low, n_max),
              "high": _within(cb.high, n_max), "below": cb.below, "above": cb.above,
              "beyond_modelled": bool(beyond), "n_max": int(n_max),
              "unbounded": bool(math.isinf(cb.n_cpus)),
              "dominant": cb.dominant,
              "method": ("vectorised regula falsi on log N (decide.crossovers_n)"),
              "text": fmt.crossover(cb.n_cpus, cb.below, cb.above, n_max=int(n_max), long=True),
              "interval_text": _interval_text(cb, int(n_max))}
        # N* rests on both strategies' forms at N* (and at the ends of its interval)
        at = [x for x in (cb.n_cpus, cb.low, cb.high) if math.isfinite(x) and x <= n_max]
        xo["validated"] = bool(at) and all(flag(s, x) for x in at for s in STRATEGIES)
        if not at:
            reasons.append("no crossover inside the modelled range to check")
    from pwmodel import strategies as ST
    ranked = ST.ranking(sc, args.objective, n)
    for r in ranked:
        r["validated"] = {s: flag(s, r["n_cpus"]) for s in r["values"]}
    return {
        "machine": m.name, "isolation": sc.isolation, "preempt_model": sc.preempt,
        "callsite": sc.callsite_name, "objective": args.objective, "unit": unit,
        "strategies": list(STRATEGIES), "rows": rows,
        "all_strategies": {"applicable": list(ST.applicable(sc, args.objective)),
                           "rows": ranked},
        "crossover": xo if xo is not None else {"n_cpus": None, "low": None, "high": None},
        "intervals": {"method": INTERVAL_METHOD,
                      "inputs": [{"name": s.name, "value": s.value, "low": s.low, "high": s.high,
                                  "source": s.source} for s in plan.spreads]},
        "domain": {"table": str(DOM.path()), "rule": DOM.RULE,
                   "reasons": list(dict.fromkeys(r for r in reasons if r))},
        "dirty_count": {"convention": sc.dirty_count, "source": DY.DESCRIPTION[sc.dirty_count]},
    }


def _interval_text(cb, n_max: int) -> str:
    from pwmodel import fmt

    def end(x: float) -> str:
        if math.isnan(x):
            return "none"
        return f"> {n_max}" if x > n_max else fmt.cpus(x)
    if math.isnan(cb.low) and math.isnan(cb.high):
        return "no crossover anywhere in the intervals"
    if cb.low > n_max:
        return f"> {n_max} throughout"
    return f"{end(cb.low)} to {end(cb.high)}"


def _run(args: argparse.Namespace) -> int:
    from pwmodel import fmt
    out = result(args)
    if args.json:
        print(json.dumps(out, allow_nan=False))
        return 0
    unit = out["unit"]
    print(f"machine {out['machine']}, call site {out['callsite']}, isolation {out['isolation']}, "
          f"preemption {out['preempt_model']}, objective {out['objective']} [{unit}]")
    col = f"x_{unit}"
    print(f"{'n_cpus':>7} {'QW':>11} {'QW interval':>22} {'RL':>11} {'RL interval':>22} "
          f"{'winner':>7} {'ratio':>8}")

    from pwmodel.simulate.domain import MARK, footnote

    def v(x):
        return fmt.value(x, col) if x is not None else "unbounded"

    def m(ok: bool) -> str:
        return "" if ok else MARK
    marked = False
    for r in out["rows"]:
        q, rl = m(r["qw_validated"]), m(r["rl_validated"])
        qi = f"{v(r[f'qw_low_{unit}'])} - {v(r[f'qw_high_{unit}'])}{q}"
        ri = f"{v(r[f'rl_low_{unit}'])} - {v(r[f'rl_high_{unit}'])}{rl}"
        ratio = (fmt.ratio(r["ratio"]) if r["ratio"] is not None else "-") + m(r["validated"])
        print(f"{r['n_cpus']:>7} {v(r[f'qw_{unit}']) + q:>11} {qi:>22} {v(r[f'rl_{unit}']) + rl:>11} "
              f"{ri:>22} {r['winner'] + m(r['validated']):>7} {ratio:>8}")
        marked |= not r["validated"]
    xo = out["crossover"]
    if "text" in xo:
        dom = f"; dominated by {xo['dominant']}" if xo["dominant"] else ""
        print(f"crossover N*: {xo['text']}{m(xo['validated'])}; interval "
              f"{xo['interval_text']}{m(xo['validated'])}{dom}")
        marked |= not xo["validated"]
    print("intervals: " + out["intervals"]["method"] + "; inputs: "
          + ", ".join(i["name"] for i in out["intervals"]["inputs"]))
    print("dirty count: " + out["dirty_count"]["source"])
    al = out["all_strategies"]
    print(f"all strategies that {out['objective']} can rank here: {', '.join(al['applicable'])}"
          " (pwmodel.strategies)")
    for r in al["rows"]:
        parts = [f"{s} {v(r['values'][s])}{m(r['validated'][s])}" for s in r["order"]]
        marked |= not all(r["validated"].values())
        extra = []
        if r.get("stranded_items") is not None:
            extra.append(f"SKIP strands {r['stranded_items']:.3g} items, "
                         f"{fmt.value(r['stranded_bytes'] / 1024, 'x')} KiB per dirty CPU")
        if "dirty_window_ns" in r:
            w = r["dirty_window_ns"]
            extra.append("RU leaves the cache dirty for "
                         + (fmt.value(w, "x_ns") if w is not None else "ever (no kernel entry)"))
        print(f"{r['n_cpus']:>7}  " + " < ".join(parts) + ("; " + "; ".join(extra) if extra else ""))
    import textwrap

    from pwmodel import machine as M, verdict as V
    v = V.verdict(M.get(args.machine), args.isolation, args.at, args.callsite,
                  preempt_model=args.preempt_model, overrides=overrides(args))
    print()
    print(textwrap.fill(V.paragraph(v), 79))
    at = v.n_cpus if hasattr(v, "n_cpus") else None
    if at is not None:
        from pwmodel.simulate import domain as DOM
        d = DOM.for_scenario(_verdict_scenario(args))
        bad = [(f"{s} {o}", f.reason) for o in VERDICT_OBJECTIVES for s in STRATEGIES
               for f in [d.check(s, o, at)] if not f.validated]
        if bad:
            print(textwrap.fill(f"{MARK} The verdict's numbers at N = {at:g} include some outside "
                                f"the validated domain: " + ", ".join(b[0] for b in bad) + ".", 79))
            out["domain"]["reasons"] += [b[1] for b in bad]
            marked = True
    if marked:
        print()
        print(textwrap.fill(footnote(out["domain"]["reasons"]), 79))
    return 0


# what the verdict paragraph prints numbers of
VERDICT_OBJECTIVES = ("requester_mean", "victim_worst", "cpu_load", "fastpath_tax")


def _verdict_scenario(args: argparse.Namespace):
    from pwmodel import machine as M
    from pwmodel.evaluate import Scenario
    return Scenario(M.get(args.machine), args.isolation, args.preempt_model, args.callsite,
                    overrides=overrides(args))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decide", help="which strategy wins, by how much, and the crossover")
    p.add_argument("--machine", default="intel-xeon-8375c-2s", help="bundled name or profile path")
    p.add_argument("--isolation", default="nohz_other",
                   help="idle, busy_other, isolcpus_other, nohz_other, nohz_fifo_dlserver, "
                        "nohz_fifo_throttle, nohz_fifo_none")
    p.add_argument("--preempt-model", default=None, help="none, voluntary, full, lazy, rt")
    p.add_argument("--callsite", default="lru_add_drain", metavar="NAME|PATH",
                   help="bundled call site (see pwmodel/callsites/) or a call-site TOML file")
    p.add_argument("--objective", default="requester_mean", help=", ".join(OBJECTIVE_NAMES))
    p.add_argument("--dirty-count", default="binomial", choices=("binomial", "fixed"),
                   help="law of the dirty count D: binomial (each CPU dirty w.p. d, the "
                        "mechanism) or fixed (D = d N in the closed forms)")
    p.add_argument("--n-cpus", default="1-1024", help="'1,8,64' or '1-1024' (powers of two)")
    p.add_argument("--draws", type=int, default=32,
                   help="Latin-hypercube settings for the intervals (0: corners only)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--at", type=int, default=None,
                   help="CPU count of the verdict paragraph (default: the machine's CPU count); "
                        "rates from --param remote_rate_hz=... local_rate_hz=...")
    add_param_option(p)
    p.set_defaults(func=_run)
