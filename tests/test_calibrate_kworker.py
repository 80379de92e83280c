"""Kworker costs calibrated from the busy SCHED_OTHER drain trace reproduce its gaps."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pwmodel import data
from pwmodel.errors import PwmodelError
from pwmodel.fit import calibrate as CAL


def test_kworker_costs_add_up_to_the_measured_interruption():
    est = CAL.kworker_estimates(n_boot=200)
    for k in ("kworker_switch_ns", "kworker_irq_ns", "item_drain_ns"):
        e = est[k]
        assert e.low <= e.value <= e.high and e.n >= 100
    model = (est["kworker_irq_ns"].value + 2 * est["kworker_switch_ns"].value
             + 16 * est["item_drain_ns"].value)
    gaps = data.load("measured/drain_migrate_pages_other/victim_gaps").filter(
        pl.col("work_function") == "lru_add_drain_per_cpu")["gap_ns"].to_numpy()
    # a sum of medians against the median of the sums: within 15 % on this trace
    assert model == pytest.approx(float(np.median(gaps)), rel=0.15)


def test_kworker_costs_refuse_a_trace_without_matching_work():
    lc = data.load("measured/drain_migrate_pages_other/lifecycle").head(3)
    with pytest.raises(PwmodelError, match="kworker gaps matched"):
        CAL.kworker_estimates(lifecycle=lc, n_boot=10)
