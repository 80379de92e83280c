"""Plain-text building blocks: recorded numbers, ASCII tables, text bar charts, wrapping.

Every number the report prints goes through a :class:`Recorder`, which keeps
``(printed, value, scale, decimals)`` together with the function call that
produced the value, so a test can call it again and check the printed text
at its stated rounding. Report inputs that are not model values (CPU counts
of a table, operation rates chosen for an example) are registered as
literals. Lines that quote provenance text start with :data:`QUOTE`; the
reproducing command starts with :data:`COMMAND`; neither is checked for
numbers.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from typing import Callable, Sequence

from pwmodel.errors import PwmodelError
from pwmodel.fmt import time_unit

WIDTH = 72
NUMBER = re.compile(r"(?<![\w.=])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.])")
QUOTE = "    | "
COMMAND = "  $ "


@dataclass(frozen=True)
class Num:
    """One printed number: ``printed == render(value, scale, decimals)``."""

    printed: str
    value: float
    scale: float
    decimals: int
    fn: Callable[..., float]
    args: tuple

    def recompute(self) -> float:
        return float(self.fn(*self.args))


def render(value: float, scale: float = 1.0, decimals: int = 0) -> str:
    """``value / scale`` with ``decimals`` decimals; 'never' for +inf, 'none' for nan."""
    if math.isnan(value):
        return "none"
    if math.isinf(value):
        return "never" if value > 0 else "-never"
    s = f"{value / scale:.{decimals}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s


class Recorder:
    """Formats numbers and remembers where each came from."""

    def __init__(self) -> None:
        self.nums: list[Num] = []
        self.literals: set[str] = set()

    def put(self, value: float, fn: Callable[..., float], args: tuple,
            scale: float = 1.0, decimals: int = 0) -> str:
        """Record ``value`` (== ``fn(*args)``) and return it printed."""
        printed = render(float(value), scale, decimals)
        self.nums.append(Num(printed, float(value), scale, decimals, fn, tuple(args)))
        return printed

    def num(self, fn: Callable[..., float], *args: object, scale: float = 1.0,
            decimals: int = 0) -> str:
        """Call ``fn(*args)``, record and print it."""
        return self.put(float(fn(*args)), fn, args, scale, decimals)

    def time(self, fn: Callable[..., float], *args: object) -> str:
        """A duration in ns printed with a readable unit: '3.57 us'."""
        v = float(fn(*args))
        scale, dec, unit = time_unit(v)
        s = self.put(v, fn, args, scale, dec)
        return f"{s} {unit}".rstrip()

    def name(self, s: str) -> str:
        """A name (machine, file) whose digits are part of the name, not numbers."""
        self.literals.update(NUMBER.findall(s))
        return s

    def lit(self, x: object) -> str:
        """Register a report input (not a model value) printed as ``str(x)``."""
        s = x if isinstance(x, str) else (f"{x:g}" if isinstance(x, float) else str(x))
        self.literals.add(s)
        return s


# ---- layout ---------------------------------------------------------------------------
def check_lines(lines: Sequence[str]) -> None:
    """Refuse non-ASCII or over-long lines (a bug in the report builder)."""
    for i, ln in enumerate(lines, 1):
        if len(ln) > WIDTH:
            raise PwmodelError(f"report line {i} has {len(ln)} > {WIDTH} columns: {ln!r}")
        if not ln.isascii():
            raise PwmodelError(f"report line {i} is not ASCII: {ln!r}")


def wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=True)


def quote(text: str) -> list[str]:
    """Provenance text, wrapped and prefixed with :data:`QUOTE`."""
    safe = text.encode("ascii", "replace").decode("ascii")
    return textwrap.wrap(safe, WIDTH, initial_indent=QUOTE, subsequent_indent=QUOTE,
                         break_on_hyphens=False, break_long_words=True)


def heading(title: str, char: str = "-") -> list[str]:
    return ["", title, char * min(len(title), WIDTH)]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]],
          align: str | None = None, indent: str = "  ") -> list[str]:
    """Fixed-width table; ``align`` one letter per column (l/r), default l then r."""
    ncol = len(headers)
    align = align or ("l" + "r" * (ncol - 1))
    widths = [max(len(str(x)) for x in [headers[c]] + [r[c] for r in rows]) for c in range(ncol)]

    def fmt(cells: Sequence[str]) -> str:
        parts = [str(x).ljust(w) if a == "l" else str(x).rjust(w)
                 for x, w, a in zip(cells, widths, align)]
        return (indent + "  ".join(parts)).rstrip()
    out = [fmt(headers), (indent + "  ".join("-" * w for w in widths)).rstrip()]
    out += [fmt(r) for r in rows]
    check_lines(out)
    return out


def per_machine(rec: Recorder, machines: Sequence[str], first: str, keys: Sequence[str],
                cell: Callable[[str, str], str], per_table: int = 3, width: int = 15) -> list[str]:
    """Tables of ``cell(key, machine)`` with one row per key and ``per_table`` machine
    columns per table (machine names cut to ``width`` characters so the rows fit 72
    columns), each table after a blank line."""
    out: list[str] = []
    for start in range(0, len(machines), per_table):
        ms = machines[start:start + per_table]
        rows = [[k] + [cell(k, m) for m in ms] for k in keys]
        out += [""] + table([first] + [rec.name(m[:width]) for m in ms], rows)
    return out


def bar_chart(labels: Sequence[str], values: Sequence[float], printed: Sequence[str],
              *, log_floor: float | None = None, marks: Sequence[str] | None = None,
              width: int = 34, indent: str = "  ") -> list[str]:
    """Horizontal bars, linear or (``log_floor`` set) logarithmic from that floor.

    ``marks`` is one fill character per bar (e.g. 'Q' for QW, 'R' for RL)."""
    finite = [v for v in values if math.isfinite(v) and v > 0]
    if not finite:
        return []
    vmax = max(finite)
    lw = max(len(x) for x in labels)
    out = []
    for i, (lab, v, p) in enumerate(zip(labels, values, printed)):
        ch = marks[i] if marks else "#"
        if not math.isfinite(v):
            n = width
            tail = ">"
        elif log_floor is not None:
            lo = math.log10(log_floor)
            span = max(math.log10(vmax) - lo, 1e-12)
            n = int(round(width * max(math.log10(max(v, log_floor)) - lo, 0) / span))
            tail = ""
        else:
            n = int(round(width * v / vmax))
            tail = ""
        out.append(f"{indent}{lab.rjust(lw)} |{ch * n}{tail} {p}".rstrip())
    check_lines(out)
    return out
