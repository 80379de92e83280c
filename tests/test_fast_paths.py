"""The fast numeric paths give the numbers of the plain ones: order statistics looked up
on the dirty-count grid bit for bit as np.interp, and evaluate() unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from pwmodel import machine as M
from pwmodel import evaluate as E


@pytest.mark.parametrize("iso", ["nohz_other", "idle", "nohz_fifo_throttle", "nohz_fifo_none"])
def test_order_stats_lookup_is_np_interp_bit_for_bit(iso: str) -> None:
    sc = E.Scenario(M.get("amd-epyc-7r13-2s"), iso)
    dist = sc.wake_dist()
    rng = np.random.default_rng(3)
    d = np.concatenate([rng.uniform(0, 1100, 5000), 2.0 ** rng.integers(0, 11, 50),
                        [0.0, 0.5, 1.0, 1024.0], np.nextafter(2.0 ** np.arange(11), 0)])
    emax, qmax = E.order_stats(dist, d)
    dd = np.maximum(d, 1.0)
    for what, q, got in (("emax", 0.0, emax), ("qmax", 0.99, qmax)):
        _, vals = E._table(dist, what, q, float(dd.max()))
        if np.isinf(vals).any():
            assert np.all(np.isinf(got[d >= 1]))
            continue
        want = np.interp(np.log2(dd), np.arange(vals.size) / E._PER_OCTAVE, vals)
        if what == "qmax":     # d < 1: the one-draw quantile, not the table
            want = np.where(d < 1, got, want)
        assert np.array_equal(got, want), what
    assert np.array_equal(emax, E.emax_of(dist, d)) and np.array_equal(qmax, E.qmax_of(dist, d))


def _plain(exprs, values):
    """The reference: each expression lambdified by SymPy's own NumPy printer, no cse."""
    import sympy as sp
    from pwmodel.models import SYMBOLS, EXTRA
    out = []
    for e in exprs:
        names = sorted(str(s) for s in e.free_symbols)
        fn = sp.lambdify([SYMBOLS.get(n) or EXTRA[n] for n in names], e, modules="numpy")
        with np.errstate(all="ignore"):
            out.append(np.asarray(fn(*[np.asarray(values[n], dtype=float) for n in names]),
                                  dtype=float))
    return out


def _grid(n: int, rng: np.random.Generator, sc: "E.Scenario") -> dict:
    """Random CPU counts, dirty fractions and rates with the scenario's own inputs."""
    from pwmodel import params as P
    ncpu = np.round(np.exp(rng.uniform(0, np.log(1024), n)))
    ps = sc.params()
    vals = E.inputs(sc, ncpu, ps)
    vals.update({"dirty_fraction": rng.uniform(0.0, 1.0, n),
                 "local_rate_hz": 10 ** rng.uniform(0, 7, n),
                 "remote_rate_hz": 10 ** rng.uniform(-1, 3, n),
                 "item_drain_ns": rng.uniform(20, 200, n)})
    vals["dirty_fraction"][:50] = 0.0          # the d = 0 branches
    vals["local_rate_hz"][50:100] = 0.0        # the no-local-ops branches
    assert set(P.PARAMS) <= set(vals)
    return vals


@pytest.mark.parametrize("iso", ["nohz_other", "idle", "nohz_fifo_throttle"])
def test_generated_code_matches_plain_lambdify(iso: str) -> None:
    """Every expression the evaluation uses, in one generated function evaluated in blocks
    over threads, against the plain lambdified expressions: rtol 1e-12 (same branches,
    same inf and nan), and atol 1e-9 ns where a formula cancels (the owner's refetch at a
    low local rate, x + expm1(-l x) / l, loses the digits of its two near-equal terms in
    any order of evaluation)."""
    from pwmodel.models import numeric, numeric_many
    import pwmodel.models as PM
    sc = E.Scenario(M.get("intel-xeon-8375c-2s"), iso)
    qc, rc = sc.configs
    exprs = list(E.model_exprs(qc, rc, sc.pattern).values())
    vals = _grid(3 * PM._CHUNK + 77, np.random.default_rng(5), sc)
    fast = numeric_many(exprs, vals)
    ref = _plain(exprs, vals)
    for e, f, r in zip(exprs, fast, ref):
        r = np.broadcast_to(r, f.shape)
        assert np.array_equal(np.isnan(f), np.isnan(r)) and np.array_equal(np.isinf(f), np.isinf(r))
        ok = np.isfinite(r)
        np.testing.assert_allclose(f[ok], r[ok], rtol=1e-12, atol=1e-9, err_msg=str(e)[:200])
        one = np.broadcast_to(numeric(e, vals), f.shape)     # its own function, one call
        np.testing.assert_allclose(one[ok], f[ok], rtol=1e-12, atol=1e-9)


def test_expected_max_grid_in_blocks_is_one_simpson_per_n_bit_for_bit() -> None:
    """The E[max] of a mixture with a continuous part, all n in blocks of one Simpson call
    with underflowing F^n skipped, against the plain loop: one Simpson call per n on
    1 - F ** n (a wrong row, a shifted block edge or a skipped node that is not 0 differs)."""
    from scipy import integrate, stats
    from pwmodel import dist as D
    d = D.LatencyDist([D.continuous(stats.lognorm(s=0.4, scale=2800.0), 0.9),
                       D.uniform(0.0, 1e6, 0.07), D.point(5e5, 0.03)], 1234.5)
    ns = np.concatenate([2.0 ** (np.arange(0, 330, 7) / 16), [1.0, 3.3, 1e6]])
    u = np.unique(np.concatenate([np.linspace(0.0, 1.0, 6001)[1:-1],
                                  np.logspace(-16, -1, 600), 1.0 - np.logspace(-16, -1, 600)]))
    x = np.unique(np.concatenate([[0.0]] + [c.grid(u) for c in d.components]))
    x = x[x >= 0]
    F = np.clip(d.cdf(x + d.shift_ns), 0.0, 1.0)
    want = np.array([d.shift_ns + float(integrate.simpson(1.0 - F ** k, x=x)) for k in ns])
    old = D._GRID_BLOCK
    try:
        for block in (old, 3 * x.size + 5):      # several blocks, the last one partial
            D._GRID_BLOCK = block
            assert np.array_equal(d._expected_max_grid(ns), want), block
    finally:
        D._GRID_BLOCK = old


@pytest.mark.parametrize("iso,conv", [("nohz_other", "binomial"), ("idle", "fixed")])
def test_some_metrics_alone_equal_evaluate_bit_for_bit(iso: str, conv: str) -> None:
    """E.metrics (what the verdict's victim growth reads) computes only the metrics asked
    for, with the numbers evaluate() gives for them."""
    sc = E.Scenario(M.get("amd-epyc-7r13-2s"), iso, dirty_count=conv)
    n = [1, 3, 64, 700]
    df = E.evaluate(sc, n)
    for need in (["victim_worst_ns"], ["requester_p99_ns", "cpu_load_cpus"]):
        got = E.metrics(sc, n, need)
        assert list(got) == need
        for m in need:
            for k, s in enumerate(("QW", "RL")):
                want = df.filter(df["strategy"] == s).sort("n_cpus")[m].to_numpy()
                assert np.array_equal(got[m][k], want, equal_nan=True), (m, s)
    with pytest.raises(Exception, match="unknown metric"):
        E.metrics(sc, n, ["victim_ns"])
