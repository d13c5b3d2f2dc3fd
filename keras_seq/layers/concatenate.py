"""`MaskedConcatenate`: Keras' `Concatenate` whose mask is computed from the incoming masks only."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class MaskedConcatenate(keras.layers.Concatenate):
    """Joins feature tensors along the last axis; a step is real where any input's mask says so.

    The same output and mask as `keras.layers.Concatenate`, but the mask is the elementwise
    OR of the incoming (batch, time) masks alone, without broadcasting them against the
    inputs. So the mask depends on no layer's output: a model built from the inputs to that
    mask (as `keras_seq.Model` builds to skip padding in its metrics) never re-runs the
    joined layers.

    Args:
        **kwargs: those of `keras.layers.Concatenate` (`axis` must stay -1).

    Call arguments:
        inputs: list of tensors (batch, time, features_i).
        mask: list of boolean (batch, time) tensors or None, one per input (given
            automatically by masking layers).

    Examples:

    >>> import numpy as np, keras, keras_seq
    >>> words = keras.Input((None,), dtype="int32")
    >>> embedded = keras.layers.Embedding(5, 2, mask_zero=True)(words)
    >>> joined = keras_seq.layers.MaskedConcatenate()([embedded, embedded])
    >>> tuple(joined.shape)
    (None, None, 4)
    """

    def compute_mask(self, inputs, mask=None):
        masks = [m for m in mask or () if m is not None]
        if not masks:
            return None
        joined = ops.cast(masks[0], "bool")
        for other in masks[1:]:
            joined = ops.logical_or(joined, ops.cast(other, "bool"))
        return joined
