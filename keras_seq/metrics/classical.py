"""Classical forecasts a statistician tries first, as backtest anchors (`keras-seq backtest`).

Holt-Winters (additive trend and season) through statsmodels' `ExponentialSmoothing`, the
optional `forecast` extra (`pip install 'keras-seq[forecast]'`): with `season > 1` and two
full seasons of history the seasonal component is fitted, otherwise Holt's linear trend
(and, on fewer than 4 steps, the last value). Parameters are fitted by statsmodels' maximum
likelihood on the history alone.

Example:

>>> import numpy as np
>>> from keras_seq.metrics.classical import holt_winters_forecast
>>> history = 10 + np.arange(24.0) + np.tile([1.0, -1.0, 0.0, 0.0], 6)
>>> holt_winters_forecast(history, 4, 4).round(2).tolist()
[35.0, 34.0, 36.0, 37.0]
"""

import importlib.util
import warnings

import numpy as np

EXTRA = "pip install 'keras-seq[forecast]' (statsmodels) for the Holt-Winters row"


def available():
    """Whether statsmodels (the `forecast` extra) is installed."""
    return importlib.util.find_spec("statsmodels") is not None


def holt_winters_forecast(history, horizon, season):
    """The next `horizon` values `(horizon,)` of `history` `(steps,)` by Holt-Winters.

    Args:
        history: the values before the origin (no NaN).
        horizon: int. Steps forecast.
        season: int. Steps per season; 1 or fewer than `2 * season` steps of history give
            Holt's linear trend without a season.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    history = np.asarray(history, dtype="float64")
    if len(history) < 4:
        return np.full(horizon, history[-1])
    seasonal = season > 1 and len(history) >= 2 * season
    with warnings.catch_warnings():  # convergence notes on short or flat series
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(
            history,
            trend="add",
            seasonal="add" if seasonal else None,
            seasonal_periods=season if seasonal else None,
        ).fit()
        return np.asarray(model.forecast(horizon), dtype="float64")
