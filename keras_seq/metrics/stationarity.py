"""The augmented Dickey-Fuller test of a unit root, in NumPy, as statsmodels' `adfuller`
computes it (constant, lags chosen by AIC): whether a series returns to its mean.

The regression, over t = p + 1 .. n - 1 with d_t = x_t - x_{t-1}:

    d_t = c + g x_{t-1} + a_1 d_{t-1} + ... + a_p d_{t-p} + e_t

The statistic is the t-ratio of g. A unit root (g = 0: the level wanders, as a random walk
does) is rejected when it falls below MacKinnon's critical value. The lag count p is the one
of least AIC among 0 .. 12 (n / 100)^(1/4), each fitted on the same rows; the chosen
regression is then fitted again on all the rows it can use. Written here so that
`keras-seq init` needs no statsmodels; `tests/test_stationarity.py` compares it with
statsmodels.

Example:

>>> import numpy as np
>>> noise = np.random.default_rng(0).normal(size=300)
>>> returns_to_mean(noise), returns_to_mean(np.cumsum(noise))
(True, False)
"""

import math

import numpy as np

#: MacKinnon (2010) response surface of the 5 % critical value, regression with a constant:
#: c0 + c1 / n + c2 / n^2 + c3 / n^3 (the coefficients statsmodels' `mackinnoncrit` uses).
CRITICAL_5 = (-2.86154, -2.8903, -4.234, -40.04)


def _regressors(x, lags):
    """`(d, X)`: the differences d_t and the rows `[x_{t-1}, d_{t-1}, .., d_{t-lags}, 1]`."""
    d = np.diff(x)
    rows = len(d) - lags
    columns = [x[lags : lags + rows]] + [d[lags - k : lags - k + rows] for k in range(1, lags + 1)]
    return d[lags:], np.column_stack(columns + [np.ones(rows)])


def _fit(y, regressors):
    """`(coefficients, residual sum of squares, covariance of the coefficients)` of OLS."""
    coefficients, *_ = np.linalg.lstsq(regressors, y, rcond=None)
    residuals = y - regressors @ coefficients
    ssr = float(residuals @ residuals)
    variance = ssr / (len(y) - regressors.shape[1])
    return coefficients, ssr, variance * np.linalg.pinv(regressors.T @ regressors)


def adf(values):
    """`(statistic, lags, critical)`: the test's t-ratio, the lags it used and the 5 %
    critical value for the rows it used.

    Args:
        values: 1-D array, the series (no NaN).

    Raises:
        ValueError: fewer than 10 values, a constant series, or one that a regression fits
            exactly (a straight line, a pure repeat), which leaves no error to test.
    """
    x = np.asarray(values, dtype="float64")
    if len(x) < 10 or np.ptp(x) == 0:
        raise ValueError("the test needs at least 10 values that are not all equal")
    most = min(math.ceil(12 * (len(x) / 100) ** 0.25), len(x) // 2 - 2)
    y, full = _regressors(x, most)
    aic = []
    for lags in range(most + 1):  # every candidate on the same rows
        chosen = np.concatenate([full[:, : lags + 1], full[:, -1:]], axis=1)
        ssr = _fit(y, chosen)[1]
        if ssr <= 1e-12 * float(y @ y):
            raise ValueError("a regression fits the series exactly: nothing left to test")
        aic.append(len(y) * math.log(ssr / len(y)) + 2 * chosen.shape[1])
    lags = int(np.argmin(aic))
    y, regressors = _regressors(x, lags)
    coefficients, _, covariance = _fit(y, regressors)
    statistic = coefficients[0] / math.sqrt(covariance[0, 0])
    n = len(y)
    critical = sum(c / n**k for k, c in enumerate(CRITICAL_5))
    return float(statistic), lags, float(critical)


def tested(values):
    """`(statistic, critical)` of `adf`, or None for a series it cannot test."""
    try:
        statistic, _, critical = adf(values)
    except ValueError:
        return None
    return statistic, critical


def returns_to_mean(values):
    """Whether the test rejects a unit root at 5 %: the series is stationary around its mean
    (False for a series it cannot test)."""
    found = tested(values)
    return found is not None and found[0] < found[1]
