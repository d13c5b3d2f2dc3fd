"""Attention: Luong and Bahdanau scores against a NumPy reference; padding gets zero weight."""

import keras
import numpy as np
import pytest

from keras_seq.layers import Attention
from tests.layer_checks import check_layer

SCORES = ["luong", "bahdanau"]
# (score, units, output_units): each score alone, and with its optional widths.
LAYERS = [("luong", None, None), ("bahdanau", None, None), ("luong", None, 6), ("bahdanau", 8, 6)]


def _reference(layer, query, values, mask):
    """Output and weights by NumPy, from the layer's own weights (float64)."""
    weights = [np.asarray(keras.ops.convert_to_numpy(w), "float64") for w in layer.weights]
    if layer.score == "luong":
        kernel = weights.pop(0)
        scores = np.einsum("bqd,de,bve->bqv", query, kernel, values)
    else:
        query_kernel, value_kernel, score_kernel = weights[:3]
        weights = weights[3:]
        hidden = np.tanh((query @ query_kernel)[:, :, None] + (values @ value_kernel)[:, None])
        scores = hidden @ score_kernel
    expected = np.zeros_like(scores)
    for b in range(len(query)):
        real = mask[b]
        if real.any():
            exponentials = np.exp(scores[b][:, real] - scores[b][:, real].max(-1, keepdims=True))
            expected[b][:, real] = exponentials / exponentials.sum(-1, keepdims=True)
    output = expected @ values
    if weights:  # output_units: Luong's attentional state
        (output_kernel,) = weights
        output = np.tanh(np.concatenate([output, query], -1) @ output_kernel)
    return output, expected


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(4, 3, 5)).astype("float32")
    values = rng.normal(size=(4, 6, 7)).astype("float32")
    mask = np.array(
        [
            [1, 1, 1, 1, 1, 1],  # no padding
            [1, 1, 1, 0, 0, 0],  # post-padding
            [0, 0, 1, 1, 1, 1],  # pre-padding
            [0, 0, 0, 0, 0, 0],  # nothing real: zero weights, zero context
        ],
        bool,
    )
    return query, values, mask


def _numpy(tensors):
    return [keras.ops.convert_to_numpy(t) for t in tensors]


@pytest.mark.parametrize("score, units, output_units", LAYERS)
def test_masked_attention_matches_numpy(score, units, output_units):
    query, values, mask = _batch()
    layer = Attention(score, units=units, output_units=output_units)
    output, weights = _numpy(
        layer([query, values], mask=[None, mask], return_attention_scores=True)
    )
    expected_output, expected_weights = _reference(layer, query, values, mask)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output, expected_output, rtol=1e-5, atol=1e-5)
    # Exactly zero, not merely small: padding contributes nothing.
    assert np.all(weights[np.broadcast_to(~mask[:, None, :], weights.shape)] == 0.0)
    np.testing.assert_allclose(weights[:3].sum(-1), 1.0, rtol=1e-6)
    # Whatever the padded steps hold, the output is the same.
    garbage = np.where(mask[:, :, None], values, 1e3).astype("float32")
    np.testing.assert_array_equal(
        _numpy([layer([query, garbage], mask=[None, mask])])[0],
        _numpy([layer([query, values], mask=[None, mask])])[0],
    )


@pytest.mark.parametrize("score, units, output_units", LAYERS)
def test_unmasked_attention_matches_numpy(score, units, output_units):
    query, values, _ = _batch(1)
    layer = Attention(score, units=units, output_units=output_units)
    output, weights = _numpy(layer([query, values], return_attention_scores=True))
    expected_output, expected_weights = _reference(
        layer, query, values, np.ones(values.shape[:2], bool)
    )
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output, expected_output, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("score", SCORES)
def test_single_step_query_equals_one_step_sequence(score):
    query, values, mask = _batch(2)
    layer = Attention(score)
    sequence_context, sequence_weights = _numpy(
        layer([query[:, :1], values], mask=[None, mask], return_attention_scores=True)
    )
    step_context, step_weights = _numpy(
        layer([query[:, 0], values], mask=[None, mask], return_attention_scores=True)
    )
    np.testing.assert_array_equal(step_context, sequence_context[:, 0])
    np.testing.assert_array_equal(step_weights, sequence_weights[:, 0])


def test_large_scores_do_not_overflow():
    query, values, mask = _batch(3)
    layer = Attention("luong")
    layer.build([query.shape, values.shape])
    layer.kernel.assign(np.full(layer.kernel.shape, 50.0, "float32"))
    weights = _numpy(layer([query, values], mask=[None, mask], return_attention_scores=True))[1]
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights[:3].sum(-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("score, units, output_units", LAYERS)
def test_attention_layer_checks(score, units, output_units, tmp_path):
    query, values, _ = _batch(4)
    layer = Attention(score, units=units, output_units=output_units)
    check_layer(layer, [query, values], (4, 3, output_units or 7), tmp_path)


@pytest.mark.parametrize("score", SCORES)
def test_attention_trains_with_padding_from_embedding_mask(score):
    # The values' mask comes from `Embedding(mask_zero=True)`; a row with no real step has
    # zero weights everywhere and must leave the gradients finite.
    rng = np.random.default_rng(5)
    tokens = rng.integers(1, 9, (16, 6)).astype("int32")
    tokens[:, 4:] = 0
    tokens[0] = 0
    query = rng.normal(size=(16, 2, 4)).astype("float32")
    targets = rng.uniform(-0.5, 0.5, (16, 2, 4)).astype("float32")
    query_input = keras.Input((2, 4))
    token_input = keras.Input((6,), dtype="int32")
    values = keras.layers.Embedding(9, 4, mask_zero=True)(token_input)
    context = Attention(score)([query_input, values])
    model = keras.Model([query_input, token_input], context)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    before = model.evaluate([query, tokens], targets, verbose=0)
    model.fit([query, tokens], targets, epochs=10, batch_size=16, verbose=0)
    after = model.evaluate([query, tokens], targets, verbose=0)
    assert np.isfinite(after) and after < 0.9 * before, (before, after)
    assert all(np.all(np.isfinite(keras.ops.convert_to_numpy(w))) for w in model.weights)


def test_mixed_precision_is_close_to_float32():
    query, values, mask = _batch(6)
    exact = Attention("bahdanau")
    exact([query, values])
    half = Attention("bahdanau", dtype="mixed_float16")
    half([query, values])
    half.set_weights(exact.get_weights())
    context = _numpy([half([query, values], mask=[None, mask])])[0]
    assert context.dtype == np.float16
    np.testing.assert_allclose(
        context, _numpy([exact([query, values], mask=[None, mask])])[0], atol=2e-2
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="score"):
        Attention("dot")
    with pytest.raises(ValueError, match="bahdanau"):
        Attention("luong", units=4)
    with pytest.raises(ValueError, match="positive"):
        Attention("bahdanau", units=0)
