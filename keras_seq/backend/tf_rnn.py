"""The cells' recurrence on TensorFlow with a hand-written backward (`tf.custom_gradient`).

`recurrence.forward` and `recurrence.backward` each run as a function compiled by XLA (XLA
cannot differentiate a scan, but here it differentiates nothing), joined by a
`tf.custom_gradient` in the caller's graph. The forward function returns exactly what the
backward pass reads. Compiling the custom gradient itself instead (one XLA function with
`tf.custom_gradient` inside) made TensorFlow's function-gradient machinery hand the
backward pass the forward loop's whole state, the projected inputs included: 1,285 MB peak
growth against 1,003 MB for the reference tagger at batch 256, length 128 (350 vs 310 MB at
batch 32, length 64; measured, `python -m benchmarks.worker`). docs/speed.md has the rest.
"""

import functools

import tensorflow as tf

from keras_seq.backend import recurrence


@functools.cache
def _forward(kind, keep, reverse):
    """`recurrence.forward` compiled; `keep`: also return what the backward pass reads."""

    def run(xp, w, b, states, mask):
        return recurrence.forward(kind, xp, w, b, states, mask, reverse, keep=keep, lstm_whole=True)

    return tf.function(run, jit_compile=True)


@functools.cache
def _backward(kind, reverse):
    """`recurrence.backward` compiled."""

    def run(w, b, mask, residuals, d_hs, d_finals):
        return recurrence.backward(kind, w, b, mask, reverse, residuals, d_hs, d_finals)

    return tf.function(run, jit_compile=True)


def _run(kind, keep, reverse, xp, w, b, states, mask):
    """`(hs, *finals)` with `recurrence.backward` as the gradient.

    With `keep` False nothing is kept for a backward pass; one that comes anyway (a gradient
    taken in inference mode) runs the forward pass again first. `reverse`: the loop runs
    backward in time (`recur` passes it for inference only).
    """

    @tf.custom_gradient
    def run(*differentiated):
        # Cut from the tape: TensorFlow would otherwise differentiate the compiled loop.
        inputs = tf.nest.map_structure(
            lambda a: None if a is None else tf.stop_gradient(a), (xp, w, b, states, mask)
        )
        (hs, finals), residuals = _forward(kind, keep, reverse)(*inputs)

        def grad(d_hs, *d_finals):
            kept = residuals or _forward(kind, True, reverse)(*inputs)[1]
            d_hs, *d_finals = [
                tf.zeros_like(o) if d is None else d
                for o, d in zip((hs, *finals), (d_hs, *d_finals))
            ]
            d_xp, d_w, d_b, d_states = _backward(kind, reverse)(
                w, b, mask, kept, d_hs, tuple(d_finals)
            )
            return [d_xp, d_w] + ([d_b] if b is not None else []) + list(d_states)

        return (hs, *finals), grad

    return run(xp, w, *([b] if b is not None else []), *states)


def recur(kind, x, w_ih, b_ih, w, b, states, mask, reverse, training=True):
    """`recurrence.forward`'s outputs `(hs, finals)`, differentiated by `recurrence.backward`.

    `x` (time, batch, features) holds the raw inputs, projected by `w_ih` and `b_ih` (or
    None) in one matmul over the whole sequence (autodiff forms its gradients likewise).
    Compiled by XLA, the loops train the reference tagger in 0.85-0.9x the time of uncompiled
    ones and a 512-step LSTM in 0.75-0.9x (Keras leaves the rest of the model, and its
    built-in LSTM, uncompiled on a CPU-only machine). With `training` False the forward pass
    keeps nothing for a backward pass.

    Training runs both directions in one compiled loop forward in time, the backward
    direction over reversed inputs: half the compiled functions of a loop per direction;
    peak memory growth training the tagger at batch 256, length 128: 880-960 MB instead of
    960-1,010 (train time the same on the reference tagger). Inference instead compiles a
    loop per direction that reads its inputs backward in place: the copies reversing them
    cost 4% of the reference tagger's predict time (7.64 vs 7.98 ms and 8.15 vs 8.6, in one
    process), the second compiled loop ~10 MB (one-off, 22-26 MB for predict's compiled
    loops instead of 3-15).

    bfloat16 on CPU: the input projection runs in bfloat16, the loop in float32 (its results
    are cast back): XLA's CPU loop over bfloat16 steps made the reference tagger's train step
    1.4-1.5x slower than float32 (measured, `python -m benchmarks.bfloat16`).
    """
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
    hs, *finals = _run(kind, training, reverse and not flip, xp, w, b, states, mask)
    if flip:
        hs = tf.reverse(hs, [0])
    return tf.cast(hs, dtype), tuple(tf.cast(f, dtype) for f in finals)
