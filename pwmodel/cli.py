"""The ``pwmodel`` command line.

Each sub-command lives in ``pwmodel/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed namespace and returning an exit code). Bad input raises
:class:`pwmodel.errors.PwmodelError`, printed here as one line, exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from pwmodel import __version__
from pwmodel.errors import PwmodelError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pwmodel",
        description="Remote per-CPU locking (pwlocks) vs queued per-CPU work: "
                    "cost models, data, fits and reports. Times in ns, rates in Hz.")
    parser.add_argument("--version", action="version", version=f"pwmodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import pwmodel.commands as commands_pkg
    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"pwmodel.commands.{info.name}")
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except PwmodelError as exc:
        print(f"pwmodel: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("pwmodel: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
