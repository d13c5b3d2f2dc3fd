"""keras-seq: declarative recurrent sequence models for Keras 3 on TensorFlow, JAX and PyTorch.

>>> import keras_seq
>>> spec = keras_seq.load_spec(
...     "{input: {kind: tokens}, encoder: {cell: lstm, units: 8}, head: {type: none}}")
>>> spec.encoder.cell
'lstm'

`keras_seq.train(spec, train=..., validation=..., test=..., output=...)` trains a spec's model
and writes its run folder, as `keras-seq train` does, and returns a `keras_seq.Run` (folder,
metrics, history, task); `keras_seq.load(folder)` gives the trained task back later. Its
docstring has a runnable example. `keras_seq.tune(spec, output)` runs a spec's `search:`
section, each trial a `train` run; `keras_seq.backtest(spec, folds=...)` backtests a
time-series forecaster.

The package imports lazily: `import keras_seq` loads neither Keras nor a backend, so the
command line's quick commands start at once. Each public name is imported on first use, and
the classes a saved model names are registered with Keras as soon as Keras is imported, so
`keras.saving.load_model` needs only `import keras_seq`.
"""

import importlib
import importlib.abc
import importlib.util
import itertools
import sys

# Public name -> the module that defines it.
_EXPORTS = {
    "build": "keras_seq.tasks",
    "load": "keras_seq.tasks",
    "load_dataset": "keras_seq.tasks",
    "load_spec": "keras_seq.spec",
    "validate": "keras_seq.spec",
    "Spec": "keras_seq.spec",
    "Problem": "keras_seq.errors",
    "SpecError": "keras_seq.errors",
    "DataError": "keras_seq.errors",
    "Vocabulary": "keras_seq.data",
    "Recurrent": "keras_seq.layers",
    "SimpleRNNCell": "keras_seq.layers",
    "LSTMCell": "keras_seq.layers",
    "GRUCell": "keras_seq.layers",
    "TokenEmbedding": "keras_seq.layers",
    "Model": "keras_seq.model",
    "check_backends": "keras_seq.portability",
    "train": "keras_seq.pipeline",
    "Run": "keras_seq.pipeline",
    "backtest": "keras_seq.backtesting",
    "tune": "keras_seq.tuning",
}
_MODULES = (
    "data",
    "initializers",
    "interop",
    "layers",
    "pipeline",
    "portability",
    "spec",
    "tasks",
    "training",
)
__all__ = sorted([*_EXPORTS, *_MODULES])


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"keras_seq.{name}")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'keras_seq' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__


# The oldest Keras that loads `.keras` files safely: 3.13.2 fixes CVE-2025-9906 (a safe-mode
# bypass) and CVE-2026-1669 (a file read through a crafted archive); keras-seq loads users' runs.
KERAS_FLOOR = (3, 13, 2)


def check_keras_version(version):
    """Raises `ImportError` for a Keras older than `KERAS_FLOOR`, naming the fix.

    >>> check_keras_version("3.13.2"), check_keras_version("3.14.0.dev2026")
    (None, None)
    >>> check_keras_version("3.12.1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ImportError: keras-seq needs Keras 3.13.2 or newer, found 3.12.1: ... "keras>=3.13.2"
    """
    numbers = []
    for part in version.split(".")[:3]:
        digits = "".join(itertools.takewhile(str.isdigit, part))
        numbers.append(int(digits or 0))
    if tuple(numbers) < KERAS_FLOOR:
        floor = ".".join(map(str, KERAS_FLOOR))
        raise ImportError(
            f"keras-seq needs Keras {floor} or newer, found {version}: older Keras loads "
            "crafted .keras files unsafely (CVE-2025-9906, CVE-2026-1669). "
            f'Fix: pip install --upgrade "keras>={floor}"'
        )


def _register():
    """Checks Keras' version, then imports every module that registers classes with Keras'
    serialization."""
    check_keras_version(sys.modules["keras"].__version__)
    for module in (
        "keras_seq.layers",
        "keras_seq.model",
        "keras_seq.initializers",
        "keras_seq.losses",
    ):
        importlib.import_module(module)


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """Registers keras-seq's classes right after Keras itself is imported."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _register()

        spec.loader.exec_module = exec_module
        return spec


if "keras" in sys.modules:
    _register()
elif importlib.util.find_spec("keras") is not None:
    sys.meta_path.insert(0, _RegisterAfterKeras())
