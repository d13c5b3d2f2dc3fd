"""Conformal calibration of forecast intervals over backtest folds (conformalized quantile
regression, Romano et al. 2019), in NumPy.

Each forecast point has an interval `[lo, hi]` (the outer quantiles) and a truth `y`; its
score is `e = max(lo - y, y - hi) / s`, how far outside (positive) or inside (negative) the
interval the truth fell, in units of the series' MASE scale `s` (so series of different
sizes pool). An interval calibrated by a set of `n` scores is `[lo - q s, hi + q s]`, `q`
their `ceil((n + 1) c) / n` empirical quantile (`c` the nominal coverage). When the scores are
exchangeable it covers at least `c` of the points.

Two ways to pick each fold's calibration set, both reported:

- leave one fold out (cross-conformal, Vovk 2015; CV+, Barber et al. 2021): fold k is
  calibrated on the scores of every other fold, so all K folds are scored. It estimates the
  coverage of what a user deploys, the margin of all K folds (`margin`) added to the next
  forecast's interval;
- the folds before (`past_calibrated_coverage`): fold k on folds 1..k-1 only, as if the
  backtest ran in real time; folds 2..K scored. Fold 2 then rests on one fold's forecasts,
  whose points move together (one forecast path), so with few folds it follows whichever
  fold came first.

Example:

>>> import numpy as np
>>> from keras_seq.metrics.conformal import fold_calibrated_coverage
>>> y = [np.full(2, 2.0)] * 3  # three folds, every truth 1 above the interval [0, 1]
>>> lo, hi, s = [np.zeros(2)] * 3, [np.ones(2)] * 3, [np.ones(2)] * 3
>>> result = fold_calibrated_coverage(y, lo, hi, s, 0.5)
>>> result["coverage"], result["calibrated_coverage"], result["margin"]
(0.0, 1.0, 1.0)
"""

import math

import numpy as np

from keras_seq.metrics.forecasting import in_sample_scale


def scores(truth, lower, upper, scale):
    """`max(lower - truth, truth - upper) / scale`, elementwise (arrays of one shape)."""
    return np.maximum(lower - truth, truth - upper) / scale


def interval_scales(history, season):
    """Each column's scale `s` on `history` (steps, columns): the seasonal-naive in-sample
    MAE (the MASE scale), 1 where it is 0 or undefined (a constant or too short history)."""
    return np.array(
        [in_sample_scale(history[:, c], season) or 1.0 for c in range(history.shape[1])]
    )


def calibrated(quantiles, scale, margin):
    """`quantiles` (..., Q, ascending on the last axis) with the outer two moved out by
    `margin x scale` (in, for a negative margin): `[lo - q s, hi + q s]`. Moved in, neither
    passes the quantiles between them (or, with two, their midpoint), so none cross.

    >>> import numpy as np
    >>> calibrated(np.array([[1.0, 2.0, 3.0]]), np.array([0.5]), 2.0).tolist()
    [[0.0, 2.0, 4.0]]
    >>> calibrated(np.array([[1.0, 2.0, 3.0]]), np.array([0.5]), -4.0).tolist()
    [[2.0, 2.0, 2.0]]
    """
    quantiles = np.array(quantiles, dtype="float64")
    lowest, highest = quantiles[..., 0], quantiles[..., -1]
    inner = quantiles[..., 1:-1] if quantiles.shape[-1] > 2 else (lowest + highest)[..., None] / 2
    quantiles[..., 0] = np.minimum(lowest - margin * scale, inner.min(axis=-1))
    quantiles[..., -1] = np.maximum(highest + margin * scale, inner.max(axis=-1))
    return quantiles


def nominal_coverage(quantiles):
    """The nominal coverage of the interval between the outer `quantiles` (ascending).

    >>> from keras_seq.metrics.conformal import nominal_coverage
    >>> nominal_coverage([0.1, 0.5, 0.9])
    0.8
    """
    return round(quantiles[-1] - quantiles[0], 6)


def margin(calibration, nominal):
    """The `ceil((n + 1) nominal) / n` empirical quantile of the `n` calibration scores
    (`inf` when `n` is too small for it)."""
    values = np.sort(np.ravel(calibration))
    rank = math.ceil((len(values) + 1) * nominal)
    return float(values[rank - 1]) if rank <= len(values) else math.inf


def fold_calibrated_coverage(truths, lowers, uppers, scales, nominal):
    """Coverage of the raw and of the conformally calibrated intervals over the folds.

    Args:
        truths, lowers, uppers, scales: one array per fold, all of one shape per fold (e.g.
            `(forecasts, horizon, targets)`); `scales` the MASE scale of each point's series
            (1 where it is 0).
        nominal: float. The intervals' nominal coverage (upper quantile less lower one).

    Returns:
        `{"nominal", "coverage", "calibrated_coverage", "margin", "folds_scored",
        "past_calibrated_coverage", "past_folds_scored"}`: the raw and the leave-one-fold-out
        calibrated coverage over the points of all folds, the margin of all folds' scores
        (in units of each series' scale), and the coverage calibrated on the folds before
        (folds 2..K). Coverages are None with fewer than two folds.
    """
    fold_scores = [
        np.ravel(scores(*fold)) for fold in zip(truths, lowers, uppers, scales, strict=True)
    ]
    result = {
        "nominal": nominal,
        "coverage": float(np.mean(np.concatenate(fold_scores) <= 0)),
        "calibrated_coverage": None,
        "margin": margin(np.concatenate(fold_scores), nominal),
        "folds_scored": 0,
        "past_calibrated_coverage": None,
        "past_folds_scored": 0,
    }
    if len(fold_scores) < 2:
        return result
    others = [np.concatenate(fold_scores[:k] + fold_scores[k + 1 :]) for k in range(len(truths))]
    result["calibrated_coverage"] = _covered(fold_scores, others, nominal)
    result["folds_scored"] = len(fold_scores)
    earlier = [np.concatenate(fold_scores[:k]) for k in range(1, len(truths))]
    result["past_calibrated_coverage"] = _covered(fold_scores[1:], earlier, nominal)
    result["past_folds_scored"] = len(earlier)
    return result


def _covered(fold_scores, calibrations, nominal):
    """The share of the folds' points inside their calibrated interval: a point is inside
    `[lo - q s, hi + q s]` exactly when its score is at most `q`, its fold's margin."""
    inside = [
        fold <= margin(calibration, nominal)
        for fold, calibration in zip(fold_scores, calibrations, strict=True)
    ]
    return float(np.mean(np.concatenate(inside)))
