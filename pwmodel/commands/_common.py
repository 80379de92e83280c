"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse

from pwmodel.errors import PwmodelError


def parse_param(text: str) -> tuple[str, float]:
    """'name=value' -> (name, float); the name is checked against the registry later."""
    if "=" not in text:
        raise PwmodelError(f"expected NAME=VALUE, found '{text}'", field="--param")
    k, v = text.split("=", 1)
    try:
        return k.strip(), float(v)
    except ValueError:
        raise PwmodelError(f"value of '{k.strip()}' must be a number, found '{v}'",
                           field=k.strip()) from None


def add_param_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a registry parameter (repeatable; unit in the name)")


def overrides(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in getattr(args, "param", []) or []:
        k, v = parse_param(t)
        out[k] = v
    return out


def n_list(text: str) -> list[float]:
    """'1,2,4' or '1-1024' (powers of two) -> CPU counts (>= 1)."""
    try:
        if "-" in text and "," not in text:
            lo, hi = (int(x) for x in text.split("-"))
            out, k = [], 1
            while k <= hi:
                if k >= lo:
                    out.append(float(k))
                k *= 2
        else:
            out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise PwmodelError(f"CPU counts must be numbers like '1,8,64' or '1-1024', found '{text}'",
                           field="--n-cpus") from None
    bad = [x for x in out if not x >= 1]
    if not out or bad:
        raise PwmodelError(f"CPU count must be >= 1, found {bad[0] if bad else text!r}", field="--n-cpus")
    return out
