"""``pwmodel fit`` and ``pwmodel predict``: latency-distribution fits and calibration on
data files, result JSON plus a fixed-width report; predictions with intervals."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from pwmodel import atomic
from pwmodel.errors import PwmodelError


def _frame(src: str) -> pl.DataFrame:
    p = Path(src)
    if p.exists():
        import io

        from pwmodel.ingest.source import load
        from pwmodel.ingest.table import force_numeric
        if p.suffix not in (".parquet", ".csv", ".tsv"):
            raise PwmodelError("expected a .parquet, .csv or .tsv file", file=src)
        data = load(p)
        try:
            if p.suffix == ".parquet":
                return force_numeric(pl.read_parquet(io.BytesIO(data)), src, header_lines=0)
            df = pl.read_csv(io.BytesIO(data), separator="\t" if p.suffix == ".tsv" else ",",
                             infer_schema_length=None, encoding="utf8-lossy")
        except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
            raise PwmodelError(f"cannot read table: {str(exc).splitlines()[0][:160]}",
                               file=src) from None
        return force_numeric(df, src)
    if p.suffix in (".parquet", ".csv", ".tsv"):
        raise PwmodelError("cannot read: No such file or directory", file=src)
    from pwmodel import data as DATA
    return DATA.load(src)


def _filter(df: pl.DataFrame, exprs: list[str], src: str) -> pl.DataFrame:
    for e in exprs:
        if "=" not in e:
            raise PwmodelError(f"--where expects COLUMN=VALUE, found '{e}'", file=src)
        col, val = e.split("=", 1)
        if col not in df.columns:
            raise PwmodelError(f"no column '{col}'", file=src, field=col)
        df = df.filter(pl.col(col).cast(pl.Utf8) == val)
    return df


def _check_fit_args(args: argparse.Namespace) -> None:
    """Sizes and numbers of the options, and the outputs, before any data is read."""

    from pwmodel import limits
    from pwmodel.outpath import check_file
    limits.check_int("--n-boot", args.n_boot, 1, limits.MAX_BOOT)
    limits.check_int("--seed", args.seed, 0, 2**63 - 1)
    if args.tick_hz is not None:
        limits.check_float("--tick-hz", args.tick_hz, lo=0)
    if args.censor_ns is not None:
        limits.check_float("--censor-ns", args.censor_ns, lo=0)
    fams = [f.strip() for f in args.families.split(",") if f.strip()]
    if not fams:
        raise PwmodelError("give at least one family", field="--families")
    from pwmodel.fit import families as FM
    known = list(FM.FAMILIES) + [f"mix2_{n}" for n in FM.FAMILIES] + list(FM.TICK_FAMILIES)
    for f in fams:
        if f not in known:
            raise PwmodelError(f"unknown distribution family '{f}' (known: {', '.join(known)})",
                               field="--families")
    ins = [args.data] if args.data else []
    if args.calibrate:
        ins.append(args.profile)
    else:
        check_file(args.out, inputs=ins)
    if args.report:
        check_file(args.report, inputs=ins, field="--report")
    if args.figure:
        check_file(args.figure, inputs=ins, field="--figure")


def run_fit(args: argparse.Namespace) -> int:
    from pwmodel.fit import calibrate as CAL, distributions as FD
    _check_fit_args(args)
    if args.calibrate:
        cal = CAL.calibrate(name=args.name, wake_ci=args.ci, n_boot=args.n_boot, seed=args.seed)
        paths = CAL.write(cal, args.profile, args.out_dir)
        text = CAL.estimates_frame(cal.estimates).select("name", "value", "low", "high", "n")
        rep = str(text) + "\n" + "\n\n".join(s.report() for s in cal.wake.values())
        if args.figure or args.report:
            from pwmodel.fit import heldout as H
            smp = {st: sel.best_fit.sample for st, sel in cal.wake.items()}
            if all(st in smp for st in (H.TRAIN, *H.HELDOUT)):
                df, fits = H.heldout_table(samples=smp)
                rep += "\n\n" + H.report(df)
                if args.figure:
                    H.write_figure(args.figure, fits, {st: smp[st] for st in (H.TRAIN, *H.HELDOUT)})
                    paths.append(Path(args.figure))
        if args.report:
            atomic.write_text(args.report, rep + "\n")
        print("\n".join(str(p) for p in paths))
        return 0
    if not args.data:
        raise PwmodelError("give a data file or dataset name (or --calibrate)")
    df = _filter(_frame(args.data), args.where, args.data)
    col = args.column
    if col not in df.columns:
        raise PwmodelError(f"no column '{col}' (columns: {', '.join(df.columns)})",
                           file=args.data, field=col)
    unit = col.rsplit("_", 1)[-1] if "_" in col else ""
    x = df[col]
    if not x.dtype.is_numeric():
        raise PwmodelError(f"column '{col}' holds {x.dtype}, not numbers; fit a latency column",
                           file=args.data, field=col)
    if x.drop_nulls().len() == 0:
        raise PwmodelError(f"no values in column '{col}'" + (" after --where" if args.where else ""),
                           file=args.data, field=col)
    n_missing = int(x.null_count())
    vals = x.drop_nulls().cast(pl.Float64).to_numpy()
    cens = args.censor_ns
    if n_missing and cens is None:
        cens = float(vals.max()) + 1.0 if vals.size else None
    s = FD.sample(vals, name=f"{args.data}:{col}", unit=unit, censor_ns=cens,
                  n_censored=n_missing if cens is not None else 0,
                  tick_ns=None if args.tick_hz is None else 1e9 / args.tick_hz)
    sel = FD.select_family(s, args.families.split(","), criterion=args.criterion, ci=args.ci,
                           n_boot=args.n_boot, seed=args.seed)
    atomic.write_text(args.out, sel.to_json())
    if args.report:
        atomic.write_text(args.report, sel.report() + "\n")
    print(sel.report())
    return 0 if sel.best_fit.converged else 3


def run_predict(args: argparse.Namespace) -> int:
    from pwmodel.commands._common import n_list, number_list
    from pwmodel.fit.distresult import DistFit, Selection, _json_object
    from pwmodel.outpath import check_file
    p = Path(args.result)
    qs = number_list(args.quantiles, "--quantiles")
    bad = [q for q in qs if not 0 < q < 1]
    if bad:
        raise PwmodelError(f"quantile must be in (0, 1), found {bad[0]:g}", field="--quantiles")
    ns = [int(n) for n in n_list(args.n_cpus)]
    if args.out is not None:
        check_file(args.out, inputs=[args.result])
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise PwmodelError(f"cannot read result: {exc.strerror}", file=str(p)) from None
    fmt = _json_object(text, str(p)).get("format")
    f = Selection.from_json(text, str(p)).best_fit if fmt == "pwmodel-distselect" \
        else DistFit.from_json(text, str(p))
    rows = []
    for q in qs:
        est, lo, hi = f.quantile_ci(q)
        rows.append({"quantity": f"p{q * 100:g}", "n_cpus": 1, "value_ns": est, "low_ns": lo,
                     "high_ns": hi})
    for n in ns:
        est, lo, hi = f.emax_ci(n)
        rows.append({"quantity": "expected_max", "n_cpus": n, "value_ns": est, "low_ns": lo,
                     "high_ns": hi})
    df = pl.DataFrame(rows)
    if args.out is not None:
        atomic.write_text(args.out, json.dumps({"family": f.family, "level": f.level,
                                                "rows": df.to_dicts()}, indent=1))
    lines = [f"{f.family}: {int(f.level * 100)}% intervals ({f.ci_method})",
             f"{'quantity':<14}{'n_cpus':>7}{'value_ns':>14}{'low_ns':>14}{'high_ns':>14}"]
    for r in rows:
        lines.append(f"{r['quantity']:<14}{r['n_cpus']:>7}{r['value_ns']:>14.5g}"
                     f"{r['low_ns']:>14.5g}{r['high_ns']:>14.5g}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit latency distributions (or calibrate a machine profile)",
                       description="Fit candidate families to a latency column (ns), pick by "
                                   "BIC/AIC, write result JSON and a report.")
    p.add_argument("data", nargs="?", help="parquet/csv file or dataset name (pwmodel.data)")
    p.add_argument("--column", default="queue_to_start_ns", help="latency column, unit in name")
    p.add_argument("--where", action="append", default=[], metavar="COL=VAL",
                   help="keep rows where COL equals VAL (repeatable)")
    p.add_argument("--families", default="lognorm,gamma,weibull,expon,mix2_lognorm,"
                   "tick_lognorm,tick3_lognorm",
                   help="candidates; the tick_* ones need --tick-hz (skipped otherwise)")
    p.add_argument("--tick-hz", type=float, default=None,
                   help="scheduler tick rate (CONFIG_HZ) of the measured machine, for tick_*")
    p.add_argument("--criterion", default="bic", choices=("bic", "aic"))
    p.add_argument("--ci", default="wald", choices=("wald", "bootstrap", "none"))
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--censor-ns", type=float, default=None,
                   help="values >= this are right-censored (missing values count as censored)")
    p.add_argument("--out", default="fit.json", help="result JSON")
    p.add_argument("--report", default=None, help="also write the text report here")
    p.add_argument("--calibrate", action="store_true",
                   help="calibrate a profile from measured/micro and the trace datasets")
    p.add_argument("--name", default="local-kvm-2vcpu", help="profile name (--calibrate)")
    p.add_argument("--profile", default="pwmodel/profiles/local-kvm-2vcpu.toml")
    p.add_argument("--out-dir", default="data/fits", help="fit JSON folder (--calibrate)")
    p.add_argument("--figure", default=None,
                   help="(--calibrate) held-out figure PNG: fits on the idle state vs the "
                        "measured stat_refresh and busy SCHED_OTHER samples")
    p.set_defaults(func=run_fit)
    q = sub.add_parser("predict", help="quantiles and expected max of N from a fit result",
                       description="Quantiles and E[max of N draws] with intervals from a "
                                   "distribution fit JSON.")
    q.add_argument("result", help="JSON written by 'pwmodel fit'")
    q.add_argument("--quantiles", default="0.5,0.9,0.99")
    q.add_argument("--n-cpus", default="1,2,8,64", help="CPU counts for the expected maximum")
    q.add_argument("--out", default=None, help="write the predictions as JSON")
    q.set_defaults(func=run_predict)
