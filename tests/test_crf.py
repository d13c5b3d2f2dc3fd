"""CRF: log-partition, gold scores, Viterbi and gradients against brute-force enumeration,
with and without the constraints of a tag scheme (over the legal paths only)."""

import itertools
import os

import keras
import numpy as np
import pytest
from keras import ops

import keras_seq
from keras_seq.backend import gradients
from keras_seq.metrics.spans import allowed_transitions

TIME = 5
# Rows: post-padded, pre-padded, full, gaps in the middle, one real step, no real step.
MASK = np.array(
    [
        [1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1],
        [1, 1, 1, 1, 1],
        [1, 0, 1, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
    ],
    dtype=bool,
)


def numpy_of(x):
    return ops.convert_to_numpy(x)


def random_crf(tags, seed, scale=1.0):
    """A built CRF with random transition, start and end scores, and random emissions."""
    rng = np.random.default_rng(seed)
    crf = keras_seq.layers.CRF()
    crf.build((None, None, tags))
    for variable in crf.weights:
        variable.assign(rng.normal(0, scale, variable.shape).astype("float32"))
    emissions = rng.normal(0, scale, (len(MASK), TIME, tags)).astype("float32")
    gold = rng.integers(0, tags, (len(MASK), TIME)).astype("int32")
    return crf, emissions, gold


class Enumeration:
    """Every tag sequence over a row's real steps, scored by the CRF's definition."""

    def __init__(self, crf, emissions, mask):
        self.A, self.s, self.e = (numpy_of(v.value).astype("float64") for v in crf.weights)
        self.real = np.flatnonzero(mask)
        self.paths = list(itertools.product(range(emissions.shape[-1]), repeat=len(self.real)))
        self.scores = np.array([self.score(emissions, path) for path in self.paths])

    def score(self, emissions, path):
        if not path:
            return 0.0
        total = self.s[path[0]] + self.e[path[-1]]
        total += sum(emissions[t, c] for t, c in zip(self.real, path))
        return total + sum(self.A[a, b] for a, b in zip(path, path[1:]))

    @property
    def log_z(self):
        return np.logaddexp.reduce(self.scores)

    @property
    def best(self):
        return self.paths[int(np.argmax(self.scores))]

    def expected_counts(self, tags):
        """E_p[transition counts (C, C)], E_p[first tag (C,)], E_p[last tag (C,)]."""
        probs = np.exp(self.scores - self.log_z)
        counts = [np.zeros((tags, tags)), np.zeros(tags), np.zeros(tags)]
        for p, path in zip(probs, self.paths):
            if path:
                counts[0] += p * counts_of(path, tags)[0]
                counts[1][path[0]] += p
                counts[2][path[-1]] += p
        return counts


def counts_of(path, tags):
    transitions = np.zeros((tags, tags))
    for a, b in zip(path, path[1:]):
        transitions[a, b] += 1
    return transitions, path


@pytest.mark.parametrize("tags", [2, 3, 4])
def test_log_partition_scores_and_viterbi_equal_enumeration(tags):
    crf, emissions, gold = random_crf(tags, seed=tags)
    log_z = numpy_of(crf.log_partition(emissions, MASK))
    scores = numpy_of(crf.sequence_score(emissions, gold, MASK))
    decoded = numpy_of(crf.decode(emissions, MASK))
    for row, mask in enumerate(MASK):
        reference = Enumeration(crf, emissions[row], mask)
        gold_score = reference.score(emissions[row], tuple(gold[row][mask]))
        np.testing.assert_allclose(log_z[row], reference.log_z, atol=1e-5)
        np.testing.assert_allclose(scores[row], gold_score, atol=1e-5)
        assert tuple(decoded[row][mask]) == reference.best
        assert not decoded[row][~mask].any()


def test_one_step_and_unmasked_sequences_equal_enumeration():
    crf, emissions, _ = random_crf(3, seed=7)
    for steps in (emissions[:, :1], emissions):  # time 1: no transition at all
        log_z = numpy_of(crf.log_partition(steps))
        decoded = numpy_of(crf.decode(steps))
        for row in range(len(steps)):
            reference = Enumeration(crf, steps[row], np.ones(steps.shape[1], bool))
            np.testing.assert_allclose(log_z[row], reference.log_z, atol=1e-5)
            assert tuple(decoded[row]) == reference.best


def emission_model(tags):
    """Emission scores in -> CRF out; a step whose scores are all 0 is padding."""
    inputs = keras.Input((None, tags))
    masked = keras.layers.Masking(0.0)(inputs)
    model = keras_seq.Model(inputs, keras_seq.layers.CRF(name="crf")(masked))
    model.compile(optimizer="sgd", loss=None)
    return model


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_loss_and_gradients_equal_enumeration(scale):
    # d(-log p(gold))/dA = E_p[transition counts] - gold's counts (likewise start and end); the
    # loss is the summed negative log-likelihood over the real steps. Large scores stay finite.
    tags = 3
    crf, emissions, gold = random_crf(tags, seed=11, scale=scale)
    emissions[~MASK] = 0.0
    model = emission_model(tags)
    model.get_layer("crf").set_weights(crf.get_weights())
    _, loss, grads = gradients.forward_and_backward(model)(emissions, gold)

    nll, expected = 0.0, [np.zeros((tags, tags)), np.zeros(tags), np.zeros(tags)]
    for row, mask in enumerate(MASK):
        reference = Enumeration(crf, emissions[row], mask)
        path = tuple(gold[row][mask])
        nll += reference.log_z - reference.score(emissions[row], path)
        for total, e in zip(expected, reference.expected_counts(tags)):
            total += e
        if path:
            expected[0] -= counts_of(path, tags)[0]
            expected[1][path[0]] -= 1
            expected[2][path[-1]] -= 1
    steps = MASK.sum()
    np.testing.assert_allclose(loss, nll / steps, rtol=1e-5, atol=1e-5)
    for grad, reference in zip(grads, expected):
        assert np.isfinite(grad).all()
        np.testing.assert_allclose(grad, reference / steps, atol=1e-5)


def test_zero_step_weight_leaves_the_step_out_of_the_chain():
    crf, emissions, gold = random_crf(3, seed=5)
    full = np.ones_like(MASK)
    weighted = crf.sequence_loss(gold, emissions, full, sample_weight=MASK.astype("float32"))
    masked = crf.sequence_loss(gold, emissions, MASK)
    np.testing.assert_allclose(numpy_of(weighted), numpy_of(masked), atol=1e-6)
    halves = crf.sequence_loss(gold, emissions, MASK, sample_weight=np.full(len(MASK), 0.5))
    np.testing.assert_allclose(numpy_of(halves), 0.5 * numpy_of(masked), atol=1e-6)


def tagging_data(rng, batch=48, vocab=12, tags=3):
    """Tokens with pre- and post-padding (tag 0); a token's tag is its id mod 3, except that a
    tag 2 is always followed by a tag 1 (a transition the CRF learns)."""
    tokens = rng.integers(2, vocab, size=(batch, TIME + 2)).astype("int32")
    lengths = rng.integers(2, TIME + 3, size=batch)
    for row, length in enumerate(lengths):
        padding = slice(None, TIME + 2 - length) if row % 2 else slice(length, None)
        tokens[row, padding] = 0
    tags_ = tokens % tags
    for t in range(1, tokens.shape[1]):
        tags_[(tags_[:, t - 1] == 2) & (tokens[:, t] > 0), t] = 1
    return tokens, tags_


def tagger(vocab=12, tags=3):
    """Each step's scores see only its own token: the tag after a tag 2 needs the CRF."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(vocab, 8, mask_zero=True)(inputs)
    outputs = keras_seq.layers.CRF(name="crf")(keras.layers.Dense(tags)(x))
    model = keras_seq.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=None)
    return model


def test_a_crf_tagger_trains_saves_and_loads(tmp_path):
    tokens, tags = tagging_data(np.random.default_rng(0))
    model = tagger()
    crf = model.get_layer("crf")
    config = crf.get_config()
    assert type(crf).from_config(config).get_config() == config

    losses = model.fit(tokens, tags, epochs=12, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.3 * losses[0], losses
    real = tokens > 0
    scores = model.predict(tokens, verbose=0)
    decoded = numpy_of(crf.decode(scores, real))
    assert (decoded[real] == tags[real]).mean() > 0.98
    # Per-step best scores, with no transitions, miss the tag that follows a tag 2.
    assert (scores.argmax(-1)[real] == tags[real]).mean() < 0.9
    assert not decoded[~real].any()

    path = os.path.join(str(tmp_path), "tagger.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    for mine, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(numpy_of(loaded.get_layer("crf").decode(scores, real)), decoded)
    losses = loaded.fit(tokens, tags, epochs=1, batch_size=len(tokens), verbose=0).history["loss"]
    np.testing.assert_allclose(losses, numpy_of(crf.sequence_loss(tags, scores, real)), rtol=1e-5)


def test_a_compiled_loss_next_to_the_crf_is_refused():
    model = emission_model(3)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="loss=None"):
        model.compute_loss(y=np.zeros((1, 2)), y_pred=np.zeros((1, 2, 3), "float32"))


# Per scheme, a label set whose tags are ids 0..C-1 (the order a learned label set may have).
SCHEME_LABELS = {
    "BIO": ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"],
    "IOB1": ["B-X", "I-X", "I-Y", "O", "B-Y"],
    "BIOES": ["B-X", "E-X", "I-X", "O", "S-X", "S-Y"],
}


def constrained_crf(scheme, seed, scale=1.0, train_constraints=False):
    """`random_crf` with the scheme's constraints; also returns the allowed pairs."""
    labels = SCHEME_LABELS[scheme]
    allowed = allowed_transitions(scheme, labels)
    crf, emissions, gold = random_crf(len(labels), seed, scale)
    constrained = keras_seq.layers.CRF(constraints=allowed, train_constraints=train_constraints)
    constrained.build((None, None, len(labels)))
    constrained.set_weights(crf.get_weights())
    return constrained, emissions, gold, set(allowed)


def legal(path, allowed, tags):
    """Whether a path's first tag, transitions and last tag are all allowed."""
    if not path:
        return True
    pairs = [(tags, path[0]), *zip(path, path[1:]), (path[-1], tags + 1)]
    return all(pair in allowed for pair in pairs)


@pytest.mark.parametrize("scheme", sorted(SCHEME_LABELS))
def test_constrained_viterbi_is_the_best_legal_path_by_enumeration(scheme):
    crf, emissions, _, allowed = constrained_crf(scheme, seed=len(scheme), scale=2.0)
    tags = len(SCHEME_LABELS[scheme])
    decoded = numpy_of(crf.decode(emissions, MASK))
    illegal_best = 0  # rows whose unconstrained best path is illegal: the constraints matter
    for row, mask in enumerate(MASK):
        reference = Enumeration(crf, emissions[row], mask)
        legal_scores = [
            score if legal(path, allowed, tags) else -np.inf
            for path, score in zip(reference.paths, reference.scores)
        ]
        assert tuple(decoded[row][mask]) == reference.paths[int(np.argmax(legal_scores))]
        assert not decoded[row][~mask].any()
        illegal_best += not legal(reference.best, allowed, tags)
    assert illegal_best >= 1


@pytest.mark.parametrize("scheme", sorted(SCHEME_LABELS))
def test_a_random_constrained_crf_predicts_no_illegal_transition(scheme):
    labels = SCHEME_LABELS[scheme]
    crf, _, _, allowed = constrained_crf(scheme, seed=3, scale=5.0)
    rng = np.random.default_rng(0)
    emissions = rng.normal(0, 5.0, (64, 12, len(labels))).astype("float32")
    lengths = rng.integers(0, 13, 64)
    mask = np.arange(12)[None, :] < lengths[:, None]
    decoded = numpy_of(crf.decode(emissions, mask))
    paths = [tuple(row[m]) for row, m in zip(decoded, mask)]
    assert all(legal(path, allowed, len(labels)) for path in paths)
    unconstrained = keras_seq.layers.CRF()
    unconstrained.build((None, None, len(labels)))
    unconstrained.set_weights(crf.get_weights())
    loose = numpy_of(unconstrained.decode(emissions, mask))
    assert not all(legal(tuple(row[m]), allowed, len(labels)) for row, m in zip(loose, mask))


@pytest.mark.parametrize("scheme", sorted(SCHEME_LABELS))
def test_the_constrained_likelihood_sums_over_legal_paths_only(scheme):
    tags = len(SCHEME_LABELS[scheme])
    crf, emissions, _, allowed = constrained_crf(scheme, seed=9, train_constraints=True)
    log_z = numpy_of(crf.log_partition(emissions, MASK))
    gold = np.zeros(MASK.shape, "int32")
    references = []
    for row, mask in enumerate(MASK):
        reference = Enumeration(crf, emissions[row], mask)
        legal_rows = [i for i, path in enumerate(reference.paths) if legal(path, allowed, tags)]
        np.testing.assert_allclose(
            log_z[row], np.logaddexp.reduce(reference.scores[legal_rows]), atol=1e-4
        )
        path = reference.paths[legal_rows[len(legal_rows) // 2]]  # some legal gold path
        gold[row, np.flatnonzero(mask)] = path
        references.append(reference.score(emissions[row], path) - log_z[row])
    likelihood = numpy_of(crf.log_likelihood(emissions, gold, MASK))
    np.testing.assert_allclose(likelihood, references, atol=1e-4)
    # Without train_constraints, the same layer's likelihood sums over every path.
    loose = keras_seq.layers.CRF.from_config({**crf.get_config(), "train_constraints": False})
    loose.build((None, None, tags))
    loose.set_weights(crf.get_weights())
    all_paths = [Enumeration(crf, e, m).log_z for e, m in zip(emissions, MASK)]
    np.testing.assert_allclose(numpy_of(loose.log_partition(emissions, MASK)), all_paths, atol=1e-4)


def test_the_constraints_are_saved_in_the_config():
    crf, emissions, _, allowed = constrained_crf("BIO", seed=1, scale=3.0, train_constraints=True)
    config = crf.get_config()
    assert {tuple(pair) for pair in config["constraints"]} == allowed
    assert config["train_constraints"] is True
    again = keras_seq.layers.CRF.from_config(config)
    again.build((None, None, len(SCHEME_LABELS["BIO"])))
    again.set_weights(crf.get_weights())
    np.testing.assert_array_equal(
        numpy_of(again.decode(emissions, MASK)), numpy_of(crf.decode(emissions, MASK))
    )
