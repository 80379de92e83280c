"""Report figures: crossover maps, requester latency, victim interruption, fast-path tax,
term breakdown and sensitivity. Each function draws one figure and returns it
(the caller saves it with :func:`pwmodel.report.style.save`).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from matplotlib.colors import BoundaryNorm, Normalize
from matplotlib.patches import Patch

from pwmodel import decide as D
from pwmodel.models import wakeup as W
from pwmodel.report import results as R
from pwmodel.report import style as S

N_MAP = 2.0 ** (np.arange(0, 21) / 2)           # 1 .. 1024, half-octave steps
RATES_MAP = 10.0 ** (np.arange(-4, 11) / 2)      # 0.01 .. 1e5 Hz, half decades
CLIP = 3.0                                      # colour scale: |log10 ratio| <= 3

OBJ_LABEL = {
    "requester_mean": "requester mean latency", "requester_p99": "requester p99 latency",
    "victim_mean": "victim mean interruption", "victim_worst": "victim worst interruption",
    "cpu_time": "CPU time per drain", "fastpath_tax": "fast-path tax",
    "cpu_load": "total CPU load",
}


def _ratio_label(objective: str) -> str:
    return f"log10(QW / RL) of {OBJ_LABEL[objective]} (dimensionless)"


LEVELS = np.array([-3, -2, -1, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5, 1, 2, 3], float)


def _cmap_norm():
    return S.WINNER_CMAP, BoundaryNorm(LEVELS, S.WINNER_CMAP.N, clip=True)


def _log2_axis(ax, lo: float = 1.0, hi: float = 1024.0) -> None:
    ax.set_xscale("log", base=2)
    ticks = [2 ** k for k in range(0, 11, 2) if lo <= 2 ** k <= hi]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()


def _panel_grid(n: int, ncols: int) -> tuple[int, int]:
    return max(1, math.ceil(n / ncols)), min(n, ncols)


def crossover_isolation_map(cfg: R.Config):
    """Winner and margin over CPU count x isolation level, one panel per machine."""
    objective = cfg.objective or "requester_mean"
    col = D.check_objective(objective)
    cmap, norm = _cmap_norm()
    nm = len(cfg.machines)
    nrows, ncols = _panel_grid(nm, 2)
    fig, axes = S.figure(nrows, ncols, width_in=9.5, height_in=1.0 + 2.6 * nrows)
    isos = list(cfg.isolations)
    mesh = None
    for k, mname in enumerate(cfg.machines):
        ax = axes[k // ncols][k % ncols]
        z = np.zeros((len(isos), N_MAP.size))
        for i, iso in enumerate(isos):
            df = R.ratio_map(R.scenario(mname, iso, None, cfg.callsite, cfg.overrides), col, N_MAP)
            z[i] = df["log10_qw_over_rl"].to_numpy()
        zc = np.clip(np.nan_to_num(z, nan=0.0, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
        edges_x = 2.0 ** ((np.arange(0, 22) - 0.5) / 2)
        mesh = ax.pcolormesh(edges_x, np.arange(len(isos) + 1) - 0.5, zc, cmap=cmap, norm=norm)
        for i, iso in enumerate(isos):
            if np.all(np.isinf(z[i]) & (z[i] > 0)):
                ax.text(32, i, "QW never completes", ha="center", va="center", fontsize=7.5,
                        color="white")
            if objective != "requester_mean":
                continue
            nx = R.crossover_n(mname, iso, None, cfg.callsite, cfg.overrides)
            if math.isfinite(nx) and edges_x[0] <= nx <= edges_x[-1]:
                ax.plot([nx, nx], [i - 0.45, i + 0.45], color=S.BLACK, linewidth=2.0)
                ax.text(nx * 1.12, i + 0.28, f"N*={nx:.0f}", fontsize=7, va="center")
        _log2_axis(ax)
        ax.set_xlim(edges_x[0], edges_x[-1])
        ax.set_yticks(range(len(isos)), [W.LABELS[i] for i in isos])
        ax.set_xlabel("CPU count N (CPUs)")
        if k % ncols == 0:
            ax.set_ylabel("isolation of the target CPU (level)")
        else:
            ax.set_yticklabels([])
        ax.set_title(f"{mname}, {cfg.callsite}")
        ax.grid(False)
    for k in range(nm, nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, pad=0.01, ticks=LEVELS)
    cb.set_label(_ratio_label(objective) + "\n> 0: RL cheaper (blue), < 0: QW cheaper (orange)")
    mark = "; black bar = crossover N* (decide.crossover_n)" if objective == "requester_mean" else ""
    fig.suptitle(f"Which strategy gives the lower {OBJ_LABEL[objective]}{mark}", fontsize=10)
    return fig
