"""Helpers for the numbered notebooks: size switch, LaTeX, tables, figures, the what-if explorer.

The notebooks in ``notebooks/`` stay thin: they import :mod:`pwmodel` and this
module and tell a story. Everything here is plain Python, testable without a
browser; the widget wiring of the explorer (notebook 07) is in
:class:`WhatIf`, whose numeric core :func:`whatif` needs no widgets at all.

``PWMODEL_SMALL=1`` in the environment selects small grids so that every
notebook runs in a few seconds (the test suite sets it).
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import polars as pl
import sympy as sp

from pwmodel import dist as D
from pwmodel import fmt
from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.decide import OBJECTIVES, check_objective, crossover_n
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import METRICS, Scenario, evaluate
from pwmodel.models import callsite as CS
from pwmodel.models import fastpath as FP
from pwmodel.models import wakeup as W
from pwmodel.models.symbols import EXTRA

SMALL_ENV = "PWMODEL_SMALL"
REPO = Path(__file__).resolve().parent.parent


# ---- size switch -----------------------------------------------------------------
def small() -> bool:
    """True when ``PWMODEL_SMALL`` is set to something other than '', '0', 'no', 'false'."""
    return os.environ.get(SMALL_ENV, "").strip().lower() not in ("", "0", "no", "false")


def n_grid(n_max: int = 1024, points: int = 41, small_points: int = 9) -> np.ndarray:
    """Distinct integer CPU counts from 1 to ``n_max``, geometrically spaced (fewer when small)."""
    if n_max < 1:
        raise PwmodelError(f"largest CPU count must be >= 1, found {n_max}", field="n_max")
    k = small_points if small() else points
    return np.unique(np.round(np.geomspace(1, n_max, max(k, 2))).astype(np.int64))


def pick(full: Any, small_value: Any) -> Any:
    """``small_value`` under the small-size switch, else ``full``."""
    return small_value if small() else full


# ---- symbolic results ------------------------------------------------------------
def symbol_names() -> dict[sp.Symbol, str]:
    """LaTeX names of the parameter symbols that declare one (others print as their name)."""
    out: dict[sp.Symbol, str] = {}
    for name, p in P.PARAMS.items():
        out[P.SYMBOLS[name]] = p.latex or r"\mathrm{" + name.replace("_", r"\_") + "}"
    for name, s in EXTRA.items():
        out[s] = r"\mathrm{" + name.replace("_", r"\_") + "}"
    return out


def tidy(expr: sp.Expr) -> sp.Expr:
    """Float constants with few digits become exact (1e-9 -> 1/10^9, 5e-10 -> 1/(2 10^9))."""
    rep = {}
    for f in expr.atoms(sp.Float):
        text = repr(float(f))
        mant = text.split("e")[0].replace("-", "").replace(".", "").strip("0")
        if len(mant) <= 6:
            rep[f] = sp.Rational(text)
    return expr.xreplace(rep) if rep else expr


def latex(expr: sp.Expr, lhs: str | None = None) -> str:
    """LaTeX of ``expr`` with the registry's symbol names, optionally as ``lhs = expr``."""
    body = sp.latex(tidy(expr), symbol_names=symbol_names())
    return f"{lhs} = {body}" if lhs else body


def show_math(expr: sp.Expr, lhs: str | None = None) -> Any:
    """An IPython ``Math`` object of ``expr`` (renders as LaTeX in Jupyter)."""
    from IPython.display import Math
    return Math(latex(expr, lhs))


def symbols_table(expr: sp.Expr) -> pl.DataFrame:
    """The symbols of ``expr`` with unit, meaning and source (one row each, sorted)."""
    rows = []
    for s in sorted(expr.free_symbols, key=str):
        name = str(s)
        p = P.PARAMS.get(name)
        rows.append({"symbol": name, "unit": p.unit if p else _extra_unit(name),
                     "meaning": p.meaning if p else "per-evaluation quantity (pwmodel.models.symbols)",
                     "default": p.default if p else None,
                     "source": p.source if p else "computed from machine and wake-up distribution"})
    return pl.DataFrame(rows, schema={"symbol": pl.Utf8, "unit": pl.Utf8, "meaning": pl.Utf8,
                                      "default": pl.Float64, "source": pl.Utf8})


def _extra_unit(name: str) -> str:
    return "ns" if name.endswith("_ns") else ("CPUs" if name == "n_cpus" else "1")


# ---- data ------------------------------------------------------------------------
def reference(name: str) -> pl.DataFrame:
    """A published dataset from ``data/reference`` (``name`` without folder or ``.csv``).

    Uses :func:`pwmodel.data.load` when that module exists, else reads the CSV.
    """
    name = name.removeprefix("reference/").removesuffix(".csv")
    if has_module("data"):
        from pwmodel import data as DATA
        return DATA.load(f"reference/{name}")
    path = REPO / "data" / "reference" / f"{name}.csv"
    if not path.exists():
        raise PwmodelError(f"no reference dataset '{name}'", file=str(path))
    return pl.read_csv(path, infer_schema_length=10000)


def has_module(name: str) -> bool:
    """True when ``pwmodel.<name>`` can be imported (parts of the package land over time)."""
    import importlib.util
    return importlib.util.find_spec(f"pwmodel.{name}") is not None


EXAMPLE_TRACE = REPO / "tests" / "fixtures" / "ingest" / "ftrace_tracefs_local.txt"


def measured(table: str) -> pl.DataFrame | None:
    """Every measured collection's ``table`` (lifecycle, requester, victim_gaps, events),
    concatenated with a ``dataset`` column; None when no measured data is present."""
    if not has_module("data"):
        return None
    from pwmodel import data as DATA
    names = [n for n in DATA.list_datasets()
             if n.startswith("measured/") and n.endswith(f"/{table}")]
    if not names:
        return None
    frames = [DATA.load(n).with_columns(dataset=pl.lit(n.split("/")[1])) for n in names]
    return pl.concat(frames, how="diagonal_relaxed")


def trace_lifecycle(path: str | os.PathLike, tsc_hz: float | None = None,
                    clock: str | None = None) -> pl.DataFrame:
    """Work-item lifecycle table (queue -> start -> end, ns) of an ftrace text file."""
    from pwmodel.ingest import derive, ftrace
    return derive.work_lifecycle(ftrace.parse_ftrace(path, tsc_hz=tsc_hz, clock=clock))


def wake_check(lifecycle: pl.DataFrame, models: Mapping[str, Sequence[str]],
               ps: P.ParamSet, preempt_model: str = "none",
               functions: Sequence[str] = ("lru_add_drain_per_cpu", "refresh_vm_stats"),
               target_cpu: int | None = 1) -> pl.DataFrame:
    """Measured queue->start per target state next to the model of each isolation level (ns).

    ``models`` maps a ``target_state`` of the lifecycle table (idle, other, fifo) to the
    isolation levels whose wake-up distribution should describe it.
    """
    lc = lifecycle.filter(pl.col("function").is_in(list(functions))
                          & pl.col("queue_to_start_ns").is_not_null())
    if target_cpu is not None:
        lc = lc.filter(pl.col("target_cpu") == target_cpu)
    rows = []
    for state, isos in models.items():
        x = lc.filter(pl.col("target_state") == state)["queue_to_start_ns"].to_numpy()
        rows.append({"target_state": state, "source": "measured",
                     **{k: v for k, v in latency_summary(x).items() if k != "what"}})
        for iso in isos:
            d = W.wake_dist(iso, preempt_model, ps)
            rows.append({"target_state": state, "source": f"model {iso}", "count": None,
                         "mean_ns": d.mean_ns(), "p50_ns": float(d.quantile(0.5)),
                         "p99_ns": float(d.quantile(0.99)), "max_ns": d.support()[1]})
    return pl.DataFrame(rows, schema={"target_state": pl.Utf8, "source": pl.Utf8,
                                      "count": pl.Int64, "mean_ns": pl.Float64,
                                      "p50_ns": pl.Float64, "p99_ns": pl.Float64,
                                      "max_ns": pl.Float64})


# ---- traces and distributions ---------------------------------------------------
class EmpiricalDist(D.LatencyDist):
    """Equal-weight point masses at sorted latencies (ns), with exact, fast order statistics.

    The maximum of n draws from the empirical CDF of x_1 <= ... <= x_m has
    E[max] = sum_k x_k ((k/m)^n - ((k-1)/m)^n); its q-quantile is the
    ceil(m q^(1/n))-th value. This keeps evaluations and crossover searches
    with a measured wake-up distribution fast (no quadrature).
    """

    def __init__(self, values_ns: Sequence[float] | np.ndarray, name: str = "empirical") -> None:
        x = np.sort(np.asarray(values_ns, dtype=float))
        if x.size == 0 or not np.isfinite(x).all():
            raise PwmodelError(f"{name}: need finite latency samples, found {x.size} value(s) "
                               "with non-finite or none")
        if x[0] < 0:
            raise PwmodelError(f"{name}: latencies must be >= 0 ns, found {x[0]:g}")
        super().__init__([D.point(float(v - x[0]), 1.0) for v in x], shift_ns=float(x[0]), name=name)
        self.values_ns = x

    def expected_max_ns(self, n: int | float | np.ndarray) -> np.ndarray | float:
        ns = np.atleast_1d(np.asarray(n, dtype=float))
        if np.any(~np.isfinite(ns)) or np.any(ns < 1):
            raise PwmodelError(f"number of CPUs must be >= 1, found {n!r}", field="n_cpus")
        m = self.values_ns.size
        k = np.arange(1, m + 1) / m
        w = k[None, :] ** ns[:, None] - (k - 1.0 / m)[None, :] ** ns[:, None]
        out = w @ self.values_ns
        return out if np.ndim(n) else float(out[0])

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        qs = np.asarray(q, dtype=float)
        if np.any((qs < 0) | (qs > 1)):
            raise PwmodelError(f"quantile level must be in [0, 1], found {q!r}")
        m = self.values_ns.size
        idx = np.clip(np.ceil(qs * m - 1e-9).astype(int) - 1, 0, m - 1)
        out = self.values_ns[idx]
        return out if np.ndim(q) else float(out)

    def quantile_of_max_ns(self, q: float, n: int | float) -> float:
        if n < 1:
            raise PwmodelError(f"number of CPUs must be >= 1, found {n!r}", field="n_cpus")
        return float(self.quantile(q ** (1.0 / n)))


def empirical_dist(samples_ns: Sequence[float] | np.ndarray, points: int = 256,
                   name: str = "empirical") -> EmpiricalDist:
    """The empirical distribution of latency samples (ns), thinned to ``points`` mid-quantiles
    when there are more samples. Usable as ``Scenario(wake=...)``."""
    x = np.asarray(samples_ns, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise PwmodelError("no finite latency samples to build a distribution from")
    if np.any(x < 0):
        raise PwmodelError(f"latencies must be >= 0 ns, found {x.min():g}")
    if x.size > points:
        x = np.quantile(x, (np.arange(points) + 0.5) / points)
    return EmpiricalDist(x, name=name)


def discretize(dist: D.LatencyDist, points: int = 1024, name: str | None = None) -> EmpiricalDist:
    """``points`` equal-weight mid-quantiles of a (fitted) distribution, for fast order statistics.

    Quantiles come from inverting the vectorised CDF on a dense log grid; the tail beyond the
    1 - 1/(2 points) quantile is cut, so E[max of n] is accurate for n well below ``points``.
    """
    if dist.p_infinite > 0:
        raise PwmodelError(f"{dist.name}: cannot discretize an unbounded wait")
    lo, _ = dist.support()
    q_hi = 1.0 - 0.5 / points
    hi = max(lo + 1.0, 1.0)
    while float(dist.cdf(hi)) < q_hi:
        hi *= 2.0
    grid = np.concatenate([[lo], lo + np.geomspace(1e-3, hi - lo + 1e-3, 8192)])
    F = np.maximum.accumulate(np.asarray(dist.cdf(grid), dtype=float))
    qs = (np.arange(points) + 0.5) / points
    x = np.interp(qs, F, grid)
    return EmpiricalDist(x, name=name or f"{dist.name} ({points} quantiles)")


def latency_summary(samples_ns: np.ndarray | pl.Series, label: str = "") -> dict[str, float | str]:
    """count, mean, p50, p99, max of latency samples (ns), one table row."""
    x = np.asarray(samples_ns, dtype=float)
    if x.size == 0:
        return {"what": label, "count": 0, "mean_ns": math.nan, "p50_ns": math.nan,
                "p99_ns": math.nan, "max_ns": math.nan}
    return {"what": label, "count": int(x.size), "mean_ns": float(x.mean()),
            "p50_ns": float(np.quantile(x, 0.5)), "p99_ns": float(np.quantile(x, 0.99)),
            "max_ns": float(x.max())}


def dist_summary(dist: D.LatencyDist, label: str = "", n_max: Sequence[int] = (1, 16, 256)) -> dict:
    """mean, p50, p99 and E[max of n] of a LatencyDist (ns), one table row."""
    row: dict[str, Any] = {"what": label or dist.name, "mean_ns": dist.mean_ns(),
                           "p50_ns": float(dist.quantile(0.5)), "p99_ns": float(dist.quantile(0.99))}
    for n in n_max:
        row[f"emax_{n}_ns"] = float(dist.expected_max_ns(n))
    return row


# ---- the answer on one page ----------------------------------------------------------
def answer(machine: M.Machine, n_cpus: int, isolations: Sequence[str] = W.ISOLATION,
           **scenario: Any) -> pl.DataFrame:
    """Per isolation level: the three costs of both strategies at ``n_cpus``, the winner
    on requester latency and the crossover CPU count (ns, CPUs)."""
    rows = []
    for iso in isolations:
        sc = Scenario(machine, iso, **scenario)
        df = evaluate(sc, [n_cpus])
        q = df.filter(pl.col("strategy") == "QW").row(0, named=True)
        r = df.filter(pl.col("strategy") == "RL").row(0, named=True)
        xo = crossover_n(sc)
        rows.append({
            "isolation": iso, "n_cpus": n_cpus,
            "qw_requester_mean_ns": q["requester_mean_ns"], "rl_requester_mean_ns": r["requester_mean_ns"],
            "qw_victim_worst_ns": q["victim_worst_ns"], "rl_victim_worst_ns": r["victim_worst_ns"],
            "qw_tax_ns": q["fastpath_tax_ns"], "rl_tax_ns": r["fastpath_tax_ns"] + r["fastpath_extra_ns"],
            "faster_requester": "RL" if r["requester_mean_ns"] < q["requester_mean_ns"] else "QW",
            "crossover_n_cpus": xo.n_cpus, "below": xo.below, "above": xo.above})
    return pl.DataFrame(rows)


def model_vs_sim(model: pl.DataFrame, sim: pl.DataFrame,
                 metric: str = "requester_mean_ns") -> pl.DataFrame:
    """Analytic ``metric`` next to the simulated one and its 95 % interval, per (n_cpus, strategy).

    ``rel_diff`` = model / simulated - 1; ``in_ci`` says whether the model lies in the interval.
    """
    base = metric.removesuffix("_ns")
    lo, hi = f"{base}_lo_ns", f"{base}_hi_ns"
    for col, frame, what in ((metric, model, "model"), (metric, sim, "simulation"),
                             (lo, sim, "simulation"), (hi, sim, "simulation")):
        if col not in frame.columns:
            raise PwmodelError(f"no column '{col}' in the {what} frame", field="metric")
    m = model.select("n_cpus", "strategy", pl.col(metric).alias("model_ns"))
    s = sim.select("n_cpus", "strategy", pl.col(metric).alias("simulated_ns"),
                   pl.col(lo).alias("sim_lo_ns"), pl.col(hi).alias("sim_hi_ns"))
    return (m.join(s, on=["n_cpus", "strategy"], how="inner")
            .with_columns(rel_diff=pl.col("model_ns") / pl.col("simulated_ns") - 1,
                          in_ci=pl.col("model_ns").is_between(pl.col("sim_lo_ns"), pl.col("sim_hi_ns")))
            .sort(["n_cpus", "strategy"]))


# ---- figures ---------------------------------------------------------------------
def plot_strategies(df: pl.DataFrame, metric: str = "requester_mean_ns", ax: Any = None,
                    by: str | None = None, budget_ns: float | None = None, title: str = "") -> Any:
    """QW and RL of one metric against CPU count (log-log), one line pair per ``by`` value."""
    import matplotlib.pyplot as plt
    if metric not in df.columns:
        raise PwmodelError(f"no column '{metric}' (have: {', '.join(df.columns)})", field="metric")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    groups = [None] if by is None else df[by].unique(maintain_order=True).to_list()
    for g in groups:
        part = df if g is None else df.filter(pl.col(by) == g)
        for strat, style in (("QW", "-"), ("RL", "--")):
            s = part.filter(pl.col("strategy") == strat).sort("n_cpus")
            y = s[metric].to_numpy().astype(float)
            y = np.where(np.isfinite(y) & (y > 0), y, np.nan)
            label = strat if g is None else f"{strat} {g}"
            ax.plot(s["n_cpus"].to_numpy(), y, style, label=label, marker="." if s.height < 20 else None)
    if budget_ns is not None and metric.endswith("_ns"):
        ax.axhline(budget_ns, color="grey", lw=0.8, ls=":", label=f"budget {budget_ns / 1e3:g} µs")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("CPUs (N)")
    ax.set_ylabel(axis_label(metric))
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def axis_label(column: str) -> str:
    """'requester_mean_ns' -> 'requester mean (ns)'."""
    units = {"ns": "ns", "hz": "Hz", "cpus": "CPUs", "cycles": "cycles", "lines": "lines"}
    head, _, unit = column.rpartition("_")
    if unit in units and head:
        return f"{head.replace('_', ' ')} ({units[unit]})"
    return column.replace("_", " ")


def figure_png(fig: Any, dpi: int = 80) -> bytes:
    """PNG bytes of a matplotlib figure (the figure is closed)."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# ---- what-if explorer ------------------------------------------------------------
PREEMPT_CHOICES = ("profile",) + W.PREEMPT_MODELS


@dataclass(frozen=True)
class WhatIfState:
    """One point of the explorer: machine, scenario and rates (ns, Hz inside)."""

    machine: str = "intel-xeon-8375c-2s"
    n_cpus: int = 64
    isolation: str = "nohz_other"
    preempt_model: str = "profile"
    callsite: str = "lru_add_drain"
    qw_config: str = "auto"
    rl_config: str = "auto"
    objective: str = "requester_mean"
    remote_rate_hz: float = 10.0
    local_rate_hz: float = 1e6
    dirty_fraction: float = 0.5
    n_max: int = 1024

    def scenario(self) -> Scenario:
        m = M.get(self.machine)
        return Scenario(m, self.isolation,
                        None if self.preempt_model == "profile" else self.preempt_model,
                        self.callsite,
                        None if self.qw_config == "auto" else self.qw_config,
                        None if self.rl_config == "auto" else self.rl_config,
                        {"remote_rate_hz": self.remote_rate_hz, "local_rate_hz": self.local_rate_hz,
                         "dirty_fraction": self.dirty_fraction})


@dataclass(frozen=True)
class WhatIfResult:
    state: WhatIfState
    at_n: pl.DataFrame          # one row per metric: metric, qw, rl, winner, ratio
    curve: pl.DataFrame         # evaluate() over the CPU grid
    crossover_n_cpus: float
    crossover_method: str
    summary: str                # one line of plain text
    extra: Mapping[str, Any] = field(default_factory=dict)


def whatif(state: WhatIfState, grid_points: int | None = None) -> WhatIfResult:
    """Evaluate one explorer state: all metrics at N, the objective over a CPU grid, the crossover."""
    col = check_objective(state.objective)
    sc = state.scenario()
    n = int(state.n_cpus)
    pts = grid_points or pick(33, 9)
    grid = np.unique(np.concatenate([np.round(np.geomspace(1, max(state.n_max, n), pts)), [n]]))
    curve = evaluate(sc, grid)
    at = curve.filter(pl.col("n_cpus") == n)
    q = at.filter(pl.col("strategy") == "QW").row(0, named=True)
    r = at.filter(pl.col("strategy") == "RL").row(0, named=True)
    rows = []
    for m in METRICS:
        a, b = float(q[m]), float(r[m])
        win = "tie" if math.isclose(a, b, rel_tol=1e-12) else ("RL" if b < a else "QW")
        lo, hi = min(a, b), max(a, b)
        rows.append({"metric": m, "qw": a, "rl": b, "winner": win,
                     "ratio": (hi / lo) if lo > 0 else math.inf})
    at_n = pl.DataFrame(rows)
    xo = crossover_n(sc)
    wq, wr = float(q[col]), float(r[col])
    winner = "tie" if math.isclose(wq, wr, rel_tol=1e-12) else ("RL" if wr < wq else "QW")
    summary = (f"{state.machine}, N = {n} CPUs, {W.LABELS[state.isolation]}, {state.callsite}: "
               f"{state.objective} QW {fmt_value(wq, col)} vs RL {fmt_value(wr, col)} "
               f"-> {winner} wins ({fmt.ratio_of(wq, wr)}); requester-latency crossover N*: "
               f"{fmt.crossover(xo.n_cpus, xo.below, xo.above, long=True)}")
    return WhatIfResult(state, at_n, curve, xo.n_cpus, xo.method, summary)


def fmt_value(v: float, column: str) -> str:
    """A value with its unit, scaled for reading (ns -> us/ms/s): :func:`pwmodel.fmt.value`."""
    return fmt.value(v, column)


def whatif_figure(res: WhatIfResult) -> Any:
    """Figure of the objective against N for both strategies, with N and the crossover marked."""
    import matplotlib
    from matplotlib.figure import Figure
    col = OBJECTIVES[res.state.objective]
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.add_subplot(1, 1, 1)
    budget = P.defaults()["budget_ns"] if res.state.objective.startswith("victim") else None
    plot_strategies(res.curve, col, ax=ax, budget_ns=budget,
                    title=f"{res.state.machine}: {W.LABELS[res.state.isolation]}")
    ax.axvline(res.state.n_cpus, color="k", lw=0.8, alpha=0.6)
    if math.isfinite(res.crossover_n_cpus) and res.state.objective == "requester_mean":
        ax.axvline(res.crossover_n_cpus, color="tab:red", lw=0.8, ls="-.",
                   label=f"crossover {res.crossover_n_cpus:.1f} CPUs")
        ax.legend(fontsize="small")
    del matplotlib
    return fig


def at_n_text(at_n: pl.DataFrame) -> pl.DataFrame:
    """The explorer's per-metric table as text: each value in its metric's unit (pwmodel.fmt)."""
    return pl.DataFrame([{"metric": r["metric"], "QW": fmt.value(r["qw"], r["metric"]),
                          "RL": fmt.value(r["rl"], r["metric"]), "winner": r["winner"],
                          "ratio (worse / better)": fmt.ratio_of(r["qw"], r["rl"])}
                         for r in at_n.iter_rows(named=True)])


def table_html(df: pl.DataFrame) -> str:
    """A small HTML table of a polars frame (for widgets, which do not render frames);
    floats formatted by their column's unit (pwmodel.fmt.value)."""
    def cell(v: Any, col: str) -> str:
        if isinstance(v, float):
            return fmt.value(v, col)
        return str(v)
    head = "".join(f"<th>{c}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v, c)}</td>" for v, c in zip(row, df.columns))
                   + "</tr>" for row in df.iter_rows())
    return f"<table class='pwmodel-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class WhatIf:
    """The interactive explorer of notebook 07: widgets -> :func:`whatif` -> summary, table, figure.

    ``WhatIf().widget`` is the container to display; ``set(**changes)`` moves
    the controls from code (as a reader would) and updates the outputs.
    """

    def __init__(self, state: WhatIfState | None = None) -> None:
        import ipywidgets as w
        s = state or WhatIfState()
        self.state = s
        self.result: WhatIfResult | None = None
        self.updates = 0
        lay = w.Layout(width="420px")
        sty = {"description_width": "150px"}
        m = M.get(s.machine)
        self.controls: dict[str, Any] = {
            "machine": w.Dropdown(options=M.bundled_names(), value=s.machine,
                                  description="machine", layout=lay, style=sty),
            "n_cpus": w.IntSlider(value=s.n_cpus, min=1, max=max(s.n_max, m.n_cpus), step=1,
                                  description="CPUs (N)", continuous_update=False,
                                  layout=lay, style=sty),
            "isolation": w.Dropdown(options=[(W.LABELS[i], i) for i in W.ISOLATION],
                                    value=s.isolation, description="isolation level",
                                    layout=lay, style=sty),
            "preempt_model": w.Dropdown(options=list(PREEMPT_CHOICES), value=s.preempt_model,
                                        description="preemption model", layout=lay, style=sty),
            "callsite": w.Dropdown(options=list(CS.CALLSITES), value=s.callsite,
                                   description="call site", layout=lay, style=sty),
            "qw_config": w.Dropdown(options=["auto", *FP.CONFIGS], value=s.qw_config,
                                    description="QW kernel config", layout=lay, style=sty),
            "rl_config": w.Dropdown(options=["auto", *FP.CONFIGS], value=s.rl_config,
                                    description="RL kernel config", layout=lay, style=sty),
            "objective": w.Dropdown(options=list(OBJECTIVES), value=s.objective,
                                    description="objective", layout=lay, style=sty),
            "remote_rate_hz": w.FloatLogSlider(value=s.remote_rate_hz, base=10, min=-2, max=5,
                                               step=0.1, description="remote drains (Hz)",
                                               continuous_update=False, layout=lay, style=sty),
            "local_rate_hz": w.FloatLogSlider(value=s.local_rate_hz, base=10, min=2, max=8,
                                              step=0.1, description="local ops (Hz)",
                                              continuous_update=False, layout=lay, style=sty),
            "dirty_fraction": w.FloatSlider(value=s.dirty_fraction, min=0.0, max=1.0, step=0.05,
                                            description="dirty CPUs (fraction)",
                                            continuous_update=False, layout=lay, style=sty),
        }
        self.summary = w.HTML(layout=w.Layout(width="100%"))
        self.summary.add_class("pwmodel-summary")
        self.table = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="560px"))
        for c in self.controls.values():
            c.observe(self._on_change, names="value")
        left = w.VBox(list(self.controls.values()))
        right = w.VBox([self.image, self.table])
        self.widget = w.VBox([w.HBox([left, right]), self.summary])
        self.update()

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self.update()

    def read_state(self) -> WhatIfState:
        """The state shown by the controls."""
        vals = {k: c.value for k, c in self.controls.items()}
        vals["n_cpus"] = int(vals["n_cpus"])
        return replace(self.state, **vals)

    def set(self, **changes: Any) -> None:
        """Move controls from code (each change triggers an update)."""
        for k, v in changes.items():
            if k not in self.controls:
                raise PwmodelError(f"no control '{k}' (have: {', '.join(self.controls)})", field=k)
            self.controls[k].value = v

    def update(self) -> None:
        """Recompute and redraw; bad input shows its message instead of a traceback."""
        self.state = self.read_state()
        try:
            res = whatif(self.state)
        except PwmodelError as exc:
            self.summary.value = f"<b>cannot evaluate:</b> {exc}"
            self.updates += 1
            return
        self.result = res
        self.table.value = table_html(at_n_text(res.at_n))
        self.image.value = figure_png(whatif_figure(res))
        self.summary.value = f"<span class='pwmodel-summary-text'>{res.summary}</span>"
        self.updates += 1


__all__ = ["small", "n_grid", "pick", "latex", "show_math", "symbols_table", "reference",
           "has_module", "EmpiricalDist", "discretize", "measured", "trace_lifecycle", "wake_check", "empirical_dist", "latency_summary", "dist_summary",
           "answer", "model_vs_sim", "plot_strategies", "axis_label", "figure_png", "WhatIfState", "WhatIfResult",
           "whatif", "whatif_figure", "fmt_value", "at_n_text", "table_html", "WhatIf"]
