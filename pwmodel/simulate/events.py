"""Event-level simulation: the two-class per-CPU lock and the global drain mutex.

Two-class lock (one CPU, steady state). The owner runs a program: think for
an Exp time (mean 1/lambda_L - S_L, so it issues ``local_rate_hz`` operations
per second), then one local critical section of S_L under its per-CPU lock.
Remote drains arrive as a Poisson stream (``remote_rate_hz``) and hold the
lock S_R. The lock is FIFO. A remote that finds the owner inside its
section waits for the rest of it; an owner operation that comes during a
remote hold spins to its end, and every later operation of the owner is
late by that spin (program order); when the owner's next operation takes
the lock before the next remote does, it pays the refetch (lock + batch
header lines). Owner operations are generated in the owner's own time in
one vectorised draw; the loop runs over remote drains only, so the cost is
per drain, not per local operation (why not SimPy: see benchmarks/).

Drain mutex (many callers, steady state). lru_add_drain_all() callers come
as a Poisson stream; each reads lru_drain_gen, takes the global mutex (FIFO;
a sleeping waiter costs ``handoff_ns`` to wake), and drains only if the
generation has not moved since it read it, else it piggy-backs on the drain
that ran meanwhile and just unlocks. A drain's length is drawn from the
fan-out simulation of :mod:`pwmodel.simulate.fanout`.

The analytic model has no mutex term yet; :func:`mutex_mean_proposal` is
the proposed one (gated batch service):
E[latency] = E[T] + p_busy E[T^2] / (2 E[T]),
p_busy = lambda E[T] / (E[exp(-lambda T)] + lambda E[T]).
All times in ns, rates in Hz.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.evaluate import Scenario
from pwmodel.simulate import fanout as SF
from pwmodel.simulate.sampling import block_rng, mean_ci, summarise


@dataclass(frozen=True)
class LockResult:
    """Steady-state statistics of one CPU's two-class lock (ns, Hz); CIs are 95 %."""

    local_wait_ns: float            # mean wait of a local op for a remote holder
    local_wait_ci_ns: tuple[float, float]
    remote_wait_ns: float           # mean wait of a remote drain for the owner's section
    remote_wait_ci_ns: tuple[float, float]
    victim_ns: float                # mean owner loss per remote drain (spin + refetch)
    victim_ci_ns: tuple[float, float]
    transition_hz: float            # remote -> local lock hand-overs per second
    n_local: int
    n_remote: int
    duration_ns: float

    @property
    def events(self) -> int:
        """Arrivals plus departures simulated."""
        return 2 * (self.n_local + self.n_remote)


def _check_rate(name: str, v: float, lo: float = 0.0) -> float:
    if not (math.isfinite(v) and v >= lo):
        raise PwmodelError(f"expected a finite value >= {lo:g}, found {v!r}", field=name)
    return float(v)


def two_class_lock(local_hz: float, remote_hz: float, local_cs_ns: float, remote_hold_ns: float,
                   refetch_ns: float = 0.0, duration_ns: float = 1e8, seed: int = 0) -> LockResult:
    """Simulate one CPU's per-CPU lock for ``duration_ns`` of real time (see module doc)."""
    ll = _check_rate("local_rate_hz", local_hz, 1e-12)
    lr = _check_rate("remote_rate_hz", remote_hz, 1e-12)
    sl = _check_rate("local_cs_ns", local_cs_ns)
    sr = _check_rate("remote_hold_ns", remote_hold_ns)
    rf = _check_rate("refetch_ns", refetch_ns)
    _check_rate("duration_ns", duration_ns, 1.0)
    think = 1e9 / ll - sl
    if think <= 0:
        raise PwmodelError(f"local_rate_hz x local_cs_ns must be < 1, found {ll * sl * 1e-9:.3g}",
                           field="local_rate_hz")
    rng = block_rng(seed, 0, 0)
    n_rem = int(rng.poisson(lr * 1e-9 * duration_ns))
    arr = np.sort(rng.uniform(0.0, duration_ns, n_rem))
    # owner ops in owner time; real time runs ahead by the losses, so draw a margin
    n_loc = int(duration_ns / (think + sl) * 1.2 + 10 * math.sqrt(duration_ns / (think + sl)) + 16)
    u = np.cumsum(rng.exponential(think, n_loc) + sl) - sl
    waits_r = np.zeros(n_rem)
    victim = np.zeros(n_rem)
    spins = 0.0
    delta = 0.0
    release = -math.inf
    trans = 0
    ss = np.searchsorted
    for j in range(n_rem):
        a = max(arr[j], release)
        x = a - delta
        k = int(ss(u, x, "right")) - 1
        g = a
        if k >= 0 and x < u[k] + sl:
            g = a + (u[k] + sl - x)
        waits_r[j] = g - arr[j] if arr[j] >= release else g - a
        release = g + sr
        nk = k + 1
        if nk >= n_loc:
            raise PwmodelError("owner program exhausted; shorten duration_ns", field="duration_ns")
        ready = u[nk] + delta
        loss = 0.0
        if ready < release:
            loss = release - ready
            spins += loss
            local_next = True
        else:
            local_next = j + 1 >= n_rem or ready < arr[j + 1]
        if local_next:
            loss += rf
            trans += 1
        delta += loss
        victim[j] = loss
    # local ops inside the horizon (real time)
    real_local = int(ss(u + delta, duration_ns, "right")) if n_rem else int(ss(u, duration_ns, "right"))
    n_local = max(real_local, 1)
    lw = spins / n_local
    # CI of the local wait from the per-drain spins (each drain contributes its spin)
    spin_per = victim - np.where(victim >= rf, rf, 0.0) if n_rem else np.zeros(1)
    se_lw = float(spin_per.std(ddof=1) * math.sqrt(max(n_rem, 1)) / n_local) if n_rem > 1 else math.inf
    wr, vi = mean_ci(waits_r) if n_rem > 1 else None, mean_ci(victim) if n_rem > 1 else None
    nan2 = (math.nan, math.nan)
    return LockResult(
        local_wait_ns=lw, local_wait_ci_ns=(lw - 1.96 * se_lw, lw + 1.96 * se_lw),
        remote_wait_ns=wr.value if wr else math.nan, remote_wait_ci_ns=(wr.lo, wr.hi) if wr else nan2,
        victim_ns=vi.value if vi else math.nan, victim_ci_ns=(vi.lo, vi.hi) if vi else nan2,
        transition_hz=trans / duration_ns * 1e9, n_local=real_local, n_remote=n_rem,
        duration_ns=duration_ns)


@dataclass(frozen=True)
class MutexResult:
    """Callers of lru_add_drain_all() under the global mutex (ns)."""

    latency_ns: np.ndarray      # per caller, arrival to mutex release
    drained: np.ndarray         # per caller: True if it ran a drain, False if it piggy-backed
    duration_ns: float

    @property
    def events(self) -> int:
        """Arrival, mutex acquisition and release per caller."""
        return 3 * self.latency_ns.size


def drain_mutex(arrivals_ns: np.ndarray, drain_ns: np.ndarray, mutex_ns: float,
                handoff_ns: float) -> MutexResult:
    """Serialise callers (sorted arrival times) through the mutex with lru_drain_gen.

    ``drain_ns[i]`` is the length of a drain if caller i runs one (mutex
    included); a piggy-backing caller holds the mutex ``mutex_ns``; a caller
    that had to sleep on the mutex starts ``handoff_ns`` after the release.
    """
    t = np.asarray(arrivals_ns, dtype=float)
    dr = np.asarray(drain_ns, dtype=float)
    if t.shape != dr.shape:
        raise PwmodelError(f"need one drain length per caller, found {dr.shape} for {t.shape}",
                           field="drain_ns")
    if t.size and np.any(np.diff(t) < 0):
        raise PwmodelError("caller arrival times must be sorted", field="arrivals_ns")
    lat = np.empty(t.size)
    drained = np.zeros(t.size, dtype=bool)
    starts: list[float] = []        # times at which drains started (lru_drain_gen increments)
    release = -math.inf
    bl = bisect.bisect_left
    for i in range(t.size):
        ti = t[i]
        gen_read = bl(starts, ti)                      # drains started before this caller read gen
        m = ti if ti >= release else release + handoff_ns
        if len(starts) == gen_read:                    # nobody drained since: drain
            starts.append(m)
            release = m + dr[i]
            drained[i] = True
        else:
            release = m + mutex_ns
        lat[i] = release - ti
    return MutexResult(lat, drained, float(t[-1] - t[0]) if t.size > 1 else 0.0)


def mutex_mean_proposal(caller_hz: float, drain_ns: np.ndarray) -> float:
    """Proposed analytic mean caller latency (ns) under the mutex with piggy-backing."""
    T = np.asarray(drain_ns, dtype=float)
    m1, m2 = float(T.mean()), float((T ** 2).mean())
    lam = caller_hz * 1e-9
    lt = float(np.exp(-lam * T).mean())
    p = lam * m1 / (lt + lam * m1)
    return m1 + p * m2 / (2 * m1)


def mutex_sweep(sc: Scenario, n_cpus: int, caller_rates_hz: Sequence[float], callers: int = 20000,
                seed: int = 0, dirty: str = "binomial") -> pl.DataFrame:
    """Requester latency vs caller rate for both strategies at ``n_cpus`` (one row each)."""
    x = SF.samples(sc, n_cpus, reps=4096, seed=seed, dirty=dirty)
    ps = sc.params()
    rows = []
    for ri, rate in enumerate(caller_rates_hz):
        _check_rate("caller_rate_hz", rate, 1e-12)
        rng = block_rng(seed, 10_000 + n_cpus, ri)
        t = np.cumsum(rng.exponential(1e9 / rate, callers))
        for strat, key in (("QW", "qw"), ("RL", "rl")):
            pool = x[f"{key}_requester"]
            if not np.isfinite(pool).all():
                continue
            dr = pool[rng.integers(0, pool.size, callers)]
            # QW's holder sleeps in flush_work, so a waiter sleeps too and is woken;
            # RL's holder runs, so a waiter spins (optimistic spinning): hand-off ~ mutex_ns
            hand = ps["requester_wakeup_ns"] if strat == "QW" else ps["mutex_ns"]
            res = drain_mutex(t, dr, ps["mutex_ns"], hand)
            s = summarise(res.latency_ns, "requester")
            rows.append({"machine": sc.machine.name, "isolation": sc.isolation, "strategy": strat,
                         "n_cpus": n_cpus, "caller_rate_hz": float(rate),
                         "drain_mean_ns": float(pool.mean()),
                         "requester_mean_ns": s["requester_mean_ns"],
                         "requester_mean_lo_ns": s["requester_mean_lo_ns"],
                         "requester_mean_hi_ns": s["requester_mean_hi_ns"],
                         "requester_p99_ns": s["requester_p99_ns"],
                         "drains_per_call": float(res.drained.mean()),
                         "proposed_mean_ns": mutex_mean_proposal(rate, pool),
                         "callers": callers})
    return pl.DataFrame(rows)


def lock_grid(local_rates_hz: Sequence[float] = (1e5, 1e6, 1e7), remote_rates_hz: Sequence[float] = (1e3, 1e5),
              local_cs_ns: float = 30.0, remote_hold_ns: float = 2600.0, refetch_ns: float = 200.0,
              min_drains: int = 4000, seed: int = 0) -> pl.DataFrame:
    """Event-level lock statistics vs the contention formulas on a rate grid (one row each)."""
    from pwmodel.models import contention, numeric
    rows = []
    for i, ll in enumerate(local_rates_hz):
        for j, lr in enumerate(remote_rates_hz):
            dur = min_drains / lr * 1e9
            res = two_class_lock(ll, lr, local_cs_ns, remote_hold_ns, refetch_ns, dur, seed + 97 * i + j)
            # the contention expressions with S_R and the refetch fixed to the simulated values
            v = {"remote_rate_hz": lr, "local_rate_hz": ll, "local_cs_ns": local_cs_ns}
            a_lw = float(numeric(contention.local_wait_expr(_const(remote_hold_ns)), v))
            a_rw = float(numeric(contention.remote_wait_expr(), v))
            a_tr = float(numeric(contention.transition_rate_expr(remote_hold=_const(remote_hold_ns)), v))
            a_vi = _victim_analytic(ll, lr, remote_hold_ns, refetch_ns, local_cs_ns)
            rows.append({"local_rate_hz": ll, "remote_rate_hz": lr,
                         "local_wait_sim_ns": res.local_wait_ns, "local_wait_ana_ns": a_lw,
                         "local_wait_lo_ns": res.local_wait_ci_ns[0], "local_wait_hi_ns": res.local_wait_ci_ns[1],
                         "remote_wait_sim_ns": res.remote_wait_ns, "remote_wait_ana_ns": a_rw,
                         "remote_wait_lo_ns": res.remote_wait_ci_ns[0], "remote_wait_hi_ns": res.remote_wait_ci_ns[1],
                         "victim_sim_ns": res.victim_ns, "victim_ana_ns": a_vi,
                         "victim_lo_ns": res.victim_ci_ns[0], "victim_hi_ns": res.victim_ci_ns[1],
                         "transition_sim_hz": res.transition_hz, "transition_ana_hz": a_tr,
                         "events": res.events})
    return pl.DataFrame(rows)


def _const(x: float):
    import sympy as sp
    return sp.Float(x)


def _victim_analytic(ll: float, lr: float, sr: float, rf: float, sl: float) -> float:
    """fanout.rl_owner_loss_expr with S_R and the refetch replaced by the simulated constants."""
    from pwmodel.models import fanout as F, numeric
    import sympy as sp
    c = sp.Symbol("c2c_ns")       # with these line counts S_R = 2 c2c + item_drain, refetch = 2 c2c
    expr = F.rl_owner_loss_expr(c)
    c2c = rf / 2.0
    base = {"remote_rate_hz": lr, "local_rate_hz": ll, "local_cs_ns": sl, "lines_lock": 1.0,
            "lines_batch_hdr": 1.0, "batch_items": 1.0, "lines_per_item": 0.0,
            "folio_lines_per_item": 0.0, "c2c_ns": c2c, "item_drain_ns": max(sr - 2 * c2c, 0.0)}
    return float(numeric(expr, base))
