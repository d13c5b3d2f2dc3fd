"""Tests for keras_seq.losses.PinballLoss and keras_seq.layers.quantiles.OrderedQuantiles."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_seq.layers.quantiles import OrderedQuantiles
from keras_seq.losses import PinballLoss
from keras_seq.metrics.forecasting import pinball

QUANTILES = [0.1, 0.5, 0.9]


def numpy_pinball(y, f, q):
    error = y[..., None] - f
    return np.maximum(np.asarray(q) * error, (np.asarray(q) - 1) * error)


def test_pinball_loss_matches_numpy_reference():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4, 6, 2)).astype("float32")
    f = rng.normal(size=(4, 6, 2, 3)).astype("float32")
    loss = PinballLoss(QUANTILES)
    expected = numpy_pinball(y, f, QUANTILES).mean()
    assert float(loss(y, f)) == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(pinball(y, f, QUANTILES))
    weights = np.repeat(np.array([[1.0], [0.0], [2.0], [1.0]], "float32"), 6, axis=1)
    per_step = numpy_pinball(y, f, QUANTILES).mean(axis=(2, 3))
    weighted = (per_step * weights).sum() / weights.size  # Keras' default: sum over size
    assert float(loss(y, f, sample_weight=weights)) == pytest.approx(weighted, rel=1e-5)


def test_pinball_loss_config_round_trip_and_bad_quantiles():
    loss = PinballLoss(QUANTILES)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, PinballLoss) and again.quantiles == QUANTILES
    for bad in ([0.9, 0.1], [0.0, 0.5], []):
        with pytest.raises(ValueError, match="increasing"):
            PinballLoss(bad)


def test_ordered_quantiles_against_numpy_and_never_cross():
    raw = np.random.default_rng(1).normal(0, 3, (5, 4, 5)).astype("float32")
    quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]
    out = np.asarray(keras.ops.convert_to_numpy(OrderedQuantiles(quantiles)(raw)))
    softplus = np.log1p(np.exp(raw))
    expected = np.stack(
        [
            raw[..., 2] - softplus[..., 1] - softplus[..., 0],
            raw[..., 2] - softplus[..., 1],
            raw[..., 2],
            raw[..., 2] + softplus[..., 3],
            raw[..., 2] + softplus[..., 3] + softplus[..., 4],
        ],
        -1,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert (np.diff(out, axis=-1) >= 0).all()


def test_ordered_quantiles_config_and_keras_file_round_trip(tmp_path):
    layer = OrderedQuantiles(QUANTILES)
    config = layer.get_config()
    assert OrderedQuantiles.from_config(config).get_config() == config
    inputs = np.random.default_rng(2).normal(size=(8, 2)).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), layer])
    model.compile("adam", PinballLoss(QUANTILES))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.loss, PinballLoss) and loaded.loss.quantiles == QUANTILES
    np.testing.assert_array_equal(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    )


def test_pinball_fit_learns_quantiles_of_noise():
    # Constant input, noisy targets: the fitted quantiles approach the noise's quantiles.
    keras.utils.set_random_seed(0)
    y = np.random.default_rng(3).uniform(0, 1, (512, 1)).astype("float32")
    x = np.ones((512, 1), "float32")
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(3), OrderedQuantiles(QUANTILES)]
    )
    model.compile(keras.optimizers.Adam(0.05), PinballLoss(QUANTILES))
    model.fit(x, y, epochs=60, batch_size=512, verbose=0)
    got = keras.ops.convert_to_numpy(model(x[:1]))[0]
    np.testing.assert_allclose(got, np.quantile(y, QUANTILES), atol=0.06)


def test_a_fresh_process_knows_both_classes_after_import_keras_seq():
    # keras.saving.load_model in a new process must find them with only `import keras_seq`.
    code = (
        "import keras_seq, keras; get = keras.saving.get_registered_object; "
        "print(get('keras_seq>PinballLoss').__name__, get('keras_seq>OrderedQuantiles').__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["PinballLoss", "OrderedQuantiles"]
