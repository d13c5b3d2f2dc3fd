"""The mapping between `keras_seq.Recurrent` cells and PyTorch's recurrent parameter names.

PyTorch names layer k's weights `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`,
`bias_hh_l{k}`, with the suffix `_reverse` for the backward direction of a bidirectional
module, and stores each as (gates * hidden, inputs): the transpose of a keras_seq cell's
`kernel` / `recurrent_kernel`. Both use the same gate order (LSTM i, f, g, o; GRU r, z, n), so
the mapping is a transpose and no reordering. torch itself is never imported: tensors are read
through `.detach().cpu().numpy()`, and export returns NumPy arrays.
"""

import keras
import numpy as np

from keras_seq.layers.recurrent import Recurrent

# PyTorch parameter name prefix -> (cell variable, transposed?), in PyTorch's order.
_PARAMETERS = (
    ("weight_ih", "kernel", True),
    ("weight_hh", "recurrent_kernel", True),
    ("bias_ih", "bias", False),
    ("bias_hh", "recurrent_bias", False),
)


def _recurrent_layers(model_or_layer):
    """(key prefix, layer) for each Recurrent layer; no prefix when there is only one."""
    if isinstance(model_or_layer, Recurrent):
        layers = [model_or_layer]
    else:
        layers = [
            layer for layer in model_or_layer._flatten_layers() if isinstance(layer, Recurrent)
        ]
    if not layers:
        raise ValueError(
            f"{model_or_layer.name!r} contains no keras_seq.Recurrent layer, so it has no "
            "PyTorch recurrent weights to load or export."
        )
    unbuilt = [layer.name for layer in layers if not layer.built]
    if unbuilt:
        raise ValueError(
            f"Build the model before moving weights (layers not built yet: {unbuilt}): call it "
            "once on a batch, or create it on a keras.Input."
        )
    if len(layers) == 1:
        return [("", layers[0])]
    return [(f"{layer.name}.", layer) for layer in layers]


def _entries(model_or_layer):
    """(PyTorch key, cell variable, transposed?) in PyTorch's state_dict order."""
    for prefix, layer in _recurrent_layers(model_or_layer):
        for k, cells in enumerate(layer.cells):
            for d, cell in enumerate(cells):
                if cell.torch_kernel is None:
                    raise ValueError(
                        f"Layer {layer.name!r} runs {type(cell).__name__}, which has no PyTorch "
                        "module (its `torch_kernel` is None), so its weights have no PyTorch "
                        "names. Use a cell PyTorch has: simple, lstm, or gru with "
                        "reset_after: true."
                    )
                suffix = f"_l{k}" + ("_reverse" if d == 1 else "")
                for torch_name, name, transposed in _PARAMETERS:
                    variable = getattr(cell, name, None)
                    if variable is not None:
                        yield f"{prefix}{torch_name}{suffix}", variable, transposed


def _to_numpy(value):
    if hasattr(value, "detach"):  # a torch.Tensor, read without importing torch
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def load_torch_state_dict(model_or_layer, state_dict):
    """Loads a PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU` state_dict into keras_seq weights.

    Args:
        model_or_layer: a built `keras_seq.Recurrent`, or a built model containing them. With
            one Recurrent layer the keys are PyTorch's own (`weight_ih_l0`); with several, each
            is prefixed by the layer's name and a dot (`encoder.weight_ih_l0`).
        state_dict: mapping of those names to `torch.Tensor`s or arrays, e.g.
            `torch_module.state_dict()`. Any number of layers, `_reverse` keys for
            bidirectional modules, both biases (`bias=False` modules have none).

    Raises:
        ValueError: naming every missing or unexpected key and every shape mismatch (with the
            PyTorch shape found and the one the model expects). Nothing is assigned then.
    """
    entries = list(_entries(model_or_layer))
    expected = {key for key, _, _ in entries}
    problems = [f"missing key {key!r}" for key, _, _ in entries if key not in state_dict]
    problems += [f"unexpected key {key!r}" for key in state_dict if key not in expected]
    values = {}
    for key, variable, transposed in entries:
        if key not in state_dict:
            continue
        value = _to_numpy(state_dict[key])
        shape = tuple(variable.shape)[::-1] if transposed else tuple(variable.shape)
        if value.shape != shape:
            problems.append(
                f"{key!r} has shape {value.shape} in the state_dict, the model expects {shape}"
            )
        values[key] = value.T if transposed else value
    if problems:
        raise ValueError(
            "The state_dict does not fit the model (check cell type, units, layers, "
            "direction and bias against the PyTorch module):\n  " + "\n  ".join(problems)
        )
    for key, variable, _ in entries:
        variable.assign(values[key].astype(variable.dtype))


def torch_state_dict(model_or_layer):
    """Exports keras_seq recurrent weights under PyTorch's names, as NumPy arrays.

    The result loads into the matching PyTorch module with
    `module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})`.

    Args:
        model_or_layer: a built `keras_seq.Recurrent`, or a built model containing them (keys
            prefixed by layer name when there are several, as in `load_torch_state_dict`).

    Returns:
        dict of PyTorch parameter name to `numpy.ndarray`, in PyTorch's order.
    """
    state = {}
    for key, variable, transposed in _entries(model_or_layer):
        value = keras.ops.convert_to_numpy(variable)
        state[key] = np.ascontiguousarray(value.T) if transposed else value
    return state
