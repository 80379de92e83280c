"""The ``pwmodel`` command line.

Each sub-command lives in ``pwmodel/commands/<name>.py`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed namespace and returning an exit code). Only the module of the
command being run is imported; the others are listed from their source
(:func:`command_table`), so ``pwmodel --help`` starts without the model. Bad input raises
:class:`pwmodel.errors.PwmodelError`, printed here as one line, exit code 2.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import sys
from pathlib import Path

from pwmodel import __version__
from pwmodel.errors import PwmodelError


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line (no usage block), exit code 2, like every bad input."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def command_table() -> dict[str, tuple[str, str | None]]:
    """Sub-command name -> (module, help), read from the command modules' source without
    importing them (their imports are the slow part of start-up): the literal
    ``add_parser("name", help="...")`` calls on ``register``'s first argument. A module
    whose ``register`` cannot be read this way is listed under its own name with no help
    (it is imported when used)."""
    import pwmodel.commands as commands_pkg
    out: dict[str, tuple[str, str | None]] = {}
    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        found = False
        try:
            tree = ast.parse(Path(commands_pkg.__path__[0], f"{info.name}.py").read_text())
        except (OSError, SyntaxError):
            tree = None
        for fn in getattr(tree, "body", []):
            if not (isinstance(fn, ast.FunctionDef) and fn.name == "register" and fn.args.args):
                continue
            recv = fn.args.args[0].arg
            for node in ast.walk(fn):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "add_parser"
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == recv
                        and node.args and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    hlp = next((k.value.value for k in node.keywords if k.arg == "help"
                                and isinstance(k.value, ast.Constant)), None)
                    out[node.args[0].value] = (info.name, hlp)
                    found = True
        if not found:
            out[info.name] = (info.name, None)
    return out


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the module of ``command`` is imported (all of them when ``command``
    is None and some help cannot be read from the source), the others are listed by name
    and help."""
    parser = _Parser(
        prog="pwmodel",
        description="Remote per-CPU locking (pwlocks) vs queued per-CPU work: "
                    "cost models, data, fits and reports. Times in ns, rates in Hz.")
    parser.add_argument("--version", action="version", version=f"pwmodel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    table = command_table()
    load = {mod for name, (mod, hlp) in table.items() if name == command or hlp is None}
    for mod in sorted(load):
        importlib.import_module(f"pwmodel.commands.{mod}").register(sub)
    for name, (mod, hlp) in table.items():
        if mod not in load:
            sub.add_parser(name, help=hlp, add_help=False)
    return parser


def _command_of(argv: list[str]) -> str | None:
    for a in argv:
        if not a.startswith("-"):
            return a
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        print("pwmodel: error: give a command (see pwmodel --help)", file=sys.stderr)
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
    except OSError as exc:  # a file vanished or a device failed between the checks and the work
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"pwmodel: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
