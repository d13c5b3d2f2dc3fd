"""Greedy and beam search against brute force over every sequence of a tiny vocabulary."""

import keras
import numpy as np
import pytest

from keras_seq.decoding import BOS_ID, EOS_ID, beam_search, greedy_search

VOCABULARY = 5  # <pad> <unk> <bos> <eos> and one word: every id can be generated


class TableModel:
    """A stub model: fixed random next-token log-probs for every (row, prefix).

    The state of a hypothesis is `[row, prefix]`, the prefix an integer code of the tokens fed
    so far, so the log-probs depend on the whole history, as a decoder's do.
    """

    def __init__(self, seed, eos_bias=0.0, scale=2.0):
        self.seed, self.eos_bias, self.scale = seed, eos_bias, scale

    def table(self, row, prefix):
        logits = self.scale * np.random.default_rng([self.seed, row, prefix]).normal(
            size=VOCABULARY
        )
        logits[EOS_ID] += self.eos_bias
        return logits - np.log(np.sum(np.exp(logits)))

    def step(self, tokens, states):
        rows, prefixes = (np.asarray(keras.ops.convert_to_numpy(s)) for s in states)
        prefixes = prefixes * (VOCABULARY + 1) + tokens + 1
        log_probs = np.stack([self.table(r, p) for r, p in zip(rows, prefixes)])
        return log_probs, [rows, prefixes]

    def states(self, batch):
        return [np.arange(batch), np.zeros(batch, "int64")]


def brute_force(model, row, max_length, length_penalty):
    """(tokens, score) of the best sequence among all of them, by enumeration."""
    best = ([], -np.inf)

    def visit(tokens, states, total):
        nonlocal best
        log_probs, states = model.step(np.array([tokens[-1] if tokens else BOS_ID]), states)
        for token in range(VOCABULARY):
            sequence, score = tokens + [token], total + log_probs[0, token]
            if token == EOS_ID or len(sequence) == max_length:
                normalised = score / len(sequence) ** length_penalty
                if normalised > best[1]:
                    best = (sequence, normalised)
            else:
                visit(sequence, states, score)

    visit([], [np.array([row]), np.zeros(1, "int64")], 0.0)
    return best


def _rows(ids):
    """Each row's tokens up to and including `<eos>` (padding after it dropped)."""
    rows = []
    for row in ids.tolist():
        rows.append(row[: row.index(EOS_ID) + 1] if EOS_ID in row else row)
    return rows


@pytest.mark.parametrize("length_penalty", [0.0, 0.6, 1.0])
def test_beam_of_one_equals_greedy(length_penalty):
    model = TableModel(seed=0, eos_bias=-1.0)
    greedy = greedy_search(model.step, model.states(12), max_length=7)
    beam, _ = beam_search(model.step, model.states(12), 1, 7, length_penalty)
    np.testing.assert_array_equal(beam, greedy)
    assert greedy.dtype == beam.dtype == np.int32
    # Some rows stop early and some run to the limit, so both endings are covered.
    lengths = [len(row) for row in _rows(greedy)]
    assert min(lengths) < 7 and max(lengths) == 7 and EOS_ID not in greedy[lengths.index(7)]


def test_greedy_matches_step_by_step_argmax():
    model = TableModel(seed=1)
    states = model.states(6)
    ids = greedy_search(model.step, states, max_length=5)
    for row, generated in enumerate(_rows(ids)):
        tokens, row_states = [BOS_ID], [np.array([row]), np.zeros(1, "int64")]
        for _ in generated:
            log_probs, row_states = model.step(np.array(tokens[-1:]), row_states)
            tokens.append(int(np.argmax(log_probs[0])))
        assert tokens[1:] == generated
        assert tokens[-1] == EOS_ID or len(generated) == 5


def test_beam_as_wide_as_vocabulary_is_exhaustive_at_two_steps():
    model = TableModel(seed=2)
    ids, scores = beam_search(model.step, model.states(20), VOCABULARY, 2)
    for row, (tokens, score) in enumerate(zip(_rows(ids), scores)):
        expected_tokens, expected_score = brute_force(model, row, 2, 1.0)
        assert tokens == expected_tokens
        np.testing.assert_allclose(score, expected_score, rtol=1e-12)


@pytest.mark.parametrize("length_penalty", [0.0, 0.5, 1.0])
def test_full_beam_equals_exhaustive_search(length_penalty):
    # A beam of VOCABULARY ** 3 holds every hypothesis of 4 steps: nothing is ever pruned.
    model = TableModel(seed=3, eos_bias=-0.5)
    ids, scores = beam_search(model.step, model.states(8), VOCABULARY**3, 4, length_penalty)
    for row, (tokens, score) in enumerate(zip(_rows(ids), scores)):
        expected_tokens, expected_score = brute_force(model, row, 4, length_penalty)
        assert tokens == expected_tokens
        np.testing.assert_allclose(score, expected_score, rtol=1e-12)


def test_length_normalisation_prefers_longer_sequences_as_brute_force_does():
    # The sum of log-probs (penalty 0) favours short outputs; the mean (penalty 1) does not.
    model = TableModel(seed=4, eos_bias=-0.5)
    lengths = {}
    for penalty in (0.0, 1.0):
        ids, _ = beam_search(model.step, model.states(16), VOCABULARY**3, 4, penalty)
        lengths[penalty] = [len(row) for row in _rows(ids)]
        expected = [len(brute_force(model, row, 4, penalty)[0]) for row in range(16)]
        assert lengths[penalty] == expected
    assert all(short <= long for short, long in zip(lengths[0.0], lengths[1.0]))
    assert sum(lengths[0.0]) < sum(lengths[1.0])


@pytest.mark.parametrize("beam_size", [2, 3])
def test_narrow_beam_score_is_that_of_its_sequence(beam_size):
    # Whatever a narrow beam finds, the score it reports is the returned sequence's own, and
    # no better than the exhaustive optimum.
    model = TableModel(seed=5, eos_bias=-0.5)
    ids, scores = beam_search(model.step, model.states(10), beam_size, 5, 0.8)
    for row, (tokens, score) in enumerate(zip(_rows(ids), scores)):
        states, total = [np.array([row]), np.zeros(1, "int64")], 0.0
        for previous, token in zip([BOS_ID, *tokens], tokens):
            log_probs, states = model.step(np.array([previous]), states)
            total += log_probs[0, token]
        np.testing.assert_allclose(score, total / len(tokens) ** 0.8, rtol=1e-12)
        assert score <= brute_force(model, row, 5, 0.8)[1] + 1e-12


def test_backend_tensor_states_give_the_same_result():
    model = TableModel(seed=6)
    numpy_ids, numpy_scores = beam_search(model.step, model.states(4), 3, 5)
    tensors = [keras.ops.convert_to_tensor(s) for s in model.states(4)]
    ids, scores = beam_search(model.step, tensors, 3, 5)
    np.testing.assert_array_equal(ids, numpy_ids)
    np.testing.assert_array_equal(scores, numpy_scores)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"beam_size": 0}, "beam_size"),
        ({"beam_size": 2.0}, "beam_size"),
        ({"max_length": 0}, "max_length"),
        ({"length_penalty": -1.0}, "length_penalty"),
    ],
)
def test_bad_arguments(arguments, message):
    model = TableModel(seed=7)
    options = {"beam_size": 2, "max_length": 3, **arguments}
    with pytest.raises(ValueError, match=message):
        beam_search(model.step, model.states(1), **options)
