"""How much of a forecaster's correction over its anchor to keep (`head.shrink: validation`).

A forecaster with `head.anchor` forecasts `base + c`: the anchor `base` (seasonal naive, or the
last value) plus the network's correction `c`. Shrinking keeps a share `a` of it,
`f(a) = base + a c`, with `a` chosen on validation windows (never on the data it is scored
on) as the grid value of least MASE:

    mase(a) = mean over windows i and target columns j with s_ij > 0 of
              mean_h |y_ihj - base_ihj - a c_ihj| / s_ij

`s_ij` the seasonal-naive in-sample error of window i's series before the validation part.
`a = 0` is the anchor alone, `a = 1` the network as trained; a tie goes to the smaller `a`
(the simpler forecast).
"""

import numpy as np

GRID = tuple(round(0.1 * k, 1) for k in range(11))


def weight_errors(truth, base, correction, scale, grid=GRID):
    """`mase(a)` for each `a` in `grid`, as a float array `(len(grid),)`.

    Args:
        truth, base, correction: arrays `(windows, horizon, targets)`.
        scale: array `(windows, targets)`: each window's MASE scale; windows (and columns)
            whose scale is 0, NaN or None are left out.
        grid: the shares tried.

    >>> truth, base = np.array([[[2.0], [4.0]]]), np.zeros((1, 2, 1))
    >>> weight_errors(truth, base, 2 * truth, np.ones((1, 1)), grid=(0.0, 0.5, 1.0)).tolist()
    [3.0, 0.0, 3.0]
    """
    truth, base, correction = (np.asarray(a, dtype="float64") for a in (truth, base, correction))
    scale = np.asarray(scale, dtype="float64")
    kept = np.isfinite(scale) & (scale > 0)
    errors = []
    for share in grid:
        mae = np.mean(np.abs(truth - base - share * correction), axis=1)  # (windows, targets)
        errors.append(np.mean(mae[kept] / scale[kept]) if kept.any() else np.nan)
    return np.asarray(errors)


def chosen_weight(truth, base, correction, scale, grid=GRID):
    """`(a, errors)`: the grid's share of least validation MASE (the smallest on a tie; 1.0
    when no window has a scale) and `weight_errors`.

    >>> truth = np.array([[[1.0], [1.0]]])
    >>> chosen_weight(truth, np.zeros_like(truth), 5 * truth, np.ones((1, 1)))[0]
    0.2
    """
    errors = weight_errors(truth, base, correction, scale, grid)
    if np.isnan(errors).all():
        return 1.0, errors
    return float(grid[int(np.nanargmin(errors))]), errors
