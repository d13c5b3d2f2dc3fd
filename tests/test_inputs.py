"""The token input front: characters (`input.chars`) and pretrained vectors (`input.vectors`)."""

import keras
import numpy as np
import pytest
from task_checks import check_task

import keras_seq
from keras_seq.data import build_char_vocabulary, encode_characters
from keras_seq.tasks import Task

STEMS = ["walk", "talk", "jump", "play", "read", "sing", "cook", "call", "pull", "kick"]
SUFFIXES = {"ing": "VERB", "ly": "ADV", "ness": "NOUN"}


def suffix_records(rng, stems, count):
    """Two-word sentences whose tags follow each word's suffix alone."""
    records = []
    for _ in range(count):
        pairs = [(str(rng.choice(stems)), str(rng.choice(list(SUFFIXES)))) for _ in range(2)]
        records.append(
            {"tokens": [stem + end for stem, end in pairs], "tags": [SUFFIXES[e] for _, e in pairs]}
        )
    return records


def tagger(chars=""):
    return Task.for_spec(
        f"seed: 1\ninput: {{kind: tokens, embedding_dim: 8, max_length: 4{chars}}}\n"
        "encoder: {cell: gru, units: 8, direction: bidirectional}\n"
        "head: {type: tagger}\ntraining: {learning_rate: 0.05, batch_size: 32}\n"
    )


def test_characters_tag_words_never_seen_in_training():
    # Every test word is unseen, so a word-only tagger reads <unk> alone and can do no better
    # than the commonest tag (about 1/3 here); the characters carry the suffix.
    rng = np.random.default_rng(0)
    train = suffix_records(rng, STEMS[:6], 64)
    test = suffix_records(rng, STEMS[6:], 32)
    task = tagger(", chars: {units: 16, embedding_dim: 8}")
    model = task.learn(train).build_model()
    encoded = task.encode(train)
    model.fit(encoded.x, encoded.y, sample_weight=encoded.sample_weight, epochs=6, verbose=0)
    assert task.evaluate(test)["accuracy"] > 0.9


@pytest.mark.parametrize("encoder", ["rnn", "cnn"])
def test_char_tagger_task_state_arrays_and_save_load(encoder, tmp_path):
    rng = np.random.default_rng(1)
    train = suffix_records(rng, STEMS, 24)
    task = tagger(
        f", chars: {{encoder: {encoder}, units: 4, embedding_dim: 4, max_word_length: 6}}"
    )
    loaded, tags = check_task(task, train, [["walking", "calmly"], "sing"], tmp_path, epochs=2)
    sentences = [r["tokens"] for r in train]
    assert loaded.state["chars"] == build_char_vocabulary(sentences)
    assert loaded.spec.input.chars.char_vocab_size == len(loaded.state["chars"])
    encoded = loaded.encode(train)
    expected = encode_characters(sentences, loaded.state["chars"], 4, 6)
    np.testing.assert_array_equal(encoded.x["chars"], expected.ids)
    assert encoded.stats.cut_words == expected.cut > 0
    assert [len(t) for t in tags] == [2, 1]


def test_char_classifier_builds_with_two_inputs():
    task = Task.for_spec(
        "seed: 1\ninput: {kind: tokens, embedding_dim: 8, chars: {units: 4}}\n"
        "encoder: {cell: lstm, units: 8}\nhead: {type: classifier, pooling: max}\n"
    )
    records = [{"tokens": ["good", "film"], "label": "pos"}, {"tokens": ["bad"], "label": "neg"}]
    model = task.learn(records).build_model()
    assert sorted(model.input) == ["chars", "tokens"]
    probabilities = model.predict(task.encode(records).x, verbose=0)
    assert probabilities.shape == (2, 2)


def conllu(path, sentences):
    lines = []
    for sentence in sentences:
        for i, (word, tag) in enumerate(sentence, start=1):
            lines.append(f"{i}\t{word}\t_\t{tag}\t_\t_\t_\t_\t_\t_")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def vectors_spec(tmp_path, dim=3, trainable=False):
    conllu(tmp_path / "train.conllu", [[("The", "DET"), ("cat", "NOUN")], [("a", "DET")]])
    conllu(tmp_path / "test.conllu", [[("The", "DET"), ("Dog", "NOUN")], [("an", "DET")]])
    (tmp_path / "vectors.txt").write_text(
        "3 3\nthe 1 2 3\ncat 4 5 6\ndog 7 8 9\nemu 0 0 1\n", encoding="utf-8"
    )
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"seed: 1\ninput: {{kind: tokens, embedding_dim: {dim}, lowercase: true,\n"
        f"  vectors: {{path: vectors.txt, trainable: {str(trainable).lower()}}}}}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: tagger}\n"
        "data: {format: conllu, train: train.conllu, test: test.conllu}\n",
        encoding="utf-8",
    )
    return spec


def test_vectors_extend_the_vocabulary_and_fill_frozen_rows(tmp_path, caplog):
    task = Task.for_spec(vectors_spec(tmp_path))
    assert task.spec.input.vectors.path == str(tmp_path / "vectors.txt")
    with caplog.at_level("INFO", logger="keras_seq.data"):
        model = task.learn(task.read_split("train")).build_model()
    vocab = task.state["vocab"]
    assert vocab.tokens[-1] == "dog" and "emu" not in vocab  # a test word with a vector
    assert "3 of 4 vocabulary words found (75.0%)" in caplog.text
    table = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    for word, row in (("the", [1, 2, 3]), ("cat", [4, 5, 6]), ("dog", [7, 8, 9])):
        np.testing.assert_array_equal(table[vocab.id(word)], row)
    assert not np.allclose(table[vocab.id("a")], 0.0)  # no vector: its random start
    encoded = task.encode(task.read_split("train"))
    model.fit(encoded.x, encoded.y, sample_weight=encoded.sample_weight, epochs=2, verbose=0)
    after = keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)
    np.testing.assert_array_equal(after, table)  # trainable: false


def test_vectors_of_another_dimension_are_a_data_error(tmp_path):
    task = Task.for_spec(vectors_spec(tmp_path, dim=4))
    with pytest.raises(keras_seq.DataError, match="have 3 dimensions, the model's embedding has 4"):
        task.learn(task.read_split("train"))


@pytest.mark.parametrize(
    "source, message",
    [
        ("{kind: features, dim: 3, chars: {}}", "'chars' applies only when input.kind is tokens"),
        (
            "{kind: tokens, chars: {encoder: cnn, cell: gru}}",
            "applies only when input.chars.encoder",
        ),
    ],
)
def test_misplaced_fields_are_spec_errors(source, message):
    with pytest.raises(keras_seq.SpecError, match=message):
        keras_seq.load_spec(
            f"input: {source}\nencoder: {{cell: gru, units: 4}}\nhead: {{type: none}}"
        )


def test_chars_on_a_seq2seq_head_is_a_spec_error():
    with pytest.raises(keras_seq.SpecError, match="input.chars is read only by tagger and"):
        keras_seq.load_spec(
            "input: {kind: tokens, chars: {}}\n"
            "encoder: {cell: gru, units: 4}\nhead: {type: seq2seq}"
        )


def test_input_dropout_drops_whole_input_values_in_training_only():
    rng = np.random.default_rng(2)
    records = suffix_records(rng, STEMS, 16)
    chars = ", dropout: 0.5, chars: {encoder: cnn, embedding_dim: 4, units: 4}"
    task = tagger(chars)
    task.learn(records).build_model()
    layer = task.model.get_layer("input_dropout")
    words = task.model.get_layer("words").output  # embedding joined to the characters' encoding
    probe = keras.Model(task.model.inputs, [words, layer.output])
    x = task.encode(records).x
    joined, dropped = (keras.ops.convert_to_numpy(a) for a in probe(x, training=True))
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], 2 * joined[kept], rtol=1e-6)  # scaled 1 / (1 - p)
    assert 0.4 < 1 - kept[joined != 0].mean() < 0.6
    joined, passed = (keras.ops.convert_to_numpy(a) for a in probe(x, training=False))
    np.testing.assert_array_equal(passed, joined)
