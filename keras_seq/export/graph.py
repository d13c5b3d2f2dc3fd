"""The exported graph: which backend writes which format, and Keras' `model.export` call.

A model whose output comes from a `keras_seq.layers.CRF` is exported with the CRF's decoding
in the graph: it returns the Viterbi tags (batch, time) as int32 ids, kept to the CRF's
constraints, 0 at padding, as `predict` decodes them (on torch the time loops are traced
unrolled, to the fixed length).

| format        | backends          | file           | shapes                                   |
|---------------|-------------------|----------------|------------------------------------------|
| `saved_model` | tensorflow, jax   | `saved_model/` | batch and time dynamic                   |
| `onnx`        | torch             | `model.onnx`   | batch dynamic, time fixed (pad to it)    |

Why the others cannot: Keras' SavedModel writer for torch fails on the model's inputs
(`torch.export` rejects its dynamic-shape structure); on TensorFlow, `tf2onnx` cannot convert
the masked time loop (a `tf.while_loop` whose body reads the mask by step index); on JAX,
Keras' ONNX export needs the `jax2onnx` package, which the project does not depend on. Torch
traces the graph for ONNX with its Python time loop unrolled, so the time axis has the fixed
length the task pads to; the fused PyTorch kernels step aside while tracing
(`keras_seq.backend.torch_fused`), since their choice depends on the mask's values.
"""

import keras

from keras_seq.exporting import check_supported
from keras_seq.layers.crf import ViterbiDecode

FILES = {"saved_model": "saved_model", "onnx": "model.onnx"}
_KERAS_FORMAT = {"saved_model": "tf_saved_model", "onnx": "onnx"}


def input_signature(model, lengths):
    """`model.export`'s `input_signature`: a `keras.InputSpec` per input, in the model's input
    structure; an input named in `lengths` whose time axis is dynamic gets that length."""

    def spec(tensor):
        name = tensor.name.split(":")[0]
        shape = list(tensor.shape)
        if len(shape) > 1 and shape[1] is None and name in lengths:
            shape[1] = lengths[name]
        return keras.InputSpec(shape=tuple(shape), dtype=tensor.dtype, name=name)

    return [keras.tree.map_structure(spec, model.input)]


def crf_of(model):
    """The CRF layer whose scores are `model`'s output, or None."""
    layer = getattr(model, "loss_layer", None)
    return layer if callable(getattr(layer, "decode", None)) else None


def decoding_model(model):
    """The model to export: `model`, or, when its output comes from a CRF, a model from the
    same inputs to the CRF's Viterbi tags (int32, batch x time)."""
    crf = crf_of(model)
    if crf is None:
        return model
    return keras.Model(model.input, ViterbiDecode(crf, name="viterbi")(model.output))


def export_graph(model, directory, format, lengths=None):
    """Writes `model`'s inference graph (`decoding_model`'s) into `directory`; returns the
    file's name there.

    Args:
        model: a built `keras.Model`.
        directory: pathlib.Path. An existing folder.
        format: str. `"saved_model"` or `"onnx"`.
        lengths: dict, optional. Input name -> fixed time length (needed for ONNX).
    """
    check_supported(format)
    name = FILES[format]
    model = decoding_model(model)
    model.export(
        str(directory / name),
        format=_KERAS_FORMAT[format],
        input_signature=input_signature(model, lengths or {}),
        verbose=False,
    )
    return name
