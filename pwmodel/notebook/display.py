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
