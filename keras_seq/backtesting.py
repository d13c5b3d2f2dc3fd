"""Rolling-origin backtests of a time-series forecaster (`keras_seq.backtest`).

Fold k (of K) cuts every series at an origin, trains a fresh model on the steps before it
(scaling learned there too) through the one training loop (`keras_seq.fitting.fit`),
forecasts the `head.horizon` steps after it and scores them with the naive and
seasonal-naive (`data.season_length`) baselines on the same steps. The last fold's horizon
ends with each series; earlier origins are `head.horizon` steps apart. Writes to the output
folder (atomically, reserved before any fold trains, so a taken folder fails at once):
`backtest.json`, `backtest.md` (the table) and `forecast.png` (history, truth, forecasts and
intervals per fold).
"""

import json
import logging
import math
import pathlib

METHODS = ("keras-seq", "naive", "seasonal_naive")

logger = logging.getLogger("keras_seq.backtest")


def fold_origins(records, folds, horizon, targets):
    """`[{series id: origin}, ...]`, one dict per fold: origins `horizon` steps apart, the
    last fold ending with each series."""
    from keras_seq.metrics.forecasting import rolling_origins
    from keras_seq.tasks.series_forecaster import history_length

    per_series = {
        record["id"]: rolling_origins(
            history_length(record["series"], targets), folds, horizon, min_train=1
        )
        for record in records
    }
    return [{key: origins[k] for key, origins in per_series.items()} for k in range(folds)]


def backtest(source, *, folds=5, train=None, epochs=None, output=None, verbose=0):
    """Runs the backtest and writes its folder.

    Args:
        source: a spec (path, YAML text, dict or `keras_seq.Spec`) of a forecaster with
            `data.time_column`.
        folds: int. Number of origins.
        train: str, optional. The series file (default: the spec's `data.train`).
        epochs: int, optional. Replaces `training.epochs`.
        output: str, optional. The folder; default `runs/<name>-backtest-<time>`.
        verbose: int. Keras' `fit` verbosity.

    Returns:
        `(path, report)`: the folder and the `backtest.json` content,
        `{"folds": [...], "overall": {"keras-seq": {...}, "naive": {...},
        "seasonal_naive": {...}}}`.
    """
    from keras_seq import runs
    from keras_seq.data import DataError
    from keras_seq.datafiles import with_files
    from keras_seq.tasks import Task

    task = Task.for_spec(source)
    if not task.supports_backtest:
        raise DataError(
            "backtest needs a forecaster reading time series",
            hint="set head.type: forecaster and data.time_column (see specs/co2.yaml)",
        )
    task.spec = with_files(task, train=train)
    if epochs is not None:
        task.spec = task.spec.replace({"training.epochs": epochs})
    records = task.read(task.spec.data.train)
    targets = len(task.column_groups()[0])
    try:
        plan = fold_origins(records, folds, task.spec.head.horizon, targets)
    except ValueError as error:
        raise DataError(str(error), path=task.spec.data.train) from None
    # The folder is reserved first: a taken --output fails before any fold trains.
    path = pathlib.Path(output or runs.default_path(f"{task.spec.name}-backtest"))
    with runs.RunFolder(path) as folder:
        report, cases = _folds(task, records, plan, verbose)
        runs.write_text_atomic(folder / "backtest.json", runs.finite_json(report))
        runs.write_text_atomic(folder / "backtest.md", table(report))
        plot(cases, folds, task.spec.head.horizon, folder / "forecast.png")
    return path, report


def _folds(task, records, plan, verbose):
    """`(report, cases)`: each fold trained, forecast and scored, then the overall scores."""
    from keras_seq import fitting
    from keras_seq.tasks import Task
    from keras_seq.tasks.series_forecaster import time_text

    report, all_cases = {"folds": []}, []
    for k, origins in enumerate(plan):
        fold = Task.for_spec(task.spec)
        cut = [{**r, "series": r["series"].head(origins[r["id"]])} for r in records]
        fold.learn(cut)
        encoded = fold.encode(cut)
        fold.build_model()
        fitting.fit(fold, {"train": encoded}, {"train": cut}, verbose=verbose)
        cases = fold.forecast_arrays(records, {key: [o] for key, o in origins.items()})
        all_cases += cases
        first = records[0]["series"]
        entry = {
            "fold": k + 1,
            "origin": time_text(first.times[origins[first.id] - 1]),
            "train_steps": origins[first.id],
            **fold.score(records, None, cases),
        }
        report["folds"].append(entry)
        logger.info("fold %d: %s", k + 1, json.dumps(entry))
    report["overall"] = fold.score(records, None, all_cases)
    if any(math.isnan(scores.get("mase", 0.0)) for scores in report["overall"].values()):
        logger.warning(
            "MASE is undefined (null in backtest.json): the seasonal-naive error on the "
            "training part is 0 (a constant or exactly periodic series, or one shorter than "
            "data.season_length); compare the methods by MAE or sMAPE instead"
        )
    return report, all_cases


def table(report):
    """The report as a Markdown table: a row per fold and method, then the overall rows."""
    names = [n for n in ("mase", "smape", "mae", "rmse", "coverage", "pinball")]
    names = [n for n in names if n in report["overall"]["keras-seq"]]
    lines = ["| fold | method | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    rows = [(str(f["fold"]), f) for f in report["folds"]] + [("overall", report["overall"])]
    for label, scores in rows:
        for method in METHODS:
            cells = [_cell(scores[method].get(name)) for name in names]
            lines.append(f"| {label} | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value):
    return "" if value is None else f"{value:.4g}"


def plot(cases, folds, horizon, path, series_shown=3):
    """History, truth, the forecast of every fold and its interval, for the first series."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    ids = list(dict.fromkeys(case["record"]["id"] for case in cases))[:series_shown]
    figure, axes = pyplot.subplots(len(ids), 1, figsize=(10, 3.2 * len(ids)), squeeze=False)
    for axis, key in zip(axes[:, 0], ids):
        mine = [case for case in cases if case["record"]["id"] == key]
        series = mine[0]["record"]["series"]
        start = max(0, mine[0]["origin"] - 3 * folds * horizon)
        end = mine[-1]["origin"] + horizon
        axis.plot(series.times[start:end], series.values[start:end, 0], color="black", lw=1)
        for case in mine:
            steps = series.times[case["origin"] : case["origin"] + horizon]
            axis.plot(steps, case["point"][:, 0], color="tab:blue", lw=1.5)
            if case["quantiles"] is not None:
                low, high = case["quantiles"][:, 0, 0], case["quantiles"][:, 0, -1]
                axis.fill_between(steps, low, high, color="tab:blue", alpha=0.25, lw=0)
            axis.axvline(series.times[case["origin"]], color="grey", lw=0.5, ls=":")
        axis.set_title(f"{series.name}: {series.columns[0]} (black: data, blue: forecasts)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
