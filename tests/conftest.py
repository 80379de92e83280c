"""Work that tests in more than one module assert on, computed once per test process. Tests
that use a fixture here share an xdist_group, so that under pytest-xdist they run in the same
worker and the work is done once there too."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def busy_owner_lock():
    """Event-level two-class lock at a busy owner: local 1e7 Hz, remote 1e3 Hz, 20000 drains,
    seed 99 (the second row of ``lock_grid((1e5, 1e7), (1e3,), seed=2)``: row i has seed
    2 + 97 i). The owner-loss test (test_mechanisms) and the contention formulas test
    (test_simulate) both read this row; it is most of their CPU time."""
    from pwmodel.simulate import events as EV
    return EV.lock_grid(local_rates_hz=(1e7,), remote_rates_hz=(1e3,), min_drains=20000, seed=99)
