"""Figure files: style.figure_bytes lays a figure out itself, once per format, and saves it
with the layout engine off; the bytes must be exactly what savefig gives with the engine
on (a matplotlib that lays out differently shows up here, not as a silently moved
figure)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest

from pwmodel.report import style as STYLE


def _plain(fig) -> dict[str, bytes]:
    """savefig as it is documented: the layout engine runs inside every call."""
    out = {}
    for fmt, meta in (("png", STYLE.PNG_META), ("svg", STYLE.SVG_META)):
        buf = io.BytesIO()
        with matplotlib.rc_context({"svg.hashsalt": STYLE.RC["svg.hashsalt"]}):
            fig.savefig(buf, format=fmt, metadata=meta)
        out[fmt] = buf.getvalue()
    return out


def _busy(layout: str | None):
    """Panels like the report's: a colour mesh with a colour bar, log axes with minor
    ticks and mathtext tick labels, a hidden panel, a figure legend outside, a title."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(7.0, 4.5), layout=layout, squeeze=False)
    n = 2.0 ** (np.arange(0, 21) / 2)
    mesh = axes[0][0].pcolormesh(n, np.arange(4), np.outer(np.arange(4), np.log2(n)),
                                 shading="nearest")
    axes[0][0].set_xscale("log", base=2)
    axes[0][0].set_xlabel("CPU count N (CPUs)")
    fig.colorbar(mesh, ax=axes, shrink=0.9, pad=0.01, label="a colour bar (1)")
    ax = axes[0][1]
    ax.plot(n, n ** 1.5, label="a curve", color=STYLE.ORANGE, linestyle="--")
    ax.fill_between(n, n, n ** 2, color=STYLE.BLUE, alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylabel("latency (us)")
    ax.set_title("a title\non two lines", fontsize=8.5)
    axes[1][0].barh([0, 1], [3.0, 5.0], color=STYLE.GREY, label="bars")
    axes[1][0].text(5.0, 1, " 5.0", va="center", fontsize=7)
    axes[1][1].set_visible(False)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center" if layout else
               "lower center", ncol=2)
    fig.suptitle("A figure like the report's", fontsize=10)
    return fig


@pytest.mark.parametrize("layout", ["constrained", None])
def test_figure_bytes_are_savefigs(layout):
    import matplotlib.pyplot as plt
    with STYLE.Style():
        a, b = _busy(layout), _busy(layout)
        try:
            got, want = STYLE.figure_bytes(a), _plain(b)
            engine = a.get_layout_engine()
        finally:
            plt.close(a)
            plt.close(b)
    assert got["png"] == want["png"]
    assert got["svg"] == want["svg"]
    # the figure keeps its layout engine
    assert (engine is None) == (layout is None)


def test_figure_bytes_without_axes():
    import matplotlib.pyplot as plt
    with STYLE.Style():
        a, b = plt.figure(layout="constrained"), plt.figure(layout="constrained")
        for f in (a, b):
            f.suptitle("no axes")
        try:
            assert STYLE.figure_bytes(a) == _plain(b)
        finally:
            plt.close(a)
            plt.close(b)
