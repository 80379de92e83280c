"""`pwmodel simulate`, `pwmodel validate`, `pwmodel simulate-mutex`: the simulator from the CLI."""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from pwmodel import atomic, limits, machine as M
from pwmodel.commands._common import add_param_option, n_list, overrides
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario
from pwmodel.models import callsite, wakeup
from pwmodel.simulate import events as EV, fanout as SF, validate as VAL

_SHOW = ["strategy", "n_cpus", "dirty_cpus", "requester_mean_ns", "requester_p50_ns", "requester_p99_ns",
         "requester_p999_ns", "requester_max_ns", "victim_mean_ns", "victim_worst_ns", "cpu_time_ns"]


def _scenario(args: argparse.Namespace) -> Scenario:
    return Scenario(M.get(args.machine), args.isolation, args.preempt_model, args.callsite,
                    overrides=overrides(args))


def _check_out(out: str | None) -> None:
    if out is not None:
        from pwmodel.outpath import check_file
        check_file(out, suffixes=(".csv", ".parquet"))


def _check_common(args: argparse.Namespace) -> None:
    """Replications, workers and seed within their limits, before any work."""
    limits.check_int("--reps", args.reps, 1, limits.MAX_REPS)
    limits.check_int("--workers", args.workers, 1, limits.MAX_WORKERS)
    limits.check_int("--seed", args.seed, 0, 2**63 - 1)


def _cpu_counts(args: argparse.Namespace) -> list[int]:
    ns = [int(n) for n in n_list(args.n_cpus)]
    limits.check_draws(max(ns), args.reps)
    return ns


def _write(df: pl.DataFrame, out: str | None) -> None:
    if out is None:
        return
    if out.endswith(".csv"):
        atomic.write_text(out, df.write_csv())
    else:
        atomic.write_with(out, df.write_parquet)
    print(f"wrote {out}")


def _run_simulate(args: argparse.Namespace) -> int:
    _check_common(args)
    ns = _cpu_counts(args)
    _check_out(args.out)
    sc = _scenario(args)
    df = SF.simulate(sc, ns, reps=args.reps, seed=args.seed,
                     dirty=args.dirty, workers=args.workers)
    with pl.Config(tbl_rows=200, tbl_cols=len(_SHOW), tbl_width_chars=200):
        print(df.select(_SHOW))
    _write(df, args.out)
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    if args.published:
        from pwmodel import published
        if args.out is not None:
            from pwmodel.outpath import check_file
            check_file(args.out)
        text = published.markdown()
        print(text, end="")
        if args.out is not None:
            atomic.write_text(args.out, text)
            print(f"wrote {args.out}")
        return 0
    import time

    from pwmodel.outpath import check_dir
    if args.combine:
        out = check_dir(args.out_dir, field="--out-dir")
        table = VAL.read(args.combine)
        names = VAL.write(table, out, args.figure)
        _print_shares(table)
        print(f"wrote {out}/" + ", ".join(names))
        return 0
    _check_common(args)
    ns = _cpu_counts(args)

    def names(text: str, field: str) -> list[str]:
        toks = [t.strip() for t in text.split(",")]
        if not text.strip() or any(not t for t in toks):
            raise PwmodelError(f"expected a comma-separated list, found {text!r}", field=field)
        return toks
    machines = VAL.machines(names(args.machines, "--machines"))
    grid = VAL.conditions(machines, names(args.isolations, "--isolations"),
                          names(args.rates, "--rates"), [int(n) for n in ns],
                          names(args.callsites, "--callsites"))
    strategies = VAL._names(names(args.strategies, "--strategies"), VAL.STRATEGIES, "strategy",
                            "--strategies")
    convs = VAL.conventions(args.dirty)
    limits.check_draws(max(ns), args.reps)
    out = check_dir(args.out_dir, field="--out-dir")
    fig = None
    if args.figure:
        from pwmodel.outpath import check_file
        fig = str(out / "validation.png")
        check_file(fig, suffixes=(".png",))

    def progress(p: dict) -> None:
        print(f"{p['machine']} {p['callsite']} {p['convention']}: {p['seconds']:.1f} s", flush=True)
    t0 = time.perf_counter()
    table = VAL.run(grid, reps=args.reps, seed=args.seed, dirty=convs, workers=args.workers,
                    strategies=strategies, progress=progress)
    names = VAL.write(table, out, fig is not None)
    _print_shares(table)
    print(f"{time.perf_counter() - t0:.0f} s; wrote {out}/" + ", ".join(names))
    return 0


def _print_shares(table: pl.DataFrame) -> None:
    cmp_ = VAL.compared(table)
    n_cond = table.select("machine", "callsite", "convention", "isolation", "rate_level",
                          "n_cpus").unique().height
    share = f"{cmp_['ok'].mean():.1%}" if cmp_.height else "none"
    print(f"{n_cond} conditions, {cmp_.height} comparisons ({table.height - cmp_.height} rows not "
          f"compared: see status), {share} within tolerance")
    with pl.Config(tbl_rows=200, tbl_width_chars=200, fmt_str_lengths=40):
        print(VAL.per_machine(table))


def _run_mutex(args: argparse.Namespace) -> int:
    from pwmodel.commands._common import number_list
    rates = number_list(args.caller_rates, "--caller-rates", lo=0)
    n = limits.check_int("--n", args.n, 1, limits.MAX_CPUS)
    limits.check_int("--callers", args.callers, 1, limits.MAX_CALLERS)
    limits.check_int("--seed", args.seed, 0, 2**63 - 1)
    _check_out(args.out)
    sc = _scenario(args)
    df = EV.mutex_sweep(sc, n, rates, callers=args.callers, seed=args.seed)
    with pl.Config(tbl_rows=200, tbl_cols=12, tbl_width_chars=200):
        print(df.select("strategy", "caller_rate_hz", "drain_mean_ns", "requester_mean_ns",
                        "proposed_mean_ns", "requester_p99_ns", "drains_per_call"))
    _write(df, args.out)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reps", type=int, default=4000, help="replications per CPU count")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dirty", default="binomial", choices=SF.DIRTY_MODES,
                   help="dirty CPUs: binomial (each CPU w.p. d) or fixed (d N, stochastic rounding)")
    p.add_argument("--workers", type=int, default=1, help="processes (results do not depend on it)")


def _scenario_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--machine", default="amd-epyc-7r13-2s", help="bundled name or profile path")
    p.add_argument("--isolation", default="nohz_other", help=", ".join(wakeup.ISOLATION))
    p.add_argument("--preempt-model", default=None, help=", ".join(wakeup.PREEMPT_MODELS))
    p.add_argument("--callsite", default="lru_add_drain", metavar="NAME|PATH",
                   help="bundled call site (" + ", ".join(callsite.CALLSITES) + ") or a "
                        "call-site TOML file")
    add_param_option(p)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("simulate", help="Monte Carlo of one fan-out, both strategies (same columns as the model)")
    _scenario_opts(p)
    p.add_argument("--n-cpus", default="1-1024", help="'1,8,64' or '1-1024' (powers of two)")
    p.add_argument("--out", default=None, help="write the frame (.csv or .parquet)")
    _common(p)
    p.set_defaults(func=_run_simulate)

    v = sub.add_parser("validate", help="analytic vs simulated on a grid: one long table "
                                         "(every machine, call site, strategy, convention) and a summary")
    v.add_argument("--machines", default="all", help="bundled names or profile paths, comma "
                   "separated, or all (" + ", ".join(M.bundled_names()) + ")")
    v.add_argument("--callsites", default="all", help="bundled call sites, comma separated, or all")
    v.add_argument("--isolations", default=",".join(wakeup.ISOLATION))
    v.add_argument("--rates", default="low,high", help=", ".join(VAL.RATES))
    v.add_argument("--n-cpus", default=",".join(str(n) for n in VAL.N_GRID))
    v.add_argument("--strategies", default=",".join(VAL.STRATEGIES),
                   help="QW and RL (pwmodel.simulate.fanout), RU and SKIP (simulate.alternatives)")
    v.add_argument("--out-dir", default="results/validation")
    v.add_argument("--figure", action="store_true", help="also draw validation.png")
    v.add_argument("--combine", nargs="+", default=None, metavar="DIR|FILE",
                   help="no simulation: combine validation tables written before (folders or "
                        "validation.parquet files) into one in --out-dir")
    v.add_argument("--published", action="store_true",
                   help="predict the published numbers the model can express (no fitting) "
                        "and print predicted vs published with the error")
    v.add_argument("--out", default=None, metavar="FILE.md",
                   help="with --published: also write the table (Markdown)")
    v.add_argument("--reps", type=int, default=2000, help="replications per CPU count")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--dirty", default="both", choices=(*SF.DIRTY_MODES, "both"),
                   help="dirty-count convention: binomial (each CPU w.p. d), fixed (d N, "
                        "stochastic rounding) or both")
    v.add_argument("--workers", type=int, default=1, help="processes (results do not depend on it)")
    v.set_defaults(func=_run_validate)

    m = sub.add_parser("simulate-mutex", help="callers under the global drain mutex with lru_drain_gen")
    _scenario_opts(m)
    m.add_argument("--n", type=int, default=64, help="CPUs in each fan-out")
    m.add_argument("--caller-rates", default="10,100,1000,10000,100000", help="Hz, comma separated")
    m.add_argument("--callers", type=int, default=20000)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--out", default=None)
    m.set_defaults(func=_run_mutex)
