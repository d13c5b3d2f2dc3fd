"""statsmodels' Holt-Winters from many origins: the reference for keras-seq's recursion."""

import numpy as np


def forecasts_from_each_origin(values, season, origins, horizon):
    """Forecasts `(len(origins), horizon)`: statsmodels' Holt-Winters (additive trend and
    season) fitted to all of `values`, then, for each origin `o`, refitted on `values[:o]`
    with those weights and initial states held fixed (nothing optimized) and forecast."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    def model(history, **known):
        return ExponentialSmoothing(
            history, trend="add", seasonal="add", seasonal_periods=season, **known
        )

    params = model(values).fit().params
    found = []
    for origin in origins:
        again = model(
            values[:origin],
            initialization_method="known",
            initial_level=params["initial_level"],
            initial_trend=params["initial_trend"],
            initial_seasonal=params["initial_seasons"],
        ).fit(
            smoothing_level=params["smoothing_level"],
            smoothing_trend=params["smoothing_trend"],
            smoothing_seasonal=params["smoothing_seasonal"],
            optimized=False,
        )
        found.append(again.forecast(horizon))
    return np.asarray(found)
