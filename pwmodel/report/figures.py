"""Report figures: crossover maps, requester latency, victim interruption, fast-path tax,
term breakdown and sensitivity. Each function draws one figure and returns it
(the caller saves it with :func:`pwmodel.report.style.save`).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from matplotlib.colors import BoundaryNorm
from matplotlib.patches import Patch

from pwmodel import decide as DC
from pwmodel.models import wakeup as W
from pwmodel.report import results as R
from pwmodel.report import style as STYLE

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
    return STYLE.WINNER_CMAP, BoundaryNorm(LEVELS, STYLE.WINNER_CMAP.N, clip=True)


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
    col = DC.check_objective(objective)
    cmap, norm = _cmap_norm()
    nm = len(cfg.machines)
    nrows, ncols = _panel_grid(nm, 2)
    fig, axes = STYLE.figure(nrows, ncols, width_in=9.5, height_in=1.0 + 2.6 * nrows)
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
                ax.plot([nx, nx], [i - 0.45, i + 0.45], color=STYLE.BLACK, linewidth=2.0)
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
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, pad=0.01, ticks=LEVELS, format="%g")
    cb.set_label(_ratio_label(objective) + "\n> 0: RL cheaper (blue), < 0: QW cheaper (orange)")
    mark = "; black bar = crossover N* (decide.crossover_n)" if objective == "requester_mean" else ""
    fig.suptitle(f"Which strategy gives the lower {OBJ_LABEL[objective]}{mark}", fontsize=10)
    return fig


def crossover_rate_maps(cfg: R.Config):
    """Per isolation level: winner and margin over CPU count x remote-drain rate."""
    objective = cfg.objective or "cpu_load"
    col = DC.check_objective(objective)
    cmap, norm = _cmap_norm()
    mname = cfg.machines[0]
    isos = list(cfg.isolations)
    nrows, ncols = _panel_grid(len(isos), 4)
    fig, axes = STYLE.figure(nrows, ncols, width_in=11.0, height_in=0.8 + 2.7 * nrows,
                         sharex=True, sharey=True)
    mesh = None
    zs = []
    for k, iso in enumerate(isos):
        ax = axes[k // ncols][k % ncols]
        df = R.ratio_map(R.scenario(mname, iso, None, cfg.callsite, cfg.overrides), col, N_MAP,
                         RATES_MAP)
        z = df["log10_qw_over_rl"].to_numpy().reshape(RATES_MAP.size, N_MAP.size)
        zc = np.clip(np.nan_to_num(z, nan=0.0, posinf=CLIP, neginf=-CLIP), -CLIP, CLIP)
        zs.append(zc)
        mesh = ax.pcolormesh(N_MAP, RATES_MAP, zc, cmap=cmap, norm=norm, shading="nearest")
        if np.nanmin(zc) < 0 < np.nanmax(zc):
            ax.contour(N_MAP, RATES_MAP, zc, levels=[0.0], colors=STYLE.BLACK, linewidths=1.3)
        ax.set_yscale("log")
        _log2_axis(ax)
        ax.set_title(W.LABELS[iso], fontsize=8.5)
        if k // ncols == nrows - 1 or k + ncols >= len(isos):
            ax.set_xlabel("CPU count N (CPUs)")
        if k % ncols == 0:
            ax.set_ylabel("remote drains per CPU (Hz)")
        ax.grid(False)
    for k in range(len(isos), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    cb = fig.colorbar(mesh, ax=axes, shrink=0.9, pad=0.01, ticks=LEVELS, format="%g")
    cb.set_label(_ratio_label(objective) + "\n> 0: RL cheaper (blue), < 0: QW cheaper (orange)")
    same = all(np.array_equal(zs[0], z) for z in zs[1:]) and len(zs) > 1
    note = ("\n(identical panels: in the model this objective does not depend on the "
            "isolation level)") if same else ""
    fig.suptitle(f"{mname}, {cfg.callsite}: lower {OBJ_LABEL[objective]} by CPU count and "
                 f"remote-drain rate; black line = crossover{note}", fontsize=10)
    return fig


def _local_panel(ax, cfg: R.Config) -> None:
    """Measured requester latency on the project's guest next to the model for it."""
    from pwmodel import evaluate as E
    from pwmodel.report import measured as MS
    m, calibrated = MS.local_machine()
    n_local = m.n_cpus
    n = np.array([1.0, 2.0, 4.0, 8.0])
    for j, (state, iso) in enumerate(MS.STATES.items()):
        sc = E.Scenario(m, iso, callsite=cfg.callsite, overrides=dict(cfg.overrides) or None)
        df = E.evaluate(sc, n)
        col = STYLE.CYCLE[j + 2]
        for strat, ls in (("QW", "--"), ("RL", "-")):
            d = df.filter(pl.col("strategy") == strat)
            lab = f"model QW, {iso}" if strat == "QW" else ("model RL (same for all levels)"
                                                           if j == 0 else None)
            ax.plot(n, d["requester_mean_ns"].to_numpy() / 1e3, color=col if strat == "QW"
                    else STYLE.BLUE, linestyle=ls, linewidth=1.2, label=lab)
        req = MS.requester(state)
        if req is not None:
            x = req["drain_ns"].to_numpy().astype(float) / 1e3
            q10, q50, q90 = np.quantile(x, [0.1, 0.5, 0.9])
            xn = float(MS.requester_n_cpus(state) or n_local) * (1.0 + 0.06 * (j - 1))
            ax.errorbar([xn], [q50], yerr=[[q50 - q10], [q90 - q50]], fmt="D", color=col,
                        markeredgecolor=STYLE.BLACK, capsize=3, zorder=5,
                        label=f"measured {MS.STATE_LABEL[state]} (p10/p50/p90)")
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
    ax.minorticks_off()
    ax.set_yscale("log")
    tag = "calibrated profile " + m.name if calibrated else "detected topology, UNCALIBRATED defaults"
    ax.set_title(f"measured: this {n_local}-vCPU KVM guest\nmodel: {tag}", fontsize=8.5)
    ax.set_xlabel("CPU count N (CPUs)")
    ax.set_ylabel("requester latency (us)")
    ax.legend(fontsize=6.2, loc="center right", bbox_to_anchor=(1.0, 0.66), ncol=1)


def requester_latency(cfg: R.Config):
    """Requester mean latency vs CPU count, both strategies, bands, measured points."""
    iso = cfg.victim_isolation
    n = 2.0 ** (np.arange(0, 41) / 4)
    panels = list(cfg.machines) + ["local"]
    nrows, ncols = _panel_grid(len(panels), 3)
    fig, axes = STYLE.figure(nrows, ncols, width_in=11.0, height_in=0.9 + 3.0 * nrows)
    for k, mname in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        if mname == "local":
            _local_panel(ax, cfg)
            continue
        df = R.curves(R.scenario(mname, iso, None, cfg.callsite, cfg.overrides), n,
                      ["requester_mean_ns"])
        for strat in ("QW", "RL"):
            d = df.filter(pl.col("strategy") == strat)
            st = STYLE.STRATEGY[strat]
            ax.fill_between(n, d["requester_mean_lo_ns"] / 1e3, d["requester_mean_hi_ns"] / 1e3,
                            color=st["color"], alpha=0.22, linewidth=0)
            ax.plot(n, d["requester_mean_ns"] / 1e3, color=st["color"], linestyle=st["linestyle"],
                    label=st["label"])
        nx = R.crossover_n(mname, iso, None, cfg.callsite, cfg.overrides)
        if math.isfinite(nx) and 1 <= nx <= 1024:
            ax.axvline(nx, color=STYLE.GREY, linewidth=1.0, linestyle=":")
            ax.annotate(f"N* = {nx:.0f}", (nx, 0.02), xycoords=("data", "axes fraction"),
                        xytext=(3, 0), textcoords="offset points", fontsize=7.5)
        ax.axvline(R.machine(mname).n_cpus, color=STYLE.BLACK, linewidth=0.8, alpha=0.5)
        ax.set_xscale("log", base=2)
        _log2_axis(ax)
        ax.set_yscale("log")
        ax.set_title(f"{mname}\n{R.machine(mname).n_cpus} CPUs (solid line), N* (dotted)",
                     fontsize=8.5)
        ax.set_xlabel("CPU count N (CPUs)")
        ax.set_ylabel("requester latency, mean (us)")
        if k == 0:
            ax.legend(loc="upper left", fontsize=7)
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.suptitle(f"One lru_add_drain_all(): requester waits, target '{W.LABELS[iso]}'. "
                 "Bands: assumed and fitted parameters over their intervals, c2c at "
                 "reference p10..p90", fontsize=9)
    return fig


def victim_interruption(cfg: R.Config):
    """Tail of the target task's interruption per drain, both strategies, budget lines."""
    from pwmodel.report import measured as MS
    iso = cfg.victim_isolation
    x = np.geomspace(10.0, 1e8, 600)
    fig, axes = STYLE.figure(1, 1, width_in=8.0, height_in=5.6)
    ax = axes[0][0]
    styles = ["-", "-.", ":", (0, (5, 1)), (0, (1, 1)), (0, (3, 1, 1, 1, 1, 1))]
    for k, mname in enumerate(cfg.machines):
        sc = R.scenario(mname, iso, None, cfg.callsite, cfg.overrides)
        n = R.machine(mname).n_cpus
        ax.plot(x / 1e3, R.rl_victim_ccdf(sc, x, n), color=STYLE.BLUE, linestyle=styles[k % len(styles)],
                label=f"RL model, {mname}")
    m0 = cfg.machines[0]
    sc0 = R.scenario(m0, iso, None, cfg.callsite, cfg.overrides)
    df = R.curves(sc0, [R.machine(m0).n_cpus], ["victim_mean_ns"]).filter(pl.col("strategy") == "QW")
    q, lo, hi = (float(df[c][0]) for c in ("victim_mean_ns", "victim_mean_lo_ns",
                                           "victim_mean_hi_ns"))
    ax.plot(x / 1e3, (x < q).astype(float), color=STYLE.ORANGE, linestyle="--",
            label=f"QW model (a point: {q / 1e3:.1f} us), {m0}")
    ax.axvspan(lo / 1e3, hi / 1e3, color=STYLE.ORANGE, alpha=0.18, linewidth=0,
               label="QW band: parameters over their intervals")
    for state, mk in (("other", "s"), ("fifo", "^")):
        g = MS.victim_gaps(state)
        if g is None:
            continue
        surv = 1.0 - np.arange(1, g.size + 1) / g.size
        ax.step(g / 1e3, surv, where="post", color=STYLE.VERMILLION if state == "other" else STYLE.PURPLE,
                linewidth=1.3, label=f"measured QW gaps, 2-vCPU KVM guest, "
                                     f"{MS.STATE_LABEL[state]} (n={g.size})")
    for j, (qty, lab) in enumerate(R.BUDGETS):
        b = R.budget_ns(qty) / 1e3
        ax.axvline(b, **STYLE.BUDGET_STYLE)
        ax.text(b * 1.05, 1.0 - 0.09 * j, f"{b:.0f} us budget ({lab})", fontsize=7,
                color=STYLE.VERMILLION, va="top", ha="left",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
    ax.set_xscale("log")
    ax.set_xlim(0.05, 1e5)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("interruption of the target's task per drain (us)")
    ax.set_ylabel("P(interruption > x) (probability)")
    ax.legend(fontsize=6.8, loc="outside lower center", ncol=2) if False else \
        fig.legend(*ax.get_legend_handles_labels(), fontsize=6.8, loc="outside lower center", ncol=2)
    ax.set_title(f"Victim interruption tail, target '{W.LABELS[iso]}', {cfg.callsite}; "
                 "budgets from pw_series_numbers.csv", fontsize=9)
    return fig


def fastpath_tax(cfg: R.Config):
    """Fast-path tax vs local operation rate, with the kmalloc anchor."""
    m0 = cfg.machines[0]
    rates = np.geomspace(1e3, 1e9, 61)
    fig, axes = STYLE.figure(1, 2, width_in=10.5, height_in=4.2)
    ax = axes[0][0]
    for k, c in enumerate(R.TAX_CONFIGS):
        t = R.tax_ns(m0, c, cfg.overrides)
        ax.plot(rates, np.maximum(R.tax_share(m0, c, rates, cfg.overrides) * 100, 1e-9),
                color=STYLE.CYCLE[k],
                linestyle="--" if c.startswith("rt_") else "-", linewidth=1.6 if k % 2 else 2.4,
                label=f"{R.CONFIG_LABELS[c]}: {t:.2f} ns/op")
    ax.plot(rates, R.anchor_share("pwlocks1", rates) * 100, color=STYLE.BLACK, linestyle=":",
            label=f"kmalloc anchor pwlocks=1: {R.anchor_delta_cycles('pwlocks1'):.0f} cycles "
                  f"at {R.clock_ghz():.1f} GHz (assumed clock)")
    ax.axhline(1.0, color=STYLE.GREY, linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 1e3)
    ax.set_xlabel("local per-CPU operations per second (Hz)")
    ax.set_ylabel("share of one CPU spent on the tax (%)")
    ax.set_title(f"{m0}: tax = rate x ns/op (fastpath.tax_expr)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    ax = axes[0][1]
    names = [a[0] for a in R.ANCHORS]
    y = np.arange(len(names))
    meas = [R.anchor_delta_cycles(c) for c in names]
    model = [R.default_tax_cycles(c) for c in names]
    ax.barh(y - 0.2, meas, height=0.38, color=STYLE.GREY, label="measured (kmalloc_bench, CPU not stated)")
    ax.barh(y + 0.2, model, height=0.38, color=STYLE.BLUE, label=f"model, registry defaults at {R.clock_ghz():.1f} GHz")
    for yi, a, b in zip(y, meas, model):
        ax.text(a + 0.3, yi - 0.2, f"{a:.0f}", va="center", fontsize=7)
        ax.text(b + 0.3, yi + 0.2, f"{b:.1f}", va="center", fontsize=7)
    ax.set_yticks(y, [R.CONFIG_LABELS[c] for c in names])
    ax.invert_yaxis()
    ax.set_xlabel("cycles added per kmalloc vs unpatched (cycles)")
    ax.set_ylabel("kernel configuration (config)")
    ax.set_title("Anchor: kmalloc_locallock_vs_spinlock_cycles.csv (not fitted)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def breakdown(cfg: R.Config):
    """Per-term breakdown of the requester mean at three CPU counts."""
    m0 = cfg.machines[0]
    iso = cfg.victim_isolation
    ns = (8, 64, 512)
    fig, axes = STYLE.figure(1, len(ns), width_in=11.0, height_in=3.6)
    sc = R.scenario(m0, iso, None, cfg.callsite, cfg.overrides)
    terms: list[str] = []
    parts = {n: R.breakdown(sc, n) for n in ns}
    for n in ns:
        for _, t, _ in parts[n]:
            if t not in terms:
                terms.append(t)
    colours = {t: STYLE.CYCLE[i % len(STYLE.CYCLE)] for i, t in enumerate(terms)}
    hatches = {t: ("//" if i >= len(STYLE.CYCLE) else None) for i, t in enumerate(terms)}
    for j, n in enumerate(ns):
        ax = axes[0][j]
        for yi, strat in enumerate(("QW", "RL")):
            left = 0.0
            for s_, t, v in parts[n]:
                if s_ != strat or v <= 0:
                    continue
                ax.barh(yi, v / 1e3, left=left, color=colours[t], hatch=hatches[t],
                        edgecolor="white", linewidth=0.5, label=t)
                left += v / 1e3
            ax.text(left, yi, f" {left:.1f}", va="center", fontsize=7)
        ax.set_yticks([0, 1], ["QW", "RL"])
        ax.invert_yaxis()
        ax.set_xlabel("requester latency, mean (us)")
        ax.set_ylabel("strategy (name)" if j == 0 else "")
        ax.set_title(f"N = {n} CPUs", fontsize=9)
        ax.margins(x=0.18)
    h, lab = [], []
    for ax in fig.axes:
        for hh, ll in zip(*ax.get_legend_handles_labels()):
            if ll not in lab:
                h.append(hh)
                lab.append(ll)
    fig.legend(h, lab, loc="outside lower center", ncol=4, fontsize=7)
    fig.suptitle(f"{m0}, '{W.LABELS[iso]}', {cfg.callsite}: where the requester's time goes "
                 "(terms of fanout.qw_mean_expr / rl_mean_expr)", fontsize=9)
    return fig


def sensitivity(cfg: R.Config):
    """Tornado: crossover CPU count when each input moves alone to the ends of its interval."""
    m0 = cfg.machines[0]
    iso = cfg.victim_isolation
    rows = R.tornado(m0, iso, cfg.callsite, cfg.overrides)
    base = R.crossover_n(m0, iso, None, cfg.callsite, cfg.overrides)
    fig, axes = STYLE.figure(1, 1, width_in=8.0, height_in=1.2 + 0.32 * max(len(rows), 1))
    ax = axes[0][0]
    for i, (name, lo_v, hi_v, n_lo, n_hi) in enumerate(rows):
        for v, nx, col in ((lo_v, n_lo, STYLE.SKY), (hi_v, n_hi, STYLE.VERMILLION)):
            if math.isfinite(nx):
                ax.barh(i, nx - base, left=base, color=col, height=0.7)
    ax.axvline(base, color=STYLE.BLACK, linewidth=1.0)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.set_xlabel("crossover CPU count N* (CPUs)")
    ax.set_ylabel("input (registry name; c2c_scale = factor on all c2c)")
    ax.legend(handles=[Patch(color=STYLE.SKY, label="input at the low end of its interval"),
                       Patch(color=STYLE.VERMILLION, label="input at the high end of its interval")],
              fontsize=7, loc="lower right")
    ax.set_title(f"Sensitivity of the crossover N*: {m0}, '{W.LABELS[iso]}'\n"
                 f"N* = {base:.1f} at the defaults (black line); each input moved alone to the "
                 "ends of its interval\n(params.RANGES, profile intervals, c2c p10/p90); "
                 "N* beyond 10^6 CPUs not drawn", fontsize=8.5)
    return fig


def strategies(cfg: R.Config):
    """All four strategies (QW, RL, RU, SKIP) against CPU count on the first machine:
    requester latency, the isolated task's interruption, total CPU load."""
    from pwmodel import strategies as ST
    iso = cfg.victim_isolation
    m0 = cfg.primary
    n = 2.0 ** (np.arange(0, 41) / 4)
    sc = R.scenario(m0, iso, None, cfg.callsite, cfg.overrides)
    df = ST.evaluate_all(sc, n)
    fig, axes = STYLE.figure(1, 3, width_in=11.0, height_in=3.9)
    panels = (("requester_mean", "requester_mean_ns", 1e3, "requester latency, mean (us)"),
              ("victim_mean", "victim_mean_ns", 1e3, "isolated task's loss per drain (us)"),
              ("cpu_load", "cpu_load_cpus", 1.0, "total CPU load (CPUs)"))
    for ax, (obj, col, scale, label) in zip(axes[0], panels):
        ranked = ST.applicable(sc, obj)
        for strat in ST.STRATEGIES:
            d = df.filter(pl.col("strategy") == strat)
            if d.height == 0:
                continue
            st = STYLE.STRATEGY[strat]
            y = np.asarray(d[col], dtype=float) / scale
            y = np.where(y > 0, y, np.nan)
            ax.plot(n, y, color=st["color"], linestyle=st["linestyle"],
                    label=st["label"] + ("" if strat in ranked else " (not ranked)"),
                    alpha=1.0 if strat in ranked else 0.35)
        ax.set_xscale("log", base=2)
        _log2_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel("CPU count N (CPUs)")
        ax.set_ylabel(label)
        ax.set_title(OBJ_LABEL[obj] + ": ranks " + ", ".join(ranked), fontsize=8.5)
    axes[0][0].legend(loc="upper left", fontsize=6.5)
    skip = df.filter(pl.col("strategy") == "SKIP")
    note = ""
    if skip.height:
        note = (f"; SKIP strands {skip['stranded_items'][0]:.3g} items = "
                f"{skip['stranded_bytes'][0] / 1024:.3g} KiB per dirty isolated CPU")
    fig.suptitle(f"{m0}, '{W.LABELS[iso]}', {cfg.callsite}: QW, RL, RU and SKIP\n"
                 f"(SKIP's victim loss is 0, not drawn on log axes{note})", fontsize=9)
    return fig
