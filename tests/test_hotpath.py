"""How hot is too hot: the local-rate crossover of total CPU load, and the bh_lru answer
in the report."""

from __future__ import annotations

import math

import polars as pl

from pwmodel import cli, hotpath
from pwmodel import machine as M
from pwmodel.evaluate import Scenario, evaluate

XEON = M.get("intel-xeon-8375c-2s")


def _loads(sc: Scenario, n: int, rate: float) -> tuple[float, float]:
    s = Scenario(sc.machine, sc.isolation, callsite=sc.callsite,
                 overrides={**(sc.overrides or {}), "local_rate_hz": rate})
    df = evaluate(s, [n])
    f = lambda st: df.filter(pl.col("strategy") == st)["cpu_load_cpus"][0]  # noqa: E731
    return f("QW"), f("RL")


def test_crossover_balances_the_loads_and_scales_with_the_drain_rate():
    n = XEON.n_cpus
    sc = Scenario(XEON, "nohz_other", callsite="bh_lru")
    x = hotpath.crossover_local_rate(sc, n)
    assert 0 < x < math.inf
    q, r = _loads(sc, n, x)
    assert math.isclose(q, r, rel_tol=1e-6)
    q, r = _loads(sc, n, x / 2)
    assert r < q                      # cooler than the crossover: RL costs less CPU
    q, r = _loads(sc, n, x * 2)
    assert r > q                      # hotter: the tax costs more than the drains saved
    # QW's CPU is per drain and RL's tax per operation: the crossover follows the drain rate
    hi = hotpath.crossover_local_rate(Scenario(XEON, "nohz_other", callsite="bh_lru",
                                               overrides={"remote_rate_hz": 100.0}), n)
    lo = hotpath.crossover_local_rate(Scenario(XEON, "nohz_other", callsite="bh_lru",
                                               overrides={"remote_rate_hz": 1.0}), n)
    assert 80 < hi / lo < 120


def test_report_answers_the_bh_lru_question(tmp_path):
    out = tmp_path / "r"
    assert cli.main(["report", "--out", str(out), "--callsite", "bh_lru", "--isolation",
                     "nohz_other", "--text-only", "--quiet"]) == 0
    text = (out / "cover-letter.txt").read_text()
    assert "Q7. How hot a fast path is too hot for a spinlock?" in text
    assert "v4 2/4" in text
    q7 = text.split("Q7.")[1].split("Assumptions")[0]
    for m in M.bundled_names():
        assert m[:15] in q7
