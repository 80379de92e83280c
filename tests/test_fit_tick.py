"""Tick-capped families: the lognormal + uniform convolution as a scipy distribution,
the families as LatencyDists, and recovery on labelled synthetic data (95 % Wald
intervals must cover the truth 90-99 % of the time)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from pwmodel import dist as D
from pwmodel.errors import PwmodelError
from pwmodel.fit import distributions as FD, families as FM
from pwmodel.fit.distresult import DistFit
from pwmodel.fit.tickfam import lognorm_unif, slow_rv

TICK_NS = 4e6
TRUTH = np.array([0.85, 7000.0, 0.5])       # weight_1, median_ns, sigma_1
SHIFT_NS = 12000.0


def _truth_dist(fam_name: str = "tick_lognorm", v: np.ndarray = TRUTH) -> D.LatencyDist:
    fam = FM.get(fam_name, TICK_NS)
    return D.LatencyDist([D.continuous(rv, w) for w, rv, _ in fam.parts(v)], SHIFT_NS)


def test_convolution_density_cdf_ppf_rvs():
    rv = slow_rv(7000.0, 0.58, TICK_NS)
    x = np.array([500.0, 7000.0, 1e5, 3.9e6, 4.01e6, 4.05e6, 8e6])
    num = [integrate.quad(lambda u: stats.lognorm.pdf(xx - u, 0.58, scale=7000.0) / TICK_NS,
                          0, min(xx, TICK_NS), points=[max(xx - 1e5, 0.0)], limit=200)[0]
           for xx in x]
    assert rv.pdf(x) == pytest.approx(num, rel=1e-4, abs=1e-30)     # quadrature error
    ln = stats.lognorm(0.58, scale=7000.0)
    exact = (ln.sf(np.maximum(x - TICK_NS, 0.0)) - ln.sf(x)) / TICK_NS
    assert rv.pdf(x) == pytest.approx(exact, rel=1e-9, abs=1e-300)
    assert rv.cdf(x) + rv.sf(x) == pytest.approx(1.0, abs=1e-12)
    assert integrate.quad(rv.pdf, 0, 5e6, points=[TICK_NS], limit=500)[0] == pytest.approx(1, abs=1e-8)
    q = np.array([1e-4, 0.3, 0.5, 0.99, 0.999999])
    assert rv.cdf(rv.ppf(q)) == pytest.approx(q, rel=1e-9)
    assert np.all(rv.logpdf([1.0e7, 2e7]) > -np.inf)       # tail stays finite in logs
    a = rv.rvs(2000, random_state=1)
    assert np.array_equal(a, rv.rvs(2000, random_state=1))
    assert np.array_equal(rv.rvs(50, random_state=np.random.default_rng(3)),
                          rv.rvs(50, random_state=np.random.default_rng(3)))
    assert stats.kstest(a, rv.cdf).pvalue > 0.01
    assert rv.mean() == pytest.approx(7000.0 * np.exp(0.58 ** 2 / 2) + TICK_NS / 2)
    assert rv.var() == pytest.approx(np.var(rv.rvs(200_000, random_state=2)), rel=0.02)
    with pytest.raises(Exception):
        lognorm_unif(0.5, -1.0).rvs(random_state=0)


def test_latency_dist_and_expected_max():
    ld = _truth_dist()
    x = ld.sample(np.random.default_rng(0), (40000, 8))
    for n in (1, 8):
        mc = float(np.mean(x[:, :n].max(axis=1)))
        assert ld.expected_max_ns(n) == pytest.approx(mc, rel=0.02)
    assert ld.quantile(0.999) < SHIFT_NS + TICK_NS + 50 * 7000.0    # capped at ~one tick
    ld3 = _truth_dist("tick3_lognorm", np.array([0.3, 0.1, 7000.0, 0.5, 9e8, 0.01]))
    assert 8.5e8 < ld3.quantile(0.9) < 9.5e8


def test_needs_the_tick():
    x = _truth_dist().sample(np.random.default_rng(1), 200)
    with pytest.raises(PwmodelError, match="tick"):
        FD.fit_dist(FD.sample(x), "tick_lognorm")
    with pytest.raises(PwmodelError, match="tick_ns"):
        FD.sample(x, tick_ns=-1.0)
    sel = FD.select_family(FD.sample(x), ("lognorm", "tick_lognorm"))
    assert "tick_lognorm" in sel.errors and sel.best == "lognorm"


def test_selection_and_json_round_trip():
    x = _truth_dist().sample(np.random.default_rng(2), 400)
    sel = FD.select_family(FD.sample(x, tick_ns=TICK_NS),
                           ("lognorm", "mix2_lognorm", "tick_lognorm"), shift_ns=SHIFT_NS)
    assert sel.best == "tick_lognorm"
    f = sel.best_fit
    g = DistFit.from_json(f.to_json())
    assert g.tick_ns == TICK_NS
    assert g.dist.quantile(0.99) == pytest.approx(f.dist.quantile(0.99), rel=1e-9)
    est, lo, hi = f.emax_ci(8, n=100)
    assert lo <= est <= hi
    assert "tick_ns" in f.report()


def test_three_part_recovers_starvation():
    v = np.array([0.3, 0.15, 20000.0, 0.3, 9e8, 0.02])
    x = _truth_dist("tick3_lognorm", v).sample(np.random.default_rng(4), 600)
    f = FD.fit_dist(FD.sample(x, tick_ns=TICK_NS), "tick3_lognorm", shift_ns=SHIFT_NS)
    p = f.params
    assert f.converged
    for k, t in zip(f.param_names, v):
        lo, hi = f.ci[k]
        assert lo * 0.9 <= t <= hi * 1.1, (k, t, f.ci[k])
    assert p["starve_median_ns"] == pytest.approx(9e8, rel=0.01)


def test_wald_coverage_tick_lognorm():
    """100 labelled samples of 300 (shift known: the intervals are conditional on it)."""
    seeds, hits = 100, np.zeros(3)
    ld = _truth_dist()
    for seed in range(seeds):
        x = ld.sample(np.random.default_rng(1000 + seed), 300)
        f = FD.fit_dist(FD.sample(x, tick_ns=TICK_NS), "tick_lognorm", shift_ns=SHIFT_NS)
        assert f.converged
        hits += [f.ci[k][0] <= t <= f.ci[k][1] for k, t in zip(f.param_names, TRUTH)]
    cov = hits / seeds
    print("coverage", dict(zip(("weight_1", "median_ns", "sigma_1"), cov)))
    assert np.all((0.90 <= cov) & (cov <= 0.99)), cov
