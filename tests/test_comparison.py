"""One rule for comparing QW with RL (pwmodel.comparison), and its users agreeing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pwmodel import comparison as CMP

INF, NAN = math.inf, math.nan
# (qw, rl, winner, ratio worse/better, log10 qw/rl)
CASES = [
    (1.0, 2.0, "QW", 2.0, -math.log10(2.0)),
    (3.0, 1.5, "RL", 2.0, math.log10(2.0)),
    (3.0, 3.0 * (1 + 1e-14), "tie", 1.0, 0.0),
    (0.0, 0.0, "tie", 1.0, 0.0),
    (5.0, 0.0, "RL", INF, INF),
    (0.0, 5.0, "QW", INF, -INF),
    (INF, 7.0, "RL", INF, INF),
    (7.0, INF, "QW", INF, -INF),
    (INF, INF, "n/a", NAN, NAN),
    (NAN, 1.0, "n/a", NAN, NAN),
]


@pytest.mark.parametrize("q,r,win,ratio,lr", CASES)
def test_one_rule_for_zero_inf_and_nan(q, r, win, ratio, lr):
    assert CMP.winner(q, r) == win
    np.testing.assert_allclose(CMP.ratio(q, r), ratio, rtol=1e-12)
    np.testing.assert_allclose(CMP.log10_ratio(q, r), lr, rtol=1e-12)
    # vectorised form gives the same, and swapping the strategies mirrors the answer
    q2, r2 = np.array([q, q]), np.array([r, r])
    assert list(CMP.winner(q2, r2)) == [win, win]
    np.testing.assert_allclose(CMP.log10_ratio(r, q), -np.asarray(lr), rtol=1e-12)
    mirrored = {"QW": "RL", "RL": "QW"}.get(win, win)
    assert CMP.winner(r, q) == mirrored


def test_decide_and_report_maps_agree():
    """decide.crossover_map and the report's ratio_map once computed log10(QW/RL) with
    different rules for inf and zero; now both give the helper's values."""
    from pwmodel import decide as DC
    from pwmodel import machine as M
    from pwmodel.report import results as R
    m = M.get("amd-epyc-7r13-2s")
    n = np.array([1.0, 8.0, 512.0])
    rates = [0.0, 100.0]
    for iso in ("nohz_other", "nohz_fifo_none"):
        a = DC.crossover_map(m, [iso], n, rates, objective="cpu_load").sort(
            ["remote_rate_hz", "n_cpus"])
        b = R.ratio_map(R.scenario("amd-epyc-7r13-2s", iso), "cpu_load_cpus", n, rates)
        np.testing.assert_array_equal(a["log10_qw_over_rl"].to_numpy(),
                                      b["log10_qw_over_rl"].to_numpy())
        assert a["winner"].to_list() == list(CMP.winner(b["qw"].to_numpy(), b["rl"].to_numpy()))
