"""Real series a user brings: `keras-seq init`, then `keras-seq backtest --folds 5`, on
statsmodels' datasets, against naive, seasonal naive and Holt-Winters.

    KERAS_BACKEND=torch python -m benchmarks.forecast_series [--held-out | --short]
        [--folds 5] [--only NAME ...] [--set head.anchor=seasonal ...] [--seeds N]

Each series is written to `benchmarks/results/series/NAME.csv` as `date,value` as a user
would have it (year-only dates for yearly data), the spec is what `keras-seq init` writes for
it (`--set FIELD=VALUE` replaces fields of every spec, e.g. to compare options) and the
backtest is `keras_seq.backtest` (`--seeds N`: N backtests, seeds spec.seed, +1, ..., and
keras-seq's MASE is that of their mean forecast). Prints one row per series: keras-seq's
MASE and the baselines', and keras-seq's ratio to seasonal naive (the issue's bar: at most
0.9). Needs the `[bench]` extra (statsmodels).
"""

import argparse
import copy
import json
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "series"
METHODS = ("keras-seq", "naive", "seasonal_naive", "holt_winters")


def _monthly(frame, column):
    return [(f"{t.year}-{t.month:02d}-01", v) for t, v in zip(frame.index, frame[column])]


def series():
    """`{name: [(time text, value), ...]}`: statsmodels' series, as `date,value` rows."""
    from statsmodels.datasets import co2, elec_equip, elnino, macrodata, nile, sunspots

    found = {}
    frame = sunspots.load().data
    found["sunspots"] = [(str(int(y)), v) for y, v in zip(frame["YEAR"], frame["SUNACTIVITY"])]
    frame = nile.load().data
    found["nile"] = [(str(int(y)), v) for y, v in zip(frame["year"], frame["volume"])]
    frame = elnino.load().data
    months = [c for c in frame.columns if c != "YEAR"]
    found["elnino"] = [
        (f"{int(year)}-{m + 1:02d}-01", row[name])
        for year, (_, row) in zip(frame["YEAR"], frame.iterrows())
        for m, name in enumerate(months)
    ]
    frame = elec_equip.load().data
    found["elec_equip"] = _monthly(frame, frame.columns[0])
    monthly = co2.load().data.resample("MS").mean().interpolate()
    found["co2_monthly"] = _monthly(monthly, "co2")
    frame = macrodata.load().data
    for column in ("realgdp", "cpi", "unemp", "infl"):
        found[f"macro_{column}"] = [
            (f"{int(y)}-{3 * int(q) - 2:02d}-01", v)
            for y, q, v in zip(frame["year"], frame["quarter"], frame[column])
        ]
    return found


def held_out_series():
    """`{name: rows}`: statsmodels series that no default of `init` was chosen on (the rest
    of macrodata's quarterly columns, the Danish money-demand data, German inflation and
    interest), for checking those defaults on series they have not seen."""
    from statsmodels.datasets import danish_data, interest_inflation, macrodata

    found = {}
    frame = macrodata.load().data
    for column in ("realcons", "realinv", "realgovt", "realdpi", "m1", "tbilrate", "pop"):
        found[f"macro_{column}"] = [
            (f"{int(y)}-{3 * int(q) - 2:02d}-01", v)
            for y, q, v in zip(frame["year"], frame["quarter"], frame[column])
        ]
    frame = danish_data.load().data
    for column in frame.columns:
        found[f"danish_{column}"] = [
            (f"{t.year}-{t.month:02d}-01", v) for t, v in frame[column].items()
        ]
    frame = interest_inflation.load().data
    for column in ("Dp", "R"):
        found[f"german_{column}"] = [
            (f"{int(y)}-{3 * int(q) - 2:02d}-01", v)
            for y, q, v in zip(frame["year"], frame["quarter"], frame[column])
        ]
    return found


#: Short series cut from the others (their last N steps), as a user with little history would
#: bring them: `--short`. None keeps the whole series (the Nile is short already).
SHORT_CUTS = {
    "nile": None,
    "elec_equip": 72,
    "co2_monthly": 84,
    "sunspots": 80,
    "macro_unemp": 60,
    "macro_infl": 60,
    "macro_cpi": 60,
    "macro_realgdp": 60,
    "macro_realcons": 60,
    "macro_tbilrate": 60,
    "macro_realgovt": 60,
}


def short_series():
    """`{name_steps: rows}`: the `SHORT_CUTS` of `series()` and `held_out_series()`."""
    both = {**series(), **held_out_series()}
    found = {}
    for name, cut in SHORT_CUTS.items():
        rows = both[name] if cut is None else both[name][-cut:]
        found[f"{name}_{len(rows)}"] = rows
    return found


def run_one(name, rows, folds, settings, seeds=1):
    """`(report, spec)`: init's spec for the series (with `settings`) and its backtest; with
    `seeds` > 1, that many backtests (seeds spec.seed, +1, ...) and a report whose keras-seq
    forecasts are their mean (`mean_forecast`) and whose overall keras-seq MASE scores it."""
    from keras_seq import load_spec
    from keras_seq.backtesting import backtest
    from keras_seq.starter import guess, spec_text

    data = RESULTS / f"{name}.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("date,value\n" + "".join(f"{t},{v:.6g}\n" for t, v in rows), "utf-8")
    spec = load_spec(spec_text(guess(str(data)), str(data), RESULTS / f"{name}.yaml"))
    spec = spec.replace(settings)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"  # runs side by side
    reports = []
    for k in range(seeds):
        seeded = spec.replace({"seed": spec.seed + k})
        output = RESULTS / (f"{name}-backtest-{stamp}" + (f"-seed{seeded.seed}" if k else ""))
        reports.append(backtest(seeded, folds=folds, train=str(data), output=str(output))[1])
    if seeds == 1:
        return reports[0], spec
    report = mean_forecast(reports)
    values = np.array([v for _, v in rows], dtype="float64")
    # Only the MASE is rescored: the other overall figures were the first seed's alone.
    season = spec.data.season_length or 1
    report["overall"]["keras-seq"] = {"mase": ensemble_mase(report, values, season)}
    return report, spec


def mean_forecast(reports):
    """The first backtest report with each forecast's `keras-seq` values replaced by their
    mean over `reports` (backtests of one spec and data under different seeds)."""
    merged = copy.deepcopy(reports[0])
    for k, fold in enumerate(merged["folds"]):
        for j, forecast in enumerate(fold["forecasts"]):
            runs = [report["folds"][k]["forecasts"][j]["keras-seq"] for report in reports]
            forecast["keras-seq"] = np.mean(runs, axis=0).tolist()
    return merged


def ensemble_mase(report, values, season):
    """keras-seq's MASE over the report's forecasts of the one series `values`, pooled as the
    backtest pools it (`keras_seq.metrics.forecasting.pooled_mase`, each forecast scaled by
    the history before its origin)."""
    from keras_seq.metrics.forecasting import pooled_mase

    forecasts = [(fold, one) for fold in report["folds"] for one in fold["forecasts"]]
    return pooled_mase(
        [np.asarray(one["truth"])[:, 0] for _, one in forecasts],
        [np.asarray(one["keras-seq"])[:, 0] for _, one in forecasts],
        [values[: fold["train_steps"]] for fold, _ in forecasts],
        season,
    )[0]


def setting(text):
    """`--set FIELD=VALUE` as `(field, value)`: JSON for numbers, lists, `true`, `false` and
    `null` (which removes the field), else the text."""
    field, _, value = text.partition("=")
    parsed = value[:1] in "[{0123456789-" or value in ("true", "false", "null")
    return field, json.loads(value) if parsed else value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="series names (default: all)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument(
        "--held-out", action="store_true", help="the series no default was chosen on instead"
    )
    chosen.add_argument(
        "--short", action="store_true", help="short cuts of both sets instead (SHORT_CUTS)"
    )
    parser.add_argument("--set", action="append", default=[], type=setting, metavar="F=V")
    parser.add_argument(
        "--seeds", type=int, default=1, help="score the mean forecast of N seeds' backtests"
    )
    args = parser.parse_args(argv)
    import keras

    from keras_seq.errors import SpecError

    settings = dict(args.set)
    print(
        f"{args.folds} folds, backend {keras.backend.backend()}, settings {settings}, "
        f"{args.seeds} seed(s)"
    )
    print("| series | steps | season | horizon | " + " | ".join(METHODS) + " | ratio |")
    print("|---" * (len(METHODS) + 5) + "|")
    ratios = []
    found = held_out_series() if args.held_out else short_series() if args.short else series()
    for name, rows in found.items():
        if args.only and name not in args.only:
            continue
        try:
            report, spec = run_one(name, rows, args.folds, settings, args.seeds)
        except SpecError as error:  # a --set that does not fit init's spec for this series
            print(f"| {name} | skipped: {str(error).splitlines()[-1].strip()} |", flush=True)
            continue
        mase = [report["overall"][m].get("mase", float("nan")) for m in METHODS]
        ratios.append(mase[0] / mase[2])
        cells = " | ".join(f"{v:.3f}" for v in mase)
        shape = f"{len(rows)} | {spec.data.season_length} | {spec.head.horizon}"
        print(f"| {name} | {shape} | {cells} | {ratios[-1]:.2f} |", flush=True)
    print(f"worst ratio to seasonal naive: {max(ratios):.2f}; mean {np.mean(ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
