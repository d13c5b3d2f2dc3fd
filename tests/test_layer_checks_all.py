"""Every public layer in `keras_seq.layers` passes the shared layer checks (tests/layer_checks.py),
mixed-precision step included. A new public layer without an example here fails
`test_every_public_layer_has_an_example`."""

import keras
import numpy as np
import pytest
from layer_checks import check_layer

import keras_seq.layers as public

RNG = np.random.default_rng(0)
FEATURES = RNG.normal(size=(4, 5, 3)).astype("float32")
TOKENS = np.array([[3, 4, 5, 0, 0], [0, 6, 7, 8, 9], [1, 2, 3, 4, 5]], "int32")


def _cell(cell):
    return keras.layers.RNN(cell, return_sequences=True)


def _characters():
    ids = RNG.integers(0, 6, (3, 4, 5)).astype("int32")
    layer = public.CharacterEncoder(6, 3, 4, encoder="cnn")
    return layer, ids, (3, 4, layer.output_size), None


# name -> () -> (layer, inputs, expected shape, vocab_size). Cells run inside `keras.layers.RNN`,
# the way Keras tests its own cells.
EXAMPLES = {
    "Attention": lambda: (
        public.Attention("luong"),
        [FEATURES[:, :2], FEATURES],
        (4, 2, 3),
        None,
    ),
    "StateBridge": lambda: (
        public.StateBridge(3, "gru", "lstm"),
        [FEATURES[:, 0, :2]],
        [(4, 3), (4, 3)],
        None,
    ),
    "GRUCell": lambda: (_cell(public.GRUCell(3)), FEATURES, (4, 5, 3), None),
    "LSTMCell": lambda: (_cell(public.LSTMCell(3)), FEATURES, (4, 5, 3), None),
    "ResetBeforeGRUCell": lambda: (
        _cell(public.ResetBeforeGRUCell(3)),
        FEATURES,
        (4, 5, 3),
        None,
    ),
    "SimpleRNNCell": lambda: (_cell(public.SimpleRNNCell(3)), FEATURES, (4, 5, 3), None),
    "MinGRUCell": lambda: (_cell(public.MinGRUCell(3)), FEATURES, (4, 5, 3), None),
    "MinLSTMCell": lambda: (_cell(public.MinLSTMCell(3)), FEATURES, (4, 5, 3), None),
    "CharacterEncoder": _characters,
    "MaskedConcatenate": lambda: (
        public.MaskedConcatenate(),
        [FEATURES, FEATURES[..., :2]],
        (4, 5, 5),
        None,
    ),
    "CRF": lambda: (public.CRF(), TOKENS, (3, 5, 4), 10),
    "TokenEmbedding": lambda: (
        public.TokenEmbedding(10, 3, mask_zero=True),
        TOKENS,
        (3, 5, 3),
        None,
    ),
    "SequencePooling": lambda: (public.SequencePooling("mean"), TOKENS, (3, 4), 10),
    "OrderedQuantiles": lambda: (
        public.OrderedQuantiles([0.1, 0.5, 0.9]),
        FEATURES,
        (4, 5, 3),
        None,
    ),
    "Shrink": lambda: (public.Shrink(middle=1), FEATURES, (4, 5, 3), None),
    "Recurrent": lambda: (
        public.Recurrent("gru", 3, direction="backward"),
        FEATURES,
        (4, 5, 3),
        None,
    ),
    "WordDropout": lambda: (public.WordDropout(0.5, seed=1), TOKENS, (3, 5), None),
}


def public_layers():
    """Names of the layer classes `keras_seq.layers` exports."""
    return sorted(
        name
        for name, value in vars(public).items()
        if isinstance(value, type) and issubclass(value, keras.layers.Layer)
    )


def test_every_public_layer_has_an_example():
    assert sorted(EXAMPLES) == public_layers()


@pytest.mark.parametrize("name", public_layers())
def test_layer_checks(name, tmp_path):
    layer, inputs, expected_shape, vocab_size = EXAMPLES[name]()
    check_layer(layer, inputs, expected_shape, tmp_path, vocab_size=vocab_size)
