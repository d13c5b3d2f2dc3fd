"""The generic scan: any cell's `step` over a sequence, in `keras.ops` (every fast path's fallback).

It differentiates by autodiff and runs every configuration the fast paths refuse (recurrent
dropout, unknown lengths, cells without a fused kernel or a hand-written backward pass). The
per-backend choices here change only speed, never the numbers: on PyTorch a Python loop over
unbound steps; on JAX each step projects its own inputs (XLA on CPU runs a scan over a
hoisted projection slower, docs/speed.md); elsewhere the projection is one matmul before the
loop.
"""

import keras
from keras import ops


def scan(cell, inputs, mask, states, reverse, recurrent_mask=None):
    """Runs `cell.step` over axis 1 of `inputs` (batch, time, features).

    Returns `(outputs, final_states)`: outputs (batch, time, units) in the original time
    order, zero at masked steps. At masked steps the states pass through unchanged, so a
    reversed run starts at each sequence's last real step and the final states are those
    after the last real step. `recurrent_mask` (batch, units) or None: recurrent dropout.
    """
    per_step = keras.backend.backend() == "jax"
    projected = inputs if per_step else cell.project_inputs(inputs)
    params = cell.params()

    def advance(states, x_t, mask_t):
        if per_step:
            x_t = cell.project_inputs(x_t)
        new_states, _ = cell.step(params, [x_t], states, recurrent_mask)
        if mask_t is None:
            return list(new_states)
        return [ops.where(mask_t, new, old) for new, old in zip(new_states, states)]

    outputs, states = _loop(advance, projected, mask, list(states), reverse)
    if mask is not None:
        outputs = ops.where(mask[:, :, None], outputs, ops.zeros_like(outputs))
    return outputs, states


def _loop(advance, projected, mask, states, reverse):
    """`advance(states, x_t, mask_t)` over the steps; returns (h sequence, final states)."""
    if keras.backend.backend() == "torch":
        # Every keras.ops loop is a Python loop on torch: unbind once, no per-step indexing.
        xs = ops.unstack(projected, axis=1)
        masks = ops.unstack(mask[:, :, None], axis=1) if mask is not None else [None] * len(xs)
        order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
        hs = [None] * len(xs)
        for t in order:
            states = advance(states, xs[t], masks[t])
            hs[t] = states[0]
        return ops.stack(hs, axis=1), states

    xs = ops.transpose(projected, (1, 0, 2))
    if mask is None:

        def body(carry, x_t):
            new = advance(carry, x_t, None)
            return new, new

        # TensorFlow's scan needs the per-step output to match the carry: emit all states.
        states, ys = ops.scan(body, states, xs, reverse=reverse)
        return ops.transpose(ys[0], (1, 0, 2)), list(states)

    # Keras' TensorFlow scan fails on several scanned tensors of unknown length (a
    # re-trace for a new sequence length), so only the inputs are scanned; the step
    # index rides in the carry and reads the mask by index (cheaper than packing the
    # mask into the inputs, docs/speed.md).
    steps = ops.transpose(mask, (1, 0))[:, :, None]
    start = ops.shape(projected)[1] - 1 if reverse else 0

    def masked_body(carry, x_t):
        t, states = carry[0], carry[1:]
        new = [t - 1 if reverse else t + 1] + advance(states, x_t, steps[t])
        return new, new

    carry = [ops.convert_to_tensor(start, "int32")] + states
    carry, ys = ops.scan(masked_body, carry, xs, reverse=reverse)
    return ops.transpose(ys[1], (1, 0, 2)), list(carry[1:])
