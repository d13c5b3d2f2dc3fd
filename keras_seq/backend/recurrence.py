"""The cells' recurrence with a hand-written backward pass, in `keras.ops` (JAX and TensorFlow).

Autodiff of a scan forms the weight gradients inside its reverse loop: one small
(batch, units)^T (batch, gates) matmul per step. Fused kernels (cuDNN, oneDNN) instead
loop only over the per-step gate gradients and then form dW_hh with one large matmul over
all time * batch rows. `forward` and `backward` here do the same for the recurrent part
of the plugin's cells; the backend modules (`jax_rnn`, `tf_rnn`) attach `backward` to
`forward` as its gradient. The input projection x W_ih + b_ih stays outside, so autodiff
already forms dW_ih and dx as single matmuls over the whole sequence.

Arrays are time-major. Arguments of `forward`:
- `xp` (time, batch, G * units): the projected inputs, x W_ih + b_ih.
- `w` (units, G * units) = `recurrent_kernel`; `b` (G * units,) = `recurrent_bias` or None.
- `states`: tuple of the initial states, `(h,)` or `(h, c)` for an LSTM.
- `mask` (time, batch, 1) bool, or None: at masked steps the states pass through.
`forward` returns `(hs, finals)`: the carried h at every step (time, batch, units) and the
final states, exactly as `keras_seq.layers.recurrent._time_loop` computes them.

The forward pass keeps only what the backward pass needs: the gate activations, the
carried states and, for a GRU, h W_hn + b_hn. An unmasked LSTM keeps c but not h, which the
backward pass recomputes as o * tanh(c) (with a mask, h passes through masked steps and is
kept): on TensorFlow the tagger at batch 256, length 128 grew by 963 MB instead of 1,003.

The kept gate activations, and each gate's slice of `xp`, are scanned as arrays of their
own: XLA's CPU code for an elementwise step that reads slices of the step's slice of one
(time, batch, G * units) array runs 2-3x slower (JAX: a GRU's forward loop 3.9 vs 1.35 ms,
the reference tagger's predict 21.6 vs 12.4 ms, one LSTM backward loop 4.3 vs 3.1 ms;
TensorFlow: GRU classifier predict 5.5 vs 2.7 ms). The exception: TensorFlow's XLA runs an
LSTM step 0.93x as long with `xp` whole (one sum for the four gates, `lstm_whole`; measured
in one process each, on the `python -m benchmarks.worker` models).
"""

import keras
from keras import ops

INFERENCE_UNROLL = 2
_GATES = {"lstm": 4, "gru": 3}  # a simple RNN: 1


def over_steps(a, b):
    """The sum over time and batch of a_t^T b_t: (time, batch, m), (time, batch, n) -> (m, n)."""
    return ops.matmul(
        ops.transpose(ops.reshape(a, (-1, ops.shape(a)[-1]))),
        ops.reshape(b, (-1, ops.shape(b)[-1])),
    )


def _step(kind, xp_t, states, w, b):
    """One step; returns (new states, the per-step values the backward pass reads).

    `xp_t`: the step's projected inputs, one array per gate (an LSTM's may be one array).
    """
    h = states[0]
    hp = ops.matmul(h, w)
    if b is not None:
        hp = hp + b
    if kind == "lstm":
        if len(xp_t) == 1:  # one sum over all gates (TensorFlow: 0.93x the time, measured)
            i, f, g, o = ops.split(xp_t[0] + hp, 4, axis=-1)
        else:
            i, f, g, o = (x + y for x, y in zip(xp_t, ops.split(hp, 4, axis=-1)))
        i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
        c = f * states[1] + i * g
        h = o * ops.tanh(c)
        return (h, c), [i, f, g, o]
    if kind == "gru":
        x_r, x_z, x_n = xp_t
        h_r, h_z, h_n = ops.split(hp, 3, axis=-1)
        r = ops.sigmoid(x_r + h_r)
        z = ops.sigmoid(x_z + h_z)
        n = ops.tanh(x_n + r * h_n)
        h = (1.0 - z) * n + z * h
        return (h,), [r, z, n, h_n]
    pre = xp_t[0] + hp
    h = ops.tanh(pre) if kind == "tanh" else ops.relu(pre)
    return (h,), []


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


def forward(kind, xp, w, b, states, mask, reverse, project=None, keep=True, lstm_whole=False):
    """The recurrence over `xp`; returns `((hs, finals), residuals)` (see the module doc).

    `project`: None, or `(w_ih, b_ih)` (`b_ih` may be None): then `xp` holds the raw
    inputs and each step projects its own (XLA on CPU runs that faster, measured).
    `keep`: False for inference: nothing is kept for a backward pass (residuals None).
    `lstm_whole`: an LSTM's `xp` is scanned whole (its four gates summed at once), not a
    gate at a time (see the module doc).
    """
    states = tuple(states)
    count = len(states)
    gates = _GATES.get(kind, 1)
    split = gates > 1 and not (kind == "lstm" and lstm_whole)
    # Shapes and dtypes of the saved per-step values (every one is (batch, units)).
    blank = (ops.zeros_like(states[0]),) * (4 if kind in ("lstm", "gru") and keep else 0)

    def step(carry, inputs):
        old = carry[:count]
        xp_t = inputs[:-1] if mask is not None else inputs
        if project is not None:
            xp_t = ops.matmul(xp_t[0], project[0])
            xp_t = xp_t + project[1] if project[1] is not None else xp_t
            xp_t = ops.split(xp_t, gates, axis=-1) if split else [xp_t]
        new, saved = _step(kind, xp_t, old, w, b)
        if mask is not None:
            new = tuple(ops.where(inputs[-1], n, o) for n, o in zip(new, old))
        return tuple(new) + (tuple(saved) if keep else ())

    xs = tuple(ops.split(xp, gates, axis=-1)) if split and project is None else (xp,)
    xs += (mask,) if mask is not None else ()
    # Inference unrolls 2 steps per iteration: JAX predicts the reference tagger in
    # 0.93-0.99x the time of a rolled loop (4 steps: no faster; 8: 2-3 s more compile time
    # per input shape; training unrolled was slower; measured). Not over a symbolic length
    # (an export): the steps left over would be unknown.
    unroll = INFERENCE_UNROLL if not keep and isinstance(xp.shape[0], int) else 1
    finals, stacked = _scan(step, states + blank, xs, reverse, count, unroll=unroll)
    finals = finals[:count]
    residuals = None
    if keep:
        # An unmasked LSTM's h is o * tanh(c) at every step: the backward pass recomputes it.
        recomputed = kind == "lstm" and mask is None
        residuals = ((None, *stacked[1:]) if recomputed else stacked, states)
    return (stacked[0], finals), residuals


def _step_grad(kind, saved, h_prev, c_prev, dh, dc):
    """Gradients of one step: (d xp_t, d hp_t, d h_{t-1} apart from hp, d c_{t-1})."""
    if kind == "lstm":
        i, f, g, o, c = saved
        tanh_c = ops.tanh(c)
        dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
        d = ops.concatenate(
            [
                dc * g * i * (1.0 - i),
                dc * c_prev * f * (1.0 - f),
                dc * i * (1.0 - g * g),
                dh * tanh_c * o * (1.0 - o),
            ],
            axis=-1,
        )
        return d, d, None, dc * f
    if kind == "gru":
        r, z, n, h_n = saved
        dn = dh * (1.0 - z) * (1.0 - n * n)
        dr = dn * h_n * r * (1.0 - r)
        dz = dh * (h_prev - n) * z * (1.0 - z)
        dxp = ops.concatenate([dr, dz, dn], axis=-1)
        return dxp, ops.concatenate([dr, dz, dn * r], axis=-1), dh * z, None
    (h,) = saved
    d = dh * (1.0 - h * h) if kind == "tanh" else dh * ops.cast(h > 0, h.dtype)
    return d, d, None, None


def backward(kind, w, b, mask, reverse, residuals, d_hs, d_finals):
    """Gradients of `forward`'s outputs; returns (d xp, d w, d b, d states)."""
    stacked, states = residuals
    count = len(states)
    saved = stacked[count:]
    hs = stacked[0]
    if hs is None:  # an unmasked LSTM's: h = o * tanh(c)
        hs = saved[3] * ops.tanh(stacked[1])
    h_prev = _previous(hs, states[0], reverse)
    cs = stacked[1] if kind == "lstm" else None
    c_prev = _previous(cs, states[1], reverse) if kind == "lstm" else None
    if kind == "lstm":
        saved = (*saved, cs)
    elif kind != "gru":
        saved = (hs,)
    w_t = ops.transpose(w)

    def step(carry, inputs):
        inputs = list(inputs)
        saved_t = [inputs.pop(0) for _ in saved]
        h_prev_t, d_out_t = inputs.pop(0), inputs.pop(0)
        c_prev_t = inputs.pop(0) if kind == "lstm" else None
        mask_t = inputs.pop(0) if mask is not None else None
        dh = carry[0] + d_out_t
        dc = carry[1] if kind == "lstm" else None
        if mask_t is not None:
            dh_cell = ops.where(mask_t, dh, ops.zeros_like(dh))
            dc_cell = ops.where(mask_t, dc, ops.zeros_like(dc)) if dc is not None else None
        else:
            dh_cell, dc_cell = dh, dc
        dxp, dhp, dh_direct, dc_prev = _step_grad(
            kind, saved_t, h_prev_t, c_prev_t, dh_cell, dc_cell
        )
        dh_prev = ops.matmul(dhp, w_t)
        if dh_direct is not None:
            dh_prev = dh_prev + dh_direct
        new = [dh_prev] + ([dc_prev] if kind == "lstm" else [])
        if mask_t is not None:
            new = [ops.where(mask_t, n, o) for n, o in zip(new, [dh, dc][:count])]
        # Only a GRU's two gate gradients differ (d xp and d hp are one tensor otherwise).
        return tuple(new) + ((dxp, dhp) if kind == "gru" else (dxp,))

    gates_like = ops.zeros((ops.shape(hs)[1], ops.shape(w)[-1]), dtype=hs.dtype)
    init = tuple(d_finals) + (gates_like,) * (2 if kind == "gru" else 1)
    xs = list(saved) + [h_prev, d_hs] + ([c_prev] if kind == "lstm" else [])
    xs += [mask] if mask is not None else []
    d_first, per_step = _scan(step, init, tuple(xs), not reverse, count, count)
    dxp, dhp = per_step if kind == "gru" else (per_step[0], per_step[0])
    d_w = over_steps(h_prev, dhp)
    d_b = ops.sum(dhp, axis=(0, 1)) if b is not None else None
    return dxp, d_w, d_b, tuple(d_first[:count])
