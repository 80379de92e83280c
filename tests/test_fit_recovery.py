"""Recovery on labelled synthetic data: 95 % intervals must cover the truth 90-99 % of
the time over 200 seeds; deliberately broken estimators must fail the same check."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pwmodel.fit import Data, Model, fit, distributions as FD
from pwmodel.models import fanout as F, wakeup as W
import sympy as sp

SEEDS = 200
BAND = (0.90, 0.99)


def _inside(ci, truth) -> bool:
    return ci[0] <= truth <= ci[1]


def _rl_model() -> Model:
    return Model.from_expr(F.rl_mean_expr(), x=["n_cpus", "c2c_mean_ns"],
                           params=["item_drain_ns", "mutex_ns"], name="rl_mean")


def _rl_data(m: Model, rng, truth, n_pts=12, noise=150.0) -> Data:
    n = np.arange(1, n_pts + 1, dtype=float)
    x = {"n_cpus": n, "c2c_mean_ns": np.full_like(n, 60.0)}
    y = m(x, {**m.make_params().values(), **truth}) + rng.normal(0, noise, n.size)
    return Data(x, y, "requester_mean_ns", name="synthetic_rl")


def _coverage_linear(scale_se: float = 1.0, bias_se: float = 0.0) -> dict[str, float]:
    m = _rl_model()
    truth = {"item_drain_ns": 80.0, "mutex_ns": 300.0}
    hits = {k: 0 for k in truth}
    for seed in range(SEEDS):
        r = fit(m, _rl_data(m, np.random.default_rng(seed), truth), ci="wald")
        assert r.converged
        for k, v in truth.items():
            p = r.params[k]
            c = p.value + bias_se * p.stderr
            half = (p.ci[1] - p.ci[0]) / 2 * scale_se
            hits[k] += _inside((c - half, c + half), v)
    return {k: h / SEEDS for k, h in hits.items()}


def test_wald_coverage_linear_model():
    cov = _coverage_linear()
    for k, c in cov.items():
        assert BAND[0] <= c <= BAND[1], (k, c)


def test_broken_estimators_fail_the_coverage_check():
    too_narrow = _coverage_linear(scale_se=0.5)
    biased = _coverage_linear(bias_se=2.5)
    assert any(not BAND[0] <= c <= BAND[1] for c in too_narrow.values()), too_narrow
    assert any(not BAND[0] <= c <= BAND[1] for c in biased.values()), biased


def test_profile_coverage_nonlinear_model():
    # E[max of n] of the lazy-preemption tick wait plus an IPI: nonlinear in tick_hz
    n = sp.Symbol("n_cpus", positive=True)
    expr = W.S["ipi_ns"] + W.lazy_emax_expr(n)
    m = Model.from_expr(expr, x=["n_cpus"], params=["ipi_ns", "tick_hz"], name="lazy_emax")
    truth = {"ipi_ns": 1500.0, "tick_hz": 250.0}
    x = {"n_cpus": np.array([1, 1, 2, 2, 3, 4, 6, 8, 12, 16], dtype=float)}
    y0 = m(x, truth)
    hits = {k: 0 for k in truth}
    for seed in range(SEEDS):
        rng = np.random.default_rng(1000 + seed)
        d = Data(x, y0 + rng.normal(0, 150.0, y0.size), "wake_emax_ns", name="synthetic_lazy")
        p = m.make_params({"ipi_ns": 1000.0, "tick_hz": 400.0})
        r = fit(m, d, p, ci="profile")
        assert r.converged and r.ci_method == "profile"
        for k, v in truth.items():
            hits[k] += _inside(r.params[k].ci, v)
    for k, h in hits.items():
        assert BAND[0] <= h / SEEDS <= BAND[1], (k, h / SEEDS)


def test_joint_fit_shared_parameter_coverage():
    # one c2c_ns shared by two models: the RL hold of one drain, and an owner refetch
    from pwmodel.models import coherence
    m1 = Model.from_expr(coherence.remote_hold_expr() * F.X.n_cpus, x=["n_cpus"],
                         params=["c2c_ns", "item_drain_ns"], name="hold")
    m2 = Model.from_expr(coherence.owner_refetch_expr() + W.S["atomic_rmw_ns"] * F.X.n_cpus,
                         x=["n_cpus"], params=["c2c_ns", "atomic_rmw_ns"], name="refetch")
    truth = {"c2c_ns": 70.0, "item_drain_ns": 40.0, "atomic_rmw_ns": 8.0}
    n = np.arange(1, 9, dtype=float)
    hits = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(5000 + seed)
        y1 = m1({"n_cpus": n}, truth) + rng.normal(0, 200.0, n.size)
        y2 = m2({"n_cpus": n}, truth) + rng.normal(0, 5.0, n.size)
        r = fit([(m1, Data({"n_cpus": n}, y1, "hold_ns", name="a")),
                 (m2, Data({"n_cpus": n}, y2, "refetch_ns", name="b"))], ci="wald")
        hits += _inside(r.params["c2c_ns"].ci, truth["c2c_ns"])
    assert BAND[0] <= hits / SEEDS <= BAND[1], hits / SEEDS


@pytest.mark.parametrize("family,rv,names", [
    ("lognorm", stats.lognorm(0.7, scale=20000.0), {"median_ns": 20000.0, "sigma_1": 0.7}),
    ("gamma", stats.gamma(2.5, scale=4000.0), {"shape_1": 2.5, "scale_ns": 4000.0}),
])
def test_distribution_wald_coverage(family, rv, names):
    hits = {k: 0 for k in names}
    q99 = 0
    true_q99 = float(rv.ppf(0.99))
    for seed in range(SEEDS):
        x = rv.rvs(300, random_state=np.random.default_rng(seed))
        f = FD.fit_dist(FD.sample(x, name="syn"), family, shift_ns=0.0)
        for k, v in names.items():
            hits[k] += _inside(f.ci[k], v)
        if family == "lognorm":
            _, lo, hi = f.quantile_ci(0.99)
            q99 += lo <= true_q99 <= hi
    for k, h in hits.items():
        assert BAND[0] <= h / SEEDS <= BAND[1], (family, k, h / SEEDS)
    if family == "lognorm":
        assert BAND[0] <= q99 / SEEDS <= BAND[1], q99 / SEEDS


def test_censored_fit_recovers_and_naive_fit_is_biased():
    """Right-censoring at the 80th percentile: the censored likelihood covers the truth,
    the naive fit that drops the censored items is biased and fails."""
    rv = stats.lognorm(0.8, scale=10000.0)
    cut = float(rv.ppf(0.8))
    good = bad = 0
    seeds = 80
    for seed in range(seeds):
        x = rv.rvs(200, random_state=np.random.default_rng(seed))
        s = FD.sample(np.minimum(x, cut), censor_ns=cut, name="cens")
        good += _inside(FD.fit_dist(s, "lognorm", shift_ns=0.0).ci["sigma_1"], 0.8)
        naive = FD.fit_dist(FD.sample(x[x < cut]), "lognorm", shift_ns=0.0)
        bad += _inside(naive.ci["sigma_1"], 0.8)
    assert BAND[0] <= good / seeds <= BAND[1], good / seeds
    assert bad / seeds < 0.5, bad / seeds


def test_bootstrap_coverage_shifted_exponential():
    """Shift fitted by modified ML; nonparametric bootstrap for the scale, the law of the
    minimum for the shift (a percentile bootstrap of an end point covers ~66 %)."""
    seeds, truth_shift, truth_scale = 100, 2000.0, 5000.0
    hit_shift = hit_scale = 0
    for seed in range(seeds):
        rng = np.random.default_rng(7000 + seed)
        x = truth_shift + rng.exponential(truth_scale, 120)
        f = FD.fit_dist(FD.sample(x), "expon", ci="bootstrap", n_boot=200, seed=seed)
        hit_shift += _inside(f.ci["shift_ns"], truth_shift)
        hit_scale += _inside(f.ci["scale_ns"], truth_scale)
    assert 0.88 <= hit_shift / seeds <= 0.995, hit_shift / seeds
    assert 0.88 <= hit_scale / seeds <= 0.995, hit_scale / seeds
