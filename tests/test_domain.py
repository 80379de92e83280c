"""Validated-domain flags: the rule on a small labelled table, the committed table's own
agreeing and disagreeing conditions, and the flags in `pwmodel decide` (text and --json)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from pwmodel import cli, machine as M
from pwmodel.evaluate import Scenario
from pwmodel.simulate import domain as DOM, validate as VAL

XEON = M.get("intel-xeon-8375c-2s")


def _synthetic_table(bad: set[tuple[str, int, str]]) -> pl.DataFrame:
    """SYNTHETIC (a test of the lookup rule, not a validation result): every comparison of
    one Xeon cell agrees except the (rate level, N, strategy) in ``bad``."""
    rows = []
    for lvl in VAL.RATES:
        for n in VAL.N_GRID:
            for s in ("QW", "RL", "RU"):
                for m in VAL.METRICS:
                    st = "absent" if s == "RU" else "compared"
                    rows.append({"machine": XEON.name, "callsite": "lru_add_drain",
                                 "convention": "binomial", "isolation": "nohz_other",
                                 "rate_level": lvl, "n_cpus": n, "strategy": s, "metric": m,
                                 "status": st,
                                 "ok": None if st != "compared" else (lvl, n, s) not in bad})
    return pl.DataFrame(rows)


def _sc(**rates) -> Scenario:
    return Scenario(XEON, "nohz_other", overrides=rates)


LOW, HIGH = VAL.RATES["low"], VAL.RATES["high"]


def test_grid_points_and_between_them():
    t = _synthetic_table({("low", 64, "QW")})
    d = DOM.for_scenario(_sc(**LOW), t)
    assert d.check("QW", "requester_mean", 8).validated
    assert not d.check("QW", "requester_mean", 64).validated
    # between grid points: both brackets must agree
    assert not d.check("QW", "requester_mean", 100).validated     # 64 .. 256
    assert not d.check("QW", "requester_mean", 32).validated      # 8 .. 64
    assert d.check("QW", "requester_mean", 4).validated           # 2 .. 8
    assert d.check("RL", "requester_mean", 100).validated
    f = d.check("QW", "requester_mean", 2000)
    assert not f.validated and "1024" in f.reason
    # a metric column name means the same as the objective
    assert not d.check("QW", "requester_mean_ns", 64).validated


def test_rates_between_levels_rest_on_both():
    t = _synthetic_table({("high", 8, "RL")})
    assert DOM.for_scenario(_sc(**LOW), t).check("RL", "cpu_time", 8).validated
    assert not DOM.for_scenario(_sc(**HIGH), t).check("RL", "cpu_time", 8).validated
    mid = _sc(local_rate_hz=1e6, remote_rate_hz=100.0)
    assert not DOM.for_scenario(mid, t).check("RL", "cpu_time", 8).validated
    assert DOM.for_scenario(mid, t).check("RL", "cpu_time", 64).validated
    f = DOM.for_scenario(_sc(local_rate_hz=1e6, remote_rate_hz=1e5), t).check("RL", "cpu_time", 64)
    assert not f.validated and "remote_rate_hz" in f.reason


def test_what_the_grid_does_not_cover_is_outside():
    t = _synthetic_table(set())
    assert DOM.check(_sc(**LOW), "QW", "victim_mean", 8, t).validated
    # cpu_load rests on cpu_time; fastpath_tax is not simulated; RU absent here
    assert DOM.check(_sc(**LOW), "QW", "cpu_load", 8, t).validated
    assert not DOM.check(_sc(**LOW), "QW", "fastpath_tax", 8, t).validated
    f = DOM.check(_sc(**LOW), "RU", "requester_mean", 8, t)
    assert not f.validated and "absent" in f.reason
    for sc, word in ((_sc(**LOW, ipi_ns=2000.0), "ipi_ns"),
                     (Scenario(XEON, "nohz_other", preempt_model="rt", overrides=LOW), "rt"),
                     (Scenario(XEON, "busy_other", overrides=LOW), "busy_other"),
                     (Scenario(XEON, "nohz_other", callsite="pcp_lists", overrides=LOW), "pcp_lists")):
        f = DOM.check(sc, "RL", "requester_mean", 8, t)
        assert not f.validated and word in f.reason, (word, f)


def _committed(ok: bool) -> dict:
    """A QW or RL comparison of the committed domain, binomial convention, that agreed (or
    not)."""
    idx = DOM.table()
    if idx is None:
        pytest.skip("no committed validation domain")
    want = "agree" if ok else "disagree"
    for e in DOM.entries(idx):
        if e[8] == want and e[2] == "binomial" and e[6] in ("QW", "RL"):
            return dict(zip((*VAL.KEYS, "status"), e))
    raise AssertionError(f"the committed domain has no comparison that is '{want}'")


@pytest.mark.parametrize("ok", [True, False])
def test_committed_conditions_are_flagged_as_they_compared(ok):
    r = _committed(ok)
    sc = Scenario(M.get(r["machine"]), r["isolation"], callsite=r["callsite"],
                  overrides=VAL.RATES[r["rate_level"]])
    f = DOM.check(sc, r["strategy"], r["metric"], r["n_cpus"])
    assert f.validated is ok, f


def test_decide_json_and_text_carry_the_flags(capsys):
    r = _committed(False)
    args = ["decide", "--machine", r["machine"], "--isolation", r["isolation"], "--callsite",
            r["callsite"], "--objective", r["metric"].removesuffix("_ns"), "--n-cpus",
            ",".join(str(n) for n in sorted({1, r["n_cpus"]})), "--draws", "0",
            *[f"--param={k}={v}" for k, v in VAL.RATES[r["rate_level"]].items()]]
    assert cli.main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    row = next(x for x in out["rows"] if x["n_cpus"] == r["n_cpus"])
    assert row[f"{r['strategy'].lower()}_validated"] is False and row["validated"] is False
    for x in out["rows"]:
        assert isinstance(x["validated"], bool)
        assert x["validated"] == (x["qw_validated"] and x["rl_validated"])
    assert isinstance(out["crossover"].get("validated", False), bool)
    assert all(isinstance(v, bool) for x in out["all_strategies"]["rows"] for v in x["validated"].values())
    assert out["domain"]["reasons"]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.split()[:1] == [str(r["n_cpus"])])
    assert DOM.MARK in line and "outside the validated domain" in text


def test_report_marks_a_crossover_resting_on_disagreeing_forms(monkeypatch):
    """Q2's N* cells (and the ends of its interval) carry the ASCII mark exactly when either
    strategy's mean requester latency disagrees at the grid points N* rests on."""
    from pwmodel.report import cover, results as R
    t = _synthetic_table({("low", 64, "RL")})
    d = DOM.for_scenario(_sc(**LOW), t)
    monkeypatch.setattr(cover.DOM, "for_scenario", lambda sc, tab=None: d)
    cfg = R.Config(machines=(XEON.name,))
    assert cover._xo_mark(XEON.name, "nohz_other", cfg, (64.0,)) == DOM.ASCII_MARK
    assert cover._xo_mark(XEON.name, "nohz_other", cfg, (100.0,)) == DOM.ASCII_MARK  # 64 .. 256
    assert cover._xo_mark(XEON.name, "nohz_other", cfg, (4.0,)) == ""
    # no crossover inside the modelled range: nothing to flag
    assert cover._xo_mark(XEON.name, "nohz_other", cfg, (float("inf"), float("nan"))) == ""
