"""One figure style for the report: Okabe-Ito colours, units on every axis, byte-stable files.

Colours (Okabe & Ito 2008, safe for the common colour-vision deficiencies):
queued work (QW) is orange, remote locking (RL) is blue, everything else
takes the remaining colours in a fixed order. Strategies also differ in
line style and marker, so the figures survive grey-scale printing.

Figures are written as PNG and SVG through :func:`save`, which removes
every timestamp (PNG ``Software``/``Creation Time``; SVG ``Date``) and fixes
the SVG id salt, so the same input gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.colors import LinearSegmentedColormap  # noqa: E402

from pwmodel import atomic  # noqa: E402

# Okabe-Ito palette
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"
CYCLE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK)

STRATEGY = {
    "QW": dict(color=ORANGE, linestyle="--", marker="s", label="QW: queue_work_on + flush_work"),
    "RL": dict(color=BLUE, linestyle="-", marker="o", label="RL: remote per-CPU lock"),
    "RU": dict(color=GREEN, linestyle="-.", marker="^", label="RU: drain on return to user"),
    "SKIP": dict(color=PURPLE, linestyle=":", marker="v", label="SKIP: isolated CPUs not drained"),
}
BUDGET_STYLE = dict(color=VERMILLION, linestyle=":", linewidth=1.2)

# diverging map for "winner and margin": blue = RL cheaper, orange = QW cheaper
WINNER_CMAP = LinearSegmentedColormap.from_list(
    "rl_qw", [ORANGE, "#F6D9A0", "#FFFFFF", "#A9CCE3", BLUE])

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "axes.prop_cycle": matplotlib.cycler(color=list(CYCLE)),
    "svg.hashsalt": "pwmodel-report",
    "svg.fonttype": "path",
    "path.simplify": False,
    "font.family": "DejaVu Sans",
}

SVG_META = {"Date": None, "Creator": "pwmodel report"}
PNG_META = {"Software": None, "Title": None}


class Style:
    """Context manager that applies :data:`RC` and restores the previous settings."""

    def __enter__(self) -> "Style":
        self._ctx = matplotlib.rc_context(RC)
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


def figure(nrows: int = 1, ncols: int = 1, *, width_in: float = 7.0, height_in: float = 4.0,
           **kw: object):
    """A new figure with constrained layout (the caller is inside :class:`Style`)."""
    return plt.subplots(nrows, ncols, figsize=(width_in, height_in), layout="constrained",
                        squeeze=False, **kw)


def _layout(fig: "plt.Figure", engine, fmt: str) -> None:
    """Run ``engine`` on ``fig`` once, as ``savefig(format=fmt)`` does before it draws: at
    the PNG's dpi with the Agg renderer's text metrics, or at the SVG's fixed 72 dpi with
    the SVG renderer's (text as paths). The two differ by a few pixels, so each format gets
    its own."""
    dpi, canvas = fig.dpi, fig.canvas
    try:
        if fmt == "svg":
            FigureCanvasSVG(fig)              # attaches itself to fig until set_canvas below
            fig.set_dpi(FigureCanvasSVG.fixed_dpi)
        else:
            save_dpi = matplotlib.rcParams["savefig.dpi"]
            fig.set_dpi(dpi if save_dpi == "figure" else save_dpi)
        engine.execute(fig)
    finally:
        fig.set_canvas(canvas)
        fig.set_dpi(dpi)


def figure_bytes(fig: "plt.Figure") -> dict[str, bytes]:
    """PNG and SVG bytes of ``fig``, without timestamps.

    A figure with a layout engine is laid out here, once per format, and saved with the
    engine off: savefig would otherwise lay it out in a draw of every artist that
    renders nothing before the draw that does (a quarter of the saving time). The bytes
    are savefig's own (tests/test_report_style.py)."""
    engine = fig.get_layout_engine() if fig.axes else None   # (no axes: no layout)
    out = {}
    try:
        for fmt, meta in (("png", PNG_META), ("svg", SVG_META)):
            if engine is not None:
                fig.set_layout_engine(engine)
                _layout(fig, engine, fmt)
                with matplotlib.rc_context({"figure.autolayout": False,
                                            "figure.constrained_layout.use": False}):
                    fig.set_layout_engine(None)   # None, not 'none': savefig skips its layout draw
            buf = io.BytesIO()
            with matplotlib.rc_context({"svg.hashsalt": RC["svg.hashsalt"]}):
                fig.savefig(buf, format=fmt, metadata=meta)
            out[fmt] = buf.getvalue()
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return out


def save(fig: "plt.Figure", out_dir: str | Path, stem: str) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` atomically into ``out_dir``; close the figure."""
    out_dir = Path(out_dir)
    data = figure_bytes(fig)
    plt.close(fig)
    paths = []
    for ext, blob in data.items():
        p = out_dir / f"{stem}.{ext}"
        atomic.write_bytes(p, blob)
        paths.append(p)
    return paths


def axis_labels(fig: "plt.Figure") -> Iterator[tuple[str, str]]:
    """(x label, y label) of every axes that shows data (used by the tests)."""
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        yield ax.get_xlabel(), ax.get_ylabel()
