"""`training.ema_momentum`: the optimizer's moving average of the weights is what validation,
early stopping and the saved model see, while training itself goes on unchanged. Checked
against the average computed in NumPy from the weights each step trained."""

import logging
import re

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import training

MOMENTUM = 0.5


@pytest.fixture
def files(tmp_path):
    words = {"pos": "good fine nice", "neg": "bad awful poor"}
    rows = [f"{words[y]} thing {i % 3},{y}" for i, y in enumerate(["pos", "neg"] * 12)]
    (tmp_path / "train.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    nice = words["pos"].split()
    valid = [f"{nice[i % 3]} awful thing,{y}" for i, y in enumerate(["pos", "neg"] * 5)]
    (tmp_path / "valid.csv").write_text("text,label\n" + "\n".join(valid) + "\n")
    return tmp_path


def _spec(extra=""):
    # One batch an epoch, so each epoch's end is one optimizer step.
    return (
        "name: ema\nseed: 2\ninput: {kind: tokens, embedding_dim: 4}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: classifier}\n"
        f"training: {{epochs: 6, batch_size: 64, learning_rate: 0.3{extra}}}\n"
    )


def _train(files, monkeypatch, name, extra=""):
    """Trains, returning the run and the trainable weights at the end of every epoch, as the
    checkpoint sees them."""
    trained = []
    save = training.EpochCheckpoint.on_epoch_end

    def record(self, epoch, logs=None):
        trained.append([keras.ops.convert_to_numpy(v) for v in self.model.trainable_weights])
        save(self, epoch, logs)

    monkeypatch.setattr(training.EpochCheckpoint, "on_epoch_end", record)
    run = keras_seq.train(
        _spec(extra),
        train=files / "train.csv",
        validation=files / "valid.csv",
        output=files / name,
        verbose=0,
    )
    return run, trained


def _averages(trained):
    """The optimizer's average after each step: the first step's weights, then
    `m * average + (1 - m) * weights`."""
    averages = [trained[0]]
    for weights in trained[1:]:
        averages.append([MOMENTUM * a + (1 - MOMENTUM) * w for a, w in zip(averages[-1], weights)])
    return averages


def _set(model, weights):
    for variable, value in zip(model.trainable_weights, weights):
        variable.assign(value)


def test_validation_and_the_saved_model_see_the_average_and_training_is_unchanged(
    files, monkeypatch, caplog
):
    plain, plain_trained = _train(files, monkeypatch, "plain")
    with caplog.at_level(logging.WARNING, logger="keras_seq.train"):
        run, trained = _train(files, monkeypatch, "ema", f", ema_momentum: {MOMENTUM}")
    # 6 steps: the first 3 hold 0.5^3 of the average, more than training.EARLY_SHARE.
    assert "training has 6: 12 % of the saved weights' average comes from the first 3" in (
        caplog.text
    )
    for a, b in zip(plain_trained, trained):  # the steps are the same steps
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    averages = _averages(trained)
    model = run.task.model
    for variable, expected in zip(model.trainable_weights, averages[-1]):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), expected, rtol=1e-5)
    # Each epoch's validation loss is the average's, not the trained weights'.
    for epoch, weights in enumerate(averages):
        _set(model, weights)
        loss = run.task.evaluate(files / "valid.csv")["loss"]
        np.testing.assert_allclose(run.history["val_loss"][epoch], loss, rtol=1e-5)
        _set(model, trained[epoch])
        if epoch:  # (the first step's average is its weights)
            assert abs(run.task.evaluate(files / "valid.csv")["loss"] - loss) > 1e-4
    assert run.history["val_loss"][1:] != plain.history["val_loss"][1:]


def test_early_stopping_keeps_the_best_average(files, monkeypatch):
    stopping = ", early_stopping: {monitor: val_loss, patience: 6}"
    run, trained = _train(files, monkeypatch, "ema", f", ema_momentum: {MOMENTUM}{stopping}")
    averages = _averages(trained)
    best = int(np.argmin(run.history["val_loss"]))
    assert best < len(trained) - 1  # the data makes the last epoch not the best
    for variable, expected in zip(run.task.model.trainable_weights, averages[best]):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), expected, rtol=1e-5)


def _early_share(momentum, steps):
    """The share of the first `steps // 2` steps' weights in the average, by running the
    optimizer's update on weights that are 1 over those steps and 0 after."""
    average = 1.0
    for step in range(2, steps + 1):
        average = momentum * average + (1 - momentum) * float(step <= steps // 2)
    return average


@pytest.mark.parametrize("steps", [2, 7, 40, 301, 5000])
@pytest.mark.parametrize("momentum", [0.3, 0.9, 0.99, 0.998])
def test_a_warning_when_the_average_reaches_back_to_the_early_steps(momentum, steps):
    share = _early_share(momentum, steps)
    warning = training.early_average(momentum, steps)
    assert (warning is not None) == (share > training.EARLY_SHARE)
    if warning:
        assert f"{share * 100:.0f} % of the saved weights' average" in warning
        enough = float(re.search(r"to ([0-9.]+) or less", warning).group(1))
        assert _early_share(enough, steps) <= training.EARLY_SHARE
        assert _early_share(enough + 0.001, steps) > training.EARLY_SHARE
