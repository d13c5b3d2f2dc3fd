"""Fast path for `keras_seq.Recurrent` on JAX and TensorFlow: the hand-written backward pass.

`Recurrent.run_cell` calls `run_cell` here (after the torch kernels). It runs
`recurrence.forward`, whose gradient is
`recurrence.backward` (`jax_rnn` attaches it with `jax.custom_vjp`, `tf_rnn` with
`tf.custom_gradient`). Any mask works (the recurrence passes states through at masked
steps, like the generic loop). `plan_reason` says why a configuration is refused (None:
it is taken); the layer then runs its generic loop. A bidirectional layer runs a loop per
direction: TensorFlow's executor runs the two at once on two cores; on JAX (whose loops run
on one core) one loop over both directions' stacked weights predicted the reference tagger
in 1.2x the time of two loops, each over a hoisted input projection (measured).

Precision: under a mixed dtype policy (`"mixed_bfloat16"`) the weights arrive read as
bfloat16 (the layer's autocast scope), like the inputs, and the float32 variables receive the
gradients through that cast. On CPU both run the loop over the steps in float32 (`jax_rnn.recur`,
`tf_rnn.recur`: faster there, measured) and return bfloat16 (`tests/test_precision.py` spies
on the dtype each one computes in).
"""

import importlib

import keras
from keras import ops

from keras_seq.layers.cells import GRUCell, LSTMCell, SimpleRNNCell

_MODULES = {"jax": "keras_seq.backend.jax_rnn", "tensorflow": "keras_seq.backend.tf_rnn"}


def _kind(cell):
    # Exact types: a subclass may change the step, which the hand-written backward would not see.
    if type(cell) is LSTMCell:
        return "lstm"
    if type(cell) is GRUCell:
        return "gru"
    if type(cell) is SimpleRNNCell:
        return cell.activation
    return None


def plan_reason(cell, inputs, recurrent_mask):
    """Why `run_cell` refuses this configuration, or None when it takes it."""
    backend = keras.backend.backend()
    if backend not in _MODULES:
        return f"backend is {backend}, not jax or tensorflow"
    if _kind(cell) is None:
        return f"{type(cell).__name__} has no hand-written backward pass"
    if recurrent_mask is not None:
        return "recurrent dropout is active"
    if backend == "tensorflow" and inputs.shape[1] is None:
        # Keras' TensorFlow scan fails on several scanned tensors of unknown length.
        return "time dimension unknown at trace time (TensorFlow)"
    if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(inputs.dtype)):
        return f"inputs are {inputs.dtype}, not floating point"
    return None


def backend_module():
    """The module with this backend's `recur` (`jax_rnn` or `tf_rnn`)."""
    return importlib.import_module(_MODULES[keras.backend.backend()])


def run_cell(cell, inputs, mask, initial_state, reverse, recurrent_mask, training=True):
    """`Recurrent.run_cell` through the hand-written backward pass, or None (see `plan_reason`).

    With `training` False, inference-only speed-ups apply (`jax_rnn`, `tf_rnn`: `recur`).
    """
    if plan_reason(cell, inputs, recurrent_mask) is not None:
        return None
    x = ops.transpose(inputs, (1, 0, 2))
    w_ih, w = ops.convert_to_tensor(cell.kernel), ops.convert_to_tensor(cell.recurrent_kernel)
    b_ih, b = None, None
    if cell.use_bias:
        b_ih, b = ops.convert_to_tensor(cell.bias), ops.convert_to_tensor(cell.recurrent_bias)
    steps = None if mask is None else ops.transpose(mask, (1, 0))[:, :, None]
    hs, finals = backend_module().recur(
        _kind(cell), x, w_ih, b_ih, w, b, initial_state, steps, reverse, training
    )
    outputs = ops.transpose(hs, (1, 0, 2))
    if mask is not None:
        outputs = ops.where(mask[:, :, None], outputs, ops.zeros_like(outputs))
    return outputs, list(finals)
