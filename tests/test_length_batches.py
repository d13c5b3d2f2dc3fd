"""Batches cut to their longest example (`input.max_length` unset) and `training.batch_order`.

Cutting the padding off a batch must change no number: the recurrence is masked and the loss
is averaged over real steps. These tests train, evaluate and predict the same model on full
width and cut batches and compare, and check the orders against brute force.
"""

import re

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import progress
from keras_seq.backend import quirks
from keras_seq.metrics.classification import class_table
from keras_seq.training import BUCKET_BATCHES, EpochBatches

# SGD, not Adam: a loss scaled by the batch's width would change its steps.
SPEC = """
seed: 5
input: {kind: tokens, embedding_dim: 6, %s}
encoder: {cell: lstm, units: 5, direction: bidirectional}
head: {type: tagger%s}
training: {optimizer: sgd, batch_size: 4, learning_rate: 0.5}
"""

WORDS = ["the", "dog", "runs", "a", "cat", "sleeps", "far", "away"]


def _records(count, seed=0):
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(count):
        tokens = [str(w) for w in rng.choice(WORDS, int(rng.integers(1, 13)))]
        tags = ["D" if w in ("the", "a") else "N" if len(w) == 3 else "V" for w in tokens]
        records.append({"tokens": tokens, "tags": tags})
    return records


def _task(records, crf=False, chars=False):
    extra = ", chars: {encoder: cnn, embedding_dim: 4, units: 3}" if chars else ""
    task = keras_seq.tasks.Task.for_spec(
        SPEC % ("max_length: null" + extra, ", output: crf" if crf else "")
    )
    task.learn(records).build_model()
    return task


def _fit_one_epoch(task, encoded, lengths, order="random"):
    batches = EpochBatches(
        encoded.x, encoded.y, encoded.sample_weight, 4, seed=1, lengths=lengths, order=order
    )
    task.model.fit(batches, epochs=1, verbose=0, shuffle=False)
    return [keras.ops.convert_to_numpy(w) for w in task.model.weights]


@pytest.mark.parametrize("crf, chars", [(False, False), (True, True)])
def test_cut_batches_train_to_the_same_weights(crf, chars):
    records = _records(24)
    weights = []
    for cut in (False, True):
        task = _task(records, crf, chars)
        encoded = task.encode(records)
        lengths = task.example_lengths(encoded.x) if cut else None
        if cut:
            assert encoded.y.shape[1] == 12 and lengths.min() < 8  # something to cut
        weights.append(_fit_one_epoch(task, encoded, lengths))
    for full, cut in zip(*weights):
        np.testing.assert_allclose(cut, full, rtol=1e-4, atol=1e-5)


def test_cut_batches_have_the_longest_width_rounded_up():
    x = np.zeros((9, 40), "int32")
    lengths = np.array([3, 9, 17, 1, 2, 40, 8, 5, 16])
    for row, length in enumerate(lengths):
        x[row, :length] = 7
    batches = EpochBatches(x, x, x, 3, seed=2, lengths=lengths, width_step=8)
    for index in range(len(batches)):
        rows = batches.rows(index)
        widths = {part.shape[1] for part in batches[index]}
        longest = lengths[rows].max()
        assert widths == {min(40, -(-longest // 8) * 8)}
        np.testing.assert_array_equal(batches[index][0], x[rows, : widths.pop()])


def test_buckets_hold_every_example_once_and_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 60, 3 * BUCKET_BATCHES * 8 + 5)
    x = np.zeros((len(lengths), 60), "int32")
    spreads = {}
    for order in ("random", "buckets"):
        batches = EpochBatches(x, x, None, 8, seed=4, epoch=3, lengths=lengths, order=order)
        rows = [batches.rows(i) for i in range(len(batches))]
        assert sorted(np.concatenate(rows).tolist()) == list(range(len(lengths)))
        spreads[order] = np.mean([np.ptp(lengths[r]) for r in rows])
        again = EpochBatches(x, x, None, 8, seed=4, epoch=3, lengths=lengths, order=order)
        assert all((again.rows(i) == r).all() for i, r in enumerate(rows))  # (seed, epoch)
    assert spreads["buckets"] < spreads["random"] / 5
    first = EpochBatches(x, x, None, 8, seed=4, epoch=0, lengths=lengths, order="buckets")
    assert not (first.rows(0) == batches.rows(0)).all()  # another epoch, another order


def test_evaluate_and_predict_by_length_equal_full_width():
    records = _records(30, seed=3)
    task = _task(records)
    encoded = task.encode(records)
    # Padded as if the corpus' longest sentence were elsewhere: 8 more columns of padding.
    x, y, weight = (
        np.pad(a, [(0, 0), (0, 8)]) for a in (encoded.x, encoded.y, encoded.sample_weight)
    )
    scores = task.model.evaluate(x, y, sample_weight=weight, batch_size=30, return_dict=True)
    batches = task._by_length(task.example_lengths(x), 30, x, y, weight)  # one batch: same loss
    assert batches[0][0].shape[1] < x.shape[1]
    by_length = task.model.evaluate(quirks.with_free_time_axis(batches), return_dict=True)
    assert by_length == pytest.approx(scores, abs=1e-6)
    _assert_predict_by_length_equals_full_width(task, encoded, records)


def test_crf_predict_by_length_equals_full_width():
    records = _records(30, seed=3)
    task = _task(records, crf=True)
    _assert_predict_by_length_equals_full_width(task, task.encode(records), records)


def _assert_predict_by_length_equals_full_width(task, encoded, records):
    outputs = task.model.predict(encoded.x, verbose=0)
    inputs = [r["tokens"] for r in records]
    assert task.predict(inputs, batch_size=15) == task.decode(outputs, inputs)


def test_a_fixed_max_length_keeps_full_width():
    task = keras_seq.tasks.Task.for_spec(SPEC % ("max_length: 12", ""))
    assert task.example_lengths(np.ones((2, 12), "int32")) is None


@pytest.mark.parametrize("crf, max_length", [(False, "null"), (True, "null"), (False, 14)])
def test_evaluate_scores_and_predicts_in_one_pass(crf, max_length, monkeypatch, capsys):
    records = _records(7, seed=4)
    task = keras_seq.tasks.Task.for_spec(
        SPEC % (f"max_length: {max_length}", ", output: crf" * crf)
    )
    task.learn(_records(20)).build_model()
    encoded = task.encode(records)
    lengths = task.example_lengths(encoded.x)
    if lengths is None:
        keras_figures = task.model.evaluate(
            encoded.x,
            encoded.y,
            sample_weight=encoded.sample_weight,
            batch_size=4,
            return_dict=True,
        )
    else:  # the batches evaluate makes: by length, each cut to its longest
        batches = task._by_length(lengths, 4, encoded.x, encoded.y, encoded.sample_weight)
        keras_figures = task.model.evaluate(quirks.with_free_time_axis(batches), return_dict=True)
    predicted = task.predict([record["tokens"] for record in records])
    task.predict = task.model.predict = task.model.predict_on_batch = None  # no second pass
    monkeypatch.setattr(progress, "BATCH_INTERVAL_SECONDS", 0.0)  # a line after every batch
    scores, tables = task.evaluate_with_tables(records, batch_size=4)
    assert re.fullmatch(r"scoring the records - batch 1/2 - ETA: \d+s\n", capsys.readouterr().err)
    assert scores["loss"] == pytest.approx(keras_figures["loss"], abs=1e-6)
    gold = [tag for record in records for tag in record["tags"]]
    tags = [tag for prediction in predicted for tag in prediction]
    assert scores["accuracy"] == pytest.approx(np.mean(np.array(gold) == np.array(tags)))
    labels = task.state["labels"].tokens
    assert tables["classes"] == class_table(gold, tags, labels=labels)
