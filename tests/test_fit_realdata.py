"""Real measured data (data/measured): fit one part, predict another; errors bounded by
the tolerances stated in the project note (skipped if the datasets are absent)."""

from __future__ import annotations

import numpy as np
import pytest

from pwmodel.errors import PwmodelError

C = pytest.importorskip("pwmodel.fit.calibrate")


def _have() -> bool:
    try:
        from pwmodel import data as D
        return "measured/micro/micro" in D.list_datasets()
    except (ImportError, PwmodelError):
        return False


pytestmark = pytest.mark.skipif(not _have(), reason="measured datasets not present")


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


def test_heldout_trigger_and_state_medians():
    """Fit CPU 1 queue->start of the idle drain runs; predict the median of another
    trigger (stat_refresh) and of another target state (busy SCHED_OTHER).
    Measured errors: -25 % and -13 %; tolerance 35 %. The p99 is over-predicted
    (x2.3, x2.5): the lognormal tail ignores the one-tick bound; tolerance x3."""
    from pwmodel.fit import distributions as FD, select as S
    f = FD.fit_dist(C.wake_samples("idle"), "mix2_lognorm")
    for other in ("stat_refresh_idle", "other"):
        t = S.heldout_quantiles(f, C.wake_samples(other).values_ns, qs=(0.5, 0.99))
        p50, p99 = t.row(0, named=True), t.row(1, named=True)
        assert abs(p50["rel_error"]) < 0.35, (other, p50)
        assert 1 / 3 < p99["predicted_ns"] / p99["measured_ns"] < 3, (other, p99)


def test_fifo_starvation_is_the_slow_mode():
    from pwmodel.fit import distributions as FD
    f = FD.fit_dist(C.wake_samples("fifo"), "mix2_lognorm")
    slow = f.params["median2_ns"]
    assert 5e8 < slow < 1e9        # waits of ~0.9 s: RT throttling / fair server
