"""Entity spans: hand-worked chunks on adversarial tags, and seqeval's figures exactly."""

import random
import warnings

import pytest

from keras_seq.metrics.spans import allowed_transitions, entities, scheme_of, span_scores

# Tags -> the entities seqeval's default mode finds, worked out by hand from its rules.
ADVERSARIAL = [
    (["I-PER", "I-PER", "O"], [("PER", 0, 1)]),  # I- without B- starts an entity
    (["O", "I-ORG", "B-ORG", "I-ORG"], [("ORG", 1, 1), ("ORG", 2, 3)]),  # IOB1
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 2)]),  # type change mid-entity
    (["B-PER", "I-PER", "I-LOC", "B-LOC"], [("PER", 0, 1), ("LOC", 2, 2), ("LOC", 3, 3)]),
    (["B-PER", "B-PER", "I-PER"], [("PER", 0, 0), ("PER", 1, 2)]),
    (["I-PER", "B-PER"], [("PER", 0, 0), ("PER", 1, 1)]),
    (["S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"], [("PER", 0, 0), ("LOC", 1, 3), ("LOC", 4, 4)]),
    (["E-PER", "E-PER"], [("PER", 0, 0), ("PER", 1, 1)]),  # E- ends; E- after O starts
    (["B-PER", "E-PER", "I-PER"], [("PER", 0, 1), ("PER", 2, 2)]),
    (["B-PER", "S-PER", "E-PER"], [("PER", 0, 0), ("PER", 1, 1), ("PER", 2, 2)]),
    (["S-PER", "I-PER"], [("PER", 0, 0), ("PER", 1, 1)]),
    (["B-LOC", "E-ORG"], [("LOC", 0, 0), ("ORG", 1, 1)]),
    (["B-MISC", "I-MISC", "E-MISC", "O"], [("MISC", 0, 2)]),
    (["B-ORG-X", "I-ORG-X"], [("ORG-X", 0, 1)]),  # the type is all after the first "-"
    (["B", "I", "O", "I"], [("_", 0, 1), ("_", 3, 3)]),  # bare letters: type "_"
    (["O", "O"], []),
]
TAG_POOL = ["O"] + [f"{p}-{t}" for p in "BIES" for t in ("PER", "LOC", "ORG")]


@pytest.mark.parametrize(("tags", "expected"), ADVERSARIAL)
def test_entities_follow_seqeval_rules_worked_by_hand(tags, expected):
    assert entities(tags) == expected


def test_scores_on_a_hand_worked_example():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["I-ORG", "O"], ["B-PER"], ["I-PER"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"], ["B-PER"], ["B-LOC"]]
    # gold: PER, LOC, ORG, PER, PER (sentences never share an entity); predicted: PER, ORG,
    # ORG, PER, LOC; correct: PER (sentence 0), ORG (sentence 1), PER (sentence 2).
    scores = span_scores(gold, predicted)
    assert (scores["correct"], scores["predicted"], scores["support"]) == (3, 5, 5)
    assert scores["precision"] == scores["recall"] == scores["f1"] == 0.6
    loc, org, per = (scores["types"][t] for t in ("LOC", "ORG", "PER"))
    assert (loc["precision"], loc["recall"], loc["f1"], loc["support"]) == (0.0, 0.0, 0.0, 1)
    assert (org["precision"], org["recall"], org["f1"]) == (0.5, 1.0, 2 * 0.5 / 1.5)
    assert (per["precision"], per["recall"], per["support"]) == (1.0, 2 / 3, 3)
    assert list(scores["types"]) == ["LOC", "ORG", "PER"]


def test_no_entities_score_zero():
    scores = span_scores([["O", "O"]], [["O", "O"]])
    assert (scores["precision"], scores["recall"], scores["f1"], scores["types"]) == (0, 0, 0, {})


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="differ"):
        span_scores([["O", "B-PER"]], [["O"]])


def test_scheme_of():
    assert scheme_of([["B-PER", "I-PER", "O"], ["B-LOC"]]) == "BIO"
    assert scheme_of([["O", "I-PER", "I-PER", "B-PER"]]) == "IOB1"
    assert scheme_of([["B-PER", "I-PER", "I-LOC"]]) == "IOB1"  # I-LOC starts an entity
    assert scheme_of([["S-PER", "O"], ["B-LOC", "E-LOC"]]) == "BIOES"
    assert scheme_of([["NOUN", "VERB"]]) is None
    assert scheme_of([["B-PER", "X"]]) is None
    assert scheme_of([["B-", "O"]]) is None  # no type
    assert scheme_of([["O", "O"]]) is None


def random_corpus(rng, sentences, pool):
    return [[rng.choice(pool) for _ in range(rng.randint(0, 9))] for _ in range(sentences)]


def corrupted(rng, corpus, pool, rate):
    return [[rng.choice(pool) if rng.random() < rate else t for t in tags] for tags in corpus]


def corpora():
    """(gold, predicted) pairs: random tags of every kind, near-misses, and the hand cases."""
    rng = random.Random(0)
    bio = ["O"] + [f"{p}-{t}" for p in "BI" for t in ("PER", "LOC")]
    cases = [([tags for tags, _ in ADVERSARIAL], [tags[::-1] for tags, _ in ADVERSARIAL])]
    for pool in (TAG_POOL, bio, ["O", "I-PER", "I-LOC", "B-LOC"]):
        for _ in range(5):
            gold = random_corpus(rng, 40, pool)
            cases.append((gold, corrupted(rng, gold, pool, rng.choice([0.05, 0.2, 0.6]))))
    return cases


def test_entities_equal_seqeval_get_entities():
    sequence_labeling = pytest.importorskip("seqeval.metrics.sequence_labeling")
    rng = random.Random(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns about the bare-letter tags
        for _ in range(300):
            tags = [rng.choice([*TAG_POOL, "B", "I", "E", "S"]) for _ in range(rng.randint(0, 12))]
            assert entities(tags) == sequence_labeling.get_entities(tags), tags


def test_span_scores_equal_seqeval_exactly():
    sequence_labeling = pytest.importorskip("seqeval.metrics.sequence_labeling")
    measure = sequence_labeling.precision_recall_fscore_support
    for gold, predicted in corpora():
        scores = span_scores(gold, predicted)
        overall = measure(gold, predicted, average="micro", zero_division=0)
        assert (scores["precision"], scores["recall"], scores["f1"], scores["support"]) == overall
        per_type = measure(gold, predicted, average=None, zero_division=0)
        mine = [
            [scores["types"][t][key] for t in scores["types"]]
            for key in ("precision", "recall", "f1", "support")
        ]
        assert mine == [list(column) for column in per_type]
        report = sequence_labeling.classification_report(
            gold, predicted, output_dict=True, zero_division=0
        )
        assert list(scores["types"]) == [k for k in report if not k.endswith(" avg")]


def _allennlp_allowed(constraint_type, from_tag, from_entity, to_tag, to_entity):
    """AllenNLP's `is_transition_allowed` (allennlp/modules/conditional_random_field.py),
    transcribed; its BIOUL is BIOES with L for E and U for S."""
    if to_tag == "START" or from_tag == "END":
        return False
    if constraint_type == "BIOUL":
        if from_tag == "START":
            return to_tag in ("O", "B", "U")
        if to_tag == "END":
            return from_tag in ("O", "L", "U")
        return any(
            [
                from_tag in ("O", "L", "U") and to_tag in ("O", "B", "U"),
                from_tag in ("B", "I") and to_tag in ("I", "L") and from_entity == to_entity,
            ]
        )
    if constraint_type == "BIO":
        if from_tag == "START":
            return to_tag in ("O", "B")
        if to_tag == "END":
            return from_tag in ("O", "B", "I")
        return any(
            [
                to_tag in ("O", "B"),
                to_tag == "I" and from_tag in ("B", "I") and from_entity == to_entity,
            ]
        )
    assert constraint_type == "IOB1"
    if from_tag == "START":
        return to_tag in ("O", "I")
    if to_tag == "END":
        return from_tag in ("O", "B", "I")
    return any(
        [
            to_tag in ("O", "I"),
            to_tag == "B" and from_tag in ("B", "I") and from_entity == to_entity,
        ]
    )


def _allennlp_transitions(constraint_type, labels):
    """AllenNLP's `allowed_transitions(constraint_type, labels)`, transcribed."""
    named = [*enumerate(labels), (len(labels), "START"), (len(labels) + 1, "END")]
    parts = [(i, (t, "") if t in ("START", "END") else (t[0], t[1:])) for i, t in named]
    return [
        (i, j)
        for i, (from_tag, from_entity) in parts
        for j, (to_tag, to_entity) in parts
        if _allennlp_allowed(constraint_type, from_tag, from_entity, to_tag, to_entity)
    ]


@pytest.mark.parametrize("scheme", ["BIO", "IOB1", "BIOES"])
def test_allowed_transitions_are_allennlps(scheme):
    rng = random.Random(scheme)
    letters = "BIOES" if scheme == "BIOES" else "BIO"
    pool = ["O"] + [f"{p}-{t}" for p in letters.replace("O", "") for t in ("PER", "LOC", "B-X")]
    for _ in range(20):
        labels = rng.sample(pool, rng.randint(2, len(pool)))
        theirs = [{"E": "L", "S": "U"}.get(tag[0], tag[0]) + tag[1:] for tag in labels]
        expected = _allennlp_transitions("BIOUL" if scheme == "BIOES" else scheme, theirs)
        assert allowed_transitions(scheme, labels) == expected


def test_ids_without_a_label_are_never_allowed():
    pairs = allowed_transitions("BIO", ["B-PER", "O"], size=4)  # ids 2, 3: no label
    assert all(2 not in pair and 3 not in pair for pair in pairs)
    assert (4, 0) in pairs and (1, 5) in pairs  # start is id 4, end id 5
