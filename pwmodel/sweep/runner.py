"""Run a sweep: chunks computed in threads or on Dask, streamed to parquet, resumable.

Executors:

* ``"local"``: a thread pool in this process (NumPy releases the GIL); at
  most ``2 x workers`` chunks in flight, so grids larger than memory stream.
* ``"dask"``: a Dask cluster; a local one (processes, one thread per worker,
  no public dashboard) unless ``scheduler`` names a running scheduler. Chunk
  frames come back to this process, which writes them.

``"auto"`` is local for analytic sweeps and Dask for Monte-Carlo ones. The
numbers do not depend on the executor, the number of workers or the chunk
size (each point is computed from its grid coordinates and the spec alone).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import polars as pl

from pwmodel.errors import PwmodelError
from pwmodel.sweep.analytic import AnalyticChunker
from pwmodel.sweep.montecarlo import MonteCarloChunker, Simulator, default_simulator
from pwmodel.sweep.spec import SweepSpec
from pwmodel.sweep.store import Store

EXECUTORS = ("auto", "local", "dask")
OnChunk = Callable[[int, int], None]

_WORKER_CACHE: dict[str, object] = {}


def chunker(spec: SweepSpec, simulator: Simulator | None = None) -> AnalyticChunker | MonteCarloChunker:
    """The chunk calculator of a spec (analytic or Monte-Carlo)."""
    if spec.kind == "analytic":
        return AnalyticChunker(spec)
    return MonteCarloChunker(spec, simulator)


def _dask_chunk(spec: SweepSpec, k: int, simulator: Simulator | None) -> pl.DataFrame:
    """Task run on a Dask worker: chunk ``k`` (the chunker is cached per spec)."""
    key = spec.fingerprint() + (getattr(simulator, "__qualname__", "") if simulator else "")
    ch = _WORKER_CACHE.get(key)
    if ch is None:
        _WORKER_CACHE.clear()
        ch = _WORKER_CACHE[key] = chunker(spec, simulator)
    return ch.chunk(k)  # type: ignore[union-attr]


def _progress(total: int, initial: int, quiet: bool, desc: str):
    from tqdm import tqdm
    disable = quiet or not sys.stderr.isatty()
    return tqdm(total=total, initial=initial, unit="pt", unit_scale=True, desc=desc,
                disable=disable, file=sys.stderr, mininterval=0.5,
                ncols=min(shutil.get_terminal_size().columns, 120))


def run(spec: SweepSpec, out: str | os.PathLike | None = None, *, executor: str = "auto",
        workers: int | None = None, scheduler: str | None = None, quiet: bool = True,
        force: bool = False, chunk_points: int | None = None,
        simulator: Simulator | None = None, on_chunk: OnChunk | None = None) -> pl.LazyFrame:
    """Evaluate every point of ``spec``; return the result as a LazyFrame in grid order.

    With ``out`` the chunks go to parquet files in that folder (resuming a
    previous run of the same spec); without, they are kept in memory.
    ``on_chunk(k, rows)`` is called after chunk ``k`` is stored.
    """
    if executor not in EXECUTORS:
        raise PwmodelError(f"unknown executor '{executor}' (known: {', '.join(EXECUTORS)})",
                           field="executor")
    if chunk_points is not None:
        if chunk_points < 1:
            raise PwmodelError(f"chunk size must be >= 1 point, found {chunk_points}",
                               field="chunk_points")
        spec = spec.replace(chunk_points=int(chunk_points))
    if spec.kind == "montecarlo":
        name = (f"{simulator.__module__}.{simulator.__qualname__}" if simulator
                else default_simulator()[1])
        spec = spec.replace(simulator=name)
    if executor == "auto":
        executor = "dask" if (spec.kind == "montecarlo" or scheduler) else "local"
    if workers is not None and workers < 1:
        raise PwmodelError(f"workers must be >= 1, found {workers}", field="workers")
    ch = chunker(spec, simulator)
    grid = ch.grid
    store = Store(out, spec, grid.n_chunks, grid.n_points) if out is not None else None
    todo = store.open(force=force) if store else list(range(grid.n_chunks))
    held: dict[int, pl.DataFrame] = {}

    def sink(k: int, frame: pl.DataFrame) -> None:
        if store is not None:
            store.write(k, frame)
        else:
            held[k] = frame

    t0 = time.perf_counter()
    done_pts = grid.n_points - sum(_rows(grid, k) for k in todo)
    with _progress(grid.n_points, done_pts, quiet, spec.name) as bar:
        def after(k: int) -> None:
            bar.update(_rows(grid, k))
            if on_chunk is not None:
                on_chunk(k, _rows(grid, k))

        if executor == "local":
            _run_local(ch, todo, sink, after, workers or os.cpu_count() or 1)
        else:
            _run_dask(spec, todo, sink, after, workers or 2, scheduler, simulator)
    if store is not None:
        store.finish(time.perf_counter() - t0, len(todo))
        return store.scan()
    if not held:
        raise PwmodelError("the sweep has no points")
    return pl.concat([held[k] for k in range(grid.n_chunks)]).lazy()


def _rows(grid, k: int) -> int:
    lo, hi = grid.chunk_range(k)
    return hi - lo


def _run_local(ch, todo: list[int], sink, after, workers: int) -> None:
    """Thread pool: compute and write in the threads, at most 2 x workers in flight."""
    if not todo:
        return
    it = iter(todo)
    first = next(it)
    sink(first, ch.chunk(first))        # warms the expression and group caches
    after(first)

    def task(k: int) -> int:
        sink(k, ch.chunk(k))
        return k

    with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep") as pool:
        pending: set[cf.Future] = set()
        try:
            for k in _window(it, pending, pool, task, 2 * workers):
                after(k)
        except BaseException:
            for f in pending:
                f.cancel()
            raise


def _window(it: Iterable[int], pending: set, pool, task, limit: int):
    """Yield finished chunk numbers, keeping at most ``limit`` tasks submitted."""
    it = iter(it)
    exhausted = False
    while True:
        while not exhausted and len(pending) < limit:
            try:
                pending.add(pool.submit(task, next(it)))
            except StopIteration:
                exhausted = True
        if not pending:
            return
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        for f in done:
            pending.discard(f)
            yield f.result()


def _run_dask(spec: SweepSpec, todo: list[int], sink, after, workers: int,
              scheduler: str | None, simulator: Simulator | None) -> None:
    """Dask: submit chunks (bounded), write results here as they arrive."""
    if not todo:
        return
    from distributed import Client, LocalCluster, as_completed

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise PwmodelError(f"cannot reach Dask scheduler: {exc}", field="scheduler") from None
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               worker_dashboard_address=None,
                               silence_logs=logging.CRITICAL)
        client = Client(cluster)
    try:
        limit = 2 * max(1, len(client.scheduler_info().get("workers", {})) or workers)
        it = iter(todo)
        futs = {}
        ac = as_completed()
        for k in it:
            f = client.submit(_dask_chunk, spec, k, simulator, pure=False, key=f"sweep-{k}-"
                              f"{spec.fingerprint()}-{time.monotonic_ns()}")
            futs[f.key] = k
            ac.add(f)
            if len(futs) >= limit:
                break
        for f in ac:
            k = futs.pop(f.key)
            sink(k, f.result())
            f.release()
            after(k)
            nxt = next(it, None)
            if nxt is not None:
                g = client.submit(_dask_chunk, spec, nxt, simulator, pure=False,
                                  key=f"sweep-{nxt}-{spec.fingerprint()}-{time.monotonic_ns()}")
                futs[g.key] = nxt
                ac.add(g)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def resume_info(out: str | os.PathLike, spec: SweepSpec) -> tuple[int, int]:
    """(chunks done, chunks total) of ``spec`` in folder ``out`` (no change on disk)."""
    if spec.kind == "montecarlo" and not spec.simulator:
        spec = spec.replace(simulator=default_simulator()[1])
    ch = chunker(spec)
    store = Store(Path(out), spec, ch.grid.n_chunks, ch.grid.n_points)
    done = sum(store.path(k).exists() for k in range(ch.grid.n_chunks))
    return done, ch.grid.n_chunks
