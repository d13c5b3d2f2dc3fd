"""The model's input front: token ids embedded (padding masked), or float features per step.

Every task reads its sequence through `front`, so an input feature added here reaches every
task. Token inputs may add two features, each with its data side here too:

- `input.chars`: a second model input `chars` (batch, words, characters) whose words a
  `CharacterEncoder` turns into vectors joined to the word embeddings. The character
  vocabulary is learned from the training split (`learn_inputs`) and saved with the task;
  `input_arrays` encodes the characters beside the word ids.
- `input.vectors`: the word embedding starts from a pretrained vectors file (`load_vectors`);
  words of the data files that have a vector join the vocabulary (`learn_inputs`).
- `input.shape_features`: a model input `shapes` (batch, words, features) of binary word
  shapes (`keras_seq.data.shapes`), computed from the raw tokens by `input_arrays` and joined
  to the word vectors; nothing is learned.
"""

import keras

from keras_seq.data import (
    Vocabulary,
    build_char_vocabulary,
    embedding_matrix,
    encode_characters,
    extend_vocabulary,
    read_vectors,
)
from keras_seq.data.shapes import SHAPE_FEATURES, encode_shapes
from keras_seq.layers import CharacterEncoder, MaskedConcatenate, TokenEmbedding, WordDropout
from keras_seq.spec import Problem, SpecError
from keras_seq.tasks.blocks import initializer


def front(spec, name="tokens"):
    """`(model inputs, embedded sequence)`; the sequence carries the padding mask.

    The inputs are one tensor, or with `input.chars` or `input.shape_features` the dict
    `{"tokens": word ids, "chars": character ids, "shapes": word shapes}` (those enabled); the
    sequence is then each word's embedding joined to its character encoding and its shapes.
    With `input.dropout` the sequence goes through a `keras.layers.Dropout` (training only), as
    Lample et al. (2016) drop the joined word and character vectors.
    """
    inputs, sequence = _front(spec, name)
    if spec.input.dropout:
        dropout = keras.layers.Dropout(spec.input.dropout, seed=spec.seed, name="input_dropout")
        sequence = dropout(sequence)
    return inputs, sequence


def _front(spec, name):
    spec_input = spec.input
    if spec_input.kind == "tokens":
        tokens = keras.Input((spec_input.max_length,), dtype="int32", name=name)
        vectors = spec_input.vectors
        embedding = TokenEmbedding(
            spec_input.vocab_size,
            spec_input.embedding_dim,
            embeddings_initializer=initializer("random_uniform", "embedding"),
            mask_zero=True,
            trainable=vectors is None or vectors.trainable,
            name="embedding",
        )
        ids = tokens
        if spec_input.word_dropout > 0:
            ids = WordDropout(spec_input.word_dropout, seed=spec.seed, name="word_dropout")(ids)
        inputs, parts = {"tokens": tokens}, [embedding(ids)]
        if spec_input.chars is not None:
            char_ids = keras.Input((spec_input.max_length, None), dtype="int32", name="chars")
            inputs["chars"] = char_ids
            parts.append(_char_encoder(spec_input.chars)(char_ids))
        if spec_input.shape_features:
            shape = (spec_input.max_length, len(SHAPE_FEATURES))
            inputs["shapes"] = keras.Input(shape, name="shapes")
            parts.append(inputs["shapes"])
        if len(parts) == 1:
            return tokens, parts[0]
        return inputs, MaskedConcatenate(name="words")(parts)
    features = keras.Input((spec_input.max_length, spec_input.dim), name="features")
    if spec_input.mask_value is None:
        return features, features
    return features, keras.layers.Masking(spec_input.mask_value, name="masking")(features)


def _char_encoder(chars):
    return CharacterEncoder(
        chars.char_vocab_size,
        chars.embedding_dim,
        chars.units,
        encoder=chars.encoder,
        cell=chars.cell or "lstm",
        kernel_size=chars.kernel_size or 3,
        embeddings_initializer=initializer("random_uniform", "char_encoder/embedding"),
        kernel_initializer=initializer("glorot_uniform", "char_encoder/kernel"),
        recurrent_initializer=initializer("orthogonal", "char_encoder/recurrent"),
        bias_initializer=initializer("zeros", "char_encoder/bias"),
        name="char_encoder",
    )


def learn_inputs(spec, sentences, data_sentences=()):
    """What the token front learns from the training split: `(state, vectors)`.

    state: `{"vocab": word Vocabulary}`, plus `"chars"` (the character vocabulary) with
    `input.chars`. vectors: with `input.vectors`, the pretrained vectors of the words of
    `sentences` and `data_sentences` (the other data files), which join the vocabulary (up to an
    integer `input.vocab_size`); else None.
    """
    spec_input = spec.input
    vocab_size = spec_input.vocab_size
    max_size = None if vocab_size == "auto" else vocab_size
    vocab = Vocabulary.build(
        sentences,
        min_frequency=spec_input.min_frequency,
        max_size=max_size,
        lowercase=spec_input.lowercase,
    )
    vectors = None
    if spec_input.vectors is not None:
        every = [*sentences, *data_sentences]
        words = {w.lower() if vocab.lowercase else w for tokens in every for w in tokens}
        vectors = read_vectors(
            spec_input.vectors.path, spec_input.embedding_dim, words, vocab.lowercase
        )
        vocab = extend_vocabulary(vocab, every, vectors, max_size)
    state = {"vocab": vocab}
    chars = spec_input.chars
    if chars is not None:
        size = chars.char_vocab_size
        state["chars"] = build_char_vocabulary(sentences, max_size=None if size == "auto" else size)
    return state, vectors


def input_arrays(spec, state, sentences, ids, stats):
    """The model's input for token lists already encoded as word `ids`.

    Without `input.chars` and `input.shape_features`, `ids` itself; else `{"tokens": ids,
    "chars": (n, words, characters) ids, "shapes": (n, words, features) word shapes}` (those
    enabled). Words cut at `max_word_length` are added to `stats.cut_words` (an
    `EncodeStats`, whose `warn` reports them: the one place that says so).
    """
    arrays = {"tokens": ids}
    chars = spec.input.chars
    if chars is not None:
        encoded = encode_characters(sentences, state["chars"], ids.shape[1], chars.max_word_length)
        stats.cut_words += encoded.cut
        arrays["chars"] = encoded.ids
    if spec.input.shape_features:
        arrays["shapes"] = encode_shapes(sentences, ids.shape[1])
    return ids if len(arrays) == 1 else arrays


def load_vectors(model, spec, vocab, vectors=None):
    """Puts the pretrained vectors into the `embedding` layer of a freshly built `model`.

    `vectors` as `learn_inputs` returned them, or None to read `input.vectors.path` again (for
    the words of `vocab`). Rows of words without a vector keep their random start.
    """
    source = spec.input.vectors.path
    if vocab is None:
        raise SpecError(
            [
                Problem(
                    "input.vectors",
                    "pretrained vectors need the vocabulary learned from the training data",
                    allowed="a data section with a train file (or keras-seq train --train FILE)",
                )
            ]
        )
    if vectors is None:
        words = set(vocab.tokens)
        vectors = read_vectors(source, spec.input.embedding_dim, words, vocab.lowercase)
    layer = model.get_layer("embedding")
    matrix, _ = embedding_matrix(layer.get_weights()[0], vocab, vectors, source)
    layer.set_weights([matrix])
