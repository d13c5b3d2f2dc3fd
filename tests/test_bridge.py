"""`StateBridge`: encoder final states to decoder initial states."""

import keras
import numpy as np

from keras_seq.layers import StateBridge


def test_state_bridge_concatenates_and_projects():
    h_fwd, c_fwd, h_bwd, c_bwd = (np.full((2, 3), v, "float32") for v in (1, 2, 3, 4))
    same_width = StateBridge(6, "lstm", "lstm", directions=2)
    h, c = same_width([h_fwd, c_fwd, h_bwd, c_bwd])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(h), np.concatenate([h_fwd, h_bwd], -1))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(c), np.concatenate([c_fwd, c_bwd], -1))
    assert not same_width.weights

    projected = StateBridge(4, "gru", "lstm", directions=2)
    h, c = projected([h_fwd, h_bwd])
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in projected.projections["h"].weights)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(h), np.concatenate([h_fwd, h_bwd], -1) @ kernel + bias, rtol=1e-5
    )
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(c), np.zeros((2, 4)))
