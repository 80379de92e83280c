"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse

from pwmodel.errors import PwmodelError


def parse_param(text: str) -> tuple[str, float]:
    """'name=value' -> (name, float); the name is checked against the registry later."""
    if "=" not in text:
        raise PwmodelError(f"expected NAME=VALUE, found '{text}'", field="--param")
    from pwmodel import params as P
    k, v = text.split("=", 1)
    k = k.strip()
    try:
        x = float(v)
    except ValueError:
        raise PwmodelError(f"value of '{k}' must be a number, found '{v}'", field=k) from None
    P.check_names([k])
    return k, P.check_value(k, x)


def add_param_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a registry parameter (repeatable; unit in the name)")


def overrides(args: argparse.Namespace) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in getattr(args, "param", []) or []:
        k, v = parse_param(t)
        out[k] = v
    return out


def n_list(text: str, field: str = "--n-cpus") -> list[float]:
    """'1,2,4' or '1-1024' (powers of two) -> CPU counts: whole numbers in [1, MAX_CPUS],
    at most MAX_LIST of them (checked before anything is expanded or allocated)."""
    import math
    import re

    from pwmodel.limits import MAX_CPUS, MAX_LIST

    def num(tok: str) -> float:
        t = tok.strip()
        if not re.fullmatch(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?|[0-9]*\.[0-9]+([eE][+-]?[0-9]+)?", t):
            raise PwmodelError(f"CPU counts must be numbers like '1,8,64' or '1-1024', found "
                               f"{tok.strip()!r} in {text[:60]!r}", field=field)
        v = float(t)
        if not math.isfinite(v) or v != round(v):
            raise PwmodelError(f"CPU counts must be whole numbers, found {t!r}", field=field)
        if v < 1:
            raise PwmodelError(f"CPU count must be >= 1, found {t}", field=field)
        if v > MAX_CPUS:
            raise PwmodelError(f"CPU count {t} is larger than the limit {MAX_CPUS} "
                               f"(pwmodel.limits.MAX_CPUS)", field=field)
        return v

    text = text.strip()
    if "-" in text and "," not in text:
        parts = text.split("-")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise PwmodelError(f"a range of CPU counts is LO-HI, found {text!r}", field=field)
        lo, hi = num(parts[0]), num(parts[1])
        if hi < lo:
            raise PwmodelError(f"empty range {text!r}: HI < LO", field=field)
        out, k = [], 1
        while k <= hi:
            if k >= lo:
                out.append(float(k))
            k *= 2
        if not out:
            raise PwmodelError(f"empty range {text!r}: no power of two in it", field=field)
        return out
    toks = text.split(",")
    if len(toks) > MAX_LIST:
        raise PwmodelError(f"{len(toks)} values is more than the limit {MAX_LIST} "
                           f"(pwmodel.limits.MAX_LIST)", field=field)
    if not text or any(not t.strip() for t in toks):
        raise PwmodelError(f"CPU counts must be numbers like '1,8,64' or '1-1024', found {text!r}",
                           field=field)
    out = [num(t) for t in toks]
    if len(set(out)) != len(out):
        dup = next(v for v in out if out.count(v) > 1)
        raise PwmodelError(f"CPU count {dup:g} given twice", field=field)
    return out


def number_list(text: str, field: str, *, lo: float | None = None, lo_open: bool = True,
                hi: float | None = None) -> list[float]:
    """'a,b,c' -> finite floats (each checked against lo/hi), at most MAX_LIST of them."""
    from pwmodel.limits import MAX_LIST, check_float
    toks = text.split(",")
    if not text.strip() or any(not t.strip() for t in toks):
        raise PwmodelError(f"expected comma-separated numbers, found {text!r}", field=field)
    if len(toks) > MAX_LIST:
        raise PwmodelError(f"{len(toks)} values is more than the limit {MAX_LIST}", field=field)
    return [check_float("value", t.strip(), lo=lo, lo_open=lo_open, hi=hi, field=field)
            for t in toks]
