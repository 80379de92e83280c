"""Limits on the sizes a user chooses (CPU counts, grids, replications, workers).

Each limit is far above any real use and far below what exhausts a machine:
a request beyond it is refused before any work, with a message giving the
size asked for and the limit, instead of allocating gigabytes or spinning.
"""

from __future__ import annotations

import math

from pwmodel.errors import PwmodelError

#: CPUs in one fan-out: Linux's NR_CPUS is at most 8192 on x86_64 (MAXSMP), 4096 on arm64.
MAX_CPUS = 65_536
#: values in one list of CPU counts, quantiles or rates given on the command line
MAX_LIST = 100_000
#: Monte-Carlo replications per CPU count
MAX_REPS = 10_000_000
#: simulated CPU draws per CPU count (replications x CPUs): 8 bytes each, ~1.6 GB
MAX_DRAWS = 200_000_000
#: bootstrap resamples of one fit
MAX_BOOT = 100_000
#: worker threads or processes
MAX_WORKERS = 1024
#: points of one sweep grid
MAX_POINTS = 10_000_000_000
#: points of one sweep chunk (held in memory at once)
MAX_CHUNK = 50_000_000
#: callers simulated under the drain mutex
MAX_CALLERS = 10_000_000


def check_int(name: str, value, lo: int, hi: int, *, field: str | None = None) -> int:
    """``value`` as an int in [lo, hi] or a one-line error naming ``field``."""
    f = field or name
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and (not math.isfinite(value) or value != round(value))):
        raise PwmodelError(f"{name} must be a whole number, found {value!r}", field=f)
    v = int(value)
    if v < lo:
        raise PwmodelError(f"{name} must be >= {lo}, found {v}", field=f)
    if v > hi:
        raise PwmodelError(f"{name} of {v:,} is larger than the limit {hi:,}", field=f)
    return v


def check_float(name: str, value, *, lo: float | None = None, lo_open: bool = True,
                hi: float | None = None, field: str | None = None) -> float:
    """A finite float above ``lo`` (open or closed) and at most ``hi``."""
    f = field or name
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PwmodelError(f"{name} must be a number, found {value!r}", field=f) from None
    if not math.isfinite(v):
        raise PwmodelError(f"{name} must be finite, found {value!r}", field=f)
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise PwmodelError(f"{name} must be {'>' if lo_open else '>='} {lo:g}, found {value!r}",
                           field=f)
    if hi is not None and v > hi:
        raise PwmodelError(f"{name} of {v:g} is larger than the limit {hi:g}", field=f)
    return v


def check_draws(n_cpus: float, reps: int, field: str = "--reps") -> None:
    """Replications x CPUs of one simulated fan-out within :data:`MAX_DRAWS`."""
    if n_cpus * reps > MAX_DRAWS:
        raise PwmodelError(f"{int(n_cpus)} CPUs x {reps} replications = {int(n_cpus * reps):,} "
                           f"draws is larger than the limit {MAX_DRAWS:,}", field=field)
