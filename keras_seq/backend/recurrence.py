"""A cell's recurrence with a hand-written backward pass, in `keras.ops` (JAX and TensorFlow).

Autodiff of a scan forms the weight gradients inside its reverse loop: one small
(batch, units)^T (batch, gates) matmul per step. Fused kernels (cuDNN, oneDNN) instead
loop only over the per-step gate gradients and then form dW_hh with one large matmul over
all time * batch rows. `forward` and `backward` here do the same for any cell with a
`step_backward` (see `keras_seq.layers.cells`: the cell owns the step and its gradient, these
loops only run them); the backend modules (`jax_rnn`, `tf_rnn`) attach `backward` to
`forward` as its gradient. The input projection x W_ih + b_ih stays outside, so autodiff
already forms dW_ih and dx as single matmuls over the whole sequence.

Arrays are time-major. Arguments of `forward`:
- `cell`: the cell whose `step` runs (its declarations: `gate_count`, `saved_count`, ...).
- `xp` (time, batch, G * units): the projected inputs, x W_ih + b_ih.
- `w` (units, G * units) = `recurrent_kernel`; `b` (G * units,) = `recurrent_bias` or None.
- `states`: tuple of the initial states, `(h,)` or `(h, c)` for an LSTM.
- `mask` (time, batch, 1) bool, or None: at masked steps the states pass through.
`forward` returns `(hs, finals)`: the carried h at every step (time, batch, units) and the
final states, exactly as the generic scan (`keras_seq.backend.scan`) computes them.

The forward pass keeps only what the backward pass needs: the step's saved values, the
carried states; a cell with `hidden_from_saved` (an LSTM) keeps c but not h when unmasked,
and the backward pass recomputes h (with a mask, h passes through masked steps and is kept).
The saved values, and each gate's slice of `xp`, are scanned as arrays of their own: XLA's
CPU code runs an elementwise step that slices one wide array per step several times slower
(docs/speed.md); `whole` keeps `xp` in one array for cells that sum all gates at once.
"""

import keras
from keras import ops

INFERENCE_UNROLL = 2


def over_steps(a, b):
    """The sum over time and batch of a_t^T b_t: (time, batch, m), (time, batch, n) -> (m, n)."""
    return ops.matmul(
        ops.transpose(ops.reshape(a, (-1, ops.shape(a)[-1]))),
        ops.reshape(b, (-1, ops.shape(b)[-1])),
    )


def _scan(step, init, xs, reverse, carried=None, emit_from=0, unroll=1):
    """Runs `step` (carry, x) -> new carry; returns (final carry, stacked carries[emit_from:]).

    Only the first `carried` entries of the carry flow from step to step (the rest are
    per-step results); Keras' TensorFlow scan can only stack the whole carry, so there
    the whole carry flows. `unroll` steps per loop iteration (JAX only: on TensorFlow it
    would only set the loop's parallel iterations).
    """
    if keras.backend.backend() == "tensorflow":

        def body(carry, x):
            new = step(carry, x)
            return new, new

        final, stacked = ops.scan(body, init, xs, reverse=reverse)
        return final, stacked[emit_from:]
    carried = len(init) if carried is None else carried

    def body(carry, x):
        new = step(carry, x)
        return new[:carried], new[emit_from:]

    return ops.scan(body, init[:carried], xs, reverse=reverse, unroll=unroll)


def _previous(sequence, first, reverse):
    """The value each step starts from: `first`, then the sequence shifted by one step."""
    if reverse:
        return ops.concatenate([sequence[1:], first[None]], axis=0)
    return ops.concatenate([first[None], sequence[:-1]], axis=0)


def forward(cell, xp, w, b, states, mask, reverse, project=None, keep=True, whole=False):
    """The recurrence over `xp`; returns `((hs, finals), residuals)` (see the module doc).

    `project`: None, or `(w_ih, b_ih)` (`b_ih` may be None): then `xp` holds the raw
    inputs and each step projects its own (XLA on CPU runs that faster, docs/speed.md).
    `keep`: False for inference: nothing is kept for a backward pass (residuals None).
    `whole`: a cell that `sums_gates_at_once` gets `xp` scanned whole, not a gate at a time.
    """
    states = tuple(states)
    count = len(states)
    gates = cell.gate_count
    split = gates > 1 and not (whole and cell.sums_gates_at_once)
    # Shapes and dtypes of the saved per-step values (every one is (batch, units)).
    blank = (ops.zeros_like(states[0]),) * (cell.saved_count if keep else 0)
    params = (w, b)

    def step(carry, inputs):
        old = carry[:count]
        xp_t = inputs[:-1] if mask is not None else inputs
        if project is not None:
            xp_t = ops.matmul(xp_t[0], project[0])
            xp_t = xp_t + project[1] if project[1] is not None else xp_t
            xp_t = ops.split(xp_t, gates, axis=-1) if split else [xp_t]
        new, saved = cell.step(params, list(xp_t), old)
        if mask is not None:
            new = tuple(ops.where(inputs[-1], n, o) for n, o in zip(new, old))
        return tuple(new) + (tuple(saved) if keep else ())

    xs = tuple(ops.split(xp, gates, axis=-1)) if split and project is None else (xp,)
    xs += (mask,) if mask is not None else ()
    # Inference unrolls 2 steps per iteration (docs/speed.md); not over a symbolic length
    # (an export): the steps left over would be unknown.
    unroll = INFERENCE_UNROLL if not keep and isinstance(xp.shape[0], int) else 1
    finals, stacked = _scan(step, states + blank, xs, reverse, count, unroll=unroll)
    finals = finals[:count]
    residuals = None
    if keep:
        # A cell that recomputes h from its saved values does not keep it unmasked.
        recomputed = hasattr(cell, "hidden_from_saved") and mask is None
        residuals = ((None, *stacked[1:]) if recomputed else stacked, states)
    return (stacked[0], finals), residuals


def backward(cell, w, b, mask, reverse, residuals, d_hs, d_finals):
    """Gradients of `forward`'s outputs; returns (d xp, d w, d b, d states).

    Per step (in reverse), `cell.step_backward` turns d(new states) into d xp_t, d hp_t and
    d(old states) apart from hp; then d h_{t-1} += d hp_t W^T. Afterwards dW = sum of
    h_{t-1}^T d hp_t over all steps, one matmul.
    """
    stacked, states = residuals
    count = len(states)
    saved = list(stacked[count:])
    news = list(stacked[:count])
    if news[0] is None:
        news[0] = cell.hidden_from_saved(saved, news)
    olds = [_previous(s, first, reverse) for s, first in zip(news, states)]
    two = cell.gradients_differ
    w_t = ops.transpose(w)

    def step(carry, inputs):
        inputs = list(inputs)
        saved_t = [inputs.pop(0) for _ in saved]
        old_t = [inputs.pop(0) for _ in olds]
        new_t = [inputs.pop(0) for _ in news]
        d_out_t = inputs.pop(0)
        mask_t = inputs.pop(0) if mask is not None else None
        d_new = [carry[0] + d_out_t, *carry[1:count]]
        d_cell = d_new
        if mask_t is not None:
            d_cell = [ops.where(mask_t, d, ops.zeros_like(d)) for d in d_new]
        dxp, dhp, direct = cell.step_backward(saved_t, old_t, new_t, d_cell)
        dh_prev = ops.matmul(dhp, w_t)
        if direct[0] is not None:
            dh_prev = dh_prev + direct[0]
        new = [dh_prev, *direct[1:]]
        if mask_t is not None:
            new = [ops.where(mask_t, n, o) for n, o in zip(new, d_new)]
        # d xp and d hp are one tensor unless the cell's `gradients_differ`.
        return tuple(new) + ((dxp, dhp) if two else (dxp,))

    gates_like = ops.zeros((ops.shape(news[0])[1], ops.shape(w)[-1]), dtype=news[0].dtype)
    init = tuple(d_finals) + (gates_like,) * (2 if two else 1)
    xs = saved + olds + news + [d_hs] + ([mask] if mask is not None else [])
    d_first, per_step = _scan(step, init, tuple(xs), not reverse, count, count)
    dxp, dhp = per_step if two else (per_step[0], per_step[0])
    d_w = over_steps(olds[0], dhp)
    d_b = ops.sum(dhp, axis=(0, 1)) if b is not None else None
    return dxp, d_w, d_b, tuple(d_first[:count])
