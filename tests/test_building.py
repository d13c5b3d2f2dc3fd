"""`keras_seq.build`, `load` and `load_dataset`: every bundled spec builds (sizes learned from
its data or given), with the parameters of a plain-Keras twin."""

import pathlib

import keras
import numpy as np
import pytest
from test_data import raises, write

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
    task = keras_seq.tasks.Task.for_spec(spec)
    assert model.loss == (spec.training.loss or task.default_loss())


@pytest.mark.parametrize("name", sorted(p.name for p in SPECS.glob("*.yaml")))
def test_every_spec_builds_with_sizes_from_its_data(name):
    spec = keras_seq.load_spec(SPECS / name)
    data = spec.data
    if data is not None and not (data.train and pathlib.Path(data.train).exists()):
        pytest.skip(f"data.train ({data.train}) is not on this machine")
    model = keras_seq.build(SPECS / name)
    task = keras_seq.tasks.Task.for_spec(spec)
    records = task.read_split("train")
    if spec.head.type in ("tagger", "classifier"):
        key = task.target_key
        labels = {t for r in records for t in (r[key] if key == "tags" else [r[key]])}
        assert model.output.shape[-1] == len(labels)
    config = model.task_config
    assert config["spec"]["input"].get("vocab_size") != "auto"


def test_auto_sizes_without_data_name_the_field_and_both_fixes():
    spec = keras_seq.load_spec(SPECS / "tagger.yaml").replace(data=None)
    task = keras_seq.tasks.Task.for_spec(spec)
    task.bundled = None  # a head with no bundled dataset
    with pytest.raises(keras_seq.SpecError) as error:
        task.build_model()
    message = str(error.value)
    assert "input.vocab_size" in message and "build(..., vocab_size=N)" in message
    assert "head.classes" in message and "data section with a train file" in message


def test_bad_overrides_are_rejected():
    with pytest.raises(keras_seq.SpecError, match="vocab_size"):
        keras_seq.build(SPECS / "tagger.yaml", vocabulary=10)
    with pytest.raises(keras_seq.SpecError, match="head.classes"):
        keras_seq.build(SPECS / "tagger.yaml", vocab_size=10, classes="many")
    with pytest.raises(keras_seq.SpecError, match="input.vocab_size"):
        keras_seq.build(SPECS / "tagger.yaml", vocab_size=2, classes=3)  # schema: >= 3


def test_overrides_apply_to_spec():
    from keras_seq.tasks.building import resolved_task

    spec = resolved_task(SPECS / "seq2seq.yaml", **SIZES).spec
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


# ---- load_dataset ----
def _spec(head, data_section=None, encoder_input=None, **head_options):
    spec = {
        "input": encoder_input or {"kind": "tokens"},
        "encoder": {"cell": "gru", "units": 4},
        "head": {"type": head, **head_options},
    }
    if data_section:
        spec["data"] = data_section
    return keras_seq.load_spec(spec)


def tokens_spec(head, data_section=None, **input_options):
    return _spec(head, data_section, {"kind": "tokens", **input_options})


def test_load_dataset_learns_from_train_and_maps_later_splits(tmp_path):
    write(tmp_path, "train.csv", "review,y\ngood film,pos\nbad film,neg\n")
    write(tmp_path, "dev.csv", "review,y\nGood plot,pos\nfilm,meh\n")
    section = dict(
        format="csv",
        train=str(tmp_path / "train.csv"),
        validation=str(tmp_path / "dev.csv"),
        text_column="review",
        label_column="y",
    )
    spec = tokens_spec("classifier", section, lowercase=True, max_length=4)
    train = keras_seq.load_dataset(spec)
    assert train.labels.tokens == ["neg", "pos"] and train.x.shape == (2, 4)
    with pytest.raises(ValueError, match="training split's vocab"):
        keras_seq.load_dataset(spec, "validation")
    dev = keras_seq.load_dataset(spec, "validation", vocab=train.vocab, labels=train.labels)
    assert dev.stats.oov == 1 and dev.stats.unseen_labels == {"meh": 1}
    np.testing.assert_array_equal(dev.sample_weight, [1, 0])


def test_load_forecasting_from_columns(tmp_path):
    rows = "\n".join(f"{t},{t * 0.5},{-t}" for t in range(8))
    write(tmp_path, "s.csv", "t,load,temp\n" + rows + "\n")
    section = dict(
        format="csv",
        train=str(tmp_path / "s.csv"),
        value_columns=["load", "temp"],
        target_columns=["temp"],
        lookback=3,
    )
    spec = _spec("forecaster", section, {"kind": "features", "dim": 2}, horizon=2)
    encoded = keras_seq.load_dataset(spec)
    assert encoded.x.shape == (4, 3, 2) and encoded.y.shape == (4, 2, 1)
    np.testing.assert_array_equal(encoded.y[0, :, 0], [-3, -4])
    wrong = spec.replace({"head.outputs": 2})
    with raises(tmp_path / "s.csv", None, "head.outputs is 2"):
        keras_seq.load_dataset(wrong)


@pytest.mark.parametrize("head", ["tagger", "classifier", "seq2seq", "forecaster"])
def test_bundled_datasets_load(head):
    if head == "forecaster":
        spec = _spec(head, None, {"kind": "features", "dim": 2, "max_length": 24})
    else:
        spec = tokens_spec(head, max_length=None)
    train = keras_seq.load_dataset(spec, "train")
    test = keras_seq.load_dataset(spec, "test", vocab=train.vocab, labels=train.labels)
    assert len(train.y) > 4 * len(test.y) > 0
    if head != "forecaster":
        assert test.stats.oov == 0 and not test.stats.unseen_labels
