"""Fitting API: refusals of degenerate input, reporting, JSON round trips, CLI, selection."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest


from pwmodel.errors import PwmodelError
from pwmodel.fit import Data, FitResult, Model, fit, distributions as FD, select as SEL
from pwmodel.models import fanout as F


def _model() -> Model:
    return Model.from_expr(F.rl_mean_expr(), x=["n_cpus", "c2c_mean_ns"],
                           params=["item_drain_ns", "mutex_ns"], name="rl_mean")


def _data(n=10, seed=0, y_name="requester_mean_ns") -> Data:
    m = _model()
    x = {"n_cpus": np.arange(1, n + 1, dtype=float), "c2c_mean_ns": np.full(n, 50.0)}
    y = m(x, {**m.make_params().values(), "item_drain_ns": 60.0})
    return Data(x, y + np.random.default_rng(seed).normal(0, 50, n), y_name, name="syn")


def test_refuses_degenerate_input():
    m = _model()
    with pytest.raises(PwmodelError, match="need more points than"):
        fit(m, _data(n=2))
    d = _data()
    with pytest.raises(PwmodelError, match="constant"):
        fit(m, d.with_y(np.full(d.n, 7.0)))
    y = d.y.copy()
    y[3] = np.nan
    with pytest.raises(PwmodelError, match="non-finite.*row 3"):
        Data(d.x, y, "requester_mean_ns", name="bad")
    with pytest.raises(PwmodelError, match="in us.*multiply by 1000"):
        fit(m, Data(d.x, d.y / 1e3, "requester_mean_us", name="us"))
    with pytest.raises(PwmodelError, match="outside bounds"):
        m.make_params({"item_drain_ns": -5.0})
    with pytest.raises(PwmodelError, match="constant latency"):
        FD.sample(np.full(50, 1000.0))
    with pytest.raises(PwmodelError, match="non-finite"):
        FD.sample(np.r_[np.ones(20) * 5e3, np.inf])
    with pytest.raises(PwmodelError, match="must be in ns"):
        FD.sample(np.linspace(1, 10, 20), unit="us")
    with pytest.raises(PwmodelError, match="look.*like us"):
        FD.sample(np.linspace(1e-3, 0.5, 40))
    with pytest.raises(PwmodelError, match="need at least"):
        FD.sample([1e3, 2e3, 3e3])


def test_non_convergence_is_reported_not_silent():
    r = fit(_model(), _data(), max_nfev=1, ci="profile")
    assert not r.converged
    assert "NOT CONVERGED" in r.report()
    assert r.ci_method == "wald"   # no profile on a non-converged fit


def test_report_is_ascii_72_columns_and_json_round_trips():
    r = fit(_model(), _data(), ci="profile")
    rep = r.report()
    assert all(len(line) <= 72 for line in rep.splitlines())
    rep.encode("ascii")
    assert "R^2" not in rep and "R2" not in rep
    assert "<table>" in r._repr_html_()
    r2 = FitResult.from_json(r.to_json())
    assert r2.values == pytest.approx(r.values)
    assert r2.aic == pytest.approx(r.aic)
    x = {"n_cpus": [1.0, 40.0], "c2c_mean_ns": [50.0, 50.0]}
    p1, p2 = r.predict(x), r2.predict(x)
    assert p1.to_numpy() == pytest.approx(p2.to_numpy())
    lo, hi = p1["requester_mean_ns_pred_lo"], p1["requester_mean_ns_pred_hi"]
    clo = p1["requester_mean_ns_conf_lo"]
    assert (lo < clo).all() and (clo < p1["requester_mean_ns"]).all() and (hi > lo).all()


def test_distribution_fit_plugs_into_scenario_and_round_trips():
    from pwmodel import machine as M
    from pwmodel.evaluate import Scenario
    from pwmodel.fit.distresult import DistFit, Selection, _emax_grid
    rng = np.random.default_rng(1)
    x = 3000 + np.concatenate([rng.lognormal(np.log(8e3), 0.3, 300), rng.lognormal(np.log(2e6), 0.5, 60)])
    sel = FD.select_family(FD.sample(x, name="bimodal"))
    assert sel.best == "mix2_lognorm"
    assert all(len(line) <= 72 for line in sel.report().splitlines())
    f = sel.best_fit
    ld = f.dist
    assert ld.expected_max_ns(4) == pytest.approx(f.shift_ns + _emax_grid(f.fam, f.values, 4), rel=1e-3)
    sc = Scenario(M.get("intel-xeon-8375c-2s"), isolation="busy_other", wake=ld)
    assert sc.wake_dist() is ld   # evaluate() then uses ld's order statistics
    back = Selection.from_json(sel.to_json())
    assert back.best_fit.dist.quantile(0.99) == pytest.approx(f.dist.quantile(0.99))
    d2 = DistFit.from_json(f.to_json())
    assert d2.ci["median1_ns"] == pytest.approx(f.ci["median1_ns"])


def test_cross_validation_picks_the_generating_form():
    """Synthetic fan-out data from the 'lock' tail; LOO and hold-out-the-largest-N
    must rank it first among the qw_variant_expr forms."""
    consts = {"wake_emax_ns": 20000.0, "wake_smax_ns": 20000.0, "wake_min_ns": 15000.0, "c2c_mean_ns": 80.0, "c2c_nbr_ns": 30.0,
              "dirty_fraction": 1.0, "c2c_hand_ns": 30.0, "lru_backlog_end_ns": 0.0}
    forms = {f: Model.from_expr(F.qw_variant_expr(f), x=["n_cpus"], params=["item_drain_ns"],
                                constants=consts, name=f) for f in ("slowest", "lock", "sum")}
    n = np.repeat([2.0, 4, 8, 16, 32, 64], 3)
    y = forms["lock"]({"n_cpus": n}, {"item_drain_ns": 120.0})
    y = y + np.random.default_rng(0).normal(0, 0.01 * y.mean(), y.size)
    groups = np.where(n == n.max(), "largest", "rest")
    d = Data({"n_cpus": n}, y, "requester_mean_ns", name="syn_fanout", groups=groups)
    tab = SEL.cross_validate(forms, d)
    chosen = tab.filter(tab["chosen"])
    assert set(chosen["candidate"]) == {"lock"}
    assert set(tab["scheme"]) == {"loo", "logo"} and tab.height == 6


def test_cli_fit_and_predict(tmp_path):
    rng = np.random.default_rng(2)
    import polars as pl
    p = tmp_path / "lat.csv"
    pl.DataFrame({"queue_to_start_ns": 2e3 + rng.gamma(3.0, 4e3, 300)}).write_csv(p)
    out, rep = tmp_path / "r.json", tmp_path / "r.txt"
    r = subprocess.run([sys.executable, "-m", "pwmodel.cli", "fit", str(p), "--out", str(out),
                        "--report", str(rep), "--families", "gamma,lognorm,expon"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["best"] in ("gamma", "lognorm")
    r = subprocess.run([sys.executable, "-m", "pwmodel.cli", "predict", str(out),
                        "--n-cpus", "2"], capture_output=True, text=True)
    assert r.returncode == 0 and "expected_max" in r.stdout
    bad = tmp_path / "bad.csv"
    pl.DataFrame({"queue_to_start_us": [1.0, 2.0] * 10}).write_csv(bad)
    r = subprocess.run([sys.executable, "-m", "pwmodel.cli", "fit", str(bad), "--column",
                        "queue_to_start_us"], capture_output=True, text=True)
    assert r.returncode == 2 and "must be in ns" in r.stderr and "Traceback" not in r.stderr
