"""Tests for keras_seq.metrics.forecasting against hand-computed values and statsmodels."""

import numpy as np
import pytest

from keras_seq.metrics import forecasting as fm

Y = np.array([3.0, -1.0, 4.0, 0.0])
F = np.array([2.0, 1.0, 4.0, 0.0])


def test_point_errors_against_hand_values():
    assert fm.mae(Y, F) == pytest.approx((1 + 2 + 0 + 0) / 4)
    assert fm.rmse(Y, F) == pytest.approx(np.sqrt((1 + 4) / 4))
    # sMAPE terms: 2*1/5, 2*2/2, 0 (equal), 0 (both zero) -> mean 0.6 -> 60 %.
    assert fm.smape(Y, F) == pytest.approx(60.0)
    with pytest.raises(ValueError, match="shape"):
        fm.mae(Y, F[:3])


def test_mase_scales_by_in_sample_seasonal_naive_error():
    history = [1.0, 5.0, 2.0, 6.0, 3.0, 8.0]
    # season 1: |4| + |3| + |4| + |3| + |5| over 5 = 3.8; season 2: |1|,|1|,|1|,|2| -> 1.25
    assert fm.seasonal_scale(history, 1) == pytest.approx(3.8)
    assert fm.seasonal_scale(history, 2) == pytest.approx(1.25)
    assert fm.mase([4.0, 9.0], [3.0, 8.0], history, season=2) == pytest.approx(1 / 1.25)
    with pytest.warns(UserWarning, match="undefined"):
        assert np.isnan(fm.mase([1.0], [2.0], [5.0, 5.0, 5.0]))


def test_coverage_and_pinball_against_hand_values():
    y = np.array([1.0, 2.0, 3.0, 10.0])
    assert fm.coverage(y, [0, 2, 4, 0], [1, 5, 5, 9]) == 0.5  # ends count as inside
    preds = np.array([[0.0, 2.0]])  # one point, quantiles 0.1 and 0.9, truth 1
    # q=0.1: error 1 -> 0.1; q=0.9: error -1 -> 0.1; mean 0.1
    assert fm.pinball([1.0], preds, [0.1, 0.9]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="expected"):
        fm.pinball([1.0], preds, [0.5])


def test_baselines():
    history = [10.0, 11.0, 12.0, 20.0, 21.0, 22.0]
    assert fm.naive_forecast(history, 3).tolist() == [22.0] * 3
    assert fm.seasonal_naive_forecast(history, 5, 3).tolist() == [20, 21, 22, 20, 21]
    with pytest.warns(UserWarning, match="naive forecast used"):
        assert fm.seasonal_naive_forecast([1.0, 2.0], 2, 12).tolist() == [2.0, 2.0]


def test_rolling_origins_tile_the_end():
    assert fm.rolling_origins(100, folds=5, horizon=10) == [50, 60, 70, 80, 90]
    assert fm.rolling_origins(100, folds=3, horizon=10, step=1) == [88, 89, 90]
    with pytest.raises(ValueError, match="training steps"):
        fm.rolling_origins(30, folds=5, horizon=10)


def test_point_errors_match_statsmodels():
    eval_measures = pytest.importorskip("statsmodels.tools.eval_measures")
    rng = np.random.default_rng(1)
    y, f = rng.normal(size=50), rng.normal(size=50)
    assert fm.mae(y, f) == pytest.approx(eval_measures.meanabs(y, f))
    assert fm.rmse(y, f) == pytest.approx(eval_measures.rmse(y, f))


def test_seasonal_naive_matches_statsmodels_holt_winters_limit():
    # A purely periodic series: seasonal-naive is exact, as is additive Holt-Winters.
    holtwinters = pytest.importorskip("statsmodels.tsa.holtwinters")
    history = np.tile([1.0, 4.0, 2.0, 8.0], 6) + 10
    model = holtwinters.ExponentialSmoothing(history, seasonal="add", seasonal_periods=4).fit()
    np.testing.assert_allclose(
        fm.seasonal_naive_forecast(history, 8, 4), model.forecast(8), atol=1e-3
    )


def test_pooled_mase_averages_the_finite_scaled_errors_and_names_the_rest():
    histories = [[0.0, 2.0, 4.0], [3.0, 3.0, 3.0], [1.0], [0.0, 1.0, 0.0]]
    truths = [[5.0, 9.0], [3.0, 4.0], [1.0, 1.0], [2.0, 2.0]]
    predictions = [[4.0, 4.0], [3.0, 3.0], [0.0, 0.0], [0.0, 2.0]]
    # scales: 2 (|2-0|, |4-2|), 0 (constant), undefined (one step), 1
    mase, skipped = fm.pooled_mase(truths, predictions, histories, 1, ["a", "b", "c", "d"])
    assert mase == pytest.approx(((1 + 5) / 2 / 2 + (2 + 0) / 2 / 1) / 2)
    assert skipped == ["b", "c"]
    assert fm.pooled_mase(truths[1:3], predictions[1:3], histories[1:3])[1] == [0, 1]
    assert np.isnan(fm.pooled_mase(truths[1:2], predictions[1:2], histories[1:2])[0])


def test_fold_calibrated_coverage_against_a_loop():
    from keras_seq.metrics import conformal

    rng = np.random.default_rng(4)
    truths = [rng.normal(0, 2, (6, 3)) for _ in range(5)]
    lowers, uppers = [np.full((6, 3), -1.0)] * 5, [np.full((6, 3), 1.0)] * 5
    scales = [np.full((6, 3), 0.5)] * 5
    result = conformal.fold_calibrated_coverage(truths, lowers, uppers, scales, 0.8)

    def quantile(ys):  # the ceil((n + 1) 0.8)-th smallest score
        found = sorted(max(-1.0 - y, y - 1.0) / 0.5 for y in ys)
        return found[int(np.ceil((len(found) + 1) * 0.8)) - 1]

    raw, others, past = [], [], []
    for k in range(5):
        rest = quantile(np.concatenate([f.ravel() for j, f in enumerate(truths) if j != k]))
        earlier = quantile(np.concatenate([f.ravel() for f in truths[:k]])) if k else None
        for y in truths[k].ravel():
            raw.append(-1.0 <= y <= 1.0)
            others.append(-1.0 - 0.5 * rest <= y <= 1.0 + 0.5 * rest)
            if k:
                past.append(-1.0 - 0.5 * earlier <= y <= 1.0 + 0.5 * earlier)
    assert result == {
        "nominal": 0.8,
        "coverage": pytest.approx(np.mean(raw)),
        "calibrated_coverage": pytest.approx(np.mean(others)),
        "margin": pytest.approx(quantile(np.concatenate([f.ravel() for f in truths]))),
        "folds_scored": 5,
        "past_calibrated_coverage": pytest.approx(np.mean(past)),
        "past_folds_scored": 4,
    }
    assert result["coverage"] < 0.5 and 0.7 < result["calibrated_coverage"] < 0.95
    one = conformal.fold_calibrated_coverage(truths[:1], lowers[:1], uppers[:1], scales[:1], 0.8)
    assert one["calibrated_coverage"] is None and one["past_calibrated_coverage"] is None
    assert one["coverage"] == pytest.approx(np.mean(np.abs(truths[0]) <= 1.0))
    assert conformal.margin([3.0, 1.0, 2.0], 0.5) == 2.0  # ceil(4 x 0.5) = 2nd smallest
    assert conformal.margin([1.0, 2.0], 0.9) == np.inf  # ceil(3 x 0.9) = 3 > 2 scores


def _drifting_season():
    """A quarterly series whose trend and seasonal pattern both wander (random walks)."""
    rng = np.random.default_rng(3)
    season = np.cumsum(rng.normal(0, 0.6, (31, 4)), axis=0).ravel()[:120]
    trend = np.cumsum(0.5 + np.cumsum(rng.normal(0, 0.1, 120)))
    return 50 + trend + season + rng.normal(0, 0.3, 120)


@pytest.mark.parametrize(
    "name, season",
    [("co2", 12), ("macro_cpi", 4), ("nile", 1), ("short", 4), ("drifting", 4)],
)
def test_holt_winters_paths_are_statsmodels_forecasts_from_every_origin(name, season):
    # One pass of the recursion with the fitted weights gives, from each origin, what
    # statsmodels forecasts: its one-step fitted values, and the forecast after the history.
    pytest.importorskip("statsmodels")
    from statsmodels import datasets
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from keras_seq.metrics import classical

    values = {
        "co2": lambda: datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill(),
        "macro_cpi": lambda: datasets.macrodata.load_pandas().data["cpi"],
        "nile": lambda: datasets.nile.load_pandas().data["volume"],
        "short": lambda: datasets.macrodata.load_pandas().data["realinv"][-7:],
        "drifting": _drifting_season,
    }[name]()
    values = np.asarray(values, dtype="float64")[-240:]
    fitted = classical.holt_winters_fit(values, season)
    seasonal = season > 1 and len(values) >= 2 * season
    model = ExponentialSmoothing(
        values,
        trend="add",
        seasonal="add" if seasonal else None,
        seasonal_periods=season if seasonal else None,
    ).fit()
    one_step = classical.holt_winters_paths(values, fitted, range(len(values)), 1)[:, 0]
    np.testing.assert_allclose(one_step, model.fittedvalues, rtol=1e-9)
    horizon = 2 * season + 1
    after = classical.holt_winters_paths(values, fitted, [len(values)], horizon)[0]
    # The textbook forecast from statsmodels' own last states; statsmodels' `forecast` takes
    # the season of one cycle earlier at steps h = m, 2m, ..., the same when gamma is 0.
    steps = np.arange(1, horizon + 1)
    last_seasons = model.season[-season:] if seasonal else np.zeros(1)
    textbook = (
        model.level[-1] + steps * model.trend[-1] + last_seasons[(steps - 1) % len(last_seasons)]
    )
    np.testing.assert_allclose(after, textbook, rtol=1e-9)
    unlike = steps % season == 0 if seasonal else np.zeros(horizon, bool)
    np.testing.assert_allclose(after[~unlike], model.forecast(horizon)[~unlike], rtol=1e-9)
    if name == "drifting":  # every weight of the recursion is checked, none of them 0 or 1
        assert all(0.1 < fitted[weight] < 0.9 for weight in ("alpha", "beta", "gamma"))
    assert len(fitted["seasons"]) == (season if seasonal else 1)


def test_holt_winters_on_three_values_repeats_the_last():
    from keras_seq.metrics import classical

    fitted = classical.holt_winters_fit([2.0, 5.0, 3.0], 4)
    np.testing.assert_array_equal(
        classical.holt_winters_paths([2.0, 5.0, 3.0], fitted, [2, 3], 2), [[5, 5], [3, 3]]
    )
