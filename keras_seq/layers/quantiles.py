"""`OrderedQuantiles`: raw outputs to quantile forecasts that never cross."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class OrderedQuantiles(keras.layers.Layer):
    """Maps raw outputs to increasing quantiles: the median plus non-negative steps.

    With m the index of the quantile nearest 0.5 and raw outputs r_0..r_{Q-1}:
    f_m = r_m; f_j = f_{j-1} + softplus(r_j) for j > m; f_j = f_{j+1} - softplus(r_j) for j < m.
    So f_0 <= f_1 <= ... <= f_{Q-1} for any input, and gradients reach every output.

    Args:
        quantiles: list of float in (0, 1), increasing; only their count and the position of
            the one nearest 0.5 matter here.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor `(..., len(quantiles))` of raw values. No masking: each position is
            mapped on its own (a mask passes through unchanged).

    Examples:

    >>> import numpy as np
    >>> from keras_seq.layers.quantiles import OrderedQuantiles
    >>> layer = OrderedQuantiles([0.1, 0.5, 0.9])
    >>> out = np.asarray(layer(np.array([[0.0, 2.0, 0.0]], "float32")), "float64")
    >>> out.round(3).tolist()  # 2 -/+ softplus(0) = 2 -/+ log(2)
    [[1.307, 2.0, 2.693]]
    """

    def __init__(self, quantiles, **kwargs):
        super().__init__(**kwargs)
        self.quantiles = [float(q) for q in quantiles]
        if not self.quantiles or sorted(self.quantiles) != self.quantiles:
            raise ValueError(
                f"`quantiles` must be increasing. Received: quantiles={self.quantiles}"
            )
        self.anchor = min(range(len(self.quantiles)), key=lambda i: abs(self.quantiles[i] - 0.5))
        self.supports_masking = True

    def call(self, inputs):
        m = self.anchor
        center = inputs[..., m : m + 1]
        parts = [center]
        if m + 1 < len(self.quantiles):
            parts.append(center + ops.cumsum(ops.softplus(inputs[..., m + 1 :]), axis=-1))
        if m > 0:
            below = ops.flip(ops.cumsum(ops.flip(ops.softplus(inputs[..., :m]), -1), axis=-1), -1)
            parts.insert(0, center - below)
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "quantiles": self.quantiles}
