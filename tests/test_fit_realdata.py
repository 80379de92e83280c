"""Real measured data (data/measured): fit one part, predict another; errors bounded by
the tolerances stated in the project note (skipped if the datasets are absent)."""

from __future__ import annotations

import functools

import pytest

from pwmodel.errors import PwmodelError

C = pytest.importorskip("pwmodel.fit.calibrate")


def _have() -> bool:
    try:
        from pwmodel import data as DATA
        return "measured/micro/micro" in DATA.list_datasets()
    except (ImportError, PwmodelError):
        return False


pytestmark = pytest.mark.skipif(not _have(), reason="measured datasets not present")


@functools.lru_cache(maxsize=None)
def _sample(state: str):
    return C.wake_samples(state)


@functools.lru_cache(maxsize=None)
def _fit(state: str, family: str):
    from pwmodel.fit import distributions as FD
    return FD.fit_dist(_sample(state), family)


def test_micro_constants_and_profile(tmp_path):
    cal = C.calibrate(wake_states=(), n_boot=200)
    e = cal.estimates
    assert 20 < e["c2c_ns.same_llc"].value < 60          # README: 33.4 ns
    assert e["c2c_ns.same_llc"].low < 33.4 < e["c2c_ns.same_llc"].high + 0.5
    assert 1 < e["atomic_rmw_ns"].value < 5
    from pwmodel import machine as M
    C.write(cal, tmp_path / "local-x.toml")
    m = M.load(tmp_path / "local-x.toml")
    assert "measured/micro/micro" in m.levels[0].source
    assert m.hz == 250 and m.n_cpus == 2


def test_tick_measured_from_the_trace():
    assert C.tick_ns_from_trace(C.WAKE_SETS["idle"][0], 1) == 4e6      # HZ=250


def test_heldout_trigger_and_state_quantiles():
    """Fit CPU 1 queue->start of the idle drain runs with the tick-capped family; predict
    another trigger (stat_refresh) and another target state (busy SCHED_OTHER).
    Measured errors (data/fits/calibration_report.txt): p50 -25 % / -13 %, p90 -55 % /
    -76 %, p99 -13 % / -6 % (mix2_lognorm before: p90 -74 % / -86 %, p99 +127 % / +146 %).
    Tolerances: p50 30 %, p99 20 %; p90 80 %: it falls where the CDF is flat, inside the
    slow part whose weight differs per state (12.7 %, 20 %, 14.4 %), and the busy state's
    slow waits bunch just under the tick instead of spreading over it."""
    from pwmodel.fit import select as SEL
    f = _fit("idle", "tick_lognorm")
    tol = {0.5: 0.30, 0.9: 0.80, 0.99: 0.20}
    for other in ("stat_refresh_idle", "other"):
        t = SEL.heldout_quantiles(f, _sample(other).values_ns, qs=tuple(tol))
        for r in t.iter_rows(named=True):
            assert abs(r["rel_error"]) < tol[r["quantile"]], (other, r)


def test_bic_prefers_the_tick_cap():
    """BIC: tick_lognorm on idle (KS p 0.11), tick3_lognorm on stat_refresh and busy
    SCHED_OTHER, each ahead of the uncapped mix2_lognorm."""
    idle = _fit("idle", "tick_lognorm")
    assert idle.ks_p > 0.05
    assert _fit("idle", "mix2_lognorm").bic - idle.bic > 50
    for st in ("stat_refresh_idle", "other"):
        f = _fit(st, "tick3_lognorm")
        assert f.converged and f.bic < _fit(st, "mix2_lognorm").bic, st
        assert f.dist.quantile(0.999) < 5e6, st        # capped near one tick


def test_fifo_starvation_is_the_slow_mode():
    f = _fit("fifo", "mix2_lognorm")
    assert 5e8 < f.params["median2_ns"] < 1e9      # waits of ~0.9 s: RT throttling / fair server
    g = _fit("fifo", "tick3_lognorm")
    assert 5e8 < g.params["starve_median_ns"] < 1e9
    assert g.params["weight_2"] < 0.05             # no tick-capped waits under SCHED_FIFO
