"""Recurrent cells: one time step of an Elman RNN, an LSTM and a GRU.

Every cell holds PyTorch's parameters in Keras form, gates in PyTorch's order
(LSTM i, f, g, o; GRU r, z, n; G gates):

- `kernel` (input_dim, G * units) = W_ih^T
- `recurrent_kernel` (units, G * units) = W_hh^T
- `bias` (G * units) = b_ih and `recurrent_bias` (G * units) = b_hh (only with `use_bias`)

A cell computes a step in two parts so that a sequence layer can hoist the input
projection out of its time loop: `project_inputs(x)` (x W_ih + b_ih, for one step or
a whole sequence in one matmul) and `step(projected_x_t, states)` (the recurrent part).
`call(inputs, states)` does both for one step, like Keras' own RNN cells.
"""

import keras
from keras import ops

from keras_seq.api import keras_seq_export

_SIMPLE_ACTIVATIONS = ("tanh", "relu")


class _RecurrentCell(keras.layers.Layer):
    """Shared weights, projection and config of the cells (not public)."""

    gate_count = 1
    state_count = 1

    def __init__(
        self,
        units,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise ValueError(f"`units` must be a positive int. Received: units={units!r}")
        self.units = units
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    @property
    def state_size(self):
        return [self.units] * self.state_count

    @property
    def output_size(self):
        return self.units

    def _input_bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        width = self.gate_count * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            name="recurrent_kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,), initializer=self._input_bias_initializer(), name="bias"
            )
            self.recurrent_bias = self.add_weight(
                shape=(width,), initializer=self.bias_initializer, name="recurrent_bias"
            )
        else:
            self.bias = None
            self.recurrent_bias = None

    def project_inputs(self, inputs):
        """Returns `inputs @ kernel + bias` for one step or a whole sequence."""
        projected = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            projected = projected + self.bias
        return projected

    def _project_state(self, h, recurrent_mask):
        if recurrent_mask is not None:
            h = h * recurrent_mask
        projected = ops.matmul(h, self.recurrent_kernel)
        if self.use_bias:
            projected = projected + self.recurrent_bias
        return projected

    def step(self, projected_inputs, states, recurrent_mask=None):
        """One step from `project_inputs`' output; returns `(output, new_states)`.

        `recurrent_mask` (optional, shape (batch, units)) multiplies h before the
        recurrent matmul (recurrent dropout).
        """
        raise NotImplementedError

    def call(self, inputs, states, recurrent_mask=None):
        if not isinstance(states, (list, tuple)):
            states = [states]
        return self.step(self.project_inputs(inputs), list(states), recurrent_mask)

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)] * self.state_count

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


@keras_seq_export("keras_seq.SimpleRNNCell")
class SimpleRNNCell(_RecurrentCell):
    """One step of an Elman RNN (PyTorch's `nn.RNNCell`).

    h_t = act(x_t W_ih + b_ih + h_{t-1} W_hh + b_hh), act = tanh or relu.

    Weights: `kernel` (input_dim, units) = W_ih^T, `recurrent_kernel` (units, units)
    = W_hh^T, `bias` = b_ih, `recurrent_bias` = b_hh.

    Args:
        units: int. Size of the hidden state.
        activation: str. `"tanh"` (default) or `"relu"`.
        use_bias: bool. Whether to add the biases b_ih and b_hh.
        kernel_initializer: initializer for `kernel`. Default `"glorot_uniform"`.
        recurrent_initializer: initializer for `recurrent_kernel`. Default `"orthogonal"`.
        bias_initializer: initializer for both biases. Default `"zeros"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, input_dim), x_t.
        states: list of one tensor (batch, units), [h_{t-1}].
        recurrent_mask: optional tensor (batch, units) multiplying h_{t-1} before the
            recurrent matmul (recurrent dropout).

    Returns `(h_t, [h_t])`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> cell = keras_seq.SimpleRNNCell(4)
    >>> h, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
    >>> tuple(h.shape), len(states)
    ((2, 4), 1)
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        if activation not in _SIMPLE_ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {_SIMPLE_ACTIVATIONS}. "
                f"Received: activation={activation!r}"
            )
        self.activation = activation

    def step(self, projected_inputs, states, recurrent_mask=None):
        pre = projected_inputs + self._project_state(states[0], recurrent_mask)
        h = ops.tanh(pre) if self.activation == "tanh" else ops.relu(pre)
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation
        return config


@keras_seq_export("keras_seq.LSTMCell")
class LSTMCell(_RecurrentCell):
    """One step of an LSTM (PyTorch's `nn.LSTMCell`).

    i = sigmoid(x W_ii + b_ii + h W_hi + b_hi)
    f = sigmoid(x W_if + b_if + h W_hf + b_hf)
    g = tanh(x W_ig + b_ig + h W_hg + b_hg)
    o = sigmoid(x W_io + b_io + h W_ho + b_ho)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

    Weights, gates in the order i, f, g, o: `kernel` (input_dim, 4 units) = W_ih^T,
    `recurrent_kernel` (units, 4 units) = W_hh^T, `bias` = b_ih, `recurrent_bias` = b_hh.

    Args:
        units: int. Size of the hidden and cell states.
        unit_forget_bias: bool. If True (default) the forget-gate slice of `bias`
            starts at 1 (`recurrent_bias` keeps `bias_initializer`), as in Keras.
        use_bias: bool. Whether to add the biases b_ih and b_hh.
        kernel_initializer: initializer for `kernel`. Default `"glorot_uniform"`.
        recurrent_initializer: initializer for `recurrent_kernel`. Default `"orthogonal"`.
        bias_initializer: initializer for both biases. Default `"zeros"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, input_dim), x_t.
        states: list `[h_{t-1}, c_{t-1}]`, each (batch, units).
        recurrent_mask: optional tensor (batch, units) multiplying h_{t-1} before the
            recurrent matmul (recurrent dropout).

    Returns `(h_t, [h_t, c_t])`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> cell = keras_seq.LSTMCell(4)
    >>> zeros = np.zeros((2, 4), "float32")
    >>> h, (h2, c) = cell(np.ones((2, 3), "float32"), [zeros, zeros])
    >>> tuple(h.shape), tuple(c.shape)
    ((2, 4), (2, 4))
    """

    gate_count = 4
    state_count = 2

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _input_bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base = self.bias_initializer
        units = self.units

        def initializer(shape, dtype=None):
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return initializer

    def step(self, projected_inputs, states, recurrent_mask=None):
        h, c = states
        gates = projected_inputs + self._project_state(h, recurrent_mask)
        i, f, g, o = ops.split(gates, 4, axis=-1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


@keras_seq_export("keras_seq.GRUCell")
class GRUCell(_RecurrentCell):
    """One step of a GRU with the reset gate after the recurrent matmul (`nn.GRUCell`).

    r = sigmoid(x W_ir + b_ir + h W_hr + b_hr)
    z = sigmoid(x W_iz + b_iz + h W_hz + b_hz)
    n = tanh(x W_in + b_in + r * (h W_hn + b_hn))
    h_t = (1 - z) * n + z * h_{t-1}

    This is PyTorch's GRU and Keras' `GRU(reset_after=True)`, so both biases of
    PyTorch load exactly. Weights, gates in the order r, z, n: `kernel`
    (input_dim, 3 units) = W_ih^T, `recurrent_kernel` (units, 3 units) = W_hh^T,
    `bias` = b_ih, `recurrent_bias` = b_hh.

    Args:
        units: int. Size of the hidden state.
        use_bias: bool. Whether to add the biases b_ih and b_hh.
        kernel_initializer: initializer for `kernel`. Default `"glorot_uniform"`.
        recurrent_initializer: initializer for `recurrent_kernel`. Default `"orthogonal"`.
        bias_initializer: initializer for both biases. Default `"zeros"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, input_dim), x_t.
        states: list of one tensor (batch, units), [h_{t-1}].
        recurrent_mask: optional tensor (batch, units) multiplying h_{t-1} before the
            recurrent matmul (recurrent dropout).

    Returns `(h_t, [h_t])`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> cell = keras_seq.GRUCell(4)
    >>> h, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
    >>> tuple(h.shape)
    (2, 4)
    """

    gate_count = 3

    def step(self, projected_inputs, states, recurrent_mask=None):
        h = states[0]
        projected_state = self._project_state(h, recurrent_mask)
        x_r, x_z, x_n = ops.split(projected_inputs, 3, axis=-1)
        h_r, h_z, h_n = ops.split(projected_state, 3, axis=-1)
        r = ops.sigmoid(x_r + h_r)
        z = ops.sigmoid(x_z + h_z)
        n = ops.tanh(x_n + r * h_n)
        h = (1.0 - z) * n + z * h
        return h, [h]
