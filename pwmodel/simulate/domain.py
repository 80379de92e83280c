"""Validated domain: does a condition lie where the closed forms agree with the simulator?

The domain is read from the long validation table committed in ``docs/validation/``
(``domain.parquet``: the ``pwmodel validate`` rows, one per machine, call site,
dirty-count convention, isolation, rate level, N, strategy and metric, with ``status`` and
``ok``; ``$PWMODEL_VALIDATION`` points elsewhere). It is loaded once per process and kept.

A number (machine, call site, isolation, rates, N, metric, strategy, convention) is inside
the validated domain when every grid point it rests on was compared and agreed:

* machine and call site: bundled ones that the table holds, with the profile's own
  preemption model, the default configurations, no fitted wake-up distribution and no
  parameter changed except the two rates;
* rates (local_rate_hz, remote_rate_hz): a rate level of the grid (:data:`RATES`) when they
  equal it; between the levels (each rate inside the range the levels span) both levels;
  outside that range, nowhere;
* N: the grid point when N is one, else the two grid points bracketing N; beyond the
  largest N of the grid, nowhere;
* the metric: the objective's own comparison; ``cpu_load`` rests on ``cpu_time`` (it adds
  the fast-path tax times the operation rate); ``fastpath_tax`` is the fast path's cost
  per operation, which the fan-out simulator does not produce: never inside.

:func:`check` answers for one number; :func:`flags` for a strategy at many CPU counts;
every answer carries the reason when outside. :data:`MARK` is the text marker and
:func:`footnote` the text under a table that uses it.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from pwmodel.simulate.validate import RATES

MARK = "\u2020"    # dagger, in `pwmodel decide`
ASCII_MARK = "*"    # in the ASCII report
RATE_NAMES = ("local_rate_hz", "remote_rate_hz")
DERIVED = {"cpu_load": "cpu_time"}          # objective -> the comparison it rests on
NOT_SIMULATED = ("fastpath_tax",)
RULE = ("inside when every grid point the number rests on was compared with the simulator "
        "and agreed: the rate level it equals, or both levels when its rates lie between them; "
        "the grid N it equals, or the two bracketing it; bundled machine and call site with "
        "their own parameters except the rates")
_COLUMNS = ("machine", "callsite", "convention", "isolation", "rate_level", "n_cpus", "strategy",
            "metric", "status", "ok")


@dataclass(frozen=True)
class Flag:
    """Whether one number is inside the validated domain, and why not when it is not."""

    validated: bool
    reason: str = ""


def path() -> Path:
    """The table: ``$PWMODEL_VALIDATION`` or ``docs/validation/domain.parquet``."""
    env = os.environ.get("PWMODEL_VALIDATION")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "docs" / "validation" / "domain.parquet"


@functools.lru_cache(maxsize=4)
def _load(p: str):
    import polars as pl
    from pwmodel.errors import PwmodelError
    try:
        t = pl.read_parquet(p, columns=list(_COLUMNS))
    except FileNotFoundError:
        return None
    except (pl.exceptions.PolarsError, OSError) as e:
        raise PwmodelError(f"cannot read the validation table: {str(e).splitlines()[0][:200]}",
                           file=p) from None
    return t


def table():
    """The validation table (a polars frame, loaded once), or None when there is none."""
    return _load(str(path()))


class Domain:
    """The rows of one (machine, call site, convention, isolation) as a lookup, and the rule."""

    def __init__(self, rows, machine: str, callsite: str, convention: str, isolation: str,
                 local_rate_hz: float, remote_rate_hz: float, outside: str = "") -> None:
        self.outside = outside
        self.cell: dict[tuple[str, int, str, str], tuple[str, bool | None]] = {}
        self.ns: list[int] = []
        if rows is not None and not outside:
            if rows.height == 0:
                self.outside = (f"no validation of {machine} / {callsite} / {isolation} "
                                f"({convention} dirty count)")
            else:
                for lvl, n, s, m, st, ok in rows.select("rate_level", "n_cpus", "strategy", "metric",
                                                        "status", "ok").iter_rows():
                    self.cell[(lvl, int(n), s, m)] = (st, ok)
                self.ns = sorted({k[1] for k in self.cell})
        self.levels, why = _levels(local_rate_hz, remote_rate_hz)
        if why and not self.outside:
            self.outside = why

    def check(self, strategy: str, metric: str, n_cpus: float) -> Flag:
        if self.outside:
            return Flag(False, self.outside)
        obj = metric.removesuffix("_ns").removesuffix("_cpus")
        if obj in NOT_SIMULATED:
            return Flag(False, f"{obj} is the fast path's cost per operation, not a fan-out "
                               f"form: the simulator does not check it")
        obj = DERIVED.get(obj, obj)
        n = float(n_cpus)
        if not math.isfinite(n) or n < 1:
            return Flag(False, f"N = {n_cpus} is not a CPU count")
        if n < self.ns[0]:
            return Flag(False, f"N = {n:g} below the smallest validated N = {self.ns[0]}")
        if n > self.ns[-1]:
            return Flag(False, f"N = {n:g} beyond the largest validated N = {self.ns[-1]}")
        i = int(np.searchsorted(self.ns, n))
        points = [self.ns[i]] if self.ns[i] == n else [self.ns[i - 1], self.ns[i]]
        for lvl in self.levels:
            for p in points:
                st, ok = self.cell.get((lvl, p, strategy, obj + "_ns"), ("missing", None))
                if st != "compared":
                    return Flag(False, f"{strategy} {obj} not compared at N = {p}, {lvl} rates "
                                       f"({st})")
                if not ok:
                    return Flag(False, f"{strategy} {obj} disagrees with the simulator at "
                                       f"N = {p}, {lvl} rates")
        return Flag(True)


def _levels(local_hz: float, remote_hz: float) -> tuple[tuple[str, ...], str]:
    """The rate levels a condition rests on, or why it rests on none."""
    for lvl, r in RATES.items():
        if math.isclose(local_hz, r["local_rate_hz"], rel_tol=1e-9) and \
                math.isclose(remote_hz, r["remote_rate_hz"], rel_tol=1e-9):
            return (lvl,), ""
    lo = {k: min(r[k] for r in RATES.values()) for k in RATE_NAMES}
    hi = {k: max(r[k] for r in RATES.values()) for k in RATE_NAMES}
    for k, x in zip(RATE_NAMES, (local_hz, remote_hz)):
        if not lo[k] <= x <= hi[k]:
            return (), f"{k} = {x:g} outside the validated {lo[k]:g} .. {hi[k]:g}"
    return tuple(RATES), ""


def _convention(sc) -> str:
    for name in ("dirty_count", "dirty"):
        v = getattr(sc, name, None)
        if isinstance(v, str):
            return v
    return "binomial"


def _outside_grid(sc) -> str:
    """Why a scenario is not one the grid covers (beyond rates and N), or ''."""
    from pwmodel import machine as M
    from pwmodel.models import callsite as CS
    name = sc.machine.name
    if name not in M.bundled_names() or sc.machine != M.get(name):
        return f"machine {name} is not a bundled profile"
    if str(sc.callsite) not in CS.bundled_names():
        return f"call site {sc.callsite} is not a bundled call site"
    if sc.preempt != sc.machine.preempt_model:
        return (f"preemption model {sc.preempt} (validated: the profile's "
                f"{sc.machine.preempt_model})")
    if sc.qw_config is not None or sc.rl_config is not None:
        return "configurations other than the defaults"
    if sc.wake is not None:
        return "a fitted wake-up distribution (validated: the profiles' wake-up models)"
    changed = sorted(k for k in (sc.overrides or {}) if k not in RATE_NAMES)
    if changed:
        return "parameters changed from the validated values: " + ", ".join(changed)
    return ""


def for_scenario(sc, tab=None) -> Domain:
    """The validated domain of a Scenario's grid cell (``tab``: a table, default :func:`table`)."""
    tab = table() if tab is None else tab
    ps = sc.params()
    loc, rem = float(ps["local_rate_hz"]), float(ps["remote_rate_hz"])
    conv = _convention(sc)
    if tab is None:
        return Domain(None, sc.machine.name, str(sc.callsite), conv, sc.isolation, loc, rem,
                      outside=f"no validation table ({path()})")
    why = _outside_grid(sc)
    if why:
        return Domain(None, sc.machine.name, str(sc.callsite), conv, sc.isolation, loc, rem,
                      outside=why)
    import polars as pl
    rows = tab.filter((pl.col("machine") == sc.machine.name) & (pl.col("callsite") == sc.callsite_name)
                      & (pl.col("convention") == conv) & (pl.col("isolation") == sc.isolation))
    return Domain(rows, sc.machine.name, sc.callsite_name, conv, sc.isolation, loc, rem)


def check(sc, strategy: str, metric: str, n_cpus: float, tab=None) -> Flag:
    """One number: ``strategy``'s ``metric`` (objective or column name) at ``n_cpus``."""
    return for_scenario(sc, tab).check(strategy, metric, n_cpus)


def flags(sc, strategy: str, metric: str, n_cpus: Sequence[float], tab=None) -> list[Flag]:
    """:func:`check` at each CPU count."""
    d = for_scenario(sc, tab)
    return [d.check(strategy, metric, n) for n in n_cpus]


def footnote(reasons: Sequence[str], ascii: bool = False, shown: int = 6) -> str:
    """The text under a table whose numbers carry :data:`MARK` (:data:`ASCII_MARK` with
    ``ascii``): what it means and why (the first ``shown`` distinct reasons)."""
    uniq = list(dict.fromkeys(r for r in reasons if r))
    head = (f"{ASCII_MARK if ascii else MARK} outside the validated domain "
            "(pwmodel.simulate.domain; docs/validity.md): the closed form was not checked "
            "against the simulator there, or disagrees")
    if not uniq:
        return head
    more = f"; and {len(uniq) - shown} more" if len(uniq) > shown else ""
    return head + ": " + "; ".join(uniq[:shown]) + more
