import doctest

import keras
import numpy as np
import pytest
from keras import ops

import keras_seq
import keras_seq.layers.cells

UNITS, FEATURES, BATCH = 4, 3, 2


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_step(kind, x, states, w, activation="tanh"):
    """Independent NumPy reference of one step, PyTorch's equations and gate order."""
    k, rk, b, rb = w
    xp, hp = x @ k + b, states[0] @ rk + rb
    if kind == "simple":
        pre = xp + hp
        h = np.tanh(pre) if activation == "tanh" else np.maximum(pre, 0.0)
        return [h]
    if kind == "lstm":
        i, f, g, o = np.split(xp + hp, 4, axis=-1)
        c = sigmoid(f) * states[1] + sigmoid(i) * np.tanh(g)
        return [sigmoid(o) * np.tanh(c), c]
    x_r, x_z, x_n = np.split(xp, 3, axis=-1)
    h_r, h_z, h_n = np.split(hp, 3, axis=-1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return [(1.0 - z) * n + z * states[0]]


CELLS = {"simple": keras_seq.SimpleRNNCell, "lstm": keras_seq.LSTMCell, "gru": keras_seq.GRUCell}
GATES = {"simple": 1, "lstm": 4, "gru": 3}


def random_cell(kind, seed=0, **kwargs):
    cell = CELLS[kind](UNITS, **kwargs)
    cell.build((None, FEATURES))
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-0.6, 0.6, v.shape).astype("float32") for v in cell.weights]
    for variable, value in zip(cell.weights, weights):
        variable.assign(value)
    return cell, weights


@pytest.mark.parametrize(
    "kind, activation", [("simple", "tanh"), ("simple", "relu"), ("lstm", None), ("gru", None)]
)
def test_step_matches_numpy_with_distinct_biases(kind, activation):
    kwargs = {"activation": activation} if activation else {}
    cell, weights = random_cell(kind, **kwargs)
    assert not np.allclose(weights[2], weights[3])  # b_ih and b_hh really differ
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in cell.state_size]
    expected = numpy_step(kind, x, states, weights, activation or "tanh")
    output, new_states = cell(x, states)
    np.testing.assert_allclose(ops.convert_to_numpy(output), expected[0], atol=1e-6)
    for got, want in zip(new_states, expected):
        np.testing.assert_allclose(ops.convert_to_numpy(got), want, atol=1e-6)
    # The hoisted form (projection for all steps, then step) gives the same numbers.
    tensors = [ops.convert_to_tensor(s) for s in states]
    projected = cell.project_inputs(ops.convert_to_tensor(x))
    stepped, _ = cell.step(cell.params(), [projected], tensors)
    np.testing.assert_allclose(ops.convert_to_numpy(stepped[0]), expected[0], atol=1e-6)
    # So does the projection split per gate (how the fast paths scan it).
    per_gate = ops.split(projected, cell.gate_count, axis=-1)
    stepped, _ = cell.step(cell.params(), per_gate, tensors)
    np.testing.assert_allclose(ops.convert_to_numpy(stepped[0]), expected[0], atol=1e-6)


def test_recurrent_mask_scales_previous_h():
    cell, weights = random_cell("gru")
    x = np.ones((BATCH, FEATURES), "float32")
    h = np.full((BATCH, UNITS), 0.5, "float32")
    keep = np.array([[2.0, 0.0, 2.0, 0.0]] * BATCH, "float32")
    expected = numpy_step("gru", x, [h * keep], weights)[0]
    # Only the recurrent matmul sees the mask: the z * h term keeps the unmasked h.
    _, x_z, _ = np.split(x @ weights[0] + weights[2], 3, axis=-1)
    _, h_z, _ = np.split((h * keep) @ weights[1] + weights[3], 3, axis=-1)
    z = sigmoid(x_z + h_z)
    expected = expected + z * (h - h * keep)
    output, _ = cell(x, [h], recurrent_mask=keep)
    np.testing.assert_allclose(ops.convert_to_numpy(output), expected, atol=1e-6)


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_weight_names_shapes_and_order(kind):
    cell = CELLS[kind](UNITS, name="c")
    cell.build((None, FEATURES))
    width = GATES[kind] * UNITS
    assert [(v.name, tuple(v.shape)) for v in cell.weights] == [
        ("kernel", (FEATURES, width)),
        ("recurrent_kernel", (UNITS, width)),
        ("bias", (width,)),
        ("recurrent_bias", (width,)),
    ]
    no_bias = CELLS[kind](UNITS, use_bias=False)
    no_bias.build((None, FEATURES))
    assert [v.name for v in no_bias.weights] == ["kernel", "recurrent_kernel"]


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_lstm_unit_forget_bias(unit_forget_bias):
    cell = keras_seq.LSTMCell(UNITS, unit_forget_bias=unit_forget_bias)
    cell.build((None, FEATURES))
    forget = 1.0 if unit_forget_bias else 0.0
    expected = np.concatenate([np.zeros(UNITS), np.full(UNITS, forget), np.zeros(2 * UNITS)])
    np.testing.assert_array_equal(ops.convert_to_numpy(cell.bias.value), expected)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(cell.recurrent_bias.value), np.zeros(4 * UNITS)
    )


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_config_round_trip_and_serialization(kind):
    extra = {"simple": {"activation": "relu"}, "lstm": {"unit_forget_bias": False}, "gru": {}}
    cell = CELLS[kind](UNITS, use_bias=False, kernel_initializer="he_normal", **extra[kind])
    config = cell.get_config()
    assert CELLS[kind].from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert type(restored) is CELLS[kind]
    assert restored.get_config() == config


def test_initial_state_and_sizes():
    cell = keras_seq.LSTMCell(UNITS)
    assert cell.state_size == [UNITS, UNITS] and cell.output_size == UNITS
    states = cell.get_initial_state(BATCH)
    assert len(states) == 2
    np.testing.assert_array_equal(ops.convert_to_numpy(states[1]), np.zeros((BATCH, UNITS)))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="activation"):
        keras_seq.SimpleRNNCell(UNITS, activation="sigmoid")
    with pytest.raises(ValueError, match="units"):
        keras_seq.GRUCell(0)


def test_docstring_examples_run():
    result = doctest.testmod(keras_seq.layers.cells)
    assert result.attempted > 0 and result.failed == 0
