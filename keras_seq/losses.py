"""Losses for keras-seq heads: `PinballLoss` for quantile forecasts."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class PinballLoss(keras.losses.Loss):
    """Pinball (quantile) loss, averaged over the quantiles.

    loss(y, f) = mean_q max(q (y - f_q), (q - 1)(y - f_q)), for each point of `y`; minimizing
    it makes `f_q` the q-quantile of `y` given the inputs. Like Keras' `MeanSquaredError`, the
    call averages over the last axis of `y_true`, then the loss is reduced over the rest (sample
    weights, of shape `y_true.shape[:-1]`, weigh it).

    Args:
        quantiles: list of float in (0, 1), increasing. One forecast per quantile, on the last
            axis of `y_pred`.
        **kwargs: base loss arguments (`name`, `reduction`, `dtype`).

    Call arguments:
        y_true: tensor `(batch, ...)`.
        y_pred: tensor `(batch, ..., len(quantiles))`.

    Examples:

    >>> import numpy as np
    >>> from keras_seq.losses import PinballLoss
    >>> loss = PinballLoss([0.1, 0.9])
    >>> y_true = np.array([[1.0]], "float32")
    >>> y_pred = np.array([[[0.0, 0.0]]], "float32")  # both quantiles 1 below the truth
    >>> round(float(loss(y_true, y_pred)), 4)  # (0.1 * 1 + 0.9 * 1) / 2
    0.5
    """

    def __init__(self, quantiles, name="pinball", **kwargs):
        super().__init__(name=name, **kwargs)
        quantiles = [float(q) for q in quantiles]
        if not quantiles or any(not 0 < q < 1 for q in quantiles) or sorted(quantiles) != quantiles:
            raise ValueError(
                f"`quantiles` must be increasing values in (0, 1). Received: quantiles={quantiles}"
            )
        self.quantiles = quantiles

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        q = ops.convert_to_tensor(self.quantiles, dtype=y_pred.dtype)
        error = ops.expand_dims(y_true, -1) - y_pred
        return ops.mean(ops.maximum(q * error, (q - 1.0) * error), axis=(-2, -1))

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles}
