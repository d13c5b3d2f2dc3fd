"""The cells' recurrence on JAX with its hand-written backward pass (`jax.custom_vjp`)."""

import functools

import jax
import jax.numpy as jnp

from keras_seq.backend import recurrence

HOISTED_INFERENCE_ROWS = 3072  # predicting more (time x batch) rows projects step by step


def _hoisted(x, w, training=True):
    """Whether the whole sequence is projected before the loop (else each step its own).

    Measured with `python -m benchmarks.worker`: hoisted, the reference tagger (64 and 256
    features, 128 units) trains in 0.88x the time and predicts in 0.75x; a 512-step LSTM
    on 16 features trains in 1.2x and predicts in 2x. Predicting, the hoisted projection
    loses on longer or larger batches: by time x batch rows, 2048 0.6-0.8x the time of a
    per-step projection, 3072 1.0x, 4096 1.25x, 8192 1.15-1.45x, 32768 1.2-1.25x (training:
    0.85-1.0x at every size, so training always hoists).
    """
    if 4 * x.shape[-1] < w.shape[-2]:
        return False
    time, batch = x.shape[:2]
    if training or not (isinstance(time, int) and isinstance(batch, int)):
        return True  # an export's symbolic shape: no size to compare
    return time * batch <= HOISTED_INFERENCE_ROWS


def _forward(kind, reverse, x, w_ih, b_ih, w, b, states, mask, keep=True):
    if _hoisted(x, w, training=keep):
        xp = jnp.matmul(x, w_ih)
        xp = xp if b_ih is None else xp + b_ih
        return recurrence.forward(kind, xp, w, b, states, mask, reverse, keep=keep)
    project = (w_ih, b_ih)
    return recurrence.forward(kind, x, w, b, states, mask, reverse, project=project, keep=keep)


@functools.cache
def _recurrence(kind, reverse):
    # The backward pass forms d x, d W_ih, d b_ih in single matmuls.
    forward = functools.partial(_forward, kind, reverse)

    @jax.custom_vjp
    def run(x, w_ih, b_ih, w, b, states, mask):
        return forward(x, w_ih, b_ih, w, b, states, mask)[0]

    def run_forward(x, w_ih, b_ih, w, b, states, mask):
        outputs, residuals = forward(x, w_ih, b_ih, w, b, states, mask)
        return outputs, (x, w_ih, b_ih, w, b, mask, residuals)

    def run_backward(saved, grads):
        x, w_ih, b_ih, w, b, mask, residuals = saved
        d_hs, d_finals = grads
        d_xp, d_w, d_b, d_states = recurrence.backward(
            kind, w, b, mask, reverse, residuals, d_hs, d_finals
        )
        d_x = jnp.matmul(d_xp, w_ih.T)
        d_w_ih = recurrence.over_steps(x, d_xp)
        d_b_ih = None if b_ih is None else d_xp.sum(axis=(0, 1))
        return d_x, d_w_ih, d_b_ih, d_w, d_b, d_states, None

    run.defvjp(run_forward, run_backward)
    return run


def recur(kind, x, w_ih, b_ih, w, b, states, mask, reverse, training=True):
    """`recurrence.forward`'s outputs `(hs, finals)`, differentiated by `recurrence.backward`.

    `x` (time, batch, features) holds the raw inputs, projected by `w_ih` and `b_ih` (or
    None). With `training` False the forward pass keeps nothing for a backward pass (plain
    JAX code: still differentiable, by autodiff) and unrolls `recurrence.INFERENCE_UNROLL`
    steps per iteration; a full unroll was measured slower (predict 1.4-3x the rolled loop,
    compile 50 s instead of 15 s).

    bfloat16 on CPU runs in float32 (the results are cast back to bfloat16): XLA's CPU loop
    over bfloat16 steps made the reference tagger's train step 1.1-1.9x slower than float32,
    against 0.8-0.9x with this cast (measured, `python -m benchmarks.bfloat16`).
    """
    if x.dtype != jnp.bfloat16 or jax.default_backend() != "cpu":
        return _run(kind, x, w_ih, b_ih, w, b, states, mask, reverse, training)
    up = [None if a is None else a.astype(jnp.float32) for a in (x, w_ih, b_ih, w, b)]
    states = [s.astype(jnp.float32) for s in states]
    hs, finals = _run(kind, *up, states, mask, reverse, training)
    return hs.astype(x.dtype), tuple(f.astype(x.dtype) for f in finals)


def _run(kind, x, w_ih, b_ih, w, b, states, mask, reverse, training):
    if not training:
        return _forward(kind, reverse, x, w_ih, b_ih, w, b, states, mask, keep=False)[0]
    return _recurrence(kind, reverse)(x, w_ih, b_ih, w, b, tuple(states), mask)
