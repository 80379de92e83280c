"""The model queries behind the report: every number and curve comes from here.

Each scalar function is a plain call into :mod:`pwmodel.evaluate`,
:mod:`pwmodel.decide` or :mod:`pwmodel.models` with hashable arguments, so
the cover-letter builder can record *which call* produced a printed number
and a test can call it again. Frame-producing functions feed the figures.
Published numbers are read by :mod:`pwmodel.report.reference`, uncertainty
bands are built by :mod:`pwmodel.report.bands`, the crossover sensitivity by
:mod:`pwmodel.report.tornado`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import polars as pl

from pwmodel import comparison as CMP
from pwmodel import decide as DC
from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.models import callsite as CS
from pwmodel.models import breakdown as BD
from pwmodel.models import coherence
from pwmodel.models import fanout as F
from pwmodel.models import fastpath as FP
from pwmodel.models import numeric
from pwmodel.models import owner as OW
from pwmodel.models import wakeup as W

N_TABLE = tuple(2 ** k for k in range(11))            # 1 .. 1024
TAX_CONFIGS = ("pwlocks_n", "pwlocks0", "pwlocks1", "pwlocks1_noinline", "rt_pwlocks1")
CONFIG_LABELS = {
    "unpatched": "unpatched", "pwlocks_n": "!PWLOCKS", "pwlocks0": "pwlocks=0",
    "pwlocks1": "pwlocks=1 !RT", "pwlocks1_noinline": "pwlocks=1 noinl",
    "rt_unpatched": "RT unpatched", "rt_pwlocks0": "RT pwlocks=0", "rt_pwlocks1": "PREEMPT_RT",
}


@dataclass(frozen=True)
class Config:
    """What the report covers. ``machines`` are bundled names or profile paths."""

    machines: tuple[str, ...]
    callsites: tuple[str, ...] = CS.SERIES
    isolations: tuple[str, ...] = W.ISOLATION
    objective: str | None = None          # None: requester_mean (N map), cpu_load (rate maps)
    overrides: tuple[tuple[str, float], ...] = ()
    text_only: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.machines:
            raise PwmodelError("no machine given", field="machine")
        # call-site files are known by their names from here on (tables show names)
        object.__setattr__(self, "callsites", tuple(CS.register(cs) for cs in self.callsites))
        for iso in self.isolations:
            W.check(iso)
        if self.objective is not None:
            DC.check_objective(self.objective)
        P.check_names(dict(self.overrides))
        for k, v in self.overrides:
            P.check_value(k, v)

    @property
    def primary(self) -> str:
        return self.machines[0]

    @property
    def callsite(self) -> str:
        return self.callsites[0]

    @property
    def victim_isolation(self) -> str:
        """The isolation level used for single-level figures (nohz_other if covered)."""
        if "nohz_other" in self.isolations:
            return "nohz_other"
        prot = [i for i in self.isolations if i in W.PROTECTED]
        return (prot or list(self.isolations))[0]


def machine(name: str) -> M.Machine:
    return _machine_cache(name)


_MACHINES: dict[str, M.Machine] = {}


def _machine_cache(name: str) -> M.Machine:
    if name not in _MACHINES:
        _MACHINES[name] = M.get(name)
    return _MACHINES[name]


def scenario(mname: str, isolation: str = "nohz_other", preempt: str | None = None,
             callsite: str = "lru_add_drain", overrides: tuple[tuple[str, float], ...] = ()
             ) -> E.Scenario:
    return E.Scenario(machine(mname), isolation, preempt, callsite, overrides=dict(overrides) or None)


# ---- scalar queries (each a model call; the cover letter records them) -------------
_EV: dict[tuple, pl.DataFrame] = {}        # evaluate() at one CPU count
_EV_AT: dict[tuple, pl.DataFrame] = {}     # evaluate() at several


def _evaluated(mname: str, isolation: str, preempt: str | None, callsite: str,
               overrides: tuple[tuple[str, float], ...], n_cpus: float) -> pl.DataFrame:
    key = (mname, isolation, preempt, callsite, overrides, n_cpus)
    if key not in _EV:
        _EV[key] = E.evaluate(scenario(mname, isolation, preempt, callsite, overrides), [n_cpus])
    return _EV[key]


def evaluated(mname: str, isolation: str, preempt: str | None, callsite: str,
              overrides: tuple[tuple[str, float], ...], n_cpus: Sequence[float]) -> pl.DataFrame:
    """:func:`pwmodel.evaluate.evaluate` at the CPU counts ``n_cpus``, in one call (kept);
    its rows also serve :func:`metric` at each of them (a point's value does not depend on
    the points evaluated with it: the same numbers)."""
    key = (mname, isolation, preempt, callsite, overrides, tuple(n_cpus))
    if key not in _EV_AT:
        df = E.evaluate(scenario(mname, isolation, preempt, callsite, overrides), n_cpus)
        for n in dict.fromkeys(n_cpus):
            _EV.setdefault(key[:5] + (n,), df.filter(pl.col("n_cpus") == n))
        _EV_AT[key] = df
    return _EV_AT[key]


def metric(mname: str, isolation: str, preempt: str | None, callsite: str,
           overrides: tuple[tuple[str, float], ...], n_cpus: float, strategy: str, column: str) -> float:
    """One column of :func:`pwmodel.evaluate.evaluate` for one strategy at one CPU count."""
    df = _evaluated(mname, isolation, preempt, callsite, overrides, n_cpus)
    return float(df.filter(pl.col("strategy") == strategy)[column][0])


def clear_caches() -> None:
    """Forget cached evaluations (a recomputation then calls the model again)."""
    _EV.clear()
    _EV_AT.clear()
    _strategies.cache_clear()
    _line_moves_frame.cache_clear()
    _XO.clear()
    _XO_BANDS.clear()
    _XL.clear()


def tax_ns(mname: str, config: str, overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """Fast-path tax of ``config`` on a machine, ns per local operation."""
    df = E.fastpath_table(machine(mname), dict(overrides) or None)
    return float(df.filter(pl.col("config") == config)["tax_ns"][0])


def tax_cycles(mname: str, config: str, overrides: tuple[tuple[str, float], ...] = ()) -> float:
    df = E.fastpath_table(machine(mname), dict(overrides) or None)
    return float(df.filter(pl.col("config") == config)["tax_cycles"][0])


def tax_share(mname: str, config: str, rate_hz: float | np.ndarray,
              overrides: tuple[tuple[str, float], ...] = ()) -> float | np.ndarray:
    """Share of one CPU (1 = 100 %) spent on the tax at ``rate_hz`` local ops/s (a number,
    or an array for an array of rates)."""
    ps = P.resolve(machine(mname), dict(overrides) or None)
    out = numeric(FP.tax_fraction_expr(config), {**ps.values, "local_rate_hz": rate_hz})
    return float(out) if np.ndim(out) == 0 else out


def default_param(name: str) -> float:
    """A parameter's registry default (no machine, no call site)."""
    return float(P.PARAMS[name].default)


def default_tax_cycles(config: str) -> float:
    """Tax in cycles from the registry defaults alone (3.0 GHz generic machine)."""
    ps = P.defaults()
    return float(numeric(FP.cycles(FP.tax_expr(config)), ps.values))


_XO: dict[tuple, DC.Crossover] = {}
_XO_BANDS: dict[tuple, object] = {}


def crossover(mname: str, isolation: str, preempt: str | None, callsite: str,
              overrides: tuple[tuple[str, float], ...] = ()) -> DC.Crossover:
    """decide.crossover_n of the scenario (kept; solved together by :func:`prefetch`)."""
    key = (mname, isolation, preempt, callsite, overrides)
    if key not in _XO:
        _XO[key] = DC.crossover_n(scenario(*key))
    return _XO[key]


def prefetch_crossovers(keys: Sequence[tuple]) -> None:
    """Compute the crossovers of many (machine, isolation, preempt, callsite, overrides)
    keys in one vectorised call (decide.crossovers; the same values as one by one)."""
    todo = list(dict.fromkeys(k for k in keys if k not in _XO))
    if not todo:
        return
    for k, x in zip(todo, DC.crossovers([scenario(*k) for k in todo])):
        _XO[k] = x


def crossover_keys(cfg: "Config") -> list[tuple]:
    """The crossovers the report prints and draws: every machine x isolation level."""
    return [(m, iso, None, cfg.callsite, cfg.overrides)
            for m in cfg.machines for iso in cfg.isolations]


def solved_crossovers(keys: Sequence[tuple]) -> dict[tuple, DC.Crossover]:
    """The crossovers of ``keys`` (solved together first if need be), to hand to another
    process's :func:`prefetch`."""
    prefetch_crossovers(keys)
    return {k: _XO[k] for k in keys}


def prefetch(cfg: "Config", crossovers: Callable[[], Mapping[tuple, DC.Crossover]] | None = None
             ) -> None:
    """Solve, in one vectorised call each, the crossovers the report prints and draws
    (:func:`crossover_keys`) and the N* intervals of its headline.

    ``crossovers``: where the crossovers come from instead (another process solving them
    meanwhile: :func:`solved_crossovers` there); called after the intervals are solved."""
    if crossovers is None:
        prefetch_crossovers(crossover_keys(cfg))
    prefetch_bands([(m, cfg.victim_isolation, None, cfg.callsite, cfg.overrides)
                    for m in cfg.machines])
    if crossovers is not None:
        _XO.update(crossovers())


def crossover_band(mname: str, isolation: str, preempt: str | None, callsite: str,
                   overrides: tuple[tuple[str, float], ...] = ()):
    """N* with its interval and dominating input (uncertainty.crossover_band; inputs: the
    parameters' intervals and the machine's c2c p10/p90 spread)."""
    key = (mname, isolation, preempt, callsite, overrides)
    if key not in _XO_BANDS:
        prefetch_bands([key])
    return _XO_BANDS[key]


def prefetch_bands(keys: Sequence[tuple]) -> None:
    """:func:`crossover_band` of many keys in one vectorised run."""
    from pwmodel import uncertainty as U
    from pwmodel.report.reference import c2c_ratios
    todo = list(dict.fromkeys(k for k in keys if k not in _XO_BANDS))
    if not todo:
        return
    plans = [U.Plan(scenario(*k), c2c=c2c_ratios(machine(k[0]))) for k in todo]
    for k, b in zip(todo, U.crossover_bands(plans)):
        _XO_BANDS[k] = b


def crossover_low(mname: str, isolation: str, preempt: str | None, callsite: str,
                  overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """Low end of the N* interval (uncertainty.crossover_band)."""
    return float(crossover_band(mname, isolation, preempt, callsite, overrides).low)


def crossover_high(mname: str, isolation: str, preempt: str | None, callsite: str,
                   overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """High end of the N* interval (uncertainty.crossover_band)."""
    return float(crossover_band(mname, isolation, preempt, callsite, overrides).high)


def crossover_n(mname: str, isolation: str, preempt: str | None, callsite: str,
                overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """CPU count where the QW and RL requester means are equal (nan none, inf unbounded)."""
    return float(crossover(mname, isolation, preempt, callsite, overrides).n_cpus)


def crossover_sides(mname: str, isolation: str, preempt: str | None, callsite: str,
                    overrides: tuple[tuple[str, float], ...] = ()) -> tuple[str, str]:
    """(winner below, winner above) the crossover CPU count."""
    c = crossover(mname, isolation, preempt, callsite, overrides)
    return c.below, c.above


def crossover_rate(mname: str, isolation: str, preempt: str | None, callsite: str,
                   overrides: tuple[tuple[str, float], ...], n_cpus: float) -> float:
    """Remote drains/s per CPU above which RL costs less total CPU than QW (Hz).

    nan where decide.crossover_rate cannot decide (its load difference is NaN, e.g.
    an infinite QW CPU time when the kworker never runs)."""
    try:
        return float(DC.crossover_rate(scenario(mname, isolation, preempt, callsite, overrides),
                                      n_cpus))
    except ValueError:
        return math.nan


_XL: dict[tuple, float] = {}


def crossover_local_rate(mname: str, isolation: str, preempt: str | None, callsite: str,
                         overrides: tuple[tuple[str, float], ...], n_cpus: float) -> float:
    """Local ops/s per CPU above which RL's fast-path tax costs more CPU than QW (Hz)."""
    key = (mname, isolation, preempt, callsite, overrides, n_cpus)
    if key not in _XL:
        prefetch_local_rates([key])
    return _XL[key]


def prefetch_local_rates(keys: Sequence[tuple]) -> None:
    """:func:`crossover_local_rate` of many (machine, isolation, preempt, callsite,
    overrides, n_cpus) keys, solved together (hotpath.crossover_local_rates: each the
    value it gives alone)."""
    from pwmodel import hotpath
    todo = list(dict.fromkeys(k for k in keys if k not in _XL))
    if not todo:
        return
    got = hotpath.crossover_local_rates([scenario(*k[:5]) for k in todo], [k[5] for k in todo])
    for k, x in zip(todo, got):
        _XL[k] = x


def strategy_value(mname: str, isolation: str, callsite: str,
                   overrides: tuple[tuple[str, float], ...], n_cpus: float, strategy: str,
                   column: str) -> float:
    """One column of :func:`pwmodel.strategies.evaluate_all` (any of QW, RL, RU, SKIP)."""
    df = _strategies(mname, isolation, callsite, overrides, n_cpus)
    return float(df.filter(pl.col("strategy") == strategy)[column][0])


@functools.lru_cache(maxsize=256)
def _strategies(mname: str, isolation: str, callsite: str,
                overrides: tuple[tuple[str, float], ...], n_cpus: float) -> pl.DataFrame:
    """:func:`pwmodel.strategies.evaluate_all` at one CPU count (kept: the cover letter
    reads a score of its numbers)."""
    from pwmodel import strategies as ST
    return ST.evaluate_all(scenario(mname, isolation, None, callsite, overrides), [n_cpus])


def param_value(mname: str, callsite: str, overrides: tuple[tuple[str, float], ...], name: str) -> float:
    return float(scenario(mname, callsite=callsite, overrides=overrides).params()[name])


def param_source(mname: str, callsite: str, overrides: tuple[tuple[str, float], ...], name: str) -> str:
    ps = scenario(mname, callsite=callsite, overrides=overrides).params()
    return ps.sources.get(name, P.PARAMS[name].source)   # call-site values carry their own


@functools.lru_cache(maxsize=64)
def _line_moves_frame(callsite: str) -> pl.DataFrame:
    """The call site's line-move table (SymPy substitution per line kind: worth keeping)."""
    ps = P.resolve(None).with_overrides(CS.get(callsite).params)
    return coherence.line_moves_frame(dict(ps.values))


def line_moves(callsite: str, strategy: str, which: str = "all") -> float:
    """Line transfers per drain of one dirty CPU for a call site.

    ``which``: all, work (work item, pool, barrier), batch (lock, batch, folio lines)
    or lru (the lruvec lines both strategies move)."""
    df = _line_moves_frame(callsite)
    kinds = {
        "work": ("work_struct / pw_struct", "worker_pool lock + worklist", "flush barrier completion"),
        "batch": ("per-CPU pw_lock", "folio_batch header + first pointers", "folio_batch pointer array",
                  "struct folio (flags, lru)"),
        "lru": ("lruvec lru_lock + lists",),
    }
    if which != "all":
        df = df.filter(pl.col("line").is_in(list(kinds[which])))
    col = "qw_transfers" if strategy == "QW" else "rl_transfers"
    return float(df[col].sum())


# ---- maps ---------------------------------------------------------------------------
def ratio_map(sc: E.Scenario, column: str, n: np.ndarray, rates_hz: Sequence[float] | None = None
              ) -> pl.DataFrame:
    """log10(QW / RL) of ``column`` over CPU counts (and remote rates if given).

    Only ``column`` is computed (evaluate.metrics: evaluate()'s numbers, without the
    other metrics, the p99 mixture quantiles above all)."""
    rows = []
    for rate in (rates_hz if rates_hz is not None else [None]):
        s2 = sc if rate is None else dataclasses.replace(
            sc, overrides={**(sc.overrides or {}), "remote_rate_hz": float(rate)})
        q, r = E.metrics(s2, n, [column])[column]
        lr = CMP.log10_ratio(q, r)
        rows.append(pl.DataFrame({"n_cpus": np.asarray(n, float),
                                  "remote_rate_hz": [float(rate) if rate is not None else math.nan] * len(n),
                                  "qw": q, "rl": r, "log10_qw_over_rl": lr}))
    return pl.concat(rows)


# ---- term breakdown ---------------------------------------------------------------
def breakdown(sc: E.Scenario, n_cpus: float) -> list[tuple[str, str, float]]:
    """(strategy, term, ns) terms of the requester mean (:mod:`pwmodel.models.breakdown`,
    in the regime that applies, with the idle owner's inputs); they sum to evaluate()'s
    value."""
    v = E.inputs(sc, np.array([float(n_cpus)]))
    idle = OW.is_idle(sc.isolation)

    def ev(expr, vals=v) -> float:
        return float(np.ravel(numeric(expr, vals))[0])

    regime = "lock" if ev(BD.lock_bound_expr()) else "slowest"
    out = []
    for strat in E.STRATEGIES:
        vals = OW.owner_values(v, idle) if strat == "RL" else v   # as in evaluate()
        out += [(strat, t.name, ev(t.expr, vals)) for t in BD.terms(strat, sc.pattern)
                if t.regime in (None, regime)]                      # the other regime's are 0
    if sc.dirty_count != "fixed":
        # the terms are the form at the mean dirty count d N; the binomial D averages the
        # form over its law (pwmodel.models.dirty): the difference is its own term
        df = E.evaluate(sc, [float(n_cpus)])
        for strat in E.STRATEGIES:
            total = float(df.filter(pl.col("strategy") == strat)["requester_mean_ns"][0])
            gap = total - sum(x for s, _, x in out if s == strat)
            if gap != 0.0 and not math.isnan(gap):    # (inf - inf: both unbounded, no term)
                out.append((strat, "spread of the dirty count D (average over its law)", gap))
    return out


# ---- victim interruption distribution ------------------------------------------------
def rl_victim_ccdf(sc: E.Scenario, x_ns: np.ndarray, n_cpus: float) -> np.ndarray:
    """P(interruption > x) of one remote drain for the target's task (RL):
    ``fanout.rl_victim_ccdf_expr`` at the scenario's values; its mean is
    ``fanout.rl_victim_mean_expr``."""
    v = E.inputs(sc, np.array([float(n_cpus)]))
    x = np.asarray(x_ns, dtype=float)
    vals = {k: (float(np.ravel(a)[0]) if isinstance(a, np.ndarray) else a) for k, a in v.items()}
    return np.broadcast_to(numeric(F.rl_victim_ccdf_expr(), {**vals, "loss_ns": x}), x.shape)
