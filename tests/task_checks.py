"""The checks every task passes (as keras-hub's `run_layer_test` does for layers).

`check_task(task, train, inputs, tmp_path)`: learns from `train` records, builds, then checks
- the config round trip: `Task.from_config(task.get_config())` has the same spec and state;
- a short fit lowers the loss;
- `.keras` save then `keras_seq.load`: equal outputs, and equal predictions on raw inputs;
- the loaded task's predictions equal a prediction made by hand from the model's outputs
  (`predict` = `decode(model(encode_inputs(raw)))`);
- one mixed-precision step (`training.precision: mixed_bfloat16`): building leaves Keras'
  global policy as it was, some layer computes in bfloat16, each output has the dtype of the
  layer that makes it, every weight is float32 and one train step gives a finite loss.

A task without training data (`head.type: none`) takes `train=None`: the fit and the train
step are left out, the rest runs on `inputs`.
"""

import keras
import numpy as np

import keras_seq
from keras_seq.tasks import Task

MIXED = "mixed_bfloat16"


def check_task(task, train, inputs, tmp_path, epochs=4, predict=None):
    """Runs the task checks; returns the loaded task and its predictions for `inputs`.

    `predict(task, inputs)` makes the predictions compared after loading; default
    `task.predict(inputs)`.
    """
    predict = predict or (lambda task, inputs: task.predict(inputs))
    if train is not None:
        task.learn(train)
    model = task.build_model()

    again = Task.from_config(task.get_config())
    assert type(again) is type(task)
    assert again.spec == task.spec
    assert again.get_config() == task.get_config()

    encoded = None if train is None else task.encode(train)
    if encoded is not None:
        _check_fit(model, encoded, epochs)
    x = task.encode_inputs(inputs) if encoded is None else encoded.x
    x = keras.tree.map_structure(lambda array: array[:4], x)

    path = tmp_path / "model.keras"
    task.save(path)
    loaded = keras_seq.load(path)
    assert type(loaded) is type(task) and loaded.spec == task.spec
    np.testing.assert_allclose(
        _numpy(loaded.model(x, training=False)), _numpy(model(x, training=False)), atol=1e-6
    )
    predictions = predict(loaded, inputs)
    np.testing.assert_equal(predictions, predict(task, inputs))
    check_mixed_precision(task, encoded, x)
    return loaded, predictions


def check_mixed_precision(task, encoded, x):
    """Builds `task` again with `training.precision: mixed_bfloat16` and checks dtypes and one
    train step (on at most 8 examples of `encoded`; none when `encoded` is None)."""
    config = task.get_config()
    config["spec"]["training"]["precision"] = MIXED
    previous = keras.config.dtype_policy()
    try:
        model = Task.from_config(config).build_model()
        assert keras.config.dtype_policy().name == previous.name
        layers = list(model._flatten_layers(include_self=False))
        assert "bfloat16" in {layer.compute_dtype for layer in layers}
        for symbolic, output in zip(model.outputs, keras.tree.flatten(model(x))):
            producer = symbolic._keras_history.operation
            assert keras.backend.standardize_dtype(output.dtype) == producer.compute_dtype
        assert all(v.dtype == "float32" for v in model.weights if v.trainable)
        if encoded is not None:
            model.run_eagerly = True  # one step: compiling would cost more than it
            first = [
                None if part is None else keras.tree.map_structure(lambda a: a[:8], part)
                for part in (encoded.x, encoded.y, encoded.sample_weight)
            ]
            loss = model.train_on_batch(*first)
            assert np.all(np.isfinite(loss)), loss
    finally:
        keras.config.set_dtype_policy(previous)


def _check_fit(model, encoded, epochs):
    data = (encoded.x, encoded.y)
    before = model.evaluate(*data, sample_weight=encoded.sample_weight, verbose=0)
    model.fit(*data, sample_weight=encoded.sample_weight, epochs=epochs, verbose=0)
    after = model.evaluate(*data, sample_weight=encoded.sample_weight, verbose=0)
    before, after = np.ravel(before)[0], np.ravel(after)[0]
    assert after < before, (before, after)


def _numpy(outputs):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)
