"""Sliding windows over a numeric series for forecasting."""

import numpy as np

from keras_seq.data.errors import DataError


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
    count = len(inputs) - lookback - horizon + 1
    if count < 1:
        raise DataError(
            f"{len(inputs)} rows cannot make one window of lookback {lookback} + horizon {horizon}",
            hint="give more rows or lower data.lookback (input.max_length) / head.horizon",
        )
    steps = np.arange(count)[:, None]
    return inputs[steps + np.arange(lookback)], targets[steps + lookback + np.arange(horizon)]


def _columns(rows):
    array = np.asarray(rows, dtype="float32")
    return array[:, None] if array.ndim == 1 else array
