"""Per-class tables and confusion matrices against counts made one pair at a time."""

import random

import pytest

from keras_seq.metrics.classification import class_table


def reference(gold, predicted, label):
    """Precision, recall, F1 and support of one label, counted directly."""
    true_positive = sum(g == label and p == label for g, p in zip(gold, predicted))
    guessed = sum(p == label for p in predicted)
    support = sum(g == label for g in gold)
    precision = true_positive / guessed if guessed else 0.0
    recall = true_positive / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if true_positive else 0.0
    return precision, recall, f1, support


@pytest.mark.parametrize("seed", range(5))
def test_table_equals_direct_counts(seed):
    rng = random.Random(seed)
    known = ["NOUN", "VERB", "DET", "ADJ"]
    gold = [rng.choice([*known, "NEW"]) for _ in range(200)]  # NEW: unseen in training
    predicted = [g if rng.random() < 0.6 else rng.choice(known) for g in gold]
    predicted = [p if p != "NEW" else "NOUN" for p in predicted]  # a model never predicts NEW
    table = class_table(gold, predicted, labels=known)
    assert table["labels"] == [*known, "NEW"]
    for row, g in enumerate(table["labels"]):
        for column, p in enumerate(table["labels"]):
            count = sum(a == g and b == p for a, b in zip(gold, predicted))
            assert table["confusion"][row][column] == count
        figures = table["classes"][g]
        mine = (figures["precision"], figures["recall"], figures["f1"], figures["support"])
        assert mine == pytest.approx(reference(gold, predicted, g), abs=1e-12)
    new = table["classes"]["NEW"]
    assert new["support"] == gold.count("NEW") > 0
    assert (new["recall"], new["predicted"]) == (0.0, 0)  # its row: every one an error
    assert sum(map(sum, table["confusion"])) == len(gold)


def test_labels_only_predicted_or_gold_follow_sorted():
    table = class_table(["b", "z"], ["a", "z"], labels=["z"])
    assert table["labels"] == ["z", "a", "b"]
    assert table["confusion"] == [[1, 0, 0], [0, 0, 0], [0, 1, 0]]


def test_lengths_must_match():
    with pytest.raises(ValueError, match="2 gold labels but 1"):
        class_table(["a", "b"], ["a"])
