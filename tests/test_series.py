"""Tests for keras_seq.data.series: reading many series, time checks, fills, scaling, calendar."""

import json

import numpy as np
import pytest

from keras_seq.data import DataError
from keras_seq.data.series import (
    Scaler,
    calendar_features,
    check_length,
    infer_frequency,
    parse_frequency,
    read_series_table,
)

TWO_SERIES = """id,date,load,temp
a,2024-01-01,1,10
b,2024-01-01,100,20
a,2024-01-02,2,11
b,2024-01-02,200,21
a,2024-01-03,3,12
b,2024-01-03,300,22
"""


def write(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(path, **options):
    options.setdefault("time_column", "date")
    columns = options.pop("columns", ["load"])
    return read_series_table(path, "csv", columns, **options)


def error_of(path, **options):
    with pytest.raises(DataError) as info:
        read(path, **options)
    return info.value


def test_reads_interleaved_series_apart(tmp_path):
    path = write(tmp_path, TWO_SERIES)
    a, b = read(path, series_id_column="id", columns=["load", "temp"])
    assert (a.id, b.id) == ("a", "b")
    assert a.values.tolist() == [[1, 10], [2, 11], [3, 12]]
    assert b.values[:, 0].tolist() == [100, 200, 300]
    assert a.lines.tolist() == [2, 4, 6] and b.lines.tolist() == [3, 5, 7]
    assert str(a.frequency) == "1D"
    assert [str(t)[:10] for t in a.times] == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_jsonl_with_integer_steps(tmp_path):
    rows = [{"t": t, "y": float(t * t)} for t in (0, 2, 4, 6)]
    path = write(tmp_path, "\n".join(json.dumps(r) for r in rows), "s.jsonl")
    (series,) = read_series_table(path, "jsonl", ["y"], time_column="t")
    assert str(series.frequency) == "2step"
    assert series.times.tolist() == [0, 2, 4, 6]
    assert series.values[:, 0].tolist() == [0, 4, 16, 36]


@pytest.mark.parametrize(
    "second, words",
    [("2024-01-01", ["duplicated", "2024-01-01"]), ("2023-12-31", ["out-of-order"])],
)
def test_unsorted_or_duplicated_time_names_file_line_series(tmp_path, second, words):
    path = write(tmp_path, f"id,date,load\nx,2024-01-01,1\nx,{second},2\nx,2024-01-05,3\n")
    error = error_of(path, series_id_column="id")
    assert error.path == str(path) and error.line == 3
    assert "series 'x'" in str(error) and "sort each series" in error.hint
    for word in words:
        assert word in str(error)


def test_missing_timestamps_reported_at_the_row_after_the_gap(tmp_path):
    path = write(tmp_path, "date,load\n2024-01-01,1\n2024-01-02,2\n2024-01-05,5\n2024-01-06,6\n")
    error = error_of(path)
    assert error.line == 4
    assert "missing timestamps (2 step(s) of 1D from 2024-01-03" in str(error)
    assert "data.fill" in error.hint


def test_empty_value_reported_by_line_and_column(tmp_path):
    path = write(tmp_path, "date,load,temp\n2024-01-01,1,5\n2024-01-02,,6\n2024-01-03,3,7\n")
    error = error_of(path, columns=["load", "temp"])
    assert (error.line, error.field) == (3, "load")
    assert "empty value" in str(error)


def test_fill_policies_against_hand_values(tmp_path):
    text = "date,load\n2024-01-01,1\n2024-01-02,NaN\n2024-01-04,7\n2024-01-05,8\n"
    path = write(tmp_path, text)
    (ffill,) = read(path, fill="ffill")
    (linear,) = read(path, fill="interpolate")
    assert ffill.values[:, 0].tolist() == [1, 1, 1, 7, 8]
    assert linear.values[:, 0].tolist() == [1, 3, 5, 7, 8]
    assert ffill.lines.tolist() == [2, 3, 0, 4, 5]  # 0: the inserted 2024-01-03


def test_non_numeric_value_is_an_error_whatever_the_fill(tmp_path):
    path = write(tmp_path, "date,load\n2024-01-01,1\n2024-01-02,abc\n")
    error = error_of(path, fill="interpolate")
    assert (error.line, error.field) == (3, "load") and "non-numeric" in str(error)


def test_bad_time_and_time_zone_are_errors(tmp_path):
    error = error_of(write(tmp_path, "date,load\n2024-01-01,1\n2024-13-01,2\n"))
    assert error.line == 3 and "cannot read the time" in str(error)
    error = error_of(write(tmp_path, "date,load\n2024-01-01T10:00+02:00,1\n"))
    assert "time zones" in str(error)


def test_off_grid_time_with_a_given_frequency(tmp_path):
    path = write(tmp_path, "date,load\n2024-01-01,1\n2024-01-08,2\n2024-01-16,3\n")
    error = error_of(path, frequency="7D")
    assert error.line == 4 and "off the 7D grid" in str(error)


def test_leading_empty_value_cannot_be_filled(tmp_path):
    error = error_of(write(tmp_path, "date,load\n2024-01-01,\n2024-01-02,2\n"), fill="ffill")
    assert error.line == 2 and "drop the leading rows" in error.hint


def test_future_rows_after_the_targets_stay_unfilled(tmp_path):
    text = "date,load,temp\n2024-01-01,1,5\n2024-01-02,,6\n2024-01-03,3,7\n2024-01-04,,8\n"
    (series,) = read(
        write(tmp_path, text),
        columns=["load", "temp"],
        fill="interpolate",
        future_columns=["temp"],
        targets=["load"],
    )
    assert series.values[:3, 0].tolist() == [1, 2, 3]  # inside the history: filled
    assert np.isnan(series.values[3, 0]) and series.values[3, 1] == 8


def test_monthly_frequency_and_month_ends():
    times = np.array(["2020-01-31", "2020-02-29", "2020-03-31"], dtype="datetime64[s]")
    frequency = infer_frequency(times)
    assert str(frequency) == "1M"
    later = frequency.range(times[0], 2, first=3)
    assert [str(t)[:10] for t in later] == ["2020-04-30", "2020-05-31"]
    assert [str(t) for t in parse_frequency("M").range(np.datetime64("2020-01-15"), 2)] == [
        "2020-01-15",
        "2020-02-15",
    ]


def test_parse_frequency_rejects_unknown_units():
    assert str(parse_frequency("15m")) == "15m"
    with pytest.raises(DataError, match="unknown frequency"):
        parse_frequency("3 fortnights")


def test_series_shorter_than_lookback_plus_horizon(tmp_path):
    path = write(tmp_path, TWO_SERIES)
    a, _ = read(path, series_id_column="id")
    with pytest.raises(DataError) as info:
        check_length(a, lookback=2, horizon=2)
    assert info.value.line == 2 and "series 'a' has 3 steps" in str(info.value)


@pytest.mark.parametrize("method", ["standard", "minmax", "none"])
def test_scaler_per_series_and_column_against_numpy(method):
    rng = np.random.default_rng(0)
    train = {"a": rng.normal(5, 2, (20, 2)), "b": rng.normal(-3, 9, (30, 2))}
    scaler = Scaler(method).fit(train)
    for key, array in train.items():
        scaled = scaler.transform(key, array)
        if method == "standard":
            np.testing.assert_allclose(scaled.mean(0), 0, atol=1e-12)
            np.testing.assert_allclose(scaled.std(0), 1)
        elif method == "minmax":
            np.testing.assert_allclose(scaled.min(0), 0, atol=1e-12)
            np.testing.assert_allclose(scaled.max(0), 1)
        else:
            np.testing.assert_array_equal(scaled, array)
        np.testing.assert_allclose(scaler.inverse(key, scaled), array)
        np.testing.assert_allclose(scaler.inverse(key, scaled[:, 1:], columns=[1]), array[:, 1:])


def test_scaler_log_state_round_trip_and_unknown_series(caplog):
    train = {"a": np.array([[1.0, -1.0], [np.e**2, 1.0]])}
    scaler = Scaler("minmax", log=[0]).fit(train)
    np.testing.assert_allclose(scaler.transform("a", train["a"])[:, 0], [0.0, 1.0])
    again = Scaler.from_state(json.loads(json.dumps(scaler.get_state())))
    new = np.array([[np.e, 0.0]])
    np.testing.assert_allclose(again.transform("a", new), scaler.transform("a", new))
    np.testing.assert_allclose(again.inverse("a", again.transform("a", new)), new)
    again.transform("zzz", new)  # pooled statistics, with a warning
    assert "not in the training data" in caplog.text
    with pytest.raises(DataError, match="not positive"):
        Scaler("standard", log=[1]).fit(train)


def test_constant_column_scales_by_one():
    scaler = Scaler("standard").fit({"a": np.full((4, 1), 7.0)})
    assert scaler.transform("a", np.array([[8.0]])).tolist() == [[1.0]]


def test_calendar_features_against_hand_values():
    times = np.array(["2024-03-01T18:00", "2023-12-31T00:00"], dtype="datetime64[m]")
    features = calendar_features(times, ["hour", "weekday", "month", "day_of_year"])
    # 2024-03-01 is a Friday (weekday 4), month index 2, day of year 31 + 29 = 60.
    angles = (
        2
        * np.pi
        * np.array([[18 / 24, 4 / 7, 2 / 12, 60 / 365.25], [0, 6 / 7, 11 / 12, 364 / 365.25]])
    )
    expected = np.stack([np.sin(angles), np.cos(angles)], -1).reshape(2, 8)
    np.testing.assert_allclose(features, expected, atol=1e-6)
    with pytest.raises(DataError, match="need dates"):
        calendar_features(np.arange(3), ["hour"])
