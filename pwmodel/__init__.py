"""pwmodel: when does remote per-CPU locking beat queued per-CPU work?

Cost models (SymPy closed forms, SciPy numerics) of the PW/pwlocks series:
fast-path tax, cache-line bouncing, wake-ups by isolation level, lock
contention and the lru_add_drain_all() fan-out over N CPUs.
All times are in ns and all rates in Hz inside the package.
"""

__version__ = "0.1.0"
