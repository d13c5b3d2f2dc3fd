"""Forecast errors, baseline forecasts and rolling-origin folds, in NumPy.

Point errors compare `y_true` and `y_pred` of the same shape (any shape: e.g. `(horizon,)` for
one forecast or `(windows, horizon)`); NaN-free input is assumed. Interval and quantile errors
take the predicted quantiles on a last axis.

- `mae = mean |y - f|`, `rmse = sqrt(mean (y - f)^2)`.
- `smape = 100 * mean(2 |y - f| / (|y| + |f|))` (a term with `y = f = 0` counts 0), in percent.
- `mase = mae / mean |h[t] - h[t - m]|`: scaled by the in-sample MAE of the seasonal-naive
  forecast with season `m` on the training history `h` (`m = 1`: the naive forecast), as in
  Hyndman & Koehler (2006).
- `coverage = mean(lower <= y <= upper)`.
- `pinball = mean over quantiles q and points of max(q (y - f_q), (q - 1)(y - f_q))`.

Example:

>>> from keras_seq.metrics import forecasting as fm
>>> history = [1.0, 2.0, 3.0, 4.0]
>>> fm.naive_forecast(history, 2).tolist()
[4.0, 4.0]
>>> fm.mase([5.0, 6.0], [4.0, 4.0], history)
1.5
"""

import warnings

import numpy as np


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    return y_true, y_pred


def mae(y_true, y_pred):
    """Mean absolute error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def rmse(y_true, y_pred):
    """Root mean squared error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def smape(y_true, y_pred):
    """Symmetric mean absolute percentage error, in percent (0 to 200)."""
    y_true, y_pred = _pair(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    ratio = np.divide(
        2 * np.abs(y_true - y_pred),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(100 * np.mean(ratio))


def seasonal_scale(history, season=1):
    """In-sample MAE of the seasonal-naive forecast on `history`: the MASE denominator.

    Returns NaN (with a warning) when the history is shorter than `season + 1` steps or the
    scale is 0 (a constant, or exactly periodic, history).
    """
    scale = in_sample_scale(history, season)
    if scale is None:
        warnings.warn(
            f"MASE needs more than season={season} training steps, got {len(history)}",
            stacklevel=2,
        )
        return float("nan")
    if scale == 0:
        warnings.warn("MASE is undefined: the seasonal-naive in-sample error is 0", stacklevel=2)
        return float("nan")
    return scale


def in_sample_scale(history, season):
    """The seasonal-naive in-sample MAE, None when `history` has `season` steps or fewer."""
    history = np.asarray(history, dtype="float64")
    if season < 1:
        raise ValueError(f"season must be >= 1, got {season}")
    if len(history) <= season:
        return None
    return float(np.mean(np.abs(history[season:] - history[:-season])))


def mase(y_true, y_pred, history, season=1):
    """Mean absolute scaled error: `mae(y_true, y_pred) / seasonal_scale(history, season)`."""
    return mae(y_true, y_pred) / seasonal_scale(history, season)


def pooled_mase(truths, predictions, histories, season=1, names=None):
    """MASE averaged over forecasts, leaving out those whose scale is 0 or undefined.

    `mean over forecasts i with scale_i > 0 of mae(truths[i], predictions[i]) / scale_i`,
    `scale_i = seasonal_scale(histories[i], season)`: one series whose history is constant
    (or repeats exactly) would otherwise make the pooled figure NaN.

    Args:
        truths, predictions: sequences of arrays `(horizon,)`, one pair per forecast.
        histories: sequence of arrays `(steps,)`, the history before each forecast.
        season: int. The MASE scale's season.
        names: sequence of str, optional. A name per forecast (its series).

    Returns:
        `(mase, skipped)`: the mean (NaN when every forecast is left out) and the sorted
        names of the forecasts left out (their indices without `names`).

    Example:

    >>> from keras_seq.metrics.forecasting import pooled_mase
    >>> pooled_mase([[3.0], [5.0]], [[2.0], [5.0]], [[0.0, 1.0], [5.0, 5.0]], 1, ["a", "b"])
    (1.0, ['b'])
    """
    names = list(range(len(truths))) if names is None else list(names)
    scaled, skipped = [], set()
    for truth, prediction, history, name in zip(truths, predictions, histories, names):
        scale = in_sample_scale(history, season)
        if scale:
            scaled.append(mae(truth, prediction) / scale)
        else:
            skipped.add(name)
    return (float(np.mean(scaled)) if scaled else float("nan")), sorted(skipped)


def coverage(y_true, lower, upper):
    """Share of `y_true` within `[lower, upper]` (0 to 1)."""
    y_true = np.asarray(y_true, dtype="float64")
    return float(np.mean((np.asarray(lower) <= y_true) & (y_true <= np.asarray(upper))))


def pinball(y_true, quantile_preds, quantiles):
    """Mean pinball (quantile) loss; `quantile_preds` has `y_true`'s shape plus a last axis
    with one forecast per entry of `quantiles`."""
    y_true = np.asarray(y_true, dtype="float64")[..., None]
    preds = np.asarray(quantile_preds, dtype="float64")
    q = np.asarray(quantiles, dtype="float64")
    if preds.shape != y_true.shape[:-1] + q.shape:
        raise ValueError(f"quantile_preds has shape {preds.shape}, expected y_true + ({len(q)},)")
    error = y_true - preds
    return float(np.mean(np.maximum(q * error, (q - 1) * error)))


def naive_forecast(history, horizon):
    """The last value of `history`, repeated `horizon` times."""
    return seasonal_naive_forecast(history, horizon, 1)


def seasonal_naive_forecast(history, horizon, season):
    """`f[h] = history[n - season + (h mod season)]`: the last season, repeated.

    Falls back to the naive forecast (with a warning) when the history is shorter than
    `season`.
    """
    history = np.asarray(history, dtype="float64")
    if len(history) < season:
        warnings.warn(
            f"seasonal-naive needs season={season} steps of history, got {len(history)}: "
            "naive forecast used",
            stacklevel=2,
        )
        season = 1
    return history[len(history) - season + np.arange(horizon) % season]


BASELINES = {
    "naive": lambda history, horizon, season: naive_forecast(history, horizon),
    "seasonal_naive": seasonal_naive_forecast,
}
"""The baselines every forecast is scored beside: `name -> f(history, horizon, season)`."""


def rolling_origins(length, folds, horizon, *, step=None, min_train=1):
    """Forecast origins for a rolling-origin backtest ending at the series' end.

    Fold k trains on steps `[0, origin_k)` and forecasts `[origin_k, origin_k + horizon)`; the
    last fold's horizon ends with the series, earlier origins are `step` (default `horizon`)
    steps apart, so with the default the test windows tile the end of the series.

    Args:
        length: int. Steps in the series.
        folds: int. Number of origins (>= 1).
        horizon: int. Steps forecast from each origin.
        step: int, optional. Steps between consecutive origins.
        min_train: int. Fewest training steps the first fold may have.

    Returns:
        list of int, increasing.

    Examples:

    >>> from keras_seq.metrics.forecasting import rolling_origins
    >>> rolling_origins(20, folds=3, horizon=4)
    [8, 12, 16]
    """
    step = horizon if step is None else step
    if folds < 1 or horizon < 1 or step < 1:
        raise ValueError(f"folds, horizon and step must be >= 1, got {folds}, {horizon}, {step}")
    origins = [length - horizon - step * (folds - 1 - k) for k in range(folds)]
    if origins[0] < min_train:
        raise ValueError(
            f"{folds} folds of horizon {horizon} (step {step}) leave {origins[0]} training "
            f"steps in the first fold, fewer than {min_train}: use fewer folds or a longer series"
        )
    return origins
