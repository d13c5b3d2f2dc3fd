"""`Attention`: Luong ("general") or Bahdanau (additive) attention over a masked sequence."""

import keras
from keras import ops

_SCORES = ("luong", "bahdanau")


@keras.saving.register_keras_serializable(package="keras_seq")
class Attention(keras.layers.Layer):
    """Attention of queries (decoder states) over values (an encoder's per-step outputs).

    For query q_t (width dq) and values s_1..s_J (width dv) with mask m_j (1 at real steps):

        luong (multiplicative, "general"):  e_tj = q_t^T W s_j                W (dq, dv)
        bahdanau (additive):                e_tj = v^T tanh(W_q q_t + W_s s_j)
                                            W_q (dq, units), W_s (dv, units), v (units,)
        a_tj = m_j exp(e_tj) / sum_k m_k exp(e_tk)
        c_t  = sum_j a_tj s_j
        o_t  = tanh(W_c [c_t; q_t])        only with `output_units`; W_c (dv + dq, output_units)

    A masked step gets exactly zero weight; a query whose values are all masked gets all-zero
    weights and a zero context. The scores are shifted by their maximum over the real steps
    before `exp`, so large scores do not overflow. The weights are computed in float32 under
    any dtype policy (e.g. `"mixed_bfloat16"`) and returned in float32. With `output_units`
    the layer returns Luong's attentional state o_t (the context joined with the query it
    answers) instead of c_t.

    Args:
        score: str. `"luong"` (Luong et al. 2015, "general" score) or `"bahdanau"` (Bahdanau
            et al. 2015, additive score).
        units: int. Width of the additive score's hidden layer; `"bahdanau"` only (None there
            means the query's width).
        output_units: int, optional. Return o_t of this width instead of the context.
        kernel_initializer: initializer of the weights (`kernel` for luong; `query_kernel`,
            `value_kernel`, `score_kernel` for bahdanau; `output_kernel` with `output_units`).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[query, values]`: query (batch, query_time, dq), or (batch, dq) for a
            single step; values (batch, value_time, dv).
        mask: optional list `[query_mask, values_mask]` of boolean tensors (or None), True at
            real steps; passed automatically from `Embedding(mask_zero=True)`, `Masking` or
            `keras_seq.Recurrent`. Padding of the values gets zero weight; the query's mask
            only passes on to the output.
        return_attention_scores: bool. Also return the weights a (batch, query_time,
            value_time), or (batch, value_time) for a single-step query.

    Returns the context c, (batch, query_time, dv), or o (batch, query_time, output_units)
    with `output_units`; without the time axis for a single-step query. Its mask is the
    query's.

    Examples:

    >>> import keras, numpy as np, keras_seq
    >>> attention = keras_seq.layers.Attention("luong")
    >>> query = np.ones((1, 2, 3), "float32")
    >>> values = np.arange(12, dtype="float32").reshape(1, 4, 3)
    >>> context, weights = attention(
    ...     [query, values], mask=[None, np.array([[True, True, False, False]])],
    ...     return_attention_scores=True)
    >>> tuple(context.shape), keras.ops.convert_to_numpy(weights)[0, :, 2:].tolist()
    ((1, 2, 3), [[0.0, 0.0], [0.0, 0.0]])
    """

    def __init__(
        self,
        score="luong",
        units=None,
        output_units=None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if score not in _SCORES:
            raise ValueError(f"`score` must be one of {_SCORES}. Received: score={score!r}")
        if units is not None:
            if score != "bahdanau":
                raise ValueError(f"`units` applies only to score='bahdanau'. Received: {units=}")
        for name, value in (("units", units), ("output_units", output_units)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
        self.score = score
        self.units = units
        self.output_units = output_units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def _weight(self, shape, name):
        # Serialized: an unseeded initializer instance would give every weight the same draw.
        initializer = keras.initializers.get(keras.initializers.serialize(self.kernel_initializer))
        return self.add_weight(shape=shape, initializer=initializer, name=name)

    def build(self, input_shape):
        query_width, value_width = input_shape[0][-1], input_shape[1][-1]
        if self.score == "luong":
            self.kernel = self._weight((query_width, value_width), "kernel")
        else:
            units = self.units or query_width
            self.query_kernel = self._weight((query_width, units), "query_kernel")
            self.value_kernel = self._weight((value_width, units), "value_kernel")
            self.score_kernel = self._weight((units,), "score_kernel")
        if self.output_units is not None:
            self.output_kernel = self._weight(
                (value_width + query_width, self.output_units), "output_kernel"
            )

    def _scores(self, query, values):
        """e (batch, query_time, value_time)."""
        if self.score == "luong":
            keys = ops.matmul(values, ops.transpose(self.kernel))  # (batch, value_time, dq)
            return ops.matmul(query, ops.transpose(keys, (0, 2, 1)))
        hidden = ops.tanh(
            ops.matmul(query, self.query_kernel)[:, :, None, :]
            + ops.matmul(values, self.value_kernel)[:, None, :, :]
        )
        return ops.sum(hidden * self.score_kernel, axis=-1)

    def call(self, inputs, mask=None, return_attention_scores=False):
        query, values = inputs
        single_step = len(query.shape) == 2
        if single_step:
            query = query[:, None, :]
        # The softmax runs in float32 under any precision (bfloat16 sums lose the small weights).
        scores = ops.cast(self._scores(query, values), "float32")
        values_mask = mask[1] if mask is not None else None
        if values_mask is None:
            values_mask = ops.ones(ops.shape(values)[:2], dtype="bool")
        real = ops.cast(values_mask, "bool")[:, None, :]
        # Shift by the largest real score (the row's smallest score when none is real): every
        # exponent is then <= 0 at real steps, and masked steps are set to 0 before `exp`.
        lowest = ops.min(scores, axis=-1, keepdims=True)
        shift = ops.stop_gradient(ops.max(ops.where(real, scores, lowest), axis=-1, keepdims=True))
        exponentials = ops.where(real, ops.exp(ops.where(real, scores, shift) - shift), 0.0)
        total = ops.sum(exponentials, axis=-1, keepdims=True)
        weights = exponentials / ops.where(total > 0, total, ops.ones_like(total))
        output = ops.matmul(ops.cast(weights, values.dtype), values)
        if self.output_units is not None:
            output = ops.tanh(ops.matmul(ops.concatenate([output, query], -1), self.output_kernel))
        if single_step:
            output, weights = output[:, 0], weights[:, 0]
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        return mask[0] if mask is not None else None

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = input_shape
        return (*query_shape[:-1], self.output_units or value_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score": self.score,
                "units": self.units,
                "output_units": self.output_units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
