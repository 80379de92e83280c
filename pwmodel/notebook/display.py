"""Display helpers for the notebooks: size switch, LaTeX of model expressions, figures, tables.

``PWMODEL_SMALL=1`` in the environment selects small grids so that every
notebook runs in a few seconds (the test suite sets it).
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np
import polars as pl
import sympy as sp

from pwmodel import fmt
from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.models.printing import latex, symbol_names, tidy

SMALL_ENV = "PWMODEL_SMALL"


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


# ---- figures ---------------------------------------------------------------------
def plot_strategies(df: pl.DataFrame, metric: str = "requester_mean_ns", ax: Any = None,
                    by: str | None = None, budget_ns: float | None = None, title: str = "",
                    legend: str = "outside") -> Any:
    """QW and RL of one metric against CPU count (log-log), one line pair per ``by`` value.

    One colour per ``by`` value, solid QW and dashed RL; curves that coincide are drawn once
    and labelled with every group they stand for ('identical'); a curve that is unbounded
    everywhere (QW never completes) is named in the legend instead of drawn; the x-axis
    spans exactly the CPU counts given; the legend sits outside the data (``legend``:
    'outside', 'inside' or 'none')."""
    import matplotlib.pyplot as plt
    if metric not in df.columns:
        raise PwmodelError(f"no column '{metric}' (have: {', '.join(df.columns)})", field="metric")
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.0))
    groups = [None] if by is None else df[by].unique(maintain_order=True).to_list()
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    drawn: list[tuple[np.ndarray, np.ndarray, list[str], str, Any]] = []
    missing: list[str] = []
    for i, g in enumerate(groups):
        part = df if g is None else df.filter(pl.col(by) == g)
        for strat, style in (("QW", "-"), ("RL", "--")):
            s = part.filter(pl.col("strategy") == strat).sort("n_cpus")
            x = s["n_cpus"].to_numpy().astype(float)
            raw = s[metric].to_numpy().astype(float)
            y = np.where(np.isfinite(raw) & (raw > 0), raw, np.nan)
            name = strat if g is None else f"{strat} {g}"
            if np.all(np.isnan(y)):
                why = ("unbounded (never completes)" if np.all(np.isinf(raw))
                       else "0 at every N" if np.all(raw == 0) else "undefined")
                missing.append(f"{name}: {why}, not drawn")
                continue
            same = next((d for d in drawn if d[3] == strat and d[0].shape == x.shape
                         and np.array_equal(d[0], x)
                         and np.allclose(d[1], y, rtol=1e-9, equal_nan=True)), None)
            if same is not None:
                same[2].append(str(g))
                continue
            drawn.append((x, y, [str(g)] if g is not None else [], strat, (colours[i % len(colours)], style)))
    for x, y, names, strat, (colour, style) in drawn:
        if len(names) > 1:
            label = f"{strat} {' = '.join(names)} (identical)"
        else:
            label = f"{strat} {names[0]}" if names else strat
        ax.plot(x, y, style, color=colour, label=label, marker="." if x.size < 20 else None)
    for name in missing:
        ax.plot([], [], " ", label=name)
    if budget_ns is not None and metric.endswith("_ns"):
        ax.axhline(budget_ns, color="grey", lw=0.8, ls=":", label=f"budget {fmt.time_ns(budget_ns)}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    n = df["n_cpus"].to_numpy().astype(float)
    if n.size and n.min() < n.max():
        ax.set_xlim(n.min(), n.max())
    ax.set_xlabel("CPUs (N)")
    ax.set_ylabel(axis_label(metric))
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    place_legend(ax, legend)
    return ax


def place_legend(ax: Any, where: str = "outside") -> None:
    """Legend outside the axes on the right (never over the data), inside, or none."""
    if where == "none":
        return
    if where == "outside":
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, frameon=False)
    else:
        ax.legend(fontsize="small")


def axis_label(column: str) -> str:
    """'requester_mean_ns' -> 'requester mean (ns)'."""
    units = {"ns": "ns", "hz": "Hz", "cpus": "CPUs", "cycles": "cycles", "lines": "lines"}
    head, _, unit = column.rpartition("_")
    if unit in units and head:
        return f"{head.replace('_', ' ')} ({units[unit]})"
    return column.replace("_", " ")


def figure_png(fig: Any, dpi: int = 80, tight: bool = True) -> bytes:
    """PNG bytes of a matplotlib figure (the figure is closed); ``tight=False`` keeps the
    figure's own layout (one drawing instead of two)."""
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(fig)
    return buf.getvalue()


def fmt_value(v: float, column: str) -> str:
    """A value with its unit, scaled for reading (ns -> us/ms/s): :func:`pwmodel.fmt.value`."""
    return fmt.value(v, column)


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
