"""Tasks: each learns a small problem it should solve, padding never changes a result, and
every task passes the shared checks (config, save/load, fit, predict on raw records)."""

import keras
import numpy as np
import pytest
from task_checks import check_task

import keras_seq
from keras_seq.tasks.seq2seq import BOS_ID, EOS_ID


def _tokens(rng, count, low, high, min_length, max_length):
    """`count` post-padded rows of random ids in [low, high), lengths in [min, max]."""
    lengths = rng.integers(min_length, max_length + 1, count)
    ids = rng.integers(low, high, (count, max_length))
    ids[np.arange(max_length)[None, :] >= lengths[:, None]] = 0
    return ids.astype("int32"), lengths


def _spec(head, encoder="{cell: gru, units: 16}", kind="tokens, vocab_size: 12, embedding_dim: 8"):
    return (
        f"seed: 1\ninput: {{kind: {kind}}}\nencoder: {encoder}\nhead: {head}\n"
        "training: {learning_rate: 0.02, batch_size: 32}\n"
    )


# --- learning: thresholds leave a wide margin over what each backend reaches -----------------


def test_tagger_learns_token_class():
    # Tag of each token = its id mod 3: needs the step's own token only.
    rng = np.random.default_rng(0)
    x, _ = _tokens(rng, 448, 2, 12, 3, 6)
    y = x % 3
    model = keras_seq.build(_spec("{type: tagger, classes: 3}"))
    model.fit(x[:320], y[:320], epochs=3, verbose=0)
    _, accuracy = model.evaluate(x[320:], y[320:], verbose=0)
    assert accuracy > 0.95


def test_classifier_detects_token():
    # Label 1 when token 5 occurs anywhere: needs memory over the whole sequence.
    rng = np.random.default_rng(1)
    x, _ = _tokens(rng, 512, 2, 12, 3, 6)
    x[x == 5] = 6
    positive = rng.random(len(x)) < 0.5
    where = rng.integers(0, 3, len(x))  # every sequence has at least 3 real steps
    x[positive, where[positive]] = 5
    y = positive.astype("int32")
    model = keras_seq.build(_spec("{type: classifier, classes: 2}"))
    model.fit(x[:384], y[:384], epochs=4, verbose=0)
    _, accuracy = model.evaluate(x[384:], y[384:], verbose=0)
    assert accuracy > 0.9


def test_forecaster_fits_sine():
    # 8 past values of sin(0.4 t + phase) -> the next 2 values.
    rng = np.random.default_rng(2)
    phase = rng.uniform(0, 2 * np.pi, (448, 1))
    series = np.sin(0.4 * np.arange(10)[None, :] + phase).astype("float32")
    x, y = series[:, :8, None], series[:, 8:, None]
    model = keras_seq.build(_spec("{type: forecaster, horizon: 2}", kind="features, dim: 1"))
    model.fit(x[:320], y[:320], epochs=6, verbose=0)
    mse, _ = model.evaluate(x[320:], y[320:], verbose=0)
    assert mse < 0.01


def test_seq2seq_reverses_sequence():
    # Source ids 2..5 stand for symbols 0..3; the target is the source reversed, in target ids
    # 4..7 (after <pad> <unk> <bos> <eos>), followed by <eos>.
    rng = np.random.default_rng(3)
    source, lengths = _tokens(rng, 576, 2, 6, 2, 3)
    decoder_input = np.zeros((len(source), 4), "int32")
    target = np.zeros((len(source), 4), "int32")
    for row, (ids, length) in enumerate(zip(source, lengths)):
        reversed_ids = ids[:length][::-1] + 2
        decoder_input[row, : length + 1] = [BOS_ID, *reversed_ids]
        target[row, : length + 1] = [*reversed_ids, EOS_ID]
    spec = _spec(
        "{type: seq2seq, target_vocab_size: 8, max_output_length: 4}",
        encoder="{cell: gru, units: 32}",
        kind="tokens, vocab_size: 6, embedding_dim: 8",
    )
    task, model = _seq2seq(spec)
    model.fit([source[:448], decoder_input[:448]], target[:448], epochs=8, verbose=0)
    decoded = task.generate(source[448:], max_length=4)
    expected = target[448:, : decoded.shape[1]]
    exact = np.mean([np.array_equal(d, e) for d, e in zip(decoded, expected)])
    assert exact > 0.85, exact


# --- padding never counts ---------------------------------------------------------------------

_BIDIRECTIONAL = "{cell: lstm, units: 6, layers: 2, direction: bidirectional}"


def _padded(x, extra):
    return np.pad(x, ((0, 0), (0, extra)))


def _call(model, x):
    # Eager calls: each input length gets its own concrete shapes (see the note on evaluate).
    return keras.ops.convert_to_numpy(model(x, training=False))


def test_tagger_padding_changes_no_prediction_or_loss():
    spec = _spec("{type: tagger, classes: 4}", encoder=_BIDIRECTIONAL)
    model = keras_seq.build(spec)
    x = np.array([[3, 7, 2, 9, 4]], "int32")
    y = np.array([[0, 3, 1, 2, 2]], "int32")
    alone = _call(model, x)
    padded = _call(model, _padded(x, 4))
    np.testing.assert_allclose(padded[:, :5], alone, atol=1e-6)
    # Wrong labels on the pads: they must not count in loss or accuracy.
    y_pads = np.concatenate([y, np.full((1, 4), 3, "int32")], axis=1)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    # A second model with the same seed (same weights) evaluates the padded batch: TensorFlow
    # traces each model once, at that batch's own length.
    twin = keras_seq.build(spec)
    padded_loss, padded_accuracy = twin.evaluate(_padded(x, 4), y_pads, verbose=0)
    np.testing.assert_allclose(padded_loss, loss, rtol=1e-5)
    np.testing.assert_allclose(padded_accuracy, accuracy, rtol=1e-6)
    # A reference loss by hand: mean cross-entropy over the real steps only.
    expected = -np.mean(np.log(alone[0, np.arange(5), y[0]]))
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_tagger_padding_changes_no_training_step():
    # One SGD step on a padded batch (wrong labels on the pads) moves the weights exactly as
    # on the unpadded batch: padding adds nothing to the loss or its gradient.
    spec = _spec("{type: tagger, classes: 4}", encoder=_BIDIRECTIONAL).replace(
        "learning_rate: 0.02", "optimizer: sgd, learning_rate: 0.5"
    )
    x = np.array([[3, 7, 2, 9, 4]], "int32")
    y = np.array([[0, 3, 1, 2, 2]], "int32")
    y_pads = np.concatenate([y, np.full((1, 4), 3, "int32")], axis=1)
    weights = []
    for inputs, labels in [(x, y), (_padded(x, 4), y_pads)]:
        model = keras_seq.build(spec)
        model.train_on_batch(inputs, labels)
        weights.append([keras.ops.convert_to_numpy(w) for w in model.weights])
    for alone, padded in zip(*weights):
        np.testing.assert_allclose(padded, alone, atol=1e-6)


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_classifier_pooling_ignores_padding(pooling):
    model = keras_seq.build(
        _spec(f"{{type: classifier, classes: 3, pooling: {pooling}}}", encoder=_BIDIRECTIONAL)
    )
    x = np.array([[3, 7, 2, 9], [5, 4, 0, 0]], "int32")
    alone = np.concatenate([_call(model, x[:1]), _call(model, x[1:, :2])])
    np.testing.assert_allclose(_call(model, x), alone, atol=1e-6)
    np.testing.assert_allclose(_call(model, _padded(x, 3)), alone, atol=1e-6)


def test_forecaster_masks_by_mask_value():
    model = keras_seq.build(
        _spec(
            "{type: forecaster, horizon: 2, outputs: 2}",
            encoder=_BIDIRECTIONAL,
            kind="features, dim: 2, mask_value: -9.0",
        )
    )
    x = np.random.default_rng(4).normal(size=(1, 5, 2)).astype("float32")
    padded = np.concatenate([x, np.full((1, 3, 2), -9.0, "float32")], axis=1)
    np.testing.assert_allclose(_call(model, padded), _call(model, x), atol=1e-6)


def _seq2seq(spec):
    task = keras_seq.tasks.Task.for_spec(spec)
    return task, task.build_model()


def test_seq2seq_padding_changes_no_loss_or_decoding():
    spec = _spec("{type: seq2seq, target_vocab_size: 9}", encoder=_BIDIRECTIONAL)
    task, model = _seq2seq(spec)
    source = np.array([[3, 7, 2]], "int32")
    decoder_input = np.array([[BOS_ID, 5, 6]], "int32")
    target = np.array([[5, 6, EOS_ID]], "int32")
    loss, _ = model.evaluate([source, decoder_input], target, verbose=0)
    padded_loss, _ = keras_seq.build(spec).evaluate(
        [_padded(source, 2), _padded(decoder_input, 2)],
        np.concatenate([target, np.full((1, 2), 4, "int32")], axis=1),
        verbose=0,
    )
    np.testing.assert_allclose(padded_loss, loss, rtol=1e-5)
    np.testing.assert_array_equal(
        task.generate(_padded(source, 3), max_length=4),
        task.generate(source, max_length=4),
    )


# --- greedy decoding matches the teacher-forced model ------------------------------------------


def test_greedy_decode_agrees_with_model_on_its_own_outputs():
    # Feeding <bos> + the decoded ids back as teacher-forcing input, the model's argmax at each
    # step must be the decoded id: the step-by-step loop computes what the whole model computes.
    spec = _spec(
        "{type: seq2seq, target_vocab_size: 9, decoder: {cell: lstm, layers: 2}}",
        encoder="{cell: gru, units: 6, direction: bidirectional}",
    )
    task, model = _seq2seq(spec)
    source, _ = _tokens(np.random.default_rng(5), 4, 2, 12, 2, 5)
    decoded = task.generate(source, max_length=6)
    steps = decoded.shape[1]
    decoder_input = np.concatenate([np.full((4, 1), BOS_ID), decoded[:, :-1]], axis=1)
    probabilities = model.predict([source, decoder_input], verbose=0)
    real = np.cumsum(decoded == EOS_ID, axis=1) - (decoded == EOS_ID) == 0  # up to <eos>
    np.testing.assert_array_equal(np.argmax(probabilities, -1)[real], decoded[real])
    assert steps <= 6


# --- the shared checks, one test per task class ----------------------------------------------

_WORDS = {"DET": ["the", "a"], "NOUN": ["dog", "cat", "man"], "VERB": ["runs", "sees"]}


def _sentence(rng):
    tags = ["DET", "NOUN", "VERB", "DET", "NOUN"][: rng.integers(3, 6)]
    return [str(rng.choice(_WORDS[t])) for t in tags], tags


def test_tagger_task(tmp_path):
    rng = np.random.default_rng(7)
    train = [dict(zip(("tokens", "tags"), _sentence(rng))) for _ in range(48)]
    task = keras_seq.tasks.Task.for_spec(_spec("{type: tagger}", kind="tokens, embedding_dim: 8"))
    inputs = [["the", "cat", "sees", "a", "dog"], "a man runs", ["the", "unknown"]]
    loaded, tags = check_task(task, train, inputs, tmp_path)
    assert isinstance(loaded, keras_seq.tasks.Tagger)
    assert [len(t) for t in tags] == [5, 3, 2]
    assert tags[0] == ["DET", "NOUN", "VERB", "DET", "NOUN"]
    probabilities = loaded.model.predict(loaded.encode_inputs(inputs), verbose=0)
    labels = loaded.state["labels"].tokens
    assert tags[1] == [labels[i] for i in probabilities[1].argmax(-1)[:3]]


def test_classifier_task(tmp_path):
    rng = np.random.default_rng(8)
    train = []
    for _ in range(64):
        label = str(rng.choice(["pos", "neg"]))
        word = {"pos": "good", "neg": "bad"}[label]
        train.append({"tokens": ["a", word, "film"], "label": label})
    task = keras_seq.tasks.Task.for_spec(
        _spec("{type: classifier, pooling: mean}", kind="tokens, embedding_dim: 8")
    )
    inputs = ["a good film", ["a", "bad", "film"]]
    loaded, predictions = check_task(task, train, inputs, tmp_path, epochs=15)
    assert [p["label"] for p in predictions] == ["pos", "neg"]
    for p in predictions:
        assert abs(sum(p["probabilities"].values()) - 1.0) < 1e-5
        assert p["probability"] == max(p["probabilities"].values())


def test_forecaster_task(tmp_path):
    t = np.arange(200, dtype="float32")
    series = np.sin(t / 3)[:, None]
    train = [{"values": series, "targets": series}]
    spec = _spec("{type: forecaster, horizon: 2}", kind="features, dim: 1, max_length: 6")
    task = keras_seq.tasks.Task.for_spec(spec)
    windows = [series[i : i + 6].tolist() for i in (0, 50)]
    loaded, forecasts = check_task(task, train, windows, tmp_path)
    assert np.asarray(forecasts).shape == (2, 2, 1)
    expected = loaded.model.predict(np.asarray(windows, "float32"), verbose=0)
    np.testing.assert_allclose(forecasts, expected, rtol=1e-6)


def test_seq2seq_task(tmp_path):
    rng = np.random.default_rng(9)
    letters = list("abcd")
    train = []
    for _ in range(64):
        source = [str(c) for c in rng.choice(letters, rng.integers(2, 4))]
        train.append({"source": source, "target": source[::-1]})
    spec = _spec(
        "{type: seq2seq, max_output_length: 5}",
        encoder="{cell: gru, units: 16}",
        kind="tokens, embedding_dim: 8, max_length: 4",
    )
    task = keras_seq.tasks.Task.for_spec(spec)
    loaded, texts = check_task(task, train, [["a", "b", "c"], "d a"], tmp_path)
    ids = loaded.generate(loaded.encode_inputs([["a", "b", "c"], "d a"]))
    assert texts == [" ".join(loaded.state["labels"].decode(row)) for row in ids]


def test_encoder_task_returns_encoder_outputs(tmp_path):
    task = keras_seq.tasks.Task.for_spec(
        "input: {kind: features, dim: 3}\n"
        "encoder: {cell: gru, units: 4, direction: bidirectional, merge: sum}\nhead: {type: none}"
    )
    model = task.build_model()
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(
        task.predict(x), keras.ops.convert_to_numpy(model.get_layer("encoder")(x)), atol=1e-6
    )
    task.save(tmp_path / "encoder.keras")
    np.testing.assert_allclose(
        keras_seq.load(tmp_path / "encoder.keras").predict(x), task.predict(x), atol=1e-6
    )


def _entity_sentence(rng):
    """ "<name> [surname] visited <place>" or "in <place> <name> slept", in BIO tags."""
    name = [str(rng.choice(["anna", "omar", "lena"]))] + ["smith"] * int(rng.integers(0, 2))
    person = ["B-PER"] + ["I-PER"] * (len(name) - 1)
    place = str(rng.choice(["paris", "lima", "oslo"]))
    if rng.random() < 0.5:
        return name + ["visited", place], person + ["O", "B-LOC"]
    return ["in", place, *name, "slept"], ["O", "B-LOC", *person, "O"]


def test_crf_tagger_task(tmp_path):
    from keras_seq.metrics.spans import span_scores

    rng = np.random.default_rng(9)
    train = [dict(zip(("tokens", "tags"), _entity_sentence(rng))) for _ in range(48)]
    task = keras_seq.tasks.Task.for_spec(
        _spec("{type: tagger, output: crf}", kind="tokens, embedding_dim: 8")
    )
    inputs = [["anna", "smith", "visited", "oslo"], "in lima omar slept", ["lena", "unknown"]]
    loaded, tags = check_task(task, train, inputs, tmp_path, epochs=8)
    assert isinstance(loaded.model.layers[-1], keras_seq.layers.CRF)
    assert loaded.model.loss is None and loaded.state["scheme"] == "BIO"
    assert tags[0] == ["B-PER", "I-PER", "O", "B-LOC"]
    # Predictions are the CRF's Viterbi paths over each input's real tokens.
    scores = loaded.model.predict(loaded.encode_inputs(inputs), verbose=0)
    mask = np.arange(scores.shape[1])[None, :] < np.array([4, 4, 2])[:, None]
    best = keras.ops.convert_to_numpy(loaded.model.get_layer("crf").decode(scores, mask))
    labels = loaded.state["labels"].tokens
    assert tags == [[labels[i] for i in row[:n]] for row, n in zip(best, [4, 4, 2])]

    test = [dict(zip(("tokens", "tags"), _entity_sentence(rng))) for _ in range(16)]
    test[0] = {"tokens": ["anna", "visited", "rome"], "tags": ["B-PER", "O", "B-LOC"]}
    metrics = loaded.evaluate(test)
    gold = [record["tags"] for record in test]
    predicted = loaded.predict([record["tokens"] for record in test])
    expected = span_scores(gold, predicted)
    assert [metrics[f"entity_{k}"] for k in ("precision", "recall", "f1")] == [
        expected[k] for k in ("precision", "recall", "f1")
    ]
    flat = [(g, p) for gs, ps in zip(gold, predicted) for g, p in zip(gs, ps)]
    assert metrics["accuracy"] == sum(g == p for g, p in flat) / len(flat)
    tables = loaded.tables(test)
    assert tables["entities"] == expected
    assert sum(map(sum, tables["classes"]["confusion"])) == len(flat)


def test_crf_output_is_for_taggers_and_brings_its_own_loss():
    with pytest.raises(keras_seq.SpecError, match="applies only when head.type is tagger"):
        keras_seq.load_spec(_spec("{type: classifier, output: crf}"))
    spec = _spec("{type: tagger, classes: 3, output: crf}").replace(
        "training: {", "training: {loss: sparse_categorical_crossentropy, "
    )
    with pytest.raises(keras_seq.SpecError, match="training.loss"):
        keras_seq.build(spec)
