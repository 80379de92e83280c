"""Monte Carlo of the two strategies without a remote drain, RU and SKIP, per replication.

The mechanism of :mod:`pwmodel.models.alternatives`, simulated on the same dirty CPUs and
topology as :mod:`pwmodel.simulate.fanout` (its :class:`~pwmodel.simulate.fanout.Plan`):

* common part: the global mutex, then the check loop over the dirty CPUs (``lines_check``
  lines at the pair's c2c each, the requester reading the counters of CPU j);
* RU: the requester writes one flag line on each dirty CPU (a line moved at the pair's c2c)
  and returns; each dirty target pays its own hot drain S_Q at its next return to user
  space (its victim cost); CPU time is the requester plus the D deferred drains;
* SKIP: the requester pays the common part only; nothing happens on the targets.

The dirty CPUs are drawn per replication (binomial or fixed, the two conventions of
:mod:`~pwmodel.simulate.fanout`), so the spread of the requester (its p99) comes from the
dirty count and the pair classes of the dirty CPUs. Victims as for QW and RL, by the same
function (:func:`pwmodel.simulate.fanout.victim_summary`): the victim mean over the dirty
targets of every call, the worst the largest over the targets of a call averaged over the
calls with a dirty target, each with its 95 % interval (a frame without the worst's
interval would drop QW's and RL's from the validation's joined table). Strategies that do not exist at the scenario's isolation
(RU needs nohz_full targets, SKIP isolated ones: :func:`pwmodel.strategies.applicable`) get
no rows. Times in ns.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import polars as pl

from pwmodel import strategies as ST
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario
from pwmodel.simulate import fanout as SF
from pwmodel.simulate.sampling import block_reps, block_rng, summarise

STRATEGIES = ("RU", "SKIP")
STREAM = 20_000      # seeded streams 20000 + N (fanout uses N, the mutex sweep 10000 + N)


def existing(sc: Scenario) -> tuple[str, ...]:
    """RU and SKIP where they exist at the scenario's isolation (victim objective: all exist)."""
    return tuple(s for s in ST.applicable(sc, "victim_mean") if s in STRATEGIES)


def _plan(sc: Scenario, n: int, dirty: str) -> SF.Plan:
    """The simulator's plan at ``n`` CPUs without its pair table (RU and SKIP only use the
    requester's pair with each CPU): the N-free numbers from the one-CPU plan."""
    if not float(n).is_integer() or n < 1:
        raise PwmodelError(f"CPU count must be an integer >= 1, found {n!r}", field="n_cpus")
    one = SF.plan(sc, 1, dirty)
    c2c0, spans, c2cs = SF.topology(sc.machine, int(n))
    return dataclasses.replace(one, n=int(n), c2c_from0=c2c0, spans=spans, c2c_levels=c2cs,
                               pair_table=None)


def samples(sc: Scenario, n: int, reps: int = 4096, seed: int = 0,
            dirty: str = "binomial") -> dict[str, np.ndarray]:
    """Per-replication requester, victim and CPU ns of RU and SKIP at ``n`` CPUs."""
    if reps < 2:
        raise PwmodelError(f"need at least 2 replications, found {reps}", field="reps")
    p = _plan(sc, n, dirty)
    br = block_reps(p.n)
    parts = []
    for b in range(math.ceil(reps / br)):
        r = min(br, reps - b * br)
        rng = block_rng(seed, STREAM + p.n, b)
        mask = SF._dirty_mask(p, rng, r)
        d = mask.sum(axis=1).astype(float)
        c2c_sum = np.where(mask, p.c2c_from0, 0.0).sum(axis=1)
        base = p.mutex_ns + p.check_ns_per_c2c * c2c_sum
        ru = base + c2c_sum                       # one flag line per dirty CPU
        k = int(d.sum())                          # every dirty target of every call
        exit_ns = 0.0 if p.idle else p.s_q_ns     # the hot local drain at the next exit
        ru_loss = np.where(mask, exit_ns, 0.0)
        part = {"dirty_cpus": d, "ru_requester": ru, "ru_cpu": ru + d * p.s_q_ns,
                "skip_requester": base, "skip_cpu": base}
        SF._victims(part, "ru", ru_loss, mask)
        SF._victims(part, "skip", np.zeros(mask.shape), mask)
        parts.append(part)
    return {k: np.concatenate([pt[k] for pt in parts]) for k in parts[0]}


def simulate(sc: Scenario, n_cpus: Sequence[int], reps: int = 4096, seed: int = 0,
             dirty: str = "binomial") -> pl.DataFrame:
    """One row per (n_cpus, strategy) for RU and SKIP where they exist, with the columns of
    :func:`pwmodel.simulate.fanout.simulate` that the validation compares (and their CIs)."""
    strats = existing(sc)
    rows = []
    if not strats:
        return pl.DataFrame()
    for n in n_cpus:
        x = samples(sc, int(n), reps, seed, dirty)
        for strat in strats:
            key = strat.lower()
            req = summarise(x[f"{key}_requester"], "requester")
            vic = SF.victim_summary(x, key)
            cpu = summarise(x[f"{key}_cpu"], "cpu_time")
            rows.append({"machine": sc.machine.name, "callsite": sc.callsite_name,
                         "isolation": sc.isolation, "preempt_model": sc.preempt,
                         "strategy": strat, "n_cpus": int(n),
                         "dirty_cpus": float(x["dirty_cpus"].mean()), **req,
                         **vic,
                         "cpu_time_ns": cpu["cpu_time_mean_ns"],
                         "cpu_time_lo_ns": cpu["cpu_time_mean_lo_ns"],
                         "cpu_time_hi_ns": cpu["cpu_time_mean_hi_ns"],
                         "replications": x[f"{key}_requester"].size, "seed": seed,
                         "dirty_mode": dirty})
    return pl.DataFrame(rows).sort(["n_cpus", "strategy"])
