"""Classical forecasts a statistician tries first, as backtest anchors (`keras-seq backtest`).

Holt-Winters (additive trend and season) through statsmodels' `ExponentialSmoothing`, the
optional `forecast` extra (`pip install 'keras-seq[forecast]'`): with `season > 1` and two
full seasons of history the seasonal component is fitted, otherwise Holt's linear trend
(and, on fewer than 4 steps, the last value). Parameters are fitted by statsmodels' maximum
likelihood on the history alone; `holt_winters_paths` runs the recursion with them, so one
fit forecasts from every origin (`head.anchor: holt_winters` uses it).

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
    history = np.asarray(history, dtype="float64")
    fitted = holt_winters_fit(history, season)
    return holt_winters_paths(history, fitted, [len(history)], horizon)[0]


def holt_winters_fit(history, season):
    """The smoothing weights and initial states statsmodels fits to `history` `(steps,)`.

    Returns a dict of floats `alpha`, `beta`, `gamma` (level, trend and season weights),
    `level` and `trend` (the states before the first step) and the list `seasons` (the `m`
    seasonal states before it; `[0.0]` without a season). Fewer than 4 steps: the last value
    (`alpha` 1, no trend).
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    history = np.asarray(history, dtype="float64")
    if len(history) < 4:
        return dict(
            alpha=1.0, beta=0.0, gamma=0.0, level=float(history[0]), trend=0.0, seasons=[0.0]
        )
    seasonal = season > 1 and len(history) >= 2 * season
    with warnings.catch_warnings():  # convergence notes on short or flat series
        warnings.simplefilter("ignore")
        params = (
            ExponentialSmoothing(
                history,
                trend="add",
                seasonal="add" if seasonal else None,
                seasonal_periods=season if seasonal else None,
            )
            .fit()
            .params
        )
    return {
        "alpha": float(params["smoothing_level"]),
        "beta": float(params["smoothing_trend"]),
        "gamma": float(params["smoothing_seasonal"]) if seasonal else 0.0,
        "level": float(params["initial_level"]),
        "trend": float(params["initial_trend"]),
        "seasons": [float(v) for v in params["initial_seasons"]] if seasonal else [0.0],
    }


def holt_winters_paths(values, fitted, origins, horizon):
    """Holt-Winters forecasts `(n, horizon)` from each of `origins` (step indices into
    `values` `(steps,)`: the forecast of `values[o:o + horizon]` reads `values[:o]` only),
    with the weights and initial states `fitted` (`holt_winters_fit`).

    The additive recursion, `m = len(seasons)`, run once over the values:
    `l[t] = alpha (y[t] - s[t-m]) + (1 - alpha)(l[t-1] + b[t-1])`,
    `b[t] = beta (l[t] - l[t-1]) + (1 - beta) b[t-1]`,
    `s[t] = gamma (y[t] - l[t-1] - b[t-1]) + (1 - gamma) s[t-m]`;
    from origin `o`, step `h` (1-based) is `l[o-1] + h b[o-1] + s[o-m+(h-1) mod m]`: the
    newest state of that season, as in Hyndman & Athanasopoulos (FPP3, 8.3). statsmodels'
    `forecast` takes, at `h = m, 2m, ...`, the one of a cycle earlier; with `gamma` 0 (what
    it fits to most real series) the two agree.
    """
    alpha, beta, gamma = fitted["alpha"], fitted["beta"], fitted["gamma"]
    seasons, m = list(fitted["seasons"]), len(fitted["seasons"])
    level, trend = fitted["level"], fitted["trend"]
    states = [(level, trend, list(seasons))]  # states[t]: after the first t values
    for y in np.asarray(values, dtype="float64")[: max(origins, default=0)]:
        season = seasons[-m]
        new_level = alpha * (y - season) + (1 - alpha) * (level + trend)
        seasons.append(gamma * (y - level - trend) + (1 - gamma) * season)
        trend = beta * (new_level - level) + (1 - beta) * trend
        level = new_level
        states.append((level, trend, seasons[-m:]))
    steps = np.arange(1, horizon + 1)
    paths = []
    for origin in origins:
        level, trend, last = states[origin]
        paths.append(level + steps * trend + np.asarray(last)[(steps - 1) % m])
    return np.asarray(paths).reshape(len(paths), horizon)
