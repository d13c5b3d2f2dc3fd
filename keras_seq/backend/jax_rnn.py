"""The cells' recurrence on JAX with its hand-written backward pass (`jax.custom_vjp`)."""

import functools

import jax

from keras_seq.backend import recurrence


@functools.cache
def _recurrence(kind, reverse):
    @jax.custom_vjp
    def run(xp, w, b, states, mask):
        return recurrence.forward(kind, xp, w, b, states, mask, reverse)[0]

    def run_forward(xp, w, b, states, mask):
        outputs, residuals = recurrence.forward(kind, xp, w, b, states, mask, reverse)
        return outputs, (w, b, mask, residuals)

    def run_backward(saved, grads):
        w, b, mask, residuals = saved
        d_hs, d_finals = grads
        d_xp, d_w, d_b, d_states = recurrence.backward(
            kind, w, b, mask, reverse, residuals, d_hs, d_finals
        )
        return d_xp, d_w, d_b, d_states, None

    run.defvjp(run_forward, run_backward)
    return run


# Inference unrolls loops of at most this many steps: XLA then runs a (short) loop about
# twice as fast as a rolled scan; compile time grows with the steps.
UNROLL_STEPS = 128


def recur(kind, xp, w, b, states, mask, reverse, training=True):
    """`recurrence.forward`'s outputs `(hs, finals)`, differentiated by `recurrence.backward`.

    With `training` False and a static length of at most `UNROLL_STEPS`, the loop is
    unrolled (plain JAX code: still differentiable, by autodiff).
    """
    if not training and xp.shape[0] is not None and xp.shape[0] <= UNROLL_STEPS:
        return recurrence.forward(kind, xp, w, b, states, mask, reverse, unroll=True)[0]
    return _recurrence(kind, reverse)(xp, w, b, tuple(states), mask)
