"""Checkpoints: what early stopping, the plateau schedule and the dropout seed generators
remember comes back as it was; only the last epoch's files are kept."""

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import checkpoint, training

SPEC = """
seed: 3
input: {kind: features, dim: 2}
encoder: {cell: gru, units: 3, recurrent_dropout: 0.2}
head: {type: forecaster}
training:
  schedule: {type: plateau, patience: 3}
  early_stopping: {monitor: loss, patience: 4, restore_best_weights: true}
"""


def _callbacks(task):
    made = training.callbacks(task.spec.training)
    for callback in made:
        callback.set_model(task.model)
        callback.on_train_begin()
    return made


def test_a_checkpoint_gives_back_what_the_run_remembered(tmp_path):
    task = keras_seq.tasks.Task.for_spec(keras_seq.load_spec(SPEC))
    task.build_model()
    task.model.optimizer.build(task.model.trainable_variables)
    x = np.ones((2, 5, 2), "float32")
    task.model(x, training=True)  # the dropout seed generator moves on
    plateau, stopping = _callbacks(task)
    plateau.wait, plateau.best, plateau.cooldown_counter = 2, 0.75, 1
    stopping.wait, stopping.best, stopping.best_epoch = 1, np.float32(0.5), 3
    stopping.best_weights = [w + 1 for w in task.model.get_weights()]
    history = {"loss": [1.0, 0.5]}
    checkpoint.save(tmp_path, task, 4, history, [plateau, stopping])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best-4.npz",
        "model-4.keras",
        "progress.json",
    ]

    progress = checkpoint.read(tmp_path)
    assert progress["epoch"] == 4 and progress["history"] == history
    loaded = checkpoint.load_task(tmp_path, progress)
    assert training.random_state(loaded.model) == training.random_state(task.model)
    assert training.random_state(task.model) != [[3, 0]]
    again = _callbacks(loaded)
    checkpoint.Restore(tmp_path, progress, again).on_train_begin()
    for kept, restored in zip([plateau, stopping], again):
        for name in ("wait", "best", "cooldown_counter", "best_epoch"):
            assert getattr(restored, name, None) == getattr(kept, name, None), name
    for a, b in zip(stopping.best_weights, again[1].best_weights):
        np.testing.assert_array_equal(a, b)

    stopping.best_weights = None  # the next epoch's checkpoint replaces this one's files
    checkpoint.save(tmp_path, task, 5, history, [plateau, stopping])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-5.keras", "progress.json"]
    assert isinstance(keras.saving.load_model(tmp_path / "model-5.keras"), keras.Model)


def test_a_damaged_checkpoint_is_a_data_error(tmp_path):
    task = keras_seq.tasks.Task.for_spec(keras_seq.load_spec(SPEC))
    task.build_model()
    task.model.optimizer.build(task.model.trainable_variables)
    plateau, stopping = _callbacks(task)
    stopping.best_weights = task.model.get_weights()
    checkpoint.save(tmp_path, task, 1, {"loss": [1.0]}, [plateau, stopping])
    progress = checkpoint.read(tmp_path)
    wrong = {**progress, "random_state": []}
    with pytest.raises(keras_seq.DataError, match="holds 0 random states; the model has 1"):
        checkpoint.load_task(tmp_path, wrong)
    with pytest.raises(keras_seq.DataError, match="holds 2 callback states, the spec makes 1"):
        checkpoint.Restore(tmp_path, progress, [plateau]).on_train_begin()
    (tmp_path / "best-1.npz").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(keras_seq.DataError, match="cannot read the checkpoint's best weights"):
        checkpoint.Restore(tmp_path, progress, [plateau, stopping]).on_train_begin()
