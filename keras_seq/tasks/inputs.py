"""The model's input front: token ids embedded (padding masked), or float features per step.

Every task reads its sequence through `front`, so an input feature (characters, pretrained
vectors) added here reaches every task.
"""

import keras

from keras_seq.layers import TokenEmbedding
from keras_seq.tasks.blocks import initializer


def front(spec, name="tokens"):
    """`(model input, embedded sequence)`; the sequence carries the padding mask."""
    spec_input = spec.input
    if spec_input.kind == "tokens":
        tokens = keras.Input((spec_input.max_length,), dtype="int32", name=name)
        embedding = TokenEmbedding(
            spec_input.vocab_size,
            spec_input.embedding_dim,
            embeddings_initializer=initializer("random_uniform", "embedding"),
            mask_zero=True,
            name="embedding",
        )
        return tokens, embedding(tokens)
    features = keras.Input((spec_input.max_length, spec_input.dim), name="features")
    if spec_input.mask_value is None:
        return features, features
    return features, keras.layers.Masking(spec_input.mask_value, name="masking")(features)
