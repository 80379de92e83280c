"""A log-log line figure written directly as SVG text, for figures redrawn at every widget
change (the what-if explorer): a few milliseconds where matplotlib's Agg drawing of the same
figure takes about a hundred (most of it laying out and rasterising the tick and legend text).

The browser lays out the text. The figure has what the explorer's matplotlib figure has:
title, axis labels, major ticks with plain-text labels and their grid lines, lines with their
styles and markers, vertical and horizontal reference lines, and a legend on the right
outside the axes (entries in the order given; a text-only entry has no line)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Callable, Sequence

import numpy as np

# matplotlib's defaults at 72 dpi (1 pt = 1 px), so the two drawings look alike
FONT = "DejaVu Sans, Bitstream Vera Sans, Arial, Helvetica, sans-serif"
FONT_PX = 10.0
LEGEND_PX = 8.33         # 'small'
TITLE_PX = 12.0          # 'large'
DASHES = {"-": None, "--": (3.7, 1.6), "-.": (6.4, 1.6, 1.0, 1.6), ":": (1.0, 1.65)}


@dataclass(frozen=True)
class Item:
    """One thing drawn (and its legend entry, if ``label``): ``kind`` 'line' (``x``, ``y``),
    'vline' (at ``x``), 'hline' (at ``y``) or 'note' (legend text only)."""

    kind: str
    label: str = ""
    x: np.ndarray | float | None = None
    y: np.ndarray | float | None = None
    colour: str = "#1f77b4"
    style: str = "-"
    width: float = 1.5
    alpha: float = 1.0
    marker: bool = False


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _stroke(it: Item) -> str:
    dash = DASHES[it.style]
    out = f'stroke="{it.colour}" stroke-width="{_num(it.width)}" fill="none"'
    if dash:
        out += f' stroke-dasharray="{",".join(_num(d * it.width) for d in dash)}"'
    if it.alpha < 1:
        out += f' stroke-opacity="{_num(it.alpha)}"'
    return out


def log_ticks(lo: float, hi: float, base: float, max_ticks: int = 9) -> list[float]:
    """Major ticks of a log axis on [lo, hi]: powers of ``base`` (every k-th one when there are
    more than ``max_ticks``); with fewer than two powers inside, 1-2-5 steps of each decade."""
    e0, e1 = math.ceil(math.log(lo, base) - 1e-9), math.floor(math.log(hi, base) + 1e-9)
    powers = [base ** e for e in range(e0, e1 + 1)]
    if len(powers) >= 2:
        step = max(1, math.ceil(len(powers) / max_ticks))
        start = (-e0) % step          # keep base**0 = 1 (and its multiples of step) as ticks
        return powers[start::step]
    d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    out = [m * 10.0 ** d for d in range(d0, d1 + 1) for m in (1, 2, 5)
           if lo * (1 - 1e-9) <= m * 10.0 ** d <= hi * (1 + 1e-9)]
    if len(out) >= 2:
        return out
    return [lo, hi]


def loglog_svg(items: Sequence[Item], *, title: str, xlabel: str, ylabel: str,
               xlim: tuple[float, float], tick_label: Callable[[float], str],
               xbase: float = 2.0, ybase: float = 10.0, size: tuple[float, float] = (560.0, 273.0),
               axes: tuple[float, float, float, float] = (0.1, 0.7, 0.13, 0.91)) -> str:
    """The figure as SVG text. ``axes`` = (left, right, bottom, top) as fractions of ``size``
    (matplotlib's subplots_adjust); the y range is the data's (lines and horizontal lines)
    with a 5 % margin in log space, as matplotlib's autoscale."""
    w, h = size
    left, right, bottom, top = axes
    x0, x1, y0, y1 = left * w, right * w, (1 - bottom) * h, (1 - top) * h   # y0: bottom edge
    ys = [np.asarray(it.y, dtype=float).ravel() for it in items if it.kind in ("line", "hline")]
    yv = np.concatenate(ys) if ys else np.array([])
    yv = yv[np.isfinite(yv) & (yv > 0)]
    if yv.size:
        lo, hi = float(yv.min()), float(yv.max())
    else:
        lo, hi = 1.0, 10.0
    if lo == hi:
        lo, hi = lo / ybase, hi * ybase
    ll, lh = math.log(lo, ybase), math.log(hi, ybase)
    ylim = (ybase ** (ll - 0.05 * (lh - ll)), ybase ** (lh + 0.05 * (lh - ll)))
    lx0, lx1 = math.log(xlim[0], xbase), math.log(xlim[1], xbase)
    ly0, ly1 = math.log(ylim[0], ybase), math.log(ylim[1], ybase)

    def px(x: np.ndarray | float) -> np.ndarray:
        return x0 + (np.log(np.asarray(x, dtype=float)) / math.log(xbase) - lx0) / (lx1 - lx0) * (x1 - x0)

    def py(y: np.ndarray | float) -> np.ndarray:
        return y0 - (np.log(np.asarray(y, dtype=float)) / math.log(ybase) - ly0) / (ly1 - ly0) * (y0 - y1)

    out: list[str] = []
    t = lambda x, y, s, size=FONT_PX, anchor="middle", extra="": out.append(  # noqa: E731
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" text-anchor="{anchor}"'
        f'{extra}>{escape(s)}</text>')
    # grid, ticks and their labels
    for v in log_ticks(*xlim, xbase):
        x = float(px(v))
        out.append(f'<path d="M{_num(x)} {_num(y1)}V{_num(y0)}" stroke="#b0b0b0" '
                   f'stroke-opacity="0.3" stroke-width="0.8"/>')
        out.append(f'<path d="M{_num(x)} {_num(y0)}v3.5" stroke="black" stroke-width="0.8"/>')
        t(x, y0 + 3.5 + 3.5 + FONT_PX * 0.8, tick_label(v))
    ylab_w = 0.0
    for v in log_ticks(*ylim, ybase):
        y = float(py(v))
        out.append(f'<path d="M{_num(x0)} {_num(y)}H{_num(x1)}" stroke="#b0b0b0" '
                   f'stroke-opacity="0.3" stroke-width="0.8"/>')
        out.append(f'<path d="M{_num(x0)} {_num(y)}h-3.5" stroke="black" stroke-width="0.8"/>')
        s = tick_label(v)
        ylab_w = max(ylab_w, 0.62 * FONT_PX * len(s))
        t(x0 - 7, y + FONT_PX * 0.35, s, anchor="end")
    # the data, clipped to the axes
    out.append(f'<clipPath id="ax"><rect x="{_num(x0)}" y="{_num(y1)}" width="{_num(x1 - x0)}" '
               f'height="{_num(y0 - y1)}"/></clipPath><g clip-path="url(#ax)">')
    for it in items:
        if it.kind == "line":
            x, y = np.asarray(it.x, dtype=float), np.asarray(it.y, dtype=float)
            ok = np.isfinite(y) & (y > 0) & np.isfinite(x) & (x > 0)
            pxs, pys = px(np.where(ok, x, 1.0)), py(np.where(ok, y, 1.0))
            runs, cur = [], []
            for i in range(x.size):       # a missing value breaks the line, as in matplotlib
                if ok[i]:
                    cur.append(f"{pxs[i]:.2f} {pys[i]:.2f}")
                elif cur:
                    runs.append(cur)
                    cur = []
            if cur:
                runs.append(cur)
            d = "".join("M" + "L".join(r) for r in runs)
            out.append(f'<path d="{d}" {_stroke(it)} stroke-linejoin="round"/>')
            if it.marker:
                out.extend(f'<circle cx="{pxs[i]:.2f}" cy="{pys[i]:.2f}" r="1.5" fill="{it.colour}"/>'
                           for i in range(x.size) if ok[i])
        elif it.kind == "vline":
            x = float(px(it.x))
            out.append(f'<path d="M{_num(x)} {_num(y1)}V{_num(y0)}" {_stroke(it)}/>')
        elif it.kind == "hline":
            y = float(py(it.y))
            out.append(f'<path d="M{_num(x0)} {_num(y)}H{_num(x1)}" {_stroke(it)}/>')
    out.append("</g>")
    out.append(f'<rect x="{_num(x0)}" y="{_num(y1)}" width="{_num(x1 - x0)}" '
               f'height="{_num(y0 - y1)}" fill="none" stroke="black" stroke-width="0.8"/>')
    # labels and title
    t((x0 + x1) / 2, y0 + 3.5 + 3.5 + FONT_PX * 1.0 + 4 + FONT_PX, xlabel)
    yl = x0 - 7 - ylab_w - 4 - FONT_PX * 0.3
    t(yl, (y0 + y1) / 2, ylabel, extra=f' transform="rotate(-90 {_num(yl)} {_num((y0 + y1) / 2)})"')
    t((x0 + x1) / 2, y1 - 6, title, size=TITLE_PX)
    # legend: right of the axes, top aligned with them, no frame
    lx, ly, hl = x1 + 0.02 * (x1 - x0), y1, 2.0 * LEGEND_PX
    need = w
    for it in items:
        if not it.label:
            continue
        ly += LEGEND_PX * 1.5 if ly > y1 else LEGEND_PX
        if it.kind != "note":
            st = Item("line", colour=it.colour, style=it.style, width=it.width, alpha=it.alpha)
            out.append(f'<path d="M{_num(lx)} {_num(ly - LEGEND_PX * 0.35)}h{_num(hl)}" '
                       f'{_stroke(st)}/>')
            if it.marker:
                out.append(f'<circle cx="{_num(lx + hl / 2)}" cy="{_num(ly - LEGEND_PX * 0.35)}" '
                           f'r="1.5" fill="{it.colour}"/>')
        tx = lx + hl + 0.8 * LEGEND_PX
        t(tx, ly, it.label, size=LEGEND_PX, anchor="start")
        need = max(need, tx + 0.62 * LEGEND_PX * len(it.label) + 4)
    # a legend wider than the figure widens it (the widget scales the whole to its width)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(need)}" height="{_num(h)}" '
            f'viewBox="0 0 {_num(need)} {_num(h)}" font-family="{FONT}">'
            f'<rect width="100%" height="100%" fill="white"/>' + "".join(out) + "</svg>")


__all__ = ["Item", "loglog_svg", "log_ticks"]
