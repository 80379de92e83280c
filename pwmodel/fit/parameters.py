"""Fit parameters: value, bounds, fixed/free flag, unit, and the fitted uncertainty.

:class:`Parameters` is an ordered mapping name -> :class:`Parameter`, in the
spirit of lmfit. Names are those of the registry (:mod:`pwmodel.params`),
whose bounds are the default fit bounds, or any name ending in its unit
(``shape_1``, ``rate_hz``). The same :class:`Parameters` object can be fitted
jointly to several datasets: a name used by two models is one shared value
(e.g. one ``c2c_ns`` for every microbenchmark).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, Iterator, Mapping

import numpy as np

from pwmodel import params as P
from pwmodel.errors import PwmodelError


@dataclass
class Parameter:
    """One parameter. ``vary=False`` holds it fixed at ``value``; bounds are inclusive."""

    name: str
    value: float
    min: float = -math.inf
    max: float = math.inf
    vary: bool = True
    unit: str = ""
    stderr: float | None = None
    ci: tuple[float, float] | None = None
    source: str = ""

    def __post_init__(self) -> None:
        self.value = _finite(self.value, self.name, "value")
        self.min = float(self.min)
        self.max = float(self.max)
        if math.isnan(self.min) or math.isnan(self.max) or self.min >= self.max:
            raise PwmodelError(f"bounds must satisfy min < max, found [{self.min}, {self.max}]",
                               field=self.name)
        if not (self.min <= self.value <= self.max):
            raise PwmodelError(f"start value {self.value:g} outside bounds "
                               f"[{self.min:g}, {self.max:g}] {self.unit}".rstrip(), field=self.name)

    def set(self, value: float | None = None, *, min: float | None = None,  # noqa: A002
            max: float | None = None, vary: bool | None = None) -> "Parameter":
        """Change value, bounds or the free flag in place (validated); returns self."""
        new = replace(self, value=self.value if value is None else value,
                      min=self.min if min is None else min, max=self.max if max is None else max,
                      vary=self.vary if vary is None else vary)
        self.__dict__.update(new.__dict__)
        return self

    def at_bound(self, rtol: float = 1e-6) -> bool:
        """True if the value sits on a finite bound (its uncertainty is then unreliable)."""
        span = max(abs(self.value), 1.0) * rtol
        return (math.isfinite(self.min) and self.value - self.min <= span) or \
               (math.isfinite(self.max) and self.max - self.value <= span)

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "min": _json_num(self.min),
                "max": _json_num(self.max), "vary": self.vary, "unit": self.unit,
                "stderr": None if self.stderr is None else _json_num(self.stderr),
                "ci": None if self.ci is None else [_json_num(self.ci[0]), _json_num(self.ci[1])],
                "source": self.source}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Parameter":
        ci = d.get("ci")
        se = d.get("stderr")
        return cls(d["name"], d["value"], _num(d.get("min", "-inf")), _num(d.get("max", "inf")),
                   bool(d.get("vary", True)), d.get("unit", ""),
                   None if se is None else _num(se),
                   None if ci is None else (_num(ci[0]), _num(ci[1])), d.get("source", ""))


def _finite(v: object, name: str, what: str) -> float:
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise PwmodelError(f"{what} must be a number, found {v!r}", field=name) from None
    if not math.isfinite(x):
        raise PwmodelError(f"{what} must be finite, found {x}", field=name)
    return x


def _json_num(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf" if x < 0 else "nan")


def _num(x: object) -> float:
    return float(x)  # accepts "inf", "-inf", "nan"


def unit_of(name: str) -> str:
    """The unit named by a parameter's suffix (registry unit when registered)."""
    if name in P.PARAMS:
        return P.PARAMS[name].unit
    suffix = name.rsplit("_", 1)[-1] if "_" in name else ""
    return {"ns": "ns", "hz": "Hz", "1": "1", "lines": "lines", "folios": "folios"}.get(suffix, suffix)


class Parameters(Mapping[str, Parameter]):
    """Ordered name -> :class:`Parameter`; the free ones are the fit's unknowns."""

    def __init__(self, items: Iterable[Parameter] = ()) -> None:
        self._p: dict[str, Parameter] = {}
        for p in items:
            self.add(p)

    # mapping protocol
    def __getitem__(self, name: str) -> Parameter:
        if name not in self._p:
            import difflib
            close = difflib.get_close_matches(name, list(self._p), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise PwmodelError(f"no parameter '{name}'{hint}", field=name)
        return self._p[name]

    def __contains__(self, name: object) -> bool:
        return name in self._p

    def __iter__(self) -> Iterator[str]:
        return iter(self._p)

    def __len__(self) -> int:
        return len(self._p)

    def add(self, p: Parameter | str, value: float | None = None, **kw: object) -> Parameter:
        """Add a parameter (or a name + value + keywords); registry names get registry bounds."""
        if isinstance(p, str):
            p = make(p, value, **kw)  # type: ignore[arg-type]
        self._p[p.name] = p
        return p

    @property
    def free(self) -> list[str]:
        return [n for n, p in self._p.items() if p.vary]

    def values(self) -> dict[str, float]:  # type: ignore[override]
        """name -> current value (all parameters)."""
        return {n: p.value for n, p in self._p.items()}

    def vector(self) -> np.ndarray:
        return np.array([self._p[n].value for n in self.free], dtype=float)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        free = [self._p[n] for n in self.free]
        return np.array([p.min for p in free]), np.array([p.max for p in free])

    def with_vector(self, x: np.ndarray) -> dict[str, float]:
        """All values with the free ones replaced by ``x`` (no validation: inner loop)."""
        out = self.values()
        for n, v in zip(self.free, x):
            out[n] = float(v)
        return out

    def copy(self) -> "Parameters":
        return Parameters(replace(p) for p in self._p.values())

    def to_list(self) -> list[dict]:
        return [p.to_dict() for p in self._p.values()]

    @classmethod
    def from_list(cls, rows: Iterable[Mapping]) -> "Parameters":
        return cls(Parameter.from_dict(r) for r in rows)

    def __repr__(self) -> str:
        body = ", ".join(f"{n}={p.value:g}{'' if p.vary else ' (fixed)'}" for n, p in self._p.items())
        return f"Parameters({body})"


def make(name: str, value: float | None = None, *, min: float | None = None,  # noqa: A002
         max: float | None = None, vary: bool = True, unit: str | None = None) -> Parameter:
    """A parameter; a registry name takes its default value, bounds, unit and source."""
    reg = P.PARAMS.get(name)
    if reg is not None:
        lo, hi = reg.bounds
        v = reg.default if value is None else value
        return Parameter(name, v, lo if min is None else min, hi if max is None else max, vary,
                         unit or reg.unit, source=reg.source)
    if value is None:
        raise PwmodelError("a parameter outside the registry needs a start value", field=name)
    if unit is None and "_" not in name:
        raise PwmodelError("a parameter name must end in its unit (e.g. 'scale_ns', 'weight_1')",
                           field=name)
    return Parameter(name, value, -math.inf if min is None else min,
                     math.inf if max is None else max, vary, unit or unit_of(name))
