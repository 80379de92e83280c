"""Simulation of both strategies, to check the analytic models (means and tails).

* :mod:`~pwmodel.simulate.fanout`: vectorised Monte Carlo of one fan-out over N CPUs;
* :mod:`~pwmodel.simulate.events`: event-level two-class per-CPU lock and the global
  drain mutex with lru_drain_gen piggy-backing;
* :mod:`~pwmodel.simulate.validate`: analytic vs simulated on a grid, table and figure.
"""

from pwmodel.simulate.fanout import samples, simulate

__all__ = ["samples", "simulate"]
