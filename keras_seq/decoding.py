"""Generating sequences from a step function: greedy search and beam search.

A step function is `step(tokens, states) -> (log_probs, states)`: `tokens` int32 (n,), the
previous output of each of n hypotheses; `states` a list (or any `keras.tree` structure) of
arrays or tensors whose first axis is the n hypotheses; `log_probs` (n, vocabulary) the log
probability of every next token. The search starts from `<bos>` (id 2) and a hypothesis ends
at `<eos>` (id 3). Search bookkeeping is NumPy; states stay what the step function makes them
(backend tensors for a model) and are only reordered along their first axis.
"""

import keras
import numpy as np

from keras_seq.data.vocabulary import BOS, EOS, PAD, TARGET_SPECIALS

BOS_ID = TARGET_SPECIALS.index(BOS)
EOS_ID = TARGET_SPECIALS.index(EOS)
PAD_ID = TARGET_SPECIALS.index(PAD)


def _batch_size(states):
    return int(keras.tree.flatten(states)[0].shape[0])


def _take(states, rows):
    """Rows `rows` of every state (NumPy stays NumPy, tensors stay tensors)."""

    def take(state):
        if isinstance(state, np.ndarray):
            return state[rows]
        return keras.ops.take(state, keras.ops.convert_to_tensor(rows, "int32"), axis=0)

    return keras.tree.map_structure(take, states)


def _log_probs(log_probs):
    return np.asarray(keras.ops.convert_to_numpy(log_probs), dtype="float64")


def _check(name, value, low):
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"`{name}` must be an int >= {low}. Received: {name}={value!r}")


def greedy_search(step, states, max_length):
    """The most probable next token at each step, until `<eos>` or `max_length` tokens.

    Args:
        step: the step function (see the module docstring).
        states: the initial states, first axis the batch.
        max_length: int >= 1. Most tokens generated per sequence, `<eos>` included.

    Returns:
        int32 array (batch, steps), steps <= `max_length`: each row ends with `<eos>` when it
        was produced in time, 0 (padding) after it. Ties go to the lowest token id.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.decoding import greedy_search
    >>> table = np.log([[.1, .1, .1, .1, .6], [.1, .1, .1, .6, .1]])  # by step count
    >>> def step(tokens, states):
    ...     return table[states[0]], [np.minimum(states[0] + 1, 1)]
    >>> greedy_search(step, [np.zeros(2, int)], max_length=5).tolist()
    [[4, 3], [4, 3]]
    """
    _check("max_length", max_length, 1)
    batch = _batch_size(states)
    token = np.full((batch,), BOS_ID, dtype="int32")
    done = np.zeros((batch,), dtype=bool)
    generated = []
    for _ in range(max_length):
        log_probs, states = step(token, states)
        token = np.argmax(_log_probs(log_probs), axis=-1).astype("int32")
        token = np.where(done, PAD_ID, token)
        generated.append(token)
        done |= token == EOS_ID
        if done.all():
            break
    return np.stack(generated, axis=1)


def beam_search(step, states, beam_size, max_length, length_penalty=1.0):
    """The best sequences by beam search, scored with length normalisation.

    A sequence y of length |y| (its `<eos>` included) scores

        score(y) = sum_t log p(y_t | y_<t) / |y| ** length_penalty

    `length_penalty` 0 is the plain sum of log-probabilities, which favours short sequences;
    1 (default) is the mean log-probability per token. Each step extends every live hypothesis
    by every token; a finished hypothesis (one that produced `<eos>`) is carried over unchanged
    as one more candidate. Of all candidates, the `beam_size` with the best scores so far (live
    ones normalised by their current length) are kept; ties go to the earlier hypothesis, then
    the lower token id. The search stops when every kept hypothesis has finished, or after
    `max_length` steps, when unfinished ones count with length `max_length`. The best kept
    hypothesis is returned.

    With `beam_size=1` this is exactly `greedy_search`. A beam that holds every hypothesis
    (`beam_size` >= the vocabulary size to the power `max_length - 1`) searches exhaustively.

    Args:
        step: the step function (see the module docstring).
        states: the initial states, first axis the batch; each is repeated `beam_size` times
            (the hypotheses of row b are rows b * beam_size ... of the step's inputs).
        beam_size: int >= 1. Hypotheses kept per sequence.
        max_length: int >= 1. Most tokens generated per sequence, `<eos>` included.
        length_penalty: float >= 0. The exponent of the length in the score.

    Returns:
        `(ids, scores)`: ids int32 (batch, steps), steps <= `max_length`, as `greedy_search`
        returns them (`<eos>`-terminated when finished, 0 after); scores float64 (batch,) the
        chosen sequences' scores.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.decoding import beam_search
    >>> table = np.log([[.1, .1, .1, .3, .4], [.05, .05, .05, .8, .05]])  # by step count
    >>> def step(tokens, states):
    ...     return table[states[0]], [np.minimum(states[0] + 1, 1)]
    >>> ids, scores = beam_search(step, [np.zeros(1, int)], beam_size=2, max_length=3)
    >>> ids.tolist(), round(float(np.exp(2 * scores[0])), 2)  # 0.4 * 0.8 beats 0.3 alone
    ([[4, 3]], 0.32)
    """
    _check_beam_options(beam_size, max_length, length_penalty)
    batch = _batch_size(states)
    rows = np.arange(batch)[:, None]
    states = _take(states, np.repeat(np.arange(batch), beam_size))
    tokens, history, scores, lengths, finished = _start_beams(batch, beam_size)
    for length in range(1, max_length + 1):
        log_probs, states = step(tokens.reshape(-1), states)
        log_probs = _log_probs(log_probs).reshape(batch, beam_size, -1)
        parent, tokens, scores, lengths, finished = _extend_beams(
            log_probs, scores, lengths, finished, length, length_penalty
        )
        history = np.concatenate([history[rows, parent], tokens[:, :, None]], axis=2)
        states = _take(states, (parent + rows * beam_size).reshape(-1))
        if np.all(finished | np.isneginf(scores)):
            break
    return _best_beams(history, scores, lengths, length_penalty)


def _check_beam_options(beam_size, max_length, length_penalty):
    _check("beam_size", beam_size, 1)
    _check("max_length", max_length, 1)
    if not length_penalty >= 0:
        raise ValueError(f"`length_penalty` must be >= 0. Received: {length_penalty=}")


def _best_beams(history, scores, lengths, length_penalty):
    """`(ids, scores)` of the best-scoring hypothesis of each row, ids cut to the longest."""
    final = scores / lengths**length_penalty
    rows = np.arange(len(final))
    chosen = np.argmax(final, axis=1)
    steps = int(lengths[rows, chosen].max())
    return history[rows, chosen][:, :steps], final[rows, chosen]


def _start_beams(batch, beam_size):
    """`(tokens, history, scores, lengths, finished)`, each (batch, beam_size, ...): one live
    hypothesis (score 0, `<bos>`) per row; the other slots are empty (score -inf)."""
    tokens = np.full((batch, beam_size), BOS_ID, dtype="int32")
    history = np.zeros((batch, beam_size, 0), dtype="int32")
    scores = np.full((batch, beam_size), -np.inf)
    scores[:, 0] = 0.0
    lengths = np.ones((batch, beam_size))
    finished = np.zeros((batch, beam_size), dtype=bool)
    return tokens, history, scores, lengths, finished


def _extend_beams(log_probs, scores, lengths, finished, length, length_penalty):
    """One step of `beam_search`: every live hypothesis extended by every token, every finished
    one carried over (as `<pad>`), the best `beam_size` candidates kept (stable order).

    Returns `(parent, token, scores, lengths, finished)`, each (batch, beam_size): the kept
    candidates' hypothesis index and token, their summed log-probabilities, lengths and
    whether they have finished.
    """
    batch, beam_size, vocabulary = log_probs.shape
    rows = np.arange(batch)[:, None]
    extended = scores[:, :, None] + log_probs
    carried = np.full_like(extended, -np.inf)
    carried[:, :, PAD_ID] = scores
    candidates = np.where(finished[:, :, None], carried, extended)
    candidate_lengths = np.where(finished, lengths, length)[:, :, None]
    normalised = candidates / candidate_lengths**length_penalty
    best = np.argsort(-normalised.reshape(batch, -1), axis=1, kind="stable")[:, :beam_size]
    parent, token = best // vocabulary, best % vocabulary
    was_finished = finished[rows, parent]
    token = np.where(was_finished, PAD_ID, token).astype("int32")
    scores = candidates[rows, parent, token]
    lengths = np.where(was_finished, lengths[rows, parent], length)
    return parent, token, scores, lengths, was_finished | (token == EOS_ID)
