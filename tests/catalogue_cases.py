"""The catalogue of bad inputs run by tests/test_cli_catalogue.py.

A :class:`Case` is a command line (``{d}``: the case's own folder, also the working
folder; ``{fx}``: shared valid inputs made by :func:`fixtures`), an optional
``setup(d, fx)`` that puts files in ``{d}``, and either ``expect`` (a regular
expression the one-line error must match) or, for valid inputs, ``expect=None``
and a ``check(d, stdout)`` returning what is wrong (or nothing). Grow it when a
bug is found: every entry is an input that once misbehaved or is one step from one.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
FXI = ROOT / "tests" / "fixtures" / "ingest"
PROFILE = ROOT / "pwmodel" / "profiles" / "intel-xeon-8375c-2s.toml"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    expect: str | None
    setup: Callable[[Path, Path], None] | None = None
    check: Callable[[Path, str], str | None] | None = None
    outputs: tuple[str, ...] = ()


def fixtures(fx: Path) -> Path:
    """Valid inputs shared by the cases (never written by a case)."""
    sel = json.loads((ROOT / "data" / "fits" / "wake_idle.json").read_text())
    fit = dict(sel["fits"]["lognorm"], sample=None, boot=None)
    (fx / "fit.json").write_text(json.dumps(fit, indent=1))
    shutil.copy(PROFILE, fx / "profile.toml")
    (fx / "spec.toml").write_text('[sweep]\nname = "t"\n[axes]\nmachine = ["intel-xeon-8375c-2s"]\n'
                                  'n_cpus = [1, 8]\n')
    for f in ("oslat.txt", "ftrace_tracefs_local.txt", "c2c_i7-6700K.csv", "cyclictest_hist.txt",
              "rtla_timerlat_hist.txt", "rtla_timerlat_top.txt", "tracecmd_report_x86tsc.txt"):
        shutil.copy(FXI / f, fx / f)
    (fx / "table.csv").write_text("cpu,latency_ns\n0,100\n1,250\n0,300\n")
    return fx


# ---- setup helpers ---------------------------------------------------------------------------
def put(**files: bytes | str | Callable[[Path], bytes | str]) -> Callable[[Path, Path], None]:
    """Files in {d}: name -> bytes/text, or a function of the fixture folder."""
    def setup(d: Path, fx: Path) -> None:
        for name, data in files.items():
            p = d / name.replace("__", "/")
            p.parent.mkdir(parents=True, exist_ok=True)
            if callable(data):
                data = data(fx)
            p.write_bytes(data.encode() if isinstance(data, str) else data)
    return setup


def fxtext(name: str, edit: Callable[[str], str] = lambda s: s) -> Callable[[Path], str]:
    return lambda fx: edit((fx / name).read_text())


def mkdirs(*names: str) -> Callable[[Path, Path], None]:
    def setup(d: Path, fx: Path) -> None:
        for n in names:
            (d / n).mkdir(parents=True, exist_ok=True)
    return setup


def both(*fns: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def setup(d: Path, fx: Path) -> None:
        for f in fns:
            f(d, fx)
    return setup


def fifo(name: str) -> Callable[[Path, Path], None]:
    return lambda d, fx: os.mkfifo(d / name)


def compressed(name: str, src: str, how: str) -> Callable[[Path, Path], None]:
    def setup(d: Path, fx: Path) -> None:
        data = (fx / src).read_bytes()
        if how == "gzip":
            data = gzip.compress(data)
        elif how == "xz":
            data = lzma.compress(data)
        elif how == "bz2":
            data = bz2.compress(data)
        elif how == "zstd":
            data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                                  check=True).stdout
        (d / name).write_bytes(data)
    return setup


def table_parquet(name: str) -> Callable[[Path, Path], None]:
    def setup(d: Path, fx: Path) -> None:
        import polars as pl
        pl.read_csv(fx / "table.csv").write_parquet(d / name)
    return setup


def profile(edit: Callable[[str], str]) -> Callable[[Path, Path], None]:
    return put(**{"p.toml": lambda fx: edit((fx / "profile.toml").read_text())})


def spec(text: str) -> Callable[[Path, Path], None]:
    return put(**{"s.toml": text})


def parquet_rows(name: str, n: int, col: str = "latency_ns") -> Callable[[Path, str], str | None]:
    def check(d: Path, out: str) -> str | None:
        import polars as pl
        df = pl.read_parquet(d / name)
        if df.height != n:
            return f"{df.height} rows, expected {n}"
        if col and col not in df.columns:
            return f"no column {col}"
        return None
    return check


C: list[Case] = []


def bad(id: str, argv: str | list[str], expect: str, setup=None) -> None:
    C.append(Case(id, tuple(argv.split() if isinstance(argv, str) else argv), expect, setup))


def good(id: str, argv: str | list[str], setup=None, check=None, outputs=()) -> None:
    C.append(Case(id, tuple(argv.split() if isinstance(argv, str) else argv), None, setup, check,
                  tuple(outputs)))


MB = "intel-xeon-8375c-2s"
SPEC_HEAD = '[sweep]\nname = "t"\n'

# ---- the command line itself ---------------------------------------------------------------
bad("cli-no-command", [], r"give a command")
bad("cli-unknown-command", "frobnicate", r"invalid choice: 'frobnicate'")
bad("cli-unknown-option", "--frobnicate", r"unrecognized arguments")

# ---- machine ---------------------------------------------------------------------------------
bad("machine-no-action", "machine", r"the following arguments are required: action")
bad("machine-bad-action", "machine frob", r"invalid choice: 'frob'")
bad("machine-show-no-profile", "machine show", r"give a profile name or file")
bad("machine-show-unknown", "machine show no-such-box", r"unknown machine 'no-such-box'")
bad("machine-show-missing-file", "machine show {d}/missing.toml", r"missing.toml.*(No such file|unknown machine)")
bad("machine-pair-letters", f"machine show {MB} --pair a b", r"--pair.*CPU ids must be integers, found 'a'")
bad("machine-pair-float", f"machine show {MB} --pair 1.5 2", r"--pair.*integers, found '1.5'")
bad("machine-pair-one", f"machine show {MB} --pair 1", r"--pair: expected 2 arguments")
bad("machine-pair-out-of-range", f"machine show {MB} --pair 0 99999", r"CPU id 99999 outside 0..127")
bad("machine-pair-negative", ["machine", "show", MB, "--pair=-1", "0"], r"(CPU id -1 outside|expected 2 arguments)")
bad("machine-check-dir", "machine check {d}", r"(is a folder|Is a directory|cannot read)")
bad("machine-check-empty", "machine check {d}/p.toml", r"p.toml.*field 'format'", put(**{"p.toml": ""}))
bad("machine-check-binary", "machine check {d}/p.toml", r"p.toml.*(not UTF-8|malformed TOML)",
    put(**{"p.toml": b"\x89PNG\r\n\x1a\n\x00\xff\xfe"}))
bad("machine-check-latin1", "machine check {d}/p.toml", r"p.toml.*not UTF-8",
    put(**{"p.toml": "name = \"caf\xe9\"\n".encode("latin-1")}))
bad("machine-check-bad-toml", "machine check {d}/p.toml", r"p.toml:2.*malformed TOML",
    put(**{"p.toml": 'format = "pwmodel-machine"\nversion = = 1\n'}))
bad("machine-check-format", "machine check {d}/p.toml", r"field 'format' must be 'pwmodel-machine'",
    profile(lambda s: s.replace('format = "pwmodel-machine"', 'format = "other"')))
bad("machine-check-version", "machine check {d}/p.toml", r"unsupported profile version 2",
    profile(lambda s: s.replace("version = 1", "version = 2")))
bad("machine-check-version-str", "machine check {d}/p.toml", r"version",
    profile(lambda s: s.replace("version = 1", 'version = "1"')))
bad("machine-check-hz", "machine check {d}/p.toml", r"field 'hz' must be one of",
    profile(lambda s: s.replace("hz = 1000", "hz = 123")))
bad("machine-check-preempt", "machine check {d}/p.toml", r"preempt_model' must be one of",
    profile(lambda s: s.replace('preempt_model = "voluntary"', 'preempt_model = "bogus"')))
bad("machine-check-enumeration", "machine check {d}/p.toml", r"enumeration' must be one of",
    profile(lambda s: s.replace('enumeration = "smt_last"', 'enumeration = "random"')))
bad("machine-check-levels-empty", "machine check {d}/p.toml", r"topology.levels",
    profile(lambda s: s[:s.index("levels = [")] + "levels = []\n" + s[s.index("[costs]"):]))
bad("machine-check-size-zero", "machine check {d}/p.toml", r"size' must be >= 1",
    profile(lambda s: s.replace("size = 32", "size = 0")))
bad("machine-check-c2c-negative", "machine check {d}/p.toml", r"c2c_ns",
    profile(lambda s: s.replace("c2c_ns = 51.3", "c2c_ns = -51.3")))
bad("machine-check-c2c-nan", "machine check {d}/p.toml", r"c2c_ns",
    profile(lambda s: s.replace("c2c_ns = 51.3", "c2c_ns = nan")))
bad("machine-check-c2c-inf", "machine check {d}/p.toml", r"c2c_ns",
    profile(lambda s: s.replace("c2c_ns = 51.3", "c2c_ns = inf")))
bad("machine-check-unknown-field", "machine check {d}/p.toml", r"unknown field 'colour'",
    profile(lambda s: s.replace("hz = 1000", "hz = 1000\ncolour = 3")))
bad("machine-check-cost-string", "machine check {d}/p.toml", r"atomic_rmw_ns",
    profile(lambda s: s.replace("atomic_rmw_ns = { value = 6.9310,", 'atomic_rmw_ns = { value = "fast",')))
bad("machine-check-cost-nosource", "machine check {d}/p.toml", r"atomic_rmw_ns",
    profile(lambda s: s.replace("atomic_rmw_ns = { value = 6.9310, source", "atomic_rmw_ns = { value = 6.9310, sauce")))
bad("machine-check-cost-unknown", "machine check {d}/p.toml", r"frobnication_ns",
    profile(lambda s: s.replace("[costs]\n", "[costs]\nfrobnication_ns = { value = 1.0, source = \"x\" }\n")))
bad("machine-check-cost-negative", "machine check {d}/p.toml", r"atomic_rmw_ns",
    profile(lambda s: s.replace("atomic_rmw_ns = { value = 6.9310,", "atomic_rmw_ns = { value = -6.9,")))
bad("machine-check-costs-not-table", "machine check {d}/p.toml", r"costs",
    profile(lambda s: s[:s.index("[costs]")] + "costs = 5\n"))
bad("machine-check-truncated-at-costs", "machine check {d}/p.toml", r"p.toml.*\[costs\].*(empty|missing|no cost)",
    profile(lambda s: s[:s.index("[costs]") + len("[costs]\n")]))
bad("machine-check-no-costs", "machine check {d}/p.toml", r"p.toml.*missing.*costs",
    profile(lambda s: s[:s.index("[costs]")]))
bad("machine-check-no-topology", "machine check {d}/p.toml", r"p.toml.*topology",
    profile(lambda s: s[:s.index("[topology]")] + s[s.index("[costs]"):]))
bad("machine-check-truncated-mid-line", "machine check {d}/p.toml", r"p.toml.*malformed TOML.*(line|end of document)",
    profile(lambda s: s[:s.index("[costs]") + 40]))
bad("machine-check-idle-state-negative", "machine check {d}/p.toml", r"exit_latency_ns",
    profile(lambda s: s.replace("exit_latency_ns = 1000.0", "exit_latency_ns = -1000.0", 1)))
bad("machine-detect-unknown-class", "machine detect --c2c warp_core=5", r"unknown pair class 'warp_core'")
bad("machine-detect-c2c-text", "machine detect --c2c same_llc=abc", r"--c2c.*same_llc.*number.*'abc'")
bad("machine-detect-c2c-noeq", "machine detect --c2c same_llc", r"--c2c.*CLASS=NS.*'same_llc'")
bad("machine-detect-c2c-negative", "machine detect --c2c=same_llc=-5", r"--c2c.*same_llc.*> 0")
bad("machine-detect-c2c-nan", "machine detect --c2c same_llc=nan", r"--c2c.*same_llc.*(> 0|finite)")
bad("machine-detect-c2c-inf", "machine detect --c2c same_llc=inf", r"--c2c.*same_llc.*finite")
bad("machine-detect-out-dir", "machine detect --c2c same_llc=33 --out {d}", r"it is a folder")
bad("machine-detect-out-empty", ["machine", "detect", "--c2c", "same_llc=33", "--out", ""], r"empty output path")
bad("machine-detect-out-readonly", "machine detect --c2c same_llc=33 --out /proc/pwmodel-x.toml",
    r"/proc/pwmodel-x.toml.*cannot write")
bad("machine-detect-out-under-file", "machine detect --c2c same_llc=33 --out {d}/f.txt/x.toml",
    r"f.txt exists and is not a folder", put(**{"f.txt": "keep me"}))
bad("machine-detect-name-empty", ["machine", "detect", "--c2c", "same_llc=33", "--name", ""], r"--name")

# ---- params ----------------------------------------------------------------------------------
bad("params-unknown-machine", "params --machine no-such-box", r"unknown machine 'no-such-box'")
bad("params-bad-profile", "params --machine {d}/p.toml", r"p.toml.*version",
    profile(lambda s: s.replace("version = 1", "version = 9")))
bad("params-extra", "params extra", r"unrecognized arguments: extra")

# ---- decide ----------------------------------------------------------------------------------
for i, (val, exp) in enumerate([
        ("1000000000", r"--n-cpus.*1000000000.*limit"),
        ("1-1000000000000", r"--n-cpus.*limit"),
        ("abc", r"--n-cpus.*'abc'"),
        ("0", r"--n-cpus.*>= 1"),
        ("=-5", r"--n-cpus"),
        ("1.5", r"--n-cpus.*whole"),
        ("nan", r"--n-cpus"),
        ("inf", r"--n-cpus"),
        ("1e400", r"--n-cpus"),
        ("1,,", r"--n-cpus"),
        (",", r"--n-cpus"),
        ("8-1", r"--n-cpus.*empty"),
        ("1-", r"--n-cpus"),
        ("1-2-3", r"--n-cpus"),
        ("0x10", r"--n-cpus"),
        (",".join(["1"] * 200_001), r"--n-cpus.*200001 values.*limit"),
]):
    bad(f"decide-n-cpus-{i}", ["decide", "--n-cpus", val], exp)
bad("decide-machine", "decide --machine no-such-box", r"unknown machine")
bad("decide-machine-file", "decide --machine {d}/p.toml", r"p.toml.*unsupported profile version",
    profile(lambda s: s.replace("version = 1", "version = 3")))
bad("decide-isolation", "decide --isolation bogus", r"isolation.*bogus")
bad("decide-preempt", "decide --preempt-model bogus", r"bogus")
bad("decide-callsite", "decide --callsite bogus", r"bogus")
bad("decide-objective", "decide --objective bogus", r"objective.*bogus")
bad("decide-param-unknown", "decide --param bogus_ns=1", r"bogus_ns")
bad("decide-param-noeq", "decide --param dirty_fraction", r"NAME=VALUE")
bad("decide-param-text", "decide --param dirty_fraction=abc", r"dirty_fraction.*'abc'")
bad("decide-param-bounds", "decide --param dirty_fraction=5", r"dirty_fraction")
bad("decide-param-nan", "decide --param dirty_fraction=nan", r"dirty_fraction")
bad("decide-param-inf", "decide --param ipi_ns=inf", r"ipi_ns")
bad("decide-param-negative", "decide --param=ipi_ns=-1", r"ipi_ns")

# ---- report ----------------------------------------------------------------------------------
bad("report-no-out", "report", r"--out")
bad("report-out-empty", ["report", "--out", ""], r"empty output folder path")
bad("report-out-file", "report --out {d}/f.txt", r"f.txt.*not a folder", put(**{"f.txt": "keep"}))
bad("report-out-readonly", "report --out /proc/pwmodel-report", r"/proc.*(not writable|cannot)")
bad("report-out-under-file", "report --out {d}/f.txt/r", r"f.txt exists and is not a folder",
    put(**{"f.txt": "keep"}))
bad("report-machine", "report --out {d}/r --machine no-such-box", r"unknown machine")
bad("report-machine-file", "report --out {d}/r --machine {d}/p.toml", r"p.toml.*hz",
    profile(lambda s: s.replace("hz = 1000", "hz = 7")))
bad("report-callsite", "report --out {d}/r --callsite bogus", r"unknown call site .bogus.")
bad("report-isolation", "report --out {d}/r --isolation bogus", r"invalid choice: 'bogus'")
bad("report-objective", "report --out {d}/r --objective bogus", r"invalid choice: 'bogus'")
bad("report-param-noeq", "report --out {d}/r --param x", r"NAME=VALUE")
bad("report-param-text", "report --out {d}/r --param ipi_ns=abc", r"ipi_ns.*'abc'")
bad("report-param-unknown", "report --out {d}/r --param bogus_ns=1", r"bogus_ns")
bad("report-param-bounds", "report --out {d}/r --param dirty_fraction=7", r"dirty_fraction")
bad("report-param-nan", "report --out {d}/r --param ipi_ns=nan", r"ipi_ns")

# ---- ingest ----------------------------------------------------------------------------------
OS = "oslat.txt"
bad("ingest-no-out", "ingest {fx}/oslat.txt", r"--out")
bad("ingest-missing", "ingest {d}/missing.txt --out {d}/o.parquet", r"missing.txt.*No such file")
bad("ingest-dir", "ingest {d} --out {d}/o.parquet", r"(Is a directory|is a folder)")
bad("ingest-empty", "ingest {d}/e.txt --out {d}/o.parquet", r"e.txt.*(empty|unknown format)", put(**{"e.txt": ""}))
bad("ingest-binary", "ingest {d}/b.bin --out {d}/o.parquet", r"b.bin.*unknown format",
    put(**{"b.bin": bytes(range(256)) * 4}))
bad("ingest-format", "ingest {fx}/oslat.txt --out {d}/o.parquet --format bogus", r"invalid choice: 'bogus'")
bad("ingest-wrong-format", "ingest {fx}/oslat.txt --out {d}/o.parquet --format c2c", r"oslat.txt:\d+")
bad("ingest-out-is-input", "ingest {d}/t.parquet --out {d}/t.parquet", r"output is the input",
    table_parquet("t.parquet"))
bad("ingest-out-is-input-link", "ingest {d}/t.parquet --out {d}/l.parquet", r"output is the input",
    both(table_parquet("t.parquet"), lambda d, fx: os.symlink(d / "t.parquet", d / "l.parquet")))
bad("ingest-out-is-input-dotdot", "ingest {d}/t.parquet --out {d}/x/../t.parquet", r"output is the input",
    both(table_parquet("t.parquet"), mkdirs("x")))
bad("ingest-out-is-input-hardlink", "ingest {d}/t.parquet --out {d}/h.parquet", r"output is the input",
    both(table_parquet("t.parquet"), lambda d, fx: os.link(d / "t.parquet", d / "h.parquet")))
bad("ingest-out-suffix-csv", "ingest {fx}/oslat.txt --out {d}/x.csv", r"must end in .parquet")
bad("ingest-out-dir", "ingest {fx}/oslat.txt --out {d}/o.parquet", r"it is a folder", mkdirs("o.parquet"))
bad("ingest-out-empty", ["ingest", "{fx}/oslat.txt", "--out", ""], r"empty output path")
bad("ingest-out-readonly", "ingest {fx}/oslat.txt --out /proc/pwmodel-o.parquet", r"/proc.*cannot write")
bad("ingest-out-under-file", "ingest {fx}/oslat.txt --out {d}/f.txt/o.parquet", r"f.txt exists and is not a folder",
    put(**{"f.txt": "keep"}))
for i, (opt, exp) in enumerate([
        (["--tsc-hz", "inf"], r"--tsc-hz.*finite"),
        (["--tsc-hz", "nan"], r"--tsc-hz"),
        (["--tsc-hz", "0"], r"--tsc-hz.*> 0"),
        (["--tsc-hz=-1e9"], r"--tsc-hz.*> 0"),
        (["--tsc-hz", "abc"], r"--tsc-hz.*invalid float"),
        (["--tsc-hz", "1e300"], r"--tsc-hz.*(limit|at most)"),
        (["--clock", "x86_tsc"], r"--clock.*'x86_tsc'.*known"),
        (["--clock", "bogus"], r"--clock.*'bogus'"),
        (["--clock", ""], r"--clock"),
]):
    bad(f"ingest-clock-{i}", ["ingest", "{fx}/tracecmd_report_x86tsc.txt", "--out", "{d}/o.parquet", *opt], exp)
bad("ingest-x86tsc-without-hz", "ingest {fx}/tracecmd_report_x86tsc.txt --out {d}/o.parquet --clock x86-tsc",
    r"(x86-tsc.*needs --tsc-hz|parse with tsc_hz)")
bad("ingest-tsc-hz-ns-clock", "ingest {fx}/ftrace_tracefs_local.txt --out {d}/o.parquet --tsc-hz 2.5e9",
    r"--tsc-hz.*counter clock")
_OSLAT_CUT = fxtext(OS, lambda s: s[:s.index("032 (us):") + len("032 (us):\t 4")])
bad("ingest-oslat-truncated-bucket", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt.*(truncated|summary)",
    put(**{"o.txt": _OSLAT_CUT}))
bad("ingest-oslat-truncated-35", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt.*(truncated|summary)",
    put(**{"o.txt": fxtext(OS, lambda s: s[:s.index("031 (us):")] + "    031 (us):\t 3")}))
bad("ingest-oslat-no-trailer", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt.*(truncated|summary)",
    put(**{"o.txt": fxtext(OS, lambda s: s[:s.index("     Minimum:")])}))
bad("ingest-oslat-no-duration", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt.*Duration",
    put(**{"o.txt": fxtext(OS, lambda s: s[:s.index("    Duration:")])}))
bad("ingest-oslat-bad-count", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt:\d+.*integer",
    put(**{"o.txt": fxtext(OS, lambda s: s.replace("002 (us):\t 389", "002 (us):\t 3x9"))}))
bad("ingest-oslat-max-mismatch", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt.*(Maximum|overflow)",
    put(**{"o.txt": fxtext(OS, lambda s: s.replace("Maximum:\t 2898", "Maximum:\t 20"))}))
bad("ingest-oslat-min-text", "ingest {d}/o.txt --out {d}/o.parquet", r"o.txt:\d+.*numbers after Minimum",
    put(**{"o.txt": fxtext(OS, lambda s: s.replace("Minimum:\t 1 (us)", "Minimum:\t one (us)"))}))
bad("ingest-cyclictest-ragged", "ingest {d}/c.txt --out {d}/o.parquet --format cyclictest", r"c.txt:\d+",
    put(**{"c.txt": "# Histogram\n000000 1 2\n000001 5\n"}))
bad("ingest-cyclictest-text", "ingest {d}/c.txt --out {d}/o.parquet --format cyclictest", r"c.txt:2.*integer",
    put(**{"c.txt": "# Histogram\n000000 abc\n"}))
bad("ingest-cyclictest-empty", "ingest {d}/c.txt --out {d}/o.parquet --format cyclictest", r"c.txt.*no histogram",
    put(**{"c.txt": "# Histogram\n"}))
bad("ingest-rtla-ragged", "ingest {d}/r.txt --out {d}/o.parquet --format rtla-hist", r"r.txt:\d+",
    put(**{"r.txt": "# RTLA timerlat histogram\nIndex   IRQ-000   Thr-000\n0 1\n"}))
bad("ingest-rtla-noheader", "ingest {d}/r.txt --out {d}/o.parquet --format rtla-hist", r"r.txt.*Index",
    put(**{"r.txt": "0 1 2\n"}))
bad("ingest-timerlat-top-empty", "ingest {d}/r.txt --out {d}/o.parquet --format timerlat-top", r"r.txt.*no per-CPU rows",
    put(**{"r.txt": "nothing\n"}))
bad("ingest-c2c-text", "ingest {d}/m.csv --out {d}/o.parquet --format c2c", r"m.csv:2.*latency",
    put(**{"m.csv": ",,\n1.0,abc,\n"}))
bad("ingest-c2c-negative", "ingest {d}/m.csv --out {d}/o.parquet --format c2c", r"m.csv:2.*>= 0",
    put(**{"m.csv": ",,\n-1.0,,\n"}))
bad("ingest-c2c-ragged", "ingest {d}/m.csv --out {d}/o.parquet --format c2c", r"m.csv:2.*cells",
    put(**{"m.csv": ",,\n1.0,\n"}))
bad("ingest-c2c-nan", "ingest {d}/m.csv --out {d}/o.parquet --format c2c", r"m.csv:2.*finite",
    put(**{"m.csv": ",,\nnan,,\n"}))
bad("ingest-table-ns-text", "ingest {d}/t.csv --out {d}/o.parquet", r"t.csv.*latency_ns.*number.*'fast'",
    put(**{"t.csv": "cpu,latency_ns\n0,100\n1,fast\n"}))
bad("ingest-table-ns-text-late", "ingest {d}/t.csv --out {d}/o.parquet", r"t.csv.*latency_ns",
    put(**{"t.csv": "cpu,latency_ns\n" + "0,100\n" * 20000 + "1,n/a\n"}))
bad("ingest-table-hz-text", "ingest {d}/t.csv --out {d}/o.parquet", r"t.csv.*rate_hz",
    put(**{"t.csv": "cpu,rate_hz\n0,fast\n"}))
bad("ingest-table-no-unit", "ingest {d}/t.csv --out {d}/o.parquet", r"t.csv:1.*no unit.*'latency'",
    put(**{"t.csv": "cpu,latency\n0,1\n"}))
bad("ingest-table-dup", "ingest {d}/t.csv --out {d}/o.parquet", r"t.csv.*both map to 'lat_ns'",
    put(**{"t.csv": "lat_us,lat_ns\n1,2\n"}))
bad("ingest-table-ragged", "ingest {d}/t.csv --out {d}/o.parquet --format table", r"t.csv",
    put(**{"t.csv": "cpu,latency_ns\n0,1,2,3\n"}))
bad("ingest-parquet-corrupt", "ingest {d}/t.parquet --out {d}/o.parquet", r"t.parquet.*not a readable table",
    put(**{"t.parquet": b"PAR1garbagegarbage"}))
bad("ingest-ftrace-bad-line", "ingest {d}/t.txt --out {d}/o.parquet --format ftrace", r"t.txt:\d+.*not an ftrace event line",
    put(**{"t.txt": fxtext("ftrace_tracefs_local.txt", lambda s: "\n".join(
        [l for l in s.splitlines() if not l.startswith("#")][:2] + ["garbage here"]) + "\n")}))
bad("ingest-ftrace-mixed-ts", "ingest {d}/t.txt --out {d}/o.parquet --format ftrace", r"t.txt:2.*mix",
    put(**{"t.txt": "  bash-1  [000] .....   1.000001: print: x\n  bash-1  [000] .....   1000002: print: y\n"}))
bad("ingest-ftrace-huge-pid", "ingest {d}/t.txt --out {d}/o.parquet --format ftrace", r"t.txt:1.*out of range",
    put(**{"t.txt": "  bash-99999999999999  [000] .....   1.000001: print: x\n"}))
bad("ingest-gzip-corrupt", "ingest {d}/t.txt.gz --out {d}/o.parquet", r"t.txt.gz.*gzip",
    put(**{"t.txt.gz": b"\x1f\x8b\x08\x00garbage"}))
bad("ingest-xz-corrupt", "ingest {d}/t.txt.xz --out {d}/o.parquet", r"t.txt.xz.*xz",
    put(**{"t.txt.xz": b"\xfd7zXZ\x00garbage"}))
bad("ingest-zstd-corrupt", "ingest {d}/t.txt.zst --out {d}/o.parquet", r"t.txt.zst.*zstd",
    put(**{"t.txt.zst": b"\x28\xb5\x2f\xfdgarbage"}))
bad("ingest-bz2-corrupt", "ingest {d}/t.txt.bz2 --out {d}/o.parquet", r"t.txt.bz2.*bzip2",
    put(**{"t.txt.bz2": b"BZh9garbage"}))
bad("ingest-zip", "ingest {d}/t.zip --out {d}/o.parquet", r"t.zip.*zip archive",
    put(**{"t.zip": b"PK\x03\x04garbage"}))
bad("ingest-dev-null", "ingest /dev/null --out {d}/o.parquet", r"/dev/null.*empty input")
bad("ingest-events-bad", "ingest {d}/t.txt --out {d}/o.parquet --events", r"t.txt.*unknown format",
    put(**{"t.txt": "hello\n"}))
good("ingest-oslat-ok", "ingest {fx}/oslat.txt --out {d}/o.parquet", outputs=["o.parquet"],
     check=parquet_rows("o.parquet", 32))
good("ingest-c2c-bom", "ingest {d}/m.csv --out {d}/o.parquet", put(**{"m.csv": fxtext("c2c_i7-6700K.csv",
     lambda s: "\ufeff" + s)}), outputs=["o.parquet"], check=parquet_rows("o.parquet", 28))
good("ingest-table-bom", "ingest {d}/t.csv --out {d}/o.parquet", put(**{"t.csv": "\ufeffcpu,latency_us\n0,1.5\n"}),
     outputs=["o.parquet"], check=parquet_rows("o.parquet", 1))
good("ingest-gzip", "ingest {d}/o.txt.gz --out {d}/o.parquet", compressed("o.txt.gz", OS, "gzip"),
     outputs=["o.parquet"], check=parquet_rows("o.parquet", 32))
good("ingest-xz", "ingest {d}/o.txt.xz --out {d}/o.parquet", compressed("o.txt.xz", OS, "xz"),
     outputs=["o.parquet"], check=parquet_rows("o.parquet", 32))
good("ingest-zstd", "ingest {d}/o.txt.zst --out {d}/o.parquet", compressed("o.txt.zst", OS, "zstd"),
     outputs=["o.parquet"], check=parquet_rows("o.parquet", 32))
good("ingest-bz2", "ingest {d}/o.txt.bz2 --out {d}/o.parquet", compressed("o.txt.bz2", OS, "bz2"),
     outputs=["o.parquet"], check=parquet_rows("o.parquet", 32))
good("ingest-gzip-table", "ingest {d}/t.csv.gz --out {d}/o.parquet", compressed("t.csv.gz", "table.csv", "gzip"),
     outputs=["o.parquet"], check=parquet_rows("o.parquet", 3))


def _unicode_comm(d: Path, out: str) -> str | None:
    import polars as pl
    df = pl.read_parquet(d / "o.parquet")
    want = {"kwörker/0:1", "bäsh"}
    got = set(df["comm"].to_list())
    if not want <= got:
        return f"task names {sorted(got)}"
    if sorted(df["ts_ns"].to_list()) != [1000001000, 1000002000]:
        return f"timestamps {df['ts_ns'].to_list()}"
    return None


good("ingest-ftrace-unicode-comm", "ingest {d}/t.txt --out {d}/o.parquet --events", put(**{"t.txt":
     "# tracer: nop\n     kwörker/0:1-41      [000] .....     1.000001: workqueue_execute_start: work struct 00 x\n"
     "     bäsh-1  [001] .....     1.000002: print: tracing_mark_write: é\n"}),
     outputs=["o.parquet"], check=_unicode_comm)


def _tsc_ok(d: Path, out: str) -> str | None:
    import polars as pl
    df = pl.read_parquet(d / "o.parquet")
    if df["ts_ns"].null_count() or df["ts_ns"].min() <= 0:
        return "timestamps missing or zero"
    return None


good("ingest-x86tsc-with-hz", "ingest {fx}/tracecmd_report_x86tsc.txt --out {d}/o.parquet --events "
     "--clock x86-tsc --tsc-hz 2.5e9", outputs=["o.parquet"], check=_tsc_ok)

# ---- fit / predict ---------------------------------------------------------------------------
bad("fit-no-data", "fit", r"give a data file")
bad("fit-missing", "fit {d}/missing.csv", r"missing.csv.*(No such|unknown dataset)")
bad("fit-bad-suffix", "fit {d}/x.txt", r"x.txt.*expected a .parquet, .csv or .tsv", put(**{"x.txt": "a"}))
bad("fit-no-column", "fit {fx}/table.csv --column nope_ns", r"no column 'nope_ns'")
bad("fit-string-column", "fit {d}/t.csv --column comm", r"t.csv.*column 'comm'.*numbers",
    put(**{"t.csv": "comm,latency_ns\nbash,1\nsh,2\n"}))
bad("fit-text-ns-column", "fit {d}/t.csv --column latency_ns", r"t.csv.*latency_ns.*number",
    put(**{"t.csv": "cpu,latency_ns\n0,1\n1,slow\n"}))
bad("fit-empty-after-where", "fit {fx}/table.csv --column latency_ns --where cpu=7", r"no values")
bad("fit-where-noeq", "fit {fx}/table.csv --column latency_ns --where cpu", r"COLUMN=VALUE")
bad("fit-where-col", "fit {fx}/table.csv --column latency_ns --where nope=1", r"no column 'nope'")
bad("fit-tick-hz-zero", "fit {fx}/table.csv --column latency_ns --tick-hz 0", r"tick.hz.*> 0")
bad("fit-tick-hz-nan", "fit {fx}/table.csv --column latency_ns --tick-hz nan", r"tick.hz")
bad("fit-tick-hz-inf", "fit {fx}/table.csv --column latency_ns --tick-hz inf", r"tick.hz")
bad("fit-n-boot-zero", "fit {fx}/table.csv --column latency_ns --ci bootstrap --n-boot 0", r"--n-boot.*>= 1")
bad("fit-n-boot-huge", "fit {fx}/table.csv --column latency_ns --n-boot 1000000000", r"--n-boot.*1,000,000,000.*limit")
bad("fit-families", "fit {fx}/table.csv --column latency_ns --families bogus", r"bogus")
bad("fit-families-empty", ["fit", "{fx}/table.csv", "--column", "latency_ns", "--families", ""], r"--families")
bad("fit-censor-nan", "fit {fx}/table.csv --column latency_ns --censor-ns nan", r"--censor-ns")
bad("fit-criterion", "fit {fx}/table.csv --criterion bogus", r"invalid choice")
bad("fit-out-dir", "fit {fx}/table.csv --column latency_ns --out {d}", r"it is a folder")
bad("fit-out-is-input", "fit {d}/t.csv --column latency_ns --out {d}/t.csv", r"output is the input",
    put(**{"t.csv": fxtext("table.csv")}))
bad("fit-report-is-input", "fit {d}/t.csv --column latency_ns --out {d}/f.json --report {d}/t.csv",
    r"output is the input", put(**{"t.csv": fxtext("table.csv")}))
bad("fit-out-readonly", "fit {fx}/table.csv --column latency_ns --out /proc/pwmodel-f.json", r"/proc.*cannot write")
bad("fit-seed-negative", "fit {fx}/table.csv --column latency_ns --seed=-1", r"--seed.*>= 0")
bad("fit-csv-garbage", "fit {d}/t.csv --column latency_ns", r"t.csv",
    put(**{"t.csv": b"\x00\x01\x02\xff\xfe"}))

FIT = "fit.json"


def fitjson(edit: Callable[[dict], object]) -> Callable[[Path, Path], None]:
    def make(fx: Path) -> str:
        d = json.loads((fx / FIT).read_text())
        out = edit(d)
        return json.dumps(d if out is None else out)
    return put(**{"f.json": make})


def _del(k):
    return lambda d: d.pop(k) and None


def _set(k, v):
    return lambda d: d.__setitem__(k, v)


bad("predict-missing", "predict {d}/nope.json", r"nope.json.*No such file")
bad("predict-dir", "predict {d}", r"(Is a directory|is a folder)")
bad("predict-empty", "predict {d}/f.json", r"f.json:1.*malformed JSON", put(**{"f.json": ""}))
bad("predict-binary", "predict {d}/f.json", r"f.json.*(malformed JSON|not UTF-8)", put(**{"f.json": b"\x89PNG\x00\xff"}))
bad("predict-list", "predict {d}/f.json", r"f.json.*JSON object", put(**{"f.json": "[1, 2, 3]"}))
bad("predict-string", "predict {d}/f.json", r"f.json.*JSON object", put(**{"f.json": '"fit"'}))
bad("predict-format", "predict {d}/f.json", r"f.json.*format", fitjson(_set("format", "other")))
bad("predict-no-format", "predict {d}/f.json", r"f.json.*format", fitjson(_del("format")))
bad("predict-version", "predict {d}/f.json", r"f.json.*version 99", fitjson(_set("version", 99)))
bad("predict-no-version", "predict {d}/f.json", r"f.json.*version", fitjson(_del("version")))
bad("predict-family-missing", "predict {d}/f.json", r"f.json.*family", fitjson(_del("family")))
bad("predict-family-unknown", "predict {d}/f.json", r"f.json.*family.*'bogus'", fitjson(_set("family", "bogus")))
bad("predict-values-strings", "predict {d}/f.json", r"f.json.*values", fitjson(_set("values", ["a", "b"])))
bad("predict-values-short", "predict {d}/f.json", r"f.json.*values.*2", fitjson(_set("values", [1.0])))
bad("predict-values-long", "predict {d}/f.json", r"f.json.*values.*2", fitjson(_set("values", [1.0, 2.0, 3.0])))
bad("predict-values-nan", "predict {d}/f.json", r"f.json.*values", fitjson(_set("values", ["NaN", 1.0])))
bad("predict-values-negative", "predict {d}/f.json", r"f.json.*values", fitjson(_set("values", [-5.0, 1.0])))
bad("predict-cov-missing", "predict {d}/f.json", r"f.json.*cov_t", fitjson(_del("cov_t")))
bad("predict-cov-shape", "predict {d}/f.json", r"f.json.*cov_t", fitjson(_set("cov_t", [[1.0]])))
bad("predict-cov-strings", "predict {d}/f.json", r"f.json.*cov_t", fitjson(_set("cov_t", [["a", "b"], ["c", "d"]])))
bad("predict-param-names", "predict {d}/f.json", r"f.json.*param_names", fitjson(_set("param_names", "median_ns")))
bad("predict-shift-text", "predict {d}/f.json", r"f.json.*shift_ns", fitjson(_set("shift_ns", "x")))
bad("predict-level", "predict {d}/f.json", r"f.json.*level", fitjson(_set("level", 5)))
bad("predict-n-text", "predict {d}/f.json", r"f.json.*'n'", fitjson(_set("n", "many")))
bad("predict-sel-no-fits", "predict {d}/f.json", r"f.json.*fits",
    put(**{"f.json": json.dumps({"format": "pwmodel-distselect", "version": 1, "best": "x", "criterion": "bic"})}))
bad("predict-sel-best-missing", "predict {d}/f.json", r"f.json.*best.*'x'",
    put(**{"f.json": lambda fx: json.dumps({"format": "pwmodel-distselect", "version": 1, "best": "x",
                                              "criterion": "bic", "fits": {"lognorm": json.loads((fx / FIT).read_text())}})}))
bad("predict-sel-best-list", "predict {d}/f.json", r"f.json.*best.*\[\]",  # found by test_reader_fuzz
    put(**{"f.json": lambda fx: json.dumps({"format": "pwmodel-distselect", "version": 1, "best": [],
                                              "criterion": "bic", "fits": {"lognorm": json.loads((fx / FIT).read_text())}})}))
bad("predict-sel-version", "predict {d}/f.json", r"f.json.*version 7",
    put(**{"f.json": json.dumps({"format": "pwmodel-distselect", "version": 7, "best": "x", "criterion": "bic", "fits": {}})}))
bad("predict-sel-fits-list", "predict {d}/f.json", r"f.json.*fits",
    put(**{"f.json": json.dumps({"format": "pwmodel-distselect", "version": 1, "best": "x", "criterion": "bic", "fits": []})}))
bad("predict-quantiles-text", "predict {fx}/fit.json --quantiles abc", r"--quantiles.*'abc'")
bad("predict-quantiles-range", "predict {fx}/fit.json --quantiles 1.5", r"quantile.*\(0, 1\)")
bad("predict-quantiles-nan", "predict {fx}/fit.json --quantiles nan", r"quantile")
bad("predict-quantiles-zero", "predict {fx}/fit.json --quantiles 0", r"quantile")
bad("predict-n-cpus-text", "predict {fx}/fit.json --n-cpus abc", r"--n-cpus.*'abc'")
bad("predict-n-cpus-zero", "predict {fx}/fit.json --n-cpus 0", r"--n-cpus.*>= 1")
bad("predict-n-cpus-float", "predict {fx}/fit.json --n-cpus 2.5", r"--n-cpus.*whole")
bad("predict-n-cpus-huge", "predict {fx}/fit.json --n-cpus 1000000000000", r"--n-cpus.*limit")
bad("predict-out-is-input", "predict {d}/f.json --out {d}/f.json", r"output is the input",
    put(**{"f.json": fxtext(FIT)}))
bad("predict-out-dir", "predict {fx}/fit.json --out {d}", r"it is a folder")
bad("predict-out-readonly", "predict {fx}/fit.json --out /proc/pwmodel-p.json", r"/proc.*cannot write")
bad("predict-out-empty", ["predict", "{fx}/fit.json", "--out", ""], r"empty output path")
bad("predict-out-under-file", "predict {fx}/fit.json --out {d}/f.txt/p.json", r"f.txt exists and is not a folder",
    put(**{"f.txt": "keep"}))
good("predict-ok", "predict {fx}/fit.json --quantiles 0.5 --n-cpus 1 --out {d}/p.json", outputs=["p.json"],
     check=lambda d, out: None if json.loads((d / "p.json").read_text())["rows"][0]["value_ns"] > 0 else "p50 <= 0")

# ---- simulate / validate / simulate-mutex ---------------------------------------------------
for i, (opt, exp) in enumerate([
        (["--n-cpus", "1.5"], r"--n-cpus.*whole"),
        (["--n-cpus", "1000000000"], r"--n-cpus.*limit"),
        (["--reps", "0"], r"--reps.*>= 1"),
        (["--reps=-3"], r"--reps.*>= 1"),
        (["--reps", "1000000000000"], r"--reps.*limit"),
        (["--reps", "abc"], r"--reps.*invalid int"),
        (["--workers", "0"], r"--workers.*>= 1"),
        (["--workers", "100000"], r"--workers.*limit"),
        (["--seed=-1"], r"--seed.*>= 0"),
        (["--dirty", "bogus"], r"invalid choice"),
        (["--machine", "bogus"], r"unknown machine"),
        (["--isolation", "bogus"], r"bogus"),
        (["--callsite", "bogus"], r"bogus"),
        (["--param", "ipi_ns=abc"], r"ipi_ns.*'abc'"),
        (["--param", "dirty_fraction=2"], r"dirty_fraction"),
        (["--out", "{d}/x.txt"], r"must end in .csv or .parquet"),
        (["--out", "{d}"], r"(must end in|it is a folder)"),
        (["--out", "/proc/pwmodel-s.csv"], r"/proc.*cannot write"),
        (["--n-cpus", "4096", "--reps", "100000"], r"4096 CPUs x 100000.*limit"),
]):
    bad(f"simulate-{i}", ["simulate", "--n-cpus", "2", "--reps", "10", *opt], exp)
for i, (opt, exp) in enumerate([
        (["--machines", "bogus"], r"unknown machine"),
        (["--isolations", "bogus"], r"bogus"),
        (["--rates", "bogus"], r"bogus"),
        (["--n-cpus", "abc"], r"--n-cpus"),
        (["--n-cpus", "2.5"], r"--n-cpus.*whole"),
        (["--reps", "0"], r"--reps"),
        (["--out-dir", "{d}/f.txt"], r"f.txt.*not a folder"),
        (["--out-dir", ""], r"empty output folder path"),
        (["--workers", "0"], r"--workers"),
        (["--callsites", "bogus"], r"--callsites.*unknown call site 'bogus'"),
        (["--callsites", "lru_add_drain,,"], r"--callsites"),
        (["--strategies", "QW,XX"], r"--strategies.*unknown strategy 'XX'"),
        (["--strategies", "QW,QW"], r"--strategies.*given twice"),
        (["--rates", "low,bogus"], r"--rates.*unknown rate level 'bogus'"),
        (["--dirty", "bogus"], r"invalid choice"),
        (["--machines", "amd-epyc-7r13-2s,bogus"], r"--machines.*unknown machine 'bogus'"),
        (["--combine", "{d}/none"], r"--combine.*cannot read"),
        (["--combine", "{d}/f.txt"], r"--combine.*cannot read"),
]):
    bad(f"validate-{i}", ["validate", "--n-cpus", "2", "--reps", "10", *opt], exp,
        put(**{"f.txt": "keep"}))
for i, (opt, exp) in enumerate([
        (["--caller-rates", "abc"], r"--caller-rates.*'abc'"),
        (["--caller-rates=-1"], r"--caller-rates.*> 0"),
        (["--caller-rates", "nan"], r"--caller-rates"),
        (["--caller-rates", "inf"], r"--caller-rates"),
        (["--caller-rates", ""], r"--caller-rates"),
        (["--n", "0"], r"--n.*>= 1"),
        (["--n", "1000000000"], r"--n.*limit"),
        (["--callers", "0"], r"--callers.*>= 1"),
        (["--callers", "1000000000000"], r"--callers.*limit"),
        (["--seed=-1"], r"--seed.*>= 0"),
        (["--out", "{d}/x.txt"], r"must end in .csv or .parquet"),
        (["--machine", "bogus"], r"unknown machine"),
]):
    bad(f"mutex-{i}", ["simulate-mutex", "--n", "4", "--callers", "10", *opt], exp)

# ---- sweep -----------------------------------------------------------------------------------
AX = '[axes]\nmachine = ["intel-xeon-8375c-2s"]\n'
bad("sweep-missing", "sweep {d}/nope.toml --check", r"nope.toml.*No such file")
bad("sweep-dir", "sweep {d} --check", r"(Is a directory|is a folder)")
bad("sweep-binary", "sweep {d}/s.toml --check", r"s.toml.*(not UTF-8|not valid TOML)",
    put(**{"s.toml": b"\x00\xff\xfe\x89PNG"}))
bad("sweep-empty", "sweep {d}/s.toml --check", r"s.toml.*\[axes\]", spec(""))
bad("sweep-bad-toml", "sweep {d}/s.toml --check", r"s.toml:1.*not valid TOML", spec("[axes\n"))
bad("sweep-unknown-table", "sweep {d}/s.toml --check", r"unknown table 'bogus'", spec(AX + "[bogus]\nx = 1\n"))
bad("sweep-no-machine", "sweep {d}/s.toml --check", r"axis 'machine' is required", spec("[axes]\nn_cpus = [1]\n"))
bad("sweep-unknown-axis", "sweep {d}/s.toml --check", r"unknown axis", spec(AX + "bogus_ns = [1]\n"))
bad("sweep-huge-grid", "sweep {d}/s.toml --check", r"s.toml.*(4\.0e\+17|400,000,000,000,000,000).*points.*limit",
    spec(AX + "n_cpus = { start = 1, stop = 20000, step = 1 }\nipi_ns = { start = 1, stop = 100000000, num = 100000000 }\n"
         "atomic_rmw_ns = { start = 1, stop = 2, num = 200000 }\n"))
bad("sweep-huge-n-cpus", "sweep {d}/s.toml --check", r"s.toml:\d+.*n_cpus.*1e\+12.*limit", spec(AX + "n_cpus = [1e12]\n"))
bad("sweep-n-cpus-nan", "sweep {d}/s.toml --check", r"n_cpus", spec(AX + "n_cpus = [nan]\n"))
bad("sweep-n-cpus-zero", "sweep {d}/s.toml --check", r"n_cpus.*>= 1", spec(AX + "n_cpus = [0]\n"))
bad("sweep-n-cpus-text", "sweep {d}/s.toml --check", r"n_cpus.*expected numbers", spec(AX + 'n_cpus = ["8"]\n'))
bad("sweep-axis-huge-num", "sweep {d}/s.toml --check", r"(num.*larger than|points.*limit)", spec(AX + "ipi_ns = { start = 1, stop = 2, num = 1000000000 }\n"))
bad("sweep-axis-huge-step", "sweep {d}/s.toml --check", r"(range of .* values larger than|points.*limit)", spec(AX + "ipi_ns = { start = 1, stop = 1e12, step = 1 }\n"))
bad("sweep-axis-empty", "sweep {d}/s.toml --check", r"empty axis", spec(AX + "ipi_ns = []\n"))
bad("sweep-axis-bounds", "sweep {d}/s.toml --check", r"dirty_fraction", spec(AX + "dirty_fraction = [2.0]\n"))
bad("sweep-range-nostop", "sweep {d}/s.toml --check", r"range needs 'stop'", spec(AX + "ipi_ns = { start = 1, num = 3 }\n"))
bad("sweep-range-both", "sweep {d}/s.toml --check", r"exactly one of 'num' or 'step'", spec(AX + "ipi_ns = { start = 1, stop = 3, num = 3, step = 1 }\n"))
bad("sweep-range-log0", "sweep {d}/s.toml --check", r"log range", spec(AX + 'ipi_ns = { start = 0, stop = 3, num = 3, scale = "log" }\n'))
bad("sweep-range-key", "sweep {d}/s.toml --check", r"unknown range key", spec(AX + "ipi_ns = { start = 0, stop = 3, count = 3 }\n"))
bad("sweep-machine-unknown", "sweep {d}/s.toml --check", r"unknown machine", spec('[axes]\nmachine = ["bogus"]\n'))
bad("sweep-machine-dup", "sweep {d}/s.toml --check", r"duplicate", spec('[axes]\nmachine = ["%s", "%s"]\n' % (MB, MB)))
bad("sweep-kind", "sweep {d}/s.toml --check", r"unknown kind", spec('[sweep]\nkind = "magic"\n' + AX))
bad("sweep-metric", "sweep {d}/s.toml --check", r"unknown metric", spec('[sweep]\nmetrics = ["bogus"]\n' + AX))
bad("sweep-quantile", "sweep {d}/s.toml --check", r"quantiles", spec('[sweep]\nquantiles = [1.5]\n' + AX))
bad("sweep-reps-zero", "sweep {d}/s.toml --check", r"reps", spec('[sweep]\nreps = 0\n' + AX))
bad("sweep-reps-huge", "sweep {d}/s.toml --check", r"reps.*limit", spec('[sweep]\nkind = "montecarlo"\nseed = 1\nreps = 1000000000000\n' + AX))
bad("sweep-chunk-huge", "sweep {d}/s.toml --check", r"chunk_points.*limit", spec('[sweep]\nchunk_points = 1000000000000\n' + AX))
bad("sweep-mc-no-seed", "sweep {d}/s.toml --check", r"needs an integer 'seed'", spec('[sweep]\nkind = "montecarlo"\n' + AX))
bad("sweep-mc-frac", "sweep {d}/s.toml --check", r"whole CPUs", spec('[sweep]\nkind = "montecarlo"\nseed = 1\n' + AX + "n_cpus = [1.5]\n"))
bad("sweep-fixed-unknown", "sweep {d}/s.toml --check", r"bogus_ns", spec(AX + "[fixed]\nbogus_ns = 1\n"))
bad("sweep-fixed-text", "sweep {d}/s.toml --check", r"expected a number", spec(AX + '[fixed]\nipi_ns = "1"\n'))
bad("sweep-fixed-and-axis", "sweep {d}/s.toml --check", r"both an axis and fixed", spec(AX + "ipi_ns = [100]\n[fixed]\nipi_ns = 100\n"))
bad("sweep-key-type", "sweep {d}/s.toml --check", r"expected int", spec('[sweep]\nseed = "x"\n' + AX))
bad("sweep-no-out", "sweep {fx}/spec.toml", r"--out DIR is required")
bad("sweep-out-file", "sweep {fx}/spec.toml --out {d}/f.txt", r"f.txt.*not a folder", put(**{"f.txt": "keep"}))
bad("sweep-out-empty", ["sweep", "{fx}/spec.toml", "--out", ""], r"empty output folder path")
bad("sweep-out-readonly", "sweep {fx}/spec.toml --out /proc/pwmodel-sweep", r"/proc.*(not writable|cannot)")
bad("sweep-chunk-zero", "sweep {fx}/spec.toml --out {d}/o --chunk-points 0", r"chunk.*>= 1")
bad("sweep-workers-zero", "sweep {fx}/spec.toml --out {d}/o --workers 0", r"workers.*>= 1")
bad("sweep-workers-huge", "sweep {fx}/spec.toml --out {d}/o --workers 100000", r"workers.*limit")
bad("sweep-seed-negative", "sweep {fx}/spec.toml --out {d}/o --seed=-1", r"seed.*>= 0")
bad("sweep-executor", "sweep {fx}/spec.toml --out {d}/o --executor magic", r"invalid choice")
bad("sweep-foreign-parts", "sweep {fx}/spec.toml --out {d}/o", r"did not write.*part-00000-x.snappy.parquet",
    put(**{"o__part-00000-x.snappy.parquet": b"PAR1spark"}))
bad("sweep-foreign-parts-force", "sweep {fx}/spec.toml --out {d}/o --force", r"did not write.*part-00000-x.snappy.parquet",
    put(**{"o__part-00000-x.snappy.parquet": b"PAR1spark"}))
bad("sweep-foreign-dir-force", "sweep {fx}/spec.toml --out {d}/o --force", r"did not write.*part-000000.parquet",
    put(**{"o__part-000000.parquet__data.bin": b"precious"}))
bad("sweep-foreign-success", "sweep {fx}/spec.toml --out {d}/o", r"did not write.*_SUCCESS.json",
    put(**{"o___SUCCESS.json": '{"job": "spark"}'}))
bad("sweep-foreign-success-force", "sweep {fx}/spec.toml --out {d}/o --force", r"did not write.*_SUCCESS.json",
    put(**{"o___SUCCESS.json": '{"job": "spark"}'}))
bad("sweep-corrupt-manifest", "sweep {fx}/spec.toml --out {d}/o", r"_sweep.json.*not a sweep manifest",
    put(**{"o___sweep.json": "{not json"}))
bad("sweep-other-sweep", "sweep {fx}/spec.toml --out {d}/o", r"folder holds another sweep",
    put(**{"o___sweep.json": json.dumps({"fingerprint": "0123", "n_chunks": 1, "format": "pwmodel-sweep"})}))


def _sweep_ok(d: Path, out: str) -> str | None:
    import polars as pl
    df = pl.read_parquet(d / "o" / "part-000000.parquet")
    if df.height != 2 or not (d / "o" / "_SUCCESS.json").exists():
        return f"{df.height} rows"
    man = json.loads((d / "o" / "_sweep.json").read_text())
    if "n_cpus" not in man["spec"]["axes"]:
        return "manifest has no axis definitions"
    if not (d / "o" / "notes.txt").exists():
        return "the user's file next to the sweep is gone"
    return None


good("sweep-ok-keeps-user-files", "sweep {fx}/spec.toml --out {d}/o --quiet", put(**{"o__notes.txt": "mine"}),
     check=_sweep_ok, outputs=["o"])


def _sweep_force_ok(d: Path, out: str) -> str | None:
    left = sorted(p.name for p in (d / "o").iterdir())
    if "part-00000-x.snappy.parquet" in left:
        return None if _sweep_ok(d, out) is None else _sweep_ok(d, out)
    return f"--force removed a file pwmodel did not write: {left}"


def _prior_sweep(d: Path, fx: Path) -> None:
    from pwmodel import cli
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        cli.main(["sweep", str(fx / "spec.toml"), "--out", str(d / "o"), "--quiet"])
    (d / "o" / "part-00000-x.snappy.parquet").write_bytes(b"PAR1spark")
    (d / "o" / "notes.txt").write_text("mine")


good("sweep-force-keeps-foreign", "sweep {fx}/spec.toml --out {d}/o --force --quiet --seed 0", _prior_sweep,
     check=_sweep_force_ok, outputs=["o/part-000000.parquet", "o/_sweep.json", "o/_SUCCESS.json"])

# ---- collect (validated before anything is touched; the collectors are stand-ins here) ------
for i, (opt, exp) in enumerate([
        (["--duration", "0"], r"--duration.*> 0"),
        (["--duration=-5"], r"--duration.*> 0"),
        (["--duration", "nan"], r"--duration"),
        (["--duration", "inf"], r"--duration"),
        (["--duration", "1e9"], r"--duration.*limit"),
        (["--triggers", "0"], r"--triggers.*>= 1"),
        (["--triggers=-1"], r"--triggers.*>= 1"),
        (["--triggers", "1000000000"], r"--triggers.*limit"),
        (["--interval-ms=-1"], r"--interval-ms.*>= 0"),
        (["--interval-ms", "nan"], r"--interval-ms"),
        (["--fifo-prio", "0"], r"--fifo-prio.*1.*99"),
        (["--fifo-prio", "100"], r"--fifo-prio.*1.*99"),
        (["--target-cpu", "99999"], r"--target-cpu.*99999"),
        (["--target-cpu=-1"], r"--target-cpu"),
        (["--requester-cpu", "1", "--target-cpu", "1"], r"requester.*target.*same CPU"),
        (["--pages=-1"], r"--pages.*>= 0"),
        (["--pages", "100000000"], r"--pages.*limit"),
        (["--gap-ns", "0"], r"--gap-ns.*> 0"),
        (["--out", "{d}/f.txt"], r"f.txt.*not a folder"),
        (["--target-state", "bogus"], r"invalid choice"),
]):
    bad(f"collect-drain-{i}", ["collect", "drain", *opt], exp, put(**{"f.txt": "keep"}))
for i, (opt, exp) in enumerate([
        (["--duration", "0"], r"--duration.*> 0"),
        (["--triggers", "0"], r"--triggers.*>= 1"),
        (["--interval-ms=-1"], r"--interval-ms"),
        (["--target-cpu", "99999"], r"--target-cpu"),
]):
    bad(f"collect-stat-{i}", ["collect", "stat-refresh", *opt], exp)
for i, (opt, exp) in enumerate([
        (["--runs", "0"], r"--runs.*>= 1"),
        (["--runs", "100000"], r"--runs.*limit"),
        (["--cpus", "abc"], r"--cpus.*'abc'"),
        (["--cpus", "0,99999"], r"--cpus.*99999"),
        (["--cpus", "0,0"], r"--cpus.*twice"),
        (["--scale", "0"], r"--scale.*> 0"),
        (["--scale", "nan"], r"--scale"),
        (["--scale", "1e9"], r"--scale.*limit"),
        (["--fifo-prio", "100"], r"--fifo-prio"),
        (["--fifo-prio=-1"], r"--fifo-prio"),
]):
    bad(f"collect-micro-{i}", ["collect", "micro", *opt], exp)
bad("collect-none", "collect", r"required: COLLECTOR")
for i, (opt, exp) in enumerate([
        (["--nice", "40"], r"--nice.*limit"),
        (["--nice=-21"], r"--nice.*>= -20"),
        (["--slice-ns", "5"], r"--slice-ns.*100000"),
        (["--busy-tasks", "0"], r"--busy-tasks.*>= 1"),
        (["--busy-tasks", "100000"], r"--busy-tasks.*limit"),
        (["--sysctl", "vm.x=1"], r"--sysctl.*kernel.NAME=VALUE"),
        (["--sysctl", "kernel.x"], r"--sysctl.*kernel.NAME=VALUE"),
        (["--policy", "fifo"], r"invalid choice"),
]):
    bad(f"collect-fair-{i}", ["collect", "drain", *opt], exp)

# ---- calibrate --------------------------------------------------------------------------------
bad("calibrate-no-out", "calibrate --base intel-xeon-8375c-2s", r"required: --out")
bad("calibrate-no-base", "calibrate --out {d}/p.toml", r"give --base")
bad("calibrate-base-unknown", "calibrate --base no-such-box --out {d}/p.toml", r"unknown machine")
bad("calibrate-base-bad", "calibrate --base {d}/b.toml --out {d}/p.toml", r"b.toml.*version",
    put(**{"b.toml": lambda fx: (fx / "profile.toml").read_text().replace("version = 1", "version = 5")}))
bad("calibrate-state-noeq", "calibrate --base intel-xeon-8375c-2s --state nohz_other --out {d}/p.toml",
    r"ISOLATION=PATH")
bad("calibrate-state-missing", "calibrate --base intel-xeon-8375c-2s --state nohz_other={d}/nope --out {d}/p.toml",
    r"nope.*No such file")
bad("calibrate-micro-missing", "calibrate --base intel-xeon-8375c-2s --micro {d}/nope --out {d}/p.toml",
    r"nope.*No such file")
bad("calibrate-out-dir", "calibrate --base intel-xeon-8375c-2s --out {d}", r"(must end in .toml|it is a folder)")
bad("calibrate-out-suffix", "calibrate --base intel-xeon-8375c-2s --out {d}/p.txt", r"must end in .toml")
bad("calibrate-out-is-base", "calibrate --base {d}/b.toml --out {d}/b.toml", r"output is the input",
    put(**{"b.toml": lambda fx: (fx / "profile.toml").read_text()}))
bad("calibrate-out-readonly", "calibrate --base intel-xeon-8375c-2s --out /proc/pwmodel-p.toml", r"/proc.*cannot write")
bad("calibrate-tick-hz", "calibrate --base intel-xeon-8375c-2s --out {d}/p.toml --tick-hz 123", r"invalid choice")

CASES: list[Case] = C
