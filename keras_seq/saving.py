"""A `keras.Model` whose saved files load on every backend.

On PyTorch, Keras swaps each optimizer for a torch-specific subclass
(`keras.src.backend.torch.optimizers.torch_adam.Adam` for `keras.optimizers.Adam`) and
`model.save` records that private class in the file's compile config. Loading the file on
TensorFlow or JAX then imports torch and builds a torch optimizer, and the first `fit` fails.
`keras_seq.Model` records the public class (`keras.optimizers.Adam`) instead, which every
backend maps to its own implementation when it compiles the loaded model.

Keras also records `jit_compile` as the saving backend resolved it ("auto" becomes True on JAX,
False on PyTorch and on CPU-only TensorFlow), which forces XLA on a backend that would not have
chosen it. `keras_seq.Model` records "auto", leaving the choice to the loading backend.
"""

import keras

_BACKEND_MODULES = "keras.src.backend."


def _backend_neutral(config):
    """Renames backend-specific optimizer classes in a serialized config to public ones."""
    if isinstance(config, dict):
        config = {key: _backend_neutral(value) for key, value in config.items()}
        module, class_name = config.get("module"), config.get("class_name")
        if (
            isinstance(module, str)
            and module.startswith(_BACKEND_MODULES)
            and isinstance(getattr(keras.optimizers, str(class_name), None), type)
        ):
            config.update(module="keras.optimizers", registered_name=None)
    elif isinstance(config, list):
        config = [_backend_neutral(value) for value in config]
    return config


@keras.saving.register_keras_serializable(package="keras_seq")
class Model(keras.Model):
    """A `keras.Model` whose `.keras` files load and keep training on any backend.

    Use it exactly like `keras.Model` (functional: `keras_seq.Model(inputs, outputs)`). The one
    difference: its compile config is backend-neutral. It names the optimizer by its public Keras
    class, so a compiled model saved with `model.save` on PyTorch loads with
    `keras.saving.load_model` on TensorFlow or JAX (and the other way round) with its optimizer
    state, needing only `import keras_seq`; and it records `jit_compile="auto"`, so each backend
    decides about XLA for itself (`model.compile` again to choose otherwise after loading).

    Examples:

    >>> inputs = keras.Input((None, 3))
    >>> outputs = keras.layers.Dense(2)(keras_seq.Recurrent("gru", 4, return_sequences=False)(inputs))
    >>> model = keras_seq.Model(inputs, outputs)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model.get_compile_config()["optimizer"]["module"]
    'keras.optimizers'
    """

    def get_compile_config(self):
        config = _backend_neutral(super().get_compile_config())
        if config:
            config["jit_compile"] = "auto"
        return config
