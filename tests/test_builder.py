"""`keras_seq.build`: every bundled spec builds, with the parameters of a plain-Keras twin."""

import pathlib

import keras
import numpy as np
import pytest

import keras_seq

SPECS = pathlib.Path(__file__).resolve().parent.parent / "specs"
SIZES = {"vocab_size": 50, "classes": 5, "target_vocab_size": 20}


def _count(inputs, outputs):
    return keras.Model(inputs, outputs).count_params()


def _tokens(dim):
    tokens = keras.Input((None,), dtype="int32")
    return tokens, keras.layers.Embedding(SIZES["vocab_size"], dim)(tokens)


# Our cells keep PyTorch's two biases (b_ih and b_hh); Keras' LSTM and SimpleRNN have one, so
# each layer-direction of ours has G * units more parameters (G = 4 for LSTM, 1 for simple).
# Keras' GRU(reset_after=True) already has both biases: no correction.
def _extra_bias(gates, units, layer_directions):
    return gates * units * layer_directions


def _tagger_twin():
    tokens, x = _tokens(64)
    x = keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True))(x)
    return _count(tokens, keras.layers.Dense(5)(x)) + _extra_bias(4, 64, 2)


def _classifier_twin():
    tokens, x = _tokens(32)
    x = keras.layers.Bidirectional(keras.layers.GRU(48, reset_after=True))(x)
    return _count(tokens, keras.layers.Dense(5)(x))


def _forecaster_twin():
    features = keras.Input((48, 2))
    x = keras.layers.LSTM(32, return_sequences=True)(features)
    x = keras.layers.LSTM(32)(x)
    return _count(features, keras.layers.Dense(6)(x)) + _extra_bias(4, 32, 2)


def _seq2seq_twin():
    tokens, x = _tokens(32)
    _, h_forward, h_backward = keras.layers.Bidirectional(
        keras.layers.GRU(128, reset_after=True, return_state=True)
    )(x)
    h = keras.layers.Dense(128)(keras.layers.Concatenate()([h_forward, h_backward]))  # bridge
    targets = keras.Input((None,), dtype="int32")
    y = keras.layers.Embedding(SIZES["target_vocab_size"], 32)(targets)
    y = keras.layers.GRU(128, reset_after=True, return_sequences=True)(y, initial_state=h)
    outputs = keras.layers.Dense(SIZES["target_vocab_size"])(y)
    return _count([tokens, targets], outputs)


def _seed_rnn_twin():
    features = keras.Input((24, 2))
    x = keras.layers.SimpleRNN(32, return_sequences=True)(features)
    x = keras.layers.SimpleRNN(32, return_sequences=True)(x)
    x = keras.layers.SimpleRNN(32)(x)
    return _count(features, keras.layers.Dense(1)(x)) + _extra_bias(1, 32, 3)


TWINS = {
    "tagger.yaml": _tagger_twin,
    "classifier.yaml": _classifier_twin,
    "forecaster.yaml": _forecaster_twin,
    "seq2seq.yaml": _seq2seq_twin,
    "seed-rnn.yaml": _seed_rnn_twin,
}


@pytest.mark.parametrize("name", sorted(TWINS))
def test_spec_builds_with_plain_keras_parameter_count(name):
    model = keras_seq.build(SPECS / name, **SIZES)
    assert model.count_params() == TWINS[name]()
    spec = keras_seq.load_spec(SPECS / name)
    assert type(model.optimizer).__name__.lower() == spec.training.optimizer
    learning_rate = keras.ops.convert_to_numpy(model.optimizer.learning_rate)
    np.testing.assert_allclose(learning_rate, spec.training.learning_rate, rtol=1e-6)
    assert model.loss == (spec.training.loss or keras_seq.heads.DEFAULT_LOSS[spec.head.type])


def test_none_head_returns_encoder_outputs():
    model = keras_seq.build(
        "input: {kind: features, dim: 3}\n"
        "encoder: {cell: gru, units: 4, direction: bidirectional, merge: sum}\nhead: {type: none}"
    )
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    encoder = model.get_layer("encoder")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), keras.ops.convert_to_numpy(encoder(x)), atol=1e-6
    )


def test_auto_sizes_need_overrides():
    with pytest.raises(keras_seq.SpecError) as error:
        keras_seq.build(SPECS / "tagger.yaml")
    message = str(error.value)
    assert "input.vocab_size" in message and "build(..., vocab_size=N)" in message
    assert "head.classes" in message and "keras-seq train" in message


def test_bad_overrides_are_rejected():
    with pytest.raises(TypeError, match="vocab_size"):
        keras_seq.build(SPECS / "tagger.yaml", vocabulary=10)
    with pytest.raises(keras_seq.SpecError, match="head.classes"):
        keras_seq.build(SPECS / "tagger.yaml", vocab_size=10, classes="many")


def test_overrides_apply_to_spec():
    spec = keras_seq.builder.resolve(SPECS / "seq2seq.yaml", **SIZES)
    assert (spec.input.vocab_size, spec.head.target_vocab_size) == (50, 20)
    assert spec.head.classes is None  # classes does not apply to seq2seq and is ignored


def test_seed_repeats_weights():
    first, second = (keras_seq.build(SPECS / "tagger.yaml", **SIZES) for _ in range(2))
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    forward, backward = first.get_layer("encoder").cells[0]
    assert not np.array_equal(
        keras.ops.convert_to_numpy(forward.kernel), keras.ops.convert_to_numpy(backward.kernel)
    )


def test_model_compiles_from_training_section():
    model = keras_seq.build(SPECS / "forecaster.yaml")
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.optimizer.clipnorm == 1.0
    np.testing.assert_allclose(
        float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 0.003, rtol=1e-6
    )
