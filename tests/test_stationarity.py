"""keras_seq.metrics.stationarity against statsmodels' `adfuller` (constant, lags by AIC)."""

import numpy as np
import pytest

from keras_seq.metrics import stationarity


def _series():
    rng = np.random.default_rng(7)
    steps = np.arange(400)
    ar = np.zeros(400)
    for t in range(1, 400):
        ar[t] = 0.8 * ar[t - 1] + rng.normal()
    return {
        "noise": rng.normal(size=40),
        "walk": np.cumsum(rng.normal(size=150)),
        "ar(1) 0.8": ar,
        "cycle": 50 + 40 * np.sin(2 * np.pi * steps / 11) + rng.normal(0, 3, 400),
        "trend and season": 0.3 * steps + np.sin(2 * np.pi * steps / 12) + rng.normal(0, 1, 400),
    }


@pytest.mark.filterwarnings("ignore:adfuller currently returns:FutureWarning")
@pytest.mark.parametrize("name", list(_series()))
def test_adf_equals_statsmodels(name):
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    values = _series()[name]
    statistic, _, lags, rows, critical, _ = stattools.adfuller(values, autolag="AIC")
    assert stationarity.adf(values) == pytest.approx((statistic, lags, critical["5%"]), rel=1e-9)
    assert stationarity.returns_to_mean(values) == (statistic < critical["5%"])
    assert rows == len(values) - 1 - lags


def test_the_test_tells_a_mean_from_a_wander_and_refuses_what_it_cannot_test():
    series = _series()
    assert stationarity.returns_to_mean(series["noise"])
    assert stationarity.returns_to_mean(series["ar(1) 0.8"])
    assert not stationarity.returns_to_mean(series["walk"])
    assert not stationarity.returns_to_mean(series["trend and season"])
    for values in (np.ones(50), np.arange(9.0)):
        with pytest.raises(ValueError, match="at least 10 values"):
            stationarity.adf(values)
        assert not stationarity.returns_to_mean(values)
