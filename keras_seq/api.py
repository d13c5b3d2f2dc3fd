"""`keras_seq_export`: one decorator that makes a class public and registers it with Keras.

Registered under the package name `keras_seq`, a class is found again when a `.keras` file that
names it is loaded, with only `import keras_seq` (the lazy `keras_seq/__init__.py` registers
everything once Keras is imported). `PUBLIC` records each exported name; a test checks that it
matches `keras_seq.__all__` and the other public modules.
"""

import keras

#: Public name (`"keras_seq.Recurrent"`) -> the exported object.
PUBLIC = {}


def keras_seq_export(name):
    """Exports a class (or function) under `name` and registers classes for serialization.

    >>> import keras
    >>> from keras_seq.api import keras_seq_export
    >>> @keras_seq_export("keras_seq.layers.Doubling")
    ... class Doubling(keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> keras.saving.get_registered_name(Doubling)
    'keras_seq>Doubling'
    """

    def decorate(obj):
        if isinstance(obj, type):
            keras.saving.register_keras_serializable(package="keras_seq")(obj)
        PUBLIC[name] = obj
        return obj

    return decorate
