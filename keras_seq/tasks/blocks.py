"""Building blocks every task's model uses: precision, initializers, the encoder, dense heads."""

import contextlib

import keras

from keras_seq.initializers import portable
from keras_seq.layers import Recurrent


@contextlib.contextmanager
def precision(name):
    """Layers created inside take the dtype policy `name` (`training.precision`).

    Each layer records its policy in its config, so the saved model carries it and loads in
    the same precision; Keras' global policy is restored on the way out.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def initializer(identifier, key):
    """Every initializer a task creates comes from here (one place to change policy).

    `keras_seq.initializers.portable` draws with NumPy, so a seeded spec starts from the same
    weights on every backend. The seed is left unset: each instance draws its own seed from
    Python's `random`, which `keras.utils.set_random_seed(spec.seed)` fixes, so a seeded build
    repeats exactly and two weights of the same role still differ.
    """
    return portable(identifier, seed=None, key=key)


def recurrent(spec, stack, name, **options):
    """A `keras_seq.Recurrent` for a stack section (`spec.encoder`, or a decoder)."""
    encoder = spec.encoder
    layers = stack.layers
    if isinstance(layers, tuple):  # per-layer overrides
        units, layers = [layer.units or stack.units for layer in layers], 1
    else:
        units = stack.units
    cell = stack.cell
    return Recurrent(
        cell,
        units,
        layers=layers,
        direction=getattr(stack, "direction", None) or "forward",
        merge=getattr(stack, "merge", None) or "concat",
        dropout=encoder.dropout,
        recurrent_dropout=encoder.recurrent_dropout or 0.0,  # unset: the cell has no h feedback
        activation=(encoder.activation or "tanh") if cell == "simple" else "tanh",
        kernel_initializer=initializer(encoder.initializers.kernel, f"{name}/kernel"),
        recurrent_initializer=initializer(encoder.initializers.recurrent, f"{name}/recurrent"),
        bias_initializer=initializer(encoder.initializers.bias, f"{name}/bias"),
        unit_forget_bias=encoder.unit_forget_bias is not False,
        reset_after=encoder.reset_after is not False,
        use_bias=encoder.use_bias,
        seed=spec.seed,
        name=name,
        **options,
    )


def dense(units, activation=None, name="head"):
    """An output layer: float32 under any precision (Keras' advice for mixed precision), so
    the softmax, the loss and a CRF on top see float32 values."""
    return keras.layers.Dense(
        units,
        activation=activation,
        dtype="float32",
        kernel_initializer=initializer("glorot_uniform", f"{name}/kernel"),
        bias_initializer=initializer("zeros", f"{name}/bias"),
        name=name,
    )


def head_dropout(spec, x):
    if not spec.head.dropout:
        return x
    return keras.layers.Dropout(spec.head.dropout, seed=spec.seed, name="head_dropout")(x)
