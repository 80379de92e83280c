"""The worst victim is the largest interruption over a call's targets, so its expectation is
at least the mean victim's (E[max] >= mean): an identity every form must keep."""

from __future__ import annotations

import numpy as np
import pytest

from pwmodel import machine as M
from pwmodel.evaluate import Scenario, evaluate

NS = [2, 8, 64, 256, 1024]


def _ratio(machine: str, iso: str) -> np.ndarray:
    df = evaluate(Scenario(M.get(machine), iso), NS)
    q = df.filter(df["strategy"] == "QW").sort("n_cpus")
    return (q["victim_worst_ns"] / q["victim_mean_ns"]).to_numpy()


@pytest.mark.parametrize("machine", ["amd-epyc-7601-2s", "intel-xeon-8375c-2s"])
@pytest.mark.parametrize("iso", ["busy_other", "nohz_fifo_throttle"])
def test_worst_victim_is_not_below_the_mean_victim(machine, iso):
    # 5e-4: the largest shortfall the server profiles show (numerical, docs/validity.md)
    assert (_ratio(machine, iso) >= 1 - 5e-4).all()


@pytest.mark.xfail(strict=True, reason="known defect (docs/validity.md, cause 2): on the "
                   "guest the QW worst victim leaves out the spread part's lru_lock wait")
def test_worst_victim_is_not_below_the_mean_victim_on_the_guest():
    assert (_ratio("local-kvm-2vcpu", "busy_other") >= 1 - 5e-4).all()
