"""A panel of short and long series, as a user would bring it: `keras-seq init`, then
`keras-seq backtest --folds 5`, pooled MASE against naive, seasonal naive, Holt-Winters and
Theta.

    KERAS_BACKEND=torch python -m benchmarks.forecast_panel [--folds 5] [--set F=V ...]
        [--seeds N]

The panel is statsmodels' macrodata (quarterly, 1959-2009), its twelve columns as twelve
series in one `series,date,value` file (`benchmarks/results/panel/macro.csv`): six whole
(203 quarters: long) and six cut to their last 60 quarters (short), so no quarter appears
in two series. The spec is what `keras-seq init` writes for the file (`--set` replaces its
fields). Theta (statsmodels' `ThetaModel`, the season tested and removed as it decides) is
fitted on each fold's training part of each series and scored with the backtest's own
forecasts of the same steps. Pooled MASE: the mean over every (series, fold) forecast of its
MAE over the series' seasonal-naive in-sample error before the origin (series whose scale is
0 left out, by name). Prints all series, the long and the short alone. With `--seeds N`
the backtest runs N times (seeds spec.seed, spec.seed + 1, ...), prints each seed's pooled
MASE, and the table scores the seeds' mean forecast (a seed ensemble). Needs the `[bench]`
extra (statsmodels).
"""

import argparse
import os
import pathlib
import sys
import time

import numpy as np

from benchmarks.forecast_series import mean_forecast, setting

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "panel"
COLUMNS = "realgdp realcons realinv realgovt realdpi cpi m1 tbilrate unemp pop infl realint".split()
SHORT = 60
METHODS = ("keras-seq", "naive", "seasonal_naive", "holt_winters", "theta")


def panel():
    """`{series: [(date text, value), ...]}`: every other column cut to its last `SHORT`."""
    from statsmodels.datasets import macrodata

    frame = macrodata.load().data
    dates = [f"{int(y)}-{3 * int(q) - 2:02d}-01" for y, q in zip(frame["year"], frame["quarter"])]
    found = {}
    for k, column in enumerate(COLUMNS):
        rows = list(zip(dates, frame[column]))
        found[column] = rows[-SHORT:] if k % 2 else rows
    return found


def theta_forecast(history, horizon, season):
    """statsmodels' Theta method (`ThetaModel`, its own test for the season)."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    fitted = ThetaModel(np.asarray(history, dtype="float64"), period=max(season, 1)).fit()
    return np.asarray(fitted.forecast(horizon), dtype="float64")


def pooled(report, values, season, kind):
    """`{method: pooled MASE}` over the folds' forecasts of the series of `kind` (`long`,
    `short` or `all`), Theta fitted here; and the series left out (scale 0)."""
    from keras_seq.metrics.forecasting import in_sample_scale

    errors, skipped = {name: [] for name in METHODS}, set()
    for fold in report["folds"]:
        for forecast in fold["forecasts"]:
            series = forecast["series"]
            length = len(values[series])
            if kind != "all" and (kind == "short") != (length == SHORT):
                continue
            dates = [date for date, _ in values[series]]
            origin = dates.index(forecast["times"][0][:10])
            history = np.array([v for _, v in values[series][:origin]])
            scale = in_sample_scale(history, season)
            if not scale:
                skipped.add(series)
                continue
            truth = np.asarray(forecast["truth"])[:, 0]
            guesses = {name: np.asarray(forecast[name])[:, 0] for name in METHODS[:4]}
            guesses["theta"] = theta_forecast(history, len(truth), season)
            for name, guess in guesses.items():
                errors[name].append(np.mean(np.abs(truth - guess)) / scale)
    return {name: float(np.mean(found)) for name, found in errors.items()}, sorted(skipped)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--set", action="append", default=[], type=setting, metavar="F=V")
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="backtest N seeds (the spec's seed, +1, ...) and score their mean forecast too",
    )
    args = parser.parse_args(argv)
    import keras

    from keras_seq import load_spec
    from keras_seq.backtesting import backtest
    from keras_seq.starter import guess, spec_text

    values = panel()
    data = RESULTS / "macro.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{s},{d},{v:.6g}\n" for s, found in values.items() for d, v in found)
    data.write_text("series,date,value\n" + rows, "utf-8")
    spec = load_spec(spec_text(guess(str(data)), str(data), RESULTS / "macro.yaml"))
    spec = spec.replace(dict(args.set))
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"  # runs side by side
    start = time.perf_counter()
    reports = []
    for k in range(args.seeds):
        seeded = spec.replace({"seed": spec.seed + k})
        output = RESULTS / (f"macro-backtest-{stamp}" + (f"-seed{seeded.seed}" if k else ""))
        reports.append(backtest(seeded, folds=args.folds, train=str(data), output=str(output))[1])
    seconds = time.perf_counter() - start
    season = spec.data.season_length or 1
    print(
        f"macrodata panel: {len(values)} series ({len(values) // 2} of {SHORT} quarters), "
        f"{args.folds} folds, horizon {spec.head.horizon}, season {season}, lookback "
        f"{spec.data.lookback}, anchor {spec.head.anchor}, shrink {spec.head.shrink}, backend "
        f"{keras.backend.backend()}, {args.seeds} seed(s), backtests {seconds:.0f} s"
    )
    if args.seeds > 1:
        alone = [pooled(report, values, season, "all")[0]["keras-seq"] for report in reports]
        print("each seed alone, all series: " + ", ".join(f"{mase:.3f}" for mase in alone))
        print("the table: the seeds' mean forecast")
    report = mean_forecast(reports)
    print("| series | " + " | ".join(METHODS) + " |")
    print("|---" * (len(METHODS) + 1) + "|")
    for kind in ("all", "long", "short"):
        scores, skipped = pooled(report, values, season, kind)
        cells = " | ".join(f"{scores[name]:.3f}" for name in METHODS)
        print(f"| {kind} | {cells} |" + (f" (left out: {', '.join(skipped)})" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
