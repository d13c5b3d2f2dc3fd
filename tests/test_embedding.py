"""TokenEmbedding trains like a dense lookup (as on JAX and PyTorch) on every backend."""

import keras
import numpy as np

import keras_seq


def numpy_adam_step(table, gradient, learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = (1 - beta_1) * gradient
    v = (1 - beta_2) * gradient**2
    alpha = learning_rate * np.sqrt(1 - beta_2) / (1 - beta_1)
    return table - alpha * m / (np.sqrt(v) + epsilon)


def test_adam_step_equals_dense_reference_with_repeated_ids():
    table = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    ids = np.array([[2, 2, 4, 0]])  # a repeated id, an absent id (1), padding (0)
    layer = keras_seq.TokenEmbedding(6, 3, weights=[table])
    model = keras.Sequential([keras.Input((4,), dtype="int32"), layer])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    target = np.zeros((1, 4, 3), "float32")
    model.train_on_batch(ids, target)
    # d(mean squared error)/d(table): every occurrence of an id adds its row's error.
    gradient = np.zeros_like(table)
    for token in ids[0]:
        gradient[token] += 2 * table[token] / target.size
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer.embeddings),
        numpy_adam_step(table, gradient),
        rtol=1e-5,
        atol=1e-6,
    )


def test_lookup_and_mask_match_keras_embedding():
    table = np.arange(12, dtype="float32").reshape(4, 3)
    ours = keras_seq.TokenEmbedding(4, 3, mask_zero=True, weights=[table])
    theirs = keras.layers.Embedding(4, 3, mask_zero=True, weights=[table])
    ids = np.array([[1, 3, 0]])
    to_numpy = keras.ops.convert_to_numpy
    np.testing.assert_array_equal(to_numpy(ours(ids)), to_numpy(theirs(ids)))
    np.testing.assert_array_equal(to_numpy(ours.compute_mask(ids)), [[True, True, False]])
    restored = keras_seq.TokenEmbedding.from_config(ours.get_config())
    assert restored.get_config() == ours.get_config()
