"""The compiled loops (pwmodel.models.loops) give the values of the NumPy code they replace
on large arrays, and without numba or a writable cache folder the NumPy code serves."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
import sympy as sp

from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel import params as P
import pwmodel.models as PM
from pwmodel.models import loops
from pwmodel.models import lrulock

N_POINTS = loops.LOOP_MIN + 4_001
# The library functions differ by an ulp or two (glibc's erfc, exp, pow against SciPy's
# and NumPy's); most values agree to 1e-15 relative. Two forms subtract near-equal terms
# and multiply those ulps: the normal-tail integrals of the lru_lock spin at a drift far
# below zero (up to 4e-9 relative on a spin of about 1 ns, 7e-9 ns absolute) and the
# owner's refetch x + expm1(-l x) / l (up to 1e-12 relative). Hence rtol 1e-11 with an
# absolute floor of 1e-7 ns, far below anything the model resolves.
RTOL, ATOL_NS = 1e-11, 1e-7


def _numpy_only(monkeypatch) -> None:
    monkeypatch.setattr(loops, "LOOP_MIN", 10 ** 15)


def _grid(sc: "E.Scenario", rng: np.random.Generator) -> dict:
    """Every registry parameter uniform over its bounds (log-uniform over wide ones), CPU
    counts 1..1024, dirty fractions with 0 and the D <= 1, 2, 3 steps, and lru_lock classes
    with no spread part (sigma = 0) and at zero drift (the series branch)."""
    n = N_POINTS
    ncpu = np.round(np.exp(rng.uniform(0, np.log(1024), n)))
    vals = E.inputs(sc, ncpu, sc.params())
    for name, p in P.PARAMS.items():
        lo, hi = p.bounds
        vals[name] = (np.exp(rng.uniform(np.log(lo), np.log(hi), n)) if lo > 0 and hi / lo > 100
                      else rng.uniform(lo, hi, n))
    vals["n_cpus"] = ncpu
    f = vals["dirty_fraction"]
    f[:200] = 0.0
    f[200:2000] = rng.uniform(0.5, 3.5, 1800) / ncpu[200:2000]
    f[:] = np.clip(f, 0.0, 1.0)
    vals.update(lrulock.class_values(sc.wake_dist(), sc.machine, f))
    w1 = np.full(n, float(vals["wake_atom1_w"]))
    w1[2000:2500] = 1.0                                    # sigma = 0: the fluid queue
    w1[2500:3000] = 0.0
    h = (vals["batch_items"] * vals["item_drain_ns"] * vals["lru_hold_fraction"]
         + 2 * vals["c2c_gap1_ns"])
    w1[3000:3500] = 0.5
    vals["queue_work_ns"][3000:3500] = 0.5 * h[3000:3500]  # zero drift: |a| < 1e-3
    vals["wake_atom1_w"] = w1
    vals["owner_rate_hz"] = vals["local_rate_hz"]
    return vals


def _check(got, want, what) -> None:
    for name, g, w in zip(what, got, want):
        w = np.broadcast_to(w, g.shape)
        assert np.array_equal(np.isnan(g), np.isnan(w)), name
        assert np.array_equal(np.isinf(g), np.isinf(w)), name
        ok = np.isfinite(w)
        np.testing.assert_allclose(g[ok], w[ok], rtol=RTOL, atol=ATOL_NS, err_msg=name)


@pytest.mark.parametrize("machine, iso", [("intel-xeon-8375c-2s", "nohz_other"),
                                          ("amd-epyc-7r13-2s", "idle")])
def test_compiled_loop_agrees_with_numpy_code(machine: str, iso: str, monkeypatch) -> None:
    assert loops.versions() is not None, "numba is a dependency"
    sc = E.Scenario(M.get(machine), iso)
    vals = _grid(sc, np.random.default_rng(11))
    derived = lrulock._derived_exprs()
    fast = PM.numeric_named("lrulock.derived " + " ".join(lrulock.DERIVED),
                            lrulock._derived_exprs, vals)
    names = tuple(sorted({str(s) for e in derived for s in e.free_symbols}))
    assert PM._named_loop("lrulock.derived " + " ".join(lrulock.DERIVED),
                          lrulock._derived_exprs, names) is not None     # the loop ran
    qc, rc = sc.configs
    ex = E.model_exprs(qc, rc, sc.pattern)
    vals.update(zip(lrulock.DERIVED, fast))
    model = PM.numeric_many(list(ex.values()), vals)
    with monkeypatch.context() as mp:
        _numpy_only(mp)
        slow = PM.numeric_named("lrulock.derived " + " ".join(lrulock.DERIVED),
                                lrulock._derived_exprs, vals)
        ref = PM.numeric_many(list(ex.values()), vals)
    _check(fast, slow, list(lrulock.DERIVED))
    _check(model, ref, list(ex))
    # every branch of the spin's Piecewise forms was taken somewhere
    d = vals["dirty_fraction"] * vals["n_cpus"]
    assert all(np.any(m) for m in (d == 0, (d > 1) & (d <= 2), (d > 2) & (d <= 3), d > 3))


def test_loop_printer_keeps_numpy_rules_and_is_stored(tmp_path, monkeypatch) -> None:
    """max/min with a NaN give NaN (NumPy's maximum), Heaviside as the NumPy code has it, a Piecewise
    with no branch that applies gives NaN, and a division by zero gives inf instead of an
    error; the source stays in the cache folder, numba's compiled code beside it, and a
    later process (the loaded loops forgotten) imports it without printing it again."""
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(loops, "_LOADED", {})
    x, y = PM.EXTRA["c2c_mean_ns"], PM.EXTRA["c2c_max_ns"]
    exprs = (sp.Max(x, y, 1), sp.Min(x, y), sp.Heaviside(x - y, 0),
             sp.Piecewise((x, x > 1), (y, y > 1)), 1 / (x - y))
    n = loops.LOOP_MIN
    vals = {"c2c_mean_ns": np.resize([np.nan, 2.0, 0.5, 3.0, 1.0], n),
            "c2c_max_ns": np.resize([4.0, np.nan, 0.5, 1.0, 2.0], n)}
    got = PM.numeric_many(exprs, vals)
    with monkeypatch.context() as mp:
        _numpy_only(mp)
        want = PM.numeric_many(exprs, vals)
    for g, w in zip(got, want):
        assert np.array_equal(g, w, equal_nan=True)
    assert np.array_equal(got[0][:5], [np.nan, np.nan, 1.0, 3.0, 2.0], equal_nan=True)
    assert np.array_equal(got[2][:5], [1.0, 1.0, 0.0, 1.0, 0.0])      # 1 at NaN, as NumPy's
    assert np.isinf(got[4][2]) and np.isnan(got[3][2])
    folder = tmp_path / "c" / "loops"
    assert len(list(folder.glob("*.py"))) == 1 and list(folder.glob("__pycache__/*.nbc"))
    monkeypatch.setattr(loops, "_LOADED", {})
    monkeypatch.setattr(loops, "source", lambda *a: pytest.fail("printed again"))
    again = PM.numeric_many(exprs, vals)
    for g, w in zip(again, got):
        assert np.array_equal(g, w, equal_nan=True)


def test_without_numba_or_cache_folder_the_numpy_code_serves(tmp_path, monkeypatch) -> None:
    exprs = lrulock._derived_exprs()
    rng = np.random.default_rng(2)
    n = loops.LOOP_MIN + 1
    vals = {str(s): rng.uniform(0.01, 0.99, n) for e in exprs for s in e.free_symbols}
    vals["n_cpus"] = rng.integers(1, 2048, n).astype(float)
    with monkeypatch.context() as mp:
        _numpy_only(mp)
        want = PM.numeric_many(exprs, vals)
    real = builtins.__import__

    def no_numba(name, *a, **k):
        if name.split(".")[0] in ("numba", "llvmlite"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *a, **k)

    with monkeypatch.context() as mp:
        mp.setattr(builtins, "__import__", no_numba)
        mp.setattr(loops, "_LOADED", {})
        loops.versions.cache_clear()
        try:
            assert loops.versions() is None
            got = PM.numeric_many(exprs, vals)
        finally:
            loops.versions.cache_clear()
    for g, w in zip(got, want):
        assert np.array_equal(g, w, equal_nan=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PWMODEL_CACHE", str(blocker / "c"))       # cannot be a folder
    monkeypatch.setattr(loops, "_LOADED", {})
    got = PM.numeric_many(exprs, vals)
    for g, w in zip(got, want):
        assert np.array_equal(g, w, equal_nan=True)
