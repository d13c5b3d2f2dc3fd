"""Word shapes (`input.shape_features`): the features against hand-computed values; a tagger
reading them passes the task checks (save/load), exports them with their rules, and finds
entities from them alone."""

import json
import pathlib

import keras
import numpy as np
import pytest
from task_checks import check_task

import keras_seq
from keras_seq.data.shapes import SHAPE_FEATURES, encode_shapes, word_shape
from keras_seq.export import export
from keras_seq.tasks import Task

NAMES = [name for name, _, _ in SHAPE_FEATURES]
DATA = pathlib.Path(keras_seq.__file__).parent / "datasets"


@pytest.mark.parametrize(
    "word, features",
    [
        ("Paris", {"capitalised"}),
        ("paris", set()),
        ("NASA", {"capitalised", "all_caps"}),
        ("I", {"capitalised", "all_caps"}),
        ("R2D2", {"capitalised", "all_caps", "has_digit"}),
        ("2017", {"has_digit", "all_digits"}),
        ("٣", {"has_digit", "all_digits"}),  # an Arabic-Indic three: Unicode Nd
        ("3.5", {"has_digit", "has_punctuation"}),
        ("@Nike", {"mention", "has_punctuation"}),
        ("#tbt", {"hashtag", "has_punctuation"}),
        ("HTTPS://t.co/x1", {"capitalised", "url", "has_digit", "has_punctuation"}),
        ("www.bbc.com", {"url", "has_punctuation"}),
        ("httpd", set()),
        ("don't", {"has_punctuation"}),
        ("...", {"has_punctuation", "all_punctuation"}),
        ("«", {"has_punctuation", "all_punctuation"}),
        ("$", set()),  # a currency sign is a symbol (Sc), not punctuation
        ("Ñandú", {"capitalised"}),
    ],
)
def test_word_shape_against_hand_computed_features(word, features):
    assert word_shape(word) == [float(name in features) for name in NAMES]


def test_encode_shapes_pads_and_truncates_like_the_word_ids():
    shapes = encode_shapes([["Hi", "@x", "42"], ["ok"]], max_length=2)
    assert shapes.shape == (2, 2, len(NAMES)) and shapes.dtype == np.float32
    np.testing.assert_array_equal(shapes[0], [word_shape("Hi"), word_shape("@x")])
    np.testing.assert_array_equal(shapes[1], [word_shape("ok"), [0.0] * len(NAMES)])


def shape_tagger(shapes=True, extra="", vocab="auto"):
    return Task.for_spec(
        f"seed: 3\ninput: {{kind: tokens, embedding_dim: 8, lowercase: true, max_length: 12, "
        f"vocab_size: {vocab}, shape_features: {str(shapes).lower()}{extra}}}\n"
        "encoder: {cell: gru, units: 16, direction: bidirectional}\n"
        "head: {type: tagger, output: crf}\ntraining: {learning_rate: 0.02, batch_size: 32}\n"
        f"data: {{format: jsonl, tokens_column: tokens, tags_column: tags, "
        f"train: {DATA / 'ner-train.jsonl'}, validation: {DATA / 'ner-validation.jsonl'}}}\n"
    )


def test_a_shape_tagger_passes_the_task_checks(tmp_path):
    task = shape_tagger(extra=", chars: {units: 4, embedding_dim: 4}")
    train = task.read_split("train")[:40]
    raw = [["Mei", "Chen", "met", "@Initech"], "in New York 2019"]
    loaded, tags = check_task(task, train, raw, tmp_path, epochs=2)
    assert sorted(loaded.model.input) == ["chars", "shapes", "tokens"]
    sentences = [record["tokens"] for record in train]
    encoded = loaded.encode(train)
    # From the tokens as written: lowercase applies to the word ids only.
    np.testing.assert_array_equal(encoded.x["shapes"], encode_shapes(sentences, 12))
    assert encoded.x["shapes"][:, :, 0].any()
    assert [len(t) for t in tags] == [4, 4]


def _entity_f1(task, epochs=8):
    train = task.read_split("train")
    encoded = task.learn(train).encode(train)
    task.build_model().fit(
        encoded.x, encoded.y, sample_weight=encoded.sample_weight, epochs=epochs, verbose=0
    )
    return task.evaluate(task.read_split("validation"))["entity_f1"]


def test_shapes_alone_find_entities_that_unknown_words_hide():
    # vocab_size 3: every word but the commonest is <unk>, so without shapes the tagger sees
    # only sentence lengths; the capitals (names start with one) make the entities findable.
    without = _entity_f1(shape_tagger(shapes=False, vocab=3))
    with_shapes = _entity_f1(shape_tagger(vocab=3))
    assert without < 0.2 < 0.8 < with_shapes, (without, with_shapes)


FORMAT = {"torch": "onnx", "tensorflow": "saved_model", "jax": "saved_model"}


def test_the_export_carries_the_shapes_and_their_rules(tmp_path):
    task = shape_tagger(extra=", chars: {units: 4, embedding_dim: 4}")
    train = task.read_split("train")
    encoded = task.learn(train).encode(train)
    task.build_model().fit(encoded.x, encoded.y, sample_weight=encoded.sample_weight, verbose=0)
    fmt = FORMAT[keras.backend.backend()]
    folder = export(task, tmp_path / "out", fmt)
    raw = [r["tokens"] for r in task.read_split("validation")] + [["#NYC", "http://x.co", "@Mo"]]
    x = task.encode_inputs(raw)  # padded to input.max_length (12), the graph's time length
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(folder / "model.onnx"))
        tags = session.run(None, {i.name: x[i.name] for i in session.get_inputs()})[0]
    else:
        import tensorflow as tf

        loaded = tf.saved_model.load(str(folder / "saved_model"))  # keeps its variables alive
        tags = loaded.serve(x).numpy()
    labels = task.state["labels"].tokens
    exported = [[labels[i] for i in row[: len(s)]] for row, s in zip(tags, raw)]
    assert exported == [p[:12] for p in task.predict(raw)]
    described = json.loads((folder / "preprocessing.json").read_text())["input"]
    assert described["shape_features"]["input"] == "shapes"
    rules = described["shape_features"]["features"]
    assert [rule["name"] for rule in rules] == NAMES
    assert rules[4]["rule"] == "it starts with @"


def test_shape_features_on_a_seq2seq_head_is_a_spec_error():
    with pytest.raises(keras_seq.SpecError, match="input.shape_features is read only by tagger"):
        keras_seq.load_spec(
            "input: {kind: tokens, shape_features: true}\n"
            "encoder: {cell: gru, units: 4}\nhead: {type: seq2seq}"
        )
    keras_seq.load_spec(  # false is the default, allowed anywhere tokens are
        "input: {kind: tokens, shape_features: false}\n"
        "encoder: {cell: gru, units: 4}\nhead: {type: seq2seq}"
    )
