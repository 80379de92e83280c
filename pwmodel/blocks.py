"""Elementwise NumPy work on large arrays, in blocks over a few threads.

NumPy releases the GIL inside its loops, so the parts of a long array can be computed at
the same time on several cores. Each element goes through the same operations whether its
array is split or not (NumPy's loops work element by element, their vector paths on any
contiguous run), so the values are those of one call over the whole array, bit for bit.
Only large arrays are split: below :data:`MIN_SIZE` elements one call does it (the
report's and decide's arrays are far smaller).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

MIN_SIZE = 262_144


def workers(size: int, min_size: int = MIN_SIZE) -> int:
    """Threads for ``size`` elements (1 below ``min_size``)."""
    if size < min_size:
        return 1
    return max(1, min(os.cpu_count() or 1, 8, size // max(min_size // 4, 1)))


def elementwise(fn: Callable, *arrays: np.ndarray, min_size: int = MIN_SIZE):
    """``fn(*arrays)`` for an ``fn`` that works element by element on 1-D arrays of one
    length and returns an array, or a tuple or dict of arrays, of that length: computed
    on consecutive parts of the arrays over a few threads and put together again
    (``min_size``: fewer elements are not split; lower for costly elements)."""
    size = arrays[0].shape[0] if arrays and arrays[0].ndim == 1 else 0
    k = workers(size, min_size)
    if k == 1:
        return fn(*arrays)
    edges = [size * i // k for i in range(k + 1)]
    with ThreadPoolExecutor(k) as ex:
        parts = list(ex.map(lambda i: fn(*(a[edges[i]:edges[i + 1]] for a in arrays)),
                            range(k)))
    first = parts[0]
    if isinstance(first, dict):
        return {key: np.concatenate([p[key] for p in parts]) for key in first}
    if isinstance(first, tuple):
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(len(first)))
    return np.concatenate(parts)
