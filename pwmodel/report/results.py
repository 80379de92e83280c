"""The model queries behind the report: every number and curve comes from here.

Each scalar function is a plain call into :mod:`pwmodel.evaluate`,
:mod:`pwmodel.decide` or :mod:`pwmodel.models` with hashable arguments, so
the cover-letter builder can record *which call* produced a printed number
and a test can call it again. Frame-producing functions feed the figures.

Uncertainty bands: no fitted parameter uncertainties exist yet, so a band
is the envelope of two corner evaluations: every time parameter (ns) whose
source is an assumption scaled by 1/2 and by 2 (clipped to its registry
bounds), together with the machine's core-to-core latencies scaled by the
smallest p10/median and the largest p90/median ratio of that CPU model's
rows in data/reference/c2c_latency.csv (0.8 and 1.2 when the model has no
rows). Outputs grow with every such time, so the corners bound the band.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import polars as pl

from pwmodel import decide as D
from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.models import callsite as CS
from pwmodel.models import coherence, contention
from pwmodel.models import fanout as F
from pwmodel.models import fastpath as FP
from pwmodel.models import numeric
from pwmodel.models import wakeup as W

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "data" / "reference"
N_TABLE = tuple(2 ** k for k in range(11))            # 1 .. 1024
BAND_FACTOR = 2.0
C2C_FALLBACK = (0.8, 1.2)
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
    callsites: tuple[str, ...] = tuple(CS.CALLSITES)
    isolations: tuple[str, ...] = W.ISOLATION
    objective: str | None = None          # None: requester_mean (N map), cpu_load (rate maps)
    overrides: tuple[tuple[str, float], ...] = ()
    text_only: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.machines:
            raise PwmodelError("no machine given", field="machine")
        for cs in self.callsites:
            CS.get(cs)
        for iso in self.isolations:
            W.check(iso)
        if self.objective is not None:
            D.check_objective(self.objective)
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
@functools.lru_cache(maxsize=4096)
def _evaluated(mname: str, isolation: str, preempt: str | None, callsite: str,
               overrides: tuple[tuple[str, float], ...], n_cpus: float) -> pl.DataFrame:
    return E.evaluate(scenario(mname, isolation, preempt, callsite, overrides), [n_cpus])


def metric(mname: str, isolation: str, preempt: str | None, callsite: str,
           overrides: tuple[tuple[str, float], ...], n_cpus: float, strategy: str, column: str) -> float:
    """One column of :func:`pwmodel.evaluate.evaluate` for one strategy at one CPU count."""
    df = _evaluated(mname, isolation, preempt, callsite, overrides, n_cpus)
    return float(df.filter(pl.col("strategy") == strategy)[column][0])


def clear_caches() -> None:
    """Forget cached evaluations (a recomputation then calls the model again)."""
    _evaluated.cache_clear()
    _crossover.cache_clear()


def tax_ns(mname: str, config: str, overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """Fast-path tax of ``config`` on a machine, ns per local operation."""
    df = E.fastpath_table(machine(mname), dict(overrides) or None)
    return float(df.filter(pl.col("config") == config)["tax_ns"][0])


def tax_cycles(mname: str, config: str, overrides: tuple[tuple[str, float], ...] = ()) -> float:
    df = E.fastpath_table(machine(mname), dict(overrides) or None)
    return float(df.filter(pl.col("config") == config)["tax_cycles"][0])


def tax_share(mname: str, config: str, rate_hz: float,
              overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """Share of one CPU (1 = 100 %) spent on the tax at ``rate_hz`` local ops/s."""
    ps = P.resolve(machine(mname), dict(overrides) or None)
    return float(numeric(FP.tax_fraction_expr(config), {**ps.values, "local_rate_hz": rate_hz}))


def default_param(name: str) -> float:
    """A parameter's registry default (no machine, no call site)."""
    return float(P.PARAMS[name].default)


def default_tax_cycles(config: str) -> float:
    """Tax in cycles from the registry defaults alone (3.0 GHz generic machine)."""
    ps = P.defaults()
    return float(numeric(FP.cycles(FP.tax_expr(config)), ps.values))


@functools.lru_cache(maxsize=256)
def _crossover(mname: str, isolation: str, preempt: str | None, callsite: str,
               overrides: tuple[tuple[str, float], ...]) -> D.Crossover:
    return D.crossover_n(scenario(mname, isolation, preempt, callsite, overrides))


def crossover_n(mname: str, isolation: str, preempt: str | None, callsite: str,
                overrides: tuple[tuple[str, float], ...] = ()) -> float:
    """CPU count where the QW and RL requester means are equal (nan none, inf unbounded)."""
    return float(_crossover(mname, isolation, preempt, callsite, overrides).n_cpus)


def crossover_sides(mname: str, isolation: str, preempt: str | None, callsite: str,
                    overrides: tuple[tuple[str, float], ...] = ()) -> tuple[str, str]:
    """(winner below, winner above) the crossover CPU count."""
    c = _crossover(mname, isolation, preempt, callsite, overrides)
    return c.below, c.above


def crossover_rate(mname: str, isolation: str, preempt: str | None, callsite: str,
                   overrides: tuple[tuple[str, float], ...], n_cpus: float) -> float:
    """Remote drains/s per CPU above which RL costs less total CPU than QW (Hz).

    nan where decide.crossover_rate cannot decide (its load difference is NaN, e.g.
    an infinite QW CPU time when the kworker never runs)."""
    try:
        return float(D.crossover_rate(scenario(mname, isolation, preempt, callsite, overrides),
                                      n_cpus))
    except ValueError:
        return math.nan


def param_value(mname: str, callsite: str, overrides: tuple[tuple[str, float], ...], name: str) -> float:
    return float(scenario(mname, callsite=callsite, overrides=overrides).params()[name])


def param_source(mname: str, callsite: str, overrides: tuple[tuple[str, float], ...], name: str) -> str:
    ps = scenario(mname, callsite=callsite, overrides=overrides).params()
    return ps.sources.get(name, P.PARAMS[name].source)   # call-site values carry their own


def line_moves(callsite: str, strategy: str, which: str = "all") -> float:
    """Line transfers per drain of one dirty CPU for a call site.

    ``which``: all, work (work item, pool, barrier), batch (lock, batch, folio lines)
    or lru (the lruvec lines both strategies move)."""
    ps = P.resolve(None).with_overrides(CS.get(callsite).params)
    df = coherence.line_moves_frame(dict(ps.values))
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


def budget_ns(quantity: str) -> float:
    """A latency budget quoted in data/reference/pw_series_numbers.csv (value in us -> ns)."""
    with open(REF / "pw_series_numbers.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["quantity"] == quantity and row["unit"] == "us":
                return float(row["value"]) * 1e3
    raise PwmodelError(f"no budget '{quantity}' in pw_series_numbers.csv", field="quantity")


BUDGETS = (("5G RAN latency requirement", "5G RAN"),
           ("industrial automation response deadline", "industrial control"))


def kmalloc_anchor_cycles(kernel: str, variant_prefix: str) -> float:
    """Measured cycles per kmalloc (data/reference/kmalloc_locallock_vs_spinlock_cycles.csv)."""
    with open(REF / "kmalloc_locallock_vs_spinlock_cycles.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["kernel_config"] == kernel and row["variant"].startswith(variant_prefix):
                return float(row["avg_cycles_per_kmalloc"])
    raise PwmodelError(f"no kmalloc row {kernel} / {variant_prefix}", field="variant")


# (model config, kernel config, variant prefix of the patched row, of the reference row)
ANCHORS = (
    ("pwlocks_n", "CONFIG_PREEMPT_DYNAMIC=y", "patched, CONFIG_QPW=n", "unpatched"),
    ("pwlocks0", "CONFIG_PREEMPT_DYNAMIC=y", "patched, CONFIG_QPW=y, qpw=0", "unpatched"),
    ("pwlocks1", "CONFIG_PREEMPT_DYNAMIC=y", "patched, CONFIG_QPW=y, qpw=1", "unpatched"),
    ("rt_pwlocks0", "CONFIG_PREEMPT_RT", "patched, CONFIG_QPW=y, qpw=0", "unpatched"),
    ("rt_pwlocks1", "CONFIG_PREEMPT_RT", "patched, CONFIG_QPW=y, qpw=1", "unpatched"),
)


def anchor_delta_cycles(config: str) -> float:
    """Measured kmalloc cycles added by ``config`` over the unpatched kernel."""
    for cfg, kern, var, ref in ANCHORS:
        if cfg == config:
            return kmalloc_anchor_cycles(kern, var) - kmalloc_anchor_cycles(kern, ref)
    raise PwmodelError(f"no kmalloc anchor for '{config}'", field="config")


# ---- uncertainty corners -------------------------------------------------------------
def c2c_ratios(m: M.Machine) -> tuple[float, float, str]:
    """(p10/median min, p90/median max, source) of the machine's CPU model rows."""
    key = m.cpu_model.split(" (")[0].strip().lower()
    lo, hi = [], []
    with open(REF / "c2c_latency.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["cpu_model"].lower().startswith(key):
                continue
            try:
                lat, p10, p90 = float(row["latency_ns"]), float(row["p10_ns"]), float(row["p90_ns"])
            except ValueError:
                continue
            if lat > 0:
                lo.append(p10 / lat)
                hi.append(p90 / lat)
    if not lo:
        return (*C2C_FALLBACK, "assumption: c2c x0.8 / x1.2 (no p10/p90 rows for this CPU model)")
    return (min(lo), max(hi), f"data/reference/c2c_latency.csv p10/p90 of '{key}' rows")


def assumed_time_params(sc: E.Scenario) -> list[str]:
    """Time parameters (ns) whose value rests on an assumption, for the band corners."""
    ps = sc.params()
    return [name for name, p in P.PARAMS.items()
            if p.unit == "ns" and "assumption" in ps.sources.get(name, "")]


def corner(sc: E.Scenario, side: str) -> E.Scenario:
    """The low (``side='lo'``) or high corner scenario of the band."""
    lo_r, hi_r, _ = c2c_ratios(sc.machine)
    r = lo_r if side == "lo" else hi_r
    f = 1 / BAND_FACTOR if side == "lo" else BAND_FACTOR
    m = dataclasses.replace(sc.machine, levels=tuple(
        dataclasses.replace(lv, c2c_ns=lv.c2c_ns * r) for lv in sc.machine.levels))
    ps = sc.params()
    ov = dict(sc.overrides or {})
    for name in assumed_time_params(sc):
        lo, hi = P.PARAMS[name].bounds
        ov[name] = min(max(ps[name] * f, lo), hi)
    return dataclasses.replace(sc, machine=m, overrides=ov)


def curves(sc: E.Scenario, n: Sequence[float] | np.ndarray) -> pl.DataFrame:
    """evaluate() at ``n`` with the band corners as extra columns ``*_lo`` / ``*_hi``."""
    base = E.evaluate(sc, n)
    lo = E.evaluate(corner(sc, "lo"), n)
    hi = E.evaluate(corner(sc, "hi"), n)
    cols = ["requester_mean_ns", "requester_p99_ns", "victim_mean_ns", "victim_worst_ns"]
    return base.with_columns(
        *[lo[c].alias(c.replace("_ns", "_lo_ns")) for c in cols],
        *[hi[c].alias(c.replace("_ns", "_hi_ns")) for c in cols])


# ---- maps ---------------------------------------------------------------------------
def ratio_map(sc: E.Scenario, column: str, n: np.ndarray, rates_hz: Sequence[float] | None = None
              ) -> pl.DataFrame:
    """log10(QW / RL) of ``column`` over CPU counts (and remote rates if given)."""
    rows = []
    for rate in (rates_hz if rates_hz is not None else [None]):
        s2 = sc if rate is None else dataclasses.replace(
            sc, overrides={**(sc.overrides or {}), "remote_rate_hz": float(rate)})
        df = E.evaluate(s2, n)
        q = df.filter(pl.col("strategy") == "QW")[column].to_numpy()
        r = df.filter(pl.col("strategy") == "RL")[column].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = np.where(np.isinf(q) & np.isfinite(r), np.inf, np.log10(q / r))
        rows.append(pl.DataFrame({"n_cpus": np.asarray(n, float),
                                  "remote_rate_hz": [float(rate) if rate is not None else math.nan] * len(n),
                                  "qw": q, "rl": r, "log10_qw_over_rl": lr}))
    return pl.concat(rows)


# ---- term breakdown ---------------------------------------------------------------
def breakdown(sc: E.Scenario, n_cpus: float) -> list[tuple[str, str, float]]:
    """(strategy, term, ns) terms of the requester mean; they sum to evaluate()'s value."""
    v = E.inputs(sc, np.array([float(n_cpus)]))

    def ev(expr) -> float:
        return float(np.ravel(numeric(expr, v))[0])

    d = ev(F.dirty_expr)
    act = min(d, 1.0)
    common = [("global mutex", ev(F.S["mutex_ns"])), ("read N batch counters", ev(F.check_expr()))]
    d1 = max(d, 1.0)
    tq = ev(F.S["queue_work_ns"])
    slowest = ev(F._slowest(F.X.wake_emax_ns))
    lock = ev(F.lru_serial_expr())
    if slowest >= lock:
        qw = common + [("queue_work_on x D", act * d1 * tq),
                       ("wait for slowest kworker", act * ev(F.X.wake_emax_ns)),
                       ("drain on target (hot)", act * ev(coherence.local_drain_expr()))]
    else:
        wmin = ev(F.X.wake_min_ns)
        qw = common + [("queue_work_on (first)", act * tq),
                       ("first kworker start", act * wmin),
                       ("lru_lock-serialised drains", act * (lock - tq - wmin))]
    qw += [("wake the flusher", act * ev(F.S["requester_wakeup_ns"]))]
    hold = coherence.remote_hold_expr(F.X.c2c_mean_ns)
    work = coherence.local_drain_expr()
    rl = common + [("line transfers (c2c) x D", d * (ev(hold) - ev(work))),
                   ("drain work x D", d * ev(work)),
                   ("wait for owner x D", d * ev(contention.remote_wait_expr()))]
    return [("QW", t, x) for t, x in qw] + [("RL", t, x) for t, x in rl]


# ---- victim interruption distribution ------------------------------------------------
def rl_victim_ccdf(sc: E.Scenario, x_ns: np.ndarray, n_cpus: float) -> np.ndarray:
    """P(interruption > x) of one remote drain for the target's task (RL).

    Same assumptions as fanout.rl_victim_mean_expr: the first local op after
    the farthest requester took the lock arrives after T1 ~ Exp(lambda_L) and
    spins for (S_R - T1)^+; with probability lambda_L / (lambda_R + lambda_L)
    it also pays the refetch r. Its mean equals rl_victim_mean_expr.
    """
    v = E.inputs(sc, np.array([float(n_cpus)]))
    sr = float(np.ravel(numeric(coherence.remote_hold_expr(F.X.c2c_max_ns), v))[0])
    r = float(np.ravel(numeric(coherence.owner_refetch_expr(F.X.c2c_max_ns), v))[0])
    ll, lr = v["local_rate_hz"], v["remote_rate_hz"]
    q = ll / (ll + lr) if ll + lr > 0 else 0.0
    lam = ll * 1e-9

    def ccdf_w(w: np.ndarray) -> np.ndarray:
        w = np.asarray(w, float)
        out = np.where(w < 0, 1.0, 1.0 - np.exp(-lam * np.clip(sr - w, 0, None)))
        return np.where(w >= sr, 0.0, out)
    return q * ccdf_w(x_ns - r) + (1 - q) * ccdf_w(x_ns)


# ---- sensitivity ---------------------------------------------------------------------
TORNADO_SKIP = ("budget_ns", "freq_hz", "base_op_ns", "static_key_ns", "per_cpu_ptr_ns",
                "call_ns", "atomic_rmw_ns", "preempt_ns")


def _moved(name: str, value: float) -> tuple[float, float]:
    lo, hi = P.PARAMS[name].bounds
    return max(value / BAND_FACTOR, lo), min(value * BAND_FACTOR, hi)


def tornado(mname: str, isolation: str, callsite: str,
            overrides: tuple[tuple[str, float], ...] = ()) -> list[tuple[str, float, float, float, float]]:
    """(param, low value, high value, N* at low, N* at high), largest swing first.

    Each parameter is moved alone by 1/2 and 2 (clipped to its bounds); those that
    do not change the requester difference at N = 8 and 512 are skipped."""
    sc = scenario(mname, isolation, None, callsite, overrides)
    ps = sc.params()
    probe = [8.0, 512.0]

    def diff(ov: dict) -> np.ndarray:
        df = E.evaluate(dataclasses.replace(sc, overrides={**dict(overrides), **ov}), probe)
        q = df.filter(pl.col("strategy") == "QW")["requester_mean_ns"].to_numpy()
        r = df.filter(pl.col("strategy") == "RL")["requester_mean_ns"].to_numpy()
        return q - r
    d0 = diff({})
    base = crossover_n(mname, isolation, None, callsite, overrides)
    out = []
    for name in P.PARAMS:
        if name in TORNADO_SKIP or name in dict(overrides):
            continue
        lo_v, hi_v = _moved(name, ps[name])
        if lo_v == hi_v:
            continue
        if all(np.allclose(diff({name: v}), d0, rtol=1e-12, atol=1e-9) for v in (lo_v, hi_v)):
            continue
        ns = [crossover_n(mname, isolation, None, callsite, tuple(sorted({**dict(overrides),
                                                                         name: v}.items())))
              for v in (lo_v, hi_v)]
        out.append((name, lo_v, hi_v, ns[0], ns[1]))
    def swing(r):
        vals = [x for x in r[3:] if math.isfinite(x) and x > 0]
        return max((abs(math.log(x / base)) for x in vals), default=0.0) if base > 0 else 0.0
    return sorted(out, key=lambda r: (-swing(r), r[0]))
