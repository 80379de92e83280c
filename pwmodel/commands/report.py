"""``pwmodel report``: write the report folder (figures, cover-letter text, tables)."""

from __future__ import annotations

import argparse
import sys
import time

from pwmodel import decide as DC
from pwmodel import machine as M
from pwmodel.errors import PwmodelError
from pwmodel.models import callsite as CS
from pwmodel.models import wakeup as W


def _override(text: str) -> tuple[str, float]:
    """NAME=VALUE, the name known to the registry and the value within its bounds."""
    from pwmodel import params as P
    if "=" not in text:
        raise PwmodelError(f"expected NAME=VALUE, found {text!r}", field="--param")
    name, _, value = text.partition("=")
    name = name.strip()
    try:
        v = float(value)
    except ValueError:
        raise PwmodelError(f"expected a number after '{name}=', found {value!r}",
                           field=name) from None
    P.check_names([name])
    return name, P.check_value(name, v)


def config_from_args(args: argparse.Namespace):
    """The report configuration the command line asks for."""
    from pwmodel.report.results import Config
    machines = tuple(args.machine or M.bundled_names())
    for m in machines:
        M.get(m)   # refuse unknown names and bad profiles early, with the file named
    overrides = tuple(_override(p) for p in (args.param or []))
    return Config(machines=machines,
                  callsites=tuple(args.callsite or CS.SERIES),
                  isolations=tuple(args.isolation or W.ISOLATION),
                  objective=args.objective, overrides=overrides, text_only=args.text_only)


def run(args: argparse.Namespace) -> int:
    from pwmodel.outpath import check_dir
    from pwmodel.report.build import build
    t0 = time.monotonic()
    check_dir(args.out)
    cfg = config_from_args(args)
    rep = build(cfg, args.out)
    if not args.quiet:
        for p in rep.files:
            print(p)
        print(f"pwmodel report: {len(rep.files)} files in {rep.out_dir} "
              f"({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="write the report folder: figures, cover-letter text, tables",
        description="Write figures (PNG and SVG), cover-letter.txt and table.txt answering "
                    "when remote per-CPU locking beats queued per-CPU work. Same input, "
                    "same bytes.")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (created; built aside and swapped in whole, so an "
                        "interrupted run leaves the previous report; other files kept)")
    p.add_argument("--machine", action="append", metavar="NAME|PATH",
                   help="bundled machine name or profile path (repeatable; default: all "
                        "bundled; the first is the one single-machine figures show)")
    p.add_argument("--callsite", action="append", metavar="NAME|PATH",
                   help="bundled call site (" + ", ".join(CS.CALLSITES) + ") or a call-site "
                        "TOML file (repeatable; default: the four the PW series converts; the "
                        "first drives the latency figures and tables)")
    p.add_argument("--isolation", action="append", choices=list(W.ISOLATION),
                   help="isolation level of the target CPU (repeatable; default: all)")
    p.add_argument("--objective", choices=list(DC.OBJECTIVES),
                   help="objective of the crossover maps (default: requester_mean for the "
                        "CPU count x isolation map, cpu_load for the CPU count x rate maps)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="override a model parameter (units as in its name; repeatable)")
    p.add_argument("--text-only", action="store_true",
                   help="write only the text files; figures of an earlier report in DIR are "
                        "removed (they would not match the new text)")
    p.add_argument("--quiet", action="store_true", help="do not list the files written")
    p.set_defaults(func=run)
