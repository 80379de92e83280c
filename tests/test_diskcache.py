"""What the cache folder keeps between runs gives the numbers a fresh computation gives, to
the last bit; a damaged entry is recomputed and an unwritable folder only costs time. And
the lognormal of the wake-up path is SciPy's lognorm to the last bit without importing
scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import stats

import pwmodel.models as PM
from pwmodel import dist as D
from pwmodel import evaluate as E
from pwmodel.models import fanout as F
from pwmodel.models import lrulock


@pytest.mark.parametrize("s,scale", [(0.3, 1200.0), (0.05, 800.0), (1.7, 3.3), (0.25, 1234.5678)])
def test_lognorm_is_scipy_lognorm_bit_for_bit(s: float, scale: float) -> None:
    ours, theirs = D.Lognorm(s, scale), stats.lognorm(s=s, scale=scale)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.lognormal(np.log(scale), 3 * s, 3000), rng.uniform(-5, 1e4, 300),
                        [0.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 1e300]])
    q = np.concatenate([rng.uniform(0, 1, 3000), np.logspace(-16, -1, 100),
                        1 - np.logspace(-16, -1, 100), [0.0, 1.0, -0.1, 1.1, np.nan]])
    for f, arg in (("cdf", x), ("ppf", q)):
        for a in (arg, arg[:3000].reshape(60, 50)):
            assert np.array_equal(getattr(ours, f)(a), getattr(theirs, f)(a), equal_nan=True), f
        for v in arg[::301]:       # scalars: numpy scalars as SciPy returns them
            got, want = getattr(ours, f)(v), getattr(theirs, f)(v)
            assert type(got) is type(want) and (got == want or (np.isnan(got) and np.isnan(want)))
    for f in ("mean", "var"):
        got, want = getattr(ours, f)(), getattr(theirs, f)()
        assert type(got) is type(want) and got == want, f
    assert tuple(map(float, ours.support())) == tuple(map(float, theirs.support()))
    # the same distribution to every table keyed by the signature, and to the simulator
    assert D.continuous(ours).signature() == D.continuous(theirs).signature()
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(ours.rvs(size=50, random_state=g1), theirs.rvs(size=50, random_state=g2))


def test_lognorm_outside_its_parameter_range_answers_as_scipy() -> None:
    for s, scale in ((0.0, 5.0), (0.5, 0.0), (-1.0, 2.0)):
        ours, theirs = D.Lognorm(s, scale), stats.lognorm(s=s, scale=scale)
        x = np.array([0.5, 3.0, 10.0])
        assert np.array_equal(ours.cdf(x), theirs.cdf(x), equal_nan=True)
        assert np.array_equal(ours.ppf(x / 20), theirs.ppf(x / 20), equal_nan=True)


def _fresh_numeric(monkeypatch) -> None:
    monkeypatch.setattr(PM, "_compile", PM._compile.__wrapped__)
    monkeypatch.setattr(PM, "_compile_many", PM._compile_many.__wrapped__)


def test_generated_code_is_stored_read_back_checked_and_optional(tmp_path, monkeypatch) -> None:
    """A second process (here: the compile caches bypassed) executes the stored source and
    gets the values bit for bit; a damaged entry is generated again, and an unwritable folder
    gives the same values."""
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    _fresh_numeric(monkeypatch)
    exprs = lrulock._derived_exprs()
    rng = np.random.default_rng(2)
    vals = {str(s): rng.uniform(0.01, 0.99, 500) for e in exprs for s in e.free_symbols}
    vals["n_cpus"] = rng.integers(1, 2048, 500).astype(float)
    calls = []
    real = sp.lambdify
    monkeypatch.setattr(sp, "lambdify", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = PM.numeric_many(exprs, vals)
    one = PM.numeric(F.qw_victim_worst_expr(), {**vals, **{str(s): 0.5 for s in
                                                           F.qw_victim_worst_expr().free_symbols
                                                           if str(s) not in vals}})
    files = sorted((tmp_path / "c" / "code").glob("*.py"))
    assert len(calls) == 2 and len(files) == 2
    again = PM.numeric_many(exprs, vals)                 # read back: no code generated
    assert len(calls) == 2
    for a, b in zip(first, again):
        assert np.array_equal(a, b, equal_nan=True)
    for damaged in ("", "# {}\n", "# not json\ndef f(:", "# " + '{"function": "f", "globals": {}}'
                    + "\ndef f(a):\n    return a\n"):
        for f in files:
            f.write_text(damaged)
        again = PM.numeric_many(exprs, vals)
        for a, b in zip(first, again):
            assert np.array_equal(a, b, equal_nan=True), damaged
    assert all(f.read_text().startswith("# {") and "def " in f.read_text()
               for f in files if f.stat().st_size)          # rewritten whole
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PWMODEL_CACHE", str(blocker / "c"))
    again = PM.numeric_many(exprs, vals)
    for a, b in zip(first, again):
        assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(one, PM.numeric(F.qw_victim_worst_expr(), {
        **vals, **{str(s): 0.5 for s in F.qw_victim_worst_expr().free_symbols if str(s) not in vals}}))


def test_named_code_needs_no_expressions_once_stored(tmp_path, monkeypatch) -> None:
    """The lru_lock derived forms looked up by name: the first process builds the expressions
    and stores the code; a later one (compile caches bypassed) runs the stored code without
    building them, bit for bit the values of the expressions themselves; a damaged entry
    (or one with a wrong argument count) is built again."""
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    _fresh_numeric(monkeypatch)
    monkeypatch.setattr(PM, "compiled_named", PM.compiled_named.__wrapped__)
    exprs = lrulock._derived_exprs()
    rng = np.random.default_rng(3)
    vals = {str(s): rng.uniform(0.01, 0.99, 40_000) for e in exprs for s in e.free_symbols}
    vals["n_cpus"] = rng.integers(1, 2048, 40_000).astype(float)   # blocks over threads
    want = PM.numeric_many(exprs, vals)
    built = []

    def build():
        built.append(1)
        return exprs

    first = PM.numeric_named("test derived", build, vals)
    assert built == [1]
    files = sorted((tmp_path / "c" / "named").glob("*.py"))
    assert len(files) == 1
    again = PM.numeric_named("test derived", build, vals)
    assert built == [1]                                   # read back: nothing built
    for a, b, c in zip(want, first, again):
        assert np.array_equal(a, b, equal_nan=True) and np.array_equal(a, c, equal_nan=True)
    assert lrulock.derived_values(vals).keys() == lrulock.DERIVED.keys()
    text = files[0].read_text()
    for damaged in ("", "# {}\n", text.replace('"outputs"', '"out"'),
                    text.replace('"args": [', '"args": ["extra", ')):
        files[0].write_text(damaged)
        got = PM.numeric_named("test derived", build, vals)
        for a, b in zip(want, got):
            assert np.array_equal(a, b, equal_nan=True)
    assert len(built) == 5
    missing = {k: x for k, x in vals.items() if k != "n_cpus"}
    with pytest.raises(Exception, match="n_cpus"):
        PM.numeric_named("test derived", build, missing)


def test_named_functions_run_stored_code_without_building(tmp_path, monkeypatch) -> None:
    """The forms a decision evaluates by name (the share of slow wake-ups, the owner loss's
    CDF and breakpoints, the utilisation law): once stored, a process that has forgotten them
    (the in-memory table cleared) runs the stored code without building the expression, bit
    for bit the values of the expression's own generated code; a damaged entry is built again."""
    from pwmodel.models import fastpath as FP, rlsum, wakeup
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    _fresh_numeric(monkeypatch)
    monkeypatch.setattr(PM, "_FUNCS", {})
    rng = np.random.default_rng(5)
    expr = wakeup.p_slow_expr("voluntary")
    vals = {str(s): rng.uniform(0.01, 0.99, 300) for s in expr.free_symbols}
    vals["tick_hz"] = rng.uniform(100, 1000, 300)
    want = PM.numeric(expr, vals)
    built = []

    def build():
        built.append(1)
        return expr

    first = PM.numeric_by_name("test p_slow", build, vals)
    PM._FUNCS.clear()
    again = PM.numeric_by_name("test p_slow", build, vals)
    assert built == [1]
    assert np.array_equal(want, first, equal_nan=True) and np.array_equal(want, again, equal_nan=True)
    files = sorted((tmp_path / "c" / "named").glob("*.py"))
    assert len(files) == 1
    files[0].write_text("# {}\n")
    PM._FUNCS.clear()
    assert np.array_equal(want, PM.numeric_by_name("test p_slow", build, vals), equal_nan=True)
    assert built == [1, 1]
    # the owner loss's forms: the stored functions are those of the expressions
    x, c = rng.uniform(0, 3000, 50), rng.uniform(20, 900, 50)
    for key in ("cdf", "hold", "refetch"):
        syms, e = rlsum._loss_expr(key)
        fn, args = PM.named_function(f"rlsum.owner_loss {key}", lambda: (syms, e))
        assert args == tuple(str(s) for s in syms)
        pv = {a: rng.uniform(0.01, 2.0) for a in args[2:]}
        ref = sp.lambdify(syms, e, modules=["scipy", "numpy"])
        with np.errstate(all="ignore"):
            got = np.broadcast_to(fn(x, c, *pv.values()), x.shape)
            exp = np.broadcast_to(np.asarray(ref(x, c, *pv.values()), dtype=float), x.shape)
        assert np.allclose(got, exp, rtol=1e-12, equal_nan=True), key
    # the utilisation law as numbers: its expression's value, to the last bit or the next float
    for cost, rate in zip(rng.uniform(0, 1e6, 200), 10 ** rng.uniform(0, 9, 200)):
        old = float(FP.share_expr(sp.Float(cost), sp.Float(rate)))
        assert abs(FP.share(cost, rate) - old) <= 2 * np.spacing(old)


def test_fingerprint_tells_expressions_apart() -> None:
    x, y = sp.symbols("x y")
    xp = sp.Symbol("x", positive=True)
    forms = [x + y, x - y, x * y, x / y, sp.Max(x, y), sp.Min(x, y), xp + y, x + 2 * y,
             x + sp.Rational(1, 3) * y, x + 0.5 * y, sp.Piecewise((x, x > y), (y, True)),
             sp.Piecewise((x, x >= y), (y, True)), [x, y], [y, x]]
    prints = [PM.fingerprint(f) for f in forms]
    assert len(set(prints)) == len(forms)
    assert PM.fingerprint(F.qw_victim_worst_expr()) == PM.fingerprint(F.qw_victim_worst_expr())


def test_order_statistic_tables_are_stored_and_read_back_bit_for_bit(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(E, "_TABLES", {})
    dist = D.LatencyDist([D.continuous(D.Lognorm(0.35, 2500.0), 0.8), D.uniform(0.0, 4e6, 0.2)],
                         700.0)
    _, short = E._table(dist, "emax", 0.0, 64.0)
    files = list((tmp_path / "c" / "tables").glob("*"))
    assert len(files) == 1
    monkeypatch.setattr(E, "_TABLES", {})
    _, longer = E._table(dist, "emax", 0.0, 1024.0)      # the stored prefix, extended
    monkeypatch.setattr(E, "_TABLES", {})
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "other"))
    _, fresh = E._table(dist, "emax", 0.0, 1024.0)
    assert np.array_equal(longer[:short.size], short) and np.array_equal(longer, fresh)
    files[0].write_bytes(b"\x00" * 3)                      # damaged: recomputed
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(E, "_TABLES", {})
    assert np.array_equal(E._table(dist, "emax", 0.0, 1024.0)[1], fresh)


def test_staggered_tables_of_any_mixture_are_stored_and_read_once(tmp_path, monkeypatch) -> None:
    """The staggered maximum of a point-mass-and-uniform wake-up law (one table per setting
    of the N* intervals) is kept in the cache folder; read back, it stays in memory: the
    file is read once, not at every lookup."""
    from pwmodel import diskcache
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(E, "_TABLES", {})
    dist = D.LatencyDist([D.point(0.0, 0.93), D.uniform(0.0, 1e6, 0.07)], 2817.0)
    _, first = E._table(dist, "smax", 480.0, 512.0)
    assert len(list((tmp_path / "c" / "tables").glob("*"))) == 1
    monkeypatch.setattr(E, "_TABLES", {})
    reads = []
    real = diskcache.read
    monkeypatch.setattr(diskcache, "read", lambda *a: reads.append(a) or real(*a))
    for _ in range(3):
        _, again = E._table(dist, "smax", 480.0, 512.0)
        assert np.array_equal(again, first)
    assert len(reads) == 1
    monkeypatch.setattr(E, "_TABLES", {})
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "other"))
    assert np.array_equal(E._table(dist, "smax", 480.0, 512.0)[1], first)
