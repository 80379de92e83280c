"""Simulation of both strategies, to check the analytic models (means and tails).

* :mod:`~pwmodel.simulate.fanout`: vectorised Monte Carlo of one fan-out over N CPUs;
* :mod:`~pwmodel.simulate.events`: event-level two-class per-CPU lock and the global
  drain mutex with lru_drain_gen piggy-backing;
* :mod:`~pwmodel.simulate.validate`: analytic vs simulated on a grid, table and figure.
"""

__all__ = ["samples", "simulate"]


def __getattr__(name: str):
    """``samples`` and ``simulate`` from :mod:`~pwmodel.simulate.fanout` on first use: the
    validated-domain index (:mod:`~pwmodel.simulate.domain`) that ``decide`` reads must not
    pay for the simulator's imports (scipy.stats, about a second)."""
    if name in __all__:
        from pwmodel.simulate import fanout
        return getattr(fanout, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
