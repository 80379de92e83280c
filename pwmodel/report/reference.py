"""Readers of the published numbers in data/reference/ that the report quotes or builds on."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.budgets import BUDGETS, budget_ns  # noqa: F401  (re-exported for the report)
from pwmodel.errors import PwmodelError
from pwmodel.models import fastpath as FP
from pwmodel.models import numeric

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "data" / "reference"
C2C_FALLBACK = (0.8, 1.2)


def kmalloc_anchor_cycles(kernel: str, variant_prefix: str) -> float:
    """Measured cycles per kmalloc (data/reference/kmalloc_locallock_vs_spinlock_cycles.csv)."""
    with open(REF / "kmalloc_locallock_vs_spinlock_cycles.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["kernel_config"] == kernel and row["variant"].startswith(variant_prefix):
                return float(row["avg_cycles_per_kmalloc"])
    raise PwmodelError(f"no kmalloc row {kernel} / {variant_prefix}", field="variant")


# (model config, kernel config, variant prefix of the patched row, of the reference row)
ANCHORS = (
    ("pwlocks_n", "CONFIG_PREEMPT_DYNAMIC=y", "patched, CONFIG_QPW=n", "unpatched"),
    ("pwlocks0", "CONFIG_PREEMPT_DYNAMIC=y", "patched, CONFIG_QPW=y, qpw=0", "unpatched"),
    ("pwlocks1", "CONFIG_PREEMPT_DYNAMIC=y", "patched, CONFIG_QPW=y, qpw=1", "unpatched"),
    ("rt_pwlocks0", "CONFIG_PREEMPT_RT", "patched, CONFIG_QPW=y, qpw=0", "unpatched"),
    ("rt_pwlocks1", "CONFIG_PREEMPT_RT", "patched, CONFIG_QPW=y, qpw=1", "unpatched"),
)


def anchor_delta_cycles(config: str) -> float:
    """Measured kmalloc cycles added by ``config`` over the unpatched kernel."""
    for cfg, kern, var, ref in ANCHORS:
        if cfg == config:
            return kmalloc_anchor_cycles(kern, var) - kmalloc_anchor_cycles(kern, ref)
    raise PwmodelError(f"no kmalloc anchor for '{config}'", field="config")


def clock_ghz() -> float:
    """The registry's generic core clock (GHz), at which cycle counts of an unstated CPU are
    read as ns."""
    return P.PARAMS["freq_hz"].default * 1e-9


def anchor_share(config: str, rates_hz: np.ndarray) -> np.ndarray:
    """Share of one CPU that ``config``'s measured kmalloc cycles would cost at each local
    operation rate, the cycles read at :func:`clock_ghz` (``fastpath.ns_of_cycles``,
    ``fastpath.share_expr``)."""
    vals = P.defaults().values
    ns = float(numeric(FP.ns_of_cycles(anchor_delta_cycles(config)), vals))
    rates = np.asarray(rates_hz, dtype=float)
    return np.broadcast_to(numeric(FP.share_expr(ns, P.SYMBOLS["local_rate_hz"]),
                                   {"local_rate_hz": rates}), rates.shape)


def c2c_ratios(m: M.Machine) -> tuple[float, float, str]:
    """(p10/median min, p90/median max, source) of the machine's CPU model rows."""
    key = m.cpu_model.split(" (")[0].strip().lower()
    lo, hi = [], []
    with open(REF / "c2c_latency.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["cpu_model"].lower().startswith(key):
                continue
            try:
                lat, p10, p90 = float(row["latency_ns"]), float(row["p10_ns"]), float(row["p90_ns"])
            except ValueError:
                continue
            if lat > 0:
                lo.append(p10 / lat)
                hi.append(p90 / lat)
    if not lo:
        return (*C2C_FALLBACK, "assumption: c2c x0.8 / x1.2 (no p10/p90 rows for this CPU model)")
    return (min(lo), max(hi), f"data/reference/c2c_latency.csv p10/p90 of '{key}' rows")
