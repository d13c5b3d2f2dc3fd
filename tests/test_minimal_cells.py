"""minGRU and minLSTM: the parallel scan equals a NumPy loop (values) and the generic sequential
scan (gradients), on every backend, with masks, both directions and stacking."""

import doctest

import keras
import numpy as np
import pytest
from layer_checks import check_layer

import keras_seq
import keras_seq.backend
import keras_seq.layers.minimal_cells
from keras_seq.backend import parallel, scan

TIME, FEATURES, UNITS, BATCH = 7, 3, 4, 4
STEPS = np.arange(TIME)[None, :]
MASKS = {
    "none": None,
    "post-padding": STEPS < np.array([[7], [4], [1], [3]]),
    "pre-padding": STEPS >= np.array([[0], [2], [6], [3]]),
    "gaps": np.array([[1, 0, 1, 1, 0, 1, 1], [0, 1, 1, 0, 1, 0, 0], [1] * 7, [0] * 7], bool),
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def numpy_coefficients(kind, x, kernel, bias):
    """a, b of h_t = a h_{t-1} + b, straight from the paper's equations."""
    if kind == "mingru":
        z, candidate = np.split(x @ kernel + bias, 2, axis=-1)
        z = sigmoid(z)
        return 1.0 - z, z * candidate
    f, i, candidate = np.split(x @ kernel + bias, 3, axis=-1)
    f, i = sigmoid(f), sigmoid(i)
    return f / (f + i), i / (f + i) * candidate


def numpy_direction(kind, weights, x, mask, h, reverse):
    """One direction, one step at a time: masked steps keep h and output zeros."""
    a, b = numpy_coefficients(kind, x, *weights)
    outputs = np.zeros(a.shape, "float64")
    for t in reversed(range(x.shape[1])) if reverse else range(x.shape[1]):
        new = a[:, t] * h + b[:, t]
        real = np.ones((x.shape[0], 1), bool) if mask is None else mask[:, t, None]
        h = np.where(real, new, h)
        outputs[:, t] = np.where(real, new, 0.0)
    return outputs, h


def numpy_stack(kind, layer, x, mask, initial_state):
    """The whole `Recurrent` (concat merge): per layer, per direction, a NumPy loop."""
    sequence = x.astype("float64")
    for k, cells in enumerate(layer.cells):
        outputs, finals = [], []
        for d, cell in enumerate(cells):
            h = initial_state[d] if k == 0 else np.zeros((x.shape[0], cell.units))
            weights = [as_numpy(cell.kernel), as_numpy(cell.bias)]
            reverse = layer.direction == "backward" or d == 1
            output, final = numpy_direction(kind, weights, sequence, mask, h, reverse)
            outputs.append(output)
            finals.append(final)
        sequence = np.concatenate(outputs, axis=-1)
    return [sequence, *finals]


def make_layer(kind, direction, layers=2):
    layer = keras_seq.Recurrent(kind, UNITS, layers=layers, direction=direction, return_state=True)
    layer.build((None, TIME, FEATURES))
    rng = np.random.default_rng(0)
    for variable in layer.weights:
        variable.assign(rng.uniform(-0.8, 0.8, variable.shape).astype("float32"))
    return layer


def inputs(directions, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(directions)]
    return x, states


def as_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


@pytest.fixture
def scans(monkeypatch):
    """Counts parallel scans; the generic sequential scan fails the test if it runs."""
    calls = []
    linear_scan = parallel.linear_scan

    def spy(*args, **kwargs):
        calls.append(kwargs.get("reverse", args[3] if len(args) > 3 else False))
        return linear_scan(*args, **kwargs)

    def fallback(*args, **kwargs):
        raise AssertionError("the generic scan ran: the parallel path fell back")

    monkeypatch.setattr(parallel, "linear_scan", spy)
    monkeypatch.setattr(scan, "scan", fallback)
    return calls


@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("direction", ["bidirectional", "backward"])
def test_parallel_scan_matches_numpy_loop(kind, mask, direction, scans):
    layer = make_layer(kind, direction)
    directions = 2 if direction == "bidirectional" else 1
    x, states = inputs(directions)
    got = layer(x, mask=MASKS[mask], initial_state=states)
    expected = numpy_stack(kind, layer, x, MASKS[mask], states)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(as_numpy(a), b, atol=1e-5)
    # Every layer-direction pass ran the parallel scan, the reverse ones reversed.
    assert scans == ([False, True] * 2 if directions == 2 else [True, True])


def outputs_and_grads(layer, x, mask, states):
    """Outputs and d(sum of outputs * fixed weights)/d(weights, x, initial states), NumPy."""
    rng = np.random.default_rng(1)
    shapes = [(BATCH, TIME, 2 * UNITS)] + [(BATCH, UNITS)] * len(states)
    weights = [rng.normal(size=shape).astype("float32") for shape in shapes]

    def loss(outputs):
        return sum(
            keras.ops.sum(o * keras.ops.convert_to_tensor(w)) for o, w in zip(outputs, weights)
        )

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def run(values, x, states):
            outputs, _ = layer.stateless_call(values, [], x, mask=mask, initial_state=states)
            return loss(outputs), outputs

        values = [v.value for v in layer.trainable_weights]
        compute = jax.jit(jax.value_and_grad(run, argnums=(0, 1, 2), has_aux=True))
        (_, outputs), grads = compute(values, x, states)
    elif backend == "tensorflow":
        import tensorflow as tf

        x, states = tf.constant(x), [tf.constant(s) for s in states]
        with tf.GradientTape() as tape:
            tape.watch([x, states])
            outputs = layer(x, mask=mask, initial_state=states)
            value = loss(outputs)
        grads = tape.gradient(value, [layer.trainable_weights, x, states])
    else:
        import torch

        x = torch.tensor(x, requires_grad=True)
        states = [torch.tensor(s, requires_grad=True) for s in states]
        outputs = layer(x, mask=None if mask is None else torch.tensor(mask), initial_state=states)
        sources = [v.value for v in layer.trainable_weights] + [x, *states]
        grads = torch.autograd.grad(loss(outputs), sources)
    return [as_numpy(o) for o in outputs], [as_numpy(g) for g in keras.tree.flatten(grads)]


@pytest.mark.parametrize("method", ["associative", "sequential"])
@pytest.mark.parametrize("kind, mask", [("mingru", "gaps"), ("minlstm", "pre-padding")])
def test_gradients_match_the_sequential_scan(kind, mask, method, monkeypatch):
    monkeypatch.setattr(parallel, "method", lambda: method)
    layer = make_layer(kind, "bidirectional", layers=1)
    x, states = inputs(2, seed=3)
    got = outputs_and_grads(layer, x, MASKS[mask], states)
    with monkeypatch.context() as m:
        m.setattr(keras_seq.backend, "recur", refuse)
        expected = outputs_and_grads(layer, x, MASKS[mask], states)
    assert len(got[1]) == len(layer.trainable_weights) + 3
    for a, b in zip(got[0], expected[0]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(got[1], expected[1]):  # relative to each gradient's scale
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(b).max()))
        assert np.abs(b).max() > 1e-3  # every gradient is really exercised


def refuse(*args, **kwargs):
    raise NotImplementedError("switched off by the test")


@pytest.mark.parametrize("method", ["associative", "sequential"])
@pytest.mark.parametrize("reverse", [False, True])
def test_linear_scan_methods_match_a_numpy_loop(method, reverse, monkeypatch):
    """37 steps: not a power of two (the associative scan's uneven levels)."""
    monkeypatch.setattr(parallel, "method", lambda: method)
    rng = np.random.default_rng(5)
    a = rng.uniform(0.0, 1.0, (3, 37, 2)).astype("float32")
    b = rng.normal(size=(3, 37, 2)).astype("float32")
    h0 = rng.normal(size=(3, 2)).astype("float32")
    expected, h = np.zeros(a.shape), h0.astype("float64")
    for t in reversed(range(37)) if reverse else range(37):
        h = expected[:, t] = a[:, t] * h + b[:, t]
    np.testing.assert_allclose(
        as_numpy(parallel.linear_scan(a, b, h0, reverse)), expected, atol=1e-5
    )


def test_method_follows_the_backend_and_device(monkeypatch):
    """JAX on a CPU scans sequentially, everything else associatively; nothing else runs."""
    calls = []
    for name, run in list(parallel._METHODS.items()):

        def spy(*args, name=name, run=run):
            calls.append(name)
            return run(*args)

        monkeypatch.setitem(parallel._METHODS, name, spy)
    layer = make_layer("mingru", "forward", layers=1)
    layer(inputs(1)[0])
    jax = keras.backend.backend() == "jax"  # Keras lists devices on JAX and TensorFlow only
    on_cpu = jax and keras.distribution.list_devices()[0].startswith("cpu")
    expected = "sequential" if on_cpu else "associative"
    assert calls == [expected]


def test_long_sequence_keeps_h_finite_and_equal_to_the_loop(scans):
    """200 steps: products of a_t vanish, the plain scan stays exact (no log-space needed)."""
    layer = keras_seq.Recurrent("mingru", 2, return_state=True)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 200, 3)).astype("float32")
    layer.build(x.shape)
    output, h = layer(x)
    expected, final = numpy_stack("mingru", layer, x, None, [np.zeros((2, 2))])
    np.testing.assert_allclose(as_numpy(output), expected, atol=1e-5)
    np.testing.assert_allclose(as_numpy(h), final, atol=1e-5)


def test_weights_and_initializers():
    layer = keras_seq.Recurrent(
        "minlstm", 5, kernel_initializer="ones", bias_initializer=keras.initializers.Constant(0.25)
    )
    layer.build((None, TIME, FEATURES))
    assert [v.path.split("/")[-2:] for v in layer.weights] == [
        ["forward_0", "kernel"],
        ["forward_0", "bias"],
    ]
    cell = layer.cells[0][0]
    assert tuple(cell.kernel.shape) == (FEATURES, 15)
    np.testing.assert_array_equal(as_numpy(cell.kernel), 1.0)
    np.testing.assert_array_equal(as_numpy(cell.bias), 0.25)
    no_bias = keras_seq.Recurrent("mingru", 5, use_bias=False)
    no_bias.build((None, TIME, FEATURES))
    assert [v.name for v in no_bias.weights] == ["kernel"]


def test_recurrent_dropout_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="`recurrent_dropout` applies only to cells with a"):
        keras_seq.Recurrent("mingru", 4, recurrent_dropout=0.2)


def test_dropout_between_layers_changes_training_outputs_only():
    layer = keras_seq.Recurrent("mingru", UNITS, layers=2, dropout=0.5, seed=1)
    x, _ = inputs(1)
    layer.build(x.shape)
    plain = as_numpy(layer(x))
    np.testing.assert_array_equal(as_numpy(layer(x, training=False)), plain)
    assert not np.allclose(as_numpy(layer(x, training=True)), plain)


def test_spec_builds_mingru_and_rejects_recurrent_dropout():
    text = (
        "input: {kind: tokens}\nencoder: {cell: mingru, units: 8, direction: bidirectional,"
        " layers: 2}\nhead: {type: tagger, classes: 3}\n"
    )
    spec = keras_seq.load_spec(text)
    assert spec.encoder.cell == "mingru"
    with pytest.raises(keras_seq.SpecError, match="'recurrent_dropout' applies only when"):
        keras_seq.load_spec(text.replace("layers: 2", "layers: 2, recurrent_dropout: 0.1"))


def test_seq2seq_decoder_defaults_to_the_encoders_mingru():
    text = "input: {kind: tokens}\nencoder: {cell: mingru, units: 8}\nhead: {type: seq2seq}\n"
    spec = keras_seq.load_spec(text)
    assert spec.head.decoder.cell == "mingru"
    assert spec.replace({"encoder.units": 16}).head.decoder.cell == "mingru"  # re-validated


@pytest.mark.backend("tensorflow")
def test_unknown_length_on_tensorflow_takes_the_generic_scan_with_a_reason():
    import tensorflow as tf

    layer = make_layer("mingru", "forward", layers=1)
    x, _ = inputs(1)
    reasons = []

    def run(x):
        reasons.append(parallel.plan_reason(layer.cells[0][0], x))
        return layer(x)[0]

    traced = tf.function(run, input_signature=[tf.TensorSpec((BATCH, None, FEATURES))])(x)
    assert reasons == ["time dimension unknown at trace time (Keras' associative scan slices it)"]
    np.testing.assert_allclose(traced, layer(x)[0], atol=1e-5)


def test_docstring_examples_run():
    for module in (keras_seq.layers.minimal_cells, parallel):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_shared_layer_checks(tmp_path, scans):
    """Config round trip, fit, `.keras` save and load, mixed precision, through the scan."""
    layer = keras_seq.Recurrent("mingru", 3, direction="backward")
    x, _ = inputs(1)
    check_layer(layer, x, (BATCH, TIME, 3), tmp_path)
    assert scans
