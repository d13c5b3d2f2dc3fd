"""Recurrent cells: one time step of an Elman RNN, an LSTM, a GRU and Keras' reset-before GRU.

Every cell but the last holds PyTorch's parameters in Keras form, gates in PyTorch's order
(LSTM i, f, g, o; GRU r, z, n; G gates):

- `kernel` (input_dim, G * units) = W_ih^T
- `recurrent_kernel` (units, G * units) = W_hh^T
- `bias` (G * units) = b_ih and `recurrent_bias` (G * units) = b_hh (only with `use_bias`)

A cell computes a step in two parts so that a sequence layer can hoist the input
projection out of its time loop: `project_inputs(x)` (x W_ih + b_ih, for one step or
a whole sequence in one matmul) and the pure `step(params, projected, states)` (the
recurrent part, `params` = `(recurrent_kernel, recurrent_bias)` from `params()`).
`call(inputs, states)` does both for one step, like Keras' own RNN cells.

The cell is the one owner of its recurrence: every loop (the generic scan, the hand-written
backward passes of `keras_seq.backend`) runs `step`, and reads what it needs from the cell's
declarations, never from its type:

- `gate_count`, `state_count`: G and the number of states ([h] or [h, c]).
- `torch_kernel`: the PyTorch fused kernel computing the same step (`torch._VF.lstm`, `gru`,
  `rnn_tanh`, `rnn_relu`), or None where PyTorch has none.
- `step_backward(saved, old_states, new_states, d_states)` (optional): the step's gradient,
  for cells whose recurrent part is one matmul hp = h_{t-1} W_hh + b_hh; it returns
  (d projected, d hp, d old states apart from hp). `saved_count` is the number of the
  per-step values `step` returns for it, `gradients_differ` whether d projected and d hp
  are two tensors (a GRU's: r * d n) or one, `hidden_from_saved` (optional) recomputes h
  from the other values so a loop need not keep it, and `sums_gates_at_once` says that
  every gate's pre-activation is x_t W_ih + hp, so `step` may take the projection whole.
- `step_key`: what `step` depends on beyond its arguments; compiled loops are shared
  between cells with equal keys.
- `has_recurrent_kernel`, `has_recurrent_bias`: which recurrent weights the cell builds
  (the input-gated cells of `keras_seq.layers.minimal_cells` have neither, and declare
  `scan = "associative"`: their sequence runs as a parallel prefix scan).
"""

import keras
from keras import ops

from keras_seq.api import keras_seq_export

_SIMPLE_ACTIVATIONS = ("tanh", "relu")


class _RecurrentCell(keras.layers.Layer):
    """Shared weights, projection and config of the cells (not public)."""

    gate_count = 1
    state_count = 1
    torch_kernel = None
    has_recurrent_kernel = True
    has_recurrent_bias = True
    saved_count = 0
    gradients_differ = False
    sums_gates_at_once = False

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
        self.recurrent_kernel = None
        if self.has_recurrent_kernel:
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, width),
                initializer=self.recurrent_initializer,
                name="recurrent_kernel",
            )
        self.bias = None
        self.recurrent_bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,), initializer=self._input_bias_initializer(), name="bias"
            )
        if self.use_bias and self.has_recurrent_bias:
            self.recurrent_bias = self.add_weight(
                shape=(width,), initializer=self.bias_initializer, name="recurrent_bias"
            )

    @property
    def step_key(self):
        return (type(self),)

    def params(self):
        """`step`'s parameters: `(recurrent_kernel, recurrent_bias)` (the bias may be None)."""
        return (self.recurrent_kernel, self.recurrent_bias)

    def project_inputs(self, inputs):
        """Returns `inputs @ kernel + bias` for one step or a whole sequence."""
        projected = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            projected = projected + self.bias
        return projected

    def step(self, params, projected, states, recurrent_mask=None):
        """One step, pure (`keras.ops` on its arguments only); returns `(new_states, saved)`.

        Args:
            params: `(w, b)`, the recurrent kernel (units, G * units) and bias or None.
            projected: list: one (batch, G * units) array, the step's `project_inputs`, or
                G arrays (batch, units), one per gate.
            states: the states before the step, each (batch, units); h first.
            recurrent_mask: optional (batch, units) multiplying h before the recurrent
                matmul (recurrent dropout).

        `new_states[0]` is the output h_t; `saved` holds the `saved_count` per-step values
        that `step_backward` reads.
        """
        raise NotImplementedError

    def call(self, inputs, states, recurrent_mask=None):
        if not isinstance(states, (list, tuple)):
            states = [states]
        new, _ = self.step(self.params(), [self.project_inputs(inputs)], states, recurrent_mask)
        return new[0], list(new)

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


def _recurrent(params, h, recurrent_mask=None):
    """hp = (h * recurrent_mask) W + b: the recurrent part of every gate."""
    w, b = params
    if recurrent_mask is not None:
        h = h * recurrent_mask
    hp = ops.matmul(h, w)
    return hp if b is None else hp + b


def _gates(projected, count):
    """The step's projected inputs as `count` per-gate arrays."""
    return projected if len(projected) == count else ops.split(projected[0], count, axis=-1)


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

    @property
    def torch_kernel(self):
        return "rnn_" + self.activation

    @property
    def step_key(self):
        return (type(self), self.activation)

    def step(self, params, projected, states, recurrent_mask=None):
        pre = projected[0] + _recurrent(params, states[0], recurrent_mask)
        h = ops.tanh(pre) if self.activation == "tanh" else ops.relu(pre)
        return (h,), []

    def step_backward(self, saved, old_states, new_states, d_states):
        """d pre = dh * act'(pre), read from h: 1 - h^2 (tanh) or [h > 0] (relu)."""
        ((h,), (dh,)) = new_states, d_states
        d = dh * (1.0 - h * h) if self.activation == "tanh" else dh * ops.cast(h > 0, h.dtype)
        return d, d, (None,)

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
    torch_kernel = "lstm"
    saved_count = 4
    sums_gates_at_once = True

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

    def step(self, params, projected, states, recurrent_mask=None):
        """Saves the gate activations [i, f, g, o] for `step_backward`."""
        hp = _recurrent(params, states[0], recurrent_mask)
        if len(projected) == 1:  # one sum over all gates, then the split
            i, f, g, o = ops.split(projected[0] + hp, 4, axis=-1)
        else:
            i, f, g, o = (x + y for x, y in zip(projected, ops.split(hp, 4, axis=-1)))
        i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
        c = f * states[1] + i * g
        return (o * ops.tanh(c), c), [i, f, g, o]

    def hidden_from_saved(self, saved, new_states):
        """h_t = o * tanh(c_t): a loop may keep c and the gates, not h."""
        return saved[3] * ops.tanh(new_states[1])

    def step_backward(self, saved, old_states, new_states, d_states):
        """dc += dh o (1 - tanh^2 c); d[i, f, g, o] = dc [g, c_{t-1}, i, -] * sigmoid' or
        tanh', do = dh tanh(c) o (1 - o); d c_{t-1} = dc f (the same d for the projection
        and hp)."""
        i, f, g, o = saved
        dh, dc = d_states
        tanh_c = ops.tanh(new_states[1])
        dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
        d = ops.concatenate(
            [
                dc * g * i * (1.0 - i),
                dc * old_states[1] * f * (1.0 - f),
                dc * i * (1.0 - g * g),
                dh * tanh_c * o * (1.0 - o),
            ],
            axis=-1,
        )
        return d, d, (None, dc * f)

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
    torch_kernel = "gru"
    saved_count = 4
    gradients_differ = True

    def step(self, params, projected, states, recurrent_mask=None):
        """Saves [r, z, n, h W_hn + b_hn] for `step_backward`."""
        h = states[0]
        x_r, x_z, x_n = _gates(projected, 3)
        h_r, h_z, h_n = ops.split(_recurrent(params, h, recurrent_mask), 3, axis=-1)
        r = ops.sigmoid(x_r + h_r)
        z = ops.sigmoid(x_z + h_z)
        n = ops.tanh(x_n + r * h_n)
        return ((1.0 - z) * n + z * h,), [r, z, n, h_n]

    def step_backward(self, saved, old_states, new_states, d_states):
        """dn = dh (1 - z)(1 - n^2), dr = dn h_n r (1 - r), dz = dh (h_{t-1} - n) z (1 - z);
        d projected = [dr, dz, dn], d hp = [dr, dz, dn r], d h_{t-1} += dh z."""
        r, z, n, h_n = saved
        (dh,) = d_states
        dn = dh * (1.0 - z) * (1.0 - n * n)
        dr = dn * h_n * r * (1.0 - r)
        dz = dh * (old_states[0] - n) * z * (1.0 - z)
        d_projected = ops.concatenate([dr, dz, dn], axis=-1)
        return d_projected, ops.concatenate([dr, dz, dn * r], axis=-1), (dh * z,)


@keras_seq_export("keras_seq.layers.ResetBeforeGRUCell")
class ResetBeforeGRUCell(_RecurrentCell):
    """One step of Keras' `GRU(reset_after=False)`: the reset gate before the recurrent matmul.

    z = sigmoid(x W_iz + b_z + h U_z)
    r = sigmoid(x W_ir + b_r + h U_r)
    n = tanh(x W_in + b_n + (r * h) U_n)
    h_t = z * h_{t-1} + (1 - z) * n

    Keras' layout, so Keras' built-in GRU weights load unchanged (`set_weights`): gates in
    Keras' order z, r, n; `kernel` (input_dim, 3 units) = [W_iz W_ir W_in], `recurrent_kernel`
    (units, 3 units) = [U_z U_r U_n], one `bias` (3 units) (only with `use_bias`). PyTorch has
    no such GRU (`torch_kernel` None), and n's matmul reads r * h, so the one-matmul
    hand-written backward pass does not apply either: every backend runs the generic scan.

    Args:
        units: int. Size of the hidden state.
        use_bias: bool. Whether to add the bias.
        kernel_initializer: initializer for `kernel`. Default `"glorot_uniform"`.
        recurrent_initializer: initializer for `recurrent_kernel`. Default `"orthogonal"`.
        bias_initializer: initializer for `bias`. Default `"zeros"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, input_dim), x_t.
        states: list of one tensor (batch, units), [h_{t-1}].
        recurrent_mask: optional tensor (batch, units) multiplying h_{t-1} before the
            recurrent matmuls (recurrent dropout).

    Returns `(h_t, [h_t])`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> cell = keras_seq.layers.ResetBeforeGRUCell(4)
    >>> h, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
    >>> tuple(h.shape), [v.name for v in cell.weights]
    ((2, 4), ['kernel', 'recurrent_kernel', 'bias'])
    """

    gate_count = 3
    has_recurrent_bias = False

    def step(self, params, projected, states, recurrent_mask=None):
        w, _ = params
        h = states[0]
        seen = h if recurrent_mask is None else h * recurrent_mask
        x_z, x_r, x_n = _gates(projected, 3)
        h_z, h_r = ops.split(ops.matmul(seen, w[:, : 2 * self.units]), 2, axis=-1)
        z = ops.sigmoid(x_z + h_z)
        r = ops.sigmoid(x_r + h_r)
        n = ops.tanh(x_n + ops.matmul(r * seen, w[:, 2 * self.units :]))
        return (z * h + (1.0 - z) * n,), []
