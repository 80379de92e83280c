"""pwmodel.dist against SciPy's own distribution infrastructure (stats.make_distribution,
stats.Mixture, stats.order_statistic), and fit results exposing one cached distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pwmodel import dist as D
from pwmodel.errors import PwmodelError


@pytest.mark.parametrize("rv", [stats.lognorm(0.9, scale=4000.0), stats.gamma(2.5, scale=800.0),
                                stats.weibull_min(1.4, scale=3000.0), stats.expon(scale=1000.0)],
                         ids=["lognorm", "gamma", "weibull", "expon"])
def test_expected_max_agrees_with_scipy_order_statistics(rv):
    d = D.from_scipy(rv, shift_ns=750.0)
    for n in (1, 2, 8, 64):
        ours = float(d.expected_max_ns(n))
        assert ours == pytest.approx(d.expected_max_scipy(n), rel=1e-6), n
    assert float(d.expected_max_ns(1)) == pytest.approx(d.mean_ns(), rel=1e-7)


def test_mixture_of_continuous_parts_is_a_scipy_mixture():
    d = D.LatencyDist([D.continuous(stats.lognorm(0.8, scale=3000.0), 0.6, "fast"),
                       D.uniform(1000.0, 9000.0, 0.3),
                       D.continuous(stats.gamma(3.0, scale=2e4), 0.1, "slow")], shift_ns=500.0)
    s = d.to_scipy()
    assert isinstance(s, stats.Mixture) or hasattr(s, "cdf")
    x = np.array([600.0, 2000.0, 5000.0, 2e4, 1e5])
    np.testing.assert_allclose(s.cdf(x), d.cdf(x), rtol=1e-9, atol=1e-12)
    assert float(s.mean()) == pytest.approx(d.mean_ns(), rel=1e-9)
    assert float(s.variance()) == pytest.approx(d.var_ns2(), rel=1e-6)
    # SciPy has no order statistics of a mixture: ours, by quadrature, against sampling
    rng = np.random.default_rng(7)
    m = d.sample(rng, (20000, 8)).max(axis=1)
    assert abs(m.mean() - float(d.expected_max_ns(8))) < 4 * m.std() / np.sqrt(m.size)


def test_point_masses_stay_own_code():
    d = D.LatencyDist([D.point(0.0, 0.4), D.uniform(0.0, 4e6, 0.6)])
    assert d.to_scipy() is None
    with pytest.raises(PwmodelError, match="single continuous part"):
        d.expected_max_scipy(4)
    # E[max of n] of 0.4 x point(0) + 0.6 x U(0, T): T (1 - int_0^1 (0.4 + 0.6 u)^n du)
    n, T = 5, 4e6
    exact = T * (1 - (1.0 - 0.4 ** (n + 1)) / (0.6 * (n + 1)))
    assert float(d.expected_max_ns(n)) == pytest.approx(exact, rel=1e-9)


def test_parts_share_one_interface():
    parts = [D.point(3.0, 0.2), D.uniform(1.0, 5.0, 0.3), D.continuous(stats.expon(scale=2.0), 0.5)]
    u = np.array([0.1, 0.5, 0.9])
    for p in parts:
        lo, hi = p.support()
        q = p.ppf(u)
        assert np.all((q >= lo) & (q <= hi))
        np.testing.assert_allclose(p.cdf(q), u if p.kind != "point" else 1.0, rtol=1e-12)
        assert p.second_moment() >= p.mean() ** 2 - 1e-12
    d = D.LatencyDist(parts)
    assert sum(c.weight for c in d.components) == pytest.approx(1.0)
    assert d.signature() == D.LatencyDist(parts).signature()


def test_fit_result_exposes_one_cached_distribution():
    from pwmodel.fit import distributions as FD
    rng = np.random.default_rng(3)
    x = 500.0 + stats.lognorm(0.7, scale=2000.0).rvs(size=400, random_state=rng)  # synthetic
    f = FD.fit_dist(FD.sample(x, name="synthetic lognormal"), "lognorm")
    assert f.dist is f.dist
    assert not hasattr(f, "quantile_ns") and not hasattr(f, "expected_max_ns")
    ref = f.to_latency_dist()
    assert float(f.dist.quantile(0.99)) == pytest.approx(float(ref.quantile(0.99)), rel=1e-12)
    assert float(f.dist.expected_max_ns(16)) == pytest.approx(f.dist.expected_max_scipy(16),
                                                              rel=1e-6)
