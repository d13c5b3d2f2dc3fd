"""Exporting a trained task: its graph (SavedModel or ONNX), `preprocessing.json` and
`model-card.md`, in one folder.

>>> from keras_seq.export import SUPPORTED
>>> SUPPORTED
{'saved_model': ('tensorflow', 'jax'), 'onnx': ('torch',)}
"""

import json
import pathlib

from keras_seq import runs
from keras_seq.export.card import model_card, preprocessing
from keras_seq.export.graph import export_graph
from keras_seq.exporting import SUPPORTED, ExportError, check_supported, time_lengths

PREPROCESSING = "preprocessing.json"
MODEL_CARD = "model-card.md"


def export(task, output, format="saved_model", *, length=None, metrics=None):
    """Writes `task`'s graph, `preprocessing.json` and `model-card.md` into a new folder.

    Args:
        task: a trained keras_seq task (`keras_seq.load(run)`).
        output: str or path. The folder to create (it must not exist); written whole or not
            at all.
        format: str. `"saved_model"` (tensorflow or jax backend; batch and time dynamic) or
            `"onnx"` (torch backend; batch dynamic, time fixed to `length`).
        length: int, optional. ONNX only: the inputs' time length; default `input.max_length`.
        metrics: dict, optional. `{split: {metric: value}}` for the model card.

    Returns:
        The folder, a `pathlib.Path`.

    Raises:
        ExportError: the current backend cannot write `format` (the message names the one
            that can), or ONNX without a time length.
    """
    check_supported(format)
    lengths = time_lengths(task.spec, length) if format == "onnx" else {}
    output = pathlib.Path(output)
    with runs.RunFolder(output) as folder:
        graph_file = export_graph(task.model, folder, format, lengths)
        info = preprocessing(task, format, graph_file, lengths)
        (folder / PREPROCESSING).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        (folder / MODEL_CARD).write_text(model_card(task, info, metrics), encoding="utf-8")
    return output


__all__ = ["export", "ExportError", "SUPPORTED", "check_supported", "time_lengths"]
