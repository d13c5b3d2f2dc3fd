"""Rolling-origin backtests of a time-series forecaster (`keras_seq.backtest`).

Fold k (of K) cuts every series at an origin, trains a fresh model on the steps before it
(scaling learned there too) through the one training loop (`keras_seq.fitting.fit`),
forecasts the `head.horizon` steps after it and scores them with the naive, seasonal-naive
(`data.season_length`) and, with the `forecast` extra (statsmodels), Holt-Winters baselines
(`keras_seq.metrics.classical`) on the same steps. The last fold's horizon ends with each
series; earlier origins are `head.horizon` steps apart. Writes to the output folder
(atomically, reserved before any fold trains, so a taken folder fails at once):
`backtest.json` (each fold's scores and forecasts, the overall scores and `notes`: plain
sentences such as a model behind the seasonal baseline and what to try), `backtest.md` (the
table and the notes) and `forecast.png` (history, truth, forecasts and intervals per fold).

While it runs, the folder's `checkpoint/` holds its progress: `progress.json` (the spec and
the number of folds), each finished fold's model (`fold-K.keras`) and the running fold's
checkpoint of its last epoch (`fold-K/`, `keras_seq.checkpoint`, as `keras_seq.train` writes
it). An interrupted backtest leaves only that folder; `resume` skips the finished folds,
continues the interrupted one from its last epoch and ends with the report an uninterrupted
backtest writes.
"""

import json
import logging
import math
import os
import pathlib
import shutil
import sys
import time

import numpy as np

from keras_seq.metrics import classical

logger = logging.getLogger("keras_seq.backtest")


def fold_origins(records, folds, horizon, targets):
    """`[{series id: origin}, ...]`, one dict per fold: origins `horizon` steps apart, the
    last fold ending with each series."""
    from keras_seq.metrics.forecasting import rolling_origins
    from keras_seq.tasks.series_forecaster import history_length

    per_series, short = {}, []
    for record in records:
        length = history_length(record["series"], targets)
        try:
            per_series[record["id"]] = rolling_origins(length, folds, horizon, min_train=1)
        except ValueError:
            short.append((record["id"], length))
    if short:
        raise ValueError(_too_short(short, folds, horizon))
    return [{key: origins[k] for key, origins in per_series.items()} for k in range(folds)]


def _too_short(short, folds, horizon):
    """What is wrong and the fix when the series `short` (`[(id, steps), ...]`) cannot make
    `folds` origins `horizon` steps apart with a training step before the first: each series
    named, and the fix that can help (fewer folds only when one fold fits every one of them)."""
    shortest = min(length for _, length in short)
    names = ", ".join(f"{key!r} ({length} steps)" for key, length in short[:5])
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    problem = (
        f"{len(short)} series too short for {folds} folds of horizon {horizon} (each needs "
        f"{folds * horizon + 1} steps): {names}{more}"
    )
    most = (shortest - 1) // horizon
    if most >= 1:
        return f"{problem}; use --folds {most} or fewer, a shorter head.horizon, or drop them"
    return (
        f"{problem}; even one fold of horizon {horizon} needs {horizon + 1} steps: use a "
        f"shorter head.horizon (at most {max(shortest - 1, 0)}) or drop the short series"
    )


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
        "seasonal_naive": {...}, "holt_winters": {...}}, "notes": [...]}`
        (`holt_winters`: `{"missing": how to install it}` without statsmodels).

    Raises:
        KeyboardInterrupt, SystemExit: interrupted; the folder then holds `checkpoint/`,
            which `resume` continues.
    """
    from keras_seq import runs
    from keras_seq.datafiles import with_files
    from keras_seq.tasks import Task

    runs.check_free(output)  # a taken --output before any data is read
    task = Task.for_spec(source)
    _check_task(task)
    task.spec = with_files(task, train=train)
    if epochs is not None:
        task.spec = task.spec.replace({"training.epochs": epochs})
    records, plan = _plan(task, folds)
    # The folder is reserved first: a taken --output fails before any fold trains.
    path = pathlib.Path(output or runs.default_path(f"{task.spec.name}-backtest"))
    with runs.RunFolder(path) as folder:
        (folder / runs.CHECKPOINT).mkdir()
        progress = {"spec": task.spec.to_dict(), "folds": folds}
        runs.write_text_atomic(folder / runs.CHECKPOINT / runs.PROGRESS, json.dumps(progress))
        report = _run(task, records, plan, folder, verbose)
    return path, report


def resume(folder, verbose=0):
    """Continues an interrupted `backtest` in `folder`: the folds it finished are not trained
    again, the interrupted one goes on from its last epoch's checkpoint.

    Returns:
        `(path, report)`, as `backtest`.

    Raises:
        keras_seq.DataError: `folder` holds no backtest checkpoint, or a damaged one.
    """
    from keras_seq import runs
    from keras_seq.data import DataError
    from keras_seq.tasks import Task

    path = pathlib.Path(folder)
    progress_file = path / runs.CHECKPOINT / runs.PROGRESS
    try:
        progress = json.loads(progress_file.read_text(encoding="utf-8"))
        task, folds = Task.for_spec(progress["spec"]), int(progress["folds"])
    except (OSError, ValueError, TypeError, KeyError):
        raise DataError(
            "not a resumable backtest folder (no checkpoint/progress.json of a backtest)",
            path=progress_file,
            hint="give the folder of an interrupted `keras-seq backtest`",
        ) from None
    _check_task(task)
    records, plan = _plan(task, folds)
    with runs.RunFolder(path, resume=True) as partial:
        report = _run(task, records, plan, partial, verbose)
    return path, report


def _check_task(task):
    from keras_seq.data import DataError

    if not task.supports_backtest:
        raise DataError(
            "backtest needs a forecaster reading time series",
            hint="set head.type: forecaster and data.time_column (see specs/co2.yaml)",
        )


def _plan(task, folds):
    """`(records, plan)`: the training file's series and `fold_origins`."""
    from keras_seq.data import DataError

    records = task.read(task.spec.data.train)
    targets = len(task.column_groups()[0])
    try:
        return records, fold_origins(records, folds, task.spec.head.horizon, targets)
    except ValueError as error:
        raise DataError(str(error), path=task.spec.data.train) from None


def _run(task, records, plan, folder, verbose):
    """Trains the folds left, writes the report's files and removes the checkpoint."""
    from keras_seq import runs

    report, cases = _folds(task, records, plan, folder / runs.CHECKPOINT, verbose)
    runs.write_text_atomic(folder / "backtest.json", runs.finite_json(report))
    runs.write_text_atomic(folder / "backtest.md", table(report))
    plot(cases, len(plan), task.spec.head.horizon, folder / "forecast.png")
    shutil.rmtree(folder / runs.CHECKPOINT)
    return report


def _folds(task, records, plan, checkpoints, verbose):
    """`(report, cases)`: each fold trained, forecast and scored, then the overall scores."""
    from keras_seq.tasks.series_forecaster import time_text

    baselines = _baselines()
    report, all_cases, by_fold, shrunk = {"folds": []}, [], [], []
    started = time.monotonic()
    for k, origins in enumerate(plan):
        fold = _trained_fold(task, records, origins, checkpoints / f"fold-{k + 1}", verbose)
        cases = fold.forecast_arrays(records, {key: [o] for key, o in origins.items()})
        all_cases += cases
        by_fold.append(cases)
        first = records[0]["series"]
        entry = {
            "fold": k + 1,
            "origin": time_text(first.times[origins[first.id] - 1]),
            "train_steps": origins[first.id],
            **fold.score(records, None, cases, baselines),
        }
        if fold.state.get("shrink"):
            entry["shrink"] = fold.state["shrink"]
            shrunk.append(f"fold {k + 1}: {fold.shrink_text()}")
        logger.info("fold %d: %s", k + 1, json.dumps(entry))
        entry["forecasts"] = [fold_forecast(case, task.spec.head.horizon) for case in cases]
        report["folds"].append(entry)
        print(fold_line(k + 1, len(plan), time.monotonic() - started), file=sys.stderr, flush=True)
    report["overall"] = fold.score(records, None, all_cases, baselines)
    if task.spec.head.quantiles:
        report["overall"]["keras-seq"]["conformal"] = calibrated(task.spec, by_fold)
    if "holt_winters" not in baselines:
        report["overall"]["holt_winters"] = {"missing": classical.EXTRA}
    if task.spec.get("head.shrink") != "validation":
        shrunk = [fold.shrink_text()] if shrunk else []  # a fixed share: the same every fold
    report["notes"] = notes(report["overall"], task.spec, _flat(records, task)) + shrunk
    for note in report["notes"]:
        logger.warning("%s", note)
    return report, all_cases


def interval_margin(folder, quantiles, horizon):
    """The conformal margin that the backtest in `folder` measured (`backtest.json`:
    `overall.keras-seq.conformal.margin`), for a run whose outer quantiles and horizon are
    `quantiles` and `horizon`.

    Raises:
        keras_seq.DataError: no backtest there, one without a margin, or one of an interval
            or horizon other than the run's.
    """
    from keras_seq.data import DataError
    from keras_seq.metrics import conformal

    path = pathlib.Path(folder) / "backtest.json"
    hint = "give the folder that `keras-seq backtest` wrote for this run's spec"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        found = report["overall"]["keras-seq"].get("conformal") or {}
        margin, calibrated = found.get("margin"), found.get("nominal")
        margin = None if margin is None else float(margin)
        steps = len(report["folds"][0]["forecasts"][0]["truth"])
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise DataError(
            "not a backtest folder (no readable backtest.json)", path=path, hint=hint
        ) from None
    if margin is None or not math.isfinite(margin):
        raise DataError(
            "the backtest has no interval margin (its spec had no head.quantiles, or too few "
            "folds' points for the margin)",
            path=path,
            hint="backtest a spec with head.quantiles over more folds (--folds)",
        )
    nominal = conformal.nominal_coverage(quantiles)
    if calibrated != nominal or steps != horizon:
        shown = f"a {100 * calibrated:.0f} %" if isinstance(calibrated, float) else "another"
        raise DataError(
            f"the backtest calibrated {shown} interval over {steps} steps; this run "
            f"forecasts a {100 * nominal:.0f} % interval over {horizon}",
            path=path,
            hint=hint,
        )
    return margin


def fold_line(done, total, seconds):
    """`backtest: fold 2/5 done (1:10) - ETA: 1:45`: `done` folds of `total` took `seconds`;
    the ETA is the folds left at their mean time (none after the last).

    >>> from keras_seq.backtesting import fold_line
    >>> fold_line(2, 5, 70.0)
    'backtest: fold 2/5 done (1:10) - ETA: 1:45'
    >>> fold_line(5, 5, 200.0)
    'backtest: fold 5/5 done (3:20)'
    """
    from keras_seq.progress import duration

    line = f"backtest: fold {done}/{total} done ({duration(seconds)})"
    if done == total:
        return line
    return f"{line} - ETA: {duration(seconds / done * (total - done))}"


def calibrated(spec, by_fold):
    """The outer quantiles' interval, conformally calibrated over the folds
    (`keras_seq.metrics.conformal`): its coverage before and after (each fold on the other
    folds' errors, and on the folds before it), against nominal, and the margin to add."""
    from keras_seq.metrics import conformal

    season, horizon = spec.get("data.season_length") or 1, spec.head.horizon
    arrays = {"truth": [], "lower": [], "upper": [], "scale": []}
    for cases in by_fold:
        truths, scales = [], []
        for case in cases:
            values, origin = case["record"]["series"].values, case["origin"]
            targets = case["point"].shape[1]
            truths.append(values[origin : origin + horizon, :targets])
            scale = conformal.interval_scales(values[:origin, :targets], season)
            scales.append(np.broadcast_to(scale, truths[-1].shape))
        quantiles = np.stack([case["quantiles"] for case in cases])
        arrays["truth"].append(np.stack(truths))
        arrays["lower"].append(quantiles[..., 0])
        arrays["upper"].append(quantiles[..., -1])
        arrays["scale"].append(np.stack(scales))
    nominal = conformal.nominal_coverage(spec.head.quantiles)
    return conformal.fold_calibrated_coverage(*arrays.values(), nominal)


def _baselines():
    """Naive and seasonal naive, with Holt-Winters when statsmodels is installed."""
    from keras_seq.metrics import forecasting as fm

    if not classical.available():
        return dict(fm.BASELINES)
    return {**fm.BASELINES, "holt_winters": classical.holt_winters_forecast}


def fold_forecast(case, horizon):
    """One forecast of a fold as JSON: `series`, `times`, `truth` and each method's values,
    `(horizon, targets)` lists (with `keras-seq quantiles`, `(horizon, targets, Q)`)."""
    from keras_seq.tasks.series_forecaster import time_text

    series, origin = case["record"]["series"], case["origin"]
    targets = case["point"].shape[1]
    steps = slice(origin, origin + horizon)
    entry = {
        "series": series.id,
        "times": [time_text(time) for time in series.times[steps]],
        "truth": series.values[steps, :targets].tolist(),
        "keras-seq": case["point"].tolist(),
    }
    if case["quantiles"] is not None:
        entry["keras-seq quantiles"] = case["quantiles"].tolist()
    return {**entry, **{name: values.tolist() for name, values in case["baselines"].items()}}


# Baseline row -> the head.anchor that learns the correction over it, and what that means.
_ANCHORS = {
    "naive": ("last", "the change from the last value"),
    "seasonal_naive": ("seasonal", "the network learns the residual over last season"),
    "holt_winters": ("holt_winters", "the network learns the residual over Holt-Winters"),
}


def _other_anchor(overall, spec, season):
    """`head.anchor: A (...), ` naming the anchor of the baseline of least MASE in this
    backtest, or "" when the spec already has it (or no baseline has a MASE)."""
    mase = {name: overall.get(name, {}).get("mase", math.nan) for name in _ANCHORS}
    if season == 1:  # seasonal naive is naive
        del mase["seasonal_naive"]
    scored = [(value, name) for name, value in mase.items() if not math.isnan(value)]
    if not scored or spec.head.anchor == _ANCHORS[min(scored)[1]][0]:
        return ""
    return "head.anchor: {} ({}), ".format(*_ANCHORS[min(scored)[1]])


def notes(overall, spec, flat=""):
    """Plain sentences on what the scores mean: seasonal naive that is naive, a model behind
    the seasonal baseline (and what to try), MASE left undefined (`flat`: the series that
    leave it so, named by `_flat`)."""
    found = []
    season = spec.get("data.season_length") or 1
    if season == 1:
        found.append(
            "seasonal_naive equals naive: data.season_length is 1 (no season); set it to the "
            "series' period (12 for monthly data with a yearly cycle, 7 for daily, 52 weekly)"
        )
    ours = overall["keras-seq"].get("mase", math.nan)
    best = min(
        (
            (scores["mase"], name)
            for name, scores in overall.items()
            if name != "keras-seq" and not math.isnan(scores.get("mase", math.nan))
        ),
        default=None,
    )
    if best is not None and not math.isnan(ours) and ours > best[0]:
        found.append(
            f"keras-seq is behind {best[1]} (MASE {ours:.3f} against {best[0]:.3f}): use "
            f"{best[1]} for these series, or try {_other_anchor(overall, spec, season)}a "
            "smaller encoder.units, fewer epochs on short series, or a longer data.lookback"
        )
    if any(math.isnan(scores.get("mase", 0.0)) for scores in overall.values()):
        flat = flat or "a series (constant, exactly periodic, or shorter than data.season_length)"
        found.append(
            f"MASE is undefined (null in backtest.json): the seasonal-naive error on the "
            f"training part is 0 for {flat}; compare the methods by MAE or sMAPE instead, or "
            "backtest without those series"
        )
    return found


def _flat(records, task):
    """The series (named, with why) whose seasonal-naive error is 0, which MASE divides by."""
    from keras_seq.tasks.series_forecaster import history_length

    season = task.spec.get("data.season_length") or 1
    targets = len(task.column_groups()[0])
    found = []
    for record in records:
        length = history_length(record["series"], targets)
        values = record["series"].values[:length, :targets]
        if length <= season:
            found.append(f"{record['id']!r} ({length} steps, not more than the season {season})")
        elif np.nanmax(np.abs(values[season:] - values[:-season]), initial=0) == 0:
            kind = "constant" if np.nanmax(values) == np.nanmin(values) else "exactly periodic"
            found.append(f"{record['id']!r} ({kind})")
    return ", ".join(found)


def _trained_fold(task, records, origins, folder, verbose):
    """The fold's task trained on the steps before its origins, through the one training loop
    (`keras_seq.ensembles.fit`) with a checkpoint after every epoch in `folder`; a finished
    fold's model (`folder.keras`) is loaded, an interrupted one's training continues."""
    from keras_seq import checkpoint, ensembles, runs
    from keras_seq.tasks import Task, load

    finished = folder.with_suffix(".keras")
    if finished.is_file():
        return load(finished)
    cut = [{**r, "series": r["series"].head(origins[r["id"]])} for r in records]
    progress = None
    if (folder / runs.PROGRESS).is_file():
        progress = checkpoint.read(folder)
        fold = checkpoint.load_task(folder, progress)
        encoded = fold.encode_training(cut)
    else:
        folder.mkdir(exist_ok=True)  # an interruption before its first epoch left it empty
        fold = Task.for_spec(task.spec)
        fold.learn(cut)
        encoded = fold.encode_training(cut)
        fold.build_model()
    ensembles.fit(fold, {"train": encoded}, {"train": cut}, folder, verbose, progress)
    written = folder.with_suffix(".partial.keras")  # complete before it takes its name
    fold.save(written)
    os.replace(written, finished)
    shutil.rmtree(folder)
    return fold


def table(report):
    """The report as a Markdown table: a row per fold and method, then the overall rows and
    the notes (a method without scores shows why, e.g. the extra it needs)."""
    names = [n for n in ("mase", "smape", "mae", "rmse", "coverage", "pinball")]
    names = [n for n in names if n in report["overall"]["keras-seq"]]
    lines = ["| fold | method | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    rows = [(str(f["fold"]), f) for f in report["folds"]] + [("overall", report["overall"])]
    for label, scores in rows:
        for method, figures in scores.items():
            if not isinstance(figures, dict):
                continue
            cells = [_cell(figures.get(name)) for name in names]
            if "missing" in figures:
                cells = [figures["missing"]] + [""] * (len(names) - 1)
            lines.append(f"| {label} | {method} | " + " | ".join(cells) + " |")
    conformal = report["overall"]["keras-seq"].get("conformal")
    lines += ["", interval_text(conformal)] if conformal else []
    notes = report.get("notes", [])
    return "\n".join(lines + [""] * bool(notes) + [f"- {note}" for note in notes]) + "\n"


def interval_text(conformal):
    """One sentence on the interval's coverage, as trained and calibrated, and the margin
    that calibrates a new forecast (`keras_seq.metrics.conformal`'s result).

    >>> from keras_seq.backtesting import interval_text
    >>> print(interval_text({"nominal": 0.8, "coverage": 0.96, "calibrated_coverage": 0.8,
    ...     "margin": -0.25, "folds_scored": 5, "past_calibrated_coverage": 0.865,
    ...     "past_folds_scored": 4}))  # doctest: +NORMALIZE_WHITESPACE
    80 % interval: covers 96.0 % as trained; 80.0 % calibrated on the other folds' errors
    (86.5 % on the folds before only, folds 2-5). To calibrate a new forecast, narrow each end
    of its interval by 0.25 x its series' MASE scale.
    """
    text = f"{_percent(conformal['nominal'], 0)} interval: covers "
    text += f"{_percent(conformal['coverage'])} as trained"
    if conformal["calibrated_coverage"] is None:
        return f"{text} (one fold: no other fold to calibrate it on)."
    folds, margin = conformal["past_folds_scored"] + 1, conformal["margin"]
    move = "widen" if margin >= 0 else "narrow"
    advice = (
        f"To calibrate a new forecast, {move} each end of its interval by {abs(margin):.3g} x "
        "its series' MASE scale."
        if math.isfinite(margin)
        else "Too few points for a margin at this coverage: backtest with more folds."
    )
    return (
        f"{text}; {_percent(conformal['calibrated_coverage'])} calibrated on the other folds' "
        f"errors ({_percent(conformal['past_calibrated_coverage'])} on the folds before only, "
        f"folds 2-{folds}). {advice}"
    )


def _percent(share, digits=1):
    """`0.865` as `86.5 %` (the space this project's prose puts before the sign)."""
    return f"{100 * share:.{digits}f} %"


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
