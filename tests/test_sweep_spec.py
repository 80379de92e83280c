"""Sweep specs: parsing, ranges, axis order, and refusal of bad specs with key and line."""

from __future__ import annotations

import textwrap

import pytest

from pwmodel.errors import PwmodelError
from pwmodel.sweep import spec as SPEC

GOOD = textwrap.dedent("""\
    # a comment
    [sweep]
    name = "t"
    metrics = ["requester_mean_ns", "victim_worst_ns"]
    quantiles = [0.5]
    chunk_points = 100

    [axes]
    machine = ["intel-xeon-8375c-2s"]
    n_cpus = { start = 1, stop = 64, num = 7, scale = "log", integer = true }
    remote_rate_hz = { start = 0, stop = 100, step = 25 }
    isolation = ["idle", "nohz_other"]
    dirty_fraction = [0.5, 1.0]

    [fixed]
    item_drain_ns = 60
    """)


def bad(text: str) -> PwmodelError:
    with pytest.raises(PwmodelError) as ei:
        SPEC.parse(textwrap.dedent(text), "spec.toml")
    return ei.value


def test_good_spec_axes_ordered_and_ranges_expanded():
    sp = SPEC.parse(GOOD, "spec.toml")
    # structural axes, then wake-shaping parameters, then others, n_cpus last
    assert list(sp.axes) == ["machine", "isolation", "dirty_fraction", "remote_rate_hz", "n_cpus"]
    assert sp.axes["n_cpus"] == (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
    assert sp.axes["remote_rate_hz"] == (0.0, 25.0, 50.0, 75.0, 100.0)
    assert sp.n_points == 1 * 2 * 2 * 5 * 7
    assert sp.fixed == {"item_drain_ns": 60.0}
    assert sp.fingerprint() == SPEC.parse(GOOD).fingerprint()
    assert sp.replace(seed=3).fingerprint() != sp.fingerprint()


def test_unknown_axis_named_with_line():
    e = bad("""\
        [sweep]
        kind = "analytic"

        [axes]
        machine = ["intel-xeon-8375c-2s"]
        remote_rate = [1, 2]
        """)
    assert e.line == 6 and e.field == "axes.remote_rate" and e.file == "spec.toml"
    assert "remote_rate_hz" in e.message          # suggestion
    assert "spec.toml:6" in str(e)


def test_unknown_metric_named_with_line():
    e = bad("""\
        [sweep]
        metrics = ["requester_mean_ns",
                   "latency_ns"]
        [axes]
        machine = ["intel-xeon-8375c-2s"]
        """)
    assert e.line == 2 and e.field == "sweep.metrics" and "latency_ns" in e.message


@pytest.mark.parametrize("axis, value", [
    ("n_cpus", "[]"), ("isolation", "[]"), ("remote_rate_hz", "{ start = 1, stop = 10, num = 0 }"),
])
def test_empty_axis_refused(axis, value):
    e = bad(f"""\
        [axes]
        machine = ["intel-xeon-8375c-2s"]
        {axis} = {value}
        """)
    assert e.line == 3 and e.field == f"axes.{axis}" and "empty" in e.message


@pytest.mark.parametrize("line, field, expect", [
    ('n_cpus = ["many"]', "axes.n_cpus", "expected numbers"),
    ('machine = [1, 2]', "axes.machine", "strings"),
    ('isolation = "nohz"', "axes.isolation", "unknown isolation"),
    ('remote_rate_hz = -5', "axes.remote_rate_hz", "outside plausible bounds"),
    ('dirty_fraction = { start = 0, stop = 1 }', "axes.dirty_fraction", "num"),
    ('n_cpus = { start = 0, stop = 4, num = 3 }', "axes.n_cpus", ">= 1"),
])
def test_wrong_axis_types_and_values(line, field, expect):
    text = "[axes]\nmachine = [\"intel-xeon-8375c-2s\"]\n" + line + "\n"
    if line.startswith("machine"):
        text = "[axes]\n" + line + "\n"
    e = bad(text)
    assert e.field == field and expect in e.message
    assert e.line == text.splitlines().index(line) + 1


@pytest.mark.parametrize("key, value, expect", [
    ("chunk_points", '"big"', "expected int"),
    ("seed", "1.5", "expected int"),
    ("kind", '"exact"', "unknown kind"),
    ("quantiles", "[1.5]", "(0, 1)"),
    ("colour", '"red"', "unknown key"),
    ("chunk_points", "0", ">= 1"),
])
def test_wrong_sweep_keys(key, value, expect):
    e = bad(f"""\
        [sweep]
        name = "x"
        {key} = {value}
        [axes]
        machine = ["intel-xeon-8375c-2s"]
        """)
    assert e.line == 3 and e.field == f"sweep.{key}" and expect in e.message


def test_fixed_and_structure_errors():
    e = bad("""\
        [axes]
        machine = ["intel-xeon-8375c-2s"]
        [fixed]
        item_drain = 60
        """)
    assert e.line == 4 and e.field == "fixed.item_drain"
    e = bad("""\
        [axes]
        n_cpus = [1, 2]
        """)
    assert "machine" in e.message and e.line == 1
    e = bad("""\
        [axes]
        machine = ["intel-xeon-8375c-2s"]
        [extra]
        a = 1
        """)
    assert e.line == 3 and "unknown table" in e.message
    e = bad("""\
        [sweep]
        kind = "montecarlo"
        [axes]
        machine = ["intel-xeon-8375c-2s"]
        """)
    assert "seed" in e.message


def test_invalid_toml_reports_line():
    e = bad("""\
        [axes]
        machine = ["intel-xeon-8375c-2s"
        n_cpus = [1]
        """)
    assert e.line is not None and e.file == "spec.toml"


def test_bundled_example_specs_parse():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "sweeps"
    specs = sorted(root.glob("*.toml"))
    assert specs, "example sweep scripts missing"
    for p in specs:
        sp = SPEC.load(p)
        assert sp.n_points >= 1
        assert p.read_text().lstrip().startswith("#")    # each says what it answers
