"""Sliding windows over numeric series for forecasting: the one place windows are cut.

A window sits around a forecast origin `o`, the index of the first future step: the model
sees the `lookback` steps `o - lookback .. o - 1` and predicts the `horizon` steps
`o .. o + horizon - 1`. `window_origins` lists the origins whose window fits in a series,
`windows` cuts any array of the series at them (past inputs, future covariates, targets), and
`make_windows` pairs the two for a plain array, as `model.fit` wants them. A window never
crosses series: each series is cut on its own.
"""

import numpy as np

from keras_seq.data.errors import DataError


def window_origins(steps, lookback, horizon, stride=1):
    """The forecast origins of a series of `steps` steps whose whole window fits in it.

    `lookback <= o <= steps - horizon`, every `stride` steps from the first.

    Args:
        steps: int. Steps in the series.
        lookback: int. Past steps before each origin.
        horizon: int. Future steps from each origin (0: the window is the past alone).
        stride: int. Steps between two origins.

    Returns:
        int64 array `(n,)`, empty when the series is too short for one window.

    Examples:

    >>> from keras_seq.data import window_origins
    >>> window_origins(6, lookback=2, horizon=2).tolist()
    [2, 3, 4]
    >>> window_origins(6, lookback=2, horizon=2, stride=2).tolist()
    [2, 4]
    """
    return np.arange(lookback, steps - horizon + 1, stride, dtype="int64")


def windows(array, origins, start, stop):
    """`array[o + start : o + stop]` for every origin `o`, stacked.

    With `(start, stop) = (-lookback, 0)` these are the past windows, with `(0, horizon)` the
    future ones. Fancy indexing cuts them all at once (a copy, never a view).

    Args:
        array: array-like `(steps, ...)`. One series (its values, covariates or targets).
        origins: int array-like `(n,)`. Forecast origins, e.g. from `window_origins`.
        start, stop: int. The window's first step and the step after its last, relative to
            the origin.

    Returns:
        array `(n, stop - start, ...)` of `array`'s dtype.

    Raises:
        ValueError: a window reaches before the first step or past the last.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.data import windows
    >>> windows(np.arange(6), [2, 4], -2, 1).tolist()
    [[0, 1, 2], [2, 3, 4]]
    """
    array = np.asarray(array)
    origins = np.asarray(origins, dtype="int64")
    steps = origins[:, None] + np.arange(start, stop)
    outside = ((steps < 0) | (steps >= len(array))).any(axis=1)
    if outside.any():
        origin = int(origins[np.argmax(outside)])
        raise ValueError(
            f"the window [{origin + start}, {origin + stop}) of origin {origin} leaves a "
            f"series of {len(array)} steps"
        )
    return array[steps]


def make_windows(inputs, lookback, horizon=1, targets=None):
    """Cuts a series into (past window, future values) pairs, as `model.fit` wants them.

    Window i is `X[i] = inputs[i : i + lookback]` and
    `y[i] = targets[i + lookback : i + lookback + horizon]`: the `horizon` steps that follow
    the window. Values are used as they are: no normalization is applied.

    Args:
        inputs: array-like `(steps, features)` (or `(steps,)`) of numbers the model sees.
        lookback: int. Steps in each window (`data.lookback`, default `input.max_length`).
        horizon: int. Future steps to predict (`head.horizon`).
        targets: array-like `(steps, outputs)` (or `(steps,)`), optional. The values to
            predict, row-aligned with `inputs` (`data.target_columns`); default `inputs`.

    Returns:
        `(X, y)`: float32 arrays `(n, lookback, features)` and `(n, horizon, outputs)` with
        `n = steps - lookback - horizon + 1`.

    Examples:

    >>> import keras_seq
    >>> X, y = keras_seq.data.make_windows([0.0, 1.0, 2.0, 3.0], lookback=2)
    >>> X[:, :, 0].tolist(), y[:, :, 0].tolist()
    ([[0.0, 1.0], [1.0, 2.0]], [[2.0], [3.0]])
    """
    inputs = _columns(inputs)
    targets = inputs if targets is None else _columns(targets)
    if len(targets) != len(inputs):
        raise ValueError(f"{len(inputs)} input rows but {len(targets)} target rows")
    if lookback < 1 or horizon < 1:
        raise ValueError(f"lookback and horizon must be >= 1, got {lookback} and {horizon}")
    origins = window_origins(len(inputs), lookback, horizon)
    if not len(origins):
        raise DataError(
            f"{len(inputs)} rows cannot make one window of lookback {lookback} + horizon {horizon}",
            hint="give more rows or lower data.lookback (input.max_length) / head.horizon",
        )
    return windows(inputs, origins, -lookback, 0), windows(targets, origins, 0, horizon)


def _columns(rows):
    array = np.asarray(rows, dtype="float32")
    return array[:, None] if array.ndim == 1 else array
