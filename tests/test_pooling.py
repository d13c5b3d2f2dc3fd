"""`SequencePooling`: mean and max over real steps only."""

import numpy as np

from keras_seq.layers import SequencePooling


def test_sequence_pooling_matches_numpy():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0]], bool)
    mean = SequencePooling("mean")(x, mask=mask)
    maximum = SequencePooling("max")(x, mask=mask)
    for row in range(3):
        real = x[row, mask[row]]
        np.testing.assert_allclose(np.asarray(mean)[row], real.mean(0), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(maximum)[row], real.max(0), rtol=1e-6)
