import doctest

import keras
import numpy as np
import pytest
from keras import ops
from layer_checks import check_layer

import keras_seq
import keras_seq.layers.recurrent

UNITS, FEATURES, TIME = 4, 3, 6
KERAS_LAYERS = {
    "simple": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
STATES = {"simple": 1, "lstm": 2, "gru": 1}
# Rows: post-padded, pre-padded, full, a gap in the middle (any mask must work).
MASK = np.array(
    [
        [1, 1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1],
        [1, 1, 0, 1, 1, 0],
    ],
    dtype=bool,
)


def numpy_of(x):
    return ops.convert_to_numpy(x)


def inputs(batch=4, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, TIME, FEATURES)).astype("float32")


def randomize(layer, seed=0):
    """Distinct random values for every weight, so b_ih and b_hh differ."""
    rng = np.random.default_rng(seed)
    for variable in layer.weights:
        variable.assign(rng.uniform(-0.6, 0.6, variable.shape).astype("float32"))


def keras_weights(cell, kind):
    """A plugin cell's weights in the layout of the Keras built-in layer."""
    k, rk, b, rb = (numpy_of(v.value) for v in cell.weights)
    if kind != "gru":  # Keras' LSTM gate order i, f, c, o is PyTorch's; one summed bias.
        return [k, rk, b + rb]

    def to_keras(a):  # PyTorch r, z, n -> Keras z, r, h
        r, z, n = np.split(a, 3, axis=-1)
        return np.concatenate([z, r, n], axis=-1)

    return [to_keras(k), to_keras(rk), np.stack([to_keras(b), to_keras(rb)])]


def keras_reference(kind, layer, direction, merge="concat", return_sequences=True):
    """The Keras built-in equivalent of a one-layer `Recurrent`, weights copied."""

    def make(go_backwards=False):
        extra = {"reset_after": True} if kind == "gru" else {}
        return KERAS_LAYERS[kind](
            UNITS,
            return_sequences=return_sequences,
            return_state=True,
            go_backwards=go_backwards,
            **extra,
        )

    if direction == "bidirectional":
        merge_mode = {"concat": "concat", "sum": "sum", "average": "ave", "multiply": "mul"}
        reference = keras.layers.Bidirectional(make(), merge_mode=merge_mode[merge])
    else:
        reference = make(go_backwards=direction == "backward")
    reference.build((None, TIME, FEATURES))
    weights = [w for cell in layer.cells[0] for w in keras_weights(cell, kind)]
    reference.set_weights(weights)
    return reference


def run_reference(reference, x, mask, direction, initial_state=None):
    outputs = [numpy_of(t) for t in reference(x, mask=mask, initial_state=initial_state)]
    if direction == "backward" and outputs[0].ndim == 3:
        outputs[0] = outputs[0][:, ::-1]  # go_backwards returns reversed time order
    return outputs


@pytest.mark.parametrize("direction", ["forward", "backward", "bidirectional"])
@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_matches_keras_builtin_masked_and_unmasked(kind, direction):
    layer = keras_seq.Recurrent(kind, UNITS, direction=direction, return_state=True)
    layer.build((None, TIME, FEATURES))
    randomize(layer)
    reference = keras_reference(kind, layer, direction)
    x = inputs()
    for mask in (None, MASK):
        ours = [numpy_of(t) for t in layer(x, mask=mask)]
        expected = run_reference(reference, x, mask, direction)
        assert len(ours) == len(expected) == 1 + STATES[kind] * (1 + (direction == "bidirectional"))
        real = np.ones_like(MASK) if mask is None else mask
        np.testing.assert_allclose(ours[0][real], expected[0][real], atol=1e-5)
        for got, want in zip(ours[1:], expected[1:]):
            np.testing.assert_allclose(got, want, atol=1e-5)
        if mask is not None:  # padded steps are zero
            np.testing.assert_array_equal(ours[0][~mask], 0.0)


@pytest.mark.parametrize("merge", ["sum", "average", "multiply"])
def test_merge_modes_and_last_output_match_keras_bidirectional(merge):
    layer = keras_seq.Recurrent(
        "lstm", UNITS, direction="bidirectional", merge=merge, return_sequences=False
    )
    layer.build((None, TIME, FEATURES))
    randomize(layer)
    reference = keras_reference("lstm", layer, "bidirectional", merge, return_sequences=False)
    x = inputs()
    expected = run_reference(reference, x, MASK, "bidirectional")[0]
    np.testing.assert_allclose(numpy_of(layer(x, mask=MASK)), expected, atol=1e-5)


def test_stacked_bidirectional_matches_keras_stack():
    layer = keras_seq.Recurrent("gru", [UNITS, 5], direction="bidirectional")
    layer.build((None, TIME, FEATURES))
    randomize(layer)
    x = inputs()
    expected = x
    for k, units in enumerate([UNITS, 5]):
        reference = keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=True, reset_after=True)
        )
        reference.build((None, TIME, expected.shape[-1]))
        reference.set_weights([w for cell in layer.cells[k] for w in keras_weights(cell, "gru")])
        expected = numpy_of(reference(expected, mask=MASK))
    ours = numpy_of(layer(x, mask=MASK))
    assert ours.shape == (4, TIME, 10)
    np.testing.assert_allclose(ours[MASK], expected[MASK], atol=1e-5)


@pytest.mark.parametrize("kind, direction", [("lstm", "bidirectional"), ("gru", "forward")])
def test_initial_state_matches_keras(kind, direction):
    layer = keras_seq.Recurrent(kind, UNITS, direction=direction, return_state=True)
    layer.build((None, TIME, FEATURES))
    randomize(layer)
    reference = keras_reference(kind, layer, direction)
    x = inputs()
    count = STATES[kind] * (2 if direction == "bidirectional" else 1)
    rng = np.random.default_rng(3)
    initial = [rng.normal(size=(4, UNITS)).astype("float32") for _ in range(count)]
    ours = [numpy_of(t) for t in layer(x, initial_state=initial, mask=MASK)]
    expected = run_reference(reference, x, MASK, direction, initial_state=initial)
    np.testing.assert_allclose(ours[0][MASK], expected[0][MASK], atol=1e-5)
    for got, want in zip(ours[1:], expected[1:]):
        np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="initial_state"):
        layer(x, initial_state=initial + initial)


def pad(sequences, length):
    """Each sequence twice: post-padded, then pre-padded; returns (batch, mask)."""
    batch = np.zeros((2 * len(sequences), length, FEATURES), "float32")
    mask = np.zeros((2 * len(sequences), length), bool)
    for i, sequence in enumerate(sequences + sequences):
        n = len(sequence)
        span = slice(0, n) if i < len(sequences) else slice(length - n, length)
        batch[i, span], mask[i, span] = sequence, True
    return batch, mask


# Every cell meets every direction and every layer count 1-3 (a Latin square keeps it fast).
@pytest.mark.parametrize(
    "kind, direction, layers",
    [
        ("simple", "forward", 1),
        ("simple", "backward", 2),
        ("simple", "bidirectional", 3),
        ("lstm", "forward", 2),
        ("lstm", "backward", 3),
        ("lstm", "bidirectional", 1),
        ("gru", "forward", 3),
        ("gru", "backward", 1),
        ("gru", "bidirectional", 2),
    ],
)
def test_padding_invariance(kind, direction, layers):
    rng = np.random.default_rng(5)
    sequences = [rng.normal(size=(n, FEATURES)).astype("float32") for n in (2, 5)]
    layer = keras_seq.Recurrent(kind, UNITS, layers=layers, direction=direction, return_state=True)
    layer.build((None, None, FEATURES))
    randomize(layer, seed=layers)
    alone = [[numpy_of(t) for t in layer(s[None])] for s in sequences]
    batch, mask = pad(sequences, 7)
    padded = [numpy_of(t) for t in layer(batch, mask=mask)]
    for i in range(len(batch)):
        single = alone[i % len(sequences)]
        np.testing.assert_allclose(padded[0][i][mask[i]], single[0][0], atol=1e-5)
        np.testing.assert_array_equal(padded[0][i][~mask[i]], 0.0)
        for got, want in zip(padded[1:], single[1:]):
            np.testing.assert_allclose(got[i], want[0], atol=1e-5)


def test_any_mask_skips_masked_steps():
    layer = keras_seq.Recurrent("lstm", UNITS, direction="bidirectional", return_state=True)
    layer.build((None, None, FEATURES))
    randomize(layer)
    x = inputs(batch=1)
    mask = MASK[3:4]
    gapped = [numpy_of(t) for t in layer(x, mask=mask)]
    compact = [numpy_of(t) for t in layer(x[:, mask[0]])]
    np.testing.assert_allclose(gapped[0][0][mask[0]], compact[0][0], atol=1e-5)
    for got, want in zip(gapped[1:], compact[1:]):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_dropout_between_layers_only_in_training():
    x = inputs()
    one = keras_seq.Recurrent("gru", UNITS, dropout=0.5, seed=1)
    one.build((None, TIME, FEATURES))
    randomize(one)
    # PyTorch's meaning: never on the last layer's output, so one layer is unaffected.
    np.testing.assert_allclose(
        numpy_of(one(x, training=True)), numpy_of(one(x, training=False)), atol=1e-6
    )
    two = keras_seq.Recurrent("gru", UNITS, layers=2, dropout=0.5, seed=1)
    plain = keras_seq.Recurrent("gru", UNITS, layers=2)
    for layer in (two, plain):
        layer.build((None, TIME, FEATURES))
        randomize(layer)
    inference = numpy_of(two(x, training=False))
    np.testing.assert_allclose(inference, numpy_of(plain(x)), atol=1e-6)
    assert np.abs(numpy_of(two(x, training=True)) - inference).max() > 1e-3


def test_recurrent_dropout_masks_only_the_recurrent_input():
    layer = keras_seq.Recurrent("lstm", UNITS, recurrent_dropout=0.5, seed=2)
    layer.build((None, TIME, FEATURES))
    randomize(layer)
    x = inputs()
    inference = numpy_of(layer(x, training=False))
    training = numpy_of(layer(x, training=True))
    # The first step reads h0 = 0, so the mask cannot change it; later steps change.
    np.testing.assert_allclose(training[:, 0], inference[:, 0], atol=1e-6)
    assert np.abs(training[:, 1:] - inference[:, 1:]).max() > 1e-3


def test_default_initialization():
    layer = keras_seq.Recurrent("lstm", UNITS, direction="bidirectional")
    layer.build((None, TIME, FEATURES))
    forward, backward = layer.cells[0]
    bias = numpy_of(forward.bias.value)
    np.testing.assert_array_equal(bias[UNITS : 2 * UNITS], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[UNITS : 2 * UNITS]), 0.0)
    np.testing.assert_array_equal(numpy_of(forward.recurrent_bias.value), 0.0)
    recurrent = numpy_of(forward.recurrent_kernel.value)  # orthogonal (units, 4 units)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(UNITS), atol=1e-5)
    # The two directions get independent random weights.
    assert not np.allclose(numpy_of(forward.kernel.value), numpy_of(backward.kernel.value))


def test_variable_names_and_order():
    layer = keras_seq.Recurrent("gru", [UNITS, 5], direction="bidirectional", name="enc")
    layer.build((None, TIME, FEATURES))
    expected = [
        f"enc/{cell}_{k}/{weight}"
        for k in (0, 1)
        for cell in ("forward", "backward")
        for weight in ("kernel", "recurrent_kernel", "bias", "recurrent_bias")
    ]
    assert [v.path for v in layer.weights] == expected
    assert [tuple(v.shape) for v in layer.cells[1][1].weights] == [
        (2 * UNITS, 15),
        (5, 15),
        (15,),
        (15,),
    ]


def test_layer_checks_bidirectional_masked_tokens(tmp_path):
    layer = keras_seq.Recurrent(
        "lstm", UNITS, layers=2, direction="bidirectional", dropout=0.2, recurrent_dropout=0.1
    )
    tokens = np.array([[3, 4, 5, 0, 0], [0, 6, 7, 8, 9], [1, 2, 3, 4, 5]])
    check_layer(layer, tokens, (3, 5, 2 * UNITS), tmp_path, vocab_size=10)


def test_layer_checks_last_output(tmp_path):
    layer = keras_seq.Recurrent("simple", [UNITS, 3], direction="backward", return_sequences=False)
    check_layer(layer, inputs(), (4, 3), tmp_path)


def test_return_state_shapes_and_mask_symbolic():
    sequence = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, FEATURES, mask_zero=True)(sequence)
    layer = keras_seq.Recurrent("lstm", UNITS, direction="bidirectional", return_state=True)
    output, *states = layer(embedded)
    assert tuple(output.shape) == (None, None, 2 * UNITS)
    assert [tuple(s.shape) for s in states] == [(None, UNITS)] * 4
    tokens = np.array([[1, 2, 0]])
    mask = layer.compute_mask(embedded, ops.not_equal(tokens, 0))
    assert len(mask) == 5 and mask[1:] == [None] * 4


def test_config_round_trip():
    layer = keras_seq.Recurrent(
        "simple",
        [3, 2],
        direction="bidirectional",
        merge="average",
        activation="relu",
        kernel_initializer="he_normal",
        return_state=True,
        seed=7,
    )
    config = layer.get_config()
    restored = keras_seq.Recurrent.from_config(config)
    assert restored.get_config() == config
    assert restored.layer_sizes == [3, 2]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cell": "transformer"}, "cell"),
        ({"direction": "sideways"}, "direction"),
        ({"merge": "max"}, "merge"),
        ({"dropout": 1.0}, "dropout"),
        ({"activation": "relu"}, "activation"),
        ({"units": [4, 4], "layers": 3}, "layers"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    arguments = {"cell": "lstm", "units": UNITS, **kwargs}
    with pytest.raises(ValueError, match=match):
        keras_seq.Recurrent(**arguments)


def test_docstring_examples_run():
    result = doctest.testmod(keras_seq.layers.recurrent)
    assert result.attempted > 0 and result.failed == 0


def tagger(vocab=7, classes=3):
    """Token ids of any length -> per-step class probabilities, padding (id 0) masked."""
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(vocab, FEATURES, mask_zero=True)(tokens)
    encoded = keras_seq.Recurrent("gru", UNITS, direction="backward")(embedded)
    model = keras.Model(tokens, keras.layers.Dense(classes, activation="softmax")(encoded))
    # Learning rate 0: every call below sees the same weights.
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    return model


def test_compiled_calls_with_a_new_sequence_length():
    # TensorFlow re-traces the second length with an unknown time dimension.
    keras.utils.set_random_seed(0)
    model = tagger()
    rng = np.random.default_rng(0)
    x = np.zeros((2, 9), "int32")
    x[:, :5] = rng.integers(1, 7, (2, 5))
    x[1, 3:] = 0
    y = rng.integers(0, 3, (2, 9)).astype("int32")
    short = model.predict(x[:, :5], verbose=0)
    for length in (5, 9):
        probabilities = model.predict(x[:, :length], verbose=0)
        real = x[:, :length] != 0
        np.testing.assert_allclose(probabilities[real], short[real[:, :5]], atol=1e-6)
        picked = np.take_along_axis(probabilities, y[:, :length, None], axis=-1)[..., 0]
        loss = model.train_on_batch(x[:, :length], y[:, :length])
        np.testing.assert_allclose(loss, -np.log(picked[real]).mean(), rtol=1e-5)


def test_jit_compile_off_on_tensorflow_only(monkeypatch):
    # Keras asks each layer's `supports_jit`; "auto" consults it on TensorFlow only with a GPU.
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
        monkeypatch.setattr(tf.config, "list_physical_devices", lambda *args: [gpu])
    expected = keras.backend.backend() == "jax"  # torch: "auto" means eager
    model = tagger()
    model.compile(optimizer="sgd", loss="mse", jit_compile="auto")
    assert model.jit_compile is expected
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    assert model.jit_compile is (keras.backend.backend() != "tensorflow")


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_zero_length_sequence_keeps_the_initial_states(layers, return_sequences):
    layer = keras_seq.Recurrent(
        "lstm",
        UNITS,
        layers=layers,
        direction="bidirectional",
        return_sequences=return_sequences,
        return_state=True,
    )
    start = [np.full((2, UNITS), v, "float32") for v in (0.1, 0.2, 0.3, 0.4)]
    output, *states = layer(np.ones((2, 0, FEATURES), "float32"), initial_state=start)
    # No step runs: the last layer's final states are its initial ones (given for layer 0,
    # zeros for the others), and the output is empty or the merged final h.
    expected = start if layers == 1 else [np.zeros((2, UNITS), "float32")] * 4
    for state, want in zip(states, expected):
        np.testing.assert_array_equal(numpy_of(state), want)
    if return_sequences:
        assert tuple(output.shape) == (2, 0, 2 * UNITS)
    else:
        np.testing.assert_array_equal(
            numpy_of(output), np.concatenate([expected[0], expected[2]], axis=-1)
        )


@pytest.mark.parametrize("mask_shape", [(4, TIME - 1), (3, TIME), (4, TIME, 1)])
def test_wrong_mask_shape_is_a_clear_error(mask_shape):
    layer = keras_seq.Recurrent("gru", UNITS)
    with pytest.raises(ValueError, match=r"mask.shape=\(" + ", ".join(map(str, mask_shape))):
        layer(inputs(), mask=np.ones(mask_shape, bool))


@pytest.mark.parametrize("shape", [(4, TIME), (4, TIME, FEATURES, 1)])
def test_wrong_input_rank_is_a_clear_error(shape):
    layer = keras_seq.Recurrent("gru", UNITS)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.ones(shape, "float32"))
