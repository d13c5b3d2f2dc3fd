"""A sequence of linear steps h_t = a_t * h_{t-1} + b_t as a parallel prefix scan.

`recur` here runs the cells that declare `scan = "associative"` (their gates read only the
input, `keras_seq.layers.minimal_cells`): the cell's `coefficients` give a_t and b_t for the
whole sequence at once (one matmul), and `linear_scan` composes them, in one of two ways
(`method()`):

- `"associative"`: `keras.ops.associative_scan` (`jax.lax.associative_scan` on JAX; on
  TensorFlow and PyTorch Keras' log-depth scan of slices), log2(T) levels of elementwise
  work instead of T dependent steps: what pays where many cores share a step (GPU, TPU);
- `"sequential"`: `keras.ops.scan`, one elementwise step after another: JAX on a CPU, where
  the batch x units lanes of one step already fill the core and the parallel scan's log2(T)
  passes over memory cost more than they save (docs/speed.md).

Either way the gradient is hand-written: one more linear scan, the other way, by the same
method. Plain `keras.ops`: no backend imports.

Masks: a masked step is the identity, a_t = 1 and b_t = 0, so h passes through it unchanged
in either direction (any mask: pre- or post-padding, gaps), the outputs there are zero and
the final state is the one after the last real step, as in the generic scan.
"""

import keras
from keras import ops


def _compose(earlier, later):
    """(a1, b1) then (a2, b2): h -> a2 (a1 h + b1) + b2 = (a1 a2) h + (a2 b1 + b2)."""
    a1, b1 = earlier
    a2, b2 = later
    return a1 * a2, a2 * b1 + b2


def _associative(a, b, reverse):
    """h_t = a_t h_{t-1} + b_t from h_0 = 0 (from the end when `reverse`), over axis 1."""
    _, h = ops.associative_scan(_compose, (a, b), reverse=reverse, axis=1)
    # Keras' torch scan returns bfloat16 inputs as float32; its TensorFlow scan traced in a
    # graph loses the rank (the reshape restores it).
    return ops.reshape(ops.cast(h, a.dtype), ops.shape(a))


def _sequential(a, b, reverse):
    """`_associative`'s result, one step after another (`keras.ops.scan` over time-major
    copies of `a` and `b`)."""

    def step(h, coefficients):
        h = coefficients[0] * h + coefficients[1]
        return h, h

    a, b = ops.moveaxis(a, 1, 0), ops.moveaxis(b, 1, 0)
    _, h = ops.scan(step, ops.zeros_like(b[0]), (a, b), reverse=reverse)
    return ops.moveaxis(h, 0, 1)


_METHODS = {"associative": _associative, "sequential": _sequential}


def method():
    """How `linear_scan` composes the steps here: `"sequential"` on JAX when its default
    device is a CPU, `"associative"` elsewhere (GPU, TPU; TensorFlow and PyTorch, whose
    `keras.ops.scan` is a graph loop or a Python loop)."""
    if keras.backend.backend() == "jax":
        if keras.distribution.list_devices()[0].startswith("cpu"):
            return "sequential"
    return "associative"


def _from_zero(a, b, reverse):
    """h_t = a_t h_{t-1} + b_t from h_0 = 0 by `method()`."""
    return _METHODS[method()](a, b, reverse)


def _shifted(x, reverse):
    """x_{t-1} at each t, zero at the first (x_{t+1} and zero at the last when `reverse`).
    A pad and a slice, not a concatenation: XLA fuses them into the elementwise work around."""
    if reverse:
        return ops.pad(x[:, 1:], [[0, 0], [0, 1], [0, 0]])
    return ops.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0]])


def _scan_with_gradient(reverse):
    """`_from_zero` whose gradient is one more linear scan, the other way.

    With g_t = dL/dh_t in total (h_t reaches the loss directly and through h_{t+1}):
    g_t = dh_t + a_{t+1} g_{t+1}, a linear recurrence read from the end; then
    dL/db_t = g_t and dL/da_t = g_t h_{t-1}. Autodiff of the scan's tree of slices and
    interleavings instead costs several times the forward pass.
    """

    @ops.custom_gradient
    def run(a, b):
        h = _from_zero(a, b, reverse)

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            g = _from_zero(_shifted(a, not reverse), upstream, not reverse)
            return g * _shifted(h, reverse), g

        return h, grad

    return run


_SCANS = {reverse: _scan_with_gradient(reverse) for reverse in (False, True)}


def linear_scan(a, b, h0, reverse=False):
    """Every h_t of h_t = a_t * h_{t-1} + b_t, starting from h0, over axis 1.

    Args:
        a, b: tensors (batch, time, units).
        h0: tensor (batch, units), the state before the first step read (the last
            position when `reverse`).
        reverse: bool. Read the sequence from the end.

    Returns the states (batch, time, units), h_t at position t.

    >>> import numpy as np
    >>> a, b = np.full((1, 3, 1), 0.5, "float32"), np.ones((1, 3, 1), "float32")
    >>> np.asarray(linear_scan(a, b, np.zeros((1, 1), "float32"))).ravel().tolist()
    [1.0, 1.5, 1.75]
    """
    first = -1 if reverse else 0
    start = (a[:, first] * h0)[:, None]  # h0 folded into the first step read
    rest = ops.shape(b)[1] - 1
    b = ops.add(b, ops.pad(start, [[0, 0], [rest, 0] if reverse else [0, rest], [0, 0]]))
    return _SCANS[reverse](a, b)


def plan_reason(cell, inputs):
    """Why `recur` refuses this configuration, or None when it takes it."""
    if getattr(cell, "scan", None) != "associative":
        return f"{type(cell).__name__} does not declare scan = 'associative'"
    if inputs.shape[1] is None and keras.backend.backend() != "jax":
        return "time dimension unknown at trace time (Keras' associative scan slices it)"
    return None


def _projected(cell, inputs):
    """`cell.project_inputs` of (batch, time, features) inputs as one 2-D matmul over the
    batch x time rows: XLA on a CPU differentiated the 3-D matmul several times slower
    (docs/speed.md)."""
    batch, steps = ops.shape(inputs)[0], ops.shape(inputs)[1]
    rows = ops.reshape(inputs, (-1, ops.shape(inputs)[-1]))
    return ops.reshape(cell.project_inputs(rows), (batch, steps, -1))


def recur(cell, inputs, mask, states, reverse, training=True, **_):
    """`keras_seq.backend.recur` for an associative cell: outputs and final states.

    Arguments and results as `keras_seq.backend.recur` (`training` changes nothing here;
    `recurrent_mask` does not apply: the cells have no recurrent matmul).

    Raises:
        NotImplementedError: with `plan_reason`'s reason.
    """
    reason = plan_reason(cell, inputs)
    if reason is not None:
        raise NotImplementedError(reason)
    a, b = cell.coefficients(_projected(cell, inputs))
    if mask is not None:
        steps = mask[:, :, None]
        a = ops.where(steps, a, ops.ones_like(a))
        b = ops.where(steps, b, ops.zeros_like(b))
    h = linear_scan(a, b, ops.cast(states[0], a.dtype), reverse)
    final = h[:, 0] if reverse else h[:, -1]
    if mask is not None:
        h = ops.where(mask[:, :, None], h, ops.zeros_like(h))
    return h, [final]
