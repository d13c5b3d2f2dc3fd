"""Split-conformal calibration of forecast intervals over backtest folds (conformalized
quantile regression, Romano et al. 2019), in NumPy.

Each forecast point has an interval `[lo, hi]` (the outer quantiles) and a truth `y`; its
score is `e = max(lo - y, y - hi) / s`, how far outside (positive) or inside (negative) the
interval the truth fell, in units of the series' MASE scale `s` (so series of different
sizes pool). Fold k's interval is widened (or narrowed) to `[lo - q s, hi + q s]`, `q` the
`ceil((n + 1) c) / n` empirical quantile of the `n` scores of the folds before it (`c` the
nominal coverage); the first fold has no calibration set and is not counted. When the
scores are exchangeable the calibrated interval covers at least `c` of the points.

Example:

>>> import numpy as np
>>> from keras_seq.metrics.conformal import fold_calibrated_coverage
>>> y = [np.full(2, 2.0)] * 3  # three folds, every truth 1 above the interval [0, 1]
>>> lo, hi, s = [np.zeros(2)] * 3, [np.ones(2)] * 3, [np.ones(2)] * 3
>>> fold_calibrated_coverage(y, lo, hi, s, 0.5)
{'nominal': 0.5, 'coverage': 0.0, 'calibrated_coverage': 1.0, 'folds_scored': 2}
"""

import math

import numpy as np


def scores(truth, lower, upper, scale):
    """`max(lower - truth, truth - upper) / scale`, elementwise (arrays of one shape)."""
    return np.maximum(lower - truth, truth - upper) / scale


def margin(calibration, nominal):
    """The `ceil((n + 1) nominal) / n` empirical quantile of the `n` calibration scores
    (`inf` when `n` is too small for it)."""
    values = np.sort(np.ravel(calibration))
    rank = math.ceil((len(values) + 1) * nominal)
    return float(values[rank - 1]) if rank <= len(values) else math.inf


def fold_calibrated_coverage(truths, lowers, uppers, scales, nominal):
    """Coverage of the raw and of the conformally calibrated intervals, on folds 2..K.

    Args:
        truths, lowers, uppers, scales: one array per fold, all of one shape per fold (e.g.
            `(forecasts, horizon, targets)`); `scales` the MASE scale of each point's series
            (1 where it is 0).
        nominal: float. The intervals' nominal coverage (upper quantile less lower one).

    Returns:
        `{"nominal", "coverage", "calibrated_coverage", "folds_scored"}`: coverages pooled
        over the points of folds 2..K (None with fewer than two folds).
    """
    raw, calibrated = [], []
    for k in range(1, len(truths)):
        past = np.concatenate(
            [np.ravel(scores(truths[j], lowers[j], uppers[j], scales[j])) for j in range(k)]
        )
        q = margin(past, nominal)
        y, lo, hi, s = truths[k], lowers[k], uppers[k], scales[k]
        raw.append(np.ravel((lo <= y) & (y <= hi)))
        calibrated.append(np.ravel((lo - q * s <= y) & (y <= hi + q * s)))
    if not raw:
        return {"nominal": nominal, "coverage": None, "calibrated_coverage": None}
    return {
        "nominal": nominal,
        "coverage": float(np.mean(np.concatenate(raw))),
        "calibrated_coverage": float(np.mean(np.concatenate(calibrated))),
        "folds_scored": len(raw),
    }
