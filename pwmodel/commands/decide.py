"""`pwmodel decide`: winner and margin per CPU count, and the crossover, for one scenario."""

from __future__ import annotations

import argparse
from pwmodel import decide as DC, fmt, machine as M
from pwmodel.commands._common import add_param_option, n_list, overrides
from pwmodel.evaluate import Scenario
from pwmodel.models import callsite, wakeup


def _run(args: argparse.Namespace) -> int:
    m = M.get(args.machine)
    sc = Scenario(m, args.isolation, args.preempt_model, args.callsite, overrides=overrides(args))
    df = DC.compare(sc, n_list(args.n_cpus), [args.objective])
    unit = DC.OBJECTIVES[args.objective].rsplit("_", 1)[1]
    print(f"machine {m.name}, call site {args.callsite}, isolation {args.isolation}, "
          f"preemption {sc.preempt}, objective {args.objective} [{unit}]")
    print(f"{'n_cpus':>7} {'QW':>12} {'RL':>12} {'winner':>6} {'ratio':>8}")
    for r in df.iter_rows(named=True):
        q, rl = r["qw"], r["rl"]
        col = DC.OBJECTIVES[args.objective]
        print(f"{int(r['n_cpus']):>7} {fmt.value(q, col):>12} {fmt.value(rl, col):>12} "
              f"{r['winner']:>6} {fmt.ratio(r['ratio']):>8}")
    if args.objective == "requester_mean":
        c = DC.crossover_n(sc)
        print(f"crossover N*: {fmt.crossover(c.n_cpus, c.below, c.above, long=True)}; {c.method}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decide", help="which strategy wins, by how much, and the crossover")
    p.add_argument("--machine", default="intel-xeon-8375c-2s", help="bundled name or profile path")
    p.add_argument("--isolation", default="nohz_other", help=", ".join(wakeup.ISOLATION))
    p.add_argument("--preempt-model", default=None, help=", ".join(wakeup.PREEMPT_MODELS))
    p.add_argument("--callsite", default="lru_add_drain", help=", ".join(callsite.CALLSITES))
    p.add_argument("--objective", default="requester_mean", help=", ".join(DC.OBJECTIVES))
    p.add_argument("--n-cpus", default="1-1024", help="'1,8,64' or '1-1024' (powers of two)")
    add_param_option(p)
    p.set_defaults(func=_run)
