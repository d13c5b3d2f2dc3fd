"""Time series for forecasting: one or many series per file, time checks, fills, scaling.

A file holds one row per time step (CSV with a header, or JSONL), a `time` column and, for
many series, a `series_id` column; rows of one series need not be adjacent. Each series is
checked on its own: timestamps strictly increasing, on one regular grid (the `frequency`,
inferred as the most common step, or given), gaps and empty values reported by file and line
or filled (`fill`: `error | ffill | interpolate`).

Time values are ISO dates or datetimes (`2021-03-01`, `2021-03-01T13:00`, read by NumPy's
`datetime64`) or integers (step numbers). Frequencies are written `<count><unit>` with NumPy's
units: `Y` years, `M` months, `W` weeks, `D` days, `h` hours, `m` minutes, `s` seconds, or
`step` for integer time (e.g. `7D`, `1h`, `15m`, `1M`).

Example:

>>> import numpy as np
>>> from keras_seq.data.series import Scaler, calendar_features, parse_frequency
>>> times = parse_frequency("1D").range(np.datetime64("2024-01-01"), 3)
>>> [str(t) for t in times]
['2024-01-01', '2024-01-02', '2024-01-03']
>>> calendar_features(times, ["weekday"]).shape
(3, 2)
>>> scaler = Scaler("standard").fit({"a": np.array([[1.0], [3.0]])})
>>> scaler.transform("a", np.array([[3.0]])).tolist()
[[1.0]]
"""

import logging
import math
import re
from dataclasses import dataclass

import numpy as np

from keras_seq.data.errors import DataError
from keras_seq.data.readers import _number, read_records

logger = logging.getLogger("keras_seq.data")

FILLS = ("error", "ffill", "interpolate")
SCALINGS = ("standard", "minmax", "none")
CALENDAR = {"hour": 24.0, "weekday": 7.0, "month": 12.0, "day_of_year": 365.25}
_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "step")
_SECONDS = {"W": 604800, "D": 86400, "h": 3600, "m": 60, "s": 1}
_MISSING = ("", "na", "nan", "null", "none")


# ---- frequency --------------------------------------------------------------------------
@dataclass(frozen=True)
class Frequency:
    """A regular time step: `count` `unit`s (`unit` one of Y M W D h m s, or `step`)."""

    count: int
    unit: str

    def __str__(self):
        return f"{self.count}{self.unit}"

    def ticks(self, times):
        """Times as integers counted in `unit` (months for `M`, years for `Y`)."""
        if self.unit == "step":
            return np.asarray(times, dtype="int64")
        return np.asarray(times).astype(f"datetime64[{self.unit}]").astype("int64")

    def range(self, start, steps, first=0):
        """The `steps` times `start + (first + k) * frequency`, k = 0..steps-1."""
        offsets = (first + np.arange(steps)) * self.count
        if self.unit == "step":
            return np.asarray(start, dtype="int64") + offsets
        start = np.datetime64(start)
        if self.unit in ("M", "Y"):  # calendar units: the same day of the period, or its end
            period = np.datetime64(start, self.unit)
            periods = period + offsets.astype(f"timedelta64[{self.unit}]")
            if start == (period + 1).astype(start.dtype) - np.timedelta64(1, "D"):
                return (periods + 1).astype(start.dtype) - np.timedelta64(1, "D")
            return periods.astype(start.dtype) + (start - period.astype(start.dtype))
        return start + offsets.astype(f"timedelta64[{self.unit}]")


def parse_frequency(text):
    """A `Frequency` from text such as `7D`, `1h`, `M`, `15m` or `1step`.

    Raises `DataError` for anything else.
    """
    match = re.fullmatch(r"\s*(\d*)\s*([A-Za-z]+)\s*", str(text))
    if not match or match.group(2) not in _UNITS or match.group(1) in ("0", "00"):
        raise DataError(
            f"unknown frequency {text!r}",
            hint="write a count and a unit, e.g. 7D, 1h, 15m, 1M (units: " + " ".join(_UNITS) + ")",
        )
    return Frequency(int(match.group(1) or 1), match.group(2))


def infer_frequency(times):
    """The most common step between consecutive `times` (sorted, one series), as a Frequency."""
    times = np.asarray(times)
    if times.dtype.kind in "iu":
        steps = np.diff(times)
        return Frequency(int(_mode(steps[steps > 0], 1)), "step")
    seconds = np.diff(times.astype("datetime64[s]").astype("int64"))
    step = _mode(seconds[seconds > 0], 86400)
    days = step / 86400
    if 28 <= days <= 31:
        return Frequency(1, "M")
    if 89 <= days <= 92:
        return Frequency(3, "M")
    if 365 <= days <= 366:
        return Frequency(1, "Y")
    for unit in ("W", "D", "h", "m", "s"):
        if step % _SECONDS[unit] == 0:
            return Frequency(int(step // _SECONDS[unit]), unit)
    raise AssertionError("unreachable: every step is a whole number of seconds")


def _mode(values, default):
    if len(values) == 0:
        return default
    found, counts = np.unique(values, return_counts=True)
    return int(found[np.argmax(counts)])


# ---- reading ----------------------------------------------------------------------------
@dataclass
class Series:
    """One series: times, values `(steps, columns)` (NaN where missing) and source lines.

    `lines[k]` is the file line of step k, 0 for a step inserted to fill a gap.
    """

    id: str
    times: np.ndarray
    values: np.ndarray
    lines: np.ndarray
    columns: tuple
    path: str
    frequency: Frequency = None

    def __len__(self):
        return len(self.times)

    @property
    def name(self):
        """`series 'id'` for messages (`the series` for a file of one series)."""
        return f"series {self.id!r}" if self.id else "the series"

    def where(self, step):
        """`(line, text)` for error messages about step `step`."""
        line = int(self.lines[step]) or None
        return line, f"{self.name} at {self.times[step]}"

    def head(self, steps):
        """The first `steps` steps (a view, same id)."""
        return Series(
            self.id,
            self.times[:steps],
            self.values[:steps],
            self.lines[:steps],
            self.columns,
            self.path,
            self.frequency,
        )


def read_series_table(
    path,
    format,
    value_columns,
    *,
    time_column,
    series_id_column=None,
    frequency=None,
    fill="error",
    future_columns=(),
    targets=None,
):
    """Reads, checks and fills every series of a file.

    Args:
        path: str or path-like. A CSV (with a header) or JSONL file.
        format: str. `csv` or `jsonl`.
        value_columns: list of str. The numeric columns to keep, in this order.
        time_column: str. Dates/datetimes (ISO) or integer steps.
        series_id_column: str, optional. Splits the file into series; without it the file is
            one series with id `""`.
        frequency: str or `Frequency`, optional. The time step; inferred per series by default.
        fill: str. What to do with missing timestamps and empty values: `error` (stop, naming
            the line), `ffill` (repeat the last value) or `interpolate` (linear in time).
        future_columns: list of str. Columns that may go on after the targets end (known-future
            covariates): trailing rows where every target is empty are kept unfilled, so the
            caller can read them as the forecast horizon.
        targets: list of str, optional. The target columns (default: all `value_columns`);
            used to find trailing future rows.

    Returns:
        A list of `Series`, in order of first appearance in the file.
    """
    if fill not in FILLS:
        raise DataError(f"unknown fill {fill!r}", path=path, hint=f"use one of {FILLS}")
    value_columns = list(value_columns)
    rows = _rows_by_series(path, format, value_columns, time_column, series_id_column)
    if isinstance(frequency, str):
        frequency = parse_frequency(frequency)
    target_index = [value_columns.index(name) for name in (targets or value_columns)]
    series = []
    for key, items in rows.items():
        times = _parse_times([t for _, t, _ in items], [line for line, _, _ in items], path, key)
        one = Series(
            key,
            times,
            np.array([v for _, _, v in items], dtype="float64"),
            np.array([line for line, _, _ in items], dtype="int64"),
            tuple(value_columns),
            str(path),
        )
        series.append(_check(one, frequency, fill, target_index, bool(future_columns)))
    return series


def _rows_by_series(path, format, value_columns, time_column, series_id_column):
    """`{series id: [(line, time text, values), ...]}` in file order; values parsed."""
    columns = {"time_column": time_column}
    if series_id_column is not None:
        columns["series_id_column"] = series_id_column
    columns.update({f"value column {i}": name for i, name in enumerate(value_columns)})
    rows = {}
    for line, record in read_records(path, format, columns):
        key = "" if series_id_column is None else str(record[series_id_column]).strip()
        values = [_value(record[name], path, line, name) for name in value_columns]
        rows.setdefault(key, []).append((line, record[time_column], values))
    return rows


def is_missing(value):
    """Whether a cell counts as empty: None, `""`, `NA`, `NaN`, `null` or `none` (any case)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in _MISSING)


def _value(value, path, line, column):
    """A cell as a float: NaN when empty (`data.fill` decides), else a finite number."""
    if is_missing(value):
        return math.nan
    return _number(value, path, line, column)


def _parse_times(values, lines, path, key):
    text = [str(v).strip() for v in values]
    if all(re.fullmatch(r"-?\d+", t) for t in text):
        return np.array([int(t) for t in text], dtype="int64")
    parsed = []
    for value, line in zip(text, lines):
        try:
            parsed.append(parse_time(value))
        except ValueError as err:
            raise DataError(
                f"series {key!r}: cannot read the time {value!r} ({err})",
                path=path,
                line=line,
                hint="write ISO dates such as 2021-03-01 or 2021-03-01T13:00 (local time, "
                "no zone), or integer steps",
            ) from None
    return np.array(parsed).astype("datetime64[s]")


def parse_time(text):
    """An ISO date or datetime (`2021-03-01`, `2021-03-01 13:00`, `2021-03-01T13:00:05`) as
    `numpy.datetime64`; raises `ValueError` for anything else, a time zone included."""
    value = str(text).strip()
    if re.search(r"(Z|[+-]\d\d:?\d\d)$", value) and "T" in value.replace(" ", "T"):
        raise ValueError("time zones are not supported")
    return np.datetime64(value.replace(" ", "T", 1))


def _check(series, frequency, fill, target_index, keep_future):
    path, times = series.path, series.times
    steps = np.diff(times)
    bad = np.flatnonzero(steps <= np.zeros_like(steps[:1]))
    if len(bad):
        k = int(bad[0]) + 1
        word = "a duplicated" if times[k] == times[k - 1] else "an out-of-order"
        raise DataError(
            f"{series.name}: {word} timestamp {times[k]} (after {times[k - 1]} on "
            f"line {series.lines[k - 1]})",
            path=path,
            line=int(series.lines[k]),
            hint="sort each series by time and keep one row per timestamp",
        )
    frequency = frequency or infer_frequency(times)
    if (frequency.unit == "step") != (times.dtype.kind in "iu"):
        raise DataError(
            f"{series.name}: frequency {frequency} does not suit times like {times[0]}",
            path=path,
            line=int(series.lines[0]),
            hint="use unit 'step' for integer times and Y M W D h m s for dates",
        )
    ticks = frequency.ticks(times)
    offsets = ticks - ticks[0]
    off_grid = np.flatnonzero(offsets % frequency.count != 0)
    same = np.flatnonzero(np.diff(ticks) == 0)
    if len(same):
        k = int(same[0]) + 1
        raise DataError(
            f"{series.name}: {times[k - 1]} and {times[k]} fall in one {frequency.unit} "
            f"period (lines {series.lines[k - 1]} and {series.lines[k]})",
            path=path,
            line=int(series.lines[k]),
            hint="keep one row per period, or set data.frequency to the true step",
        )
    if len(off_grid):
        k = int(off_grid[0])
        raise DataError(
            f"{series.name}: the time {times[k]} is off the {frequency} grid that "
            f"starts at {times[0]}",
            path=path,
            line=int(series.lines[k]),
            hint="give regular timestamps, or set data.frequency to the true step",
        )
    position = offsets // frequency.count
    length = int(position[-1]) + 1
    values = np.full((length, series.values.shape[1]), np.nan)
    values[position] = series.values
    lines = np.zeros(length, dtype="int64")
    lines[position] = series.lines
    full_times = frequency.range(times[0], length)
    full_times[position] = times
    full = Series(series.id, full_times, values, lines, series.columns, series.path, frequency)
    end = length
    if keep_future:
        present = np.flatnonzero(~np.isnan(values[:, target_index]).all(axis=1))
        end = int(present[-1]) + 1 if len(present) else 0
    _fill(full, fill, end)
    return full


def _fill(series, fill, end):
    """Fills gaps and empty values in steps `[0, end)` in place (or raises for `error`)."""
    values = series.values[:end]
    missing = np.isnan(values)
    if not missing.any():
        return
    step, column = (int(i) for i in np.argwhere(missing)[0])
    name = series.columns[column]
    if fill == "error" or missing[0].any():
        line, where = series.where(step)
        if line is None:  # a step inserted for a missing timestamp; a real row follows it
            gap = int(np.argmax(series.lines[step:] > 0)) + step
            message = (
                f"{where}: missing timestamps ({gap - step} step(s) of {series.frequency} "
                f"from {series.times[step]} to {series.times[gap - 1]})"
            )
            line = int(series.lines[gap])
        else:
            message = f"{where}: empty value"
        hint = "set data.fill: ffill or interpolate, or give the missing rows and values"
        if missing[0].any():
            hint = "a series cannot start with an empty value: drop the leading rows"
        raise DataError(message, path=series.path, line=line, field=name, hint=hint)
    count = int(missing.sum())
    for c in range(values.shape[1]):
        gaps = np.flatnonzero(missing[:, c])
        if not len(gaps):
            continue
        known = np.flatnonzero(~missing[:, c])
        if fill == "ffill" or len(known) < 2:
            values[gaps, c] = values[known[np.searchsorted(known, gaps) - 1], c]
        else:
            values[gaps, c] = np.interp(gaps, known, values[known, c])
    logger.info(
        "%s: series %r: filled %d missing value(s) (%s)", series.path, series.id, count, fill
    )


# ---- length ------------------------------------------------------------------------------
def check_length(series, lookback, horizon):
    """Raises `DataError` when `series` is too short for one window of lookback + horizon."""
    if len(series) < lookback + horizon:
        raise DataError(
            f"{series.name} has {len(series)} steps, fewer than lookback {lookback} + "
            f"horizon {horizon}",
            path=series.path,
            line=int(series.lines[series.lines > 0][0]),
            hint="give the series more rows, drop it, or lower data.lookback / head.horizon",
        )


# ---- scaling ----------------------------------------------------------------------------
class Scaler:
    """Per-series, per-column scaling learned on training data, invertible, JSON-able.

    `standard`: `(x - mean) / std`; `minmax`: `(x - min) / (max - min)`; `none`: identity.
    With `log`, the listed columns are replaced by `log(x)` first (every value must be > 0).
    A constant column gets scale 1. A series not seen in training uses the statistics of all
    training series pooled (and a warning is logged).

    Args:
        method: str. `standard`, `minmax` or `none`.
        log: list of int. Column indices to take the log of before scaling.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.data.series import Scaler
    >>> scaler = Scaler("minmax").fit({"a": np.array([[2.0], [4.0]])})
    >>> scaler.inverse("a", scaler.transform("a", np.array([[3.0]]))).tolist()
    [[3.0]]
    """

    def __init__(self, method="standard", log=()):
        if method not in SCALINGS:
            raise DataError(f"unknown scaling {method!r}", hint=f"use one of {SCALINGS}")
        self.method = method
        self.log = [int(c) for c in log]
        self.stats = {}

    def fit(self, arrays, sources=None):
        """Learns `stats[series id] = (center, scale)` from `{id: array (steps, columns)}`.

        `sources` (`{id: Series}`, optional) lets an error about a non-positive value under
        `log` name the file and line.
        """
        pooled = []
        for key, array in arrays.items():
            array = self._logged(array, key, sources)
            self.stats[key] = self._stats(array)
            pooled.append(array)
        self.stats[None] = self._stats(np.concatenate(pooled))
        return self

    def _stats(self, array):
        if self.method == "standard":
            center, scale = array.mean(axis=0), array.std(axis=0)
        elif self.method == "minmax":
            center, scale = array.min(axis=0), array.max(axis=0) - array.min(axis=0)
        else:
            center, scale = np.zeros(array.shape[1]), np.ones(array.shape[1])
        return center, np.where(scale > 1e-12, scale, 1.0)

    def _logged(self, array, key, sources=None):
        array = np.array(array, dtype="float64")
        if self.log:
            part = array[:, self.log]
            if (part <= 0).any():
                step = int(np.argwhere(part <= 0)[0][0])
                series = (sources or {}).get(key)
                line = None if series is None else int(series.lines[step]) or None
                raise DataError(
                    f"series {key!r}: value {part[step].min()} is not positive, so its log is "
                    "undefined",
                    path=None if series is None else series.path,
                    line=line,
                    hint="set input.log: false (or shift the series above 0)",
                )
            array[:, self.log] = np.log(part)
        return array

    def _get(self, key):
        if key not in self.stats:
            logger.warning("series %r was not in the training data: pooled scaling used", key)
            return self.stats[None]
        return self.stats[key]

    def transform(self, key, array):
        """Scales `array (steps, columns)` of series `key` (log first where set)."""
        center, scale = self._get(key)
        return (self._logged(array, key) - center) / scale

    def inverse(self, key, array, columns=None):
        """Undoes `transform` for `array (..., len(columns))`, `columns` indices (default all)."""
        center, scale = self._get(key)
        columns = list(range(len(center))) if columns is None else list(columns)
        array = np.asarray(array, dtype="float64") * scale[columns] + center[columns]
        for i, column in enumerate(columns):
            if column in self.log:
                array[..., i] = np.exp(array[..., i])
        return array

    def get_state(self):
        """A JSON-able dict; `Scaler.from_state` rebuilds the scaler."""
        return {
            "method": self.method,
            "log": self.log,
            "series": [
                {"id": key, "center": c.tolist(), "scale": s.tolist()}
                for key, (c, s) in self.stats.items()
            ],
        }

    @classmethod
    def from_state(cls, state):
        scaler = cls(state["method"], state["log"])
        scaler.stats = {
            item["id"]: (np.array(item["center"]), np.array(item["scale"]))
            for item in state["series"]
        }
        return scaler


# ---- calendar ---------------------------------------------------------------------------
def calendar_features(times, names):
    """Cyclic calendar features of datetimes: a sin/cos pair per name, in `names` order.

    `hour` (period 24, with minutes as fractions), `weekday` (Monday 0, period 7), `month`
    (January 0, period 12), `day_of_year` (January 1st is 0, period 365.25). Known for any
    future time, so they serve as future covariates.

    Args:
        times: datetime64 array `(steps,)`.
        names: list of str, from `hour`, `weekday`, `month`, `day_of_year`.

    Returns:
        float32 array `(steps, 2 * len(names))`: `sin(2 pi v / period), cos(2 pi v / period)`.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.data.series import calendar_features
    >>> times = np.array(["2024-01-01T06:00"], dtype="datetime64[m]")  # a Monday
    >>> calendar_features(times, ["hour", "weekday"]).round(3).tolist()
    [[1.0, 0.0, 0.0, 1.0]]
    """
    times = np.asarray(times)
    if times.dtype.kind != "M":
        raise DataError(
            "calendar features need dates or datetimes in the time column, found step numbers",
            hint="write ISO dates in data.time_column, or remove data.calendar",
        )
    unknown = [name for name in names if name not in CALENDAR]
    if unknown:
        raise DataError(f"unknown calendar feature(s) {unknown}", hint=f"use {list(CALENDAR)}")
    days = times.astype("datetime64[D]")
    seconds = (times.astype("datetime64[s]") - days).astype("int64")
    values = {
        "hour": seconds / 3600.0,
        "weekday": (days.astype("int64") + 3) % 7,  # 1970-01-01 was a Thursday
        "month": times.astype("datetime64[M]").astype("int64") % 12,
        "day_of_year": (days - times.astype("datetime64[Y]").astype("datetime64[D]")).astype(
            "int64"
        ),
    }
    columns = []
    for name in names:
        angle = 2 * np.pi * np.asarray(values[name], dtype="float64") / CALENDAR[name]
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=-1).astype("float32").reshape(len(times), 2 * len(names))
