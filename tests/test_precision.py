"""`training.precision: mixed_bfloat16`: bfloat16 compute, float32 weights, same answers.

The reference is the same model in float32 with the same weights: a bfloat16 model must agree
with it within a bfloat16-sized tolerance (8 bits of mantissa: ~4e-3 relative per rounding).
"""

import keras
import numpy as np
import pytest

import keras_seq
import keras_seq.backend
from keras_seq.layers import Attention, SequencePooling

TOLERANCE = 2e-2
BATCH, TIME, FEATURES, UNITS = 4, 7, 5, 6
LENGTHS = [7, 5, 2, 7]
VOCAB, CLASSES = 30, 4

SPEC = """
seed: 3
input: {kind: tokens, embedding_dim: 8}
encoder: {cell: lstm, units: 8, direction: bidirectional}
head: {type: tagger, output: OUTPUT}
training: {precision: PRECISION, learning_rate: 0.02}
"""


def numpy(x):
    return keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))


def post_mask():
    return np.arange(TIME)[None, :] < np.array(LENGTHS)[:, None]


# The dtype each backend's fast-path loop computes a bfloat16 layer's recurrence in (JAX and
# TensorFlow: on CPU).
FAST_PATH_DTYPE = {"torch": "bfloat16", "tensorflow": "float32", "jax": "float32"}


@pytest.fixture
def fast_path_dtypes(monkeypatch):
    """The dtype each fast-path recurrence computed in (torch kernel, JAX's `_run`, or the
    loop TensorFlow compiles)."""
    seen = []
    if keras.backend.backend() == "jax":
        from keras_seq.backend import jax_rnn

        run = jax_rnn._run

        def spy(*args):
            seen.append(keras.backend.standardize_dtype(args[1].dtype))
            return run(*args)

        monkeypatch.setattr(jax_rnn, "_run", spy)
    elif keras.backend.backend() == "torch":
        import torch

        for name in ["lstm", "gru", "rnn_tanh", "rnn_relu"]:
            kernel = getattr(torch._VF, name)

            def spy(*args, _kernel=kernel):
                seen.append(str(args[0].dtype).replace("torch.", ""))
                return _kernel(*args)

            monkeypatch.setattr(torch._VF, name, spy)
    else:
        from keras_seq.backend import tf_rnn

        compiled = tf_rnn._forward

        def spy(*key):
            run = compiled(*key)

            def recorded(*args):
                seen.append(keras.backend.standardize_dtype(args[0].dtype))
                return run(*args)

            return recorded

        monkeypatch.setattr(tf_rnn, "_forward", spy)
    return seen


def recurrent_pair(cell, **options):
    """A float32 `Recurrent` and a mixed_bfloat16 one with the same weights."""
    pair = []
    for dtype in ("float32", "mixed_bfloat16"):
        layer = keras_seq.Recurrent(cell, UNITS, dtype=dtype, **options)
        layer.build((None, TIME, FEATURES))
        pair.append(layer)
    rng = np.random.default_rng(0)
    for variable in pair[0].weights:
        variable.assign(rng.uniform(-0.6, 0.6, variable.shape).astype("float32"))
    pair[1].set_weights(pair[0].get_weights())
    return pair


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
def test_recurrent_computes_in_bfloat16_on_the_fast_path(cell, fast_path_dtypes):
    full, mixed = recurrent_pair(cell, direction="bidirectional", return_state=True)
    x = np.random.default_rng(1).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    expected = full(x, mask=post_mask())
    assert set(fast_path_dtypes) == {"float32"}
    fast_path_dtypes.clear()
    got = mixed(x, mask=post_mask())
    # The fast path ran (no silent fallback), once per direction, in the backend's dtype.
    assert fast_path_dtypes == [FAST_PATH_DTYPE[keras.backend.backend()]] * 2
    assert {keras.backend.standardize_dtype(v.dtype) for v in mixed.weights} == {"float32"}
    for a, b in zip(got, expected):
        assert keras.backend.standardize_dtype(a.dtype) == "bfloat16"
        np.testing.assert_allclose(numpy(a), numpy(b), atol=TOLERANCE)


def test_recurrent_generic_loop_in_bfloat16(monkeypatch):
    def refuse(*args, **kwargs):
        raise NotImplementedError("switched off by the test")

    monkeypatch.setattr(keras_seq.backend, "recur", refuse)
    monkeypatch.setattr(keras_seq.backend, "recur_stack", refuse)
    full, mixed = recurrent_pair("lstm", direction="bidirectional", return_state=True)
    x = np.random.default_rng(1).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    initial_state = [np.full((BATCH, UNITS), 0.1, "float32")] * 4  # float32 states are cast
    expected = full(x, mask=post_mask(), initial_state=initial_state)
    got = mixed(x, mask=post_mask(), initial_state=initial_state)
    for a, b in zip(got, expected):
        assert keras.backend.standardize_dtype(a.dtype) == "bfloat16"
        np.testing.assert_allclose(numpy(a), numpy(b), atol=TOLERANCE)


def test_attention_weights_are_float32_and_exact_at_padding():
    rng = np.random.default_rng(2)
    query = rng.normal(size=(BATCH, 3, 6)).astype("float32")
    values = rng.normal(size=(BATCH, TIME, 6)).astype("float32")
    pair = [Attention("bahdanau", output_units=5, dtype=d) for d in ("float32", "mixed_bfloat16")]
    expected = pair[0]([query, values], mask=[None, post_mask()], return_attention_scores=True)
    pair[1].build([query.shape, values.shape])
    pair[1].set_weights(pair[0].get_weights())
    output, weights = pair[1](
        [query, values], mask=[None, post_mask()], return_attention_scores=True
    )
    assert keras.backend.standardize_dtype(weights.dtype) == "float32"
    assert keras.backend.standardize_dtype(output.dtype) == "bfloat16"
    weights = numpy(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert not weights[~np.broadcast_to(post_mask()[:, None, :], weights.shape)].any()
    np.testing.assert_allclose(weights, numpy(expected[1]), atol=TOLERANCE)
    np.testing.assert_allclose(numpy(output), numpy(expected[0]), atol=TOLERANCE)


def test_mean_pooling_sums_in_float32():
    steps = 300  # a bfloat16 running sum of ~1.0s stops growing by 1 past 256
    x = np.random.default_rng(3).uniform(0.9, 1.1, size=(2, steps, 3)).astype("float32")
    mask = np.arange(steps)[None, :] < np.array([[steps], [40]])
    pooled = SequencePooling("mean", dtype="mixed_bfloat16")(x, mask=mask)
    assert keras.backend.standardize_dtype(pooled.dtype) == "bfloat16"
    x_bf16 = numpy(keras.ops.cast(x, "bfloat16")).astype("float64")  # the layer's inputs
    expected = [x_bf16[0].mean(0), x_bf16[1, :40].mean(0)]
    np.testing.assert_allclose(numpy(pooled), expected, rtol=2**-8)  # one bfloat16 rounding


def build(precision, output):
    spec = SPEC.replace("PRECISION", precision).replace("OUTPUT", output)
    return keras_seq.build(spec, vocab_size=VOCAB, classes=CLASSES)


def data():
    rng = np.random.default_rng(5)
    x = rng.integers(2, VOCAB, size=(16, TIME)).astype("int32") * (
        np.arange(TIME)[None, :] < rng.integers(2, TIME + 1, size=16)[:, None]
    )
    return x, (x % CLASSES).astype("int32")  # learnable: the tag is a function of the word


def train_steps(model, x, y, weights, steps=8):
    return [
        float(model.train_on_batch(x, y, sample_weight=weights, return_dict=True)["loss"])
        for _ in range(steps)
    ]


@pytest.mark.parametrize("output", ["softmax", "crf"])
def test_model_in_mixed_bfloat16_matches_float32_trains_and_round_trips(output, tmp_path):
    full, mixed = build("float32", output), build("mixed_bfloat16", output)
    assert keras.config.dtype_policy().name == "float32"  # the build leaves Keras' policy alone
    encoder = mixed.get_layer("encoder")
    assert encoder.dtype_policy.name == "mixed_bfloat16"
    assert mixed.get_layer("head").dtype_policy.name == "float32"
    assert {keras.backend.standardize_dtype(v.dtype) for v in mixed.weights} == {"float32"}
    mixed.set_weights(full.get_weights())
    x, y = data()
    weights = (x != 0).astype("float32")
    predicted = mixed.predict(x, verbose=0)
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, full.predict(x, verbose=0), atol=TOLERANCE)

    # Each step reports the loss before its update: the first is the same weights' loss.
    losses = [train_steps(model, x, y, weights) for model in (mixed, full)]
    np.testing.assert_allclose(losses[0][0], losses[1][0], rtol=TOLERANCE)
    assert np.isfinite(losses[0]).all() and losses[0][-1] < 0.9 * losses[0][0], losses
    np.testing.assert_allclose(losses[0], losses[1], rtol=0.05)  # float32 training's path
    assert {keras.backend.standardize_dtype(v.dtype) for v in mixed.weights} == {"float32"}

    path = tmp_path / "model.keras"
    mixed.save(path)
    loaded = keras_seq.load(path)
    assert loaded.model.get_layer("encoder").dtype_policy.name == "mixed_bfloat16"
    np.testing.assert_array_equal(loaded.model.predict(x, verbose=0), mixed.predict(x, verbose=0))
