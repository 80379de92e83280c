"""The what-if explorer of notebook 07: :func:`whatif` is its numeric core (no widgets),
:class:`WhatIf` wires it to ipywidgets."""

from __future__ import annotations

import math
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
from pwmodel.evaluate import METRICS, Scenario, evaluate
from pwmodel.models import callsite as CS
from pwmodel.models import fastpath as FP
from pwmodel.models import wakeup as W
from pwmodel.notebook.display import (figure_png, fmt_value, pick, place_legend, plot_strategies,
                                      table_html)


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
        rows.append({"metric": m, "qw": a, "rl": b, "winner": str(CMP.winner(a, b)),
                     "ratio": float(CMP.ratio(a, b))})
    at_n = pl.DataFrame(rows)
    xo = crossover_n(sc)
    wq, wr = float(q[col]), float(r[col])
    winner = str(CMP.winner(wq, wr))
    v = V.verdict(sc.machine, state.isolation, n, state.callsite, state.remote_rate_hz,
                  state.local_rate_hz, sc.preempt_model,
                  overrides={"dirty_fraction": state.dirty_fraction})
    configs = ("" if (state.qw_config, state.rl_config) == ("auto", "auto") else
               " (The verdict uses the default kernel configurations of each strategy.)")
    summary = (f"{state.machine}, N = {n} CPUs, {W.LABELS[state.isolation]}, "
               f"{CS.name_of(state.callsite)}: "
               f"{state.objective} QW {fmt_value(wq, col)} vs RL {fmt_value(wr, col)} "
               f"-> {winner} wins ({fmt.ratio_of(wq, wr)}). " + V.paragraph(v) + configs)
    return WhatIfResult(state, at_n, curve, xo.n_cpus, xo.method, summary, {"verdict": v})


def whatif_figure(res: WhatIfResult) -> Any:
    """Figure of the objective against N for both strategies, with N and the crossover marked."""
    import matplotlib
    from matplotlib.figure import Figure
    col = OBJECTIVES[res.state.objective]
    fig = Figure(figsize=(7.8, 3.8))
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
    place_legend(ax)
    del matplotlib
    return fig


def at_n_text(at_n: pl.DataFrame) -> pl.DataFrame:
    """The explorer's per-metric table as text: each value in its metric's unit (pwmodel.fmt)."""
    return pl.DataFrame([{"metric": r["metric"], "QW": fmt.value(r["qw"], r["metric"]),
                          "RL": fmt.value(r["rl"], r["metric"]), "winner": r["winner"],
                          "ratio (worse / better)": fmt.ratio_of(r["qw"], r["rl"])}
                         for r in at_n.iter_rows(named=True)])


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
