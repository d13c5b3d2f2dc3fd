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


def with_free_time_axis(batches):
    """`batches` (a `keras.utils.PyDataset` whose batches differ in width) ready for `fit` and
    `evaluate` on every backend.

    Keras' TensorFlow adapter fixes the shape of its dataset from the first two batches: a
    width they share would reject every other width. On TensorFlow the batches therefore go
    through a `tf.data.Dataset` whose signature leaves the batch and time axes free (with the
    batch count kept, for progress and ETA); other backends take them as they are.
    """
    if keras.backend.backend() != "tensorflow":
        return batches
    import tensorflow as tf

    def free(array):
        return tf.TensorSpec((None, None, *array.shape[2:])[: array.ndim], array.dtype)

    signature = keras.tree.map_structure(free, batches[0])
    dataset = tf.data.Dataset.from_generator(
        lambda: (batches[index] for index in range(len(batches))), output_signature=signature
    )
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))


def register_nested_models(model):
    """Makes each model nested in `model` one of its PyTorch submodules, on torch.

    Keras on PyTorch keys a model's parameters by variable path, and two nested models built
    alike (a seed ensemble's members, `keras_seq.ensembles`) share their paths: one of them
    would be missing from the parameters, and tracing (the ONNX export) would fail on its
    weights. As submodules, each keeps its own parameters.
    """
    if keras.backend.backend() != "torch":
        return
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            model.add_module(layer.name, layer)
