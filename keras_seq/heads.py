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
