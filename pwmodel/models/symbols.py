"""Per-evaluation quantities that are not registry parameters (units in the names)."""

from __future__ import annotations

import sympy as sp

_pos = dict(nonnegative=True)

n_cpus = sp.Symbol("n_cpus", positive=True)            # online CPUs in the fan-out
c2c_mean_ns = sp.Symbol("c2c_mean_ns", **_pos)          # mean requester->CPU line transfer (self = 0)
c2c_max_ns = sp.Symbol("c2c_max_ns", **_pos)            # farthest pair class present
c2c_var_ns2 = sp.Symbol("c2c_var_ns2", **_pos)          # variance of that latency over the CPUs
c2c_nbr_ns = sp.Symbol("c2c_nbr_ns", **_pos)            # mean c2c between consecutive CPU ids
wake_emax_ns = sp.Symbol("wake_emax_ns", **_pos)        # E[max of D queue->start latencies]
wake_qmax_ns = sp.Symbol("wake_qmax_ns", **_pos)        # a quantile of that maximum (p99 path)
wake_min_ns = sp.Symbol("wake_min_ns", **_pos)          # lower end of the queue->start support
wake_mean_ns = sp.Symbol("wake_mean_ns", **_pos)        # E[queue->start] of one work item
drain_cpu_ns = sp.Symbol("drain_cpu_ns", **_pos)        # CPU time of one drain-all call, all CPUs
op_cost_ns = sp.Symbol("op_cost_ns", **_pos)            # ns a strategy adds to every local op
dirty_cpus = sp.Symbol("dirty_cpus", **_pos)            # D, the number of dirty CPUs (given-D forms)
loss_ns = sp.Symbol("loss_ns", real=True)               # an interruption length (a tail's argument)

EXTRA: dict[str, sp.Symbol] = {s.name: s for s in [
    n_cpus, c2c_mean_ns, c2c_max_ns, c2c_var_ns2, c2c_nbr_ns, wake_emax_ns, wake_qmax_ns, wake_min_ns, wake_mean_ns,
    drain_cpu_ns, op_cost_ns, loss_ns, dirty_cpus]}
