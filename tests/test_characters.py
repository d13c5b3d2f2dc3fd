import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import check_layer
from test_cells import numpy_step

import keras_seq

CHARS, EMBED, UNITS = 9, 3, 4
WORDS = [[3, 4, 5], [6], [7, 8, 2, 3, 1], []]  # ids of each word's real characters


def numpy_rnn(layer, word):
    """Bidirectional final states of the cells over the word's characters, in NumPy."""
    table = ops.convert_to_numpy(layer.embedding.embeddings)
    finals = []
    for cell, order in zip(layer.network.cells[0], (word, word[::-1])):
        weights = [ops.convert_to_numpy(v) for v in cell.weights]
        states = [np.zeros((1, UNITS), "float32")] * cell.state_count
        for char in order:
            states = numpy_step(layer.cell, table[char][None], states, weights)
        finals.append(states[0][0])
    return np.concatenate(finals)


def numpy_cnn(layer, word):
    """Convolution over the word alone (zeros beyond it), tanh, max over characters."""
    table = ops.convert_to_numpy(layer.embedding.embeddings)
    kernel, bias = (ops.convert_to_numpy(v) for v in layer.network.weights)
    width = layer.kernel_size
    left = (width - 1) // 2
    padded = np.zeros((len(word) + width - 1, EMBED), "float32")
    padded[left : left + len(word)] = table[word]
    steps = [
        np.tanh(sum(padded[c + k] @ kernel[k] for k in range(width)) + bias)
        for c in range(len(word))
    ]
    return np.max(steps, axis=0)


def reference(layer, word):
    if not word:
        return np.zeros(layer.output_size, "float32")
    return numpy_rnn(layer, word) if layer.encoder == "rnn" else numpy_cnn(layer, word)


def encoder(kind, seed=0, **kwargs):
    layer = keras_seq.layers.CharacterEncoder(CHARS, EMBED, UNITS, encoder=kind, **kwargs)
    layer.build((None, None, 6))
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(rng.uniform(-0.6, 0.6, variable.shape).astype("float32"))
    return layer


def batch(sentences, chars, pre=False):
    """(batch, words, chars) ids; each word's characters post- (or pre-) padded to `chars`."""
    words = max(len(s) for s in sentences)
    ids = np.zeros((len(sentences), words, chars), "int32")
    for i, sentence in enumerate(sentences):
        for j, word in enumerate(sentence):
            if word:
                span = slice(chars - len(word), chars) if pre else slice(0, len(word))
                ids[i, j, span] = word
    return ids


CONFIGS = [
    ("rnn", {"cell": "lstm"}),
    ("cnn", {"kernel_size": 3}),
    ("cnn", {"kernel_size": 2}),
]


@pytest.mark.parametrize("kind, kwargs", CONFIGS)
def test_each_word_matches_numpy_reference_whatever_the_padding(kind, kwargs):
    layer = encoder(kind, **kwargs)
    sentences = [WORDS, WORDS[1:2]]  # the second sentence is padded with three empty words
    expected = [[reference(layer, word) for word in s] for s in sentences]
    tight = batch(sentences, 5)  # characters post-padded to the longest word, then wider:
    wide = np.concatenate([batch(sentences, 9), batch(sentences, 9, pre=True)])
    for ids in (tight, wide):
        got = ops.convert_to_numpy(layer(ids))
        assert got.shape == (len(ids), len(WORDS), layer.output_size)
        for i in range(len(ids)):
            for j, want in enumerate(expected[i % 2]):
                np.testing.assert_allclose(got[i, j], want, atol=1e-5)
            if i % 2:
                np.testing.assert_array_equal(got[i, 1:], 0.0)  # padded words give zeros


def test_output_mask_marks_words_with_characters():
    layer = encoder("cnn")
    mask = layer.compute_mask(batch([WORDS, WORDS[1:2]], 5))
    np.testing.assert_array_equal(
        ops.convert_to_numpy(mask), [[True, True, True, False], [True, False, False, False]]
    )


def test_sentence_mask_survives_concatenation_with_word_embeddings():
    words = keras.Input((None,), dtype="int32")
    chars = keras.Input((None, 5), dtype="int32")
    joined = keras.layers.Concatenate()(
        [
            keras.layers.Embedding(10, 2, mask_zero=True)(words),
            keras_seq.layers.CharacterEncoder(CHARS, EMBED, UNITS)(chars),
        ]
    )
    summed = keras_seq.layers.SequencePooling("mean")(joined)
    model = keras.Model([words, chars], [joined, summed])
    char_ids = batch([[WORDS[0], WORDS[1], []]], 5)
    word_ids = np.array([[2, 3, 0]])
    per_word, mean = (ops.convert_to_numpy(t) for t in model([word_ids, char_ids]))
    np.testing.assert_allclose(mean[0], per_word[0, :2].mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn", "cnn"])
def test_layer_checks(kind, tmp_path):
    layer = keras_seq.layers.CharacterEncoder(CHARS, EMBED, UNITS, encoder=kind)
    ids = batch([WORDS, WORDS[:2], WORDS[2:]], 5)
    check_layer(layer, ids, (3, len(WORDS), layer.output_size), tmp_path)


def test_config_round_trip_keeps_initializers():
    layer = keras_seq.layers.CharacterEncoder(
        CHARS, EMBED, UNITS, encoder="cnn", kernel_size=5, kernel_initializer="he_normal"
    )
    config = layer.get_config()
    restored = keras_seq.layers.CharacterEncoder.from_config(config)
    assert restored.get_config() == config
    assert config["kernel_size"] == 5 and restored.output_size == UNITS


def test_bad_encoder_raises():
    with pytest.raises(ValueError, match="encoder"):
        keras_seq.layers.CharacterEncoder(CHARS, EMBED, UNITS, encoder="lstm")


def test_cut_words_and_truncation_are_reported_once_by_their_one_owner(caplog):
    """`EncodeStats.warn` (keras_seq.data) says it, once per encoding: scoring records
    predicts them quietly, since their encoding already reported them."""
    import logging

    task = keras_seq.tasks.Task.for_spec(
        "seed: 1\ninput: {kind: tokens, embedding_dim: 4, max_length: 3, "
        "chars: {units: 2, embedding_dim: 2, max_word_length: 3}}\n"
        "encoder: {cell: gru, units: 2}\nhead: {type: tagger}\n"
    )
    records = [
        {"tokens": ["a", "longword", "b", "c"], "tags": ["X", "Y", "X", "X"]},
        {"tokens": ["ab"], "tags": ["X"]},
    ]
    task.learn(records).build_model()

    def reported():
        found = [r.getMessage() for r in caplog.records if "longer than" in r.getMessage()]
        caplog.clear()
        return found

    with caplog.at_level(logging.WARNING):
        task.evaluate(records)
        assert reported() == [
            "the records: 1 of 2 sequences were longer than max_length and were truncated",
            "the records: 1 of 5 words were longer than max_word_length; their characters were cut",
        ]
        task.predict([["longword", "b", "c", "d"]])
        assert reported() == [
            "the inputs: 1 of 1 sequences were longer than max_length and were truncated",
            "the inputs: 1 of 4 words were longer than max_word_length; their characters were cut",
        ]
