"""Padding: the length cap that holds when `input.max_length` is unset."""

import numpy as np
import pytest

from keras_seq.data import DataError, encoding


def test_pad_without_max_length_uses_the_longest_up_to_the_cap():
    array, lengths, truncated = encoding.pad([[1, 2], [3]])
    np.testing.assert_array_equal(array, [[1, 2], [3, 0]])
    assert list(lengths) == [2, 1] and truncated == 0
    cap = encoding.MAX_AUTO_LENGTH
    assert encoding.pad([[1] * cap])[0].shape == (1, cap)


def test_pad_refuses_a_sequence_over_the_cap_when_max_length_is_unset():
    cap = encoding.MAX_AUTO_LENGTH
    with pytest.raises(DataError, match=f"example 2 has {cap + 1} steps.*input.max_length"):
        encoding.pad([[1], [1] * (cap + 1)])
    # With a max_length the long one is truncated, as the spec asks.
    array, lengths, truncated = encoding.pad([[1], [1] * (cap + 1)], max_length=4)
    assert array.shape == (2, 4) and truncated == 1
