"""Machine profile TOML: reading with field-by-field checking, and writing back.

Errors name the file and the field (or the TOML line); :func:`to_toml` output
round-trips through :func:`load`.

A profile file is complete or refused (a file cut short must not pass as a
machine with default costs):

* ``[topology]`` and ``[costs]`` are required tables;
* ``[costs]`` lists the machine's costs; registry parameters it does not list take
  the registry defaults (``pwmodel machine check`` names them). A ``[costs]`` table
  listing no cost must say so with ``defaults = "registry"``;
* idle states are required: ``[[idle_states]]`` tables, or ``idle_states = []`` to
  take the registry's idle exit latencies.
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from pwmodel import params as P
from pwmodel.errors import PwmodelError
from pwmodel.machine.profile import (ENUMERATIONS, FORMAT, PREEMPT_MODELS, VERSION, WAKE_LEVELS,
                                     WAKE_PARAMS, IdleState, Level, Machine)

_TOP_KEYS = {"format", "version", "name", "description", "cpu_model", "arch", "freq_hz",
             "freq_source", "hz", "preempt_model", "virtualised", "notes", "topology",
             "costs", "idle_states", "provenance", "wakeup"}
_LEVEL_KEYS = {"class", "size", "c2c_ns", "source"}
_IDLE_KEYS = {"name", "exit_latency_ns", "target_residency_ns", "source"}


def _need(d: Mapping[str, Any], key: str, kind: type | tuple, where: str, ctx: str) -> Any:
    if key not in d:
        raise PwmodelError(f"missing field '{ctx}{key}'", file=where, field=ctx + key)
    v = d[key]
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise PwmodelError(f"field '{ctx}{key}' must be {getattr(kind, '__name__', kind)}, "
                           f"found {v!r}", file=where, field=ctx + key)
    return v


def _positive(v: float, where: str, fieldname: str, allow_zero: bool = False) -> float:
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        what = "negative" if v < 0 else "non-finite" if not math.isfinite(v) else "zero"
        raise PwmodelError(f"{what} value {v!r} for '{fieldname}'", file=where, field=fieldname)
    return v


def _unknown(d: Mapping[str, Any], allowed: set[str], where: str, ctx: str) -> None:
    for k in d:
        if k not in allowed:
            import difflib
            close = difflib.get_close_matches(k, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PwmodelError(f"unknown field '{ctx}{k}'{hint}", file=where, field=ctx + k)


def from_dict(d: Mapping[str, Any], where: str = "<profile>") -> Machine:
    """Validate a parsed profile mapping and build a :class:`Machine`."""
    _unknown(d, _TOP_KEYS, where, "")
    if d.get("format") != FORMAT:
        raise PwmodelError(f"field 'format' must be '{FORMAT}', found {d.get('format')!r}",
                           file=where, field="format")
    ver = d.get("version")
    if ver != VERSION:
        raise PwmodelError(f"unsupported profile version {ver!r} (this pwmodel reads {VERSION})",
                           file=where, field="version")
    name = _need(d, "name", str, where, "")
    freq = _positive(_need(d, "freq_hz", float, where, ""), where, "freq_hz")
    hz = _need(d, "hz", int, where, "")
    if hz not in (100, 250, 300, 1000):
        raise PwmodelError(f"field 'hz' must be one of 100, 250, 300, 1000, found {hz}",
                           file=where, field="hz")
    pm = _need(d, "preempt_model", str, where, "")
    if pm not in PREEMPT_MODELS:
        raise PwmodelError(f"field 'preempt_model' must be one of {', '.join(PREEMPT_MODELS)}, "
                           f"found {pm!r}", file=where, field="preempt_model")
    topo = _need(d, "topology", dict, where, "")
    _unknown(topo, {"enumeration", "levels", "cpu_units"}, where, "topology.")
    enum = _need(topo, "enumeration", str, where, "topology.")
    if enum not in ENUMERATIONS:
        raise PwmodelError(f"field 'topology.enumeration' must be one of {', '.join(ENUMERATIONS)}, "
                           f"found {enum!r}", file=where, field="topology.enumeration")
    raw_levels = _need(topo, "levels", list, where, "topology.")
    if not raw_levels:
        raise PwmodelError("field 'topology.levels' is empty", file=where, field="topology.levels")
    levels = []
    for i, lv in enumerate(raw_levels):
        ctx = f"topology.levels[{i}]."
        if not isinstance(lv, dict):
            raise PwmodelError(f"'{ctx[:-1]}' must be a table", file=where, field=ctx[:-1])
        _unknown(lv, _LEVEL_KEYS, where, ctx)
        size = _need(lv, "size", int, where, ctx)
        if size < 1:
            raise PwmodelError(f"'{ctx}size' must be >= 1, found {size}", file=where, field=ctx + "size")
        c2c = _positive(_need(lv, "c2c_ns", float, where, ctx), where, ctx + "c2c_ns")
        levels.append(Level(_need(lv, "class", str, where, ctx), size, c2c,
                            _need(lv, "source", str, where, ctx)))
    cpu_units = None
    if enum == "explicit":
        rows = _need(topo, "cpu_units", list, where, "topology.")
        n = int(np.prod([lv.size for lv in levels]))
        if len(rows) != n:
            raise PwmodelError(f"'topology.cpu_units' has {len(rows)} rows, levels give {n} CPUs",
                               file=where, field="topology.cpu_units")
        cpu_units = tuple(tuple(int(x) for x in r) for r in rows)
        if any(len(r) != len(levels) for r in cpu_units):
            raise PwmodelError("each 'topology.cpu_units' row needs one index per level",
                               file=where, field="topology.cpu_units")
    costs_raw = d.get("costs", {})
    if not isinstance(costs_raw, dict):
        raise PwmodelError("field 'costs' must be a table", file=where, field="costs")
    costs: dict[str, tuple[float, str]] = {}
    cost_iv: dict[str, tuple[float, float, str]] = {}
    for k, v in costs_raw.items():
        ctx = f"costs.{k}"
        if k == "defaults":
            if v != "registry":
                raise PwmodelError(f"'costs.defaults' may only be \"registry\", found {v!r}",
                                   file=where, field="costs.defaults")
            continue
        if k not in P.PARAMS:
            P.check_names([k], where=where)
        if not isinstance(v, dict) or "value" not in v or "source" not in v:
            raise PwmodelError(f"'{ctx}' must be a table with 'value' and 'source'",
                               file=where, field=ctx)
        _unknown(v, {"value", "source", "low", "high", "interval_source"}, where, ctx + ".")
        costs[k] = (P.check_value(k, v["value"], where=where), str(v["source"]))
        if "low" in v or "high" in v or "interval_source" in v:
            if "low" not in v or "high" not in v:
                raise PwmodelError(f"'{ctx}' needs both 'low' and 'high' for an interval",
                                   file=where, field=ctx)
            lo, hi = P.check_interval(k, costs[k][0], v["low"], v["high"], where=where)
            cost_iv[k] = (lo, hi, str(v.get("interval_source", v["source"])))
    wake: dict[str, dict[str, tuple[float, str]]] = {}
    wake_iv: dict[str, dict[str, tuple[float, float, str]]] = {}
    raw_wake = d.get("wakeup", {})
    if not isinstance(raw_wake, dict):
        raise PwmodelError("field 'wakeup' must be a table of isolation levels", file=where, field="wakeup")
    for iso, tab in raw_wake.items():
        if iso not in WAKE_LEVELS:
            raise PwmodelError(f"'wakeup.{iso}': not a busy SCHED_OTHER level ({', '.join(WAKE_LEVELS)})",
                               file=where, field=f"wakeup.{iso}")
        if not isinstance(tab, dict):
            raise PwmodelError(f"'wakeup.{iso}' must be a table", file=where, field=f"wakeup.{iso}")
        wake[iso], wake_iv[iso] = {}, {}
        for k, v in tab.items():
            ctx = f"wakeup.{iso}.{k}"
            if k not in WAKE_PARAMS:
                raise PwmodelError(f"'{ctx}': not a wake-up model parameter ({', '.join(WAKE_PARAMS)})",
                                   file=where, field=ctx)
            if not isinstance(v, dict) or "value" not in v or "source" not in v:
                raise PwmodelError(f"'{ctx}' must be a table with 'value' and 'source'", file=where, field=ctx)
            _unknown(v, {"value", "source", "low", "high", "interval_source"}, where, ctx + ".")
            wake[iso][k] = (P.check_value(k, v["value"], where=where), str(v["source"]))
            if "low" in v or "high" in v:
                if "low" not in v or "high" not in v:
                    raise PwmodelError(f"'{ctx}' needs both 'low' and 'high' for an interval",
                                       file=where, field=ctx)
                lo, hi = P.check_interval(k, wake[iso][k][0], v["low"], v["high"], where=where)
                wake_iv[iso][k] = (lo, hi, str(v.get("interval_source", v["source"])))
    idle = []
    for i, s in enumerate(d.get("idle_states", [])):
        ctx = f"idle_states[{i}]."
        _unknown(s, _IDLE_KEYS, where, ctx)
        idle.append(IdleState(
            _need(s, "name", str, where, ctx),
            _positive(_need(s, "exit_latency_ns", float, where, ctx), where, ctx + "exit_latency_ns", True),
            _positive(_need(s, "target_residency_ns", float, where, ctx), where,
                      ctx + "target_residency_ns", True),
            _need(s, "source", str, where, ctx)))
    prov = d.get("provenance", {})
    return Machine(
        name=name, description=str(d.get("description", "")), cpu_model=str(d.get("cpu_model", "")),
        arch=str(d.get("arch", "")), freq_hz=freq, freq_source=str(d.get("freq_source", "profile")),
        hz=hz, preempt_model=pm, levels=tuple(levels), enumeration=enum, costs=costs,
        idle_states=tuple(idle), cpu_units=cpu_units, virtualised=bool(d.get("virtualised", False)),
        notes=str(d.get("notes", "")), path=where, provenance=dict(prov), cost_intervals=cost_iv,
        wakeup=wake, wakeup_intervals=wake_iv)


def read_toml(path: str | os.PathLike, what: str = "machine profile") -> dict[str, Any]:
    """Parse a TOML file; unreadable, non-UTF-8 or malformed files get one error naming
    the file and line (shared by every kind of profile: machines, call sites)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise PwmodelError(f"cannot read {what}: {exc.strerror}", file=str(p)) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PwmodelError(f"{what} is not UTF-8 text", file=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        import re
        line = getattr(exc, "lineno", None)
        m = re.search(r"\(at line (\d+)", str(exc))
        if line is None and m:
            line = int(m.group(1))
        msg = str(exc).split(" (at line")[0]
        raise PwmodelError(f"malformed TOML: {msg}", file=str(p), line=line) from None


def load(path: str | os.PathLike) -> Machine:
    """Read and validate a profile file; errors name the file and the field or line."""
    d = read_toml(path)
    where = str(Path(path))
    if d.get("format") == FORMAT and d.get("version") == VERSION:   # else from_dict names them
        _check_complete(d, where)
    return from_dict(d, where=where)


def _check_complete(d: Mapping[str, Any], where: str) -> None:
    """The sections a profile file must have (see the module docstring)."""
    for table in ("topology", "costs"):
        if table not in d:
            raise PwmodelError(f"missing table [{table}] (file cut short?)", file=where, field=table)
    costs = d["costs"]
    if isinstance(costs, dict) and not costs:
        raise PwmodelError("table [costs] is empty (file cut short?); list the machine's costs, "
                           "or write defaults = \"registry\" in it to take every cost from the "
                           "registry defaults", file=where, field="costs")
    if "idle_states" not in d:
        raise PwmodelError("missing [[idle_states]] (file cut short?); list the idle states, or "
                           "write idle_states = [] to take the registry's idle exit latencies",
                           file=where, field="idle_states")
    if not isinstance(d["idle_states"], list):
        raise PwmodelError("'idle_states' must be a list of tables", file=where, field="idle_states")


def registry_defaults(m: Machine) -> list[str]:
    """Registry parameters the profile ``m`` does not set (they take the registry defaults)."""
    given = m.param_values()
    return [k for k in P.PARAMS if k not in given]


def to_toml(m: Machine) -> str:
    """Serialise a profile back to TOML text (round-trips through :func:`load`)."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"format = {q(FORMAT)}", f"version = {VERSION}", f"name = {q(m.name)}",
             f"description = {q(m.description)}", f"cpu_model = {q(m.cpu_model)}",
             f"arch = {q(m.arch)}", f"freq_hz = {m.freq_hz!r}", f"freq_source = {q(m.freq_source)}",
             f"hz = {m.hz}", f"preempt_model = {q(m.preempt_model)}",
             f"virtualised = {'true' if m.virtualised else 'false'}", f"notes = {q(m.notes)}"]
    if not m.idle_states:
        lines.append("idle_states = []")
    lines += ["", "[topology]", f"enumeration = {q(m.enumeration)}", "levels = ["]
    for lv in m.levels:
        lines.append(f"  {{ class = {q(lv.pair_class)}, size = {lv.size}, c2c_ns = {lv.c2c_ns!r}, "
                     f"source = {q(lv.source)} }},")
    lines.append("]")
    if m.cpu_units is not None:
        lines.append("cpu_units = [" + ", ".join("[" + ", ".join(map(str, r)) + "]"
                                                 for r in m.cpu_units) + "]")
    if m.provenance:
        lines += ["", "[provenance]"] + [f"{k} = {q(v)}" for k, v in m.provenance.items()]
    lines += ["", "[costs]"]
    if not m.costs:
        lines.append('defaults = "registry"')
    for k, (v, src) in m.costs.items():
        iv = m.cost_intervals.get(k)
        extra = (f"low = {iv[0]!r}, high = {iv[1]!r}, interval_source = {q(iv[2])}, "
                 if iv else "")
        lines.append(f"{k} = {{ value = {v!r}, {extra}source = {q(src)} }}")
    for iso, tab in m.wakeup.items():
        lines += ["", f"[wakeup.{iso}]"]
        for k, (v, src) in tab.items():
            iv = m.wakeup_intervals.get(iso, {}).get(k)
            extra = (f"low = {iv[0]!r}, high = {iv[1]!r}, interval_source = {q(iv[2])}, " if iv else "")
            lines.append(f"{k} = {{ value = {v!r}, {extra}source = {q(src)} }}")
    for s in m.idle_states:
        lines += ["", "[[idle_states]]", f"name = {q(s.name)}",
                  f"exit_latency_ns = {s.exit_latency_ns!r}",
                  f"target_residency_ns = {s.target_residency_ns!r}", f"source = {q(s.source)}"]
    return "\n".join(lines) + "\n"
