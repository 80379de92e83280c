"""`pwmodel params`: the parameter registry with units, meanings, defaults and sources."""

from __future__ import annotations

import argparse

from pwmodel import machine as M, params as P


def _run(args: argparse.Namespace) -> int:
    ps = P.resolve(M.get(args.machine) if args.machine else None)
    for name, p in P.PARAMS.items():
        print(f"{name} = {ps[name]:g} {p.unit}  ({p.meaning})")
        print(f"    bounds [{p.bounds[0]:g}, {p.bounds[1]:g}]; source: {ps.sources[name]}")
        iv = ps.interval(name)
        if iv is not None:
            print(f"    interval [{iv.low:g}, {iv.high:g}] {p.unit} ({iv.kind}); source: {iv.source}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("params", help="list model parameters with units and sources")
    p.add_argument("--machine", help="resolve with this machine profile")
    p.set_defaults(func=_run)
