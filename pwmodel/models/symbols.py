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
wake_smax_ns = sp.Symbol("wake_smax_ns", **_pos)        # E[max_i<D (W_i - i t_q)]: slowest of D serially queued works
wake_qmax_ns = sp.Symbol("wake_qmax_ns", **_pos)        # a quantile of the max of D queue->start latencies (p99 path)
wake_min_ns = sp.Symbol("wake_min_ns", **_pos)          # lower end of the queue->start support
wake_mean_ns = sp.Symbol("wake_mean_ns", **_pos)        # E[queue->start] of one work item
drain_cpu_ns = sp.Symbol("drain_cpu_ns", **_pos)        # CPU time of one drain-all call, all CPUs
op_cost_ns = sp.Symbol("op_cost_ns", **_pos)            # ns a strategy adds to every local op
dirty_cpus = sp.Symbol("dirty_cpus", **_pos)            # D, the number of dirty CPUs (given-D forms)
loss_ns = sp.Symbol("loss_ns", real=True)               # an interruption length (a tail's argument)

wake_atom1_w = sp.Symbol("wake_atom1_w", **_pos)        # weight of the largest point mass of the wake-up law
wake_atom2_w = sp.Symbol("wake_atom2_w", **_pos)        # weight of the second point mass (0 if none)
wake_atom_gap_ns = sp.Symbol("wake_atom_gap_ns", real=True)  # point mass 2's value - point mass 1's
wake_spread_w = sp.Symbol("wake_spread_w", **_pos)      # weight of its spread (non-point) parts
wake_spread_width_ns = sp.Symbol("wake_spread_width_ns", **_pos)  # width of the spread parts
c2c_gap1_ns = sp.Symbol("c2c_gap1_ns", **_pos)          # mean c2c to the next dirty CPU of point mass 1
c2c_gap2_ns = sp.Symbol("c2c_gap2_ns", **_pos)          # mean c2c to the next dirty CPU of point mass 2
lru_spin_mean_ns = sp.Symbol("lru_spin_mean_ns", **_pos)  # mean spin of a kworker on the lru_lock
lru_spin_last_ns = sp.Symbol("lru_spin_last_ns", **_pos)  # spin of the last kworker in the lru_lock queue
lru_backlog_end_ns = sp.Symbol("lru_backlog_end_ns", **_pos)  # lru_lock backlog the last point-mass kworker finds
c2c_hand_ns = sp.Symbol("c2c_hand_ns", **_pos)          # mean c2c of one lru_lock hand-off

# pair classes seen from the requester (self first, then the machine's levels), padded with
# empty classes: CPUs of class i among the N and its c2c (models/rlsum.py, victims)
PAIR_CLASSES = 8
pair_n = tuple(sp.Symbol(f"pair_n_{i}", **_pos) for i in range(PAIR_CLASSES))
pair_c2c_ns = tuple(sp.Symbol(f"pair_c2c_{i}_ns", **_pos) for i in range(PAIR_CLASSES))

EXTRA: dict[str, sp.Symbol] = {s.name: s for s in [*pair_n, *pair_c2c_ns,
    n_cpus, c2c_mean_ns, c2c_max_ns, c2c_var_ns2, c2c_nbr_ns, wake_emax_ns, wake_smax_ns, wake_qmax_ns, wake_min_ns, wake_mean_ns,
    drain_cpu_ns, op_cost_ns, loss_ns, dirty_cpus,
    wake_atom1_w, wake_atom2_w, wake_atom_gap_ns, wake_spread_w, wake_spread_width_ns, c2c_gap1_ns, c2c_gap2_ns,
    lru_spin_mean_ns, lru_spin_last_ns, lru_backlog_end_ns, c2c_hand_ns]}
