"""The torch fused-kernel fast path gives the generic loop's outputs and gradients, and runs."""

import keras
import numpy as np
import pytest

import keras_seq
import keras_seq.backend
from keras_seq.backend import torch_fused

TIME, FEATURES, UNITS = 6, 3, 5
LENGTHS = [6, 4, 1, 3]  # post-padded rows, one without padding
CELLS = [("lstm", "tanh"), ("gru", "tanh"), ("simple", "tanh"), ("simple", "relu")]
KERNELS = {"lstm": "lstm", "gru": "gru", "simple": None}


def post_mask(lengths=LENGTHS):
    return np.arange(TIME)[None, :] < np.array(lengths)[:, None]


def make_layer(cell, activation, seed=0, **kwargs):
    layer = keras_seq.Recurrent(cell, UNITS, activation=activation, seed=3, **kwargs)
    layer.build((None, TIME, FEATURES))
    rng = np.random.default_rng(seed)
    for variable in layer.weights:  # distinct values, b_ih != b_hh
        variable.assign(rng.uniform(-0.6, 0.6, variable.shape).astype("float32"))
    return layer


def forward_and_grads(layer, x, mask=None, training=False, initial_state=None):
    """Outputs (as a list) and d(sum of outputs * fixed weights)/d(weights, x), NumPy."""
    import torch

    x = torch.tensor(x, requires_grad=True)
    if mask is not None:
        mask = torch.tensor(mask)
    outputs = layer(x, mask=mask, training=training, initial_state=initial_state)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    rng = np.random.default_rng(1)
    loss = sum(
        (o * torch.tensor(rng.normal(size=o.shape).astype("float32"))).sum() for o in outputs
    )
    leaves = [v.value for v in layer.trainable_weights] + [x]
    grads = torch.autograd.grad(loss, leaves)
    return [o.detach().numpy() for o in outputs], [g.numpy() for g in grads]


def assert_same(fused, generic):
    (out_f, grad_f), (out_g, grad_g) = fused, generic
    for a, b in zip(out_f, out_g):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(grad_f, grad_g):  # gradients can be large: relative tolerance
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(b).max()))


def refuse(*args, **kwargs):
    raise NotImplementedError("switched off by the test")


@pytest.fixture
def generic(monkeypatch):
    """Calls `fn` with the fast path switched off."""

    def run(fn, *args, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(keras_seq.backend, "recur", refuse)
            m.setattr(keras_seq.backend, "recur_stack", refuse)
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def fused_calls(monkeypatch):
    """Counts calls of torch's fused kernels, by kernel name."""
    import torch

    counts = {}
    for name in ["lstm", "gru", "rnn_tanh", "rnn_relu"]:
        kernel = getattr(torch._VF, name)

        def spy(*args, _name=name, _kernel=kernel):
            counts[_name] = counts.get(_name, 0) + 1
            return _kernel(*args)

        monkeypatch.setattr(torch._VF, name, spy)
    return counts


@pytest.mark.backend("torch")
@pytest.mark.parametrize("cell, activation", CELLS)
@pytest.mark.parametrize(
    "layers, direction, masked, return_state",
    [
        (1, "forward", False, True),
        (1, "backward", True, False),
        (2, "bidirectional", False, False),
        (2, "bidirectional", True, False),  # "gather" mode
        (1, "bidirectional", True, True),  # LSTM: "packed" mode
    ],
)
def test_fused_matches_generic(
    cell, activation, layers, direction, masked, return_state, generic, fused_calls
):
    layer = make_layer(
        cell, activation, layers=layers, direction=direction, return_state=return_state
    )
    x = np.random.default_rng(2).normal(size=(len(LENGTHS), TIME, FEATURES)).astype("float32")
    mask = post_mask() if masked else None
    expected = generic(forward_and_grads, layer, x, mask)
    assert not fused_calls
    got = forward_and_grads(layer, x, mask)
    kernel = KERNELS[cell] or f"rnn_{activation}"
    # Unmasked: the whole stack in one call; masked: one call per layer and direction.
    calls = layers * (2 if direction == "bidirectional" else 1) if masked else 1
    assert fused_calls == {kernel: calls}
    assert_same(got, expected)


@pytest.mark.backend("torch")
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_matches_generic_with_initial_state_last_output_and_dropout(
    cell, generic, fused_calls
):
    layer = make_layer(
        cell, "tanh", layers=2, direction="bidirectional", dropout=0.5, return_sequences=False
    )
    count = 2 * (2 if cell == "lstm" else 1)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(len(LENGTHS), TIME, FEATURES)).astype("float32")
    initial_state = [rng.normal(size=(len(LENGTHS), UNITS)).astype("float32")] * count
    state = layer.seed_generator.state.value.clone()
    expected = generic(forward_and_grads, layer, x, post_mask(), True, initial_state)
    layer.seed_generator.state.assign(state)  # the same between-layer dropout masks
    got = forward_and_grads(layer, x, post_mask(), True, initial_state)
    assert sum(fused_calls.values()) == 4
    assert_same(got, expected)


@pytest.mark.backend("torch")
@pytest.mark.parametrize(
    "options, mask, training, reason",
    [
        ({"recurrent_dropout": 0.3}, None, True, "recurrent dropout"),
        ({}, np.ascontiguousarray(post_mask()[:, ::-1]), False, "post-padding"),  # pre-padded
        ({}, post_mask([6, 4, 0, 3]), False, "no real step"),
    ],
)
def test_ineligible_configurations_take_the_generic_loop(
    options, mask, training, reason, fused_calls
):
    layer = make_layer("lstm", "tanh", direction="bidirectional", **options)
    x = np.ones((len(LENGTHS), TIME, FEATURES), "float32")
    layer(x, mask=mask, training=training)
    assert not fused_calls
    cell = layer.cells[0][0]
    import torch

    recurrent_mask = torch.ones((len(LENGTHS), UNITS)) if training else None
    plan = torch_fused.fused_plan(
        cell, torch.tensor(x), None if mask is None else torch.tensor(mask), recurrent_mask, False
    )
    assert plan.reason is not None and reason in plan.reason


@pytest.mark.backend("torch")
def test_fused_plan_modes():
    import torch

    cell = make_layer("lstm", "tanh").cells[0][0]
    x = torch.ones((len(LENGTHS), TIME, FEATURES))
    full = torch.ones((len(LENGTHS), TIME), dtype=torch.bool)
    padded = torch.tensor(post_mask())
    assert torch_fused.fused_plan(cell, x, None, None, True).mode == "dense"
    assert torch_fused.fused_plan(cell, x, full, None, True).mode == "dense"
    assert torch_fused.fused_plan(cell, x, padded, None, False).mode == "gather"
    plan = torch_fused.fused_plan(cell, x, padded, None, True)
    assert plan.mode == "packed" and plan.lengths.tolist() == LENGTHS
    gru = make_layer("gru", "tanh").cells[0][0]
    assert torch_fused.fused_plan(gru, x, padded, None, True).mode == "gather"
    assert "float64" in torch_fused.fused_plan(gru, x.double(), None, None, True).reason


@pytest.mark.backend("torch")
def test_fused_path_trains_a_model(fused_calls):
    """A compiled model on the fast path learns (loss falls): gradients reach the variables."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((TIME,), dtype="int32"),
            keras.layers.Embedding(20, 8, mask_zero=True),
            keras_seq.Recurrent("lstm", 8, layers=2, direction="bidirectional"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(8, TIME)) * np.tile(post_mask(), (2, 1))
    y = x % 3
    first = model.train_on_batch(x, y)
    for _ in range(20):
        last = model.train_on_batch(x, y)
    assert fused_calls["lstm"] >= 21 * 4
    assert last < 0.5 * first


@pytest.mark.backend("jax", "tensorflow")
def test_other_backends_take_the_generic_loop():
    layer = make_layer("gru", "tanh")
    x = np.ones((len(LENGTHS), TIME, FEATURES), "float32")
    reason = f"backend is {keras.backend.backend()}, not torch"
    with pytest.raises(NotImplementedError, match=reason):
        torch_fused.recur(layer.cells[0][0], x, None, [x[:, 0, :1]], False)
    with pytest.raises(NotImplementedError, match=reason):
        keras_seq.backend.recur_stack(layer.cells, x, None, [], None, "concat", False)
    plan = torch_fused.fused_plan(layer.cells[0][0], x, None, None, False)
    assert plan.reason == f"backend is {keras.backend.backend()}, not torch"


@pytest.mark.backend("torch")
@pytest.mark.parametrize(
    "options, training, reason",
    [
        ({"dropout": 0.5}, True, "dropout between layers"),
        ({"merge": "sum"}, False, "merge='sum' between layers"),
        ({"units": [UNITS, UNITS + 1], "layers": 1}, False, "differ in cell type or size"),
    ],
)
def test_stacks_the_kernel_refuses_run_layer_by_layer(options, training, reason, fused_calls):
    options = {"units": UNITS, "layers": 2, **options}
    layer = keras_seq.Recurrent("gru", direction="bidirectional", **options)
    x = np.ones((len(LENGTHS), TIME, FEATURES), "float32")
    layer(x, training=training)
    assert fused_calls == {"gru": 4}
    import torch

    assert reason in torch_fused.stack_reason(
        layer.cells, torch.tensor(x), None, False, layer.merge, training
    )
