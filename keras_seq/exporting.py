"""Which backend writes which export format, and what an export needs, decided before any
backend loads (`keras-seq export` checks its arguments first, then exports in a process of a
backend that can write the format; the saved model loads on every backend).

>>> from keras_seq.exporting import SUPPORTED, time_lengths
>>> SUPPORTED
{'saved_model': ('tensorflow', 'jax'), 'onnx': ('torch',)}
>>> import keras_seq
>>> spec = keras_seq.load_spec("{input: {kind: tokens, max_length: 12}, "
...                            "encoder: {cell: gru, units: 4}, head: {type: none}}")
>>> time_lengths(spec)
{'tokens': 12, 'features': 12, 'shapes': 12}
"""

import importlib.util
import json
import os
import pathlib
import sys

# Format -> the backends whose Keras can write it (why: `keras_seq.export.graph`).
SUPPORTED = {"saved_model": ("tensorflow", "jax"), "onnx": ("torch",)}


class ExportError(ValueError):
    """A format this backend cannot write, with the backend that can."""


def current_backend():
    """The backend Keras uses or will use, read without importing a backend: Keras' own
    answer once imported, else `KERAS_BACKEND`, else `keras.json` in `KERAS_HOME` (default
    `~/.keras`), else Keras' default, tensorflow."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras")
    try:
        return json.loads((home / "keras.json").read_text()).get("backend") or "tensorflow"
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def check_supported(format, backend=None):
    """Raises `ExportError` when `backend` (default: the current one) cannot write `format`,
    or the package the format needs is missing."""
    backend = backend or current_backend()
    if format not in SUPPORTED:
        raise ExportError(f"unknown export format {format!r}; choose one of {sorted(SUPPORTED)}")
    able = SUPPORTED[format]
    if backend not in able:
        names = " or ".join(able)
        raise ExportError(
            f"the {backend} backend cannot export {format}; {names} can: run "
            f"`keras-seq export RUN --format {format} --backend {able[0]}` "
            f"(or set KERAS_BACKEND={able[0]})"
        )
    if format == "onnx" and importlib.util.find_spec("onnx") is None:
        raise ExportError(
            "ONNX export needs the onnx package, which is not installed. Fix: pip install onnx "
            "(or export --format saved_model on tensorflow or jax)"
        )


def exporting_backend(format):
    """The backend to export `format` with: the current one if it can, else the first
    installed one that can.

    Raises:
        ExportError: no installed backend can write `format` (the fix names the extra).
    """
    current = current_backend()
    able = SUPPORTED[format]
    chosen = current if current in able else None
    chosen = chosen or next((b for b in able if importlib.util.find_spec(b) is not None), None)
    if chosen is None:
        raise ExportError(
            f"{format} is written by the {' or '.join(able)} backend, and none is installed. "
            f"Fix: pip install 'keras-seq[{able[0]}]'"
        )
    check_supported(format, chosen)
    return chosen


def time_lengths(spec, length=None):
    """The time length ONNX fixes for inputs whose time axis is dynamic: `length`, or the
    spec's `input.max_length` (a forecaster's lookback). Inputs built with a fixed length
    (`input.max_length` set, a seq2seq decoder) keep theirs.

    Raises:
        ExportError: neither gives a length (the fix names both).
    """
    length = length or spec.input.max_length or spec.get("data.lookback")
    if length is None:
        raise ExportError(
            "ONNX export fixes the time axis, and this spec sets no input.max_length: "
            "set it in the spec, or pass length= (keras-seq export --length N)"
        )
    return {"tokens": length, "features": length, "shapes": length}
