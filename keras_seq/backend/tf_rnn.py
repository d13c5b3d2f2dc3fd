"""A cell's recurrence on TensorFlow with a hand-written backward (`tf.custom_gradient`).

`recurrence.forward` and `recurrence.backward` each run as a function compiled by XLA (XLA
cannot differentiate a scan, but here it differentiates nothing), joined by a
`tf.custom_gradient` in the caller's graph. The forward function returns exactly what the
backward pass reads. Compiling the custom gradient itself instead (one XLA function with
`tf.custom_gradient` inside) made TensorFlow's function-gradient machinery hand the
backward pass the forward loop's whole state, the projected inputs included, and grew peak
memory (docs/speed.md).

Compiled functions are shared between cells with equal `step_key` (their `step` computes
the same function of its arguments).
"""

import functools

import tensorflow as tf

from keras_seq.backend import custom_backward, recurrence

# step_key -> a cell with that key: the compiled loops run its `step`, the same for all.
_CELLS = {}


@functools.cache
def _forward(key, keep, reverse):
    """`recurrence.forward` compiled; `keep`: also return what the backward pass reads."""
    cell = _CELLS[key]

    def run(xp, w, b, states, mask):
        return recurrence.forward(cell, xp, w, b, states, mask, reverse, keep=keep, whole=True)

    return tf.function(run, jit_compile=True)


@functools.cache
def _backward(key, reverse):
    """`recurrence.backward` compiled."""
    cell = _CELLS[key]

    def run(w, b, mask, residuals, d_hs, d_finals):
        return recurrence.backward(cell, w, b, mask, reverse, residuals, d_hs, d_finals)

    return tf.function(run, jit_compile=True)


def _run(key, keep, reverse, xp, w, b, states, mask):
    """`(hs, *finals)` with `recurrence.backward` as the gradient.

    With `keep` False nothing is kept for a backward pass; one that comes anyway (a gradient
    taken in inference mode) runs the forward pass again first. `reverse`: the loop runs
    backward in time (`_arrays` passes it for inference only).
    """
    has_bias = b is not None

    @tf.custom_gradient
    def run(*differentiated):
        xp, w, *rest = differentiated
        b, states = (rest[0], rest[1:]) if has_bias else (None, rest)
        # Cut from the tape: TensorFlow would otherwise differentiate the compiled loop.
        inputs = tf.nest.map_structure(
            lambda a: None if a is None else tf.stop_gradient(a), (xp, w, b, tuple(states), mask)
        )
        (hs, finals), residuals = _forward(key, keep, reverse)(*inputs)

        def grad(d_hs, *d_finals):
            kept = residuals or _forward(key, True, reverse)(*inputs)[1]
            d_hs, *d_finals = [
                tf.zeros_like(o) if d is None else d
                for o, d in zip((hs, *finals), (d_hs, *d_finals))
            ]
            d_xp, d_w, d_b, d_states = _backward(key, reverse)(
                inputs[1], inputs[2], mask, kept, d_hs, tuple(d_finals)
            )
            return [d_xp, d_w] + ([d_b] if has_bias else []) + list(d_states)

        return (hs, *finals), grad

    return run(xp, w, *([b] if has_bias else []), *states)


def recur(cell, inputs, mask, states, reverse, training=True, **options):
    """`keras_seq.backend.recur` on TensorFlow: the hand-written backward pass, compiled.

    See `custom_backward.recur` for the arguments, results and refusals.
    """
    return custom_backward.recur(_arrays, cell, inputs, mask, states, reverse, training, **options)


def _arrays(cell, x, w_ih, b_ih, w, b, states, mask, reverse, training=True):
    """`recurrence.forward`'s outputs `(hs, finals)`, differentiated by `recurrence.backward`.

    `x` (time, batch, features) holds the raw inputs, projected by `w_ih` and `b_ih` (or
    None) in one matmul over the whole sequence (autodiff forms its gradients likewise).
    The loops are compiled by XLA (Keras leaves the rest of the model uncompiled on a
    CPU-only machine). With `training` False the forward pass keeps nothing for a backward
    pass.

    Training runs both directions in one compiled loop forward in time, the backward
    direction over reversed inputs: half the compiled functions of a loop per direction.
    Inference instead compiles a loop per direction that reads its inputs backward in place,
    saving the copies that reverse them.

    bfloat16 on CPU: the input projection runs in bfloat16, the loop in float32 (its results
    are cast back): XLA's CPU loop over bfloat16 steps is slower (docs/speed.md).
    """
    key = cell.step_key
    _CELLS.setdefault(key, cell)
    xp = tf.matmul(x, w_ih)
    xp = xp + b_ih if b_ih is not None else xp
    # Variables are read here: custom_gradient would otherwise see (and refuse) them.
    w, b = tf.convert_to_tensor(w), None if b is None else tf.convert_to_tensor(b)
    states = tuple(tf.convert_to_tensor(s) for s in states)
    dtype = xp.dtype
    if dtype == tf.bfloat16 and not tf.config.list_logical_devices("GPU"):
        xp, w, b, states = tf.nest.map_structure(
            lambda a: None if a is None else tf.cast(a, tf.float32), (xp, w, b, states)
        )
    flip = reverse and training  # training: the one loop of both directions, over flipped inputs
    if flip:
        xp = tf.reverse(xp, [0])
        mask = None if mask is None else tf.reverse(mask, [0])
    hs, *finals = _run(key, training, reverse and not flip, xp, w, b, states, mask)
    if flip:
        hs = tf.reverse(hs, [0])
    return tf.cast(hs, dtype), tuple(tf.cast(f, dtype) for f in finals)
