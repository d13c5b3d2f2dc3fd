import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_seq

BACKENDS = ("tensorflow", "jax", "torch")


def _data():
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(4, 2)).astype("float32")
    return x, y


def save(path):
    """Saves a compiled, trained keras_seq.Model with the numbers a loader must reproduce."""
    x, y = _data()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 3))
    recurrent = keras_seq.Recurrent("lstm", 4, direction="bidirectional", return_sequences=False)
    model = keras_seq.Model(inputs, keras.layers.Dense(2)(recurrent(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(path)
    np.savez(
        f"{path}.npz", prediction=model.predict(x, verbose=0), next_loss=model.train_on_batch(x, y)
    )


def load(path):
    """Loads a file written by `save` and measures what it reproduces."""
    x, y = _data()
    model = keras.saving.load_model(path)
    with np.load(f"{path}.npz") as saved:
        return {
            "prediction": float(np.abs(model.predict(x, verbose=0) - saved["prediction"]).max()),
            "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
            "optimizer": type(model.optimizer).__module__,
            "next_loss": float(abs(model.train_on_batch(x, y) - saved["next_loss"])),
            "torch_imported": "torch" in sys.modules,
        }


def _check(result, saved_on, loaded_on):
    pair = f"saved on {saved_on}, loaded on {loaded_on}: {result}"
    assert result["prediction"] < 1e-5, pair
    assert result["iterations"] == 2, pair
    # The same next step means the Adam moments came back too.
    assert result["next_loss"] < 1e-5, pair
    assert result["torch_imported"] == (loaded_on == "torch"), pair
    expected = "keras.src.backend.torch" if loaded_on == "torch" else "keras.src.optimizers"
    assert result["optimizer"].startswith(expected), pair


def test_compile_config_names_the_public_optimizer():
    inputs = keras.Input((None, 3))
    model = keras_seq.Model(inputs, keras_seq.Recurrent("gru", 2)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.5, clipnorm=1.0), loss="mse")
    optimizer = model.get_compile_config()["optimizer"]
    assert optimizer["module"] == "keras.optimizers"
    assert optimizer["class_name"] == "Adam"
    assert optimizer["registered_name"] is None
    assert optimizer["config"]["clipnorm"] == 1.0
    restored = keras.optimizers.deserialize(optimizer)
    assert isinstance(restored, keras.optimizers.Adam)
    assert float(keras.ops.convert_to_numpy(restored.learning_rate)) == 0.5


def test_uncompiled_model_round_trips(tmp_path):
    inputs = keras.Input((None, 3))
    model = keras_seq.Model(inputs, keras_seq.Recurrent("simple", 2)(inputs))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored, keras_seq.Model)
    x = np.ones((1, 4, 3), "float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_saved_model_loads_and_keeps_training_across_backends(tmp_path):
    """Saves here and loads on the next backend, and the other way round.

    The next of tensorflow is jax, of jax torch, of torch tensorflow: the three backend runs of
    the suite cover all six ordered pairs.
    """
    current = keras.backend.backend()
    other = BACKENDS[(BACKENDS.index(current) + 1) % len(BACKENDS)]
    if importlib.util.find_spec(other) is None:
        pytest.skip(f"{other} is not installed")
    ours, theirs = tmp_path / f"{current}.keras", tmp_path / f"{other}.keras"
    save(ours)
    # The other backend, in its own process: load our file, then save its own.
    done = subprocess.run(
        [sys.executable, __file__, str(ours), str(theirs)],
        env={**os.environ, "KERAS_BACKEND": other},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    _check(json.loads(done.stdout.splitlines()[-1]), current, other)
    _check(load(theirs), other, current)


if __name__ == "__main__":
    print(json.dumps(load(sys.argv[1])))
    save(sys.argv[2])


def test_training_metrics_skip_padding():
    # On JAX, Keras' train step drops the output mask before the metrics; keras_seq.Model adds it.
    keras.utils.set_random_seed(0)
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(9, 3, mask_zero=True)(tokens)
    encoded = keras_seq.Recurrent("gru", 4)(embedded)
    model = keras_seq.Model(tokens, keras.layers.Dense(3, activation="softmax")(encoded))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(1, 9, (4, 6)).astype("int32")
    for row, length in enumerate((6, 3, 2, 1)):
        x[row, length:] = 0
    real = x != 0
    predicted = model.predict(x, verbose=0).argmax(-1)
    y = np.where(real, rng.integers(0, 3, x.shape), predicted)  # padding would count as right
    expected = (predicted == y)[real].mean()
    assert expected < 1.0
    # train_on_batch reports metrics of the predictions before its update.
    logs = model.train_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(logs["accuracy"], expected, rtol=1e-6)


def test_weighted_metrics_count_steps_across_batches():
    # On torch, Keras' loss masking used to rescale the sample weights in place before the metrics.
    keras.utils.set_random_seed(1)
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(9, 3, mask_zero=True)(tokens)
    encoded = keras_seq.Recurrent("lstm", 4, direction="bidirectional")(embedded)
    model = keras_seq.Model(tokens, keras.layers.Dense(3, activation="softmax")(encoded))
    model.compile(loss="sparse_categorical_crossentropy", weighted_metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.integers(1, 9, (12, 7)).astype("int32")
    for row, length in enumerate(rng.integers(1, 8, 12)):
        x[row, length:] = 0
    y = rng.integers(0, 3, x.shape)
    weight = (x != 0).astype("float32")
    weight[0, 0] = 0.0  # e.g. a label unseen in training
    predicted = model.predict(x, verbose=0).argmax(-1)
    expected = ((predicted == y) * weight).sum() / weight.sum()
    for sample_weight, want in ((weight, expected), (None, (predicted == y)[x != 0].mean())):
        logs = model.evaluate(
            x, y, sample_weight=sample_weight, batch_size=4, verbose=0, return_dict=True
        )
        np.testing.assert_allclose(logs["accuracy"], want, rtol=1e-6)
