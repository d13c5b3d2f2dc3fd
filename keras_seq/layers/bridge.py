"""`StateBridge`: an encoder's final states to a seq2seq decoder's initial states."""

import keras
from keras import ops

from keras_seq.api import keras_seq_export


@keras_seq_export("keras_seq.layers.StateBridge")
class StateBridge(keras.layers.Layer):
    """Maps an encoder's final states to a seq2seq decoder's initial states.

    h_dec = P_h [h_fwd; h_bwd] and, for an LSTM decoder, c_dec = P_c [c_fwd; c_bwd]: the
    directions' final states are concatenated, and P is a learned linear projection
    (`Dense(units)`, with bias) when that width differs from the decoder's `units`, the identity
    otherwise. An LSTM decoder after a non-LSTM encoder starts from c = 0; a non-LSTM decoder
    after an LSTM encoder uses h only.

    Args:
        units: int. The decoder's hidden size.
        source_cell: str. The encoder's cell (`"simple"`, `"lstm"` or `"gru"`).
        target_cell: str. The decoder's cell.
        directions: int. 1, or 2 for a bidirectional encoder.
        kernel_initializer: initializer of the projections' kernels.
        bias_initializer: initializer of the projections' biases.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list of the encoder's final states as `keras_seq.Recurrent(return_state=True)`
            returns them: `[h]` or `[h, c]` per direction, forward first.

    Returns the list of decoder initial states, `[h]` or `[h, c]`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> bridge = keras_seq.layers.StateBridge(6, "lstm", "gru", directions=2)
    >>> states = [np.ones((2, 4), "float32")] * 4  # h_fwd, c_fwd, h_bwd, c_bwd
    >>> [tuple(s.shape) for s in bridge(states)]
    [(2, 6)]
    """

    def __init__(
        self,
        units,
        source_cell,
        target_cell,
        directions=1,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.source_cell = source_cell
        self.target_cell = target_cell
        self.directions = directions
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._source_count = 2 if source_cell == "lstm" else 1
        self.projections = {}

    def _joined(self, states, index):
        parts = [states[d * self._source_count + index] for d in range(self.directions)]
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

    def _kinds(self):
        both_lstm = self.source_cell == "lstm" and self.target_cell == "lstm"
        return ("h", "c") if both_lstm else ("h",)

    def build(self, input_shape):
        width = sum(input_shape[d * self._source_count][-1] for d in range(self.directions))
        if width == self.units:
            return
        for kind in self._kinds():
            projection = keras.layers.Dense(
                self.units,
                kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                bias_initializer=keras.initializers.serialize(self.bias_initializer),
                dtype=self.dtype_policy,
                name=f"{kind}_projection",
            )
            projection.build((input_shape[0][0], width))
            self.projections[kind] = projection

    def call(self, inputs):
        mapped = []
        for index, kind in enumerate(self._kinds()):
            joined = self._joined(inputs, index)
            projection = self.projections.get(kind)
            mapped.append(projection(joined) if projection is not None else joined)
        if self.target_cell == "lstm" and len(mapped) == 1:
            mapped.append(ops.zeros_like(mapped[0]))
        return mapped

    def compute_output_shape(self, input_shape):
        count = 2 if self.target_cell == "lstm" else 1
        return [(input_shape[0][0], self.units)] * count

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "source_cell": self.source_cell,
                "target_cell": self.target_cell,
                "directions": self.directions,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
