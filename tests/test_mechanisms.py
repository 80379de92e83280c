"""Given-D mechanisms of the fan-out against the simulator (fixed dirty count, cheap reps).

Each case is a condition where an earlier form missed: the tolerance is the validation's
(a mean inside the simulation's 95 % interval or within 2 %)."""

from __future__ import annotations

import pytest

from pwmodel import machine as M
from pwmodel.evaluate import Scenario, evaluate
from pwmodel.simulate.fanout import simulate
from pwmodel.simulate import validate as VAL
from pwmodel.simulate.validate import RATES, compare

XEON = "intel-xeon-8375c-2s"


def _ok(iso: str, rate: str, n: int, strategy: str, metrics: tuple[str, ...], reps: int = 300):
    sc = Scenario(M.get(XEON), isolation=iso, overrides=RATES[rate])
    if hasattr(VAL, "with_convention"):       # the given-D forms: D = d N (fixed)
        sc = VAL.with_convention(sc, "fixed")
    t = compare(evaluate(sc, [n]), simulate(sc, [n], reps=reps, seed=1, dirty="fixed"))
    rows = t.filter((t["strategy"] == strategy) & t["metric"].is_in(list(metrics)))
    assert rows.height == len(metrics)
    bad = rows.filter(~rows["ok"])
    assert bad.height == 0, bad.select("metric", "analytic_ns", "simulated_ns", "rel_error").rows()


@pytest.mark.parametrize("iso,n", [("nohz_other", 64), ("busy_other", 256)])
def test_qw_kworkers_queue_on_the_lru_lock_among_themselves(iso, n):
    # busy targets preempted at once ask for the lru_lock t_q apart and queue (the old
    # fluid form with the wake-up range as spacing said nobody spins: -21 % CPU time)
    _ok(iso, "high", n, "QW", ("victim_mean_ns", "cpu_time_ns"))


def test_qw_ordered_hand_offs_are_between_consecutive_dirty_cpus():
    # all kworkers start at the server's zero-laxity time: in id order, hand-offs between
    # consecutive *dirty* CPUs (not consecutive ids); victim mean over the targets
    _ok("nohz_fifo_dlserver", "low", 256, "QW", ("victim_mean_ns", "cpu_time_ns"))


def test_rl_p99_uses_the_finite_population_of_distinct_cpus():
    # D = 32 of 64: pair classes drawn without replacement, variance x (N - D)/(N - 1)
    _ok("nohz_other", "high", 64, "RL", ("requester_p99_ns",), reps=600)


def test_rl_victim_mean_uses_the_owner_rate_outside_its_section():
    # lambda_L S_L = 0.3: the owner's next attempt comes at lambda_L / (1 - lambda_L S_L)
    _ok("nohz_other", "high", 8, "RL", ("victim_mean_ns", "cpu_time_ns"), reps=600)


@pytest.mark.xdist_group("busy_owner")
def test_event_level_owner_loss_at_a_busy_owner(busy_owner_lock):
    # local 1e7 Hz, remote 1e3 Hz, 20000 drains (conftest.busy_owner_lock, shared with
    # test_simulate's contention test)
    r = busy_owner_lock.row(0, named=True)
    assert r["victim_lo_ns"] <= r["victim_ana_ns"] <= r["victim_hi_ns"]


@pytest.mark.parametrize("rate,n", [("low", 8), ("high", 256)])
def test_victim_worst_is_the_expected_largest_over_the_targets_of_a_call(rate, n):
    # QW: the last kworker in the lru_lock queue; RL: E[max over the D targets] of the owner
    # loss (at low rates far below the supremum S_R + r: 516 vs 1875 ns at N = 8)
    for strategy in ("QW", "RL"):
        _ok("busy_other", rate, n, strategy, ("victim_worst_ns",), reps=400)


def test_idle_owner_pays_no_refetch():
    # an idle target runs no task: no local op follows the drain, in the simulator too
    _ok("idle", "low", 64, "RL", ("cpu_time_ns",), reps=300)
