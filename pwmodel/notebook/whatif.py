"""The what-if explorer of notebook 07: :func:`whatif` is its numeric core (no widgets),
:class:`WhatIf` wires it to ipywidgets."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import polars as pl

from pwmodel import comparison as CMP
from pwmodel import fmt
from pwmodel import machine as M
from pwmodel import params as P
from pwmodel import verdict as V
from pwmodel.decide import OBJECTIVES, check_objective, crossover_n
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import METRICS, Scenario, evaluate, metrics
from pwmodel.models import callsite as CS
from pwmodel.models import fastpath as FP
from pwmodel.models import wakeup as W
from pwmodel.notebook.svgplot import Item, loglog_svg
from pwmodel.notebook.display import (axis_label, figure_png, fmt_value, pick, place_legend,
                                      plot_strategies, table_html)


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

    def scenario(self, machine: M.Machine | None = None) -> Scenario:
        """The model's scenario; ``machine``: this state's profile, if already read."""
        m = machine if machine is not None else M.get(self.machine)
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
    curve: pl.DataFrame         # the objective over the CPU grid: n_cpus, strategy, its column
    crossover_n_cpus: float
    crossover_method: str
    summary: str                # one line of plain text
    extra: Mapping[str, Any] = field(default_factory=dict)


# ---- what a widget change does not alter, kept -----------------------------------------
# Each piece is keyed by the state fields it depends on: an objective change recomputes
# nothing but the summary and the figure; a CPU-count change re-evaluates one CPU count and
# the verdict, not the curve or the crossover.
_CACHE_SIZE = 64
_CACHE: dict[tuple, Any] = {}


def _file_stamp(name: str) -> tuple:
    """(mtime, size) of a machine or call-site given as a file, so an edited file is re-read."""
    if name.endswith(".toml") or os.sep in name:
        try:
            st = os.stat(name)
        except OSError:
            return (name,)
        return (name, st.st_mtime_ns, st.st_size)
    return (name,)


def _scenario_key(state: WhatIfState) -> tuple:
    """The state fields the model depends on (not the objective, the CPU count or the axis)."""
    return (_file_stamp(state.machine), state.isolation, state.preempt_model,
            _file_stamp(state.callsite), state.qw_config, state.rl_config,
            float(state.remote_rate_hz), float(state.local_rate_hz), float(state.dirty_fraction))


def _cached(kind: str, key: tuple, make: Any) -> Any:
    k = (kind, *key)
    if k in _CACHE:
        _CACHE[k] = _CACHE.pop(k)          # most recent last
        return _CACHE[k]
    val = make()
    _CACHE[k] = val
    while len(_CACHE) > _CACHE_SIZE:
        del _CACHE[next(iter(_CACHE))]
    return val


def clear_cache() -> None:
    """Forget every kept piece (the model code changed, e.g. after a reload)."""
    _CACHE.clear()


def _grid_column(sc: Scenario, grid: np.ndarray, col: str) -> pl.DataFrame:
    """``col`` over the CPU counts ``grid`` in :func:`evaluate`'s long form (n_cpus, strategy,
    ``col``; sorted the same way), from :func:`pwmodel.evaluate.metrics`: the numbers
    evaluate gives, without the other metrics."""
    q, r = metrics(sc, grid, [col])[col]
    n = grid.astype(np.int64)
    return pl.DataFrame({"n_cpus": np.concatenate([n, n]),
                         "strategy": ["QW"] * n.size + ["RL"] * n.size,
                         col: np.concatenate([q, r])}).sort(["n_cpus", "strategy"])


def whatif(state: WhatIfState, grid_points: int | None = None) -> WhatIfResult:
    """Evaluate one explorer state: all metrics at N, the objective over a CPU grid, the crossover.

    Pieces a change does not alter are kept (per machine, level, call site, configurations
    and rates): the curve over the CPU grid, the crossover, the evaluation at N and the
    verdict; the objective only picks what the summary and the figure show."""
    col = check_objective(state.objective)
    key = _scenario_key(state)
    # the profile is read once per file (not again for each level or rate of that machine)
    sc = _cached("scenario", key, lambda: state.scenario(
        _cached("machine", (_file_stamp(state.machine),), lambda: M.get(state.machine))))
    n = int(state.n_cpus)
    pts = grid_points or pick(33, 9)
    n_top = max(state.n_max, n)
    grid = np.unique(np.round(np.geomspace(1, n_top, pts)))
    # every metric at N (the table), only the objective over the grid (the figure: the
    # quantiles of the p99 over the grid cost more than the rest of a new scenario's curve)
    at = _cached("at_n", (*key, n), lambda: evaluate(sc, [n]))
    base = _cached("curve", (*key, n_top, pts, col), lambda: _grid_column(sc, grid, col))
    curve = (base if n in grid else
             pl.concat([base, at.select(base.columns)]).sort(["n_cpus", "strategy"]))
    q = at.filter(pl.col("strategy") == "QW").row(0, named=True)
    r = at.filter(pl.col("strategy") == "RL").row(0, named=True)
    rows = []
    for m in METRICS:
        a, b = float(q[m]), float(r[m])
        rows.append({"metric": m, "qw": a, "rl": b, "winner": str(CMP.winner(a, b)),
                     "ratio": float(CMP.ratio(a, b))})
    at_n = pl.DataFrame(rows)
    xo = _cached("crossover", key, lambda: crossover_n(sc))
    wq, wr = float(q[col]), float(r[col])
    winner = str(CMP.winner(wq, wr))
    auto = (state.qw_config, state.rl_config) == ("auto", "auto")
    # the verdict's scenario is this one when the configurations are the defaults: it reads
    # the values at N and the crossover computed above instead of computing them again
    v = _cached("verdict", (*key, n), lambda: V.verdict(
        sc.machine, state.isolation, n, state.callsite, state.remote_rate_hz,
        state.local_rate_hz, sc.preempt_model, overrides={"dirty_fraction": state.dirty_fraction},
        at_n={m: (q[m], r[m]) for m in V.AT_N} if auto else None,
        crossover=xo if auto else None))
    configs = ("" if auto else
               " (The verdict uses the default kernel configurations of each strategy.)")
    summary = (f"{state.machine}, N = {n} CPUs, {W.LABELS[state.isolation]}, "
               f"{CS.name_of(state.callsite)}: "
               f"{state.objective} QW {fmt_value(wq, col)} vs RL {fmt_value(wr, col)} "
               f"-> {winner} wins ({fmt.ratio_of(wq, wr)}). " + V.paragraph(v) + configs)
    return WhatIfResult(state, at_n, curve, xo.n_cpus, xo.method, summary, {"verdict": v})


_SUP = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _power_label(v: float, _pos: Any = None) -> str:
    """Tick label of a log axis as plain text ('1024', '10\u2074'): no mathtext to typeset."""
    if v <= 0 or not math.isfinite(v):
        return ""
    e = math.log10(v)
    if abs(e - round(e)) < 1e-9 and abs(e) >= 3:
        return "10" + str(int(round(e))).translate(_SUP)
    return f"{v:g}"


def whatif_figure(res: WhatIfResult) -> Any:
    """Figure of the objective against N for both strategies, with N and the crossover marked.

    Drawn for a fixed layout (room on the right for the legend) with plain-text tick
    labels and major grid lines only: the explorer redraws it at every change."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullLocator
    col = OBJECTIVES[res.state.objective]
    fig = Figure(figsize=(7.8, 3.8))
    fig.subplots_adjust(left=0.1, right=0.7, bottom=0.13, top=0.91)
    ax = fig.add_subplot(1, 1, 1)
    budget = P.defaults()["budget_ns"] if res.state.objective.startswith("victim") else None
    plot_strategies(res.curve, col, ax=ax, budget_ns=budget,
                    title=f"{res.state.machine}: {W.LABELS[res.state.isolation]}")
    ax.axvline(res.state.n_cpus, color="k", lw=0.8, alpha=0.6, label=f"N = {res.state.n_cpus}")
    lo, hi = ax.get_xlim()
    xo = res.crossover_n_cpus
    if res.state.objective == "requester_mean":
        if math.isfinite(xo) and lo <= xo <= hi:      # only inside the modelled range
            ax.axvline(xo, color="tab:red", lw=0.8, ls="-.", label=f"N* = {fmt.cpus(xo)} CPUs")
        else:
            ax.plot([], [], " ", label=f"N* {fmt.crossover(xo, n_max=int(hi))}: off this axis")
        ax.set_xlim(lo, hi)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_power_label))
        axis.set_minor_locator(NullLocator())
    ax.grid(False, which="minor")
    place_legend(ax)
    del matplotlib
    return fig


def whatif_png(res: WhatIfResult) -> bytes:
    """PNG of :func:`whatif_figure` in its fixed layout (one drawing, no tight-box pass)."""
    return figure_png(whatif_figure(res), tight=False)


def whatif_items(res: WhatIfResult) -> tuple[list[Item], dict[str, Any]]:
    """What :func:`whatif_figure` draws, as :mod:`pwmodel.notebook.svgplot` items (in the
    order of its legend) and the figure's title, axis labels and x range: QW solid and RL
    dashed (markers below 20 points; a curve unbounded everywhere named in the legend
    instead, as :func:`~pwmodel.notebook.display.plot_strategies` does), the budget of a
    victim objective, N and, for the requester mean, the crossover N*."""
    col = OBJECTIVES[res.state.objective]
    items: list[Item] = []
    missing: list[Item] = []
    for strat, style in (("QW", "-"), ("RL", "--")):
        s = res.curve.filter(pl.col("strategy") == strat).sort("n_cpus")
        x = s["n_cpus"].to_numpy().astype(float)
        raw = s[col].to_numpy().astype(float)
        y = np.where(np.isfinite(raw) & (raw > 0), raw, np.nan)
        if np.all(np.isnan(y)):
            why = ("unbounded (never completes)" if np.all(np.isinf(raw))
                   else "0 at every N" if np.all(raw == 0) else "undefined")
            missing.append(Item("note", f"{strat}: {why}, not drawn"))
            continue
        items.append(Item("line", strat, x, y, "#1f77b4", style, marker=x.size < 20))
    items += missing
    if res.state.objective.startswith("victim") and col.endswith("_ns"):
        b = P.defaults()["budget_ns"]
        items.append(Item("hline", f"budget {fmt.time_ns(b)}", y=b, colour="grey", style=":",
                              width=0.8))
    n = res.curve["n_cpus"].to_numpy().astype(float)
    lo, hi = float(n.min()), float(n.max())
    items.append(Item("vline", f"N = {res.state.n_cpus}", x=float(res.state.n_cpus),
                          colour="black", width=0.8, alpha=0.6))
    xo = res.crossover_n_cpus
    if res.state.objective == "requester_mean":
        if math.isfinite(xo) and lo <= xo <= hi:
            items.append(Item("vline", f"N* = {fmt.cpus(xo)} CPUs", x=xo, colour="#d62728",
                                  style="-.", width=0.8))
        else:
            items.append(Item("note", f"N* {fmt.crossover(xo, n_max=int(hi))}: off this axis"))
    frame = {"title": f"{res.state.machine}: {W.LABELS[res.state.isolation]}",
             "xlabel": "CPUs (N)", "ylabel": axis_label(col), "xlim": (lo, hi)}
    return items, frame


def whatif_svg(res: WhatIfResult) -> str:
    """:func:`whatif_figure` as SVG text, written directly (no matplotlib): what the explorer
    shows at every change."""
    items, frame = whatif_items(res)
    return loglog_svg(items, tick_label=_power_label, **frame)


def at_n_text(at_n: pl.DataFrame) -> pl.DataFrame:
    """The explorer's per-metric table as text: each value in its metric's unit (pwmodel.fmt)."""
    return pl.DataFrame([{"metric": r["metric"], "QW": fmt.value(r["qw"], r["metric"]),
                          "RL": fmt.value(r["rl"], r["metric"]), "winner": r["winner"],
                          "ratio (worse / better)": fmt.ratio_of(r["qw"], r["rl"])}
                         for r in at_n.iter_rows(named=True)])


class WhatIf:
    """The interactive explorer of notebook 07: widgets -> :func:`whatif` -> summary, table, figure
    (:func:`whatif_svg`: the figure as SVG text, a few milliseconds per change).

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
            "callsite": w.Dropdown(options=list(CS.CALLSITES) + ([s.callsite] if s.callsite
                                                                 not in CS.CALLSITES else []),
                                   value=s.callsite,
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
        self.image = w.Image(format="svg+xml", layout=w.Layout(width="560px"))
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
        self.image.value = whatif_svg(res).encode()
        self.summary.value = f"<span class='pwmodel-summary-text'>{res.summary}</span>"
        self.updates += 1
