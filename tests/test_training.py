"""Training policies: optimizer, clipping, per-epoch schedules, plateau, early stopping, seed."""

import math

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import training


def _spec(training_section):
    return keras_seq.load_spec(
        "input: {kind: features, dim: 2}\nencoder: {cell: gru, units: 4}\n"
        f"head: {{type: forecaster}}\nseed: 3\ntraining: {training_section}\n"
    )


def test_step_schedule_is_pytorch_steplr():
    spec = _spec("{learning_rate: 0.1, schedule: {type: step, step_size: 3, gamma: 0.5}}")
    rates = [training.learning_rate_at(spec.training, epoch) for epoch in range(7)]
    np.testing.assert_allclose(rates, [0.1] * 3 + [0.05] * 3 + [0.025])


def test_exponential_and_cosine_schedules():
    spec = _spec("{learning_rate: 0.2, schedule: {type: exponential, gamma: 0.9}}")
    np.testing.assert_allclose(training.learning_rate_at(spec.training, 4), 0.2 * 0.9**4)
    spec = _spec(
        "{learning_rate: 0.2, epochs: 4, schedule: {type: cosine, min_learning_rate: 0.02}}"
    )
    rates = [training.learning_rate_at(spec.training, epoch) for epoch in range(6)]
    expected = [0.02 + 0.18 * (1 + math.cos(math.pi * min(e, 4) / 4)) / 2 for e in range(6)]
    np.testing.assert_allclose(rates, expected)
    assert rates[0] == pytest.approx(0.2) and rates[4] == pytest.approx(0.02)


def test_schedule_sets_optimizer_rate_each_epoch_in_fit():
    spec = _spec(
        "{optimizer: sgd, learning_rate: 0.1, epochs: 5, batch_size: 4, "
        "schedule: {type: step, step_size: 2, gamma: 0.1}}"
    )
    model = keras_seq.build(spec)
    x = np.zeros((8, 3, 2), "float32")
    history = model.fit(
        x, np.zeros((8, 1, 1), "float32"), verbose=0, **training.fit_options(spec.training)
    )
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.1, 0.1, 0.01, 0.01, 0.001], rtol=1e-5
    )


def test_optimizer_from_name_with_clipping():
    spec = _spec("{optimizer: RMSprop, learning_rate: 0.01, clipvalue: 0.5}")
    optimizer = training.optimizer(spec.training)
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert optimizer.clipvalue == 0.5 and optimizer.clipnorm is None
    assert {"adam", "adamw", "sgd", "rmsprop"} <= set(training.optimizer_names())


def test_unknown_optimizer_is_a_spec_error():
    with pytest.raises(keras_seq.SpecError, match="training.optimizer.*Did you mean 'adam'"):
        _spec("{optimizer: adamm}")
    assert "lossscaleoptimizer" not in training.optimizer_names()  # wraps another optimizer


def test_plateau_and_early_stopping_callbacks():
    spec = _spec(
        "{schedule: {type: plateau, factor: 0.5, patience: 4, min_learning_rate: 0.00001}, "
        "early_stopping: {monitor: val_mean_absolute_error, patience: 6}}"
    )
    plateau, stopping = training.callbacks(spec.training)
    assert isinstance(plateau, keras.callbacks.ReduceLROnPlateau)
    assert (plateau.monitor, plateau.factor, plateau.patience, plateau.min_lr) == (
        "val_loss",
        0.5,
        4,
        1e-5,
    )
    assert isinstance(stopping, keras.callbacks.EarlyStopping)
    assert (stopping.monitor, stopping.patience, stopping.restore_best_weights) == (
        "val_mean_absolute_error",
        6,
        True,
    )
    assert training.callbacks(_spec("{}").training) == []


def test_seed_repeats_training_with_dropout_and_shuffling():
    spec = keras_seq.load_spec(
        "seed: 7\ninput: {kind: tokens, vocab_size: 10, embedding_dim: 4}\n"
        "encoder: {cell: lstm, units: 5, layers: 2, dropout: 0.3, recurrent_dropout: 0.2}\n"
        "head: {type: classifier, classes: 2, dropout: 0.3}\n"
        "training: {epochs: 2, batch_size: 8}\n"
    )
    rng = np.random.default_rng(0)
    x, y = rng.integers(1, 10, (32, 6)), rng.integers(0, 2, 32)
    losses = []
    for _ in range(2):
        model = keras_seq.build(spec)
        history = model.fit(x, y, shuffle=True, verbose=0, **training.fit_options(spec.training))
        losses.append(history.history["loss"])
    np.testing.assert_array_equal(losses[0], losses[1])


def _tiny_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def test_non_finite_loss_stops_at_its_epoch_and_step():
    x = np.ones((8, 1), "float32")
    x[5] = np.nan  # batches of 2, not shuffled: the third step of the first epoch
    with pytest.raises(training.NonFiniteLoss) as caught:
        _tiny_model().fit(
            x,
            x,
            batch_size=2,
            epochs=3,
            shuffle=False,
            verbose=0,
            callbacks=[training.StopOnNonFiniteLoss()],
        )
    error = caught.value
    assert (error.epoch, error.step, error.name) == (1, 3, "loss") and math.isnan(error.value)
    message = str(error)
    assert "epoch 1, step 3" in message and "learning_rate (now 0.01)" in message
    assert "clipnorm" in message


def test_non_finite_validation_loss_stops_at_the_epoch_end():
    x = np.ones((4, 1), "float32")
    bad = np.full((2, 1), np.inf, "float32")
    with pytest.raises(training.NonFiniteLoss, match="val_loss became (inf|nan) at epoch 1;"):
        _tiny_model().fit(
            x,
            x,
            validation_data=(bad, bad),
            epochs=2,
            verbose=0,
            callbacks=[training.StopOnNonFiniteLoss()],
        )


def test_finite_training_is_untouched():
    x = np.ones((4, 1), "float32")
    history = _tiny_model().fit(
        x, x, epochs=2, verbose=0, callbacks=[training.StopOnNonFiniteLoss()]
    )
    assert len(history.history["loss"]) == 2


def test_random_state_lets_a_saved_model_draw_the_masks_of_the_live_one(tmp_path):
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dropout(0.5, seed=4), keras.layers.Dropout(0.3, seed=5)]
    )
    x = np.ones((3, 6), "float32")
    for _ in range(3):
        model(x, training=True)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert training.random_state(loaded) == [[4, 0], [5, 0]]  # Keras does not save it
    training.set_random_state(loaded, training.random_state(model))
    assert training.random_state(loaded) == [[4, 3], [5, 3]]
    live = keras.ops.convert_to_numpy(model(x, training=True))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x, training=True)), live)
    with pytest.raises(ValueError, match="holds 1 random states; the model has 2"):
        training.set_random_state(loaded, [[4, 0]])
