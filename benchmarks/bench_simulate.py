"""Speed of the simulator, each as a ratio to a plain SimPy implementation of the same queue.

    python benchmarks/bench_simulate.py [--workers 2] [--quick]

1. Vectorised fan-out: per-CPU latency samples per second of
   pwmodel.simulate.fanout.simulate (both strategies, N = 1024, idle targets:
   random wake-ups, so the FIFO lru_lock needs a sort), vs a SimPy process per
   CPU doing the same QW mechanism (queue, wake-up, lru_lock FIFO, drain).
2. Event level: events per second of pwmodel.simulate.events.two_class_lock
   vs a SimPy owner process and remote-drain processes on a FIFO Resource
   (same semantics), with both means printed as a cross-check.
Needs SimPy (test extra). Target: >= 10 million per-CPU samples per second on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pwmodel import machine as M
from pwmodel.evaluate import Scenario
from pwmodel.simulate import events as EV, fanout as SF
from pwmodel.simulate.sampling import FastSampler


def simpy_fanout(p: SF.Plan, reps: int, seed: int) -> float:
    """QW requester latency with SimPy; returns seconds spent."""
    import simpy
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for _ in range(reps):
        env = simpy.Environment()
        lock = simpy.Resource(env, capacity=1)
        dirty = np.nonzero(rng.random(p.n) < p.d)[0]
        w = p.sampler.sample(rng, dirty.size)

        def work(j: int, wake: float):
            yield env.timeout(j * p.queue_ns + wake)
            with lock.request() as req:
                yield req
                yield env.timeout(p.lru_frac * p.s_q_ns)
            yield env.timeout((1 - p.lru_frac) * p.s_q_ns)

        procs = [env.process(work(j + 1, float(w[j]))) for j in range(dirty.size)]
        if procs:
            env.run(simpy.AllOf(env, procs))
    return time.perf_counter() - t0


def simpy_lock(ll: float, lr: float, sl: float, sr: float, dur: float, seed: int) -> tuple[float, int, float]:
    """Two-class lock with SimPy: (seconds, events, mean remote wait ns)."""
    import simpy
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    lock = simpy.Resource(env, capacity=1)
    think = 1e9 / ll - sl
    waits: list[float] = []
    count = [0]

    def owner():
        while True:
            yield env.timeout(rng.exponential(think))
            with lock.request() as req:
                yield req
                yield env.timeout(sl)
            count[0] += 1

    def drain():
        a = env.now
        with lock.request() as req:
            yield req
            waits.append(env.now - a)
            yield env.timeout(sr)

    def remotes():
        while True:
            yield env.timeout(rng.exponential(1e9 / lr))
            env.process(drain())
            count[0] += 1

    env.process(owner())
    env.process(remotes())
    t0 = time.perf_counter()
    env.run(until=dur)
    return time.perf_counter() - t0, 2 * count[0], float(np.mean(waits))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    sc = Scenario(M.get("amd-epyc-7r13-2s"), isolation="idle")
    n = 1024
    reps = 2048 if a.quick else 8192
    SF.simulate(sc, [n], reps=64)                       # warm-up (lambdify, imports)
    t = time.perf_counter()
    SF.simulate(sc, [n], reps=reps, workers=a.workers)
    dt = time.perf_counter() - t
    vec = reps * n / dt
    p = SF.plan(sc, n)
    s_reps = 4 if a.quick else 10
    st = simpy_fanout(p, s_reps, 0)
    sp_rate = s_reps * n / st
    fs = FastSampler(sc.wake_dist())
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for _ in range(20):
        fs.sample(rng, 1 << 20)
    raw = 20 * (1 << 20) / (time.perf_counter() - t)
    print(f"fan-out, N={n}, {reps} replications, {a.workers} workers: "
          f"{vec / 1e6:.2f} M per-CPU samples/s (both strategies, all mechanisms)")
    print(f"  wake-up draws alone (FastSampler, 1 core): {raw / 1e6:.1f} M samples/s")
    print(f"  plain SimPy, QW only, 1 core: {sp_rate / 1e6:.4f} M samples/s; ratio {vec / sp_rate:.0f}x")

    ll, lr, sl, sr = 1e6, 1e4, 30.0, 2600.0
    dur = 2e8 if a.quick else 1e9
    t = time.perf_counter()
    res = EV.two_class_lock(ll, lr, sl, sr, 0.0, dur, seed=1)
    et = time.perf_counter() - t
    sdur = dur / 20
    st, sev, sw = simpy_lock(ll, lr, sl, sr, sdur, 1)
    print(f"two-class lock, lambda_L={ll:g} Hz, lambda_R={lr:g} Hz: {res.events / et / 1e6:.2f} M events/s "
          f"(remote wait {res.remote_wait_ns:.3f} ns)")
    print(f"  plain SimPy: {sev / st / 1e6:.3f} M events/s (remote wait {sw:.3f} ns, includes waits "
          f"behind other remote drains, which the drain mutex rules out in the kernel); "
          f"ratio {res.events / et / (sev / st):.0f}x")
    rng = np.random.default_rng(2)
    t_arr = np.cumsum(rng.exponential(1e5, 200_000))
    t = time.perf_counter()
    mres = EV.drain_mutex(t_arr, np.full(t_arr.size, 8e4), 20.9, 3000.0)
    mt = time.perf_counter() - t
    print(f"drain mutex (Python event loop): {mres.events / mt / 1e6:.2f} M events/s")


if __name__ == "__main__":
    main()
