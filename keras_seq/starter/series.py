"""The time-series side of `keras_seq.starter` (`keras-seq init`): the columns of a file of
series, and a window, horizon, season and calendar features that suit its time step and its
shortest series.

A guessed time column beside no numeric column, or beside a column of prose, gives None, so
`init` goes on to the other tasks; a column named by a flag that does not fit, or a guess
that needs a decision (which numeric column is the target, which column names the series),
is a `DataError` whose fix names the flag.
"""

import json
import math

import numpy as np

from keras_seq.data import DataError, sniffing
from keras_seq.data.series import read_series_table
from keras_seq.metrics import classical, stationarity
from keras_seq.metrics.forecasting import in_sample_scale

# Time step -> (lookback, horizon, season_length, calendar): a week of days ahead from four
# weeks, a day of hours from two days, a quarter of weeks from a year and a month, ...
# Years and plain steps have no calendar season: theirs is read from the autocorrelation.
LAYOUTS = {
    "1h": (48, 24, 24, ["hour", "weekday"]),
    "1D": (28, 7, 7, ["weekday"]),
    "1W": (56, 13, 52, ["day_of_year"]),
    "1M": (24, 12, 12, ["month"]),
    "3M": (12, 4, 4, ["month"]),
    "1Y": (12, 6, None, []),
}
_OTHER = (24, 6, None, [])
FOLDS = 5  # `keras-seq backtest`'s default: the layout leaves room for its folds


def series_guess(path, fmt, records, time_column, series_id_column, target_column):
    """The forecaster's `data` fields for a file of time series (see the module), or None
    when no time column is given or found.

    Args:
        path: the file. fmt: `csv` or `jsonl`.
        records: its `(line, row)` pairs.
        time_column, series_id_column, target_column: str or None, from the flags (columns
            of the file).
    """
    rows = [row for _, row in records]
    columns = list(rows[0])
    guessed = time_column is None
    time_column = _time_column(path, records, columns, time_column)
    if time_column is None and series_id_column is not None:
        raise DataError(
            "--series-id-column needs a time column, and no column holds ISO dates or datetimes",
            path=path,
            hint="give --time-column NAME",
        )
    if time_column is None:
        return None
    others = [c for c in columns if c != time_column]
    if guessed and any(sniffing.is_prose(rows, c) for c in others):
        return None  # dates beside texts: a task on the texts
    if guessed and not sniffing.numeric_columns(rows, others):
        _check_nearly_numeric(path, records, others)
        return None
    if series_id_column is None:
        series_id_column = _series_id(path, records, columns, time_column)
    others = [c for c in others if c != series_id_column]
    numeric = sniffing.numeric_columns(rows, others)
    target = _target(path, records, numeric, target_column, time_column)
    covariates = [c for c in numeric if c != target]
    future = [c for c in covariates if sniffing.is_code(rows, c)]
    past = [c for c in covariates if c not in future]
    fill, series = _read(path, fmt, time_column, series_id_column, [target, *past, *future], future)
    layout = _layout(path, series, time_column)
    used = {time_column, series_id_column, target, *covariates}
    return {
        "time_column": time_column,
        "series_id_column": series_id_column,
        "target_columns": [target],
        "past_covariates": past,
        "future_covariates": future,
        "unused_columns": [c for c in columns if c not in used],
        "fill": fill,
        "series": len(series),
        **layout,
    }


def _check_nearly_numeric(path, records, columns):
    """Raises for a column of numbers but for a few cells (or a decimal comma)."""
    rows = [row for _, row in records]
    for column in columns:
        if sniffing.mostly_numbers(rows, column):
            line, value = sniffing.first_non_number(records, column)
            raise DataError(
                f"{json.dumps(value)} is not a number, in a column of numbers to forecast",
                path=path,
                line=line,
                field=column,
                hint="write numbers with a decimal point (3.5) and leave missing values empty "
                "(data.fill fills them), or give --task for another task",
            )


def _time_column(path, records, columns, given):
    rows = [row for _, row in records]
    if given is None:
        times = sniffing.time_columns(rows, columns)
        steps = [c for c in sniffing.step_columns(rows, columns) if _has_ids(rows, columns, c)]
        return next(iter(times + steps + sniffing.year_columns(rows, columns)), None)
    if all(sniffing.is_whole(r.get(given)) for r in rows) or sniffing.time_columns(rows, [given]):
        return given
    line, value = sniffing.first_bad_time(records, given)
    raise DataError(
        f"{json.dumps(value)} is not an ISO date or datetime (nor are all cells whole numbers)",
        path=path,
        line=line,
        field=given,
        hint="write times such as 2021-03-01 or 2021-03-01T13:00 (no time zone) or integer "
        "steps, or give --time-column another column",
    )


def _has_ids(rows, columns, time_column):
    others = [c for c in columns if c != time_column]
    return bool(sniffing.series_id_columns(rows, others, time_column))


def _series_id(path, records, columns, time_column):
    """The column telling series apart when times repeat (None for one series)."""
    seen = {}
    for line, row in records:
        time = str(row.get(time_column)).strip()
        if time in seen:
            break
        seen[time] = line
    else:
        return None
    ids = sniffing.series_id_columns([r for _, r in records], columns, time_column)
    if ids:
        return ids[0]
    raise DataError(
        f"the time {time} appears again (first on line {seen[time]}), and no column tells "
        "the series apart",
        path=path,
        line=line,
        field=time_column,
        hint="give --series-id-column NAME (the column naming each row's series), or keep "
        "one row per time",
    )


def _target(path, records, numeric, given, time_column):
    """The target column: the one given, or the one numeric column that is not a code."""
    if given is not None:
        if given in numeric:
            return given
        line, value = sniffing.first_non_number(records, given) or (None, "only empty cells")
        raise DataError(
            f"the target must be numeric, found {json.dumps(value)}",
            path=path,
            line=line,
            field=given,
            hint=f"give --target-column one of: {', '.join(numeric) or '(no numeric column)'}",
        )
    if not numeric:
        raise DataError(
            f"no numeric column to forecast beside the time column {time_column!r}",
            path=path,
            hint="give --target-column NAME (a column of numbers), or --task for another task",
        )
    rows = [row for _, row in records]
    measured = [c for c in numeric if not sniffing.is_code(rows, c)]
    if len(numeric) == 1 or len(measured) == 1:
        return numeric[0] if len(numeric) == 1 else measured[0]
    choices = measured or numeric
    raise DataError(
        f"columns {', '.join(map(repr, choices))} could each be the target",
        path=path,
        hint="give --target-column NAME (the other numeric columns become covariates)",
    )


def _read(path, fmt, time_column, series_id_column, values, future):
    """`(fill, series)`: the series as `keras_seq.data.series` reads them (order, duplicates
    and the grid checked), with `fill: interpolate` only when there are gaps to fill."""
    for fill in ("error", "interpolate"):
        try:
            series = read_series_table(
                path,
                fmt,
                values,
                time_column=time_column,
                series_id_column=series_id_column,
                fill=fill,
                future_columns=future,
                targets=values[:1],
            )
            return fill, series
        except DataError:
            if fill == "interpolate":  # not a gap: the data's own error
                raise
    raise AssertionError("unreachable")


def _layout(path, series, time_column):
    """`lookback`, `horizon`, `season_length`, `calendar`, `frequency`, `shortest`."""
    # Rows are filled up to each series' last target value; after it, only future covariates.
    lengths = [int(np.count_nonzero(~np.isnan(one.values[:, 0]))) for one in series]
    shortest = min(lengths)
    frequency = series[lengths.index(shortest)].frequency
    if frequency.unit == "step":
        lookback, horizon, season, calendar = _OTHER
    else:
        lookback, horizon, season, calendar = LAYOUTS.get(str(frequency), _OTHER)
    if shortest < 3:
        one = series[lengths.index(shortest)]
        raise DataError(
            f"{one.name} has {shortest} step(s): too short to learn a forecast from",
            path=path,
            line=int(one.lines[one.lines > 0][0]),
            field=time_column,
            hint="give each series at least a few dozen rows, or drop the short ones",
        )
    if season is None:  # no calendar season: the autocorrelation's, else none
        longest = series[lengths.index(max(lengths))].values[:, 0]
        season = detected_season(longest[~np.isnan(longest)], shortest // 4) or 1
        horizon, lookback = (season, max(lookback, 2 * season)) if season > 1 else (horizon, 12)
    lookback, horizon = fitted_window(shortest, lookback, horizon, season)
    season = season if season <= lookback else 1
    targets = [one.values[: lengths[k], 0] for k, one in enumerate(series)]
    anchor, errors = chosen_anchor(targets, horizon, season)
    return {
        "lookback": lookback,
        "horizon": horizon,
        "season_length": season,
        "anchor": anchor,
        "anchor_errors": errors,
        "calendar": calendar,
        "frequency": str(frequency),
        "shortest": shortest,
        "steps": sum(lengths),
    }


def fitted_window(steps, lookback, horizon, season, folds=FOLDS):
    """`(lookback, horizon)` shortened so that a series of `steps` holds a backtest of `folds`
    horizons plus a training part of `lookback + 2 * horizon` steps (a few windows): the
    horizon to `steps // (2 (folds + 2))` at most, then the lookback to what is left (at
    least a season, or a third of the series, when that fits).

    >>> fitted_window(60, 28, 7, 7)
    (28, 4)
    >>> fitted_window(1000, 28, 7, 7)
    (28, 7)
    """
    if lookback + horizon * (folds + 2) <= steps:
        return lookback, horizon
    horizon = max(1, min(horizon, steps // (2 * (folds + 2))))
    room = steps - horizon * (folds + 2)
    lookback = max(1, min(lookback, max(room, min(season, steps // 3))))
    return lookback, horizon


#: The most series whose candidate forecasts `chosen_anchor` scores (evenly spread).
CHOICE_SERIES = 20


def chosen_anchor(histories, horizon, season, folds=FOLDS):
    """`(anchor, errors)`: the `head.anchor` for series whose target values are `histories`
    (1-D arrays), and what chose it: `{"last": e, "seasonal": e, "holt_winters": e}`, the
    pooled errors of the candidate forecasts (None when no series has room for a forecast),
    or with `none`, `{"dickey_fuller": t, "critical": c}` of the series closest to a unit root.

    Read only on each series' steps before a backtest's last `folds` horizons, so the choice
    never reads what `keras-seq backtest` scores:

    - `none` when every series returns to its mean (the augmented Dickey-Fuller test,
      `keras_seq.metrics.stationarity`, rejects a unit root at 5 %): the network forecasts
      the level, which an anchor would only pull towards the last value or season while the
      series pulls back to its mean;
    - otherwise the candidate of least error: from every origin `o` with a season behind it,
      the mean absolute error over the next `horizon` steps of the last value (`x[o - 1]`),
      of the last season repeated (`x[o - m + (h mod m)]`, `m = season > 1`) and, with
      statsmodels (the `forecast` extra), of Holt-Winters (`keras_seq.metrics.classical`,
      fitted to those same steps: in-sample, so a little flattered), over the series' mean
      absolute one-step change (series with none are left out), averaged over the series
      (at most `CHOICE_SERIES` of them, evenly spread: a Holt-Winters fit takes up to
      seconds, and a sample tells the pooled error).
      A tie goes to the simpler forecast (last, then seasonal). The network learns its
      correction over that forecast, which `head.shrink` falls back on: a trending series is
      not anchored to a season its trend has left behind, and a short seasonal one starts
      from the statistician's forecast instead of from one season's noise.

    >>> import numpy as np
    >>> steps = np.arange(200)
    >>> walk = np.cumsum(np.random.default_rng(0).normal(size=200))
    >>> chosen_anchor([walk + 5 * np.sin(2 * np.pi * steps / 12)], 6, 12)[0]
    'holt_winters'
    >>> noise = np.random.default_rng(1).normal(size=200)
    >>> chosen_anchor([np.sin(2 * np.pi * steps / 12) + noise], 6, 12)[0]
    'none'
    """
    seen = [np.asarray(x, dtype="float64")[: len(x) - folds * horizon] for x in histories]
    tests = [stationarity.tested(x) for x in seen]
    if tests and all(test is not None and test[0] < test[1] for test in tests):
        closest = max(tests, key=lambda test: test[0] - test[1])
        return "none", {"dickey_fuller": closest[0], "critical": closest[1]}
    pooled = {}
    for x in seen[:: max(1, math.ceil(len(seen) / CHOICE_SERIES))]:
        origins = np.arange(max(season, 1), len(x) - horizon + 1)
        scale = in_sample_scale(x, 1)  # the MASE scale of the last value
        if not len(origins) or not scale:
            continue
        future = x[origins[:, None] + np.arange(horizon)]
        for name, forecast in _candidates(x, origins, horizon, season).items():
            pooled.setdefault(name, []).append(np.mean(np.abs(future - forecast)) / scale)
    if not pooled:
        return ("seasonal" if season > 1 else "last"), None
    errors = {name: float(np.mean(found)) for name, found in pooled.items()}
    return min(errors, key=errors.get), errors  # the first of equals: the simpler


def _candidates(x, origins, horizon, season):
    """`chosen_anchor`'s forecasts `{anchor: (origins, horizon)}` of the values `x`."""
    ahead = np.arange(horizon)
    found = {"last": np.repeat(x[origins - 1, None], horizon, axis=1)}
    if season > 1:
        found["seasonal"] = x[origins[:, None] - season + ahead % season]
    if classical.available():
        fitted = classical.holt_winters_fit(x, season)
        found["holt_winters"] = classical.holt_winters_paths(x, fitted, origins, horizon)
    return found


def detected_season(values, longest):
    """The season read from the autocorrelation of the linearly detrended `values`: the lag
    `2 <= k <= longest` with the highest peak above 0.3 that stands 0.2 above the lowest
    autocorrelation before it; None when there is none (no season).

    `acf(k) = sum_t x[t] x[t - k] / sum_t x[t]^2`, `x` the values less their least-squares line.

    >>> import numpy as np
    >>> steps = np.arange(120)
    >>> detected_season(np.sin(2 * np.pi * steps / 11) + 0.05 * steps, 40)
    11
    >>> detected_season(np.cumsum(np.random.default_rng(0).normal(size=200)), 60) is None
    True
    """
    values = np.asarray(values, dtype="float64")
    longest = min(longest, len(values) - 2)
    if longest < 2:
        return None
    steps = np.arange(len(values))
    x = values - np.polyval(np.polyfit(steps, values, 1), steps)
    energy = float(np.sum(x * x))
    if energy == 0:
        return None
    acf = np.array([np.sum(x[k:] * x[: len(x) - k]) / energy for k in range(longest + 2)])
    peaks = [
        k
        for k in range(2, longest + 1)
        if acf[k - 1] < acf[k] >= acf[k + 1] and acf[k] > 0.3 and acf[k] - acf[1:k].min() > 0.2
    ]
    return max(peaks, key=lambda k: acf[k]) if peaks else None


def spec_sections(guessed):
    """`(input lines, head lines after its type, data lines after the files)` of the spec of
    a time-series forecaster, commented."""
    past, future = guessed["past_covariates"], guessed["future_covariates"]
    calendar, target = guessed["calendar"], guessed["target_columns"][0]
    dim = 1 + len(past) + len(future) + 2 * len(calendar)
    parts = [target, *past, *future, *(f"sin/cos of the {name}" for name in calendar)]
    many = guessed["series_id_column"] is not None
    inputs = [
        "input:",
        "  kind: features",
        _line(f"dim: {dim}", " + ".join(parts)),
        _line("scaling: standard", "per series and column, learned on the training part only"),
    ]
    inputs.append(_window_scaling_line(guessed["anchor"]))
    if many:
        inputs.append(_line("series_embedding: 4", "a learned vector per series"))
    head = [
        _line(f"horizon: {guessed['horizon']}", "future steps predicted"),
        _line("outputs: 1", "values per step: data.target_columns"),
        _line("# quantiles: [0.1, 0.5, 0.9]", "an 80 % interval (pinball loss)"),
        _anchor_line(guessed["anchor"], guessed["anchor_errors"]),
    ]
    if guessed["anchor"] != "none":  # shrink moves the forecast towards the anchor
        head.append(_shrink_line(many, guessed["anchor"]))
    data = [
        _line(
            f"time_column: {json.dumps(guessed['time_column'])}",
            f"a step of {guessed['frequency']} (inferred; data.frequency sets it)",
        )
    ]
    if many:
        ids = json.dumps(guessed["series_id_column"])
        data.append(_line(f"series_id_column: {ids}", f"{guessed['series']} series, one model"))
    data += [
        _line(f"target_columns: {json.dumps([target])}", "the values forecast"),
        _line(f"past_covariates: {json.dumps(past)}", "known up to the forecast origin"),
        _line(f"future_covariates: {json.dumps(future)}", "known ahead (holidays, promotions)"),
        _line(f"calendar: {json.dumps(calendar)}", "made from the time: known ahead"),
        _line(
            f"lookback: {guessed['lookback']}",
            f"steps seen (shortest series: {guessed['shortest']} steps)",
        ),
        _line(f"season_length: {guessed['season_length']}", "for the seasonal-naive baseline"),
    ]
    if guessed["fill"] == "interpolate":
        data.append(_line("fill: interpolate", "the file has gaps or empty values"))
    else:
        data.append(_line("fill: error", "a gap stops with its line (or: ffill, interpolate)"))
    if guessed["unused_columns"]:
        data.append(f"  # not used: {', '.join(guessed['unused_columns'])}")
    if future:
        data += [
            "  # To predict, add the horizon's rows after each series' last value:",
            "  # the future covariates filled in, the target empty.",
        ]
    return inputs, head, data


_ANCHORS = {"seasonal": "last season", "last": "the last value", "holt_winters": "Holt-Winters"}


def _anchor_line(anchor, errors):
    """`head.anchor`, with what chose it (`chosen_anchor`)."""
    if anchor == "none":
        return _line(
            "anchor: none",
            f"the level: the series returns to its mean (Dickey-Fuller "
            f"{errors['dickey_fuller']:.2f} < {errors['critical']:.2f}) (or: "
            f"{', '.join(_ANCHORS)})",
        )
    others = [name for name in _ANCHORS if name != anchor]
    if errors is None or len(errors) == 1:
        return _line(f"anchor: {anchor}", f"learn the correction over {_ANCHORS[anchor]}")
    beaten = " and ".join(
        f"{_ANCHORS[name]}'s ({errors[name]:.2f})" for name in errors if name != anchor
    )
    return _line(
        f"anchor: {anchor}",
        f"the correction over {_ANCHORS[anchor]}, whose error before the folds "
        f"({errors[anchor]:.2f}) beat {beaten} (or: {', '.join(others)}, none)",
    )


def _window_scaling_line(anchor):
    """`input.window_scaling`: `standard` for a series with a unit root (anchored), whose
    level says nothing of its next steps, so each window is scaled on its own; `none` for one
    that returns to its mean, whose level says where it goes (measured in
    docs/forecasting.md)."""
    if anchor == "none":
        return _line("window_scaling: none", "the level tells where a mean-reverting series goes")
    return _line("window_scaling: standard", "each window on its own mean and std (or: none)")


def _shrink_line(many, anchor):
    """`head.shrink`: none (the whole correction) when there are many series, whose networks
    `training_lines` averages, else the even average with the anchor (one series' held-out
    season is too few windows to choose a share from); measured in docs/forecasting.md."""
    if many:
        return _line("shrink: none", "the whole correction (or: validation, 0..1)")
    return _line("shrink: 0.5", f"average with {_ANCHORS[anchor]} (or: none, validation, 0..1)")


#: The most steps (all series together) for which `init` writes `training.ensemble: 5`.
ENSEMBLE_STEPS = 50_000


#: The optimizer steps `init` plans for a forecaster of at least `FEW_BATCHES` batches of
#: windows: ten epochs of a few batches leave the network barely trained.
TRAINING_STEPS = 300
#: Below this many batches of windows an epoch, `init` keeps 10 epochs: a few dozen windows
#: are memorised, not learned, in more passes (measured in docs/forecasting.md).
FEW_BATCHES = 5
#: The most epochs `init` writes.
MOST_EPOCHS = 60


def training_lines(guessed, batch_size=32):
    """`training.epochs` and, for many series, `training.ensemble`.

    Epochs: 10, or enough for `TRAINING_STEPS` steps (up to `MOST_EPOCHS`) when the windows
    fill `FEW_BATCHES` batches or more but ten epochs of them are fewer steps. Ensemble: the
    mean of five seeds' networks for many series when one training is quick (up to
    `ENSEMBLE_STEPS` steps), one network otherwise; one series alone changed little with
    five (measured in docs/forecasting.md).

    >>> def epochs(steps):
    ...     guessed = {"steps": steps, "series": 1, "lookback": 24, "horizon": 12,
    ...                "series_id_column": None}
    ...     return training_lines(guessed)[0].split("#")[0].strip()
    >>> epochs(100), epochs(257), epochs(5000)
    ('epochs: 10', 'epochs: 43', 'epochs: 10')
    """
    windows = guessed["steps"] - guessed["series"] * (guessed["lookback"] + guessed["horizon"] - 1)
    batches = max(1, math.ceil(windows / batch_size))
    epochs = 10
    if batches >= FEW_BATCHES:
        epochs = min(MOST_EPOCHS, max(epochs, math.ceil(TRAINING_STEPS / batches)))
    lines = [
        _line(f"epochs: {epochs}", f"{batches} batches an epoch: about {epochs * batches} steps")
    ]
    if guessed["series_id_column"] is None:
        return lines
    if guessed["steps"] <= ENSEMBLE_STEPS:
        return lines + [
            _line("ensemble: 5", "five seeds' networks averaged (or: 1, five times faster)")
        ]
    return lines + [
        _line("ensemble: 1", "a large panel; 5 averages five seeds' networks (5x the time)")
    ]


def _line(field, comment):
    """`  field    # comment`, the comments aligned."""
    return f"  {field}".ljust(30) + f"  # {comment}"
