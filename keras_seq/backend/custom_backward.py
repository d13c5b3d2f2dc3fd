"""`recur` on JAX and TensorFlow: a cell's recurrence through its hand-written backward pass.

`jax_rnn.recur` and `tf_rnn.recur` come here. The loop is `recurrence.forward`, whose
gradient is `recurrence.backward` (`jax_rnn` attaches it with `jax.custom_vjp`, `tf_rnn` with
`tf.custom_gradient`); both run the cell's own `step` and `step_backward`. Any mask works
(the recurrence passes states through at masked steps, like the generic scan). `plan_reason`
says why a configuration is refused (None: it is taken); `recur` then raises
`NotImplementedError` with that reason and the layer runs the generic scan. A bidirectional
layer runs a loop per direction (docs/speed.md: why not one loop over both).

Precision: under a mixed dtype policy (`"mixed_bfloat16"`) the weights arrive read as
bfloat16 (the layer's autocast scope), like the inputs, and the float32 variables receive the
gradients through that cast. On CPU both backends run the loop over the steps in float32
and return bfloat16 (`tests/test_precision.py` spies on the dtype each one computes in).
"""

import keras
from keras import ops


def _declared_with_step(cell, name):
    """Whether the class that defines the cell's `step` also defines `name`.

    A subclass that changes `step` but inherits `step_backward` would get a wrong gradient.
    """
    for cls in type(cell).__mro__:
        if "step" in vars(cls):
            return name in vars(cls)
    return False


def cell_biases(cell):
    """`(bias, recurrent_bias)`, each None where the cell has none."""
    return getattr(cell, "bias", None), getattr(cell, "recurrent_bias", None)


def plan_reason(cell, inputs, recurrent_mask):
    """Why `recur` refuses this configuration, or None when it takes it."""
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        return f"backend is {backend}, not jax or tensorflow"
    if not _declared_with_step(cell, "step_backward"):
        return f"{type(cell).__name__} has no hand-written backward pass"
    if recurrent_mask is not None:
        return "recurrent dropout is active"
    if backend == "tensorflow" and inputs.shape[1] is None:
        # Keras' TensorFlow scan fails on several scanned tensors of unknown length.
        return "time dimension unknown at trace time (TensorFlow)"
    if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(inputs.dtype)):
        return f"inputs are {inputs.dtype}, not floating point"
    return None


def recur(arrays, cell, inputs, mask, states, reverse, training=True, recurrent_mask=None, **_):
    """One cell over the whole sequence through `arrays` (the backend's loop), in one direction.

    Args:
        arrays: the backend's `(cell, x, w_ih, b_ih, w, b, states, mask, reverse, training)
            -> (hs, finals)` over time-major arrays.
        cell, inputs, mask, states, reverse, training, recurrent_mask: as
            `keras_seq.backend.recur`. With `training` False, inference-only speed-ups apply.

    Returns `(outputs, final_states)`, outputs (batch, time, units) zero at masked steps.

    Raises:
        NotImplementedError: with `plan_reason`'s reason.
    """
    reason = plan_reason(cell, inputs, recurrent_mask)
    if reason is not None:
        raise NotImplementedError(reason)
    x = ops.transpose(inputs, (1, 0, 2))
    w_ih, w = ops.convert_to_tensor(cell.kernel), ops.convert_to_tensor(cell.recurrent_kernel)
    b_ih, b = (None if v is None else ops.convert_to_tensor(v) for v in cell_biases(cell))
    steps = None if mask is None else ops.transpose(mask, (1, 0))[:, :, None]
    hs, finals = arrays(cell, x, w_ih, b_ih, w, b, states, steps, reverse, bool(training))
    outputs = ops.transpose(hs, (1, 0, 2))
    if mask is not None:
        outputs = ops.where(mask[:, :, None], outputs, ops.zeros_like(outputs))
    return outputs, list(finals)
