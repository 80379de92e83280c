"""The one number formatter: engineering units, 3 significant digits, no raw inf/nan."""

from __future__ import annotations

import math
import re

import numpy as np
import polars as pl
import pytest

from pwmodel import fmt

SIG = re.compile(r"\d+\.\d+|\d+")


def _sig_digits(s: str) -> int:
    """Significant digits of the number in a printed value ('0.0123' -> 3, '950' -> 3)."""
    m = SIG.search(s)
    assert m, s
    digits = m.group().replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in m.group() else len(digits)


@pytest.mark.parametrize("x, want", [
    (0.0, "0 ns"), (3.456, "3.46 ns"), (409.2, "409 ns"), (999.7, "1.00 us"),
    (3570.0, "3.57 us"), (155256.35625, "155 us"), (1.51e6, "1.51 ms"), (9.5006e8, "950 ms"),
    (2.5e9, "2.50 s"), (math.inf, "unbounded"), (math.nan, "undefined"),
])
def test_time_in_engineering_units(x, want):
    assert fmt.time_ns(x) == want


def test_time_has_three_significant_digits_and_unit_boundaries_round_up():
    rng = np.random.default_rng(1)
    for x in 10 ** rng.uniform(-1, 11, 2000):
        s = fmt.time_ns(float(x))
        num, unit = s.split()
        assert unit in ("ns", "us", "ms", "s")
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
        # the printed value is within half a unit of the last digit, and below the next unit
        dec = len(num.split(".")[1]) if "." in num else 0
        assert abs(float(num) * scale - x) <= 0.5 * 10 ** -dec * scale * (1 + 1e-9)
        assert float(num) < 1000 or unit == "s"
        assert _sig_digits(num) <= 3 or unit == "s"


def test_cpus_integers_ratios_and_rates():
    assert fmt.cpus(867719.039793) == "867719"
    assert fmt.cpus(13.49) == "13"
    assert fmt.ratio(3.4812) == "x3.48"
    assert fmt.ratio(math.inf) == "no ratio (one is 0)"
    assert fmt.ratio_of(0.0, 0.01) == "no ratio (one is 0)"
    assert fmt.ratio_of(2.0, 8.0) == "x4"
    assert fmt.ratio_of(math.inf, 8.0) == "unbounded"
    assert fmt.rate_hz(2245.3) == "2.25 kHz"
    assert fmt.share(0.00762) == "0.762 %"


@pytest.mark.parametrize("n, below, above, short, long", [
    (13.49, "RL", "QW", "13", "13 CPUs (RL faster below, QW above)"),
    (13929.0, "RL", "QW", "> 1024", "> 1024 (RL faster at every size modelled)"),
    (math.inf, "RL", "RL", "none", "none (RL faster at every size: QW never completes)"),
    (math.nan, "QW", "QW", "none", "none (QW faster at every size modelled)"),
])
def test_crossover_forms(n, below, above, short, long):
    assert fmt.crossover(n, below, above) == short
    assert fmt.crossover(n, below, above, long=True) == long


def test_frame_formats_by_unit_and_never_prints_inf_or_nan():
    df = pl.DataFrame({"n_cpus": [1, 2], "qw_requester_mean_ns": [155256.35625, math.inf],
                       "cpu_load_cpus": [0.0972961, math.nan], "ratio": [1.2345, math.inf],
                       "raw": [1.23456789, 2.0]})
    out = fmt.frame(df, keep=["raw"])
    assert out.columns == ["n_cpus", "qw_requester_mean", "cpu_load", "ratio", "raw"]
    assert out["qw_requester_mean"].to_list() == ["155 us", "unbounded"]
    assert out["cpu_load"].to_list() == ["0.0973 CPUs", "undefined"]
    assert out["ratio"].to_list() == ["x1.23", "no ratio (one is 0)"]
    assert out["raw"].dtype == pl.Float64
    text = " ".join(str(v) for c in out.columns[:-1] for v in out[c].to_list())
    assert not re.search(r"\b(inf|nan)\b", text, re.I)
