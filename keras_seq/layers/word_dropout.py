"""`WordDropout`: whole words replaced by the out-of-vocabulary id while training."""

import keras
from keras import ops

from keras_seq.api import keras_seq_export


@keras_seq_export("keras_seq.layers.WordDropout")
class WordDropout(keras.layers.Layer):
    """Replaces each real word id by `unknown_id` with probability `rate`, in training only.

    ids'[t] = unknown_id  if ids[t] != 0 and u[t] < rate  (u[t] ~ Uniform[0, 1)),
    ids'[t] = ids[t]      otherwise.

    Padding (id 0) is never replaced, so the padding mask the embedding derives is unchanged.
    A model trained this way sees out-of-vocabulary words in training as it will at test time,
    and learns to tag them from their context and characters. At inference the ids pass
    through unchanged.

    Args:
        rate: float in [0, 1). Probability of replacing each word.
        unknown_id: int. The id words are replaced by (`Vocabulary`'s `<unk>` is 1).
        seed: int or None. Seed of the random draws.

    Call arguments:
        inputs: integer ids, any shape.
        training: bool. Replace words only when True.

    Examples:

    >>> import numpy as np, keras_seq
    >>> layer = keras_seq.layers.WordDropout(0.5, seed=1)
    >>> ids = np.array([[5, 6, 7, 8, 0, 0]])
    >>> np.asarray(layer(ids)).tolist()  # inference: unchanged
    [[5, 6, 7, 8, 0, 0]]
    >>> dropped = np.asarray(layer(ids, training=True))
    >>> bool(np.all(np.isin(dropped[0, :4], [1, 5, 6, 7, 8]))), dropped[0, 4:].tolist()
    (True, [0, 0])
    """

    def __init__(self, rate, unknown_id=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be in [0, 1). Received: rate={rate}")
        self.rate = rate
        self.unknown_id = unknown_id
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        draws = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator)
        replace = ops.logical_and(ops.not_equal(inputs, 0), draws < self.rate)
        return ops.where(replace, ops.cast(self.unknown_id, inputs.dtype), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "unknown_id": self.unknown_id, "seed": self.seed})
        return config
