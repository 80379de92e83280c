"""QW against RL on one quantity: the winner, the ratio and the log-ratio, with one rule
for zeros, infinities and NaN (used by decide.compare, decide.crossover_map and the
report's ratio maps, so a value is never compared two ways).

Lower is better for every objective. With q the QW value and r the RL value:

- ``winner``: "tie" when q and r are equal (relative tolerance ``rtol``; both 0 included),
  else the smaller one's strategy; "n/a" when either is NaN or both are infinite (neither
  completes: nothing to compare).
- ``ratio``: worse / better, >= 1; 1 for a tie; +inf when the better is 0 and the worse
  is not, or when only the worse is infinite; NaN where the winner is "n/a".
- ``log10_ratio``: log10(q / r) with the same conventions, signed (the report's
  ``log10_qw_over_rl``): 0 for a tie, +inf when QW is infinitely worse (q = inf with r
  finite, or r = 0 with q > 0), -inf when RL is; NaN where the winner is "n/a".
"""

from __future__ import annotations

import numpy as np

TIE_RTOL = 1e-12


def _pair(qw, rl) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(qw, dtype=float), np.asarray(rl, dtype=float)


def _undefined(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.isnan(q) | np.isnan(r) | (np.isinf(q) & np.isinf(r))


def _equal(q: np.ndarray, r: np.ndarray, rtol: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(q) & np.isfinite(r) & ((q == r) | np.isclose(q, r, rtol=rtol, atol=0.0))


def winner(qw, rl, rtol: float = TIE_RTOL) -> np.ndarray:
    """'QW', 'RL', 'tie' or 'n/a' per element (see the module docstring)."""
    q, r = _pair(qw, rl)
    out = np.where(_equal(q, r, rtol), "tie", np.where(r < q, "RL", "QW"))
    return np.where(_undefined(q, r), "n/a", out)


def _cases(q: np.ndarray, r: np.ndarray, rtol: float):
    finite_pos = np.isfinite(q) & np.isfinite(r) & (q > 0) & (r > 0)
    qw_worse = (np.isinf(q) & ~np.isinf(r)) | ((r == 0) & (q > 0))
    rl_worse = (np.isinf(r) & ~np.isinf(q)) | ((q == 0) & (r > 0))
    return finite_pos, qw_worse, rl_worse, _equal(q, r, rtol), _undefined(q, r)


def log10_ratio(qw, rl, rtol: float = TIE_RTOL) -> np.ndarray:
    """log10(QW / RL) per element: > 0 where RL is better (see the module docstring)."""
    q, r = _pair(qw, rl)
    finite_pos, qw_worse, rl_worse, tie, nan = _cases(q, r, rtol)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log10(q / r)
    out = np.where(finite_pos, out, np.where(qw_worse, np.inf, np.where(rl_worse, -np.inf, np.nan)))
    return np.where(nan, np.nan, np.where(tie, 0.0, out))


def ratio(qw, rl, rtol: float = TIE_RTOL) -> np.ndarray:
    """Worse / better per element, >= 1 (see the module docstring)."""
    q, r = _pair(qw, rl)
    finite_pos, qw_worse, rl_worse, tie, nan = _cases(q, r, rtol)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.maximum(q, r) / np.minimum(q, r)
    out = np.where(finite_pos, out, np.where(qw_worse | rl_worse, np.inf, np.nan))
    return np.where(nan, np.nan, np.where(tie, 1.0, out))
