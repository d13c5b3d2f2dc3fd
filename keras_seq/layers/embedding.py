"""`TokenEmbedding`: Keras' `Embedding` with the same (dense) gradient on every backend."""

import keras
from keras import ops

from keras_seq.api import keras_seq_export
from keras_seq.backend import quirks


@keras_seq_export("keras_seq.TokenEmbedding")
class TokenEmbedding(keras.layers.Embedding):
    """A `keras.layers.Embedding` that trains to the same numbers on every backend.

    On TensorFlow a table lookup hands the optimizer a sparse `IndexedSlices` gradient, which
    Keras' optimizers apply row by row: Adam's moments of rows missing from the batch do not
    decay, and an id repeated in the batch has its slices squared one by one. JAX and PyTorch
    apply the dense gradient. Reading the table through one dense multiply makes TensorFlow
    sum the slices into that same dense gradient, so a model trained on any backend follows
    the same path. Arguments and weights are those of `keras.layers.Embedding`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> layer = keras_seq.TokenEmbedding(10, 4, mask_zero=True)
    >>> tuple(layer(np.array([[3, 1, 0]])).shape)
    (1, 3, 4)
    """

    def call(self, inputs):
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        table = quirks.dense_gradient_table(self.embeddings)
        return ops.cast(ops.take(table, inputs, axis=0), self.compute_dtype)
