"""Keras' GRU(reset_after=False) as a plugin cell: Keras' weights load, Keras' numbers come out.

The reference is `keras.layers.GRU(reset_after=False)` itself, with the same weights, on each
backend. The fast paths cannot run this cell (PyTorch has no such kernel; n's matmul reads
r * h, so the one-matmul hand-written backward does not apply): they refuse with a reason and
the generic scan runs it.
"""

import textwrap

import keras
import numpy as np
import pytest

import keras_seq
from keras_seq import backend
from keras_seq.layers import ResetBeforeGRUCell

BATCH, TIME, FEATURES, UNITS = 3, 6, 4, 5
LENGTHS = [6, 4, 1]


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def keras_gru(**options):
    """Keras' own GRU(reset_after=False) with distinct random weights (bias included)."""
    layer = keras.layers.GRU(
        UNITS, reset_after=False, return_sequences=True, return_state=True, **options
    )
    layer.build((None, TIME, FEATURES))
    rng = np.random.default_rng(0)
    layer.set_weights([rng.uniform(-0.7, 0.7, w.shape).astype("float32") for w in layer.weights])
    return layer


def plugin_gru(reference, **options):
    layer = keras_seq.Recurrent("gru", UNITS, reset_after=False, return_state=True, **options)
    layer.build((None, TIME, FEATURES))
    layer.set_weights(reference.get_weights())  # Keras' layout: loads unchanged
    return layer


@pytest.mark.parametrize("masked", [False, True])
def test_outputs_and_final_state_equal_keras(masked):
    reference = keras_gru()
    layer = plugin_gru(reference)
    assert [w.shape for w in layer.get_weights()] == [w.shape for w in reference.get_weights()]
    x = np.random.default_rng(1).normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    mask = np.arange(TIME)[None, :] < np.array(LENGTHS)[:, None] if masked else None
    expected, expected_h = reference(x, mask=mask)
    got, got_h = layer(x, mask=mask)
    real = mask if masked else np.ones((BATCH, TIME), bool)
    np.testing.assert_allclose(numpy(got)[real], numpy(expected)[real], atol=1e-5)
    np.testing.assert_allclose(numpy(got_h), numpy(expected_h), atol=1e-5)
    if masked:  # padding reads zero, as on every keras_seq layer
        assert not numpy(got)[~real].any()


def test_cell_step_equals_keras_cell_with_initial_state():
    reference = keras.layers.GRUCell(UNITS, reset_after=False)
    cell = ResetBeforeGRUCell(UNITS)
    for c in (reference, cell):
        c.build((None, FEATURES))
    rng = np.random.default_rng(2)
    cell.set_weights([rng.uniform(-0.7, 0.7, w.shape).astype("float32") for w in cell.weights])
    reference.set_weights(cell.get_weights())
    x = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    h = rng.normal(size=(BATCH, UNITS)).astype("float32")
    expected, _ = reference(x, [h])
    got, _ = cell(x, [h])
    np.testing.assert_allclose(numpy(got), numpy(expected), atol=1e-5)


def test_every_fast_path_refuses_with_a_reason_and_the_generic_scan_runs(monkeypatch):
    layer = plugin_gru(keras_gru())
    x = keras.ops.convert_to_tensor(np.ones((BATCH, TIME, FEATURES), "float32"))
    cell = layer.cells[0][0]
    states = cell.get_initial_state(BATCH)
    with pytest.raises(NotImplementedError) as refused:
        backend.recur(cell, x, None, states, False, True)
    reasons = {
        "torch": "ResetBeforeGRUCell has no fused kernel",
        "jax": "ResetBeforeGRUCell has no hand-written backward pass",
        "tensorflow": "ResetBeforeGRUCell has no hand-written backward pass",
    }
    assert str(refused.value) == reasons[keras.backend.backend()]
    scanned = []
    scan = backend.scan.scan
    monkeypatch.setattr(backend.scan, "scan", lambda *a: scanned.append(a[0]) or scan(*a))
    layer(x)
    assert scanned == [cell]


def test_only_gru_takes_reset_after_and_the_config_round_trips():
    with pytest.raises(ValueError, match="`reset_after` applies only to cell='gru'"):
        keras_seq.Recurrent("lstm", UNITS, reset_after=False)
    layer = keras_seq.Recurrent("gru", UNITS, reset_after=False, direction="bidirectional")
    restored = keras_seq.Recurrent.from_config(layer.get_config())
    assert restored.reset_after is False
    assert [type(c).__name__ for c in restored.cells[0]] == ["ResetBeforeGRUCell"] * 2


SPEC = """\
input: {kind: tokens, embedding_dim: 4}
encoder: {cell: CELL, units: 4, reset_after: false}
head: {type: tagger}
"""


def test_the_spec_reaches_it_and_refuses_it_on_other_cells():
    spec = keras_seq.load_spec(SPEC.replace("CELL", "gru"))
    assert spec.encoder.reset_after is False
    assert keras_seq.load_spec(SPEC.replace("CELL", "gru").replace(", reset_after: false", ""))
    with pytest.raises(keras_seq.SpecError) as caught:
        keras_seq.load_spec(textwrap.dedent(SPEC.replace("CELL", "lstm")))
    (problem,) = caught.value.problems
    assert problem.path == "encoder.reset_after" and "gru" in problem.format()


def test_a_spec_builds_it_and_keras_weights_load_into_the_model():
    model = keras_seq.build(SPEC.replace("CELL", "gru"), vocab_size=12, classes=3)
    (layer,) = [x for x in model._flatten_layers() if isinstance(x, keras_seq.Recurrent)]
    assert layer.reset_after is False
    assert type(layer.cells[0][0]) is ResetBeforeGRUCell
    reference = keras.layers.GRU(4, reset_after=False)
    reference.build((None, None, 4))
    assert [tuple(w.shape) for w in layer.weights] == [tuple(w.shape) for w in reference.weights]


def test_pytorch_interop_refuses_it_by_name():
    layer = plugin_gru(keras_gru())
    with pytest.raises(ValueError, match="ResetBeforeGRUCell, which has no PyTorch module"):
        keras_seq.interop.torch_state_dict(layer)
