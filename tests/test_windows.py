"""keras_seq.data.windows, the one place forecasting windows are cut, against NumPy loops."""

import itertools

import numpy as np
import pytest

from keras_seq.data import DataError, make_windows, window_origins, windows


def loop_origins(steps, lookback, horizon, stride=1):
    """Every origin whose window [o - lookback, o + horizon) lies in [0, steps), by brute force."""
    found, origin = [], lookback
    while origin + horizon <= steps:
        found.append(origin)
        origin += stride
    return found


@pytest.mark.parametrize(
    "steps, lookback, horizon, stride",
    [
        (10, 3, 2, 1),
        (10, 3, 2, 3),
        (5, 3, 2, 1),  # exactly one window
        (4, 3, 2, 1),  # one step short: none
        (0, 1, 1, 1),
        (7, 1, 1, 1),
        (7, 7, 0, 1),  # the past alone (what a forecast reads), a single window
        (9, 2, 0, 2),
        (6, 0, 6, 1),  # no past: the whole series is one horizon
    ],
)
def test_window_origins_against_a_loop(steps, lookback, horizon, stride):
    origins = window_origins(steps, lookback, horizon, stride)
    assert origins.dtype == np.int64
    assert origins.tolist() == loop_origins(steps, lookback, horizon, stride)


def test_windows_cut_every_slice_like_a_loop():
    rng = np.random.default_rng(0)
    array = rng.normal(size=(12, 3))
    for start, stop in [(-4, 0), (0, 3), (-2, 2), (-1, 0), (1, 4)]:
        origins = [o for o in range(len(array)) if o + start >= 0 and o + stop <= len(array)]
        got = windows(array, origins, start, stop)
        assert got.shape == (len(origins), stop - start, 3)
        for window, origin in zip(got, origins):
            np.testing.assert_array_equal(window, array[origin + start : origin + stop])


def test_windows_keep_the_dtype_and_trailing_axes():
    array = np.arange(2 * 5 * 4, dtype="int32").reshape(5, 2, 4)
    got = windows(array, np.array([1, 3]), -1, 1)
    assert got.dtype == np.int32 and got.shape == (2, 2, 2, 4)
    np.testing.assert_array_equal(got[1], array[2:4])
    assert windows(array, [], -2, 0).shape == (0, 2, 2, 4)


@pytest.mark.parametrize("origin, start, stop", [(1, -2, 0), (4, 0, 2), (0, -1, 1)])
def test_a_window_leaving_the_series_is_an_error_not_a_wrap(origin, start, stop):
    # NumPy would read index -1 as the last step: the window must refuse instead.
    with pytest.raises(ValueError, match=f"of origin {origin} leaves a series of 5 steps"):
        windows(np.arange(5.0), [2, origin], start, stop)


def test_many_series_with_covariates_never_cross_series():
    """Windows of several series of different lengths (targets, a past and a future covariate,
    as the time-series forecaster cuts them), against one brute-force loop over all steps."""
    rng = np.random.default_rng(1)
    lookback, horizon = 3, 2
    series = [rng.normal(size=(steps, 3)) for steps in (9, 5, 4, 12)]  # 4 < 3 + 2: none
    past, future, targets, where = [], [], [], []
    for index, array in enumerate(series):
        origins = window_origins(len(array), lookback, horizon)
        past.append(windows(array[:, :2], origins, -lookback, 0))
        future.append(windows(array[:, 2:], origins, 0, horizon))
        targets.append(windows(array[:, :1], origins, 0, horizon))
        where += [(index, origin) for origin in origins]
    past, future, targets = (np.concatenate(part) for part in (past, future, targets))
    expected = []
    for index, array in enumerate(series):
        for origin in range(len(array)):
            if origin - lookback >= 0 and origin + horizon <= len(array):
                expected.append((index, origin))
    assert where == expected
    assert len(where) == (9 - 4) + (5 - 4) + 0 + (12 - 4)
    for k, (index, origin) in enumerate(where):
        array = series[index]
        for step in range(lookback):
            np.testing.assert_array_equal(past[k, step], array[origin - lookback + step, :2])
        for step in range(horizon):
            np.testing.assert_array_equal(future[k, step], array[origin + step, 2:])
            assert targets[k, step, 0] == array[origin + step, 0]


@pytest.mark.parametrize("lookback, horizon", list(itertools.product([1, 2, 5], [1, 3])))
def test_make_windows_against_a_loop(lookback, horizon):
    rng = np.random.default_rng(lookback * 10 + horizon)
    inputs = rng.normal(size=(9, 2)).astype("float32")
    targets = rng.normal(size=(9, 1)).astype("float32")
    x, y = make_windows(inputs, lookback, horizon, targets)
    count = 9 - lookback - horizon + 1
    assert x.shape == (count, lookback, 2) and y.shape == (count, horizon, 1)
    assert x.dtype == y.dtype == np.float32
    for i in range(count):
        np.testing.assert_array_equal(x[i], inputs[i : i + lookback])
        np.testing.assert_array_equal(y[i], targets[i + lookback : i + lookback + horizon])


def test_make_windows_too_short_names_the_sizes():
    with pytest.raises(
        DataError, match="4 rows cannot make one window of lookback 3 \\+ horizon 2"
    ):
        make_windows(np.zeros(4), 3, 2)
    with pytest.raises(ValueError, match="lookback and horizon must be >= 1"):
        make_windows(np.zeros(4), 0, 2)
