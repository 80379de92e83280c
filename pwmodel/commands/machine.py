"""`pwmodel machine`: list, show, check and detect machine profiles."""

from __future__ import annotations

import argparse

import math
import re

from pwmodel import atomic, machine as M
from pwmodel.errors import PwmodelError


def _c2c(items: list[str]) -> dict[str, float]:
    """'CLASS=NS' options -> {class: ns}; each a finite number > 0."""
    out: dict[str, float] = {}
    for t in items:
        k, eq, v = t.partition("=")
        if not eq or not k.strip():
            raise PwmodelError(f"expected CLASS=NS, found {t!r}", field="--c2c")
        try:
            x = float(v)
        except ValueError:
            raise PwmodelError(f"latency of '{k}' must be a number of ns, found {v!r}",
                               field="--c2c") from None
        if not math.isfinite(x):
            raise PwmodelError(f"latency of '{k}' must be finite, found {v!r}", field="--c2c")
        if not x > 0:
            raise PwmodelError(f"latency of '{k}' must be > 0 ns, found {v!r}", field="--c2c")
        out[k.strip()] = x
    return out


def _cpu_id(text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()):
        raise PwmodelError(f"CPU ids must be integers, found {text!r}", field="--pair")
    return int(text)


def _run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for m in M.bundled():
            print(m.summary())
        return 0
    if args.action == "detect":
        c2c = _c2c(args.c2c or [])
        if not re.fullmatch(r"[A-Za-z0-9_.+-]+", args.name or ""):
            raise PwmodelError(f"profile name must be letters, digits and _.+-, found {args.name!r}",
                               field="--name")
        if args.out is not None:
            from pwmodel.outpath import check_file
            check_file(args.out)
        known = [cls for cls, _ in M.detect_topology()["levels"]]
        unknown = sorted(set(c2c) - set(known))
        if unknown:
            raise PwmodelError(f"unknown pair class '{unknown[0]}' (this machine's classes: "
                               f"{', '.join(known)})", field="--c2c")
        m = M.detect(c2c, name=args.name)
        text = M.to_toml(m)
        if args.out:
            atomic.write_text(args.out, text)
        else:
            print(text, end="")
        return 0
    if not args.profile:
        raise PwmodelError("give a profile name or file", field="profile")
    m = M.get(args.profile)
    if args.action == "check":
        n_iv = len(m.param_intervals())
        print(f"{m.path}: ok ({m.summary()}; {n_iv} cost interval{'s' if n_iv != 1 else ''})")
        dflt = M.registry_defaults(m)
        print(f"  from registry defaults (not set by the profile; `pwmodel params` gives each "
              f"source): {', '.join(dflt) if dflt else 'none'}")
        return 0
    if args.wake:
        return _show_wake(m, args.wake, args.json)
    print(m.summary())
    pairs = [(_cpu_id(a), _cpu_id(b)) for a, b in args.pair or []]
    for a, b in pairs:
        print(f"cpu {a} - cpu {b}: {m.pair_class(a, b)} {m.pair_c2c_ns(a, b):g} ns")
    ivs = m.param_intervals()
    for k, (v, src) in sorted(m.param_values().items()):
        iv = f" in [{ivs[k][0]:g}, {ivs[k][1]:g}] ({ivs[k][2]})" if k in ivs else ""
        print(f"  {k} = {v:g}{iv}   [{src}]")
    return 0


def _show_wake(m: M.Machine, isolation: str, as_json: bool) -> int:
    """queue->start of the profile's wake-up model at ``isolation`` (mean and quantiles, ns)."""
    import json

    from pwmodel import params as P
    from pwmodel.fit.wakecal import predicted
    from pwmodel.models import wakeup as W
    W.check(isolation, m.preempt_model)
    ps = P.resolve(m, isolation=isolation)
    out = predicted(isolation, ps, m.preempt_model)
    if as_json:
        print(json.dumps({"machine": m.name, "isolation": isolation, "preempt_model": m.preempt_model,
                          **{k: round(v, 1) for k, v in out.items()}}))
        return 0
    print(f"{m.name}, {isolation} ({W.LABELS[isolation]}), preempt={m.preempt_model}: queue->start")
    for k, v in out.items():
        print(f"  {k} = {v:.1f}")
    for k in sorted(m.wake_param_values(isolation)):
        print(f"  {k} = {ps[k]:g}   [{ps.sources[k]}]")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("machine", help="list, show, check or detect machine profiles",
                       description="Machine profiles are TOML files (pwmodel.machine). A [costs] "
                       "entry is { value, source } and may add an interval: low, high "
                       "(low <= value <= high) and interval_source; 'check' validates it.")
    p.add_argument("action", choices=["list", "show", "check", "detect"])
    p.add_argument("profile", nargs="?", help="bundled name or .toml path (show, check)")
    p.add_argument("--pair", nargs=2, action="append", metavar=("CPU_A", "CPU_B"),
                   help="print the pair class of two CPU ids (show)")
    p.add_argument("--c2c", action="append", metavar="CLASS=NS",
                   help="measured c2c latency per pair class (detect)")
    p.add_argument("--name", default="local", help="profile name (detect)")
    p.add_argument("--out", help="write the detected profile here (atomically)")
    p.add_argument("--wake", metavar="ISOLATION",
                   help="show the profile's queue->start model at this isolation level (show)")
    p.add_argument("--json", action="store_true", help="with --wake: one JSON object (ns)")
    p.set_defaults(func=_run)
