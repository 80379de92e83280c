"""The law of the dirty count and the metrics averaged over it (pwmodel.models.dirty)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from pwmodel import machine as M
from pwmodel import evaluate as E
from pwmodel.models import dirty as DY
from pwmodel.models import rlsum
from pwmodel.simulate import validate as VAL
from pwmodel.simulate.fanout import simulate

XEON = "intel-xeon-8375c-2s"


def test_law_is_the_binomial_truncated_below_the_stated_mass():
    n = np.array([1.0, 2.0, 8.0, 64.0, 1024.0, 4096.0])
    for d in (0.1, 0.5, 0.9):
        k, w = DY.law(n, d)
        assert np.allclose(w.sum(axis=1), 1.0)
        for i, ni in enumerate(n):
            live = w[i] > 0
            kept = stats.binom.pmf(k[i][live], int(ni), d).sum()
            assert 1.0 - kept < 1e-12                       # the dropped mass
            assert np.allclose(w[i][live], stats.binom.pmf(k[i][live], int(ni), d) / kept, rtol=1e-9)
        assert np.allclose((k * w).sum(axis=1), n * d, rtol=1e-9)
    # between integer CPU counts: the interpolated law, mean d N
    k, w = DY.law(np.array([2.5]), 0.5)
    assert math.isclose(float((k * w).sum()), 1.25, rel_tol=1e-12)
    # seen from a dirty CPU: 1 + Binomial(N - 1, d)
    k, w = DY.law(np.array([8.0]), 0.5, biased=True)
    assert math.isclose(float((k * w).sum()), 1 + 7 * 0.5, rel_tol=1e-12)
    assert float(k[w > 0].min()) == 1.0


def _exact_vs_fixed(sc: E.Scenario, n: np.ndarray) -> tuple[dict, dict]:
    """Every mixture computed at every point (no switch), and the closed forms."""
    ps = sc.params()
    v = E.inputs(sc, n, ps)
    qc, rc = sc.configs
    fixed = E.metric_arrays(v, n.shape, idle=sc.isolation == "idle", qw_config=qc, rl_config=rc)
    ex = E.model_exprs(qc, rc)
    wake, rows = E.mixing(sc, ps)
    v_rl = {**v, "local_rate_hz": 0.0} if sc.isolation == "idle" else v
    mixed = {
        "qw_mean": DY.expect(ex["qw_mean"], fixed["requester_mean_ns"][0], v, n.shape, wake, rows, exact=True),
        "qw_p99": DY.quantile(ex["qw_p99"], 0.99, fixed["requester_p99_ns"][0], v, n.shape, wake, rows, exact=True),
        "rl_p99": DY.normal_quantile(ex["rl_mean"], ex["rl_p99"], 0.99, fixed["requester_p99_ns"][1], v_rl,
                                     n.shape, wake, rows, exact=True, small=rlsum.SMALL),
        "qw_cpu": DY.expect(ex["qw_cpu"], fixed["cpu_time_ns"][0], v, n.shape, wake, rows, exact=True),
        "qw_victim": DY.expect(ex["qw_victim"], fixed["victim_mean_ns"][0], v, n.shape, wake, rows,
                               biased=True, exact=True),
    }
    closed = {"qw_mean": fixed["requester_mean_ns"][0], "qw_p99": fixed["requester_p99_ns"][0],
              "rl_p99": fixed["requester_p99_ns"][1], "qw_cpu": fixed["cpu_time_ns"][0],
              "qw_victim": fixed["victim_mean_ns"][0]}
    return mixed, closed


@pytest.mark.parametrize("d", [0.0, 1.0])
def test_a_certain_dirty_count_gives_the_closed_form(d):
    m = M.get(XEON)
    sc = E.Scenario(m, isolation="nohz_other", overrides={"dirty_fraction": d})
    n = np.array([1.0, 2.0, 8.0])
    mixed, closed = _exact_vs_fixed(sc, n)
    if d == 1.0:
        # every CPU dirty: the pair classes of the dirty CPUs are known (drawn without
        # replacement), so the closed form's pair-class variance is not there
        v = {**E.inputs(sc, n), "c2c_var_ns2": 0.0}
        qc, rc = sc.configs
        closed["rl_p99"] = E.metric_arrays(v, n.shape, idle=False, qw_config=qc, rl_config=rc,
                                           need=["requester_p99_ns"])["requester_p99_ns"][1]
    for key in mixed:
        if key == "qw_victim" and d == 0.0:
            continue          # no dirty target: the victim is conditioned on an empty event
        assert np.allclose(mixed[key], closed[key], rtol=1e-6, atol=1e-6), key


def test_the_mixture_differs_from_the_closed_form_where_the_maximum_bends():
    # the idle target: wake-ups spread by C-state exits; at N = 2 the mean dirty count
    # (1) inside the maximum of D wake-ups overstates the mean by > 10 %
    sc = E.Scenario(M.get(XEON), isolation="idle")
    mixed, closed = _exact_vs_fixed(sc, np.array([2.0]))
    assert mixed["qw_mean"][0] < 0.92 * closed["qw_mean"][0]


def test_where_the_switch_keeps_the_closed_form_the_mixture_agrees():
    m = M.get(XEON)
    n = np.array([256.0, 1024.0])
    for iso in ("idle", "nohz_other", "nohz_fifo_dlserver"):
        sc = E.Scenario(m, isolation=iso)
        mixed, closed = _exact_vs_fixed(sc, n)
        fixed = E.wide(dataclasses.replace(sc, dirty_count="fixed"), n)
        used = E.wide(sc, n)
        for key, col, tol in (("qw_mean", "qw_requester_mean_ns", DY.MEAN_TOL),
                              ("qw_p99", "qw_requester_p99_ns", DY.TAIL_TOL),
                              ("rl_p99", "rl_requester_p99_ns", DY.TAIL_TOL)):
            kept = used[col].to_numpy() == fixed[col].to_numpy()
            rel = np.abs(mixed[key] - closed[key]) / np.abs(closed[key])
            assert np.all(rel[kept] < tol), (iso, key, rel)


def _agreement(analytic, sc, ns, reps=3000):
    a = analytic(sc, ns)
    s = simulate(sc, ns, reps=reps, seed=1, dirty="binomial")
    return VAL.compare(a, s)


def test_mixture_agrees_with_the_binomial_simulation_at_small_n():
    # idle targets: the given-D forms agree with the simulator, so what is left is the
    # law of D; QW mean within 2 % or the CI, QW p99 and RL p99 within 5 %
    sc = E.Scenario(M.get(XEON), isolation="idle")
    t = _agreement(E.evaluate, sc, (1, 2, 8))
    rows = t.filter(pl.col("metric").is_in(["requester_mean_ns", "requester_p99_ns"])
                    & ~((pl.col("strategy") == "RL") & (pl.col("metric") == "requester_mean_ns")))
    bad = rows.filter(~pl.col("ok"))
    assert bad.height == 0, bad.select("strategy", "n_cpus", "metric", "analytic_ns", "simulated_ns",
                                       "rel_error")


def test_the_mean_dirty_count_inside_the_maximum_fails_the_binomial_validation():
    sc = E.Scenario(M.get(XEON), isolation="idle")
    t = _agreement(E.evaluate_mean_dirty, sc, (2,))
    row = t.filter((pl.col("strategy") == "QW") & (pl.col("metric") == "requester_mean_ns"))
    assert not row["ok"][0] and row["rel_error"][0] > 0.05


def test_fixed_convention_is_the_closed_form_and_unknown_is_refused():
    m = M.get(XEON)
    a = E.evaluate(E.Scenario(m, dirty_count="fixed"), [2])
    b = E.evaluate_mean_dirty(E.Scenario(m), [2])
    assert a.equals(b)
    with pytest.raises(Exception, match="dirty-count convention"):
        E.Scenario(m, dirty_count="poisson")


def test_the_numeric_law_is_the_documented_binomial():
    """dirty._pmf and dirty.law (plain and seen from a dirty CPU) equal the SymPy law that
    docs/model.md prints, at integer N where no truncation mass is dropped (small N)."""
    import sympy as sp
    from pwmodel.models import symbols as X
    from pwmodel.params import SYMBOLS as S
    e = DY.law_exprs()
    for n, d in ((1, 0.3), (5, 0.5), (12, 0.07)):
        at = {X.n_cpus: n, S["dirty_fraction"]: sp.Rational(str(d))}
        ks = np.arange(n + 1)
        want = np.array([float(e["pmf"].subs(at).subs(e["k"], int(j))) for j in ks])
        assert np.allclose(DY._pmf(ks.astype(float), np.float64(n), np.float64(d)), want,
                           rtol=1e-12, atol=1e-300)
        k, w = DY.law(np.array([float(n)]), np.array([d]), biased=True)
        want_v = {int(j): float(e["pmf_victim"].subs(at).subs(e["k"], int(j))) for j in range(1, n + 1)}
        got_v = {int(a): b for a, b in zip(k[0], w[0]) if b > 0}
        assert got_v.keys() <= want_v.keys()
        assert all(abs(got_v[j] - want_v[j]) <= 1e-12 * max(want_v[j], 1e-300) + 1e-13 for j in got_v)
        assert abs(sum(want_v.values()) - 1.0) < 1e-12


@pytest.mark.parametrize("machine,iso,cs", [("amd-epyc-7r13-2s", "nohz_other", "lru_add_drain"),
                                            ("intel-xeon-8375c-2s", "idle", "pcp_lists"),
                                            ("local-kvm-2vcpu", "busy_other", "memcg_stock")])
def test_quantile_steps_on_the_narrowing_points_only_change_no_bit(machine, iso, cs, monkeypatch):
    """The mixture quantiles' regula falsi evaluates, at each step, only the points whose
    bracket is still wide: the p99s (QW and RL, flush and async requesters) are the ones
    of evaluating every point at every step, bit for bit."""
    sc = E.Scenario(M.get(machine), iso, callsite=cs)
    n = np.concatenate([np.arange(1.0, 40.0), [47.5, 64, 100, 333, 1024]])
    got = E.metrics(sc, n, ["requester_p99_ns"])["requester_p99_ns"]
    real = DY._bisect
    monkeypatch.setattr(DY, "_bisect", lambda cdf, q, lo, hi, fin, sub=None: real(cdf, q, lo, hi, fin))
    want = E.metrics(sc, n, ["requester_p99_ns"])["requester_p99_ns"]
    for g, w_ in zip(got, want):
        assert np.array_equal(g, w_, equal_nan=True)
