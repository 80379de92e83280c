"""pwmodel.notebook: size switch, LaTeX, tables, distributions and the what-if explorer."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import sympy as sp

from pwmodel import machine as M
from pwmodel import notebook as NB
from pwmodel.decide import crossover_symbolic
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import METRICS, Scenario, evaluate
from pwmodel.models import fanout as F


def test_small_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    for val, want in (("1", True), ("yes", True), ("", False), ("0", False), ("false", False)):
        monkeypatch.setenv(NB.SMALL_ENV, val)
        assert NB.small() is want, val
    monkeypatch.delenv(NB.SMALL_ENV)
    assert NB.small() is False
    assert NB.pick("full", "small") == "full"


def test_n_grid_is_smaller_when_small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NB.SMALL_ENV, raising=False)
    full = NB.n_grid(1024)
    monkeypatch.setenv(NB.SMALL_ENV, "1")
    small = NB.n_grid(1024)
    for g in (full, small):
        assert g[0] == 1 and g[-1] == 1024 and np.all(np.diff(g) > 0)
    assert len(small) < len(full) <= 41
    with pytest.raises(PwmodelError):
        NB.n_grid(0)


def test_latex_uses_exact_constants_and_parses_back() -> None:
    expr = crossover_symbolic()
    tex = NB.latex(expr, "N^*")
    assert tex.startswith("N^* = ")
    assert "2000000000.0" not in tex and "e-" not in tex
    # tidy() only changes the printed form, not the value
    vals = {s: 1.0 + i / 7 for i, s in enumerate(sorted(expr.free_symbols, key=str))}
    assert float(NB.tidy(expr).subs(vals)) == pytest.approx(float(expr.subs(vals)), rel=1e-12)
    # long constants (a normal quantile) are kept as floats
    assert "2.326" in NB.latex(F.rl_p99_expr())
    assert NB.show_math(sp.Symbol("x") ** 2)._repr_latex_().startswith("$")


def test_symbols_table_has_units_for_every_symbol() -> None:
    t = NB.symbols_table(F.rl_mean_expr())
    assert set(t["symbol"]) == {str(s) for s in F.rl_mean_expr().free_symbols}
    assert t["unit"].null_count() == 0
    assert t.filter(pl.col("symbol") == "c2c_mean_ns")["unit"][0] == "ns"


def test_reference_dataset_and_bad_name() -> None:
    df = NB.reference("kmalloc_locallock_vs_spinlock_cycles")
    assert "avg_cycles_per_kmalloc" in df.columns and df.height == 7
    with pytest.raises(PwmodelError):
        NB.reference("no_such_dataset")


def test_empirical_dist_matches_samples() -> None:
    rng = np.random.default_rng(1)
    x = rng.exponential(10_000.0, 2000) + 5_000.0
    d = NB.empirical_dist(x, points=64)
    assert d.support()[0] == pytest.approx(np.quantile(x, 0.5 / 64), rel=1e-9)
    assert d.mean_ns() == pytest.approx(x.mean(), rel=0.05)
    assert float(d.expected_max_ns(8)) > d.mean_ns()
    with pytest.raises(PwmodelError):
        NB.empirical_dist([])
    with pytest.raises(PwmodelError):
        NB.empirical_dist([-1.0, 2.0])


def test_latency_summary_and_dist_summary() -> None:
    row = NB.latency_summary(np.array([1.0, 2.0, 3.0, 100.0]), "x")
    assert row["count"] == 4 and row["max_ns"] == 100.0 and row["p50_ns"] == 2.5
    assert math.isnan(NB.latency_summary(np.array([]))["mean_ns"])
    ps = Scenario(M.get("intel-xeon-8375c-2s"), "idle").wake_dist()
    r = NB.dist_summary(ps, "idle", n_max=(1, 16))
    assert r["emax_1_ns"] == pytest.approx(r["mean_ns"], rel=1e-6)
    assert r["emax_16_ns"] > r["emax_1_ns"]


def test_answer_one_row_per_isolation_and_consistent_winner() -> None:
    m = M.get("intel-xeon-8375c-2s")
    a = NB.answer(m, 64, isolations=("idle", "nohz_other", "nohz_fifo_none"))
    assert a["isolation"].to_list() == ["idle", "nohz_other", "nohz_fifo_none"]
    for row in a.iter_rows(named=True):
        want = "RL" if row["rl_requester_mean_ns"] < row["qw_requester_mean_ns"] else "QW"
        assert row["faster_requester"] == want
    # an unbounded FIFO wait: QW never completes, RL wins
    last = a.row(2, named=True)
    assert math.isinf(last["qw_requester_mean_ns"]) and last["faster_requester"] == "RL"


def test_axis_label_and_fmt_value() -> None:
    assert NB.axis_label("requester_mean_ns") == "requester mean (ns)"
    assert NB.axis_label("remote_rate_hz") == "remote rate (Hz)"
    assert NB.fmt_value(47_257.9, "requester_mean_ns") == "47.3 us"
    assert NB.fmt_value(9.5e8, "x_ns") == "950 ms"
    assert NB.fmt_value(math.inf, "x_ns") == "unbounded"


def test_plot_strategies_draws_both_strategies() -> None:
    import matplotlib
    matplotlib.use("Agg")
    df = evaluate(Scenario(M.get("aws-graviton2-64c")), [1, 4, 16])
    ax = NB.plot_strategies(df, "requester_mean_ns", budget_ns=20_000)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "QW" in labels and "RL" in labels
    assert ax.get_ylabel() == "requester mean (ns)"
    with pytest.raises(PwmodelError):
        NB.plot_strategies(df, "no_such_column")


def test_whatif_numbers_match_evaluate() -> None:
    st = NB.WhatIfState(machine="amd-epyc-7r13-2s", n_cpus=48, isolation="busy_other",
                        remote_rate_hz=100.0, n_max=256)
    res = NB.whatif(st, grid_points=5)
    ref = evaluate(Scenario(M.get("amd-epyc-7r13-2s"), "busy_other",
                            overrides={"remote_rate_hz": 100.0, "local_rate_hz": 1e6,
                                       "dirty_fraction": 0.5}), [48])
    q = ref.filter(pl.col("strategy") == "QW")
    assert res.at_n["metric"].to_list() == list(METRICS)
    got = res.at_n.filter(pl.col("metric") == "requester_mean_ns")
    assert got["qw"][0] == pytest.approx(q["requester_mean_ns"][0], rel=1e-12)
    assert 48 in res.curve["n_cpus"].to_list()
    # the figure's curve: the objective's values of evaluate() at the same CPU counts, exactly
    full = evaluate(Scenario(M.get("amd-epyc-7r13-2s"), "busy_other",
                             overrides={"remote_rate_hz": 100.0, "local_rate_hz": 1e6,
                                        "dirty_fraction": 0.5}), res.curve["n_cpus"].unique())
    assert res.curve.equals(full.select(res.curve.columns))
    assert "N = 48 CPUs" in res.summary and "busy SCHED_OTHER" in res.summary


def test_whatif_summary_changes_with_inputs() -> None:
    a = NB.whatif(NB.WhatIfState(n_cpus=8, n_max=64), grid_points=4)
    b = NB.whatif(NB.WhatIfState(n_cpus=9, n_max=64), grid_points=4)
    c = NB.whatif(NB.WhatIfState(n_cpus=8, n_max=64, isolation="nohz_fifo_none"), grid_points=4)
    assert a.summary != b.summary
    assert "QW never completes" in c.summary and "RL wins" in c.summary
    with pytest.raises(PwmodelError):
        NB.whatif(NB.WhatIfState(objective="speed"))


def test_whatif_keeps_what_a_change_does_not_alter(monkeypatch: pytest.MonkeyPatch) -> None:
    """An objective or CPU-count change reuses the crossover (and the curve of an objective
    shown before); the kept pieces give the same numbers as a fresh evaluation."""
    import importlib
    from dataclasses import replace
    WI = importlib.import_module("pwmodel.notebook.whatif")
    calls = {"crossover": 0, "evaluate": 0, "metrics": 0}
    real_xo, real_ev, real_m = WI.crossover_n, WI.evaluate, WI.metrics

    def xo(*a, **k):
        calls["crossover"] += 1
        return real_xo(*a, **k)

    def ev(*a, **k):
        calls["evaluate"] += 1
        return real_ev(*a, **k)

    def me(*a, **k):
        calls["metrics"] += 1
        return real_m(*a, **k)

    monkeypatch.setattr(WI, "crossover_n", xo)
    monkeypatch.setattr(WI, "evaluate", ev)
    monkeypatch.setattr(WI, "metrics", me)
    WI.clear_cache()
    st = NB.WhatIfState(machine="amd-epyc-7r13-2s", n_cpus=24, n_max=128, remote_rate_hz=50.0)
    a = WI.whatif(st, grid_points=6)
    assert calls == {"crossover": 1, "evaluate": 1, "metrics": 1}
    assert a.curve.columns == ["n_cpus", "strategy", "requester_mean_ns"]
    b = WI.whatif(replace(st, objective="victim_worst"), grid_points=6)
    assert calls == {"crossover": 1, "evaluate": 1, "metrics": 2}, \
        "objective change recomputed more than its own curve"
    assert "victim_worst" in b.summary and b.crossover_n_cpus == a.crossover_n_cpus
    WI.whatif(st, grid_points=6)
    assert calls == {"crossover": 1, "evaluate": 1, "metrics": 2}, "a curve shown before, again"
    c = WI.whatif(replace(st, n_cpus=25), grid_points=6)
    assert calls == {"crossover": 1, "evaluate": 2, "metrics": 2}, \
        "CPU-count change recomputed the curve"
    assert 25 in c.curve["n_cpus"].to_list() and 24 not in c.curve["n_cpus"].to_list()
    WI.whatif(replace(st, dirty_fraction=0.25), grid_points=6)
    assert calls["crossover"] == 2, "a rate or fraction change must recompute"
    WI.clear_cache()
    fresh = WI.whatif(replace(st, n_cpus=25), grid_points=6)
    assert fresh.summary == c.summary
    assert fresh.at_n.equals(c.at_n) and fresh.curve.equals(c.curve)


def test_whatif_figure_layout_fits() -> None:
    """The explorer's fixed-layout figure keeps its legend and labels inside the image."""
    res = NB.whatif(NB.WhatIfState(n_cpus=48, n_max=256), grid_points=5)
    fig = NB.whatif_figure(res)
    png = NB.whatif_png(res)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    full = fig.bbox
    ax = fig.axes[0]
    for art in (ax.get_legend(), ax.yaxis.label, ax.xaxis.label, ax.title):
        bb = art.get_window_extent(r)
        assert bb.x0 >= full.x0 - 1 and bb.x1 <= full.x1 + 1 and bb.y0 >= full.y0 - 1, art


@pytest.mark.parametrize("change", [
    {},                                                   # N* inside the axis
    {"objective": "victim_worst"},                        # the budget line
    {"isolation": "nohz_fifo_none"},                      # QW unbounded: named, not drawn
    {"remote_rate_hz": 1e4, "n_max": 64},                 # N* off this axis
    {"objective": "requester_p99", "n_cpus": 5, "n_max": 256},
])
def test_whatif_svg_shows_what_the_figure_shows(change: dict) -> None:
    """The explorer's SVG figure has the matplotlib figure's title, axis labels, legend
    entries (in order), x range and curves: the same things drawn by another hand."""
    import xml.etree.ElementTree as ET
    from dataclasses import replace
    res = NB.whatif(replace(NB.WhatIfState(n_cpus=48, n_max=256), **change), grid_points=9)
    fig = NB.whatif_figure(res)
    ax = fig.axes[0]
    svg = NB.whatif_svg(res)
    root = ET.fromstring(svg)                            # well-formed XML
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[-len(legend):] == legend
    for label in (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()):
        assert label in texts
    items, frame = NB.whatif_items(res)
    assert frame["xlim"] == pytest.approx(ax.get_xlim(), rel=1e-12)
    drawn = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label() in ("QW", "RL")}
    lines = {it.label: it for it in items if it.kind == "line"}
    assert set(lines) == set(drawn)
    for k, ln in drawn.items():
        assert np.array_equal(lines[k].x, ln.get_xdata())
        assert np.array_equal(lines[k].y, ln.get_ydata(), equal_nan=True)
        assert lines[k].style == ln.get_linestyle() and lines[k].marker == (ln.get_marker() == ".")
    # x tick labels: the figure's (powers of two, plain text)
    mticks = [t.get_text() for t in ax.get_xticklabels()
              if ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
    assert [t for t in texts if t in mticks] [:len(mticks)] == mticks


def test_log_ticks() -> None:
    from pwmodel.notebook.svgplot import log_ticks
    assert log_ticks(1, 256, 2) == [2.0 ** k for k in range(9)]
    assert log_ticks(1, 1024, 2) == [2.0 ** k for k in range(0, 11, 2)]
    assert log_ticks(3.1, 900, 10) == [10.0, 100.0]
    assert log_ticks(1.5e4, 9e4, 10) == [2e4, 5e4]


def test_whatif_widget_updates_on_control_change(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv(NB.SMALL_ENV, "1")
    ex = NB.WhatIf(NB.WhatIfState(n_cpus=16, n_max=64))
    assert ex.updates == 1 and "N = 16 CPUs" in ex.summary.value
    svg0 = bytes(ex.image.value)
    assert ex.image.format == "svg+xml" and svg0.startswith(b"<svg ") and b">N = 16</text>" in svg0
    ex.set(n_cpus=17)
    assert ex.updates == 2 and "N = 17 CPUs" in ex.summary.value
    assert bytes(ex.image.value) != svg0 and b">N = 17</text>" in bytes(ex.image.value)
    ex.set(isolation="nohz_fifo_dlserver")
    assert "SCHED_FIFO, fair server" in ex.summary.value
    assert "<table" in ex.table.value and "requester_mean_ns" in ex.table.value
    with pytest.raises(PwmodelError):
        ex.set(nonsense=1)


def test_whatif_widget_kept_results_match_a_fresh_explorer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Moving machine, isolation level and CPU count away and back (kept pieces of other
    scenarios, the machine's profile read once) shows exactly what a fresh explorer shows."""
    pytest.importorskip("ipywidgets")
    import importlib
    WI = importlib.import_module("pwmodel.notebook.whatif")
    monkeypatch.setenv(NB.SMALL_ENV, "1")

    def shown(ex: NB.WhatIf) -> tuple:
        return ex.summary.value, ex.table.value, bytes(ex.image.value)

    WI.clear_cache()
    ex = NB.WhatIf(NB.WhatIfState(n_cpus=24, n_max=64))
    steps = [{"machine": "amd-epyc-7r13-2s"}, {"isolation": "busy_other"}, {"n_cpus": 40},
             {"machine": "intel-xeon-8375c-2s"}, {"objective": "victim_worst"},
             {"isolation": "nohz_other"}, {"n_cpus": 24}, {"objective": "requester_mean"}]
    seen = []
    for step in steps:
        ex.set(**step)
        seen.append((ex.state, shown(ex)))
    assert seen[-1][0] == NB.WhatIfState(n_cpus=24, n_max=64)
    for state, got in seen:
        WI.clear_cache()
        assert shown(NB.WhatIf(state)) == got, f"kept results went stale at {state}"


def test_whatif_widget_shows_bad_input_instead_of_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv(NB.SMALL_ENV, "1")
    ex = NB.WhatIf(NB.WhatIfState(n_cpus=16, n_max=64))
    # the RT kernel config with a non-RT preemption model is accepted; a remote rate above the
    # registry's bound is not, and the message replaces the summary
    ex.controls["remote_rate_hz"].max = 7
    ex.set(remote_rate_hz=1e7)
    assert "cannot evaluate" in ex.summary.value and "remote_rate_hz" in ex.summary.value


def test_model_vs_sim_joins_and_flags_interval() -> None:
    model = pl.DataFrame({"n_cpus": [4, 4], "strategy": ["QW", "RL"],
                          "requester_mean_ns": [100.0, 50.0]})
    sim = pl.DataFrame({"n_cpus": [4, 4], "strategy": ["QW", "RL"],
                        "requester_mean_ns": [98.0, 60.0], "requester_mean_lo_ns": [95.0, 58.0],
                        "requester_mean_hi_ns": [101.0, 62.0]})
    t = NB.model_vs_sim(model, sim)
    assert t["in_ci"].to_list() == [True, False]
    assert t["rel_diff"][1] == pytest.approx(50 / 60 - 1)
    with pytest.raises(PwmodelError):
        NB.model_vs_sim(model, sim, "victim_mean_ns")
