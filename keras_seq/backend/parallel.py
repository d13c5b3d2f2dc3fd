"""A sequence of linear steps h_t = a_t * h_{t-1} + b_t as a parallel prefix scan.

`recur` here runs the cells that declare `scan = "associative"` (their gates read only the
input, `keras_seq.layers.minimal_cells`): the cell's `coefficients` give a_t and b_t for the
whole sequence at once, and `linear_scan` composes them with `keras.ops.associative_scan`
(`jax.lax.associative_scan` on JAX; on TensorFlow and PyTorch Keras' log-depth scan of
slices), log2(T) levels of elementwise work instead of T dependent steps. Autodiff
differentiates it on every backend. Plain `keras.ops`: no backend imports.

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


def _shifted(x, reverse):
    """x_{t-1} at each t, zero at the first (x_{t+1} and zero at the last when `reverse`)."""
    zero = ops.zeros_like(x[:, :1])
    return ops.concatenate([x[:, 1:], zero] if reverse else [zero, x[:, :-1]], axis=1)


def _scan_with_gradient(reverse):
    """`_associative` whose gradient is one more linear scan, the other way.

    With g_t = dL/dh_t in total (h_t reaches the loss directly and through h_{t+1}):
    g_t = dh_t + a_{t+1} g_{t+1}, a linear recurrence read from the end; then
    dL/db_t = g_t and dL/da_t = g_t h_{t-1}. Autodiff of the scan's tree of slices and
    interleavings instead costs several times the forward pass.
    """

    @ops.custom_gradient
    def run(a, b):
        h = _associative(a, b, reverse)

        def grad(*args, upstream=None):
            upstream = args[0] if upstream is None else upstream
            g = _associative(_shifted(a, not reverse), upstream, not reverse)
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
    start = a[:, first] * h0 + b[:, first]  # h0 folded into the first step read
    rest = b[:, :-1] if reverse else b[:, 1:]
    b = ops.concatenate([rest, start[:, None]] if reverse else [start[:, None], rest], axis=1)
    return _SCANS[reverse](a, b)


def plan_reason(cell, inputs):
    """Why `recur` refuses this configuration, or None when it takes it."""
    if getattr(cell, "scan", None) != "associative":
        return f"{type(cell).__name__} does not declare scan = 'associative'"
    if inputs.shape[1] is None and keras.backend.backend() != "jax":
        return "time dimension unknown at trace time (Keras' associative scan slices it)"
    return None


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
    a, b = cell.coefficients(cell.project_inputs(inputs))
    if mask is not None:
        steps = mask[:, :, None]
        a = ops.where(steps, a, ops.ones_like(a))
        b = ops.where(steps, b, ops.zeros_like(b))
    h = linear_scan(a, b, ops.cast(states[0], a.dtype), reverse)
    final = h[:, 0] if reverse else h[:, -1]
    if mask is not None:
        h = ops.where(mask[:, :, None], h, ops.zeros_like(h))
    return h, [final]
