"""Integrated gradients of a model's outputs through its input front (Sundararajan et al., 2017).

For an input whose front vector sequence is `e` (the word embeddings, joined to the character
encodings and word shapes where the spec has them, or a forecaster's features), a baseline
`b = 0` and a scalar output `F` (one tag's probability at one step, a label's probability,
one forecast value), the attribution of front value `e_i` is

    IG_i = (e_i - b_i) * integral_0^1 dF(b + a (e - b)) / de_i da
         ~ (e_i - b_i) * (1/m) sum_k dF(b + a_k (e - b)) / de_i,   a_k = (k + 1/2) / m,

the midpoint rule over `steps = m` points (its error falls as 1/m^2). Completeness:
`sum_i IG_i = F(e) - F(b)` up to that error. The padding mask still comes from the real
input (the token ids, the unmasked features), so only the front vectors move along the path:
the front layer's output is swapped for the path point while the model runs, so a model must
not be called from another thread during an explanation (`keras-seq serve` runs both on its
one model thread).
"""

import contextlib

import keras
import numpy as np

from keras_seq.backend.gradients import input_gradient

# The layers whose output is the front vector sequence, most joined first.
FRONT_LAYERS = ("words", "embedding", "masking")
# The parts a joined `words` vector is made of, in the order `keras_seq.tasks.inputs` joins them.
WORD_PARTS = (("tokens", "embedding"), ("chars", "char_encoder"), ("shapes", "shapes"))


def front_layer(model):
    """The layer whose output the attributions are taken through, or None: the model's input
    (features without `input.mask_value`)."""
    names = {layer.name for layer in model.layers}
    return next((model.get_layer(name) for name in FRONT_LAYERS if name in names), None)


def front_parts(model):
    """`[(part name, width)]`: how the front vector's last axis splits, in order.

    >>> import keras
    >>> inputs = keras.Input((3, 2))
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> front_parts(model)
    [('features', 2)]
    """
    front = front_layer(model)
    if front is None or front.name == "masking":
        return [("features", int(model.input.shape[-1]))]
    if front.name == "embedding":
        return [("tokens", int(front.output.shape[-1]))]
    names = {layer.name for layer in model.layers}
    parts = []
    for part, layer in WORD_PARTS:
        if part == "shapes" and isinstance(model.input, dict) and "shapes" in model.input:
            parts.append((part, int(model.input["shapes"].shape[-1])))
        elif layer in names:
            parts.append((part, int(model.get_layer(layer).output.shape[-1])))
    return parts


@contextlib.contextmanager
def _output_of(layer, tensor):
    """`layer` returns `tensor` whatever it is given (its mask is still computed from its real
    inputs), for the model calls inside the block."""
    layer.__dict__["call"] = lambda *args, **kwargs: tensor
    try:
        yield
    finally:
        del layer.__dict__["call"]


def _rows(x, count):
    """The model inputs `x` (one example) repeated `count` times along the batch axis."""
    return keras.tree.map_structure(lambda a: np.repeat(np.asarray(a), count, axis=0), x)


def integrated_gradients(model, x, weights, steps=64, batch_size=256):
    """Attributions of `sum(output * weights[j])` to the front vectors of one example.

    Args:
        model: a built Keras model whose front `front_layer` finds (or whose input is floats).
        x: the model's inputs for one example (batch axis of 1), as `Task.encode_inputs` gives.
        weights: array (targets, *output shape of one example): each row picks (or mixes)
            the outputs one attribution explains, e.g. a one-hot of (step, tag).
        steps: int. Points of the midpoint rule along the path.
        batch_size: int. Path points per model call.

    Returns:
        `(attributions, outputs, baseline_outputs)`: arrays (targets, time, front width),
        (targets,) and (targets,): `F(e)` and `F(0)` for each row of `weights`.
    """
    weights = np.asarray(weights, dtype="float32")
    targets = len(weights)
    front = front_layer(model)
    if front is None:
        vectors = np.asarray(x, dtype="float32")
    else:
        vectors = keras.ops.convert_to_numpy(keras.Model(model.input, front.output)(x))
    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps
    # Path points for every target, then F(e) and F(0) for every target.
    scale = np.concatenate([np.tile(alphas, targets), np.ones(targets), np.zeros(targets)])
    which = np.concatenate([np.repeat(np.arange(targets), steps), *[np.arange(targets)] * 2])
    values, grads = [], []
    for start in range(0, len(scale), batch_size):
        chunk = slice(start, start + batch_size)
        points = scale[chunk, None, None].astype("float32") * vectors
        row_weights = weights[which[chunk]]
        value, grad = _gradient(model, front, x, points, row_weights)
        values.append(value)
        grads.append(grad)
    values, grads = np.concatenate(values), np.concatenate(grads)
    path = grads[: targets * steps].reshape(targets, steps, *vectors.shape[1:]).mean(axis=1)
    return path * vectors, values[targets * steps : -targets], values[-targets:]


def _gradient(model, front, x, points, row_weights):
    """`(F per row, dF/dpoints)` for a batch of front vectors `points`."""
    axes = tuple(range(1, row_weights.ndim))
    weights = keras.ops.convert_to_tensor(row_weights)
    if front is None:

        def function(point):
            return keras.ops.sum(model(point, training=False) * weights, axis=axes)

    else:
        inputs = _rows(x, len(points))

        def function(point):
            with _output_of(front, point):
                outputs = model(inputs, training=False)
            return keras.ops.sum(outputs * weights, axis=axes)

    return input_gradient(function, points)
