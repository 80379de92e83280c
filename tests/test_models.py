"""Properties a wrong model would violate: limits, identities, agreement of forms."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest
import sympy as sp
from scipy import integrate, stats

from pwmodel import decide, dist as D, machine as M, params as P
from pwmodel.evaluate import Scenario, emax_of, evaluate
from pwmodel.models import (coherence, contention, evaluate_subs, fanout as F, fastpath as FP,
                            numeric, wakeup as W)
from pwmodel.models.symbols import EXTRA

XEON = M.get("intel-xeon-8375c-2s")
GRAV = M.get("aws-graviton2-64c")


# ---- fan-out shape ----------------------------------------------------------------
def test_rl_fanout_is_linear_in_n_on_a_single_class_machine():
    # every pair on Graviton2 is in one class, so RL(N) must be exactly affine in N
    n = np.arange(2, 65, dtype=float)
    df = evaluate(Scenario(GRAV, "nohz_other"), n).filter(pl.col("strategy") == "RL")
    y = df["requester_mean_ns"].to_numpy()
    second = np.diff(y, 2)
    assert np.max(np.abs(second)) < 1e-9 * y.max()
    assert np.all(np.diff(y) > 0)


def test_rl_fanout_increments_become_constant_beyond_the_machine():
    # past the profile's size every extra CPU is in the outermost class: constant slope
    n = np.arange(200, 260, dtype=float)
    y = evaluate(Scenario(XEON, "nohz_other"), n).filter(pl.col("strategy") == "RL")["requester_mean_ns"].to_numpy()
    d = np.diff(y)
    assert np.allclose(d, d[0], rtol=1e-9)
    # and the slope is the per-CPU RL cost at the cross-socket latency times dirty fraction
    ps = Scenario(XEON, "nohz_other").params()
    per_cpu = float(numeric(coherence.remote_hold_expr(), {**ps.values, "c2c_ns": 107.8})
                    + numeric(contention.remote_wait_expr(), ps.values))
    check = ps["lines_check"] * 107.8
    assert d[0] == pytest.approx(ps["dirty_fraction"] * (per_cpu + check), rel=1e-9)


def test_qw_expected_max_at_least_mean_and_growing():
    ps = P.resolve(XEON)
    for iso in ("idle", "busy_other", "nohz_fifo_throttle"):
        for pm in ("voluntary", "lazy"):
            dist = W.wake_dist(iso, pm, ps)
            em = np.asarray(dist.expected_max_ns([1, 2, 4, 16, 64, 256, 1024]))
            assert em[0] == pytest.approx(dist.mean_ns(), rel=1e-7)
            assert np.all(np.diff(em) >= -1e-6)
            assert np.all(em >= dist.mean_ns() - 1e-6)
            if dist.var_ns2() > 0:
                assert em[-1] > em[0]


@pytest.mark.parametrize("rv,shift", [
    (stats.lognorm(s=0.8, scale=20000.0), 3000.0),
    (stats.gamma(a=2.5, scale=4000.0), 0.0),
    (stats.weibull_min(c=1.7, scale=9000.0), 1500.0),
])
def test_expected_max_matches_direct_integration_of_the_max_density(rv, shift):
    d = D.from_scipy(rv, shift)
    for n in (1, 3, 10, 100, 1000):
        # density of the max, integrated piecewise between quantiles up to the 1e-15 tail
        edges = [0.0, *rv.ppf([0.01, 0.1, 0.5, 0.9, 0.99, 0.999999]), rv.isf(1e-15)]
        direct = sum(integrate.quad(lambda x: x * n * rv.pdf(x) * rv.cdf(x) ** (n - 1), a, b,
                                    limit=200, epsrel=1e-11)[0] for a, b in zip(edges, edges[1:]))
        assert d.expected_max_ns(n) == pytest.approx(shift + direct, rel=1e-6)


def test_expected_max_closed_forms():
    # exponential: H_n / lambda; uniform: n / (n + 1) * b
    e = D.from_scipy(stats.expon(scale=1000.0))
    u = D.LatencyDist([D.uniform(0.0, 1e6)])
    for n in (1, 2, 7, 50, 1024):
        assert e.expected_max_ns(n) == pytest.approx(1000.0 * sum(1 / k for k in range(1, n + 1)), rel=1e-7)
        assert u.expected_max_ns(n) == pytest.approx(1e6 * n / (n + 1), rel=1e-9)


def test_throttle_and_lazy_closed_forms_match_numeric_order_statistics():
    ps = P.resolve(XEON)
    thr = W.sched_wait_dist("nohz_fifo_throttle", "voluntary", ps)
    lazy = W.sched_wait_dist("busy_other", "lazy", ps)
    for n in (1, 2, 10, 128, 1024):
        cf_t = float(numeric(W.throttle_emax_expr(sp.Integer(n)), ps.values))
        cf_l = float(numeric(W.lazy_emax_expr(sp.Integer(n)), ps.values))
        assert thr.expected_max_ns(n) == pytest.approx(cf_t, rel=1e-7)
        assert lazy.expected_max_ns(n) == pytest.approx(cf_l, rel=1e-7)


def test_emax_interpolation_agrees_with_exact_quadrature():
    dist = W.wake_dist("idle", "voluntary", P.resolve(XEON))
    d = np.linspace(1, 900, 500)          # > 64 distinct values: interpolated path
    approx = emax_of(dist, d)
    exact = np.asarray(dist.expected_max_ns(d[::25]))
    assert np.allclose(approx[::25], exact, rtol=5e-3)


def test_monte_carlo_agrees_with_expected_max():
    mix = D.LatencyDist([D.point(1000.0, 0.3), D.uniform(0.0, 1e6, 0.5),
                         D.continuous(stats.lognorm(s=1.0, scale=5e4), 0.2)], shift_ns=2000.0)
    rng = np.random.default_rng(7)
    for n in (1, 4, 32):
        s = mix.sample(rng, (40000, n)).max(axis=1)
        se = s.std() / math.sqrt(s.size)
        assert abs(s.mean() - mix.expected_max_ns(n)) < 4 * se


# ---- fast path identities ------------------------------------------------------------
def test_pwlocks0_equals_local_lock_up_to_the_static_key():
    sk = P.SYMBOLS["static_key_ns"]
    assert sp.simplify(FP.tax_expr("pwlocks0") - FP.tax_expr("pwlocks_n") - sk) == 0
    assert sp.simplify(FP.tax_expr("rt_pwlocks0") - FP.tax_expr("rt_unpatched")
                       - FP.tax_expr("pwlocks_n") - sk) == 0
    # and with the key free, pwlocks=0 costs exactly the !PWLOCKS kernel
    assert FP.tax_expr("pwlocks0").subs(sk, 0) == FP.tax_expr("pwlocks_n")


def test_kmalloc_anchor_predicted_from_other_rows():
    """kmalloc 60 -> 75 cycles (!RT) and 95 -> 97 (RT) from the kmalloc CSV are NOT used to
    set any parameter: the atomic and preempt costs come from concurrency_hierarchy_costs.csv
    (x86 median 19.15 cycles per locked RMW), the static key and per_cpu_ptr from the
    design note (1 cycle each). Stated tolerance: total within 10 % (the model puts the
    whole RMW latency on the path; in kmalloc it partly overlaps other work), RT within 3 %."""
    ps = P.defaults()
    cyc = lambda cfg: float(numeric(FP.cycles(FP.tax_expr(cfg)), ps.values))
    assert 60 + cyc("pwlocks1") == pytest.approx(75, rel=0.10)
    assert 60 + cyc("pwlocks0") == pytest.approx(62, rel=0.03)
    assert 95 + cyc("rt_pwlocks1") == pytest.approx(97, rel=0.03)
    # the tax itself: measured 15 cycles, predicted 21.15: within a factor 1.5
    assert 1 / 1.5 < cyc("pwlocks1") / 15 < 1.5


# ---- limits ------------------------------------------------------------------------
def test_no_remote_operations_means_no_misses_and_no_contention():
    vals = {**P.defaults().values, "remote_rate_hz": 0.0}
    assert float(numeric(contention.miss_per_op_expr(), vals)) == 0.0
    assert float(numeric(contention.local_wait_expr(), vals)) == 0.0
    assert float(numeric(contention.transition_rate_expr(), vals)) == 0.0
    # no dirty CPU: both strategies cost only the mutex
    sc = Scenario(XEON, "nohz_other", overrides={"dirty_fraction": 0.0})
    df = evaluate(sc, [1, 64, 1024])
    assert np.allclose(df["requester_mean_ns"].to_numpy(), sc.params()["mutex_ns"])
    rl = df.filter(pl.col("strategy") == "RL")
    assert np.all(rl["fastpath_extra_ns"].to_numpy() >= 0)


def test_transition_rate_never_exceeds_either_stream():
    # inside the single-hold domain (lambda_R S_R < 0.1, lambda_L S_L < 1)
    rng = np.random.default_rng(1)
    sr = 3000.0
    lr, ll = rng.uniform(0, 0.1 / sr * 1e9, 1000), rng.uniform(0, 1e7, 1000)
    t = numeric(contention.transition_rate_expr(remote_hold=sp.Float(sr)),
                {"remote_rate_hz": lr, "local_rate_hz": ll, "local_cs_ns": 30.0})
    assert np.all(t <= np.minimum(lr, ll) + 1e-9)


def test_victim_mean_never_exceeds_the_worst_case():
    for rate in (0.0, 1e3, 1e6, 1e8):
        df = evaluate(Scenario(XEON, "nohz_other", overrides={"local_rate_hz": rate}), [2, 64, 1024])
        rl = df.filter(pl.col("strategy") == "RL")
        assert np.all(rl["victim_mean_ns"].to_numpy() <= rl["victim_worst_ns"].to_numpy() + 1e-9)


def test_unbounded_wait_makes_qw_infinite_and_rl_finite():
    df = evaluate(Scenario(XEON, "nohz_fifo_none"), [1, 8])
    assert np.all(np.isinf(df.filter(pl.col("strategy") == "QW")["requester_mean_ns"].to_numpy()))
    assert np.all(np.isfinite(df.filter(pl.col("strategy") == "RL")["requester_mean_ns"].to_numpy()))


# ---- symbolic vs lambdified -----------------------------------------------------------
EXPRS = {
    "rl_mean": F.rl_mean_expr(), "qw_mean": F.qw_mean_expr(), "rl_p99": F.rl_p99_expr(),
    "qw_p99": F.qw_p99_expr(), "rl_victim": F.rl_victim_mean_expr(),
    "rl_victim_worst": F.rl_victim_worst_expr(), "qw_cpu": F.qw_cpu_expr(), "rl_cpu": F.rl_cpu_expr(),
    "extra": contention.local_op_extra_expr(), "tax": FP.tax_expr("pwlocks1_noinline"),
    "wake_mean": W.wake_mean_expr("nohz_fifo_throttle"),
}


@pytest.mark.parametrize("name", sorted(EXPRS))
def test_symbolic_and_lambdified_agree_on_random_points(name):
    expr = EXPRS[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    for _ in range(15):
        vals = {}
        for s in expr.free_symbols:
            n = str(s)
            if n in P.PARAMS:
                lo, hi = P.PARAMS[n].bounds
                vals[n] = float(rng.uniform(lo, min(hi, lo + 10 * (P.PARAMS[n].default - lo) + 1)))
            else:
                vals[n] = (float(rng.uniform(1, 2048)) if n == "n_cpus" else
                           float(rng.uniform(0, 1)) if n.endswith("_w") else   # weights
                           float(rng.uniform(0, 5e5)))
        if "local_rate_hz" in vals and "local_cs_ns" in vals:   # the owner is not busy all the time
            vals["local_rate_hz"] = min(vals["local_rate_hz"], 0.9e9 / max(vals["local_cs_ns"], 1e-9))
        fast = float(numeric(expr, vals))
        slow = evaluate_subs(expr, vals)
        assert fast == pytest.approx(slow, rel=1e-9, abs=1e-9)


# ---- crossovers --------------------------------------------------------------------
def test_numeric_crossover_satisfies_equality():
    for iso, pm in (("idle", None), ("busy_other", "lazy")):
        sc = Scenario(XEON, iso, pm)
        c = decide.crossover_n(sc)
        assert c.method.startswith("numeric") and 1 < c.n_cpus < 1e6
        df = evaluate(sc, [c.n_cpus])
        q, r = df["requester_mean_ns"].to_list()
        assert q == pytest.approx(r, rel=1e-8)
        # and the winners swap across it
        lo = decide.compare(sc, [c.n_cpus / 2], ["requester_mean"])["winner"][0]
        hi = decide.compare(sc, [c.n_cpus * 2], ["requester_mean"])["winner"][0]
        assert {lo, hi} == {"QW", "RL"}


def test_closed_form_crossover_satisfies_equality():
    # every idle target in the deep state: the wake maximum is a constant -> closed form
    sc = Scenario(XEON, "idle", overrides={"p_deep_idle": 1.0})
    c = decide.crossover_n(sc)
    assert c.method.startswith("closed form"), c.method
    q, r = evaluate(sc, [c.n_cpus])["requester_mean_ns"].to_list()
    assert q == pytest.approx(r, rel=1e-7)
    assert isinstance(c.expr, sp.Expr)
    assert {EXTRA["wake_emax_ns"], EXTRA["wake_smax_ns"], EXTRA["wake_min_ns"]} & c.expr.free_symbols
    # a target that is preempted at once (point mass at 0 wait: a SCHED_IDLE busy task, which
    # every non-idle wake-up preempts) also has a closed form at the mean dirty count
    sc2 = Scenario(XEON, "busy_other", overrides={"p_busy_sched_idle": 1.0}, dirty_count="fixed")
    c2 = decide.crossover_n(sc2)
    assert c2.method.startswith("closed form")
    q, r = evaluate(sc2, [c2.n_cpus])["requester_mean_ns"].to_list()
    assert q == pytest.approx(r, rel=1e-7)
    # with the binomial dirty count the QW mean is an average over D (the kink of the
    # larger of its two bounds included): no closed form, the numeric crossover equalises
    sc3 = dataclasses.replace(sc2, dirty_count="binomial")
    c3 = decide.crossover_n(sc3)
    assert c3.method.startswith("numeric")
    q, r = evaluate(sc3, [c3.n_cpus])["requester_mean_ns"].to_list()
    assert q == pytest.approx(r, rel=1e-7)


def test_rate_crossover_equalises_cpu_load():
    sc = Scenario(XEON, "nohz_other")
    rate = decide.crossover_rate(sc, 64)
    assert 0 < rate < math.inf
    s2 = Scenario(XEON, "nohz_other", overrides={"remote_rate_hz": rate})
    q, r = evaluate(s2, [64]).sort("strategy")["cpu_load_cpus"].to_list()
    assert q == pytest.approx(r, rel=1e-6)


def test_wake_distribution_means_match_symbolic_means():
    ps = P.resolve(XEON)
    for iso in ("idle", "busy_other", "nohz_fifo_dlserver", "nohz_fifo_throttle"):
        for pm in ("voluntary", "lazy"):
            d = W.wake_dist(iso, pm, ps)
            assert d.mean_ns() == pytest.approx(float(numeric(W.wake_mean_expr(iso, pm), ps.values)), rel=1e-12)
    assert math.isinf(W.wake_dist("nohz_fifo_none", "full", ps).mean_ns())


def test_line_moves_rl_moves_batch_lines_qw_does_not():
    vals = P.defaults().values
    f = coherence.line_moves_frame(vals)
    batch = f.filter(pl.col("line").str.contains("folio"))
    assert (batch["qw_transfers"] == 0).all() and (batch["rl_transfers"] > 0).all()
    work = f.filter(pl.col("line").str.contains("work_struct"))
    assert (work["qw_transfers"] > 0).all() and (work["rl_transfers"] == 0).all()
    assert float(numeric(coherence.moved_lines_expr("RL"), vals)) > float(numeric(coherence.moved_lines_expr("QW"), vals))


def test_crossover_map_applies_overrides_to_every_cell():
    m = decide.crossover_map(XEON, ["nohz_other", "idle"], [8, 64], [1.0, 100.0],
                             objective="cpu_load", overrides={"local_rate_hz": 0.0})
    ref = decide.crossover_map(XEON, ["nohz_other", "idle"], [8, 64], [1.0, 100.0],
                               objective="cpu_load")
    # with no local operations the RL tax costs nothing: every cell changes, not only the first
    assert (m["rl"] < ref["rl"]).all()



def test_threaded_evaluation_equals_single_call(monkeypatch):
    from pwmodel.models import loops, numeric_many
    monkeypatch.setattr(loops, "LOOP_MIN", 10 ** 15)     # NumPy's blocks (the compiled loop: test_loops)
    rng = np.random.default_rng(3)
    n = 250_001                                  # many blocks, the last one short
    vals = {**P.defaults().values, "n_cpus": rng.integers(1, 1025, n).astype(float),
            "dirty_fraction": rng.uniform(0, 1, n), "c2c_mean_ns": rng.uniform(5, 200, n),
            "c2c_max_ns": 200.0, "c2c_var_ns2": 100.0, "c2c_nbr_ns": 20.0,
            "wake_emax_ns": rng.uniform(1e3, 1e6, n), "wake_smax_ns": rng.uniform(1e3, 1e6, n),
            "wake_qmax_ns": 2e6, "wake_min_ns": 500.0,
            "lru_spin_mean_ns": rng.uniform(0, 1e5, n), "lru_backlog_end_ns": rng.uniform(0, 1e5, n),
            "c2c_hand_ns": rng.uniform(5, 200, n)}
    exprs = [F.qw_mean_expr(), F.rl_p99_expr(), F.qw_victim_expr()]
    many = numeric_many(exprs, vals)
    import pwmodel.models as PM
    saved = PM._CHUNK
    PM._CHUNK = 10 ** 12              # force the single call
    try:
        single = numeric_many(exprs, vals)
    finally:
        PM._CHUNK = saved
    for e, m, o in zip(exprs, many, single):
        assert m.shape == (n,) and np.array_equal(m, np.broadcast_to(o, (n,)), equal_nan=True)
        # and the combined function agrees with each expression's own function
        assert np.allclose(m, np.broadcast_to(numeric(e, vals), (n,)), rtol=1e-12, equal_nan=True)


def test_rl_quantiles_grow_with_level_and_center_on_the_mean():
    v = {k: (float(np.ravel(x)[0]) if isinstance(x, np.ndarray) else x)
         for k, x in __import__("pwmodel.evaluate", fromlist=["inputs"]).inputs(
             Scenario(XEON, "nohz_other"), np.array([256.0])).items()}
    qs = [float(numeric(F.rl_quantile_expr(q), v)) for q in (0.5, 0.9, 0.99, 0.999)]
    assert qs == sorted(qs) and qs[0] < qs[-1]
    assert qs[0] == pytest.approx(float(numeric(F.rl_mean_expr(), v)), rel=1e-12)
    assert qs[2] == pytest.approx(float(numeric(F.rl_p99_expr(), v)), rel=1e-12)
