"""The checks every task passes (as keras-hub's `run_layer_test` does for layers).

`check_task(task, train, inputs, tmp_path)`: learns from `train` records, builds, then checks
- the config round trip: `Task.from_config(task.get_config())` has the same spec and state;
- a short fit lowers the loss;
- `.keras` save then `keras_seq.load`: equal outputs, and equal predictions on raw inputs;
- the loaded task's predictions equal a prediction made by hand from the model's outputs
  (`predict` = `decode(model(encode_inputs(raw)))`).
"""

import keras
import numpy as np

import keras_seq
from keras_seq.tasks import Task


def check_task(task, train, inputs, tmp_path, epochs=4):
    task.learn(train)
    model = task.build_model()

    again = Task.from_config(task.get_config())
    assert type(again) is type(task)
    assert again.spec == task.spec
    assert again.get_config() == task.get_config()

    encoded = task.encode(train)
    before = model.evaluate(encoded.x, encoded.y, sample_weight=encoded.sample_weight, verbose=0)
    model.fit(encoded.x, encoded.y, sample_weight=encoded.sample_weight, epochs=epochs, verbose=0)
    after = model.evaluate(encoded.x, encoded.y, sample_weight=encoded.sample_weight, verbose=0)
    before, after = np.ravel(before)[0], np.ravel(after)[0]
    assert after < before, (before, after)

    path = tmp_path / "model.keras"
    task.save(path)
    loaded = keras_seq.load(path)
    assert type(loaded) is type(task) and loaded.spec == task.spec
    x = keras.tree.map_structure(lambda array: array[:4], encoded.x)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.model(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        atol=1e-6,
    )
    predictions = loaded.predict(inputs)
    assert predictions == task.predict(inputs)
    return loaded, predictions
