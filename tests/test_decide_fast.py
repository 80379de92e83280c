"""The vectorised paths (batch metrics, crossovers, intervals) against the slow ones, and
`pwmodel decide --json`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import optimize

from pwmodel import decide as DC
from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel import uncertainty as U

ROOT = Path(__file__).resolve().parents[1]
XEON = M.get("intel-xeon-8375c-2s")
EPYC = M.get("amd-epyc-7r13-2s")


def _slow_diff(sc: E.Scenario, n: float) -> float:
    df = E.evaluate(sc, [n])
    q = df.filter(pl.col("strategy") == "QW")["requester_mean_ns"][0]
    r = df.filter(pl.col("strategy") == "RL")["requester_mean_ns"][0]
    return float(q - r)


CELLS = [(XEON, "nohz_other", {}), (EPYC, "idle", {}), (XEON, "busy_other", {"wake_lag_use_ns": 20000.0}),
         (EPYC, "nohz_other", {"dirty_fraction": 0.25, "item_drain_ns": 120.0})]


def test_batch_metrics_equal_evaluate_cell_by_cell():
    n = np.array([1.0, 3.0, 16.0, 100.0, 1024.0])
    cases = [E.case(E.Scenario(m, iso, overrides=ov or None)) for m, iso, ov in CELLS]
    out = E.batch_metrics(cases, n)
    for k, c in enumerate(cases):
        df = E.evaluate(c.sc, n)
        for col in E.METRICS:
            for s, arr in zip(("QW", "RL"), out[col]):
                ref = df.filter(pl.col("strategy") == s)[col].to_numpy()
                np.testing.assert_allclose(arr[k], ref, rtol=1e-12, atol=1e-12, err_msg=f"{k} {col} {s}")


def test_vectorised_crossovers_equal_brentq_on_the_slow_path():
    cases = [E.case(E.Scenario(m, iso, overrides=ov or None)) for m, iso, ov in CELLS]
    xs = DC.crossovers_n(cases)
    for k, c in enumerate(cases):
        x = optimize.brentq(lambda t: _slow_diff(c.sc, math.exp(t)), 0.0,
                            math.log(float(xs.n_cpus[k])) + 0.2, xtol=1e-12)
        assert float(xs.n_cpus[k]) == pytest.approx(math.exp(x), rel=1e-9)
        assert abs(_slow_diff(c.sc, float(xs.n_cpus[k]))) < 1e-6 * abs(_slow_diff(c.sc, 1.0))
        # the same number printed either way
        assert f"{float(xs.n_cpus[k]):.4g}" == f"{math.exp(x):.4g}"
        assert xs.below[k] == "RL" and xs.above[k] == "QW"


def test_no_crossover_and_unbounded_cases():
    fifo = E.case(E.Scenario(XEON, "nohz_fifo_none"))
    # everything dirty but costless RL (no crossover: RL wins at every N in range)
    xs = DC.crossovers_n([fifo, E.case(E.Scenario(XEON, "nohz_fifo_dlserver"))], n_hi=1024)
    assert math.isinf(xs.n_cpus[0]) and xs.below[0] == "RL"
    assert math.isnan(xs.n_cpus[1]) and xs.below[1] == xs.above[1] == "RL"


def test_interval_holds_every_evaluated_setting_and_names_the_dominant_input():
    sc = E.Scenario(EPYC, "idle")
    plan = U.Plan(sc, n_draws=8)
    n = np.array([4.0, 64.0])
    b = U.metric_bands(plan, n, ["requester_mean_ns"])[("requester_mean_ns", "QW")]
    assert np.all(b.low <= b.value) and np.all(b.value <= b.high) and np.all(b.low < b.high)
    # every one-at-a-time setting lies inside, checked through evaluate() itself
    for setting in plan.oat[:10]:
        v = E.evaluate(E.Scenario(EPYC, "idle", overrides=setting), n)
        q = v.filter(pl.col("strategy") == "QW")["requester_mean_ns"].to_numpy()
        assert np.all(q >= b.low * (1 - 1e-12)) and np.all(q <= b.high * (1 + 1e-12))
    # an idle target's wait is the deep-state exit with probability p_deep_idle (0..1)
    assert b.dominant[0] == "p_deep_idle"
    # fixing that input (an override drops its interval) narrows the band
    plan2 = U.Plan(E.Scenario(EPYC, "idle", overrides={"p_deep_idle": 0.5}), n_draws=8)
    b2 = U.metric_bands(plan2, n, ["requester_mean_ns"])[("requester_mean_ns", "QW")]
    assert np.all(b2.high - b2.low < b.high - b.low)


def test_a_band_is_the_same_whichever_other_bands_are_asked_for():
    """The report's figures ask only for the bands they draw: each metric's band is computed
    on its own, so its ends are the ones of the full set, bit for bit."""
    from pwmodel.report import results as R
    sc = E.Scenario(EPYC, "nohz_other")
    n = [2.0, 48.0, 300.0]
    full = R.curves(sc, n)
    for m in ("requester_mean_ns", "victim_mean_ns"):
        one = R.curves(sc, n, [m])
        cols = [m.replace("_ns", "_lo_ns"), m.replace("_ns", "_hi_ns")]
        assert set(one.columns) == set(full.columns) - {
            c for o in R.BAND_METRICS if o != m for c in (o.replace("_ns", "_lo_ns"),
                                                           o.replace("_ns", "_hi_ns"))}
        assert one.select(cols).equals(full.select(cols))
        assert (one[cols[0]] < one[cols[1]]).all()


def _decide_json(*extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "pwmodel", "decide", "--json", "--draws", "4", *extra],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1        # one JSON object on one line
    return json.loads(r.stdout)


def test_decide_json_rows_and_crossover():
    out = _decide_json("--machine", "intel-xeon-8375c-2s", "--isolation", "nohz_other")
    rows = out["rows"]
    assert [r["n_cpus"] for r in rows] == [2 ** k for k in range(11)]
    for r in rows:
        for k in ("n_cpus", "qw_ns", "rl_ns", "qw_low_ns", "qw_high_ns", "rl_low_ns", "rl_high_ns",
                  "winner"):
            assert k in r
        assert r["qw_low_ns"] <= r["qw_ns"] <= r["qw_high_ns"]
        assert r["rl_low_ns"] <= r["rl_ns"] <= r["rl_high_ns"]
        assert r["winner"] == ("RL" if r["rl_ns"] < r["qw_ns"] else "QW")
    xo = out["crossover"]
    assert set(xo) >= {"n_cpus", "low", "high"}
    assert xo["low"] <= xo["n_cpus"] <= (xo["high"] if xo["high"] is not None else math.inf)
    for r in rows:   # the rows change winner at the crossover
        assert r["winner"] == (xo["below"] if r["n_cpus"] < xo["n_cpus"] else xo["above"])


def test_decide_json_crossover_beyond_the_modelled_range_is_not_a_number():
    out = _decide_json("--machine", "amd-epyc-7r13-2s", "--isolation", "nohz_fifo_dlserver")
    xo = out["crossover"]
    assert xo["n_cpus"] is None and xo["beyond_modelled"] is True
    assert xo["text"] == "> 1024 (RL faster at every size modelled)"
    assert all(r["winner"] == "RL" for r in out["rows"])


def test_crossover_closed_form_disk_cache_is_read_checked_and_optional(tmp_path, monkeypatch):
    """The closed form is written once per version and equation and read back by a fresh
    process; a damaged file (unparsable, or a valid expression in foreign symbols) is
    rebuilt, and an unwritable cache folder only costs the solve."""
    import sympy as sp
    solve = DC.crossover_symbolic.__wrapped__          # around the in-process lru_cache
    monkeypatch.setenv("PWMODEL_CACHE", str(tmp_path / "c"))
    monkeypatch.setattr(DC, "_MEM", {})
    want = solve("slowest")
    files = list((tmp_path / "c" / "sympy").glob("*.srepr"))
    assert len(files) == 1 and sp.sympify(files[0].read_text()) == want
    files[0].write_text(sp.srepr(2 * want))            # a fresh process reads the file
    monkeypatch.setattr(DC, "_MEM", {})
    assert solve("slowest") == 2 * want
    for damaged in ("garbage", "Add(Integer(1), ", ""):
        files[0].write_text(damaged)
        monkeypatch.setattr(DC, "_MEM", {})
        assert solve("slowest") == want, damaged
        assert sp.sympify(files[0].read_text()) == want  # and rewritten whole
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("PWMODEL_CACHE", str(blocker / "c"))   # cannot be created
    monkeypatch.setattr(DC, "_MEM", {})
    assert solve("slowest") == want


def test_batched_crossovers_and_intervals_equal_one_by_one_bit_for_bit():
    """What the report prefetches in one vectorised call is what one scenario alone gives,
    to the last bit (N*, sides, method, and the ends of its interval)."""
    scs = [E.Scenario(XEON, "idle"), E.Scenario(EPYC, "nohz_other"),
           E.Scenario(XEON, "nohz_fifo_dlserver"), E.Scenario(EPYC, "nohz_fifo_none")]
    together = DC.crossovers(scs)
    for sc, x in zip(scs, together):
        alone = DC.crossover_n(sc)
        assert (alone.n_cpus, alone.below, alone.above, alone.method) == \
            (x.n_cpus, x.below, x.above, x.method) or \
            (math.isnan(alone.n_cpus) and math.isnan(x.n_cpus) and alone.method == x.method)
    plans = [U.Plan(sc, n_draws=3) for sc in scs[:2]]
    both = U.crossover_bands(plans)
    for p, b in zip(plans, both):
        one = U.crossover_band(p)
        assert (one.n_cpus, one.low, one.high, one.dominant) == (b.n_cpus, b.low, b.high, b.dominant)


def test_grouped_order_statistics_equal_each_distribution_on_its_own():
    """Wake's and WakeTables' one-gather lookups of E[max] and of the staggered maximum
    give, point by point and to the last bit, what emax_of / smax_of give each group of
    points (one distribution, one t_q) by itself, infinite laws included."""
    plan = U.Plan(E.Scenario(EPYC, "nohz_other"), n_draws=4)
    cases = plan.cases([{}] + plan.oat[:6] + plan.lhs)
    cases.append(E.case(E.Scenario(EPYC, "nohz_fifo_none")))        # all mass at +inf
    cases.append(E.case(E.Scenario(XEON, "busy_other")))             # only in the last row
    wake = E.Wake([c.dist for c in cases])
    rng = np.random.default_rng(5)
    rows = rng.integers(0, len(cases) - 1, size=(40, 9))
    k = np.where(rng.random(rows.shape) < 0.2, rng.integers(0, 4, rows.shape),
                 np.exp(rng.uniform(0.0, 9.0, rows.shape)))
    rows[-1], k[-1] = len(cases) - 1, [1, 2, 3, 0.5, 1.5, 6, 7.9, 8, 5]  # its largest count a node
    gap = np.array([c.ps["queue_work_ns"] for c in cases])

    def by_group(rows, tq):
        """(E[max], staggered maximum) of each group of points on its own."""
        law = wake.row[rows]
        e, s = np.empty(k.shape), np.empty(k.shape)
        for r in np.unique(law):
            e[law == r] = E.emax_of(wake.dists[r], k[law == r])
            for t in np.unique(tq):
                sel = (law == r) & (tq == t)
                if sel.any():
                    s[sel] = E.smax_of(wake.dists[r], k[sel], t)
        return e, s

    tq = gap[rows]
    tq[:, :3] = 150.0                                              # gaps shared across laws
    # any row and t_q at each point, or one per row of the law of D (broadcast, as the
    # mixtures ask)
    for r, t in ((rows, tq), (np.broadcast_to(rows[:, :1], k.shape), tq[:, :1])):
        want_e, want_s = by_group(r, np.broadcast_to(t, k.shape))
        np.testing.assert_array_equal(wake.emax(k, r), want_e)
        np.testing.assert_array_equal(wake.smax(k, r, t), want_s)
    assert np.isinf(want_e).any() and np.isfinite(want_e).any()
    tabs = E.WakeTables(cases, float(k.max()))
    d, t = k[:len(cases)], gap.reshape(-1, 1)
    want = np.empty(d.shape)
    for i, c in enumerate(cases):
        same = [j for j in range(len(cases)) if tabs.row[j] == tabs.row[i] and t[j, 0] == t[i, 0]]
        want[i] = E.smax_of(c.dist, d[same], float(t[i, 0]))[same.index(i)]
    np.testing.assert_array_equal(tabs.smax(d, t), want)
