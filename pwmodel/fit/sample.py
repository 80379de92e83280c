"""Latency samples to fit (:class:`Sample`), checked on the way in by :func:`sample`.

Observed values in ns, optionally right-censored (values at or above
``censor_ns``, plus ``n_censored`` items never seen to finish), truncated (only
values inside ``truncate_ns`` can be recorded) or binned (clock resolution
``resolution_ns``). Fitted by :mod:`pwmodel.fit.distributions`; stored with a
fit by :mod:`pwmodel.fit.distresult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pwmodel.errors import PwmodelError

MIN_SAMPLES = 10


@dataclass(frozen=True)
class Sample:
    """Validated latency samples in ns (see module docstring for the options)."""

    values_ns: np.ndarray
    name: str = "sample"
    censor_ns: float | None = None
    n_censored: int = 0
    truncate_ns: tuple[float, float] | None = None
    resolution_ns: float = 0.0
    tick_ns: float | None = None        # scheduler tick of the machine (1e9 / HZ), if known

    @property
    def observed(self) -> np.ndarray:
        v = self.values_ns
        return v if self.censor_ns is None else v[v < self.censor_ns]

    @property
    def n_cens_total(self) -> int:
        if self.censor_ns is None:
            return 0
        return int(np.sum(self.values_ns >= self.censor_ns)) + self.n_censored

    @property
    def n(self) -> int:
        return int(self.observed.size) + self.n_cens_total

    @property
    def plain(self) -> bool:
        return self.n_cens_total == 0 and self.truncate_ns is None and self.resolution_ns == 0

    def resample(self, rng: np.random.Generator) -> "Sample":
        """Bootstrap resample (censored-but-unseen items included as indicators)."""
        m = self.values_ns.size + self.n_censored
        idx = rng.integers(0, m, m)
        seen = idx[idx < self.values_ns.size]
        return Sample(self.values_ns[seen], self.name, self.censor_ns,
                      int(np.sum(idx >= self.values_ns.size)), self.truncate_ns, self.resolution_ns,
                      self.tick_ns)


def sample(values: Sequence[float] | np.ndarray, *, name: str = "sample", unit: str = "ns",
           censor_ns: float | None = None, n_censored: int = 0,
           truncate_ns: tuple[float, float] | None = None, resolution_ns: float = 0.0,
           tick_ns: float | None = None) -> Sample:
    """Check and wrap latency samples; refuses NaN/inf, negatives, other units, too few or
    constant values, naming ``name``. ``tick_ns`` (1e9 / HZ of the measured machine)
    enables the tick-capped families."""
    if unit != "ns":
        f = {"us": 1e3, "ms": 1e6, "s": 1e9}.get(unit)
        hint = f": multiply by {f:g} first" if f else ""
        raise PwmodelError(f"latency samples must be in ns, found unit '{unit}'{hint}",
                           file=name, field="unit")
    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise PwmodelError("latency samples must be numbers", file=name) from None
    bad = np.nonzero(~np.isfinite(v))[0]
    if bad.size:
        raise PwmodelError(f"{bad.size} non-finite latency value(s), first at row {int(bad[0])}: "
                           f"{v[bad[0]]}; drop or censor them (censor_ns, n_censored)", file=name)
    if np.any(v < 0):
        raise PwmodelError(f"negative latency {v.min():g} ns at row {int(np.argmin(v))}", file=name)
    if v.size + n_censored < MIN_SAMPLES:
        raise PwmodelError(f"{v.size} sample(s): need at least {MIN_SAMPLES} to fit a "
                           "distribution", file=name)
    obs = v if censor_ns is None else v[v < censor_ns]
    if np.unique(obs).size < 3:
        raise PwmodelError(f"only {np.unique(obs).size} distinct uncensored value(s) "
                           f"({', '.join(f'{x:g}' for x in np.unique(obs)[:2])} ns): a constant "
                           "latency has no distribution to fit", file=name)
    if np.median(obs) < 1.0 and np.median(obs) > 0:
        raise PwmodelError(f"median latency {np.median(obs):g} ns is below 1 ns: values look "
                           "like us or s, not ns", file=name)
    if truncate_ns is not None:
        lo, hi = truncate_ns
        if not (0 <= lo < hi) or np.any((v < lo) | (v > hi)):
            raise PwmodelError(f"truncation window [{lo:g}, {hi:g}] ns must contain every sample",
                               file=name, field="truncate_ns")
    if n_censored and censor_ns is None:
        raise PwmodelError("n_censored needs censor_ns (the time at which they were still "
                           "waiting)", file=name, field="n_censored")
    if tick_ns is not None and not (math.isfinite(tick_ns) and tick_ns > 0):
        raise PwmodelError(f"tick_ns must be a positive number of ns (1e9 / HZ), found {tick_ns}",
                           file=name, field="tick_ns")
    return Sample(v, name, censor_ns, int(n_censored), truncate_ns, float(resolution_ns),
                  None if tick_ns is None else float(tick_ns))
