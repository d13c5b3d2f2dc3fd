"""Shared checks for any keras_seq layer (as Keras' `run_layer_test` does for its layers).

`check_layer(layer, inputs, expected_shape, tmp_path)` checks
- the config round trip: `from_config(get_config())` gives the same config;
- symbolic and eager calls give `expected_shape` (a shape, or a list of them);
- a short fit lowers the loss (a layer without weights: the loss does not move);
- `.keras` save then load: equal outputs;
- one mixed-precision step (`mixed_bfloat16`, the policy keras-seq supports,
  docs/precision.md): outputs in the layer's compute dtype, float32 variables, one train step
  with a finite loss; the global policy is restored afterwards even when a check fails.

A layer with integer outputs (token ids) has no gradient: the fit checks are replaced by
"it has no trainable weight".
"""

import copy
import os

import keras
import numpy as np

MIXED = "mixed_bfloat16"


def check_layer(layer, inputs, expected_shape, tmp_path, vocab_size=None):
    """Runs the standard layer checks and returns the model built around `layer`.

    Args:
        layer: an unbuilt layer.
        inputs: NumPy batch, or a list of them for a layer with several inputs; integer tokens
            (0 = padding) when `vocab_size` is given, then the layer sits after
            `Embedding(vocab_size, 4, mask_zero=True)`.
        expected_shape: the output shape for `inputs`, or a list of shapes for a layer with
            several outputs.
        tmp_path: a pytest temporary directory for the `.keras` file.
    """
    config = layer.get_config()
    assert type(layer).from_config(copy.deepcopy(config)).get_config() == config
    keras.utils.set_random_seed(0)  # the same weights whatever tests ran before (the fit check)
    model = _model(layer, inputs, vocab_size)
    _check_shapes(model, inputs, expected_shape, vocab_size)
    if _is_float(model.outputs):
        _check_fit(model, inputs, expected_shape)
    else:
        assert not model.trainable_weights, "a layer with integer outputs can't be trained"
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    keras.tree.map_structure(
        np.testing.assert_array_equal, _numpy(loaded(inputs)), _numpy(model(inputs))
    )
    check_mixed_precision(layer, inputs, expected_shape, vocab_size)
    return model


def check_mixed_precision(layer, inputs, expected_shape, vocab_size=None):
    """Rebuilds `layer` from its config under the `mixed_bfloat16` global policy and checks
    the output dtype (the layer's compute dtype), float32 variables and one finite train step.
    """
    config = _without_dtype(layer.get_config())
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(MIXED)
    try:
        mixed = type(layer).from_config(config)
        model = _model(mixed, inputs, vocab_size)
    finally:
        keras.config.set_dtype_policy(previous)
    outputs = keras.tree.flatten(model(inputs))
    floating = _is_float(outputs)
    for output in outputs:
        dtype = keras.backend.standardize_dtype(output.dtype)
        assert dtype == (mixed.compute_dtype if floating else "int32"), (dtype, mixed.name)
    assert all(v.dtype == "float32" for v in mixed.weights if v.trainable)
    if floating:
        targets = _targets(expected_shape)
        # One step: run eagerly, compiling it would cost more than the step.
        model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", run_eagerly=True)
        loss = model.train_on_batch(inputs, targets)
        assert np.all(np.isfinite(loss)), loss
    return mixed


def _model(layer, inputs, vocab_size):
    if vocab_size is None:
        model_input = keras.tree.map_structure(
            lambda array: keras.Input(array.shape[1:], dtype=str(array.dtype)), inputs
        )
        features = model_input
    else:
        model_input = keras.Input((None,), dtype="int32")
        features = keras.layers.Embedding(vocab_size, 4, mask_zero=True)(model_input)
    return keras.Model(model_input, layer(features))


def _shapes(expected_shape):
    """`expected_shape` as a list of shapes."""
    return (
        list(expected_shape) if isinstance(expected_shape[0], (tuple, list)) else [expected_shape]
    )


def _check_shapes(model, inputs, expected_shape, vocab_size):
    for symbolic, expected in zip(keras.tree.flatten(model.outputs), _shapes(expected_shape)):
        symbolic_shape = [None, *expected[1:]]
        if vocab_size is not None and len(expected) == 3:
            symbolic_shape[1] = None  # token sequences have no fixed length
        assert tuple(symbolic.shape) == tuple(symbolic_shape)
    eager = [tuple(x.shape) for x in keras.tree.flatten(model(inputs))]
    assert eager == [tuple(shape) for shape in _shapes(expected_shape)]


def _targets(expected_shape):
    rng = np.random.default_rng(0)
    targets = [rng.uniform(-0.5, 0.5, shape).astype("float32") for shape in _shapes(expected_shape)]
    return targets if isinstance(expected_shape[0], (tuple, list)) else targets[0]


def _check_fit(model, inputs, expected_shape):
    targets = _targets(expected_shape)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    before = np.ravel(model.evaluate(inputs, targets, verbose=0))[0]
    batch_size = len(keras.tree.flatten(inputs)[0])
    model.fit(inputs, targets, epochs=8, batch_size=batch_size, verbose=0)
    after = np.ravel(model.evaluate(inputs, targets, verbose=0))[0]
    if model.trainable_weights:
        assert after < 0.9 * before, (before, after)
    else:
        np.testing.assert_allclose(after, before, rtol=1e-6)


def _numpy(outputs):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)


def _is_float(outputs):
    return all(
        "float" in keras.backend.standardize_dtype(x.dtype) for x in keras.tree.flatten(outputs)
    )


def _without_dtype(config):
    """`config` with every `dtype` entry removed, sublayers' included, so that the global
    policy applies to all of them."""
    if isinstance(config, dict):
        return {key: _without_dtype(value) for key, value in config.items() if key != "dtype"}
    if isinstance(config, list):
        return [_without_dtype(value) for value in config]
    return config
