"""Every docstring example in the package runs as written and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import keras_seq

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(keras_seq.__path__, "keras_seq.")
    if not info.name.startswith("keras_seq.datasets")
)


# Once, on torch: the examples are backend-neutral, and `backend.torch_fused` imports torch, which
# must not be imported next to TensorFlow.
@pytest.mark.backend("torch")
@pytest.mark.parametrize("name", ["keras_seq", *MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
