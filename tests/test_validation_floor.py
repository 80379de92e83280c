"""A reduced validation on every bundled machine with an agreement floor over all of its
comparisons, and deliberately wrong forms that fall below it.

The grid: per machine, one condition from each regime the forms have to cover (small N
with about one dirty CPU, the lru_lock-bound regime of busy targets, high local and remote
rates, idle targets, busy and isolated targets), both dirty-count conventions, every
strategy the simulator has (QW, RL, RU, SKIP), 400 replications, one seed. Every
``compared`` row counts towards the floor.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl
import pytest

from pwmodel import machine as M
from pwmodel import strategies as ST
from pwmodel.evaluate import Scenario
from pwmodel.simulate import validate as VAL

# one validation table (module fixture) serves the tests here: one worker under xdist
pytestmark = pytest.mark.xdist_group("validation_floor")

REPS = 400
SEED = 17
# (isolation, rate level, N): the regimes. Small N is cheap to simulate and is where the law
# of the dirty count matters most, so it has several conditions.
REGIMES = (
    ("nohz_other", "low", 2),        # small N: D around one, busy nohz_full targets
    ("idle", "high", 2),             # small N, idle targets (C-state exits, no victim)
    ("nohz_fifo_dlserver", "low", 4),     # small N, SCHED_FIFO owner, fair-server wake-ups
    ("isolcpus_other", "high", 8),   # isolated busy targets at high rates
    ("nohz_other", "high", 64),      # high local and remote rates: contention terms
    ("idle", "low", 64),             # idle targets, larger N
    ("nohz_fifo_throttle", "low", 256),   # RT throttling wake-ups, lru_lock queue
    ("busy_other", "low", 1024),     # lru_lock-bound: busy targets queue on the lruvec lock
)
# The floor over every comparison of this grid: FLOOR is what the forms reach on it at the
# commit that set it (0.973 at 400 replications, seed 17; seeds 1 and 2: 0.971 and 0.971;
# the first floor, 0.80, was set at 0.816) less MARGIN, several times that seed-to-seed
# spread. It is a regression floor, raised as the forms improve. A wrong form fails the floor
# the right one sets: it stays below the higher of FLOOR and the right forms' own share less
# MARGIN (each wrong form below misses a mechanism; on that commit they reach 0.882, 0.827
# and, binomial only, 0.820 against the right forms' 0.968).
MARGIN = 0.015
FLOOR = 0.955


def _grid():
    out = []
    for m in VAL.machines():
        for iso, lvl, n in REGIMES:
            out.append((Scenario(m, isolation=iso, overrides=VAL.RATES[lvl]), lvl, (n,)))
    return out


@pytest.fixture(scope="module")
def sims():
    return {}


@pytest.fixture(scope="module")
def table(sims):
    return VAL.run(_grid(), reps=REPS, seed=SEED, dirty="both", cache=sims)


def _share(t: pl.DataFrame) -> float:
    return float(VAL.compared(t)["ok"].mean())


def test_grid_covers_every_machine_strategy_and_convention(table):
    c = VAL.compared(table)
    assert set(c["machine"]) == set(M.bundled_names())
    assert set(c["strategy"]) == set(ST.STRATEGIES)
    assert set(c["convention"]) == set(VAL.CONVENTIONS)
    assert set(c["metric"]) == set(VAL.METRICS)
    # nothing silently missing: every (condition, strategy, metric) has a row with a status
    per = table.group_by("machine", "convention", "isolation", "n_cpus").len()
    assert (per["len"] == len(ST.STRATEGIES) * len(VAL.METRICS)).all()
    # RU exists only for nohz_* targets, SKIP for isolated ones: absent elsewhere, stated
    ab = table.filter(pl.col("status") == "absent")
    assert set(ab.filter(pl.col("strategy") == "RU")["isolation"]) == {"busy_other", "idle",
                                                                        "isolcpus_other"}
    assert set(ab.filter(pl.col("strategy") == "SKIP")["isolation"]) == {"busy_other", "idle"}


def _floor(right: pl.DataFrame) -> float:
    """The floor a wrong form has to fail: FLOOR, or the right forms' share less MARGIN."""
    return max(FLOOR, _share(right) - MARGIN)


def test_agreement_floor_over_all_comparisons(table):
    share = _share(table)
    by = VAL.summary(table, ["machine", "convention"])
    assert share >= FLOOR, f"{share:.3f} < floor {FLOOR}\n{by}"


def _mean_dirty_count_inside_the_maximum(sc: Scenario, ns):
    """Wrong under binomial draws: the closed forms with D = d N (the fixed convention), i.e.
    the mean dirty count inside E[max] and the quantiles instead of the mixture over D."""
    return ST.evaluate_all(VAL.with_convention(sc, "fixed"), ns)


def _no_lru_lock_queue(sc: Scenario, ns):
    """Wrong: the kworkers' drains do not queue on the shared lruvec lru_lock (a mechanism
    left out: the analytic side with lru_hold_fraction = 0, the simulator unchanged)."""
    o = {**(sc.overrides or {}), "lru_hold_fraction": 0.0}
    return ST.evaluate_all(dataclasses.replace(sc, overrides=o), ns)


def _one_wakeup_not_the_slowest(sc: Scenario, ns):
    """Wrong: every queue->start wake-up takes its mean (a point mass), so the requester waits
    for one average kworker instead of the slowest of D (and no wake-up tail)."""
    from pwmodel import dist as D
    mean = sc.wake_dist().mean_ns()
    return ST.evaluate_all(dataclasses.replace(sc, wake=D.LatencyDist([D.point(mean)])), ns)


@pytest.mark.parametrize("wrong", [_no_lru_lock_queue, _one_wakeup_not_the_slowest])
def test_form_without_a_mechanism_fails_the_floor(table, sims, wrong):
    bad = VAL.run(_grid(), reps=REPS, seed=SEED, dirty="both", cache=sims, analytic=wrong)
    assert FLOOR <= _share(table)
    assert _share(bad) < _floor(table), (_share(bad), _floor(table))


def test_mean_dirty_count_inside_the_maximum_fails_the_floor(table, sims):
    if VAL.convention_field() is None:
        pytest.skip("the analytic side has one dirty-count convention (E[D] = d N) only")
    bad = VAL.run(_grid(), reps=REPS, seed=SEED, dirty="binomial", cache=sims,
                  analytic=_mean_dirty_count_inside_the_maximum)
    good = table.filter(pl.col("convention") == "binomial")
    assert _share(bad) < _floor(good), (_share(bad), _floor(good))


def test_validate_command_writes_one_table_and_combines(tmp_path, capsys):
    from pwmodel import cli
    a, b = tmp_path / "a", tmp_path / "b"
    common = ["validate", "--callsites", "memcg_stock", "--rates", "low",
              "--n-cpus", "1,8", "--reps", "40", "--dirty", "both"]
    assert cli.main([*common, "--machines", "aws-graviton2-64c", "--isolations", "idle",
                     "--out-dir", str(a)]) == 0
    assert cli.main([*common, "--machines", "aws-graviton2-64c", "--isolations", "nohz_other",
                     "--out-dir", str(b)]) == 0
    assert cli.main(["validate", "--combine", str(a), str(b / "validation.parquet"),
                     "--out-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    t = pl.read_parquet(tmp_path / "validation.parquet")
    # 2 conventions x 2 isolations x 2 N x 4 strategies x 5 metrics
    assert t.height == 2 * 2 * 2 * 4 * 5
    assert set(t.columns) >= {"machine", "callsite", "convention", "isolation", "rate_level",
                              "n_cpus", "strategy", "metric", "analytic_ns", "simulated_ns",
                              "sim_lo_ns", "sim_hi_ns", "ok", "status"}
    # every strategy that exists has every form (RU and SKIP have a requester p99 too)
    assert set(t["status"]) == {"compared", "absent"}
    assert t.filter(pl.col("status") != "compared")["ok"].null_count() == \
        t.filter(pl.col("status") != "compared").height
    per = pl.read_csv(tmp_path / "validation_per_machine.csv")
    assert per.height == 2 and per["all_compared"].sum() == VAL.compared(t).height
    from pwmodel.simulate import domain as DOM
    idx = json.loads((tmp_path / "domain.json").read_text())
    got = {e[:8]: e[8] for e in DOM.entries(idx)}
    assert len(got) == t.height
    for r in t.iter_rows(named=True):
        want = r["status"] if r["status"] != "compared" else ("agree" if r["ok"] else "disagree")
        assert got[tuple(str(r[k]) for k in VAL.KEYS[:5]) + (r["n_cpus"], r["strategy"],
                                                             r["metric"])] == want
