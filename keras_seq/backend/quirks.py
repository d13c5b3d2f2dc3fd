"""Small per-backend switches the layers need, kept here so that layers/ has none."""

import keras

# Keras 3 has no public API for a tensor's mask (on JAX it lives in a table, not an attribute).
from keras.src.backend import get_keras_mask, set_keras_mask  # noqa: F401


def xla_differentiates_scan():
    """False on TensorFlow: XLA cannot differentiate its scan (no `maximum_iterations`).

    A layer that scans sets `supports_jit = False` there.
    """
    return keras.backend.backend() != "tensorflow"


def dense_gradient_table(table):
    """`table` read so that a lookup's gradient is dense on every backend.

    TensorFlow hands a lookup's gradient to the optimizer as sparse `IndexedSlices`, which
    Keras' optimizers apply row by row; reading the table through one dense multiply makes
    TensorFlow sum the slices into the dense gradient JAX and PyTorch compute.
    """
    if keras.backend.backend() == "tensorflow":
        return keras.ops.multiply(table, keras.ops.ones((), dtype=table.dtype))
    return table
