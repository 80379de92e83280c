"""The CLI robustness catalogue: bad (and a few tricky but valid) inputs to every command.

Each case is run in-process through :func:`pwmodel.cli.main` in a folder of its
own and classified:

* ``traceback``: an exception other than a clean exit escaped;
* ``silent``: a bad input was accepted (exit 0), or a valid one gave a wrong result;
* ``lost``: a bad input changed, removed or half-wrote a file (the folder must be
  byte-identical afterwards), or a valid run damaged one of its inputs;
* ``message``: not exactly one ``pwmodel ...: error:`` line matching the expected text,
  or an exit code other than 2.

All counts must be 0. The cases live in :mod:`tests.catalogue_cases` (grow it
when a bug is found); the few that need a real process (exit status, signals,
tracebacks on stderr) are at the end of this file.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pwmodel import cli
from catalogue_cases import CASES, Case, fixtures

ROOT = Path(__file__).resolve().parents[1]


def _tree(d: Path) -> dict[str, str]:
    out = {}
    for p in sorted(d.rglob("*")):
        rel = str(p.relative_to(d))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        elif p.is_fifo():
            out[rel] = "fifo"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class _Blocked(Exception):
    """Raised by the stand-ins for live collectors: validation let a bad input through."""


@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> Path:
    return fixtures(tmp_path_factory.mktemp("catalogue-fx"))


def run_case(case: Case, d: Path, fx: Path, monkeypatch) -> tuple[str, str]:
    """(outcome, detail) of one case; outcome 'ok' when it behaved as catalogued."""
    import pwmodel.collect.lru as lru
    import pwmodel.collect.micro as micro

    def blocked(*a, **k):
        raise _Blocked("a live collector was started")
    monkeypatch.setattr(lru, "collect_drain", blocked)
    monkeypatch.setattr(micro, "collect_micro", blocked)
    d.mkdir(parents=True, exist_ok=True)
    if case.setup is not None:
        case.setup(d, fx)
    before = _tree(d)
    argv = [a.format(d=d, fx=fx) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(d)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException as exc:  # noqa: BLE001 - that is what we count
                if isinstance(exc, _Blocked):
                    return "silent", "reached a live collector"
                return "traceback", f"{type(exc).__name__}: {exc}"[:300]
    finally:
        os.chdir(old)
    after = _tree(d)
    stderr = err.getvalue()
    if "Traceback" in stderr:
        return "traceback", stderr[-300:]
    if case.expect is None:           # a valid input: must succeed, keep its inputs, be right
        if code != 0:
            return "message", f"valid input refused (exit {code}): {stderr.strip()[:300]}"
        changed = [k for k, v in before.items() if after.get(k) != v and k not in case.outputs]
        if changed or any(k.endswith(".tmp") for k in after):
            return "lost", f"files changed: {changed}"
        if case.check is not None:
            why = case.check(d, out.getvalue())
            if why:
                return "silent", why
        return "ok", ""
    if code == 0:
        return "silent", f"accepted: {out.getvalue()[-200:]!r}"
    if after != before:
        diff = sorted(set(after.items()) ^ set(before.items()))
        return "lost", f"folder changed: {diff[:4]}"
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if code != 2 or len(lines) != 1 or not re.match(r"^pwmodel[\w -]*: error: ", lines[0]):
        return "message", f"exit {code}, stderr {stderr.strip()[:300]!r}"
    if not re.search(case.expect, lines[0].format(d=d, fx=fx)):
        return "message", f"expected /{case.expect}/, found {lines[0]!r}"
    return "ok", ""


RESULTS: dict[str, tuple[str, str]] = {}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, fx: Path, tmp_path: Path, monkeypatch) -> None:
    outcome, detail = run_case(case, tmp_path / "c", fx, monkeypatch)
    RESULTS[case.id] = (outcome, detail)
    assert outcome == "ok", detail


def test_catalogue_size_and_counts():
    """At least 200 bad inputs over every command; the tally is printed for the record."""
    bad = [c for c in CASES if c.expect is not None]
    assert len(bad) >= 200, len(bad)
    assert len({c.id for c in CASES}) == len(CASES)
    commands = {c.argv[0] for c in bad if c.argv}
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) <= commands, sorted(set(sub.choices) - commands)
    tally = collections.Counter(o for o, _ in RESULTS.values())
    print(f"catalogue: {len(CASES)} cases ({len(bad)} bad inputs); outcomes {dict(tally)}")


# ---- cases that need a real process ------------------------------------------------------
def _pwmodel(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pwmodel", *args], capture_output=True,
                          text=True, env=env, timeout=120, **kw)


def test_exit_code_and_no_traceback_in_a_real_process(tmp_path):
    bad = tmp_path / "spec.toml"
    bad.write_bytes(b"\x00\xff\xfe binary \x89PNG")
    r = _pwmodel("sweep", str(bad), "--check")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and str(bad) in r.stderr


def test_usage_error_is_one_line_in_a_real_process():
    r = _pwmodel("machine", "show", "--pair", "a")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_ctrl_c_while_reading_a_named_pipe(tmp_path):
    """A writer that never finishes: SIGINT stops the read, exit 130, nothing written."""
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "pwmodel", "ingest", str(fifo), "--out",
                          str(tmp_path / "out.parquet")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    w = os.open(fifo, os.O_WRONLY)     # blocks until pwmodel opened the pipe for reading
    try:
        os.write(w, b"# tracer: nop\n")
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            pytest.fail("pwmodel ingest ignored SIGINT while reading a named pipe")
    finally:
        os.close(w)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert not (tmp_path / "out.parquet").exists()
