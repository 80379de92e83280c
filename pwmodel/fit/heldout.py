"""Held-out check of the queue->start fits: fit one target state, predict the others.

:func:`heldout_table` fits each candidate family to the ``train`` state's
queue->start samples (:func:`pwmodel.fit.calibrate.wake_samples`) and compares
its quantiles (with intervals) to those of the held-out states
(:func:`pwmodel.fit.select.heldout_quantiles`). :func:`report` renders the
table as fixed-width text; :func:`plot` draws the predicted CDFs over the
measured ECDFs. Values in ns.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import polars as pl

from pwmodel.fit import calibrate as CAL, distributions as FD, select as SEL
from pwmodel.fit.distresult import DistFit

TRAIN = "idle"
HELDOUT = ("stat_refresh_idle", "other")
FAMILIES = ("mix2_lognorm", "tick_lognorm")
QS = (0.5, 0.9, 0.99)


def heldout_table(families: Sequence[str] = FAMILIES, train: str = TRAIN,
                  heldout: Sequence[str] = HELDOUT, qs: Sequence[float] = QS,
                  samples: dict[str, FD.Sample] | None = None
                  ) -> tuple[pl.DataFrame, dict[str, DistFit]]:
    """One row per (family, held-out state, quantile); the fits on ``train`` by family."""
    smp = dict(samples or {})
    for st in (train, *heldout):
        if st not in smp:
            smp[st] = CAL.wake_samples(st)
    fits = {fam: FD.fit_dist(smp[train], fam) for fam in families}
    frames = []
    for fam, f in fits.items():
        for st in heldout:
            t = SEL.heldout_quantiles(f, smp[st].values_ns, qs, label=st)
            frames.append(t.with_columns(pl.lit(fam).alias("family"), pl.lit(train).alias("train")))
    df = pl.concat(frames).rename({"check": "heldout"})
    return df.select("family", "train", "heldout", pl.exclude("family", "train", "heldout")), fits


def report(df: pl.DataFrame) -> str:
    """Fixed-width text of :func:`heldout_table`'s frame."""
    L = ["[[Held-out queue->start]] fit on one target state, predict another",
         f"    {'family':<13}{'held out':<18}{'q':>5}{'pred_ns':>11}{'low_ns':>11}{'high_ns':>11}"
         f"{'meas_ns':>11}{'error':>8}"]
    for r in df.iter_rows(named=True):
        L.append(f"    {r['family']:<13}{r['heldout']:<18}{r['quantile']:>5g}"
                 f"{r['predicted_ns']:>11.4g}{r['pred_low_ns']:>11.4g}{r['pred_high_ns']:>11.4g}"
                 f"{r['measured_ns']:>11.4g}{r['rel_error'] * 100:>7.0f}%")
    return "\n".join(L)


def plot(fits: dict[str, DistFit], samples: dict[str, FD.Sample], train: str = TRAIN,
         ax: Any = None) -> Any:
    """Predicted CDFs (one per family, fitted on ``train``) over the measured ECDFs."""
    import matplotlib.pyplot as plt
    if ax is None:
        _, ax = plt.subplots(figsize=(7.6, 4.8))
    hi = 0.0
    for st, s in samples.items():
        x = np.sort(s.values_ns)
        hi = max(hi, float(x[-1]))
        tag = "fitted" if st == train else "held out"
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", lw=1.3,
                label=f"measured: {st} ({tag})")
    grid = np.geomspace(5e3, 2.5 * hi, 600)
    styles = ["-", "--", ":"]
    tick = None
    for i, (fam, f) in enumerate(fits.items()):
        ax.plot(grid, f.dist.cdf(grid), color="black", lw=1.8,
                ls=styles[i % len(styles)], label=f"predicted: {fam} (fit: {train})")
        tick = tick or f.tick_ns
    if tick:
        ax.axvline(tick, color="grey", ls=":", lw=1, label=f"one tick ({tick / 1e6:g} ms)")
    ax.set_xscale("log")
    ax.set_xlabel("queue->start on CPU 1 (ns)")
    ax.set_ylabel("CDF")
    ax.set_title("queue->start: fits on one state vs held-out measurements")
    ax.legend(fontsize=7.5, loc="upper left")
    return ax


def write_figure(path: str, fits: dict[str, DistFit], samples: dict[str, FD.Sample],
                 train: str = TRAIN) -> None:
    """Render :func:`plot` to a PNG, written atomically."""
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pwmodel import atomic
    fig, ax = plt.subplots(figsize=(7.6, 4.8))
    plot(fits, samples, train, ax)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    atomic.write_bytes(path, buf.getvalue())
