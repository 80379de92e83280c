"""How hot is too hot: the local-rate crossover of total CPU load, and the bh_lru answer
in the report."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
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


def _brentq_crossover(sc: Scenario, n: int) -> float:
    """The crossover one scenario at a time: scipy's brentq on log lambda_L over
    evaluate()'s loads, to 1e-10 (absolute and relative) in log lambda_L."""
    from scipy import optimize
    lo, hi = 1.0, hotpath.max_local_rate_hz(sc)
    diff = lambda t: float(np.subtract(*_loads(sc, n, math.exp(t))))  # noqa: E731
    if diff(math.log(lo)) <= 0:
        return 0.0
    if diff(math.log(hi)) > 0:
        return math.inf
    return math.exp(optimize.brentq(diff, math.log(lo), math.log(hi), xtol=1e-10, rtol=1e-10))


def test_vectorised_crossovers_match_brentq_one_by_one():
    """crossover_local_rates solves many scenarios together (Chandrupatla on log lambda_L,
    to 1e-12); brentq stops within about 1e-9 of the root in log lambda_L, so the two
    agree to 1e-8 relative, far below the report's printed digits (0.1k)."""
    cases = [(Scenario(M.get(m), "nohz_other", callsite=cs), M.get(m).n_cpus)
             for m, cs in (("intel-xeon-8375c-2s", "lru_add_drain"),
                           ("amd-epyc-7601-2s", "slub_sheaves"),
                           ("local-kvm-2vcpu", "mlock_fbatch"),
                           ("aws-graviton2-64c", "bh_lru"))]
    cases.append((Scenario(XEON, "nohz_other", callsite="bh_lru",
                           overrides={"remote_rate_hz": 100.0}), 64))
    got = hotpath.crossover_local_rates([c for c, _ in cases], [n for _, n in cases])
    for (sc, n), x in zip(cases, got):
        ref = _brentq_crossover(sc, n)
        assert 0 < ref < math.inf
        assert math.isclose(x, ref, rel_tol=1e-8), (sc.machine.name, sc.callsite, x, ref)
        assert f"{x / 1e3:.1f}" == f"{ref / 1e3:.1f}"
        # solved alone: the same value as in the batch
        assert hotpath.crossover_local_rate(sc, n) == x


def test_crossover_never_end():
    """0 where RL costs more even at 1 local op/s (as the one-by-one version says)."""
    sc = Scenario(XEON, "nohz_other", callsite="lru_add_drain")
    n = XEON.n_cpus
    never = dataclasses.replace(sc, overrides={"remote_rate_hz": 1e-6})
    assert hotpath.crossover_local_rate(never, n) == _brentq_crossover(never, n) == 0.0
