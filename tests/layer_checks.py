"""Shared checks for any keras_seq layer: config, symbolic/eager shapes, fit, `.keras` save."""

import os

import keras
import numpy as np


def check_layer(layer, inputs, expected_shape, tmp_path, vocab_size=None):
    """Runs the standard layer checks and returns the model built around `layer`.

    Args:
        layer: an unbuilt layer with a single output.
        inputs: NumPy batch, or a list of them for a layer with several inputs; integer tokens
            (0 = padding) when `vocab_size` is given, then the layer sits after
            `Embedding(vocab_size, 4, mask_zero=True)`.
        expected_shape: the output shape for `inputs`.
        tmp_path: a pytest temporary directory for the `.keras` file.
    """
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config

    if vocab_size is None:
        model_input = keras.tree.map_structure(lambda array: keras.Input(array.shape[1:]), inputs)
        features = model_input
    else:
        model_input = keras.Input((None,), dtype="int32")
        features = keras.layers.Embedding(vocab_size, 4, mask_zero=True)(model_input)
    symbolic = layer(features)
    symbolic_shape = [None, *expected_shape[1:]]
    if vocab_size is not None and len(expected_shape) == 3:
        symbolic_shape[1] = None  # token sequences have no fixed length
    assert tuple(symbolic.shape) == tuple(symbolic_shape)
    model = keras.Model(model_input, symbolic)
    assert tuple(model(inputs).shape) == tuple(expected_shape)

    targets = np.random.default_rng(0).uniform(-0.5, 0.5, expected_shape).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    before = model.evaluate(inputs, targets, verbose=0)
    batch_size = len(keras.tree.flatten(inputs)[0])
    model.fit(inputs, targets, epochs=8, batch_size=batch_size, verbose=0)
    after = model.evaluate(inputs, targets, verbose=0)
    assert after < 0.9 * before, (before, after)

    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
    )
    return model
