"""`SequencePooling`: mean or max over the real steps of a sequence."""

import keras
import numpy as np
from keras import ops

from keras_seq.api import keras_seq_export


@keras_seq_export("keras_seq.layers.SequencePooling")
class SequencePooling(keras.layers.Layer):
    """Mean or max over the real steps of a sequence, padding excluded.

    mean: y = sum_t m_t x_t / max(1, sum_t m_t); max: y = max over {t : m_t = 1} of x_t
    (0 for a sequence with no real step), where m is the mask.

    Args:
        mode: str. `"mean"` or `"max"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, time, features).
        mask: optional boolean tensor (batch, time), True at real steps (passed on
            automatically from `Embedding(mask_zero=True)`, `Masking` or `keras_seq.Recurrent`).
            Without a mask every step counts.

    Examples:

    >>> import numpy as np, keras_seq
    >>> x = np.array([[[1.0], [3.0], [100.0]]], "float32")
    >>> mask = np.array([[True, True, False]])
    >>> keras_seq.layers.SequencePooling("mean")(x, mask=mask).tolist()
    [[2.0]]
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("mean", "max"):
            raise ValueError(f"`mode` must be 'mean' or 'max'. Received: mode={mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")[:, :, None]
        if self.mode == "mean":
            # Summed in float32: a bfloat16 sum over many steps loses precision.
            weights = ops.cast(mask, "float32")
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)
            mean = ops.sum(ops.cast(inputs, "float32") * weights, axis=1) / count
            return ops.cast(mean, inputs.dtype)
        lowest = ops.full_like(inputs, -np.inf)
        pooled = ops.max(ops.where(mask, inputs, lowest), axis=1)
        return ops.where(ops.isfinite(pooled), pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config
