"""ftrace event text -> polars: tracefs ``trace`` files and ``trace-cmd report`` output.

Both formats print one event per line::

    kworker/1:1-41      [001] .....   176.391951: workqueue_execute_start: work struct ...  (tracefs)
    probe:  bash-3934  [000]   343.623673683: print:   tracing_mark_write: pwmodel begin 0     (trace-cmd)

Timestamps are either seconds with a fraction (ns clocks: local, global, mono,
boot, ... printed with us or ns precision) or bare integers (counter clocks:
``x86-tsc``, ``counter``).  Counter ticks become ns only when ``tsc_hz`` is given.

Schema of :func:`parse_ftrace` (one row per event line):

=========  =======  ===========================================================
line       UInt32   1-based line number in the source file
instance   Utf8     trace-cmd buffer prefix (``probe:``), else null
comm       Utf8     task name (``<idle>``, ``kworker/1:1``)
pid        Int32    task id
cpu        Int32    CPU that recorded the event
flags      Utf8     irqs-off/need-resched/hardirq/preempt flags (tracefs), else null
ts_raw     Int64    ns for ns clocks, ticks for counter clocks
ts_ns      Int64    time in ns (null for counter clocks without ``tsc_hz``)
event      Utf8     event name without system (``print`` markers -> ``tracing_mark_write``)
details    Utf8     the event's formatted payload
=========  =======  ===========================================================

Lines that are comments (``#``), ``cpus=N``, ``version = N``, ``CPU N is empty``,
buffer-start banners, stack-trace continuations (`` => func``) are skipped.
``CPU:N [LOST K EVENTS]`` lines become rows with ``event="lost_events"``,
``details=K`` and the timestamp of the previous event.
Any other line raises :class:`PwmodelError` naming the file and line (``strict``)
or is dropped (``strict=False``).
"""

from __future__ import annotations

import os

import polars as pl

from pwmodel.errors import PwmodelError

EVENT_RE = (
    r"^\s*(?:(?P<instance>[A-Za-z0-9_.-]+):\s+)?"
    r"(?P<comm>.*?)-(?P<pid>\d+)\s+"
    r"(?:\(\s*[-\d]+\)\s+)?"
    r"\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>[^\s\d][^\s]{3,5})\s+)?"
    r"(?P<ts>\d+(?:\.\d+)?):\s+"
    r"(?P<event>[A-Za-z0-9_]+):\s*"
    r"(?P<details>.*?)\s*$"
)
VALID_RE = (
    r"^\s*(?:[A-Za-z0-9_.-]+:\s+)?\S.*-\d+\s+(?:\(\s*[-\d]+\)\s+)?\[\d+\]\s+"
    r"(?:[^\s\d]\S{3,5}\s+)?\d+(?:\.\d+)?: [A-Za-z0-9_]+:"
)
SKIP_RE = (
    r"^\s*(?:#.*|cpus=\d+|version\s*=.*|CPU \d+ is empty|CPU\d* data recorded at offset.*"
    r"|\s*=>.*|\s*<stack trace>|)$"
)
LOST_RE = r"^\s*CPU:(?P<cpu>\d+) \[LOST (?P<n>\d+) EVENTS\]\s*$"

SCHEMA = {
    "line": pl.UInt32, "instance": pl.Utf8, "comm": pl.Utf8, "pid": pl.Int32,
    "cpu": pl.Int32, "flags": pl.Utf8, "ts_raw": pl.Int64, "ts_ns": pl.Int64,
    "event": pl.Utf8, "details": pl.Utf8,
}


def read_text(path: str | os.PathLike) -> str:
    """Read a text file (gzip, xz, bzip2, zstd allowed; byte-order mark dropped);
    undecodable bytes become U+FFFD. See :mod:`pwmodel.ingest.source`."""
    from pwmodel.ingest.source import load
    return load(path).decode("utf-8", errors="replace")


COUNTER_CLOCKS = ("x86-tsc", "counter")
#: trace clocks printed as seconds.fraction (tracefs trace_clock; kernel/trace/trace.c trace_clocks[])
NS_CLOCKS = ("local", "global", "mono", "mono_raw", "boot", "tai", "perf")
#: a TSC (or other counter) frequency above this is no clock (100 GHz)
MAX_TSC_HZ = 1e11


def check_clock(clock: str | None, tsc_hz: float | None, file: str) -> None:
    """Refuse unknown clock names and TSC frequencies that are not finite, positive numbers."""
    import math
    if clock is not None and clock not in COUNTER_CLOCKS + NS_CLOCKS:
        raise PwmodelError(f"unknown trace clock {clock!r} (known: {', '.join(NS_CLOCKS + COUNTER_CLOCKS)})",
                           file=file, field="--clock")
    if tsc_hz is not None:
        if not math.isfinite(tsc_hz):
            raise PwmodelError(f"--tsc-hz must be a finite frequency in Hz, found {tsc_hz!r}",
                               file=file, field="--tsc-hz")
        if not tsc_hz > 0:
            raise PwmodelError(f"--tsc-hz must be > 0 Hz, found {tsc_hz!r}", file=file, field="--tsc-hz")
        if tsc_hz > MAX_TSC_HZ:
            raise PwmodelError(f"--tsc-hz of {tsc_hz:g} Hz is larger than the limit {MAX_TSC_HZ:g} Hz",
                               file=file, field="--tsc-hz")
        if clock in NS_CLOCKS:
            raise PwmodelError(f"--tsc-hz applies to a counter clock ({', '.join(COUNTER_CLOCKS)}), "
                               f"not to --clock {clock}", file=file, field="--tsc-hz")


def parse_ftrace(path: str | os.PathLike, *, tsc_hz: float | None = None,
                 clock: str | None = None, strict: bool = True) -> pl.DataFrame:
    """Parse an ftrace text file (tracefs ``trace`` or ``trace-cmd report``).

    ``clock`` names the trace clock when the text cannot tell: ``trace-cmd
    report`` prints x86-tsc ticks divided by 1e9 as if they were seconds, so
    pass ``clock="x86-tsc"`` (and ``tsc_hz``) for such reports.
    """
    return parse_ftrace_text(read_text(path), file=str(path), tsc_hz=tsc_hz, clock=clock,
                             strict=strict)


def _lines_frame(data: bytes) -> pl.DataFrame:
    """One row per line (``raw``, Utf8; empty lines kept as null) with a 1-based ``line``."""
    if b"\x1f" in data:
        data = data.replace(b"\x1f", b" ")
    if data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        return pl.DataFrame({"line": pl.Series([], dtype=pl.UInt32), "raw": pl.Series([], dtype=pl.Utf8)})
    try:
        df = pl.read_csv(data, separator="\x1f", has_header=False, quote_char=None,
                         new_columns=["raw"], infer_schema=False, encoding="utf8-lossy",
                         truncate_ragged_lines=True, raise_if_empty=False)
        if df.height != data.count(b"\n") + 1:
            raise ValueError("line count mismatch")
    except Exception:  # noqa: BLE001 - any reader hiccup: fall back to a plain split
        text = data.decode("utf-8", errors="replace")
        df = pl.DataFrame({"raw": pl.Series("raw", text.split("\n"), dtype=pl.Utf8)})
    return df.with_row_index("line", offset=1).with_columns(pl.col("raw").str.strip_chars_end("\r"))


def parse_ftrace_text(text: str | bytes, *, file: str = "<text>", tsc_hz: float | None = None,
                      clock: str | None = None, strict: bool = True) -> pl.DataFrame:
    """Parse ftrace text already in memory; see the module docstring for the schema."""
    check_clock(clock, tsc_hz, file)
    data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
    raw = _lines_frame(data).filter(pl.col("raw").is_not_null())
    raw = raw.filter(~pl.col("raw").str.contains(SKIP_RE))
    ok = raw["raw"].str.contains(VALID_RE)
    bad = raw.filter(~ok)
    if bad.height:
        lost = bad.filter(pl.col("raw").str.contains(LOST_RE))
        bad = bad.filter(~pl.col("raw").str.contains(LOST_RE))
        if strict and bad.height:
            first = bad.row(0, named=True)
            raise PwmodelError(f"not an ftrace event line: {first['raw'][:120]!r}", file=file,
                               line=int(first["line"]))
    else:
        lost = raw.clear()
    ev = _split_fields(raw.filter(ok))
    has_dot = ev["ts"].str.contains(".", literal=True)
    if ev.height and has_dot.any() and not has_dot.all():
        idx = int((has_dot != has_dot[0]).arg_max())
        raise PwmodelError("timestamps mix seconds.fraction and counter ticks",
                           file=file, line=int(ev["line"][idx]))
    counter = clock in COUNTER_CLOCKS or (bool(ev.height) and not bool(has_dot[0]))
    if ev.height and bool(has_dot[0]) and tsc_hz is not None and clock not in COUNTER_CLOCKS:
        raise PwmodelError("--tsc-hz applies to a counter clock, but this trace's timestamps are "
                           "seconds.fraction (an ns clock); drop --tsc-hz, or pass --clock x86-tsc "
                           "for a trace-cmd report of an x86-tsc trace", file=file, field="--tsc-hz")
    if ev.height and not bool(has_dot[0]):
        ts_raw = pl.col("ts").cast(pl.Int64, strict=False)
    else:  # seconds.fraction: float64 keeps ns exact up to ~1e6 s of uptime
        ts_raw = (pl.col("ts").cast(pl.Float64, strict=False) * 1e9).round(0).cast(pl.Int64, strict=False)
    ev = ev.with_columns(
        ts_raw.alias("ts_raw"),
        pl.col("pid").cast(pl.Int32, strict=False),
        pl.col("cpu").cast(pl.Int32, strict=False),
    )
    overflow = ev.filter(pl.col("ts_raw").is_null() | pl.col("pid").is_null() | pl.col("cpu").is_null())
    if overflow.height:
        raise PwmodelError("number out of range in timestamp, pid or cpu", file=file,
                           line=int(overflow["line"][0]))
    # trace-cmd prints markers as "print: tracing_mark_write: text"
    is_print = (pl.col("event") == "print") & pl.col("details").str.starts_with("tracing_mark_write:")
    ev = ev.with_columns(
        pl.when(is_print).then(pl.lit("tracing_mark_write")).otherwise(pl.col("event")).alias("event"),
        pl.when(is_print).then(pl.col("details").str.slice(len("tracing_mark_write:")).str.strip_chars_start())
        .otherwise(pl.col("details")).alias("details"),
    )
    if counter:
        ts_ns = (pl.col("ts_raw").cast(pl.Float64) * (1e9 / tsc_hz)).round(0).cast(pl.Int64) \
            if tsc_hz else pl.lit(None, dtype=pl.Int64)
    else:
        ts_ns = pl.col("ts_raw")
    out = ev.with_columns(ts_ns.alias("ts_ns"))
    if lost.height:
        lost_rows = lost.select(
            "line",
            pl.col("raw").str.extract(LOST_RE, 1).cast(pl.Int32, strict=False).alias("cpu"),
            pl.col("raw").str.extract(LOST_RE, 2).alias("details"),
        ).with_columns(pl.lit("lost_events").alias("event"), pl.lit("").alias("comm"),
                       pl.lit(-1, dtype=pl.Int32).alias("pid"))
        out = pl.concat([out, lost_rows], how="diagonal_relaxed").sort("line")
        out = out.with_columns(pl.col("ts_raw").forward_fill(), pl.col("ts_ns").forward_fill())
    return out.select([pl.col(k).cast(v) for k, v in SCHEMA.items()])


def _split_fields(valid: pl.DataFrame) -> pl.DataFrame:
    """Cut validated event lines into fields.

    ASCII lines are cut by position (much faster than regex groups); polars'
    ``str.find`` gives byte offsets while ``str.slice`` counts characters, so
    lines with other characters (a task named ``kwörker``) are cut by regex
    groups instead, which agree with the positional cut on ASCII text.
    """
    ascii_ = pl.col("raw").str.len_bytes() == pl.col("raw").str.len_chars()
    fast = _split_ascii(valid.filter(ascii_))
    other = valid.filter(~ascii_)
    if not other.height:
        return fast
    return pl.concat([fast, _split_regex(other)]).sort("line")


_COLS = ("line", "instance", "comm", "pid", "cpu", "flags", "ts", "event", "details")


def _split_regex(valid: pl.DataFrame) -> pl.DataFrame:
    r = pl.col("raw")
    head, rest, after = pl.col("head"), pl.col("rest"), pl.col("after")
    lf = (valid.lazy()
          .with_columns(r.str.extract(r"^(.*?)\[\d+\]\s", 1).str.strip_chars().alias("head"),
                        r.str.extract(r"^.*?\[(\d+)\]\s", 1).alias("cpu"),
                        r.str.extract(r"^.*?\[\d+\]\s(.*)$", 1).str.strip_chars_start().alias("rest"))
          .with_columns(head.str.replace(r"\s+\(\s*[-\d]+\)$", "").alias("head"))
          .with_columns(head.str.extract(r"^([A-Za-z0-9_.-]+):\s", 1).alias("instance"),
                        head.str.extract(r"-(\d+)$", 1).alias("pid"),
                        rest.str.extract(r"^(.*?\d): ", 1).alias("tsf"),
                        rest.str.extract(r"^.*?\d: (.*)$", 1).alias("after"))
          .with_columns(head.str.replace(r"-\d+$", "").str.replace(r"^[A-Za-z0-9_.-]+:\s+", "")
                        .alias("comm"))
          .with_columns(pl.col("tsf").str.extract(r"(\d+(?:\.\d+)?)$", 1).alias("ts"),
                        pl.col("tsf").str.extract(r"^(\S+)\s", 1).alias("flags"),
                        after.str.extract(r"^([^:]*):", 1).alias("event"),
                        after.str.extract(r"^[^:]*:(.*)$", 1).str.strip_chars().alias("details")))
    return lf.select(*_COLS).collect()


def _split_ascii(valid: pl.DataFrame) -> pl.DataFrame:
    r = pl.col("raw")
    head, rest, after = pl.col("head"), pl.col("rest"), pl.col("after")
    lf = (valid.lazy()
          .with_columns(r.str.find(r"\[\d+\]\s").alias("pb"), r.str.find(r"\]\s").alias("pc"))
          .with_columns(r.str.slice(pl.col("pb") + 1, pl.col("pc") - pl.col("pb") - 1).alias("cpu"),
                        r.str.slice(0, pl.col("pb")).str.strip_chars().alias("head"),
                        r.str.slice(pl.col("pc") + 2).str.strip_chars_start().alias("rest"))
          .with_columns(head.str.replace(r"\s+\(\s*[-\d]+\)$", "").alias("head"))
          .with_columns(head.str.extract(r"^([A-Za-z0-9_.-]+):\s", 1).alias("instance"),
                        head.str.extract(r"-(\d+)$", 1).alias("pid"),
                        rest.str.find(r"\d: ").alias("p1"))
          .with_columns(
              head.str.slice(0, head.str.len_chars() - pl.col("pid").str.len_chars() - 1)
              .str.replace(r"^[A-Za-z0-9_.-]+:\s+", "").alias("comm"),
              rest.str.slice(0, pl.col("p1") + 1).alias("tsf"),
              rest.str.slice(pl.col("p1") + 3).alias("after"))
          .with_columns(pl.col("tsf").str.extract(r"(\d+(?:\.\d+)?)$", 1).alias("ts"),
                        pl.col("tsf").str.extract(r"^(\S+)\s", 1).alias("flags"),
                        after.str.find(":", literal=True).alias("p2"))
          .with_columns(after.str.slice(0, pl.col("p2")).alias("event"),
                        after.str.slice(pl.col("p2") + 1).str.strip_chars().alias("details")))
    return lf.select(*_COLS).collect()


def looks_like_ftrace(head: str) -> bool:
    """True when the first event lines of ``head`` parse as ftrace events."""
    import re
    ev = re.compile(EVENT_RE)
    skip = re.compile(SKIP_RE)
    seen = 0
    for ln in head.splitlines()[:200]:
        if skip.match(ln):
            continue
        if not ev.match(ln):
            return False
        seen += 1
        if seen >= 3:
            break
    return seen > 0 or head.lstrip().startswith("# tracer:")
