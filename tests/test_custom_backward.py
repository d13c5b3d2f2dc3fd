"""The hand-written backward pass (JAX, TensorFlow) equals the generic loop: values, gradients."""

import keras
import numpy as np
import pytest

import keras_seq
import keras_seq.backend
from keras_seq.backend import custom_backward, recurrence

TIME, FEATURES, UNITS, BATCH = 6, 3, 5, 4
CELLS = [("lstm", "tanh"), ("gru", "tanh"), ("simple", "tanh"), ("simple", "relu")]
STEPS = np.arange(TIME)[None, :]
MASKS = {
    "none": None,
    "post-padding": STEPS < np.array([[6], [4], [1], [3]]),
    "pre-padding": STEPS >= np.array([[0], [2], [5], [3]]),
    "gaps": np.array([[1, 0, 1, 1, 0, 1], [0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1], [0] * 6], bool),
}
pytestmark = pytest.mark.backend("jax", "tensorflow")


def make_layer(cell, activation, units=UNITS, **kwargs):
    layer = keras_seq.Recurrent(cell, units, activation=activation, return_state=True, **kwargs)
    layer.build((None, TIME, FEATURES))
    rng = np.random.default_rng(0)
    for variable in layer.weights:  # distinct values, b_ih != b_hh
        variable.assign(rng.uniform(-0.6, 0.6, variable.shape).astype("float32"))
    return layer


def forward_and_grads(layer, x, mask, initial_state, training=True):
    """Outputs and d(sum of outputs * fixed weights)/d(weights, x, initial states), NumPy."""
    rng = np.random.default_rng(1)
    weights = None

    def loss(outputs):
        nonlocal weights
        if weights is None:
            weights = [rng.normal(size=o.shape).astype("float32") for o in outputs]
        return sum(keras.ops.sum(o * w) for o, w in zip(outputs, weights))

    if keras.backend.backend() == "jax":
        import jax

        def run(values, x, states):
            outputs, _ = layer.stateless_call(
                values, [], x, mask=mask, initial_state=states, training=training
            )
            return loss(outputs), outputs

        values = [v.value for v in layer.trainable_weights]
        compute = jax.jit(jax.value_and_grad(run, argnums=(0, 1, 2), has_aux=True))
        (_, outputs), grads = compute(values, x, initial_state)
    else:
        import tensorflow as tf

        x, initial_state = tf.constant(x), [tf.constant(s) for s in initial_state]
        with tf.GradientTape() as tape:
            tape.watch([x, initial_state])
            outputs = layer(x, mask=mask, initial_state=initial_state, training=training)
            value = loss(outputs)
        grads = tape.gradient(value, [layer.trainable_weights, x, initial_state])
    flat = keras.tree.flatten
    return [np.asarray(o) for o in outputs], [np.asarray(g) for g in flat(grads)]


def refuse(*args, **kwargs):
    raise NotImplementedError("switched off by the test")


@pytest.fixture
def generic(monkeypatch):
    """Calls `fn` with the fast path switched off."""

    def run(fn, *args, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(keras_seq.backend, "recur", refuse)
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def fast_calls(monkeypatch):
    """The `torch_kernel` name of each cell run through the hand-written backward pass."""
    module = keras_seq.backend._module()
    calls = []
    arrays = module._arrays

    def spy(cell, *args):
        calls.append(cell.torch_kernel)
        return arrays(cell, *args)

    monkeypatch.setattr(module, "_arrays", spy)
    return calls


@pytest.mark.parametrize("cell, activation", CELLS)
@pytest.mark.parametrize("mask", list(MASKS))
def test_fast_path_matches_generic_loop(cell, activation, mask, generic, fast_calls):
    layer = make_layer(cell, activation, direction="bidirectional")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    count = 2 * (2 if cell == "lstm" else 1)
    initial_state = [rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(count)]
    expected = generic(forward_and_grads, layer, x, MASKS[mask], initial_state)
    assert not fast_calls
    got = forward_and_grads(layer, x, MASKS[mask], initial_state)
    kind = f"rnn_{activation}" if cell == "simple" else cell
    assert fast_calls == [kind, kind]  # a loop per direction, none fell back
    assert len(got[1]) == len(expected[1]) == len(layer.trainable_weights) + 1 + count
    assert_same(got, expected)


def assert_same(got, expected):
    for a, b in zip(got[0], expected[0]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(got[1], expected[1]):  # gradients can be large: relative tolerance
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("cell, mask", [("lstm", "gaps"), ("gru", "none")])
def test_inference_path_matches_generic_loop(cell, mask, generic, fast_calls):
    """training=False (XLA-compiled on TensorFlow, nothing kept on JAX): same values, gradients."""
    layer = make_layer(cell, "tanh", direction="bidirectional")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32")] * (4 if cell == "lstm" else 2)
    expected = generic(forward_and_grads, layer, x, MASKS[mask], states, training=False)
    got = forward_and_grads(layer, x, MASKS[mask], states, training=False)
    assert fast_calls == [cell, cell]
    assert_same(got, expected)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_backward_direction_matches_generic_loop(cell, generic, fast_calls):
    layer = make_layer(cell, "tanh", direction="backward")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, UNITS)).astype("float32")] * (2 if cell == "lstm" else 1)
    expected = generic(forward_and_grads, layer, x, MASKS["gaps"], states)
    got = forward_and_grads(layer, x, MASKS["gaps"], states)
    assert fast_calls == [cell]
    assert_same(got, expected)


def test_recurrent_dropout_takes_the_generic_loop_with_a_reason(fast_calls):
    layer = make_layer("lstm", "tanh", recurrent_dropout=0.3)
    x = np.ones((BATCH, TIME, FEATURES), "float32")
    layer(x, training=True)
    assert not fast_calls
    layer(x, training=False)
    assert fast_calls == ["lstm"]
    ones = np.ones((BATCH, UNITS), "float32")
    reason = custom_backward.plan_reason(layer.cells[0][0], x, ones)
    assert reason == "recurrent dropout is active"


@pytest.mark.backend("tensorflow")
def test_unknown_length_on_tensorflow_takes_the_generic_loop_with_a_reason(fast_calls):
    import tensorflow as tf

    layer = make_layer("gru", "tanh")
    reasons = []

    def run(x):
        reasons.append(custom_backward.plan_reason(layer.cells[0][0], x, None))
        return layer(x)[0]

    spec = tf.TensorSpec((BATCH, None, FEATURES), "float32")
    x = np.random.default_rng(6).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    traced = tf.function(run, input_signature=[spec])(x)
    assert not fast_calls
    assert reasons == ["time dimension unknown at trace time (TensorFlow)"]
    np.testing.assert_allclose(traced, layer(x)[0], atol=1e-5)
    assert fast_calls == ["gru"]  # the eager call, with a known length


@pytest.mark.backend("jax")
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_narrow_inputs_project_inside_the_loop(cell, training, generic, fast_calls):
    """JAX projects inputs narrower than a quarter of the units step by step
    (`jax_rnn._hoisted`), wider ones before the loop: both equal the generic loop."""
    from keras_seq.backend import jax_rnn

    units = 4 * FEATURES + 1
    layer = make_layer(cell, "tanh", units=units, direction="backward")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    states = [rng.normal(size=(BATCH, units)).astype("float32")] * (2 if cell == "lstm" else 1)
    assert not jax_rnn._hoisted(x, layer.cells[0][0].recurrent_kernel)
    expected = generic(forward_and_grads, layer, x, MASKS["gaps"], states, training=training)
    got = forward_and_grads(layer, x, MASKS["gaps"], states, training=training)
    assert fast_calls == [cell]
    assert_same(got, expected)


@pytest.mark.backend("jax")
def test_predicting_many_rows_projects_inside_the_loop(generic, fast_calls, monkeypatch):
    """Predicting more than `HOISTED_INFERENCE_ROWS` (time x batch) rows, JAX projects each
    step's inputs in the loop; training still hoists. Both equal the generic loop."""
    from keras_seq.backend import jax_rnn

    rng = np.random.default_rng(9)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    layer = make_layer("lstm", "tanh", units=FEATURES, direction="bidirectional")
    kernel = layer.cells[0][0].recurrent_kernel
    assert jax_rnn._hoisted(x, kernel, training=False)
    monkeypatch.setattr(jax_rnn, "HOISTED_INFERENCE_ROWS", BATCH * TIME - 1)
    assert not jax_rnn._hoisted(x, kernel, training=False)
    assert jax_rnn._hoisted(x, kernel, training=True)
    states = [rng.normal(size=(BATCH, FEATURES)).astype("float32")] * 4
    forward, projected_per_step = recurrence.forward, []

    def spy(*args, project=None, **kwargs):
        projected_per_step.append(project is not None)
        return forward(*args, project=project, **kwargs)

    for training in (False, True):
        expected = generic(forward_and_grads, layer, x, MASKS["gaps"], states, training=training)
        fast_calls.clear()
        monkeypatch.setattr(recurrence, "forward", spy)
        got = forward_and_grads(layer, x, MASKS["gaps"], states, training=training)
        monkeypatch.setattr(recurrence, "forward", forward)
        assert fast_calls == ["lstm", "lstm"]
        assert set(projected_per_step) == {not training}
        projected_per_step.clear()
        assert_same(got, expected)
