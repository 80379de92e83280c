"""`pwmodel calibrate`: a machine profile with its wake-up model from this machine's captures."""

from __future__ import annotations

import argparse


def _run(a: argparse.Namespace) -> int:
    from pwmodel import atomic, machine as M
    from pwmodel.errors import PwmodelError
    from pwmodel.fit.wakecal import calibrate_profile
    states: dict[str, str] = {}
    for item in a.state or []:
        iso, eq, path = item.partition("=")
        if not eq or not iso or not path:
            raise PwmodelError(f"--state must be ISOLATION=PATH, got {item!r}", field="state")
        states[iso.strip()] = path.strip()
    if not a.base:
        raise PwmodelError("give --base NAME|PATH (a bundled profile, or one written by "
                           "'pwmodel machine detect')", field="base")
    from pathlib import Path

    from pwmodel.outpath import check_file
    inputs = [a.base, a.micro, *states.values()]
    check_file(a.out, inputs=[i for i in inputs if i], suffixes=(".toml",))
    for i in inputs[1:]:
        if i and not Path(i).exists():
            raise PwmodelError("cannot read: No such file or directory", file=i)
    base = M.get(a.base)
    m = calibrate_profile(base, states, micro=a.micro, tick_hz=a.tick_hz, name=a.name)
    atomic.write_text(a.out, M.to_toml(m))
    print(f"wrote {a.out} ({m.summary()}; wake-up model for {', '.join(m.wakeup) or 'no level'})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="calibrate a machine profile and its wake-up model from captures",
                       description="Writes a machine profile: --base's, with micro constants from --micro "
                       "(a 'pwmodel collect micro' folder), HZ from --tick-hz, and per --state "
                       "ISOLATION=PATH (a 'pwmodel collect drain' folder or a 'pwmodel ingest' lifecycle "
                       "table) the EEVDF wake-up model's parameters with intervals and sources.")
    p.add_argument("--base", metavar="NAME|PATH", help="profile to start from (bundled name or .toml)")
    p.add_argument("--state", action="append", metavar="ISOLATION=PATH",
                   help="busy_other, isolcpus_other or nohz_other = capture; repeatable")
    p.add_argument("--micro", metavar="PATH", help="'pwmodel collect micro' folder or micro table")
    p.add_argument("--tick-hz", type=int, choices=[100, 250, 300, 1000], help="CONFIG_HZ of the machine")
    p.add_argument("--name", help="profile name (default: the base's)")
    p.add_argument("--out", required=True, metavar="PROFILE.toml")
    p.set_defaults(func=_run)
