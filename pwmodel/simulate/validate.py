"""Analytic vs simulated on a grid of conditions: one long table, a verdict per row, a figure.

A condition is (machine, call site, dirty-count convention, isolation, rate level, N).
Each is evaluated with :func:`pwmodel.strategies.evaluate_all` (QW, RL, RU, SKIP; or any
function with the same signature and columns, e.g. a deliberately wrong form) and
simulated from the same Scenario: QW and RL by :func:`pwmodel.simulate.fanout.simulate`,
RU and SKIP by :func:`pwmodel.simulate.alternatives.simulate`.

Dirty-count conventions (``convention``): ``binomial``, each CPU dirty with probability d
(the mechanism); ``fixed``, D = d N CPUs (stochastic rounding). The analytic side is
evaluated in the same convention where the Scenario carries one (:func:`convention_field`).

The long table has one row per (condition, strategy, metric) for every strategy of
:data:`pwmodel.strategies.STRATEGIES` and every metric of :data:`METRICS`. ``status`` says
what the row is: ``compared`` (both values, a verdict), ``absent`` (the strategy does not
exist at this isolation: RU needs nohz_full targets, SKIP isolated ones), ``not simulated``
(the analytic form exists but the simulator has no counterpart) or ``no analytic`` (the
analytic function gave no value). Only ``compared`` rows carry a verdict (``ok``); nothing
is dropped silently.

Verdicts (column ``ok``): a mean agrees when the analytic value lies in the simulation's 95 %
interval or within ``mean_tol`` (2 %) of the simulated mean; a p99 or a worst case agrees
within ``tail_tol`` (5 %). Two infinite values agree; one infinite value never does. Times
in ns.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, Iterable, Sequence

import numpy as np
import polars as pl

from pwmodel import machine as M
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario
from pwmodel.models import callsite as CS
from pwmodel.models.dirty import MEAN_TOL, TAIL_TOL   # the tolerances the dirty-count switch also uses
from pwmodel.models import wakeup as W

RATES = {  # rate level -> overrides
    "low": {"local_rate_hz": 1e5, "remote_rate_hz": 10.0},
    "high": {"local_rate_hz": 1e7, "remote_rate_hz": 1e4},
}
N_GRID = (1, 2, 8, 64, 256, 1024)
CONVENTIONS = ("binomial", "fixed")
STRATEGIES = ("QW", "RL", "RU", "SKIP")
METRICS = {  # metric -> (simulated column, CI columns or None, kind)
    "requester_mean_ns": ("requester_mean_ns", ("requester_mean_lo_ns", "requester_mean_hi_ns"), "mean"),
    "requester_p99_ns": ("requester_p99_ns", ("requester_p99_lo_ns", "requester_p99_hi_ns"), "tail"),
    "victim_mean_ns": ("victim_mean_ns", ("victim_mean_lo_ns", "victim_mean_hi_ns"), "mean"),
    # the largest interruption over the targets of a call, averaged over calls: an expectation
    "victim_worst_ns": ("victim_worst_ns", ("victim_worst_lo_ns", "victim_worst_hi_ns"), "mean"),
    "cpu_time_ns": ("cpu_time_ns", ("cpu_time_lo_ns", "cpu_time_hi_ns"), "mean"),
}
STATUS = ("compared", "absent", "not simulated", "no analytic")
KEYS = ("machine", "callsite", "convention", "isolation", "rate_level", "n_cpus", "strategy",
        "metric")
SCHEMA = {"machine": pl.String, "callsite": pl.String, "convention": pl.String,
          "isolation": pl.String, "rate_level": pl.String, "n_cpus": pl.Int64,
          "strategy": pl.String, "metric": pl.String, "status": pl.String,
          "dirty_cpus": pl.Float64, "analytic_ns": pl.Float64, "simulated_ns": pl.Float64,
          "sim_lo_ns": pl.Float64, "sim_hi_ns": pl.Float64, "rel_error": pl.Float64,
          "ok": pl.Boolean, "reps": pl.Int64, "seed": pl.Int64}
Analytic = Callable[[Scenario, Sequence[int]], pl.DataFrame]


def _names(given: Iterable[str] | None, known: Sequence[str], what: str, field: str) -> list[str]:
    """Names checked against ``known`` (``None`` or 'all': every one), in the given order."""
    if given is None:
        return list(known)
    out = [g.strip() for g in given]
    if out == ["all"]:
        return list(known)
    if not out or any(not g for g in out):
        raise PwmodelError(f"expected a comma-separated list of {what}, found {','.join(out)!r}",
                           field=field)
    bad = [g for g in out if g not in known]
    if bad:
        raise PwmodelError(f"unknown {what} '{bad[0]}' (known: {', '.join(known)}, or all)",
                           field=field)
    if len(set(out)) != len(out):
        raise PwmodelError(f"{what} '{next(g for g in out if out.count(g) > 1)}' given twice",
                           field=field)
    return out


def machines(given: Iterable[str] | None = None) -> list[M.Machine]:
    """Bundled machines by name, or profile paths; ``None`` or 'all': every bundled profile
    (``pwmodel machine list`` and the measured guest's ``local-*`` profile)."""
    names = ["all"] if given is None else [g.strip() for g in given]
    if names == ["all"]:
        return [M.get(n) for n in M.bundled_names()]
    out = []
    for g in names:
        try:
            out.append(M.get(g))
        except PwmodelError as e:
            raise PwmodelError(f"{e.message} (or all)", field="--machines") from None
    return out


def conventions(dirty: str | Sequence[str]) -> list[str]:
    """'binomial', 'fixed', 'both' (or a sequence of the first two)."""
    if isinstance(dirty, str):
        if dirty == "both":
            return list(CONVENTIONS)
        dirty = [dirty]
    return _names(dirty, CONVENTIONS, "dirty-count convention (or both)", "--dirty")


def conditions(machines: Sequence[str] = ("amd-epyc-7r13-2s",), isolations: Sequence[str] = W.ISOLATION,
               rates: Sequence[str] = ("low", "high"), n_cpus: Sequence[int] = N_GRID,
               callsites: Sequence[str] = ("lru_add_drain",)) -> list[tuple[Scenario, str, tuple[int, ...]]]:
    """(scenario, rate level, CPU counts) for every machine x call site x isolation x rate level."""
    isos = _names(isolations, W.ISOLATION, "isolation level", "--isolations")
    lvls = _names(rates, tuple(RATES), "rate level", "--rates")
    sites = _names(callsites, CS.bundled_names(), "call site", "--callsites")
    ns = tuple(int(n) for n in n_cpus)
    if not ns or any(n < 1 for n in ns):
        raise PwmodelError(f"CPU counts must be whole numbers >= 1, found {list(n_cpus)}",
                           field="--n-cpus")
    out = []
    for m in (_machine(x) for x in machines):
        for site in sites:
            for iso in isos:
                for lvl in lvls:
                    out.append((Scenario(m, isolation=iso, callsite=site, overrides=RATES[lvl]),
                                lvl, ns))
    return out


def _machine(x) -> M.Machine:
    return x if isinstance(x, M.Machine) else machines([x])[0]


def convention_field() -> str | None:
    """The Scenario field that sets the analytic side's dirty-count convention, if any."""
    names = {f.name for f in dataclasses.fields(Scenario)}
    return next((n for n in ("dirty_count", "dirty") if n in names), None)


def with_convention(sc: Scenario, convention: str) -> Scenario:
    """The scenario evaluated in ``convention`` where the analytic side has a choice."""
    name = convention_field()
    return dataclasses.replace(sc, **{name: convention}) if name else sc


def _verdicts(a: np.ndarray, s: np.ndarray, lo: np.ndarray, hi: np.ndarray, is_mean: np.ndarray,
              mean_tol: float, tail_tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Relative error (a - s) / s and the verdict, element-wise (see the module docstring)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(s == 0, np.sign(a - s) * np.inf, (a - s) / np.abs(s))
        same = np.abs(a - s) <= 1e-6 * np.maximum(np.maximum(np.abs(a), np.abs(s)), 1.0)
        inside = (lo <= a) & (a <= hi)
    ia, is_ = np.isinf(a), np.isinf(s)
    both_inf = ia & is_
    one_inf = ia ^ is_
    ok = np.where(is_mean, inside | (np.abs(rel) <= mean_tol), np.abs(rel) <= tail_tol) | same
    ok = np.where(both_inf, True, np.where(one_inf, False, ok))
    ok &= ~(np.isnan(a) | np.isnan(s))
    rel = np.where(both_inf | (same & ~one_inf), 0.0, np.where(one_inf, np.inf, rel))
    return rel, ok


def compare(analytic: pl.DataFrame, simulated: pl.DataFrame, mean_tol: float = MEAN_TOL,
            tail_tol: float = TAIL_TOL, strategies: Sequence[str] = STRATEGIES) -> pl.DataFrame:
    """Long rows for one condition's CPU counts: (n_cpus, strategy, metric) with both values,
    the CI, the status and a verdict. Frames: one row per (n_cpus, strategy), the analytic
    one with the metric columns, the simulated one with them and their ``*_lo_ns``/``*_hi_ns``."""
    ns = sorted(set(int(n) for n in simulated["n_cpus"].to_list())
                | set(int(n) for n in analytic["n_cpus"].to_list())) if analytic.height else \
        sorted(set(int(n) for n in simulated["n_cpus"].to_list()))
    if not ns:
        raise PwmodelError("analytic and simulated frames hold no CPU counts", field="n_cpus")
    grid = pl.DataFrame({"n_cpus": ns}, schema={"n_cpus": pl.Int64}).join(
        pl.DataFrame({"strategy": list(strategies)}), how="cross")
    acols = ["n_cpus", "strategy", *METRICS] + (["dirty_cpus"] if "dirty_cpus" in analytic.columns else [])
    a = (analytic.select([c for c in acols if c in analytic.columns])
         .with_columns(pl.col("n_cpus").cast(pl.Int64)).with_columns(pl.lit(True).alias("_a")))
    scols = ["n_cpus", "strategy", "dirty_cpus", "replications", "seed"] + sorted(
        {c for m, (sc, ci, _) in METRICS.items() for c in (sc, *(ci or ()))})
    s = (simulated.select([c for c in scols if c in simulated.columns])
         .with_columns(pl.col("n_cpus").cast(pl.Int64)).with_columns(pl.lit(True).alias("_s"))
         if simulated.height else pl.DataFrame(schema={"n_cpus": pl.Int64, "strategy": pl.String,
                                                       "_s": pl.Boolean}))
    j = grid.join(a, on=["n_cpus", "strategy"], how="left").join(
        s, on=["n_cpus", "strategy"], how="left", suffix="_sim")
    has_a = j["_a"].fill_null(False).to_numpy()
    has_s = j["_s"].fill_null(False).to_numpy()
    out = []
    nan = np.full(j.height, math.nan)

    def col(name: str) -> np.ndarray:
        return j[name].cast(pl.Float64).fill_null(math.nan).to_numpy() if name in j.columns else nan

    d_sim = col("dirty_cpus_sim") if "dirty_cpus_sim" in j.columns else col("dirty_cpus")
    reps = j["replications"].fill_null(0).cast(pl.Int64).to_numpy() if "replications" in j.columns \
        else np.zeros(j.height, dtype=np.int64)
    seed = j["seed"].fill_null(-1).cast(pl.Int64).to_numpy() if "seed" in j.columns \
        else np.full(j.height, -1, dtype=np.int64)
    strat = j["strategy"].to_numpy()
    for metric, (scol, ci, kind) in METRICS.items():
        av = col(metric)
        # a strategy the objective cannot rank has no analytic form of it (RU, SKIP p99)
        modelled = np.isin(strat, _modelled(metric))
        has_a_m = has_a & modelled
        av = np.where(modelled, av, math.nan)
        sv = col(scol + "_sim") if scol + "_sim" in j.columns else col(scol)
        lo, hi = (col(ci[0]), col(ci[1])) if ci else (nan, nan)
        rel, ok = _verdicts(av, sv, lo, hi, np.full(j.height, kind == "mean"), mean_tol, tail_tol)
        status = np.where(has_a_m & has_s, "compared",
                          np.where(has_a_m, "not simulated",
                                   np.where(has_s | (has_a & ~modelled), "no analytic", "absent")))
        comp = status == "compared"
        out.append(pl.DataFrame({
            "n_cpus": j["n_cpus"], "strategy": j["strategy"], "metric": metric,
            "status": status, "dirty_cpus": d_sim, "analytic_ns": av,
            "simulated_ns": np.where(has_s, sv, math.nan), "sim_lo_ns": lo, "sim_hi_ns": hi,
            "rel_error": np.where(comp, rel, math.nan),
            "ok": pl.Series("ok", [bool(o) if c else None for o, c in zip(ok, comp)],
                            dtype=pl.Boolean),
            "reps": reps, "seed": seed}))
    return pl.concat(out)


def _modelled(metric: str) -> tuple[str, ...]:
    """Strategies with an analytic form of ``metric`` (:data:`pwmodel.strategies.FORMS`)."""
    from pwmodel import strategies as ST
    return ST.FORMS[metric.removesuffix("_ns")]


def _simulate(sc: Scenario, ns: Sequence[int], reps: int, seed: int, convention: str,
              workers: int, strategies: Sequence[str]) -> pl.DataFrame:
    from pwmodel.simulate import alternatives as ALT, fanout as SF
    frames = []
    if {"QW", "RL"} & set(strategies):
        frames.append(SF.simulate(sc, ns, reps=reps, seed=seed, dirty=convention, workers=workers))
    if {"RU", "SKIP"} & set(strategies):
        alt = ALT.simulate(sc, ns, reps=reps, seed=seed, dirty=convention)
        if alt.height:
            frames.append(alt)
    frames = [f.select(sorted(set(frames[0].columns).intersection(*[g.columns for g in frames])))
              for f in frames]
    return pl.concat(frames, how="vertical_relaxed").filter(pl.col("strategy").is_in(list(strategies)))


def _default_analytic(sc: Scenario, ns: Sequence[int]) -> pl.DataFrame:
    from pwmodel import strategies as ST
    return ST.evaluate_all(sc, ns)


def run(grid: Sequence[tuple[Scenario, str, tuple[int, ...]]] | None = None, reps: int = 2000,
        seed: int = 0, dirty: str | Sequence[str] = "binomial", analytic: Analytic | None = None,
        workers: int = 1, mean_tol: float = MEAN_TOL, tail_tol: float = TAIL_TOL,
        strategies: Sequence[str] = STRATEGIES,
        progress: Callable[[dict], None] | None = None,
        cache: dict | None = None) -> pl.DataFrame:
    """Validate ``analytic`` (default: every strategy's closed forms) against the simulator on
    ``grid`` (default: :func:`conditions`) in each dirty-count convention of ``dirty``
    ('binomial', 'fixed' or 'both'). Returns the long table (:data:`SCHEMA`).
    ``progress`` is called after each (machine, call site, convention) with its timing;
    ``cache`` (a dict) keeps the simulated frames so that several analytic forms can be
    compared with the same draws."""
    grid = conditions() if grid is None else grid
    strategies = _names(strategies, STRATEGIES, "strategy", "--strategies")
    analytic = _default_analytic if analytic is None else analytic
    frames = []
    for conv in conventions(dirty):
        t0, last = time.perf_counter(), None
        for sc, lvl, ns in grid:
            here = (sc.machine.name, sc.callsite_name)
            if progress is not None and last is not None and here != last:
                progress({"machine": last[0], "callsite": last[1], "convention": conv,
                          "seconds": time.perf_counter() - t0})
                t0 = time.perf_counter()
            last = here
            a = analytic(with_convention(sc, conv), ns)
            key = (sc.machine.name, sc.callsite_name, sc.isolation, sc.preempt,
                   tuple(sorted((sc.overrides or {}).items())), lvl, tuple(ns), conv, reps, seed,
                   tuple(strategies))
            if cache is not None and key in cache:
                s = cache[key]
            else:
                s = _simulate(sc, ns, reps, seed, conv, workers, strategies)
                if cache is not None:
                    cache[key] = s
            c = compare(a, s, mean_tol, tail_tol, strategies)
            frames.append(c.with_columns(
                pl.lit(sc.machine.name).alias("machine"), pl.lit(sc.callsite_name).alias("callsite"),
                pl.lit(conv).alias("convention"), pl.lit(sc.isolation).alias("isolation"),
                pl.lit(lvl).alias("rate_level")))
        if progress is not None and last is not None:
            progress({"machine": last[0], "callsite": last[1], "convention": conv,
                      "seconds": time.perf_counter() - t0})
    return pl.concat(frames).select([pl.col(k).cast(t) for k, t in SCHEMA.items()])


def compared(table: pl.DataFrame) -> pl.DataFrame:
    """The rows that carry a verdict."""
    return table.filter(pl.col("status") == "compared")


def summary(table: pl.DataFrame, by: Sequence[str] = ("machine", "convention", "strategy",
                                                       "metric")) -> pl.DataFrame:
    """Share of agreeing comparisons and the worst relative error per group of ``by``, with the
    rows of other statuses counted (so a reader sees what was not compared)."""
    by = list(by)
    t = table
    return (t.group_by(by)
            .agg(pl.col("status").eq("compared").sum().alias("compared"),
                 pl.col("ok").sum().alias("agree"),
                 (pl.col("ok").sum() / pl.col("status").eq("compared").sum()).alias("ok_share"),
                 pl.col("status").eq("not simulated").sum().alias("not_simulated"),
                 pl.col("status").eq("absent").sum().alias("absent"),
                 pl.col("status").eq("no analytic").sum().alias("no_analytic"),
                 pl.col("rel_error").abs().filter(pl.col("rel_error").is_finite()).max()
                 .alias("worst_abs_rel_error"),
                 pl.col("n_cpus").filter(pl.col("ok").not_()).unique().sort().alias("failing_n_cpus"))
            .sort(by))


def summary_csv(table: pl.DataFrame, by: Sequence[str] | None = None) -> str:
    """:func:`summary` as CSV text (the failing CPU counts space-separated)."""
    s = summary(table) if by is None else summary(table, by)
    return s.with_columns(pl.col("failing_n_cpus").cast(pl.List(pl.String)).list.join(" ")).write_csv()


def per_machine(table: pl.DataFrame) -> pl.DataFrame:
    """Share of agreeing comparisons per machine and convention: all call sites and strategies,
    QW and RL only, and the default call site's QW and RL (the 840 comparisons of one machine
    at the default grid)."""
    c = compared(table)

    def share(t: pl.DataFrame, name: str) -> pl.DataFrame:
        return t.group_by("machine", "convention").agg(
            pl.len().alias(f"{name}_compared"), pl.col("ok").mean().alias(f"{name}_share"))
    qwrl = c.filter(pl.col("strategy").is_in(["QW", "RL"]))
    out = share(c, "all")
    for t, name in ((qwrl, "qw_rl"), (qwrl.filter(pl.col("callsite") == "lru_add_drain"),
                                      "lru_add_drain_qw_rl")):
        out = out.join(share(t, name), on=["machine", "convention"], how="left")
    return out.sort("machine", "convention")


def markdown(table: pl.DataFrame) -> str:
    """The tables docs/validity.md shows: per machine and convention, per call site, per
    strategy and metric (shares of agreeing comparisons, ``b / f`` = binomial / fixed), and
    the disagreements counted by strategy, metric, rate level and N."""
    c = compared(table)

    def pct(x) -> str:
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"

    def both(t: pl.DataFrame, by: list[str]) -> list[tuple]:
        g = t.group_by([*by, "convention"]).agg(pl.col("ok").mean().alias("s"), pl.len().alias("k"))
        keys = sorted(set(g.select(by).rows()))
        look = {(*r[:-3], r[-3]): (r[-2], r[-1]) for r in g.select([*by, "convention", "s", "k"]).rows()}
        return [(*k, *[look.get((*k, cv), (None, 0)) for cv in CONVENTIONS]) for k in keys]
    out = ["| machine | comparisons (b / f) | all strategies, % (b / f) | QW and RL, % | "
           "lru_add_drain QW and RL, % |", "|---|---|---|---|---|"]
    per = per_machine(table)
    look = {(r["machine"], r["convention"]): r for r in per.iter_rows(named=True)}
    for m in sorted(set(per["machine"])):
        b, f = look.get((m, "binomial"), {}), look.get((m, "fixed"), {})
        out.append(f"| {m} | {b.get('all_compared', 0)} / {f.get('all_compared', 0)} | "
                   f"{pct(b.get('all_share'))} / {pct(f.get('all_share'))} | "
                   f"{pct(b.get('qw_rl_share'))} / {pct(f.get('qw_rl_share'))} | "
                   f"{pct(b.get('lru_add_drain_qw_rl_share'))} / {pct(f.get('lru_add_drain_qw_rl_share'))} |")
    out += ["", "| call site | comparisons (b / f) | agree, % (b / f) |", "|---|---|---|"]
    for site, (sb, kb), (sf, kf) in both(c, ["callsite"]):
        out.append(f"| {site} | {kb} / {kf} | {pct(sb)} / {pct(sf)} |")
    out += ["", "| strategy | metric | comparisons (b / f) | agree, % (b / f) |", "|---|---|---|---|"]
    for st, met, (sb, kb), (sf, kf) in both(c, ["strategy", "metric"]):
        out.append(f"| {st} | {met} | {kb} / {kf} | {pct(sb)} / {pct(sf)} |")
    bad = c.filter(~pl.col("ok"))
    if bad.height:
        g = (bad.group_by("strategy", "metric", "convention", "rate_level")
             .agg(pl.len().alias("k"), pl.col("n_cpus").unique().sort().alias("ns"),
                  pl.col("isolation").unique().sort().alias("isos"),
                  pl.col("rel_error").filter(pl.col("rel_error").is_finite()).median().alias("med"))
             .sort("strategy", "metric", "convention", "rate_level"))
        out += ["", "| strategy | metric | convention | rates | disagreeing | N | isolations | "
                "median error, % |", "|---|---|---|---|---|---|---|---|"]
        for r in g.iter_rows(named=True):
            out.append(f"| {r['strategy']} | {r['metric']} | {r['convention']} | {r['rate_level']} "
                       f"| {r['k']} | {' '.join(str(n) for n in r['ns'])} | "
                       f"{', '.join(r['isos'])} | {pct(r['med'])} |")
    return "\n".join(out) + "\n"


def write(table: pl.DataFrame, out_dir, figure_too: bool = False) -> list[str]:
    """Write the long table and what is derived from it into ``out_dir``, each atomically:
    validation.parquet, validation_summary.csv, validation_per_machine.csv, domain.json (the
    index :mod:`pwmodel.simulate.domain` reads), validation_tables.md (and validation.png). Returns the file names."""
    from pathlib import Path

    from pwmodel import atomic
    out = Path(out_dir)
    names = ["validation.parquet", "validation_summary.csv", "validation_per_machine.csv",
             "domain.json", "validation_tables.md"]
    atomic.write_with(out / names[0], lambda p: table.write_parquet(p, compression="zstd"))
    atomic.write_text(out / names[1], summary_csv(table))
    atomic.write_text(out / names[2], per_machine(table).write_csv(float_precision=4))
    from pwmodel.simulate import domain as DOM
    atomic.write_text(out / names[3], DOM.dumps(DOM.index(table)))
    atomic.write_text(out / names[4], markdown(table))
    if figure_too:
        figure(table, str(out / "validation.png"))
        names.append("validation.png")
    return names


def read(paths: Sequence[str]) -> pl.DataFrame:
    """Long tables written by :func:`write` (files or the folders holding them), concatenated;
    the same (condition, strategy, metric) twice is refused."""
    from pathlib import Path
    frames = []
    for p in paths:
        f = Path(p)
        f = f / "validation.parquet" if f.is_dir() else f
        try:
            t = pl.read_parquet(f)
        except (OSError, pl.exceptions.PolarsError) as e:
            raise PwmodelError(f"cannot read a validation table: {str(e).splitlines()[0][:200]}",
                               file=str(f), field="--combine") from None
        missing = [c for c in SCHEMA if c not in t.columns]
        if missing:
            raise PwmodelError(f"not a validation table: no column {missing[0]}", file=str(f),
                               field="--combine")
        frames.append(t.select([pl.col(k).cast(v) for k, v in SCHEMA.items()]))
    if not frames:
        raise PwmodelError("no validation tables given", field="--combine")
    t = pl.concat(frames)
    dup = t.select(list(KEYS)).is_duplicated()
    if dup.any():
        r = t.filter(dup).row(0, named=True)
        raise PwmodelError(f"the same comparison twice: {', '.join(str(r[k]) for k in KEYS)}",
                           field="--combine")
    return t


def figure(table: pl.DataFrame, path: str | None = None,
           metrics: Sequence[str] = ("requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "cpu_time_ns"),
           strategies: Sequence[str] = ("QW", "RL")):
    """Signed relative error (analytic - simulated) / simulated per condition: one panel per
    (metric, strategy); rows machine / call site / convention / isolation / rate level,
    columns N; crosses mark failures. Saved atomically to ``path`` (PNG) when given;
    returns the matplotlib Figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pwmodel.atomic import atomic_path

    table = compared(table)
    ns = sorted(table["n_cpus"].unique().to_list())
    cond_cols = ["machine", "callsite", "convention", "isolation", "rate_level"]
    conds = table.select(cond_cols).unique(maintain_order=True).rows()
    varying = [i for i, c in enumerate(cond_cols) if len({r[i] for r in conds}) > 1] or [3, 4]
    fig, axes = plt.subplots(len(metrics), len(strategies),
                             figsize=(5.5 * len(strategies), 2.2 + 1.9 * len(metrics) * max(len(conds), 4) / 10),
                             squeeze=False, constrained_layout=True)
    im = None
    for i, metric in enumerate(metrics):
        for k, strat in enumerate(strategies):
            ax = axes[i][k]
            grid = np.full((len(conds), len(ns)), np.nan)
            bad = np.zeros_like(grid, dtype=bool)
            sub = table.filter((pl.col("metric") == metric) & (pl.col("strategy") == strat))
            index = {c: j for j, c in enumerate(conds)}
            for r in sub.iter_rows(named=True):
                ci = index[tuple(r[c] for c in cond_cols)]
                ni = ns.index(r["n_cpus"])
                e = r["rel_error"]
                grid[ci, ni] = np.clip(e, -1, 1) if np.isfinite(e) else np.sign(r["analytic_ns"] - r["simulated_ns"]) or 1.0
                bad[ci, ni] = not r["ok"]
            im = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
            yy, xx = np.nonzero(bad)
            ax.scatter(xx, yy, marker="x", c="k", s=14, linewidths=0.8)
            ax.set_xticks(range(len(ns)), [str(n) for n in ns], fontsize=7)
            ax.set_yticks(range(len(conds)), [" / ".join(str(c[v]) for v in varying) for c in conds],
                          fontsize=6)
            ax.set_title(f"{strat}: {metric}", fontsize=9)
            if i == len(metrics) - 1:
                ax.set_xlabel("CPUs (N)", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.6, label="(analytic - simulated) / simulated, clipped to +-1; x = outside tolerance")
    if path is not None:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    return fig
