import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_seq import initializers

# Dumps the weights of a small model built with seeded Portable initializers to argv[1].
_DUMP_SCRIPT = """
import sys, keras, numpy as np
from keras_seq.initializers import Portable
layer = keras.layers.LSTM(
    6,
    kernel_initializer=Portable("glorot_uniform", seed=3, key="kernel"),
    recurrent_initializer=Portable("orthogonal", seed=3, key="recurrent"),
    bias_initializer=Portable("truncated_normal", seed=3, key="bias"),
)
dense = keras.layers.Dense(2, kernel_initializer=Portable("he_normal", seed=3, key="head"))
model = keras.Sequential([keras.Input((None, 5)), layer, dense])
np.savez(sys.argv[1], *[np.asarray(w) for w in model.get_weights()])
"""


def _draw(name, shape, **kwargs):
    return keras.ops.convert_to_numpy(initializers.portable(name, **kwargs)(shape))


_TRUNCATED = 2.0 / 0.87962566103423978  # two standard deviations of Keras' truncated draws
# For shape (300, 200): fan_in 300, fan_out 200. The largest magnitude each one can draw.
_BOUNDS = {
    "glorot_uniform": np.sqrt(6.0 / 500),
    "glorot_normal": _TRUNCATED * np.sqrt(1.0 / 250),
    "he_uniform": np.sqrt(6.0 / 300),
    "he_normal": _TRUNCATED * np.sqrt(2.0 / 300),
    "lecun_uniform": np.sqrt(3.0 / 300),
    "lecun_normal": _TRUNCATED * np.sqrt(1.0 / 300),
    "random_uniform": 0.05,
    "truncated_normal": 0.1,
    "random_normal": None,
    "orthogonal": None,
}


@pytest.mark.parametrize("name", sorted(_BOUNDS))
def test_distribution_matches_keras(name):
    shape = (300, 200)
    ours = _draw(name, shape, seed=0)
    config = {"class_name": name, "config": {"seed": 0}}
    theirs = keras.ops.convert_to_numpy(keras.initializers.get(config)(shape))
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.02)
    np.testing.assert_allclose(ours.mean(), theirs.mean(), atol=0.1 * theirs.std())
    if _BOUNDS[name] is not None:
        # Same support: the uniform limits, or the truncation at two standard deviations.
        assert _BOUNDS[name] * 0.99 < np.abs(ours).max() <= _BOUNDS[name] * (1 + 1e-6)


def test_variance_scaling_arguments():
    shape = (400, 100)
    w = _draw(
        {"name": "variance_scaling", "scale": 2.0, "mode": "fan_out", "distribution": "uniform"},
        shape,
        seed=1,
    )
    limit = np.sqrt(3.0 * 2.0 / 100)
    assert np.abs(w).max() <= limit
    np.testing.assert_allclose(np.abs(w).max(), limit, rtol=1e-3)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_is_orthogonal_with_gain(shape):
    w = _draw({"name": "orthogonal", "gain": 2.0}, shape, seed=2).astype(np.float64)
    small = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(small, 4.0 * np.eye(min(shape)), atol=1e-5)


def test_orthogonal_follows_keras_sign_convention():
    # QR with the sign fix: R's diagonal is made positive, so Q^T A has a positive diagonal.
    rng = np.random.default_rng([11, 0, 0])
    a = rng.standard_normal((6, 6))
    w = _draw("orthogonal", (6, 6), seed=11)
    assert np.all(np.diag(w.T.astype(np.float64) @ a) > 0)


def test_constants_and_identity():
    np.testing.assert_array_equal(_draw("zeros", (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(_draw("Ones", (4,)), np.ones(4))
    np.testing.assert_array_equal(_draw({"name": "constant", "value": 0.5}, (2,)), [0.5, 0.5])
    np.testing.assert_array_equal(
        _draw({"name": "identity", "gain": 3.0}, (2, 3)), 3.0 * np.eye(2, 3)
    )


def test_seed_key_and_call_order_fix_the_values():
    a = initializers.Portable("glorot_uniform", seed=5, key="k")
    b = initializers.Portable("glorot_uniform", seed=5, key="k")
    first, second = keras.ops.convert_to_numpy(a((3, 4))), keras.ops.convert_to_numpy(a((3, 4)))
    assert not np.array_equal(first, second)  # each call is a new stream
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(b((3, 4))))
    other_key = initializers.Portable("glorot_uniform", seed=5, key="other")
    assert not np.array_equal(first, keras.ops.convert_to_numpy(other_key((3, 4))))


def test_unseeded_is_random_and_follows_set_random_seed():
    assert not np.array_equal(_draw("random_normal", (8,)), _draw("random_normal", (8,)))
    keras.utils.set_random_seed(9)
    first = _draw("random_normal", (8,))
    keras.utils.set_random_seed(9)
    np.testing.assert_array_equal(first, _draw("random_normal", (8,)))


def test_dtype_is_cast_in_numpy():
    w = initializers.Portable("random_normal", seed=4)((3,), dtype="float16")
    assert keras.backend.standardize_dtype(w.dtype) == "float16"
    expected = np.random.default_rng([4, 0, 0]).normal(0.0, 0.05, 3).astype(np.float16)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), expected)


def test_serialization_round_trip_keeps_the_stream():
    init = initializers.portable({"name": "he_uniform"}, seed=12, key="head")
    restored = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert isinstance(restored, initializers.Portable)
    assert restored.get_config() == init.get_config()
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(init((3, 3))), keras.ops.convert_to_numpy(restored((3, 3)))
    )


@pytest.mark.parametrize(
    "identifier, message",
    [
        ("glorot_unifrom", "Unknown initializer 'glorot_unifrom'. Use one of:"),
        ({"name": "orthogonal", "scale": 2.0}, "takes no argument 'scale'; it takes: gain"),
        ({"name": "glorot_uniform", "mode": "fan_in"}, "takes no argument 'mode'"),
        ({"gain": 1.0}, "needs a 'name' key"),
    ],
)
def test_bad_identifiers_say_what_to_change(identifier, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        initializers.portable(identifier, seed=0)


@pytest.mark.backend("jax")
def test_same_seed_gives_bit_identical_weights_on_every_backend(tmp_path):
    weights = {}
    for backend in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(backend) is None:
            continue
        path = tmp_path / f"{backend}.npz"
        env = {**os.environ, "KERAS_BACKEND": backend}
        subprocess.run(
            [sys.executable, "-c", _DUMP_SCRIPT, str(path)],
            env=env,
            check=True,
            capture_output=True,
        )
        with np.load(path) as data:
            weights[backend] = [data[k] for k in sorted(data.files, key=lambda k: int(k[4:]))]
    reference = weights.pop("jax")
    assert len(reference) == 5 and weights
    for backend, arrays in weights.items():
        for ours, theirs in zip(arrays, reference):
            assert ours.tobytes() == theirs.tobytes(), backend
