"""Vectorised Monte Carlo of one lru_add_drain_all() fan-out over N CPUs, both strategies.

The mechanism is simulated, not the formulas; the per-drain costs it draws from (hot
drain, remote hold's lines and work, refetch lines, kworker entry) are the coherence
and fan-out terms of :mod:`pwmodel.models`, evaluated at the scenario's values, and the
idle owner is :mod:`pwmodel.models.owner`'s. Per replication:

* dirty CPUs: each CPU dirty independently with probability d
  (``dirty="binomial"``, the default: E[D] = d N as in the analytic model)
  or exactly D = floor(d N) or ceil(d N) CPUs chosen at random
  (``dirty="fixed"``, stochastic rounding keeps E[D] = d N);
* CPUs are numbered nearest-first from the requester (CPU 0): SMT sibling,
  then the rest of its LLC, socket, ... the same fill as
  ``Machine.class_counts``; the pair class of two CPUs is the smallest unit
  holding both, beyond the profile the outermost class;
* common part: the global mutex, then the batch-counter reads of the dirty
  CPUs (``lines_check`` lines at the pair's c2c each);
* an ``async`` call site's requester (drain_all_stock(), vmstat_shepherd())
  returns once it has queued the drains: its QW time is the mutex, the
  check loop and the queueing; the drains, their victims and the time until
  the last one ends (``qw_done``) are simulated as for ``flush``;
* QW: dirty CPUs are queued in id order (``queue_work_ns`` each, so work j
  is queued at j t_q); its kworker starts W_j later (W drawn from
  ``scenario.wake_dist()``, fitted or analytic), asks for the shared lruvec
  lru_lock at once, a real FIFO lock: hold ``lru_hold_fraction`` x S_Q, a
  contended hand-off costs 2 lines at the c2c of the two holders; the drain
  ends S_Q after the grant; the requester wakes after the last one
  (``requester_wakeup_ns``). Victim: irq + 2 switches + S_Q + its spin on
  lru_lock (0 on an idle target);
* RL: the requester drains the dirty CPUs in id order: wait for the owner's
  local critical section (the owner is inside it with probability
  lambda_L S_L, then for a U(0, S_L) residual: the alternating-renewal
  state of an owner issuing ``local_rate_hz`` operations per second), then
  hold S_R at that pair's c2c. Victim: the owner's next local operation
  comes after an Exp think time (mean 1/lambda_L - S_L); if it falls inside
  the hold it spins to its end; the owner pays the refetch when its next
  operation precedes the next remote drain.

Victims (the same definitions as the analytic forms): the interruption of a
dirty target is, under QW, its kworker's time on the CPU (irq, two switches,
its spin on the lru_lock and the drain; 0 on an idle target) and, under RL,
the owner's spin during the remote hold plus its refetch. The victim mean is
the mean over the dirty targets of every call (sum over calls of the
interruptions / sum of D); the victim worst is the largest interruption over
the targets of one call (under QW the last kworker in the lru_lock queue),
averaged over the calls that drain at least one CPU. Times in ns, rates in Hz.
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl
import sympy as sp

from pwmodel import machine as M
from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario
from pwmodel.models import coherence
from pwmodel.models import fanout as F
from pwmodel.models import fastpath as FP, numeric
from pwmodel.models import owner as OW
from pwmodel.simulate.sampling import Z95, FastSampler, block_reps, block_rng, mean_ci, summarise

DIRTY_MODES = ("binomial", "fixed")
PAIR_TABLE_MAX = 2048


@dataclass(frozen=True)
class Plan:
    """Resolved numbers for one (scenario, N): everything a block needs, ns and Hz."""

    n: int
    d: float
    mutex_ns: float
    check_ns_per_c2c: float      # lines_check
    queue_ns: float
    wakeup_ns: float
    s_q_ns: float                # hot drain B t_item
    lru_frac: float
    victim_fixed_ns: float       # irq + 2 switches
    lines_r: float               # lines moved by one remote hold
    item_work_ns: float          # B t_item (also in S_R)
    refetch_lines: float
    local_cs_ns: float
    local_hz: float
    remote_hz: float
    idle: bool
    c2c_from0: np.ndarray        # (n,) pair c2c from the requester, self = 0
    spans: tuple[int, ...]       # unit sizes (CPUs) per level, innermost first
    c2c_levels: tuple[float, ...]
    sampler: FastSampler
    dirty_mode: str
    pair_table: np.ndarray | None = None   # (n, n) pair c2c, for n <= PAIR_TABLE_MAX
    pattern: str = "flush"                 # requester: waits for every drain, or returns (async)


def topology(machine: M.Machine, n: int) -> tuple[np.ndarray, tuple[int, ...], tuple[float, ...]]:
    """c2c from CPU 0 to each of ``n`` nearest-first CPUs, and the level spans and c2c values."""
    spans, span = [], 1
    for lv in machine.levels:
        span *= lv.size
        spans.append(span)
    c2cs = tuple(lv.c2c_ns for lv in machine.levels)
    ids = np.arange(n)
    return pair_c2c(np.zeros(n, dtype=np.int64), ids, tuple(spans), c2cs), tuple(spans), c2cs


def pair_c2c(a: np.ndarray, b: np.ndarray, spans: tuple[int, ...], c2cs: tuple[float, ...]) -> np.ndarray:
    """Vectorised pair c2c (ns) of nearest-first CPU ids: the smallest unit holding both."""
    out = np.full(np.shape(a), c2cs[-1], dtype=float)
    for span, c in zip(reversed(spans[:-1]), reversed(c2cs[:-1])):
        out = np.where(a // span == b // span, c, out)
    return np.where(a == b, 0.0, out)


def _pairs(p: Plan, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pair c2c (ns) by table lookup when the table exists, else computed."""
    if p.pair_table is not None:
        return p.pair_table[a, b]
    return pair_c2c(a, b, p.spans, p.c2c_levels)


_C2C = sp.Symbol("c2c_pair_ns", nonnegative=True)   # the pair's c2c, linear in the coherence terms


def _per_c2c(expr: sp.Expr) -> sp.Expr:
    """Lines of a coherence term: its coefficient of the pair's c2c (the term is
    ``lines x c2c + work``; the simulator draws each pair's c2c itself)."""
    return sp.diff(expr, _C2C)


def _term(expr: sp.Expr, values) -> float:
    """A coherence or fan-out term at the scenario's parameter values (ns or lines)."""
    return float(numeric(expr, values))


def plan(sc: Scenario, n: int, dirty: str = "binomial") -> Plan:
    """Resolve a scenario at ``n`` CPUs into a :class:`Plan`."""
    if dirty not in DIRTY_MODES:
        raise PwmodelError(f"unknown dirty mode '{dirty}' (known: {', '.join(DIRTY_MODES)})", field="dirty")
    if not float(n).is_integer() or n < 1:
        raise PwmodelError(f"CPU count must be an integer >= 1, found {n!r}", field="n_cpus")
    n = int(n)
    ps = sc.params()
    v = ps.values
    ll, scs = v["local_rate_hz"], v["local_cs_ns"]
    busy = FP.share(scs, ll)          # the owner's lock utilisation
    if busy >= 1.0:
        raise PwmodelError(f"local_rate_hz x local_cs_ns must be < 1 (owner busy all the time), "
                           f"found {busy:.3g}", field="local_rate_hz")
    c2c0, spans, c2cs = topology(sc.machine, n)
    return Plan(
        n=n, d=v["dirty_fraction"], mutex_ns=v["mutex_ns"], check_ns_per_c2c=v["lines_check"],
        queue_ns=v["queue_work_ns"], wakeup_ns=v["requester_wakeup_ns"],
        s_q_ns=_term(coherence.local_drain_expr(), v), lru_frac=v["lru_hold_fraction"],
        victim_fixed_ns=_term(F.kworker_entry_expr(), v),
        lines_r=_term(_per_c2c(coherence.remote_hold_expr(_C2C)), v),
        item_work_ns=_term(coherence.remote_hold_expr(sp.Integer(0)), v),
        refetch_lines=_term(_per_c2c(coherence.owner_refetch_expr(_C2C)), v),
        local_cs_ns=scs, local_hz=ll, remote_hz=v["remote_rate_hz"],
        idle=OW.is_idle(sc.isolation), c2c_from0=c2c0, spans=spans, c2c_levels=c2cs,
        sampler=FastSampler(sc.wake_dist(ps)), dirty_mode=dirty, pattern=sc.pattern,
        pair_table=_pair_table(n, spans, c2cs) if n <= PAIR_TABLE_MAX else None)


@functools.lru_cache(maxsize=8)
def _pair_table(n: int, spans: tuple[int, ...], c2cs: tuple[float, ...]) -> np.ndarray:
    """The (n, n) pair c2c table of a topology, built once (a million entries at n = 1024,
    for every plan of a validation grid before); read-only, shared by the plans."""
    t = pair_c2c(*np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), spans, c2cs)
    t.setflags(write=False)
    return t


def _dirty_mask(p: Plan, rng: np.random.Generator, r: int) -> np.ndarray:
    if p.dirty_mode == "binomial":
        return rng.random((r, p.n)) < p.d
    dn = p.d * p.n
    k = np.floor(dn) + (rng.random(r) < dn - math.floor(dn))
    keys = rng.random((r, p.n))
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    return ranks < k[:, None]


def simulate_block(p: Plan, seed: int, block: int, r: int | None = None) -> dict[str, np.ndarray]:
    """One seeded block of ``r`` replications: per-replication requester, victim and CPU ns."""
    rng = block_rng(seed, p.n, block)
    n = p.n
    r = block_reps(n) if r is None else r
    mask = _dirty_mask(p, rng, r)
    D = mask.sum(axis=1)
    c2c = np.broadcast_to(p.c2c_from0, (r, n))
    base = p.mutex_ns + p.check_ns_per_c2c * np.where(mask, c2c, 0.0).sum(axis=1)
    out: dict[str, np.ndarray] = {"dirty_cpus": D.astype(float)}

    # ---- QW: staggered queueing, wake-up, FIFO lru_lock, last completion ----------
    qpos = np.cumsum(mask, axis=1)
    w = p.sampler.sample(rng, (r, n))
    hold = p.lru_frac * p.s_q_ns
    if p.sampler.constant:
        # starts are increasing in CPU id: no sort; clean CPUs pass the lock state through
        ids = np.broadcast_to(np.arange(n), (r, n))
        s = np.where(mask, base[:, None] + qpos * p.queue_ns + w, -np.inf)
        prev = np.maximum.accumulate(np.where(mask, ids, -1), axis=1)
        hand = np.zeros((r, n))
        if n > 1:
            has_prev = mask[:, 1:] & (prev[:, :-1] >= 0)
            hand[:, 1:] = np.where(has_prev, 2.0 * _pairs(p, np.maximum(prev[:, :-1], 0), ids[:, 1:]), 0.0)
        incr = np.where(mask, hold + hand, 0.0)
        order = None
    else:
        start = np.where(mask, base[:, None] + qpos * p.queue_ns + w, np.inf)
        order = np.argsort(start, axis=1, kind="stable")
        s = np.take_along_axis(start, order, axis=1)
        hand = np.zeros((r, n))
        if n > 1:
            hand[:, 1:] = 2.0 * _pairs(p, order[:, :-1], order[:, 1:])
        incr = hold + hand
    incr[:, 0] = 0.0
    cum = np.cumsum(incr, axis=1)
    live = np.isfinite(s)
    with np.errstate(invalid="ignore"):
        grant = cum + np.maximum.accumulate(s - cum, axis=1)
        spin_o = np.where(live, grant - s, 0.0)
        finish = np.where(live, grant + p.s_q_ns, -np.inf)
    last = finish.max(axis=1)
    if p.sampler.p_inf > 0:   # unbounded waits: the maximum is +inf wherever one draw is
        last = np.where((np.where(mask, w, 0.0) == np.inf).any(axis=1), np.inf, last)
    queued = base + D * p.queue_ns
    done = np.where(D > 0, np.maximum(queued, last), base)   # the last drain's end
    wakeup = np.where(D > 0, p.wakeup_ns, 0.0)
    if p.pattern == "async":   # the requester returns once it has queued the drains
        out["qw_requester"], wakeup = queued, np.zeros(r)
    else:
        out["qw_requester"] = done + wakeup
    out["qw_done"] = done
    if order is None:
        spin = spin_o
    else:
        spin = np.empty((r, n))
        np.put_along_axis(spin, order, spin_o, axis=1)
    spin = np.where(mask, np.nan_to_num(spin, nan=np.inf), 0.0)
    out["qw_cpu"] = queued + (p.victim_fixed_ns + p.s_q_ns) * D + spin.sum(axis=1) + wakeup
    qv = np.zeros((r, n)) if p.idle else np.where(mask, p.victim_fixed_ns + p.s_q_ns + spin, 0.0)
    _victims(out, "qw", qv, mask)

    # ---- RL: sequential remote drains under each owner's lock ------------------------
    s_r = p.lines_r * c2c + p.item_work_ns
    if p.idle or p.local_hz == 0.0:
        wait = np.zeros((r, n))
    else:
        u = rng.random((r, n))
        rho = p.local_hz * 1e-9 * p.local_cs_ns
        wait = np.where(u < rho, p.local_cs_ns * u / rho, 0.0)     # U(0, S_L) given busy
    out["rl_requester"] = base + np.where(mask, wait + s_r, 0.0).sum(axis=1)
    if p.local_hz > 0.0:
        think = 1.0 / (p.local_hz * 1e-9) - p.local_cs_ns        # mean think time, ns
        t1 = rng.exponential(think, (r, n))
        p_local = 1.0 / (1.0 + p.remote_hz * 1e-9 * think)          # next op before next drain
        nxt = (t1 < s_r) | (rng.random((r, n)) < p_local)
        nxt &= not p.idle          # an idle owner issues no local op: no refetch either
        own_spin = np.where(p.idle, 0.0, np.maximum(s_r - t1, 0.0))
    else:
        nxt = np.zeros((r, n), dtype=bool)
        own_spin = np.zeros((r, n))
    refetch = p.refetch_lines * c2c * nxt
    loss = np.where(mask, own_spin + refetch, 0.0)
    out["rl_cpu"] = out["rl_requester"] + loss.sum(axis=1)
    _victims(out, "rl", np.zeros((r, n)) if p.idle else loss, mask)
    out["rl_loss_sum"] = np.array([loss.sum()])
    out["rl_loss_count"] = np.array([float(mask.sum())])
    return out


def _victims(out: dict[str, np.ndarray], key: str, loss: np.ndarray, mask: np.ndarray) -> None:
    """Victim draws of one block: every dirty target's interruption (``{key}_victim``, flat),
    and per replication their sum and the largest (``_sum``, ``_max``; 0 without a drain)."""
    out[f"{key}_victim"] = loss[mask]
    out[f"{key}_victim_sum"] = loss.sum(axis=1)
    out[f"{key}_victim_max"] = np.where(mask, loss, -np.inf).max(axis=1, initial=-np.inf)
    out[f"{key}_victim_max"][~mask.any(axis=1)] = 0.0


def victim_summary(x: dict[str, np.ndarray], key: str) -> dict[str, float]:
    """Victim mean over the dirty targets of every call (sum of interruptions / sum of D),
    its 95 % interval (ratio estimator over replications: the targets of one call share
    one lru_lock queue, so they are not independent draws), and the victim worst: the
    largest interruption over the targets of a call, averaged over the calls with a
    dirty target (with its 95 % interval)."""
    tot, d = x[f"{key}_victim_sum"], x["dirty_cpus"]
    if d.sum() < 1 or d.size < 2:
        return {"victim_mean_ns": 0.0, "victim_mean_lo_ns": 0.0, "victim_mean_hi_ns": 0.0,
                "victim_worst_ns": 0.0, "victim_worst_lo_ns": 0.0, "victim_worst_hi_ns": 0.0}
    mx = x[f"{key}_victim_max"][d > 0]
    w = mean_ci(mx) if mx.size >= 2 else None
    worst = {"victim_worst_ns": w.value if w else float(mx.mean()),
             "victim_worst_lo_ns": w.lo if w else math.nan, "victim_worst_hi_ns": w.hi if w else math.nan}
    if not np.isfinite(tot).all():
        return {"victim_mean_ns": math.inf, "victim_mean_lo_ns": math.inf,
                "victim_mean_hi_ns": math.inf, **worst}
    m = float(tot.sum() / d.sum())
    se = float(np.sqrt(((tot - m * d) ** 2).sum() / (d.size * (d.size - 1))) / d.mean())
    return {"victim_mean_ns": m, "victim_mean_lo_ns": m - Z95 * se, "victim_mean_hi_ns": m + Z95 * se,
            **worst}


def _run_blocks(args: tuple[Plan, int, list[tuple[int, int]]]) -> list[dict[str, np.ndarray]]:
    p, seed, blocks = args
    return [simulate_block(p, seed, b, r) for b, r in blocks]


def samples(sc: Scenario, n: int, reps: int = 4096, seed: int = 0, dirty: str = "binomial",
            workers: int = 1) -> dict[str, np.ndarray]:
    """Raw per-replication draws (ns) for one CPU count; same result for any ``workers``."""
    if reps < 2:
        raise PwmodelError(f"need at least 2 replications, found {reps}", field="reps")
    p = plan(sc, n, dirty)
    br = block_reps(p.n)
    blocks = [(b, min(br, reps - b * br)) for b in range(math.ceil(reps / br))]
    if workers > 1 and len(blocks) > 1:
        chunks = [(p, seed, blocks[i::workers]) for i in range(workers)]
        with ProcessPoolExecutor(workers) as ex:
            done = list(ex.map(_run_blocks, chunks))
        by_block = {b: pt for (_, _, bl), res in zip(chunks, done) for (b, _), pt in zip(bl, res)}
        parts = [by_block[b] for b, _ in blocks]
    else:
        parts = _run_blocks((p, seed, blocks))
    return {k: np.concatenate([pt[k] for pt in parts]) for k in parts[0]}


def simulate(sc: Scenario, n_cpus: Sequence[int] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
             reps: int = 4096, seed: int = 0, dirty: str = "binomial", workers: int = 1) -> pl.DataFrame:
    """Simulated counterpart of :func:`pwmodel.evaluate.evaluate`: one row per (n_cpus, strategy).

    Same columns as the analytic frame (requester_p99_ns etc.), plus requester p50,
    p99.9 and max, 95 % CIs (``*_lo_ns``, ``*_hi_ns``), replications and the seed.
    Victim mean and worst as in the module docstring (mean over the dirty targets; the
    largest over the targets of a call, averaged over calls), with 95 % intervals.
    """
    ps = sc.params()
    qw_cfg, rl_cfg = sc.configs
    tax = {"QW": float(numeric(FP.tax_expr(qw_cfg), ps.values)),
           "RL": float(numeric(FP.tax_expr(rl_cfg), ps.values))}
    rows = []
    for n in n_cpus:
        x = samples(sc, int(n), reps, seed, dirty, workers)
        lam_r, lam_l = ps["remote_rate_hz"], ps["local_rate_hz"]
        extra_rl = (lam_r / lam_l * float(x["rl_loss_sum"].sum() / max(x["rl_loss_count"].sum(), 1.0))
                    if lam_l > 0 else 0.0)
        for strat, key, cfg in (("QW", "qw", qw_cfg), ("RL", "rl", rl_cfg)):
            req = summarise(x[f"{key}_requester"], "requester")
            vic = victim_summary(x, key)
            cpu = summarise(x[f"{key}_cpu"], "cpu_time")
            extra = extra_rl if strat == "RL" else 0.0
            row = {"machine": sc.machine.name, "callsite": sc.callsite_name, "isolation": sc.isolation,
                   "preempt_model": sc.preempt, "strategy": strat, "config": cfg, "n_cpus": int(n),
                   "dirty_cpus": float(x["dirty_cpus"].mean()),
                   **req,
                   **vic,
                   "cpu_time_ns": cpu["cpu_time_mean_ns"], "cpu_time_lo_ns": cpu["cpu_time_mean_lo_ns"],
                   "cpu_time_hi_ns": cpu["cpu_time_mean_hi_ns"],
                   "fastpath_tax_ns": tax[strat], "fastpath_extra_ns": extra,
                   "cpu_load_cpus": float(numeric(F.cpu_load_expr(), {
                       **ps.values, "n_cpus": int(n), "drain_cpu_ns": cpu["cpu_time_mean_ns"],
                       "op_cost_ns": tax[strat] + extra})),
                   "replications": x[f"{key}_requester"].size, "seed": seed, "dirty_mode": dirty}
            rows.append(row)
    return pl.DataFrame(rows).sort(["n_cpus", "strategy"])
