"""A cell's recurrence on JAX with its hand-written backward pass (`jax.custom_vjp`)."""

import jax
import jax.numpy as jnp

from keras_seq.backend import custom_backward, recurrence

HOISTED_INFERENCE_ROWS = 3072  # predicting more (time x batch) rows projects step by step


def _hoisted(x, w, training=True):
    """Whether the whole sequence is projected before the loop (else each step its own).

    Inputs narrower than a quarter of the recurrent width are projected step by step;
    predicting, so are more than `HOISTED_INFERENCE_ROWS` (time x batch) rows; training
    always hoists otherwise. The crossover points are measured (docs/speed.md).
    """
    if 4 * x.shape[-1] < w.shape[-2]:
        return False
    time, batch = x.shape[:2]
    if training or not (isinstance(time, int) and isinstance(batch, int)):
        return True  # an export's symbolic shape: no size to compare
    return time * batch <= HOISTED_INFERENCE_ROWS


def _forward(cell, reverse, x, w_ih, b_ih, w, b, states, mask, keep=True):
    if _hoisted(x, w, training=keep):
        xp = jnp.matmul(x, w_ih)
        xp = xp if b_ih is None else xp + b_ih
        return recurrence.forward(cell, xp, w, b, states, mask, reverse, keep=keep)
    project = (w_ih, b_ih)
    return recurrence.forward(cell, x, w, b, states, mask, reverse, project=project, keep=keep)


def _recurrence(cell, reverse):
    """The recurrence as a `jax.custom_vjp` function of (x, w_ih, b_ih, w, b, states, mask).

    The backward pass forms d x, d W_ih, d b_ih in single matmuls.
    """

    @jax.custom_vjp
    def run(x, w_ih, b_ih, w, b, states, mask):
        return _forward(cell, reverse, x, w_ih, b_ih, w, b, states, mask)[0]

    def run_forward(x, w_ih, b_ih, w, b, states, mask):
        outputs, residuals = _forward(cell, reverse, x, w_ih, b_ih, w, b, states, mask)
        return outputs, (x, w_ih, b_ih, w, b, mask, residuals)

    def run_backward(saved, grads):
        x, w_ih, b_ih, w, b, mask, residuals = saved
        d_hs, d_finals = grads
        d_xp, d_w, d_b, d_states = recurrence.backward(
            cell, w, b, mask, reverse, residuals, d_hs, d_finals
        )
        d_x = jnp.matmul(d_xp, w_ih.T)
        d_w_ih = recurrence.over_steps(x, d_xp)
        d_b_ih = None if b_ih is None else d_xp.sum(axis=(0, 1))
        return d_x, d_w_ih, d_b_ih, d_w, d_b, d_states, None

    run.defvjp(run_forward, run_backward)
    return run


def recur(cell, inputs, mask, states, reverse, training=True, **options):
    """`keras_seq.backend.recur` on JAX: the hand-written backward pass, or NotImplementedError.

    See `custom_backward.recur` for the arguments, results and refusals.
    """
    return custom_backward.recur(_arrays, cell, inputs, mask, states, reverse, training, **options)


def _arrays(cell, x, w_ih, b_ih, w, b, states, mask, reverse, training):
    """`recurrence.forward`'s outputs `(hs, finals)`, differentiated by `recurrence.backward`.

    `x` (time, batch, features) holds the raw inputs, projected by `w_ih` and `b_ih` (or
    None). With `training` False the forward pass keeps nothing for a backward pass (plain
    JAX code: still differentiable, by autodiff) and unrolls `recurrence.INFERENCE_UNROLL`
    steps per iteration.

    bfloat16 on CPU runs in float32 (the results are cast back to bfloat16): XLA's CPU loop
    over bfloat16 steps is slower than over float32 (docs/speed.md).
    """
    if x.dtype != jnp.bfloat16 or jax.default_backend() != "cpu":
        return _run(cell, x, w_ih, b_ih, w, b, states, mask, reverse, training)
    up = [None if a is None else a.astype(jnp.float32) for a in (x, w_ih, b_ih, w, b)]
    states = [s.astype(jnp.float32) for s in states]
    hs, finals = _run(cell, *up, states, mask, reverse, training)
    return hs.astype(x.dtype), tuple(f.astype(x.dtype) for f in finals)


def _run(cell, x, w_ih, b_ih, w, b, states, mask, reverse, training):
    if not training:
        return _forward(cell, reverse, x, w_ih, b_ih, w, b, states, mask, keep=False)[0]
    return _recurrence(cell, reverse)(x, w_ih, b_ih, w, b, tuple(states), mask)
