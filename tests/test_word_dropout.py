"""`WordDropout` and `input.word_dropout`: words replaced by <unk> in training only."""

import numpy as np
import pytest

import keras_seq
from keras_seq.layers import WordDropout
from keras_seq.tasks import Task

SPEC = """
seed: 3
input: {kind: tokens, embedding_dim: 4, word_dropout: %s}
encoder: {cell: gru, units: 4}
head: {type: tagger}
"""


def _ids(rng, shape):
    ids = rng.integers(2, 50, shape)
    ids[:, shape[1] // 2 :] *= rng.random((shape[0], 1)) < 0.5  # half the rows padded at the end
    return ids.astype("int32")


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_a_share_rate_of_real_words_becomes_unknown_in_training(rate):
    ids = _ids(np.random.default_rng(0), (64, 40))
    out = np.asarray(WordDropout(rate, seed=1)(ids, training=True))
    real = ids != 0
    changed = out != ids
    assert np.all(out[changed] == 1)  # replaced words become <unk>
    assert not np.any(changed & ~real)  # padding never changes
    share, n = changed[real].mean(), real.sum()
    assert abs(share - rate) < 4 * np.sqrt(rate * (1 - rate) / n), share
    assert np.array_equal(np.asarray(WordDropout(rate, seed=1)(ids)), ids)  # inference


def test_rate_zero_and_bad_rates():
    ids = _ids(np.random.default_rng(1), (4, 6))
    assert np.array_equal(np.asarray(WordDropout(0.0)(ids, training=True)), ids)
    for rate in (1.0, -0.1):
        with pytest.raises(ValueError, match="rate must be in"):
            WordDropout(rate)


def test_config_round_trip():
    layer = WordDropout(0.3, unknown_id=5, seed=7, name="wd")
    config = layer.get_config()
    assert WordDropout.from_config(config).get_config() == config


def test_the_spec_field_builds_the_layer_and_saves(tmp_path):
    records = [{"tokens": ["a", "b", "c"], "tags": ["X", "Y", "X"]}] * 8
    task = Task.for_spec(SPEC % 0.25).learn(records)
    model = task.build_model()
    assert [layer.rate for layer in model.layers if isinstance(layer, WordDropout)] == [0.25]
    encoded = task.encode(records)
    model.fit(encoded.x, encoded.y, sample_weight=encoded.sample_weight, epochs=1, verbose=0)
    task.save(tmp_path / "m.keras")
    loaded = keras_seq.load(tmp_path / "m.keras")
    assert task.predict([["a", "b"]]) == loaded.predict([["a", "b"]])
    plain = Task.for_spec(SPEC % 0).learn(records).build_model()
    assert not any(isinstance(layer, WordDropout) for layer in plain.layers)


@pytest.mark.parametrize(
    "source, message",
    [
        (SPEC % 1, "word_dropout"),
        (
            "input: {kind: features, dim: 2, word_dropout: 0.1}\nencoder: {cell: gru, units: 2}\n"
            "head: {type: classifier, classes: 2}\n",
            "applies only when input.kind is tokens",
        ),
    ],
)
def test_misuse_is_a_spec_error(source, message):
    with pytest.raises(keras_seq.SpecError, match=message):
        keras_seq.load_spec(source)
