"""Simulator: sampling, reproducibility, topology, agreement inside the domain, known breaks."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pwmodel import dist as D, machine as M
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario, evaluate, inputs
from pwmodel.models import fanout as F, numeric
from pwmodel.models import symbols as X
from pwmodel.simulate import events as EV, fanout as SF, validate as VAL
from pwmodel.simulate.sampling import FastSampler, quantile_ci

AMD = M.get("amd-epyc-7r13-2s")


def _ok(table: pl.DataFrame, **where) -> pl.Series:
    t = table
    for k, v in where.items():
        t = t.filter(pl.col(k) == v)
    assert t.height > 0, where
    return t["ok"]


# ---- sampling -------------------------------------------------------------------
@pytest.mark.parametrize("iso", ["idle", "nohz_fifo_throttle", "busy_other"])
def test_fast_sampler_matches_distribution(iso):
    dist = Scenario(AMD, isolation=iso, overrides={"wake_lag_use_ns": 400000.0, "wake_fast_sigma_fraction": 0.3}).wake_dist()
    x = FastSampler(dist).sample(np.random.default_rng(1), 200_000)
    se = np.sqrt(dist.var_ns2() / x.size)
    assert abs(x.mean() - dist.mean_ns()) < 4 * se + 1e-9
    for q in (0.1, 0.5, 0.9):
        pt = float(dist.quantile(q))
        assert abs(np.mean(x <= pt) - float(dist.cdf(pt))) < 0.01


def test_fast_sampler_fitted_continuous():
    dist = D.LatencyDist([D.continuous(stats.lognorm(0.8, scale=3000.0), 0.7),
                          D.point(20000.0, 0.3)], shift_ns=500.0)
    x = FastSampler(dist).sample(np.random.default_rng(2), 100_000)
    assert abs(x.mean() / dist.mean_ns() - 1) < 0.02
    cont = x[x != 20500.0]
    assert cont.size / x.size == pytest.approx(0.7, abs=0.01)
    assert stats.kstest(cont - 500.0, stats.lognorm(0.8, scale=3000.0).cdf).pvalue > 1e-3


def test_quantile_ci_covers_truth():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(200):
        e = quantile_ci(np.sort(rng.exponential(1.0, 2000)), 0.99)
        hits += e.lo <= np.log(100) <= e.hi
    assert hits >= 180          # nominal 95 %


# ---- reproducibility and topology -----------------------------------------------
def test_reproducible_and_independent_of_workers():
    sc = Scenario(AMD, isolation="idle")
    a = SF.simulate(sc, [4, 300], reps=700, seed=11)
    b = SF.simulate(sc, [4, 300], reps=700, seed=11, workers=2)
    c = SF.simulate(sc, [4, 300], reps=700, seed=12)
    assert a.equals(b)
    assert not a.equals(c)


@pytest.mark.parametrize("n", [1, 2, 9, 16, 100, 192, 500])
def test_topology_matches_class_counts(n):
    c2c, _, _ = SF.topology(AMD, n)
    assert c2c.mean() == pytest.approx(float(AMD.mean_c2c_ns(n)), rel=1e-12)
    assert c2c.max() == pytest.approx(float(AMD.max_c2c_ns(n)))


def test_bad_input_names_the_field():
    sc = Scenario(AMD)
    with pytest.raises(PwmodelError, match="dirty"):
        SF.plan(sc, 4, dirty="sometimes")
    with pytest.raises(PwmodelError) as e:
        SF.plan(sc, 2.5)
    assert e.value.field == "n_cpus"
    with pytest.raises(PwmodelError) as e:
        SF.plan(Scenario(AMD, overrides={"local_rate_hz": 5e7, "local_cs_ns": 30.0}), 4)
    assert e.value.field == "local_rate_hz"


# ---- agreement inside the stated domain -----------------------------------------
@pytest.fixture(scope="module")
def table_fixed():
    grid = VAL.conditions(isolations=("idle", "nohz_other", "nohz_fifo_dlserver", "nohz_fifo_none"),
                        rates=("low",), n_cpus=(2, 16, 256))
    return VAL.run(grid, reps=1500, seed=5, dirty="fixed")


def test_rl_requester_mean_agrees_everywhere(table_fixed):
    assert _ok(table_fixed, strategy="RL", metric="requester_mean_ns").all()


def test_qw_agrees_where_the_slowest_cpu_dominates(table_fixed):
    # idle (C-state exits) and the fair server: E[max] + S_Q dominates the lru_lock term
    for iso in ("idle", "nohz_fifo_dlserver"):
        for n in (2, 16, 256):
            assert _ok(table_fixed, strategy="QW", isolation=iso, n_cpus=n, metric="requester_mean_ns").all()
    assert _ok(table_fixed, strategy="QW", isolation="idle", n_cpus=16, metric="requester_p99_ns").all()
    assert _ok(table_fixed, strategy="QW", isolation="nohz_fifo_none", metric="requester_mean_ns").all()


def test_lru_lock_bound_and_known_breaks(table_fixed):
    t = table_fixed
    # the lru_lock bound starts after the first queue_work_on and hands off between
    # neighbouring CPUs when the drains arrive in queueing order: it now follows the
    # simulated mechanism (it was +77 % when stacked on all D queue_work_on calls)
    row = t.filter((pl.col("strategy") == "QW") & (pl.col("isolation") == "nohz_other")
                   & (pl.col("n_cpus") == 256) & (pl.col("metric") == "requester_mean_ns"))
    assert abs(row["rel_error"][0]) < 0.05, row
    # RL p99 at a given D: the exact law of the sum at few dirty CPUs, the normal with the
    # finite-population correction of D distinct CPUs above (it was +138 % at N = 2 when the
    # binomial spread of D was in the given-D form)
    assert _ok(t, strategy="RL", metric="requester_p99_ns", n_cpus=256).all()


def test_wrong_analytic_form_is_caught():
    def wrong(sc, ns):  # the mean of one wake-up in place of the expected maximum of D
        df = evaluate(sc, ns)
        v = inputs(sc, np.asarray(ns, dtype=float))
        qw = np.broadcast_to(numeric(F.qw_mean_expr().subs(X.wake_smax_ns, X.wake_mean_ns), v),
                             (len(ns),))
        fix = pl.DataFrame({"n_cpus": list(ns), "qw_wrong": qw.astype(float)})
        return (df.join(fix, on="n_cpus").with_columns(
            pl.when(pl.col("strategy") == "QW").then(pl.col("qw_wrong"))
            .otherwise(pl.col("requester_mean_ns")).alias("requester_mean_ns")).drop("qw_wrong"))

    grid = VAL.conditions(isolations=("idle",), rates=("low",), n_cpus=(16, 256))
    good = VAL.run(grid, reps=800, seed=1, dirty="fixed")
    bad = VAL.run(grid, reps=800, seed=1, dirty="fixed", analytic=wrong)
    sel = dict(strategy="QW", metric="requester_mean_ns")
    assert _ok(good, **sel).all()
    assert not _ok(bad, **sel).any()


# ---- event level --------------------------------------------------------------
@pytest.mark.xdist_group("busy_owner")
def test_two_class_lock_against_contention_formulas(busy_owner_lock):
    # lock_grid(local_rates_hz=(1e5, 1e7), remote_rates_hz=(1e3,), min_drains=20000, seed=2),
    # its second row shared with test_mechanisms (conftest.busy_owner_lock)
    df = pl.concat([EV.lock_grid(local_rates_hz=(1e5,), remote_rates_hz=(1e3,), min_drains=20000,
                                 seed=2), busy_owner_lock])
    for r in df.iter_rows(named=True):
        assert (r["remote_wait_lo_ns"] <= r["remote_wait_ana_ns"] <= r["remote_wait_hi_ns"]
                or r["remote_wait_sim_ns"] == pytest.approx(r["remote_wait_ana_ns"], rel=0.15))
        assert r["transition_sim_hz"] == pytest.approx(r["transition_ana_hz"], rel=0.08)
    lo, hi = df.row(0, named=True), df.row(1, named=True)
    # lambda_L S_R = 0.26: residual-life local wait holds
    assert lo["local_wait_sim_ns"] == pytest.approx(lo["local_wait_ana_ns"], rel=0.2)
    # lambda_L S_R = 26: only the first op of a hold spins; the corrected form
    # (lambda_R / lambda_L) E[(S_R - T1)^+] follows it, lambda_R S_R^2 / 2 would be ~13x high
    assert hi["local_wait_sim_ns"] == pytest.approx(hi["local_wait_ana_ns"], rel=0.2)
    assert hi["victim_sim_ns"] == pytest.approx(hi["victim_ana_ns"], rel=0.03)


def test_mutex_piggy_backing():
    t = np.array([0.0, 10.0, 20.0, 30.0, 5000.0])
    r = EV.drain_mutex(t, np.full(5, 100.0), mutex_ns=1.0, handoff_ns=2.0)
    # caller 0 drains; 1..3 read the same generation: 1 drains again, 2 and 3 piggy-back
    assert r.drained.tolist() == [True, True, False, False, True]
    assert r.latency_ns.tolist() == [100.0, 192.0, 185.0, 178.0, 100.0]
    with pytest.raises(PwmodelError):
        EV.drain_mutex(t[::-1], np.full(5, 100.0), 1.0, 2.0)


def test_mutex_sweep_and_proposal():
    sc = Scenario(AMD, isolation="nohz_other")
    df = EV.mutex_sweep(sc, 16, [10.0, 1e4], callers=6000, seed=3)
    rl = df.filter(pl.col("strategy") == "RL").sort("caller_rate_hz")
    assert rl["requester_mean_ns"][1] > rl["requester_mean_ns"][0]
    assert rl["drains_per_call"][1] < 1.0
    for r in df.iter_rows(named=True):
        assert r["proposed_mean_ns"] == pytest.approx(r["requester_mean_ns"], rel=0.05)
