"""Sliding windows over a numeric series for forecasting."""

import numpy as np

from keras_seq.data.errors import DataError


def make_windows(rows, lookback, horizon=1, outputs=None):
    """Cuts a series into (past window, future values) pairs, as `model.fit` wants them.

    Window i is `X[i] = rows[i : i + lookback]` (every column) and
    `y[i] = rows[i + lookback : i + lookback + horizon, :outputs]`: the next `horizon` steps of
    the first `outputs` columns (put the columns to forecast first in `value_columns`). Values
    are used as they are: no normalization is applied.

    Args:
        rows: array-like `(steps, features)` (or `(steps,)`) of numbers.
        lookback: int. Steps the model sees (the spec's `input.max_length`).
        horizon: int. Future steps to predict (`head.horizon`).
        outputs: int, optional. Leading columns to predict (`head.outputs`); default all.

    Returns:
        `(X, y)`: float32 arrays `(n, lookback, features)` and `(n, horizon, outputs)` with
        `n = steps - lookback - horizon + 1`.

    Examples:

    >>> X, y = keras_seq.data.make_windows([[0.0], [1.0], [2.0], [3.0]], lookback=2)
    >>> X[:, :, 0].tolist(), y[:, :, 0].tolist()
    ([[0.0, 1.0], [1.0, 2.0]], [[2.0], [3.0]])
    """
    series = np.asarray(rows, dtype="float32")
    if series.ndim == 1:
        series = series[:, None]
    outputs = series.shape[1] if outputs is None else outputs
    if not 1 <= outputs <= series.shape[1]:
        raise DataError(
            f"outputs={outputs} but the series has {series.shape[1]} value columns",
            hint="list at least head.outputs columns in data.value_columns",
        )
    if lookback < 1 or horizon < 1:
        raise ValueError(f"lookback and horizon must be >= 1, got {lookback} and {horizon}")
    count = len(series) - lookback - horizon + 1
    if count < 1:
        raise DataError(
            f"{len(series)} rows cannot make one window of lookback {lookback} + horizon "
            f"{horizon}",
            hint="give more rows or lower input.max_length / head.horizon",
        )
    steps = np.arange(count)[:, None]
    x = series[steps + np.arange(lookback)]
    y = series[steps + lookback + np.arange(horizon)][:, :, :outputs]
    return x, y
