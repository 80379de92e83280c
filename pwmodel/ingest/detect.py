"""Guess the format of a latency or trace file from its first bytes.

Format names (also accepted by ``pwmodel ingest --format``):

``ftrace``          tracefs ``trace`` text or ``trace-cmd report`` output
``cyclictest``      cyclictest output with a ``-h`` histogram
``oslat``           oslat output
``timerlat-top``    ``rtla timerlat top``
``osnoise-top``     ``rtla osnoise top``
``rtla-hist``       ``rtla timerlat hist`` / ``rtla osnoise hist``
``c2c``             core-to-core-latency result matrix (headerless CSV of numbers)
``table``           CSV or parquet with unit-named columns
"""

from __future__ import annotations

import os
import re

from pwmodel.errors import PwmodelError

FORMATS = ("ftrace", "cyclictest", "oslat", "timerlat-top", "osnoise-top", "rtla-hist", "c2c", "table")


def detect_format(path: str | os.PathLike) -> str:
    """Return one of :data:`FORMATS` for ``path`` or raise :class:`PwmodelError`."""
    from pwmodel.ingest.source import load
    head = load(path)[:65536]
    if head[:4] == b"PAR1":
        return "table"
    if not head.strip():
        raise PwmodelError("empty input", file=str(path))
    text = head.decode("utf-8", errors="replace")
    return detect_text(text, file=str(path))


def detect_text(text: str, file: str = "<text>") -> str:
    """Format of a file whose first kilobytes are ``text``."""
    from pwmodel.ingest.ftrace import looks_like_ftrace
    if re.search(r"^# RTLA (timerlat|osnoise) histogram|^\s*Index\s+(IRQ|Thr|Usr|CPU)-\d+", text, re.M):
        return "rtla-hist"
    if re.search(r"Timer Latency\s*$", text, re.M) and re.search(r"\|\s*cur\s+min\s+avg\s+max", text):
        return "timerlat-top"
    if "Operating System Noise" in text or re.search(r"^\s*CPU Period\s+Runtime\s+Noise", text, re.M):
        return "osnoise-top"
    if re.search(r"^oslat V|^\s*Core:\s+\d", text, re.M) and "(us):" in text:
        return "oslat"
    if re.search(r"^# Histogram\s*$", text, re.M) or re.search(r"^# /dev/cpu_dma_latency", text, re.M):
        return "cyclictest"
    if re.search(r"^T:\s*\d+\s*\(\s*\d+\)\s*P:", text, re.M):
        return "cyclictest"
    if text.startswith("# tracer:") or looks_like_ftrace(text):
        return "ftrace"
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if first and re.fullmatch(r"[\d.,\s eE+-]*", first) and "," in first:
        return "c2c"
    if first and "," in first and re.search(r"[A-Za-z_]", first):
        return "table"
    raise PwmodelError("unknown format (expected ftrace text, cyclictest, oslat, rtla, "
                       "a core-to-core matrix or a unit-named CSV); use --format", file=file, line=1)
