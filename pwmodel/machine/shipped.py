"""The profiles bundled in ``pwmodel/profiles/*.toml``, by name."""

from __future__ import annotations

import os
from importlib import resources

from pwmodel.errors import PwmodelError
from pwmodel.machine.profile import Machine
from pwmodel.machine.tomlio import load


def bundled_names() -> list[str]:
    files = resources.files("pwmodel") / "profiles"
    return sorted(f.name[:-5] for f in files.iterdir() if f.name.endswith(".toml"))


def get(name_or_path: str | os.PathLike) -> Machine:
    """A bundled profile by name, or a profile file by path."""
    s = str(name_or_path)
    if s.endswith(".toml") or os.sep in s:
        return load(s)
    if s not in bundled_names():
        import difflib
        close = difflib.get_close_matches(s, bundled_names(), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PwmodelError(f"unknown machine '{s}'{hint}; bundled: {', '.join(bundled_names())}",
                           field="machine")
    with resources.as_file(resources.files("pwmodel") / "profiles" / f"{s}.toml") as f:
        return load(f)


def bundled() -> list[Machine]:
    return [get(n) for n in bundled_names() if not n.startswith("local-")]
