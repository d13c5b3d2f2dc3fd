"""The only place keras-seq imports torch, jax or tensorflow: per-backend fast paths.

`recur(cell, inputs, mask, states, reverse, training)` runs one recurrent cell over a
sequence on this backend's fast path (`torch_fused` on PyTorch, `jax_rnn` on JAX, `tf_rnn`
on TensorFlow), or raises `NotImplementedError(reason)` where that path would not compute
exactly what the generic scan (`scan.scan`) computes; the caller then runs the generic
scan, as Keras' layers do around `keras.backend.lstm`. A cell that declares
`scan = "associative"` (its steps are linear in h) runs instead as a parallel prefix scan on
every backend (`parallel`). The cell arrives as an object: this
package reads its declared attributes and methods (`torch_kernel`, `step`, ...) and imports
nothing from `keras_seq.layers`.
"""

import importlib

import keras

from keras_seq.backend import parallel

_MODULES = {
    "torch": "keras_seq.backend.torch_fused",
    "jax": "keras_seq.backend.jax_rnn",
    "tensorflow": "keras_seq.backend.tf_rnn",
}


def _module():
    backend = keras.backend.backend()
    if backend not in _MODULES:
        raise NotImplementedError(f"backend is {backend}: keras-seq has no fast path for it")
    return importlib.import_module(_MODULES[backend])


def recur(cell, inputs, mask, states, reverse, training, recurrent_mask=None, need_cell_state=True):
    """One cell over the whole sequence, in one direction, on this backend's fast path.

    Args:
        cell: a `keras_seq` cell (built).
        inputs: tensor (batch, time, features).
        mask: boolean tensor (batch, time) or None.
        states: list of the cell's initial states, each (batch, units).
        reverse: bool. Read the sequence from the end.
        training: bool. False allows inference-only speed-ups (same numbers).
        recurrent_mask: tensor (batch, units) for recurrent dropout, or None.
        need_cell_state: whether the caller reads the final LSTM cell state.

    Returns:
        `(outputs, final_states)`: outputs (batch, time, units) in the original time order,
        zero at masked steps; final_states after the last real step.

    Raises:
        NotImplementedError: naming why the fast path does not take this case.
    """
    if getattr(cell, "scan", None) == "associative":
        return parallel.recur(cell, inputs, mask, states, reverse, training)
    return _module().recur(
        cell,
        inputs,
        mask,
        states,
        reverse,
        training,
        recurrent_mask=recurrent_mask,
        need_cell_state=need_cell_state,
    )


def recur_stack(cells, inputs, mask, first_states, recurrent_dropout, merge, between_dropout):
    """Whole stacks of layers in one call (PyTorch only: `torch_fused.recur_stack`).

    Raises:
        NotImplementedError: naming why (on JAX and TensorFlow: the backend).
    """
    module = _module()
    if not hasattr(module, "recur_stack"):
        raise NotImplementedError(f"backend is {keras.backend.backend()}, not torch")
    return module.recur_stack(
        cells, inputs, mask, first_states, recurrent_dropout, merge, between_dropout
    )
