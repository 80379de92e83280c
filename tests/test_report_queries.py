"""The report's model queries ask only for what they draw: a map column computed alone
(evaluate.metrics) is evaluate()'s."""

from __future__ import annotations

import numpy as np
import polars as pl

from pwmodel import evaluate as E
from pwmodel.report import results as R

MACHINE = "intel-xeon-8375c-2s"


def test_ratio_map_column_is_evaluates():
    sc = R.scenario(MACHINE, "nohz_fifo_none")
    n = np.array([1.0, 16.0, 256.0])
    for col, rates in (("requester_mean_ns", None), ("cpu_load_cpus", [1.0, 100.0])):
        got = R.ratio_map(sc, col, n, rates)
        for i, rate in enumerate(rates or [None]):
            s2 = sc if rate is None else E.Scenario(sc.machine, sc.isolation,
                                                    overrides={"remote_rate_hz": rate})
            df = E.evaluate(s2, n)
            part = got[i * n.size:(i + 1) * n.size]
            for strat, c in (("QW", "qw"), ("RL", "rl")):
                want = df.filter(pl.col("strategy") == strat)[col].to_numpy()
                np.testing.assert_array_equal(part[c].to_numpy(), want)
