"""Large input arrays computed in blocks over threads (pwmodel.blocks), or looked up in
tables, give the values of one plain call over the whole array, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from pwmodel import blocks
from pwmodel import evaluate as E
from pwmodel import machine as M
from pwmodel.models import lrulock


@pytest.mark.parametrize("machine, iso", [("amd-epyc-7r13-2s", "nohz_other"),
                                          ("intel-xeon-8375c-2s", "idle")])
def test_inputs_in_blocks_equal_one_call(machine: str, iso: str, monkeypatch) -> None:
    sc = E.Scenario(M.get(machine), iso)
    dist, m = sc.wake_dist(), sc.machine
    rng = np.random.default_rng(4)
    size = 2 * blocks.MIN_SIZE + 123
    n = np.round(np.exp(rng.uniform(0, np.log(1024), size)))
    f = rng.uniform(0.0, 1.0, size)
    f[:100] = 0.0
    d = f * n

    def inputs() -> list[np.ndarray]:
        emax, qmax = E.order_stats(dist, d)
        cv = lrulock.class_values(dist, m, f)
        return [emax, qmax, E.smax_of(dist, d, 300.0), cv["c2c_gap1_ns"], cv["c2c_gap2_ns"],
                *m.class_counts(n).values()]

    monkeypatch.setattr(blocks.os, "cpu_count", lambda: 2)        # split on any machine
    split = inputs()
    with monkeypatch.context() as mp:
        mp.setattr(blocks, "workers", lambda size, min_size=blocks.MIN_SIZE: 1)
        whole = inputs()
    assert len(split) == len(whole)
    for a, b in zip(split, whole):
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def test_class_counts_table_and_absent_class_equal_the_direct_forms() -> None:
    rng = np.random.default_rng(6)
    n = np.round(np.exp(rng.uniform(0, np.log(3000), 50_000)))
    f = rng.uniform(0.0, 1.0, n.size)
    for name in ("amd-epyc-7r13-2s", "intel-xeon-8375c-2s"):
        m = M.get(name)
        table, direct = m.class_counts(n), m._class_counts(n)
        assert table.keys() == direct.keys()
        for k in table:
            assert np.array_equal(table[k], direct[k]), k
        sc = E.Scenario(m, "nohz_other")
        (w1, w2), _, _ = lrulock.classes(sc.wake_dist())
        assert w2 == 0
        cv = lrulock.class_values(sc.wake_dist(), m, f)
        assert np.array_equal(cv["c2c_gap2_ns"], lrulock.gap_c2c_ns(m, f * w2))
        assert np.array_equal(cv["c2c_gap1_ns"], lrulock.gap_c2c_ns(m, f * w1))


@pytest.mark.parametrize("name", M.bundled_names())
def test_neighbour_table_from_one_period_equals_every_pair_tested(name: str) -> None:
    """The cumulative neighbour c2c built from one period of the inner levels, repeated,
    equals the sum over pairs (k-1, k) each assigned its own level (the innermost level
    whose span does not divide k, the outermost otherwise), bit for bit, short and long."""
    from pwmodel.machine import profile
    m = M.get(name)
    for top in (2, 5, 37, 3 * 4096 + 7, 10 ** 6):
        k = np.arange(1, top, dtype=np.int64)
        c = np.full(k.shape, m.levels[-1].c2c_ns)
        span, assigned = 1, np.zeros(k.shape, dtype=bool)
        for lv in m.levels[:-1]:
            span *= lv.size
            here = (k % span != 0) & ~assigned
            c, assigned = np.where(here, lv.c2c_ns, c), assigned | here
        profile._NBR_CUM.clear()
        np.testing.assert_array_equal(m._neighbour_cum(top), np.concatenate([[0.0], np.cumsum(c)]))
