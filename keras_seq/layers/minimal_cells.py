"""Cells whose gates read only the input: minGRU and minLSTM (Feng et al. 2024).

"Were RNNs All We Needed?" (Feng, Tung, Ahmed, Bengio, Hajimirsadeghi, 2024) drops the
hidden state from every gate, so a step is linear in h:

    h_t = a_t * h_{t-1} + b_t,        a_t, b_t functions of x_t only.

Composing two such steps gives another one, (a1, b1) then (a2, b2) = (a1 a2, a2 b1 + b2),
an associative operation, so a whole sequence runs as a parallel prefix scan (log T
depth) instead of T dependent steps: the cells declare `scan = "associative"` and
`coefficients(projected) -> (a, b)` for any number of leading axes, and
`keras_seq.backend.parallel` runs them (on JAX on a CPU as a sequential scan of the linear
steps, which is faster there: `parallel.method()`). `step` is the same recurrence one step
at a time (the generic scan's reference).

Both are the paper's plain (not log-space) versions: h~ is the linear projection itself
(no g() activation); products of a_t in (0, 1) only shrink towards 0, so the plain scan
cannot overflow and needs no log-space.

Weights: one `kernel` (input_dim, G * units) and `bias` (G * units); no recurrent kernel
or bias (`recurrent_initializer` is unused). PyTorch has no such cell (`torch_kernel` None).
"""

from keras import ops

from keras_seq.api import keras_seq_export
from keras_seq.layers.cells import _RecurrentCell


class _MinimalCell(_RecurrentCell):
    """Shared step and declarations of the input-gated cells (not public)."""

    scan = "associative"
    has_recurrent_kernel = False
    has_recurrent_bias = False

    def coefficients(self, projected):
        """`(a, b)` of h_t = a * h_{t-1} + b from `project_inputs(x)` (..., G * units)."""
        raise NotImplementedError

    def step(self, params, projected, states, recurrent_mask=None):
        """h_t = a_t * h_{t-1} + b_t (`params` and `recurrent_mask` unused: no recurrent
        matmul)."""
        whole = projected[0] if len(projected) == 1 else ops.concatenate(projected, axis=-1)
        a, b = self.coefficients(whole)
        return (a * states[0] + b,), []


@keras_seq_export("keras_seq.layers.MinGRUCell")
class MinGRUCell(_MinimalCell):
    """One step of minGRU (Feng et al. 2024), plain version: gates read only x_t.

    z_t = sigmoid(x_t W_z + b_z)
    h~_t = x_t W_h + b_h
    h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

    i.e. a_t = 1 - z_t, b_t = z_t * h~_t. Weights, in the order z, h~: `kernel`
    (input_dim, 2 units), `bias` (2 units) (only with `use_bias`).

    Args:
        units: int. Size of the hidden state.
        use_bias: bool. Whether to add the bias.
        kernel_initializer: initializer for `kernel`. Default `"glorot_uniform"`.
        recurrent_initializer: unused (no recurrent kernel); accepted like every cell's.
        bias_initializer: initializer for `bias`. Default `"zeros"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, input_dim), x_t.
        states: list of one tensor (batch, units), [h_{t-1}].

    Returns `(h_t, [h_t])`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> cell = keras_seq.layers.MinGRUCell(4)
    >>> h, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
    >>> tuple(h.shape), [v.name for v in cell.weights]
    ((2, 4), ['kernel', 'bias'])
    """

    gate_count = 2

    def coefficients(self, projected):
        z, candidate = ops.split(projected, 2, axis=-1)
        z = ops.sigmoid(z)
        return 1.0 - z, z * candidate


@keras_seq_export("keras_seq.layers.MinLSTMCell")
class MinLSTMCell(_MinimalCell):
    """One step of minLSTM (Feng et al. 2024), plain version: gates read only x_t.

    f_t = sigmoid(x_t W_f + b_f),  i_t = sigmoid(x_t W_i + b_i)
    h~_t = x_t W_h + b_h
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
    h_t = f'_t * h_{t-1} + i'_t * h~_t

    The normalised gates keep h_t's scale independent of time, so no cell state is needed
    (one state, h). Weights, in the order f, i, h~: `kernel` (input_dim, 3 units), `bias`
    (3 units) (only with `use_bias`).

    Args:
        units: int. Size of the hidden state.
        use_bias: bool. Whether to add the bias.
        kernel_initializer: initializer for `kernel`. Default `"glorot_uniform"`.
        recurrent_initializer: unused (no recurrent kernel); accepted like every cell's.
        bias_initializer: initializer for `bias`. Default `"zeros"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, input_dim), x_t.
        states: list of one tensor (batch, units), [h_{t-1}].

    Returns `(h_t, [h_t])`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> cell = keras_seq.layers.MinLSTMCell(4)
    >>> h, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
    >>> tuple(h.shape), tuple(cell.kernel.shape)
    ((2, 4), (3, 12))
    """

    gate_count = 3

    def coefficients(self, projected):
        f, i, candidate = ops.split(projected, 3, axis=-1)
        f, i = ops.sigmoid(f), ops.sigmoid(i)
        total = f + i
        return f / total, i / total * candidate
