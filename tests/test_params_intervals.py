"""Parameter intervals: registry ranges of assumed values, profile intervals, provenance."""

from __future__ import annotations

import pytest

from pwmodel import machine as M
from pwmodel import params as P
from pwmodel.errors import PwmodelError


def test_every_assumed_default_has_a_range_with_a_reason():
    missing = [n for n, p in P.PARAMS.items() if "assum" in p.source.lower() and p.range is None]
    assert not missing, f"assumed defaults without a range in params.RANGES: {missing}"
    for n, p in P.PARAMS.items():
        if p.range is not None:
            lo, hi = p.range
            assert p.bounds[0] <= lo <= p.default <= hi <= p.bounds[1], n
            assert p.range_source and p.kind in ("assumption", "workload"), n


def test_resolve_keeps_sources_and_adds_registry_intervals():
    ps = P.resolve()
    iv = ps.interval("wake_lag_use_ns")
    assert iv is not None and iv.low <= ps["wake_lag_use_ns"] <= iv.high
    assert iv.source.startswith("registry range:")
    assert ps.sources["wake_lag_use_ns"] == P.PARAMS["wake_lag_use_ns"].source
    assert ps.interval("mutex_ns") is None          # published, no range
    # an override fixes the value and drops the interval
    ps2 = ps.with_overrides({"wake_lag_use_ns": 50000.0})
    assert ps2.interval("wake_lag_use_ns") is None and ps2.sources["wake_lag_use_ns"] == "override"
    assert ps2.interval("queue_work_ns") == ps.interval("queue_work_ns")


def test_machine_value_keeps_registry_range_only_when_inside():
    m = M.get("amd-epyc-7r13-2s")
    ps = P.resolve(m)
    assert ps.sources["static_key_ns"].startswith("machine amd-epyc-7r13-2s:")
    assert ps.interval("static_key_ns") is not None          # 1 cycle at 2.65 GHz is inside
    loc = M.get("local-kvm-2vcpu")
    ps_l = P.resolve(loc)
    v = ps_l["kworker_switch_ns"]                             # 16.6 us measured: outside the range
    assert not (P.PARAMS["kworker_switch_ns"].range[0] <= v <= P.PARAMS["kworker_switch_ns"].range[1])
    assert ps_l.interval("kworker_switch_ns") is None


def _profile_text(extra: str) -> str:
    src = M.to_toml(M.get("amd-epyc-7r13-2s"))
    return src.replace("[costs]\n", "[costs]\n" + extra + "\n")


def test_profile_interval_round_trips_and_reaches_resolve(tmp_path):
    text = _profile_text('queue_work_ns = { value = 600.0, low = 550.0, high = 700.0, '
                         'source = "fit X", interval_source = "95% bootstrap CI of fit X" }')
    f = tmp_path / "m.toml"
    f.write_text(text)
    m = M.load(f)
    assert m.param_intervals()["queue_work_ns"] == (550.0, 700.0, "95% bootstrap CI of fit X")
    g = tmp_path / "m2.toml"
    g.write_text(M.to_toml(m))
    assert M.load(g).cost_intervals == m.cost_intervals
    iv = P.resolve(m).interval("queue_work_ns")
    assert (iv.low, iv.high, iv.kind) == (550.0, 700.0, "fitted")
    assert "95% bootstrap CI" in iv.source


@pytest.mark.parametrize("entry, msg", [
    ('queue_work_ns = { value = 600.0, low = 650.0, high = 700.0, source = "x" }', "must hold the value"),
    ('queue_work_ns = { value = 600.0, low = 550.0, source = "x" }', "needs both 'low' and 'high'"),
    ('queue_work_ns = { value = 600.0, low = -1.0, high = 700.0, source = "x" }', "outside plausible bounds"),
    ('queue_work_ns = { value = 600.0, lo = 1.0, high = 700.0, source = "x" }', "unknown field"),
])
def test_bad_profile_intervals_are_refused_with_the_field(tmp_path, entry, msg):
    f = tmp_path / "bad.toml"
    f.write_text(_profile_text(entry))
    with pytest.raises(PwmodelError) as e:
        M.load(f)
    assert msg in str(e.value) and "queue_work_ns" in str(e.value) and "bad.toml" in str(e.value)
