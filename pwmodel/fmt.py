"""One number formatter for everything a reader sees: cover letter, CLI text, notebooks, explorer.

Rules (the same everywhere, plain ASCII so the text pastes into a mail):

* durations (ns inside) in engineering units ns / us / ms / s with 3 significant
  digits: ``time_ns(155256.35625) == '155 us'``;
* CPU counts as integers (``cpus(867719.04) == '867719'``), CPU shares as
  percentages with 3 significant digits;
* ratios to 3 significant digits (``'x3.48'``); a ratio against 0 is not a
  number and prints as ``'no ratio (one is 0)'``;
* rates in Hz / kHz / MHz with 3 significant digits;
* a crossover beyond the modelled range (``N_MAX`` = 1024 CPUs) prints as
  ``'> 1024'`` (long form: ``'> 1024 (RL faster at every size modelled)'``);
* nothing prints ``inf`` or ``nan``: an unbounded value says 'unbounded', an
  undefined one says what is missing.

:func:`frame` applies the same rules to a polars frame by column suffix
(``_ns``, ``_cpus``, ``_hz``, ``_share``, ``ratio``), dropping the unit from
the column name because it moves into the cell.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:      # polars is imported where a frame is formatted
    import polars as pl

N_MAX = 1024            # largest CPU count the tables and verdicts model
UNBOUNDED = "unbounded"
UNDEFINED = "undefined"



def sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits without an exponent for 1e-3 <= |x| < 1e6
    (trailing zeros dropped): 13.49 -> '13.5', 155256 -> '155256' at digits >= 6, else '155000'."""
    if math.isnan(x):
        return UNDEFINED
    if math.isinf(x):
        return UNBOUNDED if x > 0 else "-" + UNBOUNDED
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    dec = max(digits - 1 - mag, 0)
    r = round(x, dec)
    if r != 0 and math.floor(math.log10(abs(r))) > mag:      # 9.996 -> 10.0: one digit fewer
        dec = max(dec - 1, 0)
        r = round(x, dec)
    if dec == 0:
        r = round(x, digits - 1 - mag) if digits - 1 - mag < 0 else r
        s = f"{r:.0f}"
    else:
        s = f"{r:.{dec}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


# (upper bound ns, scale, decimals, unit): 3 significant digits in engineering units
_TIME_STEPS = ((10.0, 1.0, 2, "ns"), (100.0, 1.0, 1, "ns"), (1e3, 1.0, 0, "ns"),
               (1e4, 1e3, 2, "us"), (1e5, 1e3, 1, "us"), (1e6, 1e3, 0, "us"),
               (1e7, 1e6, 2, "ms"), (1e8, 1e6, 1, "ms"), (1e9, 1e6, 0, "ms"),
               (1e10, 1e9, 2, "s"), (1e11, 1e9, 1, "s"), (math.inf, 1e9, 0, "s"))


def time_unit(value_ns: float) -> tuple[float, int, str]:
    """(scale, decimals, unit) that print a duration in ns with 3 significant digits.

    The step is chosen after rounding, so 999.7 ns prints as '1.00 us', not '1000 ns'."""
    if not math.isfinite(value_ns):
        return 1.0, 0, ""
    if value_ns == 0:
        return 1.0, 0, "ns"
    a = abs(value_ns)
    for hi, scale, dec, unit in _TIME_STEPS:
        if round(a / scale, dec) * scale < hi:
            return scale, dec, unit
    return 1e9, 0, "s"  # pragma: no cover


def time_ns(x: float) -> str:
    """A duration given in ns: '409 ns', '3.57 us', '1.51 ms', '0.95 s'; 'unbounded' for +inf."""
    x = float(x)
    return number(x, "time")


def _sig_decimals(v: float, digits: int = 3) -> int:
    """Decimals that print ``v`` with ``digits`` significant digits (after rounding)."""
    if v == 0 or not math.isfinite(v):
        return 0
    dec = max(digits - 1 - math.floor(math.log10(abs(v))), 0)
    r = round(abs(v), dec)
    if r > 0 and math.floor(math.log10(r)) > math.floor(math.log10(abs(v))):
        dec = max(dec - 1, 0)
    return dec


_RATE_STEPS = ((1e3, 1.0, "Hz"), (1e6, 1e3, "kHz"), (math.inf, 1e6, "MHz"))


def parts(x: float, kind: str) -> tuple[float, int, str]:
    """(scale, decimals, unit suffix) of ``x`` printed as ``kind``: every formatted number
    is ``f"{x / scale:.{decimals}f}" + suffix`` (the report's Recorder relies on it).

    kinds: time (ns in), rate (Hz in), cpus (a count), share (1 = one CPU), load (CPUs'
    worth of time), plain (3 significant digits)."""
    x = float(x)
    if kind == "time":
        scale, dec, unit = time_unit(x)
        return scale, dec, f" {unit}"
    if kind == "rate":
        if x == 0 or not math.isfinite(x):
            return 1.0, 0, " Hz"
        for hi, scale, unit in _RATE_STEPS:
            dec = _sig_decimals(x / scale)
            if round(abs(x) / scale, dec) * scale < hi:
                return scale, dec, f" {unit}"
        return 1e6, _sig_decimals(x / 1e6), " MHz"  # pragma: no cover
    if kind == "cpus":
        return 1.0, 0, ""
    if kind == "share":
        return 0.01, _sig_decimals(100 * x), " %"
    if kind == "load":
        return 1.0, _sig_decimals(x), " CPUs"
    if kind == "plain":
        return 1.0, _sig_decimals(x), ""
    raise ValueError(f"unknown number kind '{kind}'")


def number(x: float, kind: str) -> str:
    """``x`` printed as ``kind`` (see :func:`parts`); 'unbounded' / 'undefined' if not finite."""
    x = float(x)
    if not math.isfinite(x):
        return sig(x)
    scale, dec, suffix = parts(x, kind)
    s = f"{x / scale:.{dec}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s + suffix


def rate_hz(x: float) -> str:
    """A rate given in Hz: '2.25 kHz'."""
    return number(x, "rate")


def cpus(x: float) -> str:
    """A CPU count as an integer: '13'."""
    return number(x, "cpus")


def share(x: float) -> str:
    """A share of one CPU (1 = a whole CPU) as a percentage: '0.762 %'."""
    return number(x, "share")


def ratio(x: float, digits: int = 3) -> str:
    """A worse/better ratio: 'x3.48'; 'no ratio (one is 0)' for inf, 'undefined' for nan."""
    x = float(x)
    if math.isnan(x):
        return UNDEFINED
    if math.isinf(x):
        return "no ratio (one is 0)"
    return "x" + sig(x, digits)


def ratio_of(worse: float, better: float, digits: int = 3) -> str:
    """The ratio of two values of one quantity, worse over better, formatted."""
    lo, hi = min(worse, better), max(worse, better)
    if math.isnan(lo) or math.isnan(hi):
        return UNDEFINED
    if math.isinf(hi):
        return UNBOUNDED
    if lo <= 0:
        return "no ratio (one is 0)"
    return ratio(hi / lo, digits)


def crossover(n: float, below: str = "RL", above: str = "QW", n_max: int = N_MAX,
              long: bool = False) -> str:
    """A crossover CPU count as a reader should see it.

    ``n``: the crossover (nan: none, the same strategy wins at both ends; inf:
    unbounded, QW never completes). Short forms: '13', '> 1024', 'none'.
    Long forms add who wins: '> 1024 (RL faster at every size modelled)'.
    """
    n = float(n)
    if math.isinf(n):
        return "none" + (f" ({below} faster at every size: QW never completes)" if long else "")
    if math.isnan(n):
        win = below if below == above else f"{below}/{above}"
        return "none" + (f" ({win} faster at every size modelled)" if long else "")
    if n > n_max:
        return f"> {n_max}" + (f" ({below} faster at every size modelled)" if long else "")
    s = cpus(n)
    if long:
        s += f" CPUs ({below} faster below, {above} above)"
    return s


def value(x: float, column: str) -> str:
    """Format ``x`` by the unit suffix of ``column`` (``_ns``, ``_cpus``, ``_hz``, ``_share``,
    ``ratio``, ``_cycles``); other floats to 3 significant digits."""
    if x is None:
        return "-"
    x = float(x)
    c = column.lower()
    if c.endswith("_ns"):
        return time_ns(x)
    if c.endswith("n_cpus") or c == "n" or c.endswith("_n"):
        return cpus(x)
    if c.endswith("_cpus"):                     # a load in CPUs' worth of time
        return number(x, "load")
    if c.endswith("_hz"):
        return rate_hz(x)
    if c.endswith("_share"):
        return share(x)
    if c.endswith("ratio"):
        return ratio(x)
    return sig(x)


def strip_unit(column: str) -> str:
    """'qw_requester_mean_ns' -> 'qw_requester_mean' (the unit moves into the cell)."""
    for suf in ("_ns", "_hz", "_share"):
        if column.endswith(suf):
            return column[: -len(suf)]
    if column.endswith("_cpus") and not column.endswith("n_cpus"):
        return column[: -len("_cpus")]
    return column


def frame(df: pl.DataFrame, keep: Iterable[str] = ()) -> pl.DataFrame:
    """``df`` with every float column formatted as text by its unit (columns in ``keep``
    stay numbers, e.g. raw data); unit suffixes move from the names into the cells."""
    import polars as pl
    keep = set(keep)
    cols = []
    for name, dtype in df.schema.items():
        if name in keep or not (dtype.is_float() or (dtype.is_integer() and name.endswith("_ns"))):
            cols.append(pl.col(name))
            continue
        vals = [value(v, name) if v is not None else "-" for v in df[name].to_list()]
        cols.append(pl.Series(strip_unit(name), vals, dtype=pl.Utf8))
    return df.select([c for c in cols]) if cols else df


__all__ = ["N_MAX", "sig", "time_unit", "parts", "number", "time_ns", "rate_hz", "cpus", "share", "ratio", "ratio_of",
           "crossover", "value", "strip_unit", "frame"]
