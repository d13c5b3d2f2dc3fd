"""Initializers that give bit-identical weights on every Keras backend.

Keras' own random initializers draw from the backend's random generator, so the same seed gives
different weights on TensorFlow, JAX and PyTorch. `Portable` draws the same distributions with
NumPy and hands the backend finished numbers, so a seeded model starts from the same point
everywhere.
"""

import collections.abc
import inspect
import math
import random
import re
import zlib

import keras
import numpy as np

from keras_seq.api import keras_seq_export

# Keras divides the truncated normal's standard deviation by this: the standard deviation of a
# unit normal truncated to [-2, 2], so that the truncated draw keeps the intended variance.
_TRUNCATION_STD = 0.87962566103423978


def _compute_fans(shape, input_axes=None, output_axes=None):
    """Fan-in and fan-out exactly as `keras.initializers.VarianceScaling` computes them."""
    if input_axes is not None and output_axes is not None:
        return (
            math.prod(shape[axis] for axis in input_axes),
            math.prod(shape[axis] for axis in output_axes),
        )
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(rng, shape, mean, stddev):
    """Normal draws, redrawing those beyond two standard deviations (as Keras does)."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return mean + stddev * values


def _random_uniform(rng, shape, minval=-0.05, maxval=0.05):
    return rng.uniform(minval, maxval, shape)


def _random_normal(rng, shape, mean=0.0, stddev=0.05):
    return rng.normal(mean, stddev, shape)


def _truncated(rng, shape, mean=0.0, stddev=0.05):
    return _truncated_normal(rng, shape, mean, stddev)


def _variance_scaling(
    rng,
    shape,
    scale=1.0,
    mode="fan_in",
    distribution="truncated_normal",
    input_axes=None,
    output_axes=None,
):
    fan_in, fan_out = _compute_fans(shape, input_axes, output_axes)
    fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
    if mode not in fans:
        raise ValueError(f"variance_scaling mode must be one of {sorted(fans)}; got {mode!r}.")
    scale = scale / max(1.0, fans[mode])
    distribution = "truncated_normal" if distribution == "normal" else distribution
    if distribution == "truncated_normal":
        return _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / _TRUNCATION_STD)
    if distribution == "untruncated_normal":
        return rng.normal(0.0, math.sqrt(scale), shape)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale)
        return rng.uniform(-limit, limit, shape)
    raise ValueError(
        "variance_scaling distribution must be one of 'truncated_normal', "
        f"'untruncated_normal', 'uniform'; got {distribution!r}."
    )


def _orthogonal(rng, shape, gain=1.0):
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs a weight of rank 2 or more; got shape {shape}.")
    rows, cols = math.prod(shape[:-1]), shape[-1]
    q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


def _constant(rng, shape, value=0.0):
    return np.full(shape, value, dtype=np.float64)


def _identity(rng, shape, gain=1.0):
    if len(shape) != 2:
        raise ValueError(f"identity needs a weight of rank 2; got shape {shape}.")
    return gain * np.eye(*shape)


# Canonical name -> (sampler, arguments fixed by the name).
_INITIALIZERS = {
    "zeros": (_constant, {"value": 0.0}),
    "ones": (_constant, {"value": 1.0}),
    "constant": (_constant, {}),
    "identity": (_identity, {}),
    "random_uniform": (_random_uniform, {}),
    "random_normal": (_random_normal, {}),
    "truncated_normal": (_truncated, {}),
    "orthogonal": (_orthogonal, {}),
    "variance_scaling": (_variance_scaling, {}),
    "glorot_uniform": (
        _variance_scaling,
        {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"},
    ),
    "glorot_normal": (_variance_scaling, {"scale": 1.0, "mode": "fan_avg"}),
    "he_uniform": (_variance_scaling, {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}),
    "he_normal": (_variance_scaling, {"scale": 2.0, "mode": "fan_in"}),
    "lecun_uniform": (
        _variance_scaling,
        {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"},
    ),
    "lecun_normal": (_variance_scaling, {"scale": 1.0, "mode": "fan_in"}),
}
# Other spellings Keras accepts for the same initializers.
_ALIASES = {
    "zero": "zeros",
    "one": "ones",
    "uniform": "random_uniform",
    "normal": "random_normal",
    "identity_initializer": "identity",
    "orthogonal_initializer": "orthogonal",
}


def _canonical_name(name):
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()
    snake = _ALIASES.get(snake, snake)
    if snake not in _INITIALIZERS:
        raise ValueError(
            f"Unknown initializer {name!r}. Use one of: {', '.join(sorted(_INITIALIZERS))}."
        )
    return snake


@keras_seq_export("keras_seq.initializers.Portable")
class Portable(keras.initializers.Initializer):
    """An initializer that draws its values with NumPy, identically on every backend.

    It follows the distribution and scaling of the Keras initializer of the same name (a
    Glorot-uniform `Portable` draws from the same uniform range as
    `keras.initializers.GlorotUniform`), but the numbers come from `numpy.random.default_rng`, so
    the same `seed` gives bit-identical weights on TensorFlow, JAX and PyTorch.

    One instance may fill many weights (a recurrent layer passes its `kernel_initializer` to
    every cell). Call number `n` of an instance draws from the stream seeded by
    `(seed, crc32(key), n)`, so successive weights differ and the whole sequence is fixed by
    `seed` and `key`: two weights built in the same order get the same values on every backend.
    Give each role of weight its own `key` (`"encoder/kernel"`, `"head/kernel"`) so roles that
    share a seed do not share numbers.

    Without a seed, the seed is drawn from Python's `random` module when the instance is made,
    as Keras does, so `keras.utils.set_random_seed` also makes unseeded instances repeatable.

    Args:
        name: str. A Keras initializer name: `zeros`, `ones`, `constant`, `identity`,
            `random_uniform`, `random_normal`, `truncated_normal`, `orthogonal`,
            `variance_scaling`, `glorot_uniform`, `glorot_normal`, `he_uniform`, `he_normal`,
            `lecun_uniform`, `lecun_normal` (Keras' CamelCase spellings and aliases also work).
        arguments: dict or None. Arguments of that Keras initializer, e.g. `{"gain": 2.0}` for
            `orthogonal` or `{"scale": 2.0, "mode": "fan_out"}` for `variance_scaling`.
        seed: int or None. The seed of every value this instance draws.
        key: str. Separates the streams of initializers that share a seed.

    Examples:

    >>> import keras_seq
    >>> init = keras_seq.initializers.Portable("orthogonal", seed=7, key="encoder/recurrent")
    >>> w = keras.ops.convert_to_numpy(init((4, 4)))
    >>> bool(np.allclose(w @ w.T, np.eye(4), atol=1e-6))
    True
    """

    def __init__(self, name="glorot_uniform", arguments=None, seed=None, key=""):
        self.name = _canonical_name(name)
        self.arguments = dict(arguments or {})
        self.seed = seed
        self.key = key
        sampler, fixed = _INITIALIZERS[self.name]
        settable = [p for p in inspect.signature(sampler).parameters if p not in ("rng", "shape")]
        unknown = sorted(set(self.arguments) - (set(settable) - set(fixed)))
        if unknown:
            allowed = [p for p in settable if p not in fixed]
            raise ValueError(
                f"Initializer {self.name!r} takes no argument {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(allowed) or 'no arguments'}."
            )
        self._sampler = sampler
        self._sampler_arguments = {**fixed, **self.arguments}
        self._entropy = [
            random.randint(1, 10**9) if seed is None else int(seed),
            zlib.crc32(key.encode("utf-8")),
        ]
        self._calls = 0

    def __call__(self, shape, dtype=None):
        rng = np.random.default_rng([*self._entropy, self._calls])
        self._calls += 1
        values = self._sampler(rng, tuple(shape), **self._sampler_arguments)
        dtype = keras.backend.standardize_dtype(dtype or keras.backend.floatx())
        # Cast in NumPy so every backend receives the same bits.
        return keras.ops.convert_to_tensor(np.asarray(values, dtype=dtype), dtype=dtype)

    def get_config(self):
        return {"name": self.name, "arguments": self.arguments, "seed": self.seed, "key": self.key}


def portable(identifier, seed=None, key=""):
    """Returns a `Portable` initializer for a spec's initializer entry.

    Args:
        identifier: str, mapping or `Portable`. A Keras initializer name (`"orthogonal"`), or a
            mapping `{"name": ..., **arguments}` as written in a spec's `encoder.initializers`.
            A `Portable` is returned as it is.
        seed: int or None. The spec's seed.
        key: str. The role of the weights, so roles sharing a seed get different numbers.

    Examples:

    >>> import keras_seq
    >>> init = keras_seq.initializers.portable({"name": "orthogonal", "gain": 2.0}, seed=1)
    >>> init.name, init.arguments
    ('orthogonal', {'gain': 2.0})
    """
    if isinstance(identifier, Portable):
        return identifier
    if isinstance(identifier, str):
        return Portable(identifier, seed=seed, key=key)
    if isinstance(identifier, collections.abc.Mapping):
        arguments = dict(identifier)
        if "name" not in arguments:
            raise ValueError(
                f"An initializer mapping needs a 'name' key, e.g. {{name: orthogonal, gain: 1.0}}; "
                f"got {dict(identifier)!r}."
            )
        return Portable(arguments.pop("name"), arguments, seed=seed, key=key)
    raise TypeError(
        "An initializer must be a name such as 'glorot_uniform' or a mapping "
        f"{{name: ..., **arguments}}; got {identifier!r}."
    )
