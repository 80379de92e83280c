"""The requester mean taken apart (pwmodel.models.breakdown): the terms sum to the mean as
a SymPy identity for each requester pattern, isolation level and QW regime (the regime's
indicator is 1 exactly where the maximum of the two ends is the lock's end), and the
report's evaluated terms sum to evaluate()'s value for every isolation level and call
site (an idle target's RL terms once kept the owner's wait: 1.8 ns off at N = 8, 115 ns
at N = 512)."""

from __future__ import annotations

import math

import polars as pl
import pytest
import sympy as sp

from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel.models import breakdown as BD
from pwmodel.models import callsite as CS
from pwmodel.models import owner as OW
from pwmodel.models import requester as RQ
from pwmodel.models import wakeup as W
from pwmodel.params import SYMBOLS as S
from pwmodel.report import results as R


@pytest.mark.parametrize("pattern", RQ.PATTERNS)
def test_terms_sum_to_the_mean_symbolically(pattern):
    means = RQ.requester_exprs(pattern)
    later = BD.later_end_expr()
    for iso in W.ISOLATION:
        owner = {S[k]: v for k, v in OW.IDLE_OWNER.items()} if OW.is_idle(iso) else {}
        for strat in E.STRATEGIES:
            mean = means[f"{strat.lower()}_mean"]
            if strat == "QW" and pattern == "flush":
                assert mean.has(later)       # the regimes are the two sides of this maximum
            total = BD.total_expr(strat, pattern)
            for regime, lock in zip(BD.REGIMES, (0, 1)):
                # in each regime: the regime's indicator and the maximum's argument
                want = mean.xreplace({later: BD.ends()[regime]})
                got = total.xreplace({BD.lock_bound_expr(): sp.Integer(lock)})
                diff = (got - want).subs(owner)
                assert sp.expand(sp.piecewise_fold(diff)) == 0, (pattern, iso, strat, regime)


def test_a_missing_term_breaks_the_identity():
    terms = BD.rl_terms()[:-1]                       # without the wait for the owner
    diff = sp.Add(*[t.expr for t in terms]) - RQ.requester_exprs("flush")["rl_mean"]
    assert sp.expand(diff) != 0


@pytest.mark.parametrize("iso", W.ISOLATION)
def test_evaluated_terms_sum_to_evaluate(iso):
    m = M.get("intel-xeon-8375c-2s")
    for cs in CS.bundled_names():
        sc = E.Scenario(m, iso, callsite=cs)
        df = E.evaluate(sc, [1, 8, 512])
        for n in (1, 8, 512):
            terms = R.breakdown(sc, n)
            for strat in E.STRATEGIES:
                total = sum(v for s, _, v in terms if s == strat)
                want = df.filter((pl.col("strategy") == strat) & (pl.col("n_cpus") == n))[
                    "requester_mean_ns"][0]
                if math.isinf(want):
                    assert total == want, (iso, cs, n, strat)
                else:
                    assert total == pytest.approx(want, rel=1e-12), (iso, cs, n, strat)
