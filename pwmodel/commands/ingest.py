"""``pwmodel ingest FILE --out OUT.parquet``: parse a foreign latency/trace file."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from pwmodel.ingest.detect import FORMATS
    p = subparsers.add_parser(
        "ingest", help="parse ftrace/trace-cmd, cyclictest, oslat, rtla, c2c or unit-named tables",
        description="Writes the per-work-item lifecycle table for traces (queue/activate/start/end in ns) "
                    "or the parsed table for the other formats. The format is detected unless --format.")
    p.add_argument("file", help="input (plain, or gzip/xz/bzip2/zstd compressed; a named pipe is read once)")
    p.add_argument("--out", required=True, help="output parquet file")
    p.add_argument("--format", choices=FORMATS, help="force the input format")
    p.add_argument("--tsc-hz", type=float, help="TSC frequency for x86-tsc / counter trace clocks")
    p.add_argument("--clock", help="trace clock when the text cannot tell (x86-tsc or counter for a "
                                   "trace-cmd report of a counter clock; local, global, mono, ... are ns)")
    p.add_argument("--events", action="store_true", help="for traces: write the parsed events, not the lifecycle")
    p.set_defaults(func=_run)


def _run(a: argparse.Namespace) -> int:
    from pwmodel.atomic import write_with
    from pwmodel.ingest import ingest, read
    from pwmodel.ingest.ftrace import check_clock
    from pwmodel.outpath import check_file
    check_file(a.out, inputs=[a.file], suffixes=(".parquet",))
    check_clock(a.clock, a.tsc_hz, a.file)
    if a.events:
        df = read(a.file, a.format, tsc_hz=a.tsc_hz, clock=a.clock)
    else:
        df = ingest(a.file, a.format, tsc_hz=a.tsc_hz, clock=a.clock)
    write_with(a.out, lambda tmp: df.write_parquet(tmp))
    print(f"wrote {a.out}: {df.height} rows, columns {', '.join(df.columns)}")
    return 0
