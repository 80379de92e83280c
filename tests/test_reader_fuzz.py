"""Property tests of the three hand-written input formats: sweep specs, machine profiles and
fit results (FIT.json). Whatever the bytes, a reader returns a valid object or raises
PwmodelError naming the file; it never crashes, hangs or accepts a value out of its domain."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pwmodel import machine as M
from pwmodel.errors import PwmodelError
from pwmodel.fit.distresult import DistFit, Selection
from pwmodel.limits import MAX_CPUS, MAX_POINTS
from pwmodel.sweep import spec as SPEC

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
SPECS = sorted((ROOT / "sweeps").glob("*.toml"))
PROFILES = sorted((ROOT / "pwmodel" / "profiles").glob("*.toml"))
FIT = json.loads((ROOT / "data" / "fits" / "wake_idle.json").read_text())

toml_scalar = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                        st.text(max_size=12), st.booleans())
json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                                    st.floats(allow_nan=False), st.text(max_size=8)),
                          lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
                          max_leaves=12)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


def _spec_ok(text: str) -> None:
    try:
        s = SPEC.parse(text, "fuzz.toml")
    except PwmodelError as exc:
        assert exc.file == "fuzz.toml", exc
        return
    assert 1 <= s.n_points <= MAX_POINTS
    assert all(1 <= n <= MAX_CPUS and n == n for n in s.axes["n_cpus"])
    json.dumps(s.canonical(), default=str)      # the manifest form is plain data


@SETTINGS
@given(text=st.text(max_size=400))
def test_spec_arbitrary_text(text):
    _spec_ok(text)


@SETTINGS
@given(base=st.sampled_from(SPECS), line=st.integers(0, 60), value=toml_scalar)
def test_spec_one_value_replaced(base, line, value):
    lines = base.read_text().splitlines()
    keyed = [i for i, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")]
    i = keyed[line % len(keyed)]
    key = lines[i].split("=", 1)[0]
    lines[i] = f"{key}= {_toml_value(value)}"
    _spec_ok("\n".join(lines) + "\n")


@SETTINGS
@given(base=st.sampled_from(SPECS), cut=st.floats(0, 1))
def test_spec_cut_short(base, cut):
    text = base.read_text()
    _spec_ok(text[: int(len(text) * cut)])


def _profile_ok(data: bytes) -> None:
    d = Path(tempfile.mkdtemp(prefix="pwmodel-fuzz-"))
    p = d / "p.toml"
    p.write_bytes(data)
    try:
        m = M.load(p)
    except PwmodelError as exc:
        assert exc.file == str(p), exc
        return
    assert m.n_cpus >= 1
    for v, _ in m.param_values().values():
        assert math.isfinite(v)


@SETTINGS
@given(data=st.binary(max_size=600))
def test_profile_arbitrary_bytes(data):
    _profile_ok(data)


@SETTINGS
@given(base=st.sampled_from(PROFILES), cut=st.floats(0, 1))
def test_profile_cut_short(base, cut):
    """A profile cut before its [costs] or [[idle_states]] is refused, not read with defaults."""
    text = base.read_text()
    head = text[: int(len(text) * cut)]
    _profile_ok(head.encode())
    if "[[idle_states]]" not in head and "idle_states = []" not in head:
        d = Path(tempfile.mkdtemp(prefix="pwmodel-fuzz-"))
        (d / "p.toml").write_text(head)
        try:
            M.load(d / "p.toml")
        except PwmodelError:
            return
        raise AssertionError("a profile cut before its idle states was accepted")


@SETTINGS
@given(base=st.sampled_from(PROFILES), line=st.integers(0, 200), value=toml_scalar)
def test_profile_one_value_replaced(base, line, value):
    lines = base.read_text().splitlines()
    keyed = [i for i, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")
             and not ln.lstrip().startswith("{")]
    i = keyed[line % len(keyed)]
    key = lines[i].split("=", 1)[0]
    lines[i] = f"{key}= {_toml_value(value)}"
    _profile_ok(("\n".join(lines) + "\n").encode())


def _fit_ok(text: str | bytes) -> None:
    try:
        fmt = json.loads(text).get("format") if isinstance(json.loads(text), dict) else None
    except (ValueError, UnicodeDecodeError):
        fmt = None
    try:
        f = Selection.from_json(text, "fit.json").best_fit if fmt == "pwmodel-distselect" \
            else DistFit.from_json(text, "fit.json")
    except PwmodelError as exc:
        assert exc.file == "fit.json", exc
        return
    q = f.quantile_ci(0.5)[0]          # what pwmodel predict prints
    assert q >= f.shift_ns and math.isfinite(q)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_fit_arbitrary_bytes(data):
    _fit_ok(data)


@SETTINGS
@given(value=json_value)
def test_fit_arbitrary_json(value):
    _fit_ok(json.dumps(value))


@SETTINGS
@given(fam=st.sampled_from(sorted(FIT["fits"])), key=st.sampled_from(
    ["format", "version", "family", "param_names", "values", "shift_ns", "cov_t", "level", "n",
     "tick_ns", "boot", "sample", "loglik"]), value=json_value, drop=st.booleans())
def test_fit_one_field_changed(fam, key, value, drop):
    d = dict(FIT["fits"][fam], sample=None)
    if drop:
        d.pop(key, None)
    else:
        d[key] = value
    _fit_ok(json.dumps(d))


@SETTINGS
@given(key=st.sampled_from(["format", "version", "best", "criterion", "fits", "errors"]),
       value=json_value)
def test_selection_one_field_changed(key, value):
    d = dict(FIT)
    d[key] = value
    _fit_ok(json.dumps(d))
