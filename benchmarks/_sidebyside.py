"""Shared by the benchmarks that time this tree against an older revision side by side:
the machine's load line, an older revision unpacked from git, and the common options."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def uptime() -> str:
    """``uptime``'s line (the load a measurement was taken under)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


def unpack(rev: str, dest: Path, paths: tuple[str, ...] = ("pwmodel", "data")) -> None:
    """``paths`` of git revision ``rev`` into ``dest`` (git archive, no worktree)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, *paths],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")


def add_old_options(ap: argparse.ArgumentParser, old_default: str) -> None:
    ap.add_argument("--old", default=old_default, help="git revision of the old path")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved runs per tree")
    ap.add_argument("--no-old", action="store_true", help="this tree only")


def trees(a: argparse.Namespace, tmp: str, paths: tuple[str, ...] = ("pwmodel", "data")) -> dict[str, Path]:
    """{'new': this tree, 'old': REV unpacked under ``tmp``} (no 'old' with --no-old)."""
    out = {"new": ROOT}
    if not a.no_old:
        old = Path(tmp) / "old"
        unpack(a.old, old, paths)
        out["old"] = old
    return out
