"""The cells' recurrence on TensorFlow with a hand-written backward (`tf.custom_gradient`)."""

import functools

import tensorflow as tf

from keras_seq.backend import recurrence


@functools.cache
def _compiled(kind, reverse, has_bias, has_mask):
    """`recurrence.forward` with `recurrence.backward` as its gradient, compiled by XLA."""

    # tf.custom_gradient takes tensors only: None arguments are left out of the call.
    @tf.custom_gradient
    def run(*args):
        xp, w, *rest = args
        b = rest.pop(0) if has_bias else None
        mask = rest.pop() if has_mask else None
        (hs, finals), residuals = recurrence.forward(
            kind, xp, w, b, rest, mask, reverse, lstm_whole=True
        )

        def grad(d_hs, *d_finals):
            outputs = (hs, *finals)
            d_hs, *d_finals = [
                tf.zeros_like(o) if d is None else d for o, d in zip(outputs, (d_hs, *d_finals))
            ]
            d_xp, d_w, d_b, d_states = recurrence.backward(
                kind, w, b, mask, reverse, residuals, d_hs, d_finals
            )
            return [d_xp, d_w] + [d_b] * has_bias + list(d_states) + [None] * has_mask

        return (hs, *finals), grad

    return tf.function(run, jit_compile=True)


def recur(kind, x, w_ih, b_ih, w, b, states, mask, reverse, training=True):
    """`recurrence.forward`'s outputs `(hs, finals)`, differentiated by `recurrence.backward`.

    `x` (time, batch, features) holds the raw inputs, projected by `w_ih` and `b_ih` (or
    None) in one matmul over the whole sequence (autodiff forms its gradients likewise).

    The recurrence and its gradient, `recurrence.backward`, are compiled by XLA (XLA cannot
    differentiate a scan, but here it differentiates nothing; Keras leaves the rest of the
    model, and the built-in LSTM, uncompiled on a CPU-only machine). Measured against the
    uncompiled loops: train step 0.85-0.9x on the reference tagger, 0.75-0.9x on a 512-step
    LSTM, for about 70 MB more peak memory (the compiler). `training` is unused: both ways
    compile.

    bfloat16 on CPU: the input projection runs in bfloat16, the loop in float32 (its results
    are cast back): XLA's CPU loop over bfloat16 steps made the reference tagger's train step
    1.4-1.5x slower than float32 (measured, `python -m benchmarks.bfloat16`).
    """
    xp = tf.matmul(x, w_ih)
    xp = xp + b_ih if b_ih is not None else xp
    run = _compiled(kind, reverse, b is not None, mask is not None)
    # Variables are read here: custom_gradient would otherwise see (and refuse) them.
    args = [
        tf.convert_to_tensor(a) for a in [xp, w] + ([b] if b is not None else []) + list(states)
    ]
    if xp.dtype == tf.bfloat16 and not tf.config.list_logical_devices("GPU"):
        args = [tf.cast(a, tf.float32) for a in args]
    hs, *finals = run(*args, *([mask] if mask is not None else []))
    return tf.cast(hs, xp.dtype), tuple(tf.cast(f, xp.dtype) for f in finals)
