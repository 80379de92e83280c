"""Validated domain: does a condition lie where the closed forms agree with the simulator?

The domain is read from ``docs/validation/domain.json`` (``$PWMODEL_VALIDATION`` points
elsewhere), written by ``pwmodel validate`` from its long table (:func:`index`): per machine,
call site, dirty-count convention and isolation, one verdict code per (rate level, N,
strategy, metric) of the grid. It is a small JSON file, loaded once per process and kept, so
that ``pwmodel decide`` pays a few milliseconds for its flags.

A number (machine, call site, isolation, rates, N, metric, strategy, convention) is inside
the validated domain when every grid point it rests on was compared and agreed:

* machine and call site: bundled ones that the table holds, with the profile's own
  preemption model, the default configurations, no fitted wake-up distribution and no
  parameter changed except the two rates;
* rates (local_rate_hz, remote_rate_hz): a rate level of the grid (the index's ``rates``) when
  they equal it; between the levels (each rate inside the range the levels span) both
  levels; outside that range, nowhere;
* N: the grid point when N is one, else the two grid points bracketing N; beyond the
  largest N of the grid, nowhere;
* the metric: the objective's own comparison; ``cpu_load`` rests on ``cpu_time`` (it adds
  the fast-path tax times the operation rate); ``fastpath_tax`` is the fast path's cost
  per operation, which the fan-out simulator does not produce: never inside.

:func:`check` answers for one number; :func:`for_scenario` gives a :class:`Domain` that
answers for many; every answer carries the reason when outside. :data:`MARK` is the text
marker (:data:`ASCII_MARK` in the ASCII report) and :func:`footnote` the text under a table
that uses it.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

MARK = "\u2020"    # dagger, in `pwmodel decide`
ASCII_MARK = "?"    # in the ASCII report (where '*' already marks other things)
RATE_NAMES = ("local_rate_hz", "remote_rate_hz")
DERIVED = {"cpu_load": "cpu_time"}          # objective -> the comparison it rests on
NOT_SIMULATED = ("fastpath_tax",)
RULE = ("inside when every grid point the number rests on was compared with the simulator "
        "and agreed: the rate level it equals, or both levels when its rates lie between them; "
        "the grid N it equals, or the two bracketing it; bundled machine and call site with "
        "their own parameters except the rates")
FORMAT = "pwmodel-validation-domain"
# one character per (rate level, N, strategy, metric): agrees, disagrees, or why not compared
CODES = {"agree": "y", "disagree": "n", "absent": "a", "not simulated": "s", "no analytic": "x",
         "missing": "-"}
_STATUS = {v: k for k, v in CODES.items()}


@dataclass(frozen=True)
class Flag:
    """Whether one number is inside the validated domain, and why not when it is not."""

    validated: bool
    reason: str = ""


def path() -> Path:
    """The index: ``$PWMODEL_VALIDATION`` or ``docs/validation/domain.json``."""
    env = os.environ.get("PWMODEL_VALIDATION")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "docs" / "validation" / "domain.json"


def index(table) -> dict:
    """The domain index of a long validation table (``pwmodel.simulate.validate`` rows)."""
    import polars as pl
    axes = {"rate_levels": sorted(set(table["rate_level"])),
            "n_cpus": sorted(int(n) for n in set(table["n_cpus"])),
            "strategies": sorted(set(table["strategy"])),
            "metrics": sorted(set(table["metric"]))}
    pos = {}
    for i, lvl in enumerate(axes["rate_levels"]):
        for j, n in enumerate(axes["n_cpus"]):
            for k, st in enumerate(axes["strategies"]):
                for m, met in enumerate(axes["metrics"]):
                    pos[(lvl, n, st, met)] = len(pos)
    cells: dict[str, list[str]] = {}
    t = table.with_columns(
        pl.when(pl.col("status") == "compared")
        .then(pl.when(pl.col("ok")).then(pl.lit("agree")).otherwise(pl.lit("disagree")))
        .otherwise(pl.col("status")).alias("_v"))
    for r in t.select("machine", "callsite", "convention", "isolation", "rate_level", "n_cpus",
                      "strategy", "metric", "_v").iter_rows():
        key = "|".join(r[:4])
        codes = cells.setdefault(key, [CODES["missing"]] * len(pos))
        codes[pos[(r[4], int(r[5]), r[6], r[7])]] = CODES[r[8]]
    from pwmodel.simulate.validate import RATES
    return {"format": FORMAT, "version": 1, "rates": {k: RATES[k] for k in axes["rate_levels"]
                                                       if k in RATES},
            **axes, "cells": {k: "".join(v) for k, v in sorted(cells.items())}}


def entries(idx: dict):
    """Every (machine, call site, convention, isolation, rate level, N, strategy, metric,
    status) of an index, status as in the long table ('agree' and 'disagree' for compared)."""
    levels, ns, strats, metrics = idx["rate_levels"], idx["n_cpus"], idx["strategies"], idx["metrics"]
    combos = [(lvl, n, st, m) for lvl in levels for n in ns for st in strats for m in metrics]
    for key, codes in idx["cells"].items():
        head = tuple(key.split("|"))
        for combo, c in zip(combos, codes):
            yield (*head, *combo, _STATUS[c])


def dumps(idx: dict) -> str:
    """The index as JSON text, one cell per line (so that a change shows as a line)."""
    head = {k: v for k, v in idx.items() if k != "cells"}
    lines = [json.dumps(head)[:-1] + ', "cells": {']
    items = list(idx["cells"].items())
    for i, (k, v) in enumerate(items):
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)}" + ("," if i < len(items) - 1 else ""))
    return "\n".join(lines) + "\n}}\n"


@functools.lru_cache(maxsize=4)
def _load(p: str) -> dict | None:
    from pwmodel.errors import PwmodelError
    try:
        with open(p, encoding="utf-8") as f:
            idx = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise PwmodelError(f"cannot read the validation domain: {str(e)[:200]}", file=p) from None
    if not isinstance(idx, dict) or idx.get("format") != FORMAT:
        raise PwmodelError(f"not a validation domain (format '{FORMAT}' expected)", file=p,
                           field="format")
    return idx


def table() -> dict | None:
    """The domain index (loaded once), or None when there is none."""
    return _load(str(path()))


class Domain:
    """The verdicts of one (machine, call site, convention, isolation) and the rule."""

    def __init__(self, idx: dict | None, key: str, local_rate_hz: float, remote_rate_hz: float,
                 outside: str = "") -> None:
        self.outside = outside
        self.codes = ""
        self.ns: list[int] = []
        if idx is not None and not outside:
            self.codes = idx["cells"].get(key, "")
            if not self.codes:
                m, cs, conv, iso = key.split("|")
                self.outside = f"no validation of {m} / {cs} / {iso} ({conv} dirty count)"
            self.ns = list(idx["n_cpus"])
            self.axes = (list(idx["rate_levels"]), self.ns, list(idx["strategies"]),
                         list(idx["metrics"]))
        self.levels, why = _levels(local_rate_hz, remote_rate_hz,
                                   idx["rates"] if idx is not None else {})
        if why and not self.outside:
            self.outside = why

    def _code(self, lvl: str, n: int, strategy: str, metric: str) -> str:
        levels, ns, strats, metrics = self.axes
        if lvl not in levels or strategy not in strats or metric not in metrics:
            return CODES["missing"]
        i = ((levels.index(lvl) * len(ns) + ns.index(n)) * len(strats)
             + strats.index(strategy)) * len(metrics) + metrics.index(metric)
        return self.codes[i]

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
        i = next(k for k, g in enumerate(self.ns) if g >= n)
        points = [self.ns[i]] if self.ns[i] == n else [self.ns[i - 1], self.ns[i]]
        for lvl in self.levels:
            for p in points:
                c = self._code(lvl, p, strategy, obj + "_ns")
                if c == CODES["disagree"]:
                    return Flag(False, f"{strategy} {obj} disagrees with the simulator at "
                                       f"N = {p}, {lvl} rates")
                if c != CODES["agree"]:
                    return Flag(False, f"{strategy} {obj} not compared at N = {p}, {lvl} rates "
                                       f"({_STATUS.get(c, 'missing')})")
        return Flag(True)


def _levels(local_hz: float, remote_hz: float, rates: dict) -> tuple[tuple[str, ...], str]:
    """The rate levels (``rates``: level -> rates) a condition rests on, or why none."""
    if not rates:
        return (), "no rate levels in the validation domain"
    for lvl, r in rates.items():
        if math.isclose(local_hz, r["local_rate_hz"], rel_tol=1e-9) and \
                math.isclose(remote_hz, r["remote_rate_hz"], rel_tol=1e-9):
            return (lvl,), ""
    lo = {k: min(r[k] for r in rates.values()) for k in RATE_NAMES}
    hi = {k: max(r[k] for r in rates.values()) for k in RATE_NAMES}
    for k, x in zip(RATE_NAMES, (local_hz, remote_hz)):
        if not lo[k] <= x <= hi[k]:
            return (), f"{k} = {x:g} outside the validated {lo[k]:g} .. {hi[k]:g}"
    return tuple(rates), ""


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
    """The validated domain of a Scenario's grid cell (``tab``: a domain index or a long
    validation table; default :func:`table`)."""
    if tab is not None and not isinstance(tab, dict):
        tab = index(tab)
    tab = table() if tab is None else tab
    ps = sc.params()
    loc, rem = float(ps["local_rate_hz"]), float(ps["remote_rate_hz"])
    key = "|".join((sc.machine.name, str(sc.callsite_name), _convention(sc), sc.isolation))
    if tab is None:
        return Domain(None, key, loc, rem, outside=f"no validation domain ({path()})")
    return Domain(tab, key, loc, rem, outside=_outside_grid(sc))


def check(sc, strategy: str, metric: str, n_cpus: float, tab=None) -> Flag:
    """One number: ``strategy``'s ``metric`` (objective or column name) at ``n_cpus``."""
    return for_scenario(sc, tab).check(strategy, metric, n_cpus)


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
