"""`Shrink`: keeps a share of a forecaster's correction over its anchor (`head.shrink`)."""

import keras


@keras.saving.register_keras_serializable(package="keras_seq")
class Shrink(keras.layers.Layer):
    """Multiplies the correction by a fixed share `a` (a non-trainable weight, 1 at first).

    Point forecasts `(..., outputs)`: `f = a x`. Quantile forecasts `(..., outputs, Q)` with
    `middle` the index of the quantile nearest 0.5: `f_q = x_q - (1 - a) x_middle`, so the
    point forecast is shrunk and the interval moves with it, keeping its width. The model
    adds `f` to the anchor (`head.anchor`), so `a = 0` forecasts the anchor alone. The share
    is a model variable, so it is saved, exported and served with the weights, the same on
    every backend; `SeriesForecaster` sets it after training, on validation windows
    (`keras_seq.metrics.shrinkage`).

    Args:
        middle: int, optional. The median's index on the last axis (quantile forecasts);
            None for point forecasts.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Examples:

    >>> import numpy as np
    >>> from keras_seq.layers.shrink import Shrink
    >>> layer = Shrink(middle=1)
    >>> layer.build((None, 3))
    >>> _ = layer.share.assign(0.25)
    >>> np.asarray(layer(np.array([[1.0, 2.0, 4.0]], "float32"))).tolist()
    [[-0.5, 0.5, 2.5]]
    """

    def __init__(self, middle=None, **kwargs):
        super().__init__(**kwargs)
        self.middle = middle

    def build(self, input_shape):
        self.share = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="share", dtype="float32"
        )

    def call(self, inputs):
        share = keras.ops.cast(self.share, inputs.dtype)
        if self.middle is None:
            return share * inputs
        m = self.middle
        return inputs - (1.0 - share) * inputs[..., m : m + 1]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "middle": self.middle}
