"""Heads: what a model predicts from its encoder, and greedy decoding for seq2seq models.

The builder (`keras_seq.build`) assembles these; the two layers here are the pieces Keras does
not have: pooling over real steps only, and the encoder-to-decoder state bridge.
"""

import keras
import numpy as np
from keras import ops

from keras_seq.data.vocabulary import BOS, EOS, TARGET_SPECIALS

BOS_ID = TARGET_SPECIALS.index(BOS)
EOS_ID = TARGET_SPECIALS.index(EOS)

# Loss and metrics a head uses when the spec's `training.loss` / `training.metrics` are unset.
DEFAULT_LOSS = {
    "classifier": "sparse_categorical_crossentropy",
    "tagger": "sparse_categorical_crossentropy",
    "seq2seq": "sparse_categorical_crossentropy",
    "forecaster": "mean_squared_error",
    "none": None,
}
DEFAULT_METRICS = {
    "classifier": ["accuracy"],
    "tagger": ["accuracy"],
    "seq2seq": ["accuracy"],
    "forecaster": ["mean_absolute_error"],
    "none": None,
}


@keras.saving.register_keras_serializable(package="keras_seq")
class SequencePooling(keras.layers.Layer):
    """Mean or max over the real steps of a sequence, padding excluded.

    mean: y = sum_t m_t x_t / max(1, sum_t m_t); max: y = max over {t : m_t = 1} of x_t
    (0 for a sequence with no real step), where m is the mask.

    Args:
        mode: str. `"mean"` or `"max"`.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor (batch, time, features).
        mask: optional boolean tensor (batch, time), True at real steps (passed on
            automatically from `Embedding(mask_zero=True)`, `Masking` or `keras_seq.Recurrent`).
            Without a mask every step counts.

    Examples:

    >>> import numpy as np, keras_seq
    >>> x = np.array([[[1.0], [3.0], [100.0]]], "float32")
    >>> mask = np.array([[True, True, False]])
    >>> keras_seq.heads.SequencePooling("mean")(x, mask=mask).tolist()
    [[2.0]]
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("mean", "max"):
            raise ValueError(f"`mode` must be 'mean' or 'max'. Received: mode={mode!r}")
        self.mode = mode
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")[:, :, None]
        if self.mode == "mean":
            weights = ops.cast(mask, inputs.dtype)
            count = ops.maximum(ops.sum(weights, axis=1), 1.0)
            return ops.sum(inputs * weights, axis=1) / count
        lowest = ops.full_like(inputs, -np.inf)
        pooled = ops.max(ops.where(mask, inputs, lowest), axis=1)
        return ops.where(ops.isfinite(pooled), pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


@keras.saving.register_keras_serializable(package="keras_seq")
class StateBridge(keras.layers.Layer):
    """Maps an encoder's final states to a seq2seq decoder's initial states.

    h_dec = P_h [h_fwd; h_bwd] and, for an LSTM decoder, c_dec = P_c [c_fwd; c_bwd]: the
    directions' final states are concatenated, and P is a learned linear projection
    (`Dense(units)`, with bias) when that width differs from the decoder's `units`, the identity
    otherwise. An LSTM decoder after a non-LSTM encoder starts from c = 0; a non-LSTM decoder
    after an LSTM encoder uses h only.

    Args:
        units: int. The decoder's hidden size.
        source_cell: str. The encoder's cell (`"simple"`, `"lstm"` or `"gru"`).
        target_cell: str. The decoder's cell.
        directions: int. 1, or 2 for a bidirectional encoder.
        kernel_initializer: initializer of the projections' kernels.
        bias_initializer: initializer of the projections' biases.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list of the encoder's final states as `keras_seq.Recurrent(return_state=True)`
            returns them: `[h]` or `[h, c]` per direction, forward first.

    Returns the list of decoder initial states, `[h]` or `[h, c]`.

    Examples:

    >>> import numpy as np, keras_seq
    >>> bridge = keras_seq.heads.StateBridge(6, "lstm", "gru", directions=2)
    >>> states = [np.ones((2, 4), "float32")] * 4  # h_fwd, c_fwd, h_bwd, c_bwd
    >>> [tuple(s.shape) for s in bridge(states)]
    [(2, 6)]
    """

    def __init__(
        self,
        units,
        source_cell,
        target_cell,
        directions=1,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.source_cell = source_cell
        self.target_cell = target_cell
        self.directions = directions
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._source_count = 2 if source_cell == "lstm" else 1
        self.projections = {}

    def _joined(self, states, index):
        parts = [states[d * self._source_count + index] for d in range(self.directions)]
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)

    def _kinds(self):
        both_lstm = self.source_cell == "lstm" and self.target_cell == "lstm"
        return ("h", "c") if both_lstm else ("h",)

    def build(self, input_shape):
        width = sum(input_shape[d * self._source_count][-1] for d in range(self.directions))
        if width == self.units:
            return
        for kind in self._kinds():
            projection = keras.layers.Dense(
                self.units,
                kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                bias_initializer=keras.initializers.serialize(self.bias_initializer),
                dtype=self.dtype_policy,
                name=f"{kind}_projection",
            )
            projection.build((input_shape[0][0], width))
            self.projections[kind] = projection

    def call(self, inputs):
        mapped = []
        for index, kind in enumerate(self._kinds()):
            joined = self._joined(inputs, index)
            projection = self.projections.get(kind)
            mapped.append(projection(joined) if projection is not None else joined)
        if self.target_cell == "lstm" and len(mapped) == 1:
            mapped.append(ops.zeros_like(mapped[0]))
        return mapped

    def compute_output_shape(self, input_shape):
        count = 2 if self.target_cell == "lstm" else 1
        return [(input_shape[0][0], self.units)] * count

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "source_cell": self.source_cell,
                "target_cell": self.target_cell,
                "directions": self.directions,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


def greedy_decode(model, source, max_length=None):
    """Generates output token ids with a seq2seq model built by `keras_seq.build`, greedily.

    The encoder reads `source` once; the decoder then runs one step at a time on the trained
    weights (its cells called directly): the first input is `<bos>` (id 2), each next input is
    the previous step's most probable token, and a sequence stops at `<eos>` (id 3).

    Args:
        model: a `keras.Model` from `keras_seq.build` with a `seq2seq` head.
        source: int array (batch, source_time): source token ids, 0-padded like the training data.
        max_length: int, optional. Most tokens generated per sequence, `<eos>` included;
            defaults to the model's decoder input length (`head.max_output_length`, else
            `input.max_length`), or twice the source length when that is unset.

    Returns:
        int32 NumPy array (batch, steps), steps <= `max_length`: the generated ids, each row
        ending with `<eos>` when it was produced within `max_length`, 0 (padding) after it.
        `Vocabulary.decode` turns a row back into tokens.

    Examples:

    >>> import numpy as np, keras_seq
    >>> model = keras_seq.build('''
    ... input: {kind: tokens, vocab_size: 10, embedding_dim: 4}
    ... encoder: {cell: gru, units: 8}
    ... head: {type: seq2seq, target_vocab_size: 7}
    ... ''')
    >>> ids = keras_seq.greedy_decode(model, np.array([[4, 5, 6]]), max_length=5)
    >>> ids.shape[0], ids.shape[1] <= 5
    (1, True)
    """
    try:
        bridge = model.get_layer("bridge")
    except ValueError:
        raise ValueError(
            "greedy_decode needs a model built by keras_seq.build from a spec with "
            "head.type: seq2seq"
        ) from None
    source = np.asarray(source)
    if max_length is None:
        max_length = model.inputs[1].shape[1] or 2 * source.shape[1]
    encoder = keras.Model(model.inputs[0], bridge.output)
    first_states = encoder(ops.convert_to_tensor(source), training=False)
    if not isinstance(first_states, (list, tuple)):
        first_states = [first_states]  # a one-output model returns a tensor, not a list
    embedding = model.get_layer("target_embedding")
    decoder = model.get_layer("decoder")
    output = model.get_layer("head")
    batch = source.shape[0]
    states = [list(first_states)] + [
        cells[0].get_initial_state(batch) for cells in decoder.cells[1:]
    ]
    token = np.full((batch,), BOS_ID, dtype="int32")
    done = np.zeros((batch,), dtype=bool)
    generated = []
    for _ in range(max_length):
        x = ops.take(embedding.embeddings, ops.convert_to_tensor(token), axis=0)
        for k, cells in enumerate(decoder.cells):
            x, states[k] = cells[0](x, states[k])
        token = np.argmax(ops.convert_to_numpy(output(x)), axis=-1).astype("int32")
        token = np.where(done, 0, token)
        generated.append(token)
        done |= token == EOS_ID
        if done.all():
            break
    return np.stack(generated, axis=1)
