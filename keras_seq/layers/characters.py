"""`CharacterEncoder`: one vector per word from its characters (recurrent or convolutional)."""

import keras
from keras import ops

from keras_seq.layers.embedding import TokenEmbedding
from keras_seq.layers.pooling import SequencePooling
from keras_seq.layers.recurrent import Recurrent

_ENCODERS = ("rnn", "cnn")


@keras.saving.register_keras_serializable(package="keras_seq")
class CharacterEncoder(keras.layers.Layer):
    """Encodes each word of a sentence from its characters into one vector.

    With x_{w,c} the id of character c of word w (0 = padding), m_{w,c} = [x_{w,c} != 0]
    and e_{w,c} = E[x_{w,c}] the character embeddings:

    - `encoder="rnn"`: h_w = [fwd_w ; bwd_w], the final hidden states of a bidirectional
      `keras_seq.Recurrent` over the real characters of word w (fwd_w after its last real
      character, bwd_w after reading back to its first); size 2 * `units`.
    - `encoder="cnn"`: u_{w,c} = tanh(sum_k W_k e'_{w,c+k-o} + b), a 1-D convolution of width
      `kernel_size` (o = (kernel_size - 1) // 2, zeros beyond the word) over e' = m * e, then
      h_w = max over {c : m_{w,c} = 1} of u_{w,c}; size `units`.

    y_w = h_w, and y_w = 0 for a word with no real character (a padded word).

    Masking: padding is masked at both levels. A padded character changes nothing (pre- or
    post-padding: a word gets the same vector whatever the padding around it), and a fully
    padded word gives zeros. The output mask is True for words with at least one real
    character, so after `keras.layers.Concatenate` with word embeddings (`mask_zero=True`)
    the sentence mask is kept.

    Args:
        vocab_size: int. Number of character ids, padding (0) and unknown (1) included.
        embedding_dim: int. Size of each character's embedding.
        units: int. rnn: hidden size per direction; cnn: number of filters.
        encoder: str. `"rnn"` (bidirectional recurrent) or `"cnn"` (convolution + max pool).
        cell: str. rnn only: `"simple"`, `"lstm"` or `"gru"`.
        kernel_size: int. cnn only: convolution width in characters.
        embeddings_initializer: initializer of the character embedding table.
        kernel_initializer: initializer of the recurrent cells' or the convolution's kernel.
        recurrent_initializer: rnn only: initializer of the cells' `recurrent_kernel`.
        bias_initializer: initializer of the biases.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: int tensor (batch, words, chars) of character ids, 0 = padding.

    Returns a tensor (batch, words, out), out = 2 * `units` (rnn) or `units` (cnn).

    Examples:

    >>> import keras, numpy as np, keras_seq
    >>> chars = np.array([[[3, 4, 5], [6, 0, 0], [0, 0, 0]]])  # "abc", "d", a padded word
    >>> layer = keras_seq.layers.CharacterEncoder(10, 4, units=5, encoder="rnn")
    >>> words = layer(chars)
    >>> tuple(words.shape)
    (1, 3, 10)
    >>> keras.ops.convert_to_numpy(words)[0, 2].tolist() == [0.0] * 10
    True
    >>> tuple(keras_seq.layers.CharacterEncoder(10, 4, units=5, encoder="cnn")(chars).shape)
    (1, 3, 5)
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        encoder="rnn",
        cell="lstm",
        kernel_size=3,
        embeddings_initializer="uniform",
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if encoder not in _ENCODERS:
            raise ValueError(f"`encoder` must be one of {_ENCODERS}. Received: encoder={encoder!r}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.encoder = encoder
        self.cell = cell
        self.kernel_size = kernel_size
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

        self.embedding = TokenEmbedding(
            vocab_size,
            embedding_dim,
            embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy,
            name="char_embedding",
        )
        if encoder == "rnn":
            self.network = Recurrent(
                cell,
                units,
                direction="bidirectional",
                return_sequences=False,
                kernel_initializer=self.kernel_initializer,
                recurrent_initializer=self.recurrent_initializer,
                bias_initializer=self.bias_initializer,
                dtype=self.dtype_policy,
                name="char_rnn",
            )
        else:
            self.network = keras.layers.Conv1D(
                units,
                kernel_size,
                padding="same",
                activation="tanh",
                kernel_initializer=self.kernel_initializer,
                bias_initializer=self.bias_initializer,
                dtype=self.dtype_policy,
                name="char_conv",
            )
            self.pooling = SequencePooling("max", dtype=self.dtype_policy, name="char_pool")

    @property
    def output_size(self):
        """Size of each word's vector: 2 * `units` (rnn) or `units` (cnn)."""
        return 2 * self.units if self.encoder == "rnn" else self.units

    def build(self, input_shape):
        chars = input_shape[-1]
        self.embedding.build((None, chars))
        self.network.build((None, chars, self.embedding_dim))
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        shape = ops.shape(inputs)
        ids = ops.reshape(inputs, (-1, shape[-1]))  # one row per word
        char_mask = ops.not_equal(ids, 0)
        word_mask = ops.any(char_mask, axis=-1)
        embedded = self.embedding(ids)
        if self.encoder == "rnn":
            # An empty word reads its first (padding) character, so every row has a real
            # prefix (PyTorch's fused kernels need one); its output is zeroed below.
            first = ops.arange(ops.shape(ids)[1]) == 0
            rnn_mask = ops.logical_or(char_mask, ops.logical_not(word_mask)[:, None] & first)
            words = self.network(embedded, mask=rnn_mask)
        else:
            embedded = embedded * ops.cast(char_mask, embedded.dtype)[:, :, None]
            words = self.pooling(self.network(embedded), mask=char_mask)
        words = words * ops.cast(word_mask, words.dtype)[:, None]
        return ops.reshape(words, (shape[0], shape[1], self.output_size))

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, 0), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.output_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "encoder": self.encoder,
                "cell": self.cell,
                "kernel_size": self.kernel_size,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
