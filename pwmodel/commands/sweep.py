"""`pwmodel sweep SPEC --out DIR`: evaluate a TOML sweep spec to partitioned parquet."""

from __future__ import annotations

import argparse
import time

from pwmodel.errors import PwmodelError


def _run(args: argparse.Namespace) -> int:
    from pwmodel import limits
    from pwmodel import sweep as SW

    if args.workers is not None:
        limits.check_int("--workers", args.workers, 1, limits.MAX_WORKERS)
    if args.chunk_points is not None:
        limits.check_int("--chunk-points", args.chunk_points, 1, limits.MAX_CHUNK)
    if args.out is not None and not args.check:
        from pwmodel.outpath import check_dir
        check_dir(args.out)
    spec = SW.load(args.spec)
    if args.seed is not None:
        if args.seed < 0:
            raise PwmodelError(f"seed must be >= 0, found {args.seed}", field="--seed")
        spec = spec.replace(seed=args.seed)
    if args.check:
        print(f"{spec.path}: {spec.kind} sweep '{spec.name}', {spec.n_points:,} points over "
              + " x ".join(f"{a}[{len(v)}]" for a, v in spec.axes.items()))
        return 0
    if args.out is None:
        raise PwmodelError("--out DIR is required (or --check to validate only)", field="--out")
    t0 = time.perf_counter()
    lf = SW.run(spec, args.out, executor=args.executor, workers=args.workers,
                scheduler=args.scheduler, quiet=args.quiet, force=args.force,
                chunk_points=args.chunk_points)
    secs = time.perf_counter() - t0
    if not args.quiet:
        cols = lf.collect_schema().names()
        print(f"{spec.n_points:,} points -> {args.out} ({len(cols)} columns) in {secs:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="evaluate a parameter sweep (TOML spec) to parquet",
                       description="Evaluate every point of a sweep spec (see sweeps/*.toml) and "
                                   "write one parquet file per chunk into DIR. A re-run of the "
                                   "same spec resumes where an interrupted run stopped.")
    p.add_argument("spec", help="sweep spec (TOML)")
    p.add_argument("--out", metavar="DIR", help="output folder (created; resumed if it holds "
                                                "an unfinished run of the same spec)")
    p.add_argument("--executor", default="auto", choices=["auto", "local", "dask"],
                   help="auto: threads for analytic, Dask for Monte-Carlo sweeps")
    p.add_argument("--workers", type=int, default=None,
                   help="threads (local executor, default: all CPUs) or local Dask worker "
                        "processes (default 2)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="address of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--chunk-points", type=int, default=None,
                   help="grid points per chunk (overrides the spec)")
    p.add_argument("--seed", type=int, default=None, help="Monte-Carlo seed (overrides the spec)")
    p.add_argument("--force", action="store_true",
                   help="start over: delete the files the folder's sweep manifest lists (never "
                        "files pwmodel did not write)")
    p.add_argument("--check", action="store_true", help="validate the spec and print its size")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary line")
    p.set_defaults(func=_run)
