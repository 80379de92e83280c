"""Call-site profiles: what one drain of one CPU touches, how much work it does, and how
the requester waits for it.

A call site is a versioned TOML file (``format = "pwmodel-callsite"``,
``version = 1``), like a machine profile. Bundled ones live in
``pwmodel/callsites/*.toml``; any other file is loaded by its path
(``--callsite NAME|PATH`` on every command). Fields::

    format = "pwmodel-callsite"
    version = 1
    name = "bh_lru"
    description = "the kernel path it models"
    lock = "the per-CPU lock (and what it is today)"
    kernel = ["fs/buffer.c: bh_lru_install()", ...]     # functions the values come from
    requester = { pattern = "flush", source = "..." }  # "flush": waits for every drain;
                                                        # "async": queues (or drains) and returns

    [params]   # registry parameters this call site sets, each with its source
    batch_items = { value = 8.0, source = "kernel source: ...; assumption: ..." }
    local_cs_ns = { value = 40.0, low = 20.0, high = 80.0, source = "assumption: ..." }

Every parameter value has a ``source`` (kernel source file and function, a
measurement, or "assumption: ..."); ``low``/``high`` give its interval as in
machine profiles. Values are checked against the parameter registry; bad
files get the same one-line errors as machine profiles (file, line or field).
A call site's values override the machine profile's (:meth:`Scenario.params
<pwmodel.evaluate.Scenario.params>`); parameters it does not set keep the
machine's or the registry's value.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from pwmodel import params as P
from pwmodel.errors import PwmodelError

FORMAT = "pwmodel-callsite"
VERSION = 1
PATTERNS = ("flush", "async")

_TOP_KEYS = {"format", "version", "name", "description", "lock", "kernel", "requester",
             "params", "notes"}
_PARAM_KEYS = {"value", "source", "low", "high", "interval_source"}


@dataclass(frozen=True)
class CallSite:
    """One call site (see the module docstring). ``params`` maps registry names to values,
    ``sources`` to their sources, ``intervals`` to (low, high, source) where given."""

    name: str
    lock: str
    description: str
    params: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    requester: str = "flush"
    requester_source: str = ""
    kernel: tuple[str, ...] = ()
    intervals: Mapping[str, tuple[float, float, str]] = field(default_factory=dict)
    notes: str = ""
    path: str | None = None

    @property
    def is_async(self) -> bool:
        return self.requester == "async"


def _tomlio():
    from pwmodel.machine import tomlio   # the shared TOML and field helpers
    return tomlio


def from_dict(d: Mapping[str, Any], where: str = "<callsite>") -> CallSite:
    """Validate a parsed call-site mapping and build a :class:`CallSite`."""
    tomlio = _tomlio()
    if not isinstance(d, Mapping):
        raise PwmodelError("a call-site profile must be a table", file=where)
    tomlio._unknown(d, _TOP_KEYS, where, "")
    if d.get("format") != FORMAT:
        raise PwmodelError(f"field 'format' must be '{FORMAT}', found {d.get('format')!r}",
                           file=where, field="format")
    if d.get("version") != VERSION:
        raise PwmodelError(f"unsupported call-site version {d.get('version')!r} "
                           f"(this pwmodel reads {VERSION})", file=where, field="version")
    name = tomlio._need(d, "name", str, where, "")
    if not name.strip() or any(c in name for c in "/\\ "):
        raise PwmodelError(f"field 'name' must be a non-empty word without '/' or spaces, "
                           f"found {name!r}", file=where, field="name")
    description = tomlio._need(d, "description", str, where, "")
    lock = tomlio._need(d, "lock", str, where, "")
    kernel = d.get("kernel", [])
    if not isinstance(kernel, list) or not all(isinstance(k, str) for k in kernel):
        raise PwmodelError("field 'kernel' must be a list of strings (file: function)",
                           file=where, field="kernel")
    req = tomlio._need(d, "requester", dict, where, "")
    tomlio._unknown(req, {"pattern", "source"}, where, "requester.")
    pattern = tomlio._need(req, "pattern", str, where, "requester.")
    if pattern not in PATTERNS:
        raise PwmodelError(f"field 'requester.pattern' must be one of {', '.join(PATTERNS)}, "
                           f"found {pattern!r}", file=where, field="requester.pattern")
    req_src = tomlio._need(req, "source", str, where, "requester.")
    raw = d.get("params", {})
    if not isinstance(raw, dict):
        raise PwmodelError("field 'params' must be a table", file=where, field="params")
    vals: dict[str, float] = {}
    srcs: dict[str, str] = {}
    ivs: dict[str, tuple[float, float, str]] = {}
    for k, v in raw.items():
        ctx = f"params.{k}"
        P.check_names([k], where=where)
        if not isinstance(v, dict) or "value" not in v or "source" not in v:
            raise PwmodelError(f"'{ctx}' must be a table with 'value' and 'source'",
                               file=where, field=ctx)
        tomlio._unknown(v, _PARAM_KEYS, where, ctx + ".")
        if not isinstance(v["source"], str) or not v["source"].strip():
            raise PwmodelError(f"'{ctx}.source' must say where the value comes from (kernel "
                               "source, a measurement, or 'assumption: ...')",
                               file=where, field=ctx + ".source")
        vals[k] = P.check_value(k, v["value"], where=where)
        srcs[k] = v["source"]
        if "low" in v or "high" in v or "interval_source" in v:
            if "low" not in v or "high" not in v:
                raise PwmodelError(f"'{ctx}' needs both 'low' and 'high' for an interval",
                                   file=where, field=ctx)
            lo, hi = P.check_interval(k, vals[k], v["low"], v["high"], where=where)
            ivs[k] = (lo, hi, str(v.get("interval_source", v["source"])))
    return CallSite(name=name, lock=lock, description=description, params=vals, sources=srcs,
                    requester=pattern, requester_source=req_src, kernel=tuple(kernel),
                    intervals=ivs, notes=str(d.get("notes", "")), path=where)


def load(path: str | os.PathLike) -> CallSite:
    """Read and validate a call-site file; errors name the file and the field or line."""
    return from_dict(_tomlio().read_toml(path, "call-site profile"), where=str(Path(path)))


def _bundled_dir():
    return resources.files("pwmodel") / "callsites"


def bundled_names() -> list[str]:
    """Bundled call sites: the four the PW series converts first, then the others
    alphabetically."""
    return list(_bundled_names())


@functools.lru_cache(maxsize=1)
def _bundled_names() -> tuple[str, ...]:
    # the package's own files: listed once per process (every Scenario.pattern asks)
    names = sorted(f.name[:-5] for f in _bundled_dir().iterdir() if f.name.endswith(".toml"))
    first = [n for n in SERIES if n in names]
    return tuple(first + [n for n in names if n not in first])


# the call sites the PW series itself converts (the report's and the sweeps' defaults)
SERIES = ("lru_add_drain", "lru_add_drain_irq", "mlock_fbatch", "slub_sheaves")

_CACHE: dict[str, CallSite] = {}


def _load_bundled(name: str) -> CallSite:
    if name not in _CACHE:
        with resources.as_file(_bundled_dir() / f"{name}.toml") as f:
            _CACHE[name] = load(f)
    return _CACHE[name]


_FILES: dict[tuple[str, int, int], CallSite] = {}


def _load_file(path: str) -> CallSite:
    """A user file, re-read only when it changes (evaluations ask for it many times)."""
    try:
        st = os.stat(path)
        key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    except OSError:
        return load(path)   # raises the one-line error
    if key not in _FILES:
        if len(_FILES) > 64:
            _FILES.clear()
        _FILES[key] = load(path)
    return _FILES[key]


def is_path(name_or_path: str | os.PathLike) -> bool:
    s = str(name_or_path)
    return s.endswith(".toml") or os.sep in s or "/" in s


def get(name_or_path: str | os.PathLike | CallSite) -> CallSite:
    """A bundled call site by name, or a call-site file by path."""
    if isinstance(name_or_path, CallSite):
        return name_or_path
    s = str(name_or_path)
    if is_path(s):
        return _load_file(s)
    if s in _REGISTERED:
        return _REGISTERED[s]
    names = bundled_names()
    if s not in names:
        import difflib
        close = difflib.get_close_matches(s, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise PwmodelError(f"unknown call site '{s}'{hint} (known: {', '.join(names)}; "
                           "or a call-site TOML file path)", field="callsite")
    return _load_bundled(s)


_REGISTERED: dict[str, CallSite] = {}


def register(name_or_path: str | os.PathLike) -> str:
    """Load a call site and make it known by its name for the rest of the run (so that
    tables and figures can show and look it up by name); returns the name. A file whose
    name is a bundled call site's but whose values differ is refused."""
    cs = get(name_or_path)
    if not is_path(str(name_or_path)):
        return cs.name
    if cs.name in bundled_names() or cs.name in _REGISTERED:
        other = _REGISTERED.get(cs.name) or _load_bundled(cs.name)
        if (dict(other.params), other.requester) != (dict(cs.params), cs.requester):
            raise PwmodelError(f"call site '{cs.name}' is already defined "
                               f"({other.path}); give this file another name",
                               file=str(name_or_path), field="name")
        return cs.name
    _REGISTERED[cs.name] = cs
    return cs.name


def name_of(name_or_path: str | os.PathLike | CallSite) -> str:
    """The call site's own name (a path resolves to the ``name`` in its file)."""
    return get(name_or_path).name


class _Bundled(Mapping[str, CallSite]):
    """Read-only mapping name -> CallSite of the bundled call sites (loaded on use)."""

    def __getitem__(self, name: str) -> CallSite:
        if name not in bundled_names():
            raise KeyError(name)
        return _load_bundled(name)

    def __iter__(self):
        return iter(bundled_names())

    def __len__(self) -> int:
        return len(bundled_names())


CALLSITES: Mapping[str, CallSite] = _Bundled()
