"""The verdict: one rule, its deciding cost, the flipping parameter, and its paragraph."""

from __future__ import annotations

import re

import polars as pl
import pytest

from pwmodel import fmt
from pwmodel import verdict as V

XEON = "intel-xeon-8375c-2s"


def test_fifo_without_server_never_completes_so_rl_and_requester_decides():
    v = V.verdict(XEON, "nohz_fifo_none", 64, flip=False)
    assert (v.strategy, v.deciding) == ("RL", V.REQUESTER)
    text = V.paragraph(v)
    assert "SCHED_FIFO" in text and "never completes" in text


def test_budget_decides_on_isolated_targets_and_moves_with_it():
    # a budget between RL's and QW's worst interruption: only RL keeps the task within it
    v0 = V.verdict(XEON, "nohz_other", 128, flip=False)
    qv, rv = v0.values["qw_victim_ns"], v0.values["rl_victim_ns"]
    assert rv < qv
    mid = V.verdict(XEON, "nohz_other", 128, overrides={"budget_ns": (qv + rv) / 2}, flip=False)
    assert (mid.strategy, mid.deciding) == ("RL", V.VICTIM)
    # the same budget on a housekeeping target is not binding: CPU load decides
    hk = V.verdict(XEON, "busy_other", 128, overrides={"budget_ns": (qv + rv) / 2}, flip=False)
    assert hk.deciding == V.CPU
    assert hk.strategy == ("RL" if hk.values["rl_load_cpus"] < hk.values["qw_load_cpus"] else "QW")


def test_cpu_load_decides_when_budget_holds_and_follows_the_op_rate():
    lo = V.verdict(XEON, "busy_other", 128, local_rate_hz=10.0, remote_rate_hz=100.0, flip=False)
    hi = V.verdict(XEON, "busy_other", 128, local_rate_hz=1e7, remote_rate_hz=1.0, flip=False)
    assert lo.deciding == hi.deciding == V.CPU
    # almost no local operations: RL's tax costs nothing, its cheaper drains win
    assert lo.strategy == "RL" and hi.strategy == "QW"


def test_flip_parameter_really_flips():
    v = V.verdict(XEON, "nohz_other", 128)
    assert v.flip is not None
    if v.flip.flips_at:
        end = v.flip.low if v.flip.flips_at == "low" else v.flip.high
        w = V.verdict(XEON, "nohz_other", 128, overrides={v.flip.name: end}, flip=False)
        assert w.strategy != v.strategy


def test_paragraph_numbers_are_formatted_and_growth_is_not_called_constant():
    # wake-ups that all preempt at once (a SCHED_IDLE busy task) start the drains together,
    # so they queue on the lru_lock and the worst interruption grows with N
    v = V.verdict(XEON, "nohz_other", 128, flip=False, overrides={"p_busy_sched_idle": 1.0})
    text = V.paragraph(v)
    assert not re.search(r"\b(inf|nan)\b", text, re.I)
    for tok in re.findall(r"\d+\.\d+", text):
        assert len(tok.replace(".", "").lstrip("0")) <= 3, tok
    assert v.victim_grows and "grows with N" in text
    assert "constant" not in text
    assert f"N* = {fmt.crossover(v.crossover.n_cpus)} CPUs" in text


@pytest.mark.parametrize("iso", ["nohz_other", "nohz_fifo_dlserver"])
def test_victim_budget_crossing_is_where_the_model_crosses(iso):
    v = V.verdict(XEON, iso, 128, flip=False)
    n = v.victim_exceeds_from
    if n == n:   # finite: QW's worst interruption at n exceeds the budget, at n - 1 it does not
        from pwmodel.evaluate import evaluate
        sc = V._scenario(v_machine(), iso, None, "lru_add_drain", v.remote_rate_hz,
                         v.local_rate_hz, None)
        df = evaluate(sc, [n - 1, n])
        w = df.filter(df["strategy"] == "QW").sort("n_cpus")["victim_worst_ns"].to_list()
        assert w[0] <= v.budget_ns < w[1]


def v_machine():
    from pwmodel import machine as M
    return M.get(XEON)


def test_kept_flip_setup_and_caller_values_give_the_same_verdict():
    """A verdict that reuses a kept flip setup (cases and wake-up tables built for more
    CPUs), a kept growth, and the caller's values at N and crossover equals one computed
    from scratch, field for field (repr: NaN margins compare equal)."""
    from pwmodel import decide as DC
    from pwmodel import evaluate as E
    from pwmodel import machine as M
    m = M.get("amd-epyc-7r13-2s")
    kw = {"callsite": "lru_add_drain", "remote_rate_hz": 10.0, "local_rate_hz": 1e6,
          "overrides": {"dirty_fraction": 0.5}}
    for n in (64, 65, 3, 129):
        V._FLIPS.clear()
        V._GROWTH.clear()
        fresh = repr(V.verdict(m, "nohz_other", n, **kw))
        assert repr(V.verdict(m, "nohz_other", n, **kw)) == fresh     # kept setup and growth
        sc = E.Scenario(m, "nohz_other", overrides={"dirty_fraction": 0.5, "remote_rate_hz": 10.0,
                                                    "local_rate_hz": 1e6})
        ev = E.evaluate(sc, [n])
        q, r = (ev.filter(pl.col("strategy") == s).row(0, named=True) for s in ("QW", "RL"))
        given = V.verdict(m, "nohz_other", n, **kw, at_n={k: (q[k], r[k]) for k in V.AT_N},
                          crossover=DC.crossover_n(sc))
        assert repr(given) == fresh
    setup = V.FlipSetup(V._scenario(m, "nohz_other", None, "lru_add_drain", 10.0, 1e6,
                                    {"dirty_fraction": 0.5}))
    sc = setup.plan.sc
    for n in (700, 5, 1024, 64):
        assert repr(V.flip_parameter(sc, n, "RL", 20_000.0, setup)) == \
            repr(V.flip_parameter(sc, n, "RL", 20_000.0))
